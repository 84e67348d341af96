import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { ErrorCode, LockdownError, TargetParseError } from '../core/errors.js';
import { parseSpecs } from './parse.js';
import { readSpecFile, readSpecStream } from './sources.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockdown-targets-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('reads one or more specs per line, skipping comments and blank lines, with file:line sources', async () => {
  const path = join(dir, 'targets.txt');
  await writeFile(
    path,
    ['# office networks', '10.0.0.0/24', '', '   ', '10.0.1.1, 10.0.1.2  10.0.1.3 # the printers', '2001:db8::1\r', 'db.example.org', '#10.9.9.9'].join('\n'),
  );
  const specs = await readSpecFile(path);
  assert.deepEqual(specs, [
    { text: '10.0.0.0/24', source: `${path}:2` },
    { text: '10.0.1.1', source: `${path}:5` },
    { text: '10.0.1.2', source: `${path}:5` },
    { text: '10.0.1.3', source: `${path}:5` },
    { text: '2001:db8::1', source: `${path}:6` },
    { text: 'db.example.org', source: `${path}:7` },
  ]);
});

test('a bad spec in a file is reported with its file and line', async () => {
  const path = join(dir, 'bad.txt');
  await writeFile(path, '10.0.0.1\n10.0.0.2\n# note\n10.0.0.256\n');
  const specs = await readSpecFile(path);
  assert.throws(
    () => parseSpecs(specs),
    (e: unknown) => e instanceof TargetParseError && e.source === `${path}:4` && e.message.includes(`"10.0.0.256" at ${path}:4`),
  );
});

test('reads a stream split across chunks (stdin), multi-byte UTF-8 included', async () => {
  const bytes = Buffer.from('10.0.0.1\n# caf\u00e9 \u2014 comment\n10.0.0.2,10.0.0.3\n2001:db8::1');
  // Split inside the multi-byte characters and inside a line.
  const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 18), bytes.subarray(18, 21), bytes.subarray(21)];
  const specs = await readSpecStream(Readable.from(chunks), 'stdin');
  assert.deepEqual(specs, [
    { text: '10.0.0.1', source: 'stdin:1' },
    { text: '10.0.0.2', source: 'stdin:3' },
    { text: '10.0.0.3', source: 'stdin:3' },
    { text: '2001:db8::1', source: 'stdin:4' },
  ]);
  assert.deepEqual(await readSpecStream(Readable.from([]), 'stdin'), []);
});

test('a missing, unreadable or directory path is a clear error', async () => {
  const missing = join(dir, 'missing.txt');
  await assert.rejects(readSpecFile(missing), (e: unknown) => e instanceof LockdownError && e.code === ErrorCode.targetParse && e.message === `Cannot read target file ${JSON.stringify(missing)}: no such file`);
  await assert.rejects(readSpecFile(dir), (e: unknown) => e instanceof LockdownError && /it is a directory/.test(e.message));
  const locked = join(dir, 'locked.txt');
  await writeFile(locked, '10.0.0.1\n');
  await chmod(locked, 0o000);
  // root reads any file; the check only means something for other users.
  if (process.getuid?.() !== 0) {
    await assert.rejects(readSpecFile(locked), (e: unknown) => e instanceof LockdownError && /permission denied/.test(e.message));
  }
});

test('a file that is not a target list (one huge line) is refused', async () => {
  const path = join(dir, 'binary.bin');
  await writeFile(path, Buffer.alloc(2 * 1024 * 1024, 0x41));
  await assert.rejects(readSpecFile(path), (e: unknown) => e instanceof LockdownError && /Line 1 of .* is longer than/.test(e.message));
});
