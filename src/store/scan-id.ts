import { randomBytes } from 'node:crypto';

/**
 * A short id that sorts by creation time and reads well in a terminal: `s-20261125-123456-ab12`
 * (UTC date, time, 4 random hex digits). Two scans started in the same second collide with odds of
 * 1 in 65,536; `createScan` retries on a collision.
 */
export function newScanId(now: Date, random: () => Buffer = () => randomBytes(2)): string {
  const iso = now.toISOString(); // 2026-11-25T12:34:56.789Z
  const date = iso.slice(0, 10).replaceAll('-', '');
  const time = iso.slice(11, 19).replaceAll(':', '');
  return `s-${date}-${time}-${random().toString('hex').slice(0, 4).padStart(4, '0')}`;
}
