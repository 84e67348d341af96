import { type FindingRecord } from '../store/store.js';
import { formatBytes } from './output.js';

/** A one-line human summary of what a finding exposes, from its module metadata. */
export function summarize(f: Pick<FindingRecord, 'module' | 'metadata' | 'errors' | 'status'>): string {
  const m = f.metadata;
  const parts: string[] = [];
  const num = (k: string): number | undefined => (typeof m[k] === 'number' ? (m[k] as number) : undefined);
  if (Array.isArray(m.databases)) {
    const dbs = m.databases as { size?: number; bytes?: number; sizeBytes?: number }[];
    const bytes = dbs.reduce((a, d) => a + (d.sizeBytes ?? d.size ?? d.bytes ?? 0), 0);
    parts.push(`${dbs.length} database${dbs.length === 1 ? '' : 's'}${bytes > 0 ? `, ${formatBytes(bytes)}` : ''}`);
  }
  if (num('totalKeys') !== undefined) parts.push(`${num('totalKeys')} keys`);
  if (num('curr_items') !== undefined) parts.push(`${num('curr_items')} items`);
  if (num('currItems') !== undefined) parts.push(`${num('currItems')} items`);
  if (num('used_memory') !== undefined) parts.push(formatBytes(num('used_memory')));
  if (num('usedMemory') !== undefined) parts.push(formatBytes(num('usedMemory')));
  if (num('bytes') !== undefined) parts.push(formatBytes(num('bytes')));
  const udp = m.udp as { exposed?: boolean; amplificationFactor?: number } | undefined;
  if (udp?.exposed) parts.push(`UDP open${udp.amplificationFactor ? ` (×${udp.amplificationFactor.toFixed(0)} amplification)` : ''}`);
  if (m.protectedMode) parts.push('protected mode');
  if (typeof m.authMethod === 'string') parts.push(`auth: ${m.authMethod}`);
  if (typeof m.authPlugin === 'string' && parts.length === 0) parts.push(`auth plugin ${m.authPlugin}`);
  if (parts.length === 0 && f.status !== 'success' && f.errors[0]) parts.push(f.errors[0]);
  return parts.join(', ');
}
