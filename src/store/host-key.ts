import ipaddr from 'ipaddr.js';

/**
 * Sort and range key for a host: the 16-byte address as 32 lowercase hex digits, IPv4 mapped to
 * `::ffff:a.b.c.d`. Text compares like the numbers on SQLite and PostgreSQL alike (hex digits sort the
 * same in every collation), so `ORDER BY host_key` lists 10.0.0.2 before 10.0.0.10 and a CIDR becomes a
 * `BETWEEN` on two keys. Something that is not an IP literal (should not happen: targets are resolved
 * first) gets `~` + the text, which sorts after every address.
 */
export function hostKey(host: string): string {
  let bytes: number[];
  try {
    const addr = ipaddr.parse(host);
    bytes = addr.kind() === 'ipv4' ? (addr as ipaddr.IPv4).toIPv4MappedAddress().toByteArray() : addr.toByteArray();
  } catch {
    return `~${host}`;
  }
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}
