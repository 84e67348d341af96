import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ErrorCode, LockdownError, TargetParseError, TargetTooLargeError, UsageError } from '../core/errors.js';
import { type PortSpec } from '../core/types.js';
import { ExclusionSet } from './exclusion.js';
import { TargetSpace, type ScanItem, type TargetSpaceOptions } from './target-space.js';

const REDIS: PortSpec = { module: 'redis', port: 6379 };
const PG: PortSpec = { module: 'postgres', port: 5432 };
const MYSQL: PortSpec = { module: 'mysql', port: 3306 };
const MEMCACHED: PortSpec = { module: 'memcached', port: 11211 };

const args = (...texts: string[]) => texts.map((text, i) => ({ text, source: `argument ${i + 1}` }));
const noDns = async (name: string): Promise<string[]> => {
  throw new Error(`unexpected lookup of ${name}`);
};

function build(opts: Partial<TargetSpaceOptions> & { targets: TargetSpaceOptions['targets'] }): Promise<TargetSpace> {
  return TargetSpace.build({ excludes: [], ports: [REDIS], seed: 1, resolve: noDns, ...opts });
}

const key = (i: ScanItem): string => `${i.host}|${i.port}|${i.module}`;

test('every (address, port) pair appears exactly once, in a shuffled order', async () => {
  const space = await build({ targets: args('10.0.0.0/28', '2001:db8::1-2001:db8::3'), ports: [REDIS, PG] });
  assert.equal(space.addressCount, 16 + 3);
  assert.equal(space.size, 19 * 2);
  const items = [...space.items()];
  assert.equal(items.length, 38);
  assert.deepEqual(items.map((i) => i.position), Array.from({ length: 38 }, (_, i) => i));
  const expected = new Set<string>();
  for (let n = 0; n < 16; n++) for (const p of [REDIS, PG]) expected.add(`10.0.0.${n}|${p.port}|${p.module}`);
  for (const h of ['2001:db8::1', '2001:db8::2', '2001:db8::3']) for (const p of [REDIS, PG]) expected.add(`${h}|${p.port}|${p.module}`);
  assert.deepEqual(new Set(items.map(key)), expected);
  const sequential = [...expected];
  assert.notDeepEqual(items.map(key), sequential);
  // item(p) is the same as the p-th yielded item.
  for (const it of items) assert.deepEqual(space.item(it.position), it);
});

test('overlapping and duplicate specs do not produce duplicate work', async () => {
  const space = await build({
    targets: args('10.0.0.0/24', '10.0.0.0/24', '10.0.0.5', '10.0.0.1-20', '10.0.0.250-10.0.1.3', '2001:db8::/126', '2001:db8::2'),
    ports: [REDIS, REDIS, PG],
  });
  assert.equal(space.addressCount, 256 + 4 + 4);
  assert.equal(space.ports.length, 2, 'the repeated (module, port) pair is dropped');
  const items = [...space.items()];
  assert.equal(new Set(items.map(key)).size, items.length);
  assert.equal(items.length, 264 * 2);
  assert.deepEqual(space.toJSON().ranges, ['10.0.0.0-10.0.1.3', '2001:db8::-2001:db8::3']);
});

test('the exclusion list always wins', async () => {
  const space = await build({ targets: args('10.0.0.0/24'), excludes: args('10.0.0.0/25', '10.0.0.200-10.0.0.255'), ports: [REDIS, PG] });
  assert.equal(space.addressCount, 256);
  assert.equal(space.includedAddressCount, 256 - 128 - 56);
  assert.equal(space.includedSize, 72 * 2);
  const items = [...space.items()];
  assert.equal(items.length, 72 * 2);
  for (const it of items) {
    const last = Number(it.host.split('.')[3]);
    assert.ok(last >= 128 && last < 200, it.host);
  }
  // Excluded positions exist but yield nothing.
  const excludedPositions = Array.from({ length: space.size }, (_, p) => p).filter((p) => space.item(p) === undefined);
  assert.equal(excludedPositions.length, space.size - 144);
  assert.equal(space.isExcluded('10.0.0.5'), true);
  assert.equal(space.isExcluded('10.0.0.150'), false);
  assert.equal(space.isExcluded('::ffff:10.0.0.5'), true);
});

test('excluding the whole target yields nothing, at once, even for a /8', async () => {
  const space = await build({ targets: args('10.0.0.0/8'), excludes: args('0.0.0.0/0'), ports: [REDIS, PG, MYSQL, MEMCACHED] });
  assert.equal(space.includedAddressCount, 0);
  const started = performance.now();
  assert.deepEqual([...space.items()], []);
  assert.ok(performance.now() - started < 100);
});

test('setExcludes applies a new opt-out to an iteration already running', async () => {
  const space = await build({ targets: args('10.0.0.0/24'), ports: [REDIS] });
  const it = space.items();
  const seen: ScanItem[] = [];
  for (let n = 0; n < 10; n++) seen.push(it.next().value as ScanItem);
  space.setExcludes(ExclusionSet.fromSpecs(args('10.0.0.0/25')));
  for (const item of it) seen.push(item);
  const afterwards = seen.slice(10);
  assert.ok(afterwards.length > 0);
  for (const item of afterwards) assert.ok(Number(item.host.split('.')[3]) >= 128, item.host);
  space.setExcludes(ExclusionSet.fromSpecs(args('10.0.0.0/24')));
  assert.deepEqual([...space.items()], []);
  space.setExcludes(ExclusionSet.empty());
  assert.equal([...space.items()].length, 256);
});

test('items(from, skip) resumes where a run stopped', async () => {
  const space = await build({ targets: args('192.168.0.0/26'), excludes: args('192.168.0.7'), ports: [REDIS, PG] });
  const all = [...space.items()];
  const tail = [...space.items(50)];
  assert.deepEqual(tail, all.filter((i) => i.position >= 50));
  const done = new Set(all.filter((i) => i.position % 3 === 0).map((i) => i.position));
  const rest = [...space.items(0, done)];
  assert.deepEqual(rest, all.filter((i) => !done.has(i.position)));
  assert.deepEqual([...space.items(space.size)], []);
  assert.throws(() => space.item(space.size), RangeError);
  assert.throws(() => [...space.items(-1)], RangeError);
});

test('the same seed gives the same order; another seed another order', async () => {
  const opts = { targets: args('10.1.0.0/20', '2001:db8::/120'), ports: [REDIS, PG, MYSQL] };
  const a = [...(await build({ ...opts, seed: 99 })).items()].map(key);
  const b = [...(await build({ ...opts, seed: 99 })).items()].map(key);
  const c = [...(await build({ ...opts, seed: 100 })).items()].map(key);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual(new Set(a), new Set(c));
});

test('toJSON/fromJSON round-trip rebuilds the identical sequence without DNS', async () => {
  const resolve = async (name: string): Promise<string[]> => (name === 'db.example.org' ? ['192.0.2.10', '2001:db8:1::10'] : []);
  const space = await TargetSpace.build({
    targets: args('10.0.0.0/22', '2001:db8::/118', 'db.example.org', '10.0.0.9'),
    excludes: args('10.0.1.0/24'),
    ports: [MEMCACHED, REDIS, PG],
    seed: 2024,
    resolve,
  });
  const json = JSON.parse(JSON.stringify(space.toJSON())) as ReturnType<TargetSpace['toJSON']>;
  assert.deepEqual(json.hostnames, { '192.0.2.10': 'db.example.org', '2001:db8:1::10': 'db.example.org' });
  const again = TargetSpace.fromJSON(json);
  assert.equal(again.size, space.size);
  assert.equal(again.includedSize, space.includedSize);
  assert.deepEqual([...again.items()], [...space.items()]);
  assert.deepEqual(again.toJSON(), space.toJSON());
  const named = [...space.items()].filter((i) => i.hostname !== undefined);
  assert.equal(named.length, 2 * 3);
  assert.throws(() => TargetSpace.fromJSON({ ...json, version: 2 } as never), UsageError);
  assert.throws(() => TargetSpace.fromJSON({ ...json, ranges: ['10.0.0.999'] }), TargetParseError);
});

test('hostnames resolve through the injected resolver to every address, mixed families', async () => {
  const space = await build({
    targets: args('localhost', 'db.example.org'),
    resolve: async (name) => (name === 'localhost' ? ['127.0.0.1', '::1'] : ['192.0.2.1']),
  });
  const items = [...space.items()];
  assert.deepEqual(
    items.map((i) => `${i.host} ${i.hostname}`).sort(),
    ['127.0.0.1 localhost', '192.0.2.1 db.example.org', '::1 localhost'],
  );
});

test('the default resolver looks names up in the system resolver', async () => {
  const space = await TargetSpace.build({ targets: args('localhost'), excludes: [], ports: [REDIS], seed: 1 });
  const hosts = [...space.items()].map((i) => i.host);
  assert.ok(hosts.includes('127.0.0.1') || hosts.includes('::1'), hosts.join(','));
});

test('a hostname that does not resolve is a clear error naming input and position', async () => {
  const resolve = async (name: string): Promise<string[]> => {
    if (name === 'ok.example') return ['192.0.2.1'];
    if (name === 'empty.example') return [];
    if (name === 'weird.example') return ['not-an-ip'];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  };
  const resolveFails = (message: RegExp) => (e: unknown) =>
    e instanceof LockdownError && e.code === ErrorCode.targetResolve && message.test(e.message);
  await assert.rejects(
    build({ targets: args('ok.example', 'nowhere.invalid'), resolve }),
    resolveFails(/^Cannot resolve hostname "nowhere.invalid" at argument 2: no such host$/),
  );
  await assert.rejects(build({ targets: args('empty.example'), resolve }), resolveFails(/"empty.example" at argument 1: the name has no addresses/));
  await assert.rejects(build({ targets: args('weird.example'), resolve }), resolveFails(/"weird.example" at argument 1: the resolver returned "not-an-ip"/));
  await assert.rejects(
    build({ targets: args('10.0.0.1'), excludes: [{ text: 'gone.example', source: 'excludes.txt:4' }], resolve }),
    resolveFails(/"gone.example" at excludes.txt:4/),
  );
});

test('a bad spec anywhere stops everything before any DNS query', async () => {
  const asked: string[] = [];
  const resolve = async (name: string): Promise<string[]> => {
    asked.push(name);
    return ['192.0.2.1'];
  };
  await assert.rejects(
    build({ targets: [...args('db.example.org'), { text: '10.0.0.0/33', source: 'targets.txt:17' }], resolve }),
    (e: unknown) => e instanceof TargetParseError && e.input === '10.0.0.0/33' && e.source === 'targets.txt:17',
  );
  await assert.rejects(
    build({ targets: args('db.example.org'), excludes: [{ text: '10.0.0.9-10.0.0.1', source: 'excludes.txt:2' }], resolve }),
    (e: unknown) => e instanceof TargetParseError && e.source === 'excludes.txt:2' && /range end is before range start/.test(e.message),
  );
  await assert.rejects(build({ targets: args('db.example.org', ''), resolve }), (e: unknown) => e instanceof TargetParseError && e.source === 'argument 2');
  assert.deepEqual(asked, []);
});

test('IPv6 blocks larger than the bound are refused unless allowed', async () => {
  const ok = await build({ targets: args('2001:db8::/112') });
  assert.equal(ok.addressCount, 65_536);
  await assert.rejects(
    build({ targets: args('10.0.0.1', '2001:db8::/111') }),
    (e: unknown) =>
      e instanceof TargetTooLargeError && e.code === ErrorCode.targetTooLarge && /"2001:db8::\/111" at argument 2 expands to 131072 addresses/.test(e.message),
  );
  await assert.rejects(build({ targets: args('2001:db8::-2001:db8::1:0') }), TargetTooLargeError);
  await assert.rejects(build({ targets: args('2001:db8::/120'), ipv6Limit: 100 }), TargetTooLargeError);
  const large = await build({ targets: args('2001:db8::/96'), allowLargeIpv6: true });
  assert.equal(large.addressCount, 2 ** 32);
  assert.equal(typeof large.item(large.size - 1)?.host, 'string');
  // Exclusions are never expanded, so they have no bound.
  const excluded = await build({ targets: args('2001:db8::/120'), excludes: args('::/0') });
  assert.equal(excluded.includedAddressCount, 0);
});

test('totals beyond Number.MAX_SAFE_INTEGER are a clear error', async () => {
  await assert.rejects(
    build({ targets: args('2001:db8::/64'), allowLargeIpv6: true }),
    (e: unknown) => e instanceof LockdownError && e.code === ErrorCode.targetTooLarge && /expands to 18446744073709551616 addresses, more than can ever be scanned/.test(e.message),
  );
  const ports = Array.from({ length: 3000 }, (_, i) => ({ module: 'redis', port: i + 1 }));
  await assert.rejects(
    build({ targets: args('2001:db8::/76'), allowLargeIpv6: true, ports }),
    (e: unknown) => e instanceof LockdownError && e.code === ErrorCode.targetTooLarge && /× 3000 ports, more than 9007199254740991 positions/.test(e.message),
  );
});

test('bad ports and seeds are usage errors', async () => {
  await assert.rejects(build({ targets: args('10.0.0.1'), ports: [{ module: 'redis', port: 0 }] }), UsageError);
  await assert.rejects(build({ targets: args('10.0.0.1'), ports: [{ module: 'redis', port: 70000 }] }), UsageError);
  await assert.rejects(build({ targets: args('10.0.0.1'), ports: [{ module: '', port: 1 }] }), UsageError);
  await assert.rejects(build({ targets: args('10.0.0.1'), seed: 1.5 }), UsageError);
});

function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

test('a /8 × 4 ports builds instantly and iterates lazily with small heap growth', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const before = heapAfterGc(gc);
  const started = performance.now();
  const space = await build({ targets: args('10.0.0.0/8'), ports: [REDIS, PG, MYSQL, MEMCACHED], seed: 5 });
  const buildMs = performance.now() - started;
  assert.equal(space.size, 16_777_216 * 4);
  assert.ok(buildMs < 200, `build took ${buildMs} ms`);

  let count = 0;
  let checksum = 0;
  const iterStarted = performance.now();
  for (const item of space.items()) {
    checksum = (checksum + item.port + item.host.length) % 1_000_003;
    if (++count === 100_000) break;
  }
  const iterMs = performance.now() - iterStarted;
  const grown = heapAfterGc(gc) - before;
  assert.equal(count, 100_000);
  assert.ok(checksum > 0);
  // Materialising the space would need gigabytes (67M items); even an array of its positions is 512 MB.
  assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${grown} bytes`);
  t.diagnostic(`/8 × 4 ports: build ${buildMs.toFixed(1)} ms, 100k items in ${iterMs.toFixed(0)} ms, heap growth ${(grown / 1024).toFixed(0)} KiB`);
});
