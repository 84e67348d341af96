import { isObject } from './claims.js';
import { type ImportFormat } from './types.js';

/**
 * Which tool wrote a file, told from its first bytes (decompressed): XML root and scanner attribute,
 * masscan's list lines, or the keys of the first JSON record. Returns undefined when nothing matches;
 * the caller then asks for `--format`.
 */

/** How much of the start of a file detection looks at. */
export const DETECT_BYTES = 256 * 1024;

const MASSCAN_LIST = /^(open|closed|banner) (tcp|udp|sctp|icmp) \d+ \S+ \d+/;

export function detectFormat(prefix: Buffer): ImportFormat | undefined {
  let text = prefix.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const start = text.trimStart();
  if (start.startsWith('<')) {
    const root = /<nmaprun\b[^>]*>/.exec(text);
    if (!root) return undefined;
    return /\bscanner\s*=\s*["']masscan["']/.test(root[0]) ? 'masscan' : 'nmap';
  }
  const lines = start.split('\n').map((l) => l.trim());
  const first = lines.find((l) => l !== '') ?? '';
  if (first.startsWith('#masscan') || MASSCAN_LIST.test(first)) return 'masscan';

  // JSON: the first records that parse on their own line (masscan -oJ framing stripped).
  for (const raw of lines.slice(0, 50)) {
    let l = raw;
    if (l === '' || l === '[' || l === ']' || l === ',') continue;
    if (l.startsWith(',')) l = l.slice(1).trimStart();
    if (l.endsWith(',')) l = l.slice(0, -1).trimEnd();
    let value: unknown;
    try {
      value = JSON.parse(l);
    } catch {
      continue;
    }
    const f = formatOfValue(value);
    if (f) return f;
  }
  // A document spread over lines (a saved API page, pretty-printed): look at its keys.
  return formatOfKeys(text);
}

function formatOfValue(value: unknown): ImportFormat | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!isObject(v)) return undefined;
  if ('ip_str' in v || '_shodan' in v || (Array.isArray(v.matches) && 'total' in v)) return 'shodan';
  if (Array.isArray(v.ports) && typeof v.ip === 'string') return 'masscan';
  if ('rec_type' in v && 'port' in v && 'ip' in v) return 'masscan';
  if (isObject(v.data) && ('ip' in v || 'domain' in v)) {
    const first = Object.values(v.data)[0];
    if (isObject(first) && 'status' in first && ('protocol' in first || 'result' in first)) return 'zgrab2';
  }
  if (Array.isArray(v.services) || isObject(v.resource)) return 'censys';
  const result = isObject(v.result) ? v.result : undefined;
  if (result && (Array.isArray(result.hits) || Array.isArray(result.services) || isObject(result.resource))) return 'censys';
  if (Array.isArray(v.hits)) return 'censys';
  return undefined;
}

function formatOfKeys(text: string): ImportFormat | undefined {
  if (/"ip_str"\s*:/.test(text)) return 'shodan';
  if (/"services"\s*:/.test(text) && /"(service_name|transport_protocol)"\s*:/.test(text)) return 'censys';
  if (/"ports"\s*:/.test(text) && /"proto"\s*:/.test(text)) return 'masscan';
  if (/"data"\s*:/.test(text) && /"protocol"\s*:/.test(text) && /"status"\s*:/.test(text)) return 'zgrab2';
  return undefined;
}
