import { type ImportStore } from '../../store/store.js';
import { parseIp } from '../../targets/address.js';
import { type ExclusionSet } from '../../targets/exclusion.js';
import { type ScanItem } from '../../targets/target-space.js';
import { type ScanItemSource } from '../scanner.js';

/**
 * The work list of `import --verify`: the first candidate of each distinct TCP service (host, port,
 * module) of an import whose module is among `modules`, at the candidate's own position, so a resumed
 * verification walks the same positions. Candidates whose host is not an IP address are left out
 * (nothing to connect to without resolving names the source gave), and the exclusion list applies at
 * iteration and again at dispatch, like a scan.
 *
 * `runScanner` iterates synchronously, so the list is loaded up front from the store (in pages), kept
 * in typed arrays: about 20 bytes plus the address text per service.
 */
export class CandidateSource implements ScanItemSource {
  readonly size: number;
  /** Services left out because their host is not an IP address. */
  readonly notAddresses: number;
  private excludes: ExclusionSet;

  private constructor(
    private readonly positions: Float64Array,
    private readonly ports: Uint16Array,
    private readonly moduleIndex: Uint8Array,
    private readonly hosts: string[],
    private readonly modules: string[],
    notAddresses: number,
    excludes: ExclusionSet,
  ) {
    this.size = hosts.length;
    this.notAddresses = notAddresses;
    this.excludes = excludes;
  }

  static async load(store: ImportStore, importId: string, modules: readonly string[], excludes: ExclusionSet, pageSize = 10_000): Promise<CandidateSource> {
    const names = [...new Set(modules)];
    if (names.length > 255) throw new RangeError('at most 255 modules');
    const index = new Map(names.map((m, i) => [m, i]));
    const positions: number[] = [];
    const ports: number[] = [];
    const moduleIndex: number[] = [];
    const hosts: string[] = [];
    let notAddresses = 0;
    let from = 0;
    for (;;) {
      const page = await store.listVerifyTargets(importId, { from, limit: pageSize, modules: names });
      for (const t of page) {
        if (!parseIp(t.host).ok) {
          notAddresses++;
          continue;
        }
        positions.push(t.position);
        ports.push(t.port);
        moduleIndex.push(index.get(t.module) as number);
        hosts.push(t.host);
      }
      if (page.length < pageSize) break;
      from = (page.at(-1) as { position: number }).position + 1;
    }
    return new CandidateSource(
      Float64Array.from(positions),
      Uint16Array.from(ports),
      Uint8Array.from(moduleIndex),
      hosts,
      names,
      notAddresses,
      excludes,
    );
  }

  *items(from = 0, skip?: ReadonlySet<number>): Generator<ScanItem> {
    if (!Number.isInteger(from) || from < 0) throw new RangeError(`Start position ${from} must be a non-negative integer`);
    // First index whose position is ≥ from (positions are increasing).
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.positions[mid] as number) < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.size; i++) {
      const position = this.positions[i] as number;
      if (skip?.has(position)) continue;
      const host = this.hosts[i] as string;
      // Checked on every step: setExcludes may run while the generator is suspended.
      if (this.excludes.has(host)) continue;
      yield { position, host, port: this.ports[i] as number, module: this.modules[this.moduleIndex[i] as number] as string };
    }
  }

  isExcluded(host: string): boolean {
    return this.excludes.has(host);
  }

  /** Replace the exclusion list at run time (an opt-out re-read from a file). */
  setExcludes(excludes: ExclusionSet): void {
    this.excludes = excludes;
  }

  /** Services of the list that the current exclusion list keeps out. */
  excludedCount(): number {
    let n = 0;
    for (const h of this.hosts) if (this.excludes.has(h)) n++;
    return n;
  }
}
