/**
 * Downloads IANA's current RDAP bootstrap files for IP addresses and writes them where attribution
 * reads them (./data, or the directory given as the first argument). Both files are checked before
 * either is written. Run by hand: `node --import tsx src/disclose/attribution/update-bootstrap.ts [DIR]`.
 * Never run by the tests (it needs the internet).
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../../core/errors.js';
import { VERSION } from '../../core/version.js';
import { parseBootstrapFile } from './rdap-bootstrap.js';

export const IANA_BOOTSTRAP_URLS = {
  'ipv4.json': 'https://data.iana.org/rdap/ipv4.json',
  'ipv6.json': 'https://data.iana.org/rdap/ipv6.json',
} as const;

async function download(url: string): Promise<string> {
  const res = await fetch(url, { headers: { 'user-agent': `lockdown/${VERSION} (RDAP bootstrap update)` }, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  const text = await res.text();
  if (text.length > 1_000_000) throw new Error(`${url} is larger than 1 MB; not a bootstrap file`);
  return text;
}

async function publicationOf(file: string): Promise<string> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { publication?: string }).publication ?? 'unknown';
  } catch {
    return 'none';
  }
}

export async function updateBootstrap(dir: string): Promise<void> {
  const fetched: [string, string, string][] = [];
  for (const [name, url] of Object.entries(IANA_BOOTSTRAP_URLS)) {
    const text = await download(url);
    const { publication } = parseBootstrapFile(JSON.parse(text) as unknown, name === 'ipv4.json' ? 4 : 6, url);
    fetched.push([name, text, publication]);
  }
  for (const [name, text, publication] of fetched) {
    const file = path.join(dir, name);
    const before = await publicationOf(file);
    await writeFile(`${file}.tmp`, text.endsWith('\n') ? text : `${text}\n`);
    await rename(`${file}.tmp`, file);
    process.stderr.write(`${file}: publication ${before} -> ${publication}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? fileURLToPath(new URL('./data/', import.meta.url));
  updateBootstrap(dir).catch((err: unknown) => {
    process.stderr.write(`Could not update the RDAP bootstrap files: ${errorMessage(err)}\n`);
    process.exit(2);
  });
}
