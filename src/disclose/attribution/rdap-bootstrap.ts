/**
 * IANA's RDAP bootstrap registries for IP addresses (RFC 9224 §5.1–5.2): which RDAP server answers for
 * which block. The copies shipped in ./data are used unless the config names a directory.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, errorMessage } from '../../core/errors.js';
import { type IpAddress } from '../../targets/address.js';
import builtinV4 from './data/ipv4.json' with { type: 'json' };
import builtinV6 from './data/ipv6.json' with { type: 'json' };
import { type Cidr, cidrContains, parseCidr } from './ip.js';

export interface BootstrapService {
  prefix: Cidr;
  prefixText: string;
  /** The service's URLs, `https://` ones first, each ending in `/`. */
  urls: string[];
}

export interface Bootstrap {
  /** Where it came from: `builtin` or a directory. */
  source: string;
  /** `publication` of the IPv4 and IPv6 files. */
  publication: { v4: string; v6: string };
  services: BootstrapService[];
}

/** One bootstrap file's services; a file that is not IANA's shape is a `ConfigError` naming it. */
export function parseBootstrapFile(json: unknown, family: 4 | 6, file: string): { publication: string; services: BootstrapService[] } {
  const bad = (why: string): ConfigError => new ConfigError(`RDAP bootstrap file ${file} is not IANA's format: ${why}`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('not a JSON object');
  const o = json as Record<string, unknown>;
  if (!Array.isArray(o.services)) throw bad('no "services" array');
  const publication = typeof o.publication === 'string' ? o.publication : 'unknown';
  const services: BootstrapService[] = [];
  for (const [i, entry] of o.services.entries()) {
    if (!Array.isArray(entry) || !Array.isArray(entry[0]) || !Array.isArray(entry[1])) throw bad(`services[${i}] is not [[prefixes], [urls]]`);
    const urls = (entry[1] as unknown[])
      .filter((u): u is string => typeof u === 'string' && /^https?:\/\//i.test(u))
      .map((u) => (u.endsWith('/') ? u : `${u}/`))
      .sort((a, b) => Number(b.startsWith('https:')) - Number(a.startsWith('https:')));
    if (urls.length === 0) throw bad(`services[${i}] has no http(s) URL`);
    for (const p of entry[0] as unknown[]) {
      if (typeof p !== 'string') throw bad(`services[${i}] has a prefix that is not a string`);
      // Early IPv4 files wrote a /8 as its first octet alone ("8").
      const text = family === 4 && /^\d{1,3}$/.test(p) ? `${p}.0.0.0/8` : p;
      const cidr = parseCidr(text);
      if (!cidr.ok || cidr.value.base.family !== family) throw bad(`services[${i}] has an invalid IPv${family} prefix ${JSON.stringify(p)}`);
      services.push({ prefix: cidr.value, prefixText: text, urls });
    }
  }
  return { publication, services };
}

function build(source: string, v4: unknown, v6: unknown, v4File: string, v6File: string): Bootstrap {
  const a = parseBootstrapFile(v4, 4, v4File);
  const b = parseBootstrapFile(v6, 6, v6File);
  // Longest prefix first, so the first match is the most specific.
  const services = [...a.services, ...b.services].sort((x, y) => y.prefix.length - x.prefix.length);
  return { source, publication: { v4: a.publication, v6: b.publication }, services };
}

let builtin: Bootstrap | undefined;
const fromDirs = new Map<string, Promise<Bootstrap>>();

/** The shipped files (validated once), or `ipv4.json` + `ipv6.json` from `dir` (read once per directory). */
export function loadBootstrap(dir?: string): Promise<Bootstrap> {
  if (dir === undefined) {
    try {
      builtin ??= build('builtin', builtinV4, builtinV6, 'builtin:ipv4.json', 'builtin:ipv6.json');
      return Promise.resolve(builtin);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  const key = path.resolve(dir);
  let p = fromDirs.get(key);
  if (!p) {
    p = (async () => {
      const read = async (name: string): Promise<unknown> => {
        const file = path.join(key, name);
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (err) {
          throw new ConfigError(`Could not read RDAP bootstrap file ${file}: ${errorMessage(err)}`, { cause: err });
        }
        try {
          return JSON.parse(text) as unknown;
        } catch (err) {
          throw new ConfigError(`RDAP bootstrap file ${file} is not valid JSON: ${errorMessage(err)}`, { cause: err });
        }
      };
      return build(key, await read('ipv4.json'), await read('ipv6.json'), path.join(key, 'ipv4.json'), path.join(key, 'ipv6.json'));
    })();
    // A failed load is not remembered: the user may fix the directory and try again.
    p.catch(() => fromDirs.delete(key));
    fromDirs.set(key, p);
  }
  return p;
}

/** The most specific service covering `addr`, or undefined. */
export function findService(bootstrap: Bootstrap, addr: IpAddress): BootstrapService | undefined {
  return bootstrap.services.find((s) => cidrContains(s.prefix, addr));
}
