import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { ErrorCode, LockdownError, errorMessage } from '../../core/errors.js';

/** Read size: large enough that a 10 GB file is not millions of tiny reads. */
const CHUNK_BYTES = 1024 * 1024;

/**
 * An import file opened for streaming: its bytes decompressed when it is gzip (told by the magic bytes
 * 1f 8b, never by the name), read once, front to back, in chunks; memory stays at a chunk or two.
 */
export interface ImportInput {
  path: string;
  /** Size on disk (compressed size when gzipped). */
  size: number;
  gzip: boolean;
  /** Bytes of the file read so far (on disk, i.e. compressed): progress against `size`. */
  readonly bytesRead: number;
  /** The (decompressed) content. Iterate once. */
  chunks(): AsyncIterable<Buffer>;
}

/** A readable error naming the file: `Cannot read import file x.json: no such file`. */
export function inputError(path: string, err: unknown): LockdownError {
  if (err instanceof LockdownError) return err;
  const code = (err as { code?: unknown }).code;
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR'
            ? `the gzip data is corrupt or truncated (${errorMessage(err)})`
            : errorMessage(err);
  return new LockdownError(ErrorCode.usage, `Cannot read import file ${path}: ${reason}`, { cause: err });
}

/** Fails (naming the file) unless `path` is a readable regular file; cheap, for checking input before anything else. */
export async function checkImportFile(path: string): Promise<void> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    const fd = await open(path, 'r');
    await fd.close();
  } catch (err) {
    throw inputError(path, err);
  }
}

export async function openImportInput(path: string): Promise<ImportInput> {
  let size: number;
  let gzip: boolean;
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = info.size;
    const fd = await open(path, 'r');
    try {
      const magic = Buffer.alloc(2);
      const { bytesRead } = await fd.read(magic, 0, 2, 0);
      gzip = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    } finally {
      await fd.close();
    }
  } catch (err) {
    throw inputError(path, err);
  }

  let bytesRead = 0;
  let used = false;
  return {
    path,
    size,
    gzip,
    get bytesRead() {
      return bytesRead;
    },
    async *chunks() {
      if (used) throw new Error('an import input can be read only once');
      used = true;
      const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
      file.on('data', (c: Buffer | string) => {
        bytesRead += c.length;
      });
      if (!gzip) {
        try {
          for await (const chunk of file) yield chunk as Buffer;
        } catch (err) {
          throw inputError(path, err);
        }
        return;
      }
      // Gunzip handles multi-member files (concatenated .gz) like gzip(1) does.
      const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
      file.on('error', (err) => gunzip.destroy(err));
      file.pipe(gunzip);
      try {
        for await (const chunk of gunzip) yield chunk as Buffer;
      } catch (err) {
        throw inputError(path, err);
      } finally {
        file.destroy();
      }
    },
  };
}
