/**
 * The scan space: every (address, port) pair of the targets, in a deterministic pseudo-random
 * order, produced lazily. Memory is O(number of specs): a /8 × 4 ports is 67M positions and
 * none of them is ever stored.
 *
 * Position p → item index perm(p) → address index ⌊i / ports⌋ and port index i mod ports, so the
 * ports of one host are spread apart in time. Address index → address via prefix sums over the
 * merged ranges (IPv4 first, then IPv6). Excluded addresses keep their positions (so positions
 * stay stable when the exclusion list changes mid-run) but yield no item.
 */
import { ErrorCode, LockdownError, TargetParseError, TargetTooLargeError, UsageError } from '../core/errors.js';
import { type PortSpec } from '../core/types.js';
import { formatIp } from './address.js';
import { ExclusionSet } from './exclusion.js';
import { parseSpecs, type ParsedSpec, type TargetSpecInput } from './parse.js';
import { Permutation } from './permutation.js';
import { formatRange, IndexedRanges, mergeRanges, rangeSize, totalSize, type AddressRange } from './range-set.js';
import { defaultResolve, resolveHostnames, type HostnameSpec, type Resolver } from './resolve.js';

export { type TargetSpecInput } from './parse.js';
export { ExclusionSet } from './exclusion.js';

export interface ScanItem {
  position: number;
  host: string;
  port: number;
  module: string;
  /** The name the user gave, when the address came from resolving it. */
  hostname?: string;
}

export interface TargetSpaceOptions {
  targets: TargetSpecInput[];
  excludes: TargetSpecInput[];
  ports: PortSpec[];
  /** Same seed and inputs → same order (resume depends on it). A safe integer. */
  seed: number;
  /** Expand IPv6 blocks larger than `ipv6Limit` anyway (`--allow-large-ipv6`). */
  allowLargeIpv6?: boolean;
  /** Largest IPv6 block (in addresses) expanded without `allowLargeIpv6`; default 65,536 (/112). */
  ipv6Limit?: number;
  /** Hostname → its addresses (text). Default: the system resolver, all addresses. */
  resolve?: (hostname: string) => Promise<string[]>;
}

/** Everything needed to rebuild the same space without DNS (saved with a scan for resume). */
export interface TargetSpaceJSON {
  version: 1;
  seed: number;
  /** Merged target ranges, `a` or `a-b`, canonical text, IPv4 first. */
  ranges: string[];
  /** Canonical address → the hostname it was resolved from. */
  hostnames: Record<string, string>;
  /** Merged exclusion ranges in the same form. */
  excludes: string[];
  ports: PortSpec[];
}

export const DEFAULT_IPV6_LIMIT = 65_536;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new UsageError(`Seed must be an integer, got ${seed}`);
}

/** Validates ports and drops repeated (module, port) pairs, keeping the first. */
function checkPorts(ports: readonly PortSpec[]): PortSpec[] {
  const seen = new Set<string>();
  const out: PortSpec[] = [];
  for (const p of ports) {
    if (typeof p.module !== 'string' || p.module === '') throw new UsageError('Every port needs a module name');
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      throw new UsageError(`Port ${String(p.port)} for module ${p.module} is out of range (1-65535)`);
    }
    const key = `${p.module}\u0000${p.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ module: p.module, port: p.port });
  }
  return out;
}

/** Refuses IPv6 blocks too large to scan on purpose, before any DNS query is made. */
function checkIpv6Size(spec: ParsedSpec, allowLarge: boolean, limit: number): void {
  if (spec.kind !== 'range' || spec.range.family !== 6) return;
  const size = rangeSize(spec.range);
  if (size > MAX_SAFE) {
    throw new LockdownError(
      ErrorCode.targetTooLarge,
      `Target ${JSON.stringify(spec.input.text)} at ${spec.input.source} expands to ${size} addresses, ` +
        'more than can ever be scanned; narrow it',
    );
  }
  if (!allowLarge && size > BigInt(limit)) throw new TargetTooLargeError(spec.input.text, spec.input.source, size, BigInt(limit));
}

function checkTotal(addresses: bigint, ports: number): void {
  if (addresses > MAX_SAFE || addresses * BigInt(Math.max(ports, 1)) > MAX_SAFE) {
    throw new LockdownError(
      ErrorCode.targetTooLarge,
      `Targets expand to ${addresses} addresses × ${ports} ports, more than ${Number.MAX_SAFE_INTEGER} positions; narrow them`,
    );
  }
}

export class TargetSpace {
  readonly seed: number;
  readonly ports: readonly PortSpec[];
  /** Distinct addresses after merging (before exclusion). */
  readonly addressCount: number;
  /** addressCount × ports.length: the number of positions. */
  readonly size: number;
  private readonly addresses: IndexedRanges;
  private readonly hostnames: ReadonlyMap<string, string>;
  private readonly permutation: Permutation;
  private excludes: ExclusionSet;
  private included = 0;

  private constructor(ranges: readonly AddressRange[], hostnames: ReadonlyMap<string, string>, excludes: ExclusionSet, ports: PortSpec[], seed: number) {
    const merged = mergeRanges(ranges);
    checkTotal(totalSize(merged), ports.length);
    this.addresses = new IndexedRanges(merged);
    this.hostnames = hostnames;
    this.ports = ports;
    this.seed = seed;
    this.addressCount = this.addresses.count;
    this.size = this.addressCount * ports.length;
    this.permutation = new Permutation(this.size, seed);
    this.excludes = excludes;
    this.setExcludes(excludes);
  }

  /** Parses every spec first (nothing is resolved if one is bad), then resolves hostnames and merges. */
  static async build(opts: TargetSpaceOptions): Promise<TargetSpace> {
    checkSeed(opts.seed);
    const ports = checkPorts(opts.ports);
    const targets = parseSpecs(opts.targets);
    const excludes = parseSpecs(opts.excludes);
    const limit = opts.ipv6Limit ?? DEFAULT_IPV6_LIMIT;
    for (const spec of targets) checkIpv6Size(spec, opts.allowLargeIpv6 ?? false, limit);

    const resolve: Resolver = opts.resolve ?? defaultResolve;
    const split = (specs: ParsedSpec[]): { ranges: AddressRange[]; names: HostnameSpec[] } => {
      const ranges: AddressRange[] = [];
      const names: HostnameSpec[] = [];
      for (const s of specs) {
        if (s.kind === 'range') ranges.push(s.range);
        else names.push(s);
      }
      return { ranges, names };
    };
    const t = split(targets);
    const x = split(excludes);
    const [tNames, xNames] = await Promise.all([resolveHostnames(t.names, resolve), resolveHostnames(x.names, resolve)]);

    const hostnames = new Map<string, string>();
    for (const r of tNames) {
      for (const a of r.addresses) {
        t.ranges.push({ family: a.family, start: a.value, end: a.value });
        const text = formatIp(a);
        if (!hostnames.has(text)) hostnames.set(text, r.hostname);
      }
    }
    for (const r of xNames) for (const a of r.addresses) x.ranges.push({ family: a.family, start: a.value, end: a.value });
    return new TargetSpace(t.ranges, hostnames, ExclusionSet.fromRanges(x.ranges), ports, opts.seed);
  }

  /** Rebuilds exactly the space that produced `json` (same order for the same seed), without DNS. */
  static fromJSON(json: TargetSpaceJSON): TargetSpace {
    if (json === null || typeof json !== 'object' || json.version !== 1) {
      throw new UsageError('Saved target space has an unknown format (expected version 1)');
    }
    if (!Array.isArray(json.ranges) || !Array.isArray(json.excludes) || !Array.isArray(json.ports)) {
      throw new UsageError('Saved target space is missing ranges, excludes or ports');
    }
    checkSeed(json.seed);
    const ranges: AddressRange[] = [];
    const specs = json.ranges.map((text, i) => ({ text: String(text), source: `saved target ${i + 1}` }));
    for (const spec of parseSpecs(specs)) {
      if (spec.kind !== 'range') throw new TargetParseError(spec.input.text, spec.input.source, 'saved targets must be addresses');
      ranges.push(spec.range);
    }
    const hostnames = new Map<string, string>();
    for (const [addr, name] of Object.entries(json.hostnames ?? {})) {
      if (typeof name === 'string') hostnames.set(addr, name);
    }
    return new TargetSpace(ranges, hostnames, ExclusionSet.fromJSON(json.excludes), checkPorts(json.ports), json.seed);
  }

  toJSON(): TargetSpaceJSON {
    return {
      version: 1,
      seed: this.seed,
      ranges: this.addresses.ranges.map(formatRange),
      hostnames: Object.fromEntries(this.hostnames),
      excludes: this.excludes.toJSON(),
      ports: this.ports.map((p) => ({ module: p.module, port: p.port })),
    };
  }

  /** Addresses not excluded (the work left when nothing is done yet). */
  get includedAddressCount(): number {
    return this.included;
  }

  /** Positions that yield an item: includedAddressCount × ports.length. */
  get includedSize(): number {
    return this.included * this.ports.length;
  }

  /** The item at a position of the permuted order, or undefined when its address is excluded. */
  item(position: number): ScanItem | undefined {
    if (!Number.isInteger(position) || position < 0 || position >= this.size) {
      throw new RangeError(`Position ${position} is outside 0..${this.size - 1}`);
    }
    const index = this.permutation.at(position);
    const portCount = this.ports.length;
    const addressIndex = Math.floor(index / portCount);
    const addr = this.addresses.at(addressIndex);
    if (this.excludes.has(addr)) return undefined;
    const port = this.ports[index - addressIndex * portCount]!;
    const host = formatIp(addr);
    const item: ScanItem = { position, host, port: port.port, module: port.module };
    const hostname = this.hostnames.get(host);
    if (hostname !== undefined) item.hostname = hostname;
    return item;
  }

  /** Lazily yields items from position `from` on, skipping excluded ones (and positions in `skip`). */
  *items(from = 0, skip?: ReadonlySet<number>): Generator<ScanItem> {
    if (!Number.isInteger(from) || from < 0) throw new RangeError(`Start position ${from} must be a non-negative integer`);
    for (let p = from; p < this.size; p++) {
      // Checked on every step: setExcludes may run while the generator is suspended.
      if (this.included === 0) return;
      if (skip?.has(p)) continue;
      const item = this.item(p);
      if (item) yield item;
    }
  }

  /** Replace the exclusion list at run time (a live opt-out re-read from a file). */
  setExcludes(excludes: ExclusionSet): void {
    this.excludes = excludes;
    this.included = this.addressCount - Number(excludes.excludedCount(this.addresses.ranges));
  }

  isExcluded(host: string): boolean {
    return this.excludes.has(host);
  }
}
