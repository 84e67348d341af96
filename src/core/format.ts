/** Human-readable sizes and counts, shared by the CLI, the notices and the severity reasons. */

/** `1536` → `1.5 KB` (binary multiples); null for a missing, negative or non-finite size. */
export function formatBytes(n: number | undefined | null): string | null {
  if (n === undefined || n === null || !Number.isFinite(n) || n < 0) return null;
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 && u > 0 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** `1234567` → `1,234,567`: what toLocaleString('en-US') gives, without its per-call cost for integers. */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? `-${out}` : out;
}
