/**
 * A tiny hand-written schema validator for the rule files (no schema library: the shapes are small
 * and the errors must name the file and the entry, e.g. `ransom-rules.json: rules[3].patterns[0]: …`).
 * A check is a function `(value, at) => typed value` that throws `RuleShapeError` with the JSON path.
 */
import { ConfigError } from '../core/errors.js';

/** A rule file that does not match its schema. The message names the file and the entry at fault. */
export class RulesError extends ConfigError {
  readonly file: string;
  readonly at: string;
  constructor(file: string, at: string, reason: string, options?: { cause?: unknown }) {
    super(`Rules file ${file}: ${at === '' ? '(top level)' : at}: ${reason}`, options);
    this.file = file;
    this.at = at;
  }
}

/** Thrown inside checks; `loadRules` turns it into a `RulesError` naming the file. */
export class RuleShapeError extends Error {
  readonly at: string;
  readonly reason: string;
  constructor(at: string, reason: string) {
    super(`${at}: ${reason}`);
    this.at = at;
    this.reason = reason;
  }
}

export type Check<T> = (value: unknown, at: string) => T;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function join(at: string, key: string | number): string {
  if (typeof key === 'number') return `${at}[${key}]`;
  return at === '' ? key : `${at}.${key}`;
}

export function str(opts: { min?: number; max?: number; pattern?: RegExp; patternHint?: string } = {}): Check<string> {
  const { min = 1, max = 10_000 } = opts;
  return (v, at) => {
    if (typeof v !== 'string') throw new RuleShapeError(at, `expected a string, got ${describe(v)}`);
    if (v.length < min) throw new RuleShapeError(at, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
    if (v.length > max) throw new RuleShapeError(at, `must be at most ${max} characters`);
    if (opts.pattern && !opts.pattern.test(v)) {
      throw new RuleShapeError(at, `${JSON.stringify(v)} does not match ${opts.patternHint ?? String(opts.pattern)}`);
    }
    return v;
  };
}

export function num(opts: { min?: number; max?: number; int?: boolean } = {}): Check<number> {
  return (v, at) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RuleShapeError(at, `expected a finite number, got ${describe(v)}`);
    if (opts.int && !Number.isInteger(v)) throw new RuleShapeError(at, 'must be an integer');
    if (opts.min !== undefined && v < opts.min) throw new RuleShapeError(at, `must be ≥ ${opts.min}`);
    if (opts.max !== undefined && v > opts.max) throw new RuleShapeError(at, `must be ≤ ${opts.max}`);
    return v;
  };
}

export const bool: Check<boolean> = (v, at) => {
  if (typeof v !== 'boolean') throw new RuleShapeError(at, `expected true or false, got ${describe(v)}`);
  return v;
};

export function oneOf<const T extends string>(values: readonly T[]): Check<T> {
  return (v, at) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      throw new RuleShapeError(at, `expected one of ${values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  };
}

/** A string that compiles as a JavaScript regular expression (compiled with the given flags). */
export function regex(flags = 'iu'): Check<string> {
  const base = str({ max: 500 });
  return (v, at) => {
    const s = base(v, at);
    try {
      new RegExp(s, flags);
    } catch (err) {
      throw new RuleShapeError(at, `invalid regular expression ${JSON.stringify(s)}: ${(err as Error).message}`);
    }
    return s;
  };
}

export function arr<T>(item: Check<T>, opts: { min?: number; max?: number; unique?: boolean } = {}): Check<T[]> {
  const { min = 0, max = 10_000 } = opts;
  return (v, at) => {
    if (!Array.isArray(v)) throw new RuleShapeError(at, `expected an array, got ${describe(v)}`);
    if (v.length < min) throw new RuleShapeError(at, `must have at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
    if (v.length > max) throw new RuleShapeError(at, `must have at most ${max} entries`);
    const out = v.map((x, i) => item(x, join(at, i)));
    if (opts.unique) {
      const seen = new Set<string>();
      out.forEach((x, i) => {
        const key = JSON.stringify(x);
        if (seen.has(key)) throw new RuleShapeError(join(at, i), `duplicate entry ${key}`);
        seen.add(key);
      });
    }
    return out;
  };
}

type Shape = Record<string, Check<unknown>>;
type Out<S extends Shape> = { [K in keyof S]: S[K] extends Check<infer T> ? T : never };

/**
 * An object with `required` and `optional` keys. Unknown keys are errors (a typo in a rule file must
 * never be silently ignored); keys starting with `$` (e.g. `$comment`) are allowed and dropped.
 */
export function obj<R extends Shape, O extends Shape = Record<never, never>>(
  required: R,
  optional?: O,
): Check<Out<R> & Partial<Out<O>>> {
  return (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RuleShapeError(at, `expected an object, got ${describe(v)}`);
    const input = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(required)) {
      if (!(k in input)) throw new RuleShapeError(at, `missing required key ${JSON.stringify(k)}`);
      out[k] = check(input[k], join(at, k));
    }
    for (const [k, check] of Object.entries(optional ?? {})) {
      if (k in input && input[k] !== undefined) out[k] = check(input[k], join(at, k));
    }
    for (const k of Object.keys(input)) {
      if (k.startsWith('$')) continue;
      if (!(k in required) && !(optional && k in optional)) {
        const known = [...Object.keys(required), ...Object.keys(optional ?? {})].join(', ');
        throw new RuleShapeError(join(at, k), `unknown key (known keys: ${known})`);
      }
    }
    return out as Out<R> & Partial<Out<O>>;
  };
}

/** An object used as a map: every key checked by `key`, every value by `value`. */
export function record<V>(key: Check<string>, value: Check<V>): Check<Record<string, V>> {
  return (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RuleShapeError(at, `expected an object, got ${describe(v)}`);
    const out: Record<string, V> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k.startsWith('$')) continue;
      key(k, join(at, k));
      out[k] = value(x, join(at, k));
    }
    return out;
  };
}
