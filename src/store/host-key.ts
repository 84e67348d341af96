import ipaddr from 'ipaddr.js';

const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const CANONICAL_IPV4 = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);
const V4_MAPPED_PREFIX = '00000000000000000000ffff';
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * Sort and range key for a host: the 16-byte address as 32 lowercase hex digits, IPv4 mapped to
 * `::ffff:a.b.c.d`. Text compares like the numbers on SQLite and PostgreSQL alike (hex digits sort the
 * same in every collation), so `ORDER BY host_key` lists 10.0.0.2 before 10.0.0.10 and a CIDR becomes a
 * `BETWEEN` on two keys. Something that is not an IP literal (should not happen: targets are resolved
 * first) gets `~` + the text, which sorts after every address.
 */
export function hostKey(host: string): string {
  const v4 = CANONICAL_IPV4.exec(host);
  if (v4) {
    // The common case, without a parser: canonical dotted decimal only (no leading zeros, which
    // ipaddr.js reads as octal), so the key is the same as the general path gives.
    let key = V4_MAPPED_PREFIX;
    for (let i = 1; i <= 4; i++) key += HEX_BYTE[Number(v4[i])];
    return key;
  }
  let bytes: number[];
  try {
    const addr = ipaddr.parse(host);
    bytes = addr.kind() === 'ipv4' ? (addr as ipaddr.IPv4).toIPv4MappedAddress().toByteArray() : addr.toByteArray();
  } catch {
    return `~${host}`;
  }
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}
