/**
 * The exclusion list (opt-outs, `--exclude`, `--exclude-file`): same syntax as targets, and it
 * always wins over them. Lookups are a binary search over merged ranges.
 *
 * An IPv4 address and its IPv4-mapped IPv6 form (`::ffff:10.0.0.1`) reach the same host, so an
 * exclusion written in either form covers both: an opt-out must not be bypassed by notation.
 */
import { TargetParseError } from '../core/errors.js';
import { IPV4_MAPPED_PREFIX, IPV4_MAX, parseIp, type IpAddress } from './address.js';
import { parseSpecs, type TargetSpecInput } from './parse.js';
import { containsAddress, formatRange, intersectionSize, mergeRanges, type AddressRange } from './range-set.js';
import { defaultResolve, resolveHostnames, type Resolver } from './resolve.js';

const MAPPED_END = IPV4_MAPPED_PREFIX | IPV4_MAX;

/** Adds the other notation of every IPv4 / IPv4-mapped range. */
function withMappedForms(ranges: readonly AddressRange[]): AddressRange[] {
  const out = [...ranges];
  for (const r of ranges) {
    if (r.family === 4) {
      out.push({ family: 6, start: IPV4_MAPPED_PREFIX | r.start, end: IPV4_MAPPED_PREFIX | r.end });
    } else if (r.start <= MAPPED_END && r.end >= IPV4_MAPPED_PREFIX) {
      const start = r.start > IPV4_MAPPED_PREFIX ? r.start : IPV4_MAPPED_PREFIX;
      const end = r.end < MAPPED_END ? r.end : MAPPED_END;
      out.push({ family: 4, start: start - IPV4_MAPPED_PREFIX, end: end - IPV4_MAPPED_PREFIX });
    }
  }
  return mergeRanges(out);
}

export class ExclusionSet {
  /** Merged ranges as the user gave them (what `toJSON` saves). */
  readonly ranges: readonly AddressRange[];
  /** The same plus their IPv4 / IPv4-mapped twins: what lookups use. */
  private readonly lookup: readonly AddressRange[];

  private constructor(ranges: readonly AddressRange[]) {
    this.ranges = mergeRanges(ranges);
    this.lookup = withMappedForms(this.ranges);
  }

  static empty(): ExclusionSet {
    return new ExclusionSet([]);
  }

  static fromRanges(ranges: readonly AddressRange[]): ExclusionSet {
    return new ExclusionSet(ranges);
  }

  /** Addresses, CIDR blocks and ranges only; a hostname needs `ExclusionSet.build` with a resolver. */
  static fromSpecs(specs: readonly TargetSpecInput[]): ExclusionSet {
    const ranges: AddressRange[] = [];
    for (const spec of parseSpecs(specs)) {
      if (spec.kind === 'hostname') {
        throw new TargetParseError(spec.input.text, spec.input.source, 'hostnames in an exclusion list need resolving (use ExclusionSet.build)');
      }
      ranges.push(spec.range);
    }
    return new ExclusionSet(ranges);
  }

  /** Like `fromSpecs`, but hostnames are allowed: every address they resolve to is excluded. */
  static async build(specs: readonly TargetSpecInput[], resolve: Resolver = defaultResolve): Promise<ExclusionSet> {
    const parsed = parseSpecs(specs);
    const ranges: AddressRange[] = [];
    const names: { hostname: string; input: TargetSpecInput }[] = [];
    for (const spec of parsed) {
      if (spec.kind === 'range') ranges.push(spec.range);
      else names.push(spec);
    }
    for (const resolved of await resolveHostnames(names, resolve)) {
      for (const a of resolved.addresses) ranges.push({ family: a.family, start: a.value, end: a.value });
    }
    return new ExclusionSet(ranges);
  }

  static fromJSON(json: readonly string[]): ExclusionSet {
    return ExclusionSet.fromSpecs(json.map((text, i) => ({ text, source: `saved exclusion ${i + 1}` })));
  }

  toJSON(): string[] {
    return this.ranges.map(formatRange);
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /**
   * Whether an address is excluded. Text that is not an IP address counts as excluded (fail
   * closed): only addresses can be checked, and a wrong "not excluded" would scan an opt-out.
   */
  has(addr: IpAddress | string): boolean {
    if (typeof addr === 'string') {
      const r = parseIp(addr);
      if (!r.ok) return true;
      addr = r.value;
    }
    return containsAddress(this.lookup, addr);
  }

  /** How many addresses of `merged` (as from `mergeRanges`) this set excludes. */
  excludedCount(merged: readonly AddressRange[]): bigint {
    return intersectionSize(merged, this.lookup);
  }
}
