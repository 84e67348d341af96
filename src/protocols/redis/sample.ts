/**
 * Redis value sampling, only inside the authorized scope (`ctx.sample` set): a bounded look at real values so
 * the assessment can say what an exposed server holds (IDs, phones, e-mails, photos …), keeping only the
 * redacted result.
 *
 * Per database (largest first, at most `maxCollections`), on the probe's own connection:
 * 1. `SELECT n` (databases other than the current one; it changes only this connection's view).
 * 2. `SCAN cursor COUNT perCollection`, following the cursor at most `maxScanCalls` times, until
 *    `perCollection` distinct keys are known. Never `KEYS *` (it blocks the server for the whole keyspace).
 * 3. `TYPE` for each key (pipelined).
 * 4. `STRLEN` for each string key, then `GET` only for strings of at most `maxStringBytes` that still fit the
 *    byte budget: a 500 MB string is never requested.
 * 5. Hashes: one `HSCAN key 0 COUNT perCollection` (field names and values, one page, no cursor following).
 *    Lists: `LRANGE key 0 perCollection-1`. Sets, sorted sets, streams and module types are skipped: their
 *    members are rarely where personal records sit, and skipping them keeps the allow-list short.
 * Every sampled value goes straight into `redactSample` (src/protocols/sampling.ts) and is dropped; only
 * counts, sanitised key patterns and masked examples stay in `result.sample`.
 *
 * Bounds: keys per database ≤ perCollection; value bytes requested ≤ the plan's byte budget (strings are
 * sized before they are read; a hash page or list range is read whole, so one of those can overshoot the
 * budget by its own size, still capped by the connection's read cap); no command is sent once the budget is
 * spent.
 */
import { type SampleRecord } from '../../assess/index.js';
import { type ProbeRun } from '../../net/probe-run.js';
import { type Session } from '../../net/session.js';
import { redactSample, SampleBudget, sampleLimits, samplingError, type SampleLimits, type SamplingFacts } from '../sampling.js';
import { decodeResp, encodeCommand, type RespValue } from './codec.js';

/** The sampling commands on the module's allow-list; sent only when `ctx.sample` is set. */
export const REDIS_SAMPLE_COMMANDS = {
  select: 'SELECT',
  scan: 'SCAN',
  type: 'TYPE',
  strlen: 'STRLEN',
  get: 'GET',
  hscan: 'HSCAN',
  lrange: 'LRANGE',
} as const;

export const REDIS_SAMPLE_LIMITS = {
  /** SCAN calls per database: COUNT is only a hint, so a sparse keyspace may need a few. */
  maxScanCalls: 10,
  /** Longest string value ever requested with GET (STRLEN first). */
  maxStringBytes: 256 * 1024,
  /** Keys longer than this are not sampled (their name alone is an oddity, not a record). */
  maxKeyBytes: 1024,
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text when the bytes are UTF-8, else the bytes (so a raw JPEG is still sniffed as an image). */
function valueOf(b: Buffer): string | Buffer {
  try {
    return utf8.decode(b);
  } catch {
    return b;
  }
}

async function pipeline(session: Session, commands: readonly { name: string; args: (string | Uint8Array)[] }[]): Promise<RespValue[]> {
  for (const c of commands) session.send(c.name, encodeCommand(c.args));
  const replies: RespValue[] = [];
  for (let i = 0; i < commands.length; i++) replies.push(await session.read(decodeResp));
  return replies;
}

function bulkBytes(v: RespValue | undefined): Buffer | undefined {
  return v?.type === 'bulk' && v.value !== null ? v.value : undefined;
}

/**
 * Sample the databases `dbs` (largest first; the connection is on database 0) and set `result.sample`.
 * `dbs` are the database numbers INFO keyspace listed (or `[0]` when INFO was hidden).
 */
export async function sampleRedis(run: ProbeRun, session: Session, dbs: readonly number[]): Promise<void> {
  const plan = run.ctx.sample;
  if (plan === undefined) return;
  const limits = sampleLimits(plan);
  const budget = new SampleBudget(limits.maxBytes);
  const records: SampleRecord[] = [];
  let current = 0;
  let sampled = 0;
  const started = session.bytesRead;
  for (const db of dbs.slice(0, limits.maxCollections)) {
    if (budget.exhausted || run.aborted) break;
    try {
      if (db !== current) {
        const [ok] = await pipeline(session, [{ name: REDIS_SAMPLE_COMMANDS.select, args: ['SELECT', String(db)] }]);
        if (ok?.type !== 'simple' || ok.value !== 'OK') {
          run.result.errors.push(`Sampling db${db} skipped: SELECT was refused`);
          continue;
        }
        current = db;
      }
      const before = session.bytesRead;
      const n = await sampleDatabase(session, limits, budget, records);
      budget.spend(session.bytesRead - before);
      if (n > 0) sampled++;
    } catch (err) {
      if (run.aborted) throw err;
      run.result.errors.push(samplingError(`db${db}`, err));
      break; // the connection is no longer usable
    }
  }
  const { sample, truncated } = redactSample({ records }, limits, limits.perCollection * Math.max(1, sampled), 'redis');
  records.length = 0;
  run.result.sample = sample;
  const facts: SamplingFacts = { collections: sampled, bytesRead: session.bytesRead - started, limits, truncated };
  run.result.metadata.sampling = facts;
}

/** One database: SCAN, TYPE, sizes, values. Returns how many keys gave a value. */
async function sampleDatabase(session: Session, limits: SampleLimits, budget: SampleBudget, records: SampleRecord[]): Promise<number> {
  const keys = await scanKeys(session, limits.perCollection);
  if (keys.length === 0) return 0;

  const types = await pipeline(
    session,
    keys.map((k) => ({ name: REDIS_SAMPLE_COMMANDS.type, args: ['TYPE', k] })),
  );
  const strings: Buffer[] = [];
  const hashes: Buffer[] = [];
  const lists: Buffer[] = [];
  keys.forEach((k, i) => {
    const t = types[i];
    const type = t?.type === 'simple' ? t.value : '';
    if (type === 'string') strings.push(k);
    else if (type === 'hash') hashes.push(k);
    else if (type === 'list') lists.push(k);
  });

  // Size strings first; read only those that fit, smallest first so the budget covers the most keys.
  const lengths = strings.length > 0 ? await pipeline(session, strings.map((k) => ({ name: REDIS_SAMPLE_COMMANDS.strlen, args: ['STRLEN', k] }))) : [];
  const sized = strings
    .map((k, i) => {
      const l = lengths[i];
      return { key: k, len: l?.type === 'integer' ? l.value : -1 };
    })
    .filter((s) => s.len >= 0 && s.len <= REDIS_SAMPLE_LIMITS.maxStringBytes)
    .sort((a, b) => a.len - b.len);
  let planned = 0;
  const reads: { key: Buffer; kind: 'string' | 'hash' | 'list'; args: (string | Uint8Array)[]; name: string }[] = [];
  for (const s of sized) {
    if (planned + s.len > budget.remaining) break;
    planned += s.len;
    reads.push({ key: s.key, kind: 'string', name: REDIS_SAMPLE_COMMANDS.get, args: ['GET', s.key] });
  }
  const count = String(limits.perCollection);
  for (const k of hashes) reads.push({ key: k, kind: 'hash', name: REDIS_SAMPLE_COMMANDS.hscan, args: ['HSCAN', k, '0', 'COUNT', count] });
  for (const k of lists) reads.push({ key: k, kind: 'list', name: REDIS_SAMPLE_COMMANDS.lrange, args: ['LRANGE', k, '0', String(limits.perCollection - 1)] });
  if (reads.length === 0 || budget.exhausted) return 0;

  const replies = await pipeline(session, reads);
  let got = 0;
  reads.forEach((r, i) => {
    const value = sampledValue(r.kind, replies[i]);
    if (value === undefined) return;
    records.push({ path: r.key.toString('utf8'), value });
    got++;
  });
  return got;
}

/** SCAN with COUNT, following the cursor a bounded number of times; distinct keys, at most `max`. */
async function scanKeys(session: Session, max: number): Promise<Buffer[]> {
  const seen = new Set<string>();
  const keys: Buffer[] = [];
  let cursor = '0';
  for (let call = 0; call < REDIS_SAMPLE_LIMITS.maxScanCalls && keys.length < max; call++) {
    const [reply] = await pipeline(session, [{ name: REDIS_SAMPLE_COMMANDS.scan, args: ['SCAN', cursor, 'COUNT', String(max)] }]);
    if (reply?.type !== 'array' || reply.value === null || reply.value.length !== 2) break;
    const next = bulkBytes(reply.value[0])?.toString('latin1');
    const page = reply.value[1];
    if (next === undefined || !/^[0-9]{1,20}$/.test(next) || page?.type !== 'array' || page.value === null) break;
    for (const item of page.value) {
      const k = bulkBytes(item);
      if (k === undefined || k.length > REDIS_SAMPLE_LIMITS.maxKeyBytes) continue;
      // SCAN may return a key twice; latin1 is a lossless key for a Set.
      const id = k.toString('latin1');
      if (seen.has(id)) continue;
      seen.add(id);
      keys.push(k);
      if (keys.length >= max) break;
    }
    cursor = next;
    if (cursor === '0') break;
  }
  return keys;
}

/** The sampled value of one key in the shape the scanner walks: text/bytes, an object of fields, a list. */
function sampledValue(kind: 'string' | 'hash' | 'list', reply: RespValue | undefined): unknown {
  if (kind === 'string') {
    const b = bulkBytes(reply);
    return b === undefined ? undefined : valueOf(b);
  }
  if (reply?.type !== 'array' || reply.value === null) return undefined;
  if (kind === 'list') return reply.value.map((v) => bulkBytes(v)).filter((b): b is Buffer => b !== undefined).map(valueOf);
  // HSCAN: [cursor, [field, value, field, value …]]
  const page = reply.value[1];
  if (page?.type !== 'array' || page.value === null) return undefined;
  const fields: Record<string, unknown> = {};
  for (let i = 0; i + 1 < page.value.length; i += 2) {
    const f = bulkBytes(page.value[i]);
    const v = bulkBytes(page.value[i + 1]);
    if (f === undefined || v === undefined) continue;
    // defineProperty: a field named __proto__ stays a field.
    Object.defineProperty(fields, f.toString('utf8'), { value: valueOf(v), enumerable: true, configurable: true, writable: true });
  }
  return fields;
}
