/**
 * Image payloads recognised by their magic bytes: JPEG `FF D8 FF`, PNG `89 50 4E 47 0D 0A 1A 0A`,
 * GIF `GIF87a/GIF89a`, WebP `RIFF….WEBP`. Checked on raw bytes (binary fields), on a latin1 string
 * holding raw bytes, on base64 text (≥ 64 characters, first bytes decoded) and on `data:` URIs.
 * The declared MIME type of a data URI is not trusted: the decoded bytes decide.
 * Masked as `[image/jpeg 12 KB]`.
 */
import { redactedLabel, type Redacted } from '../mask.js';
import { type Detector } from './types.js';

export interface ImageInfo {
  mime: 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';
  /** Size of the image in bytes (decoded size for base64). */
  bytes: number;
}

export function sniffImageBytes(b: Uint8Array, totalBytes = b.length): ImageInfo | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { mime: 'image/jpeg', bytes: totalBytes };
  if (b.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((x, i) => b[i] === x)) return { mime: 'image/png', bytes: totalBytes };
  const ascii = Buffer.from(b.subarray(0, 12)).toString('latin1');
  if (/^GIF8[79]a/.test(ascii)) return { mime: 'image/gif', bytes: totalBytes };
  if (ascii.startsWith('RIFF') && ascii.slice(8, 12) === 'WEBP') return { mime: 'image/webp', bytes: totalBytes };
  return undefined;
}

function base64Size(b64: string): number {
  const clean = b64.replace(/[\s]/g, '');
  const pad = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - pad;
}

function sniffBase64(b64: string): ImageInfo | undefined {
  const head = b64.slice(0, 64).replace(/\s/g, '');
  if (head.length < 16 || !/^[A-Za-z0-9+/]+={0,2}$/.test(head)) return undefined;
  return sniffImageBytes(Buffer.from(head.slice(0, head.length - (head.length % 4)), 'base64'), base64Size(b64));
}

export function sniffImageText(value: string): ImageInfo | undefined {
  const dataUri = /^data:image\/[a-z0-9.+-]+(?:;[^,;]*)*;base64,/i.exec(value);
  if (dataUri) return sniffBase64(value.slice(dataUri[0].length));
  if (/^[\xff\x89GR]/.test(value)) {
    const raw = Buffer.from(value.slice(0, 16), 'latin1');
    const info = sniffImageBytes(raw, value.length);
    if (info) return info;
  }
  if (value.length >= 64 && /^[A-Za-z0-9+/]/.test(value)) {
    const b64 = value.trim();
    if (/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(b64.slice(0, 4096)) && /^[A-Za-z0-9+/\r\n=]*$/.test(b64.slice(-64))) return sniffBase64(b64);
  }
  return undefined;
}

export function imageLabel(info: ImageInfo): Redacted {
  const kb = info.bytes / 1024;
  return redactedLabel(`[${info.mime} ${kb < 1 ? '<1' : Math.round(kb)} KB]`);
}

export function createImageDetector(): Detector {
  return {
    id: 'image',
    category: 'photo',
    description: 'JPEG/PNG/GIF/WebP image by magic bytes (raw, base64 or data: URI)',
    checksumBacked: false,
    detect: (value) => sniffImageText(value) !== undefined,
    mask(value) {
      const info = sniffImageText(value);
      return info ? imageLabel(info) : redactedLabel('[image]');
    },
  };
}
