import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import {
  type Dnsmasq,
  type MmdbFiles,
  TARGET_ADDRESS,
  type TestHttpServer,
  closedTcpPort,
  selfSignedCert,
  startDnsmasq,
  startHttp,
  startRegistries,
  startSilentTcp,
  startSilentUdp,
  writeTestBootstrap,
  writeTestMmdb,
} from '../../../test/helpers/attribution-servers.js';
import { attributionCacheMigration, createAttributionCache, type AttributionCache } from '../../store/attribution-cache.js';
import { migrations } from '../../store/migrations.js';
import { attribute } from './attribute.js';
import { closeMmdbReaders } from './mmdb.js';
import { SECURITY_TXT_PATH } from './security-txt.js';
import { type Attribution, type AttributionConfig, type SecurityTxtPort } from './types.js';

const SECURITY_TXT = ['Contact: mailto:security@cloud.example.cn', 'Contact: https://cloud.example.cn/report', 'Expires: 2030-01-01T00:00:00Z', 'Policy: https://cloud.example.cn/policy', 'Preferred-Languages: zh, en', ''].join('\n');

async function sqliteCache(): Promise<{ db: Kysely<any>; cache: AttributionCache }> {
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) });
  const all = { ...migrations('sqlite'), '0005_attribution_cache': attributionCacheMigration };
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => all } }).migrateToLatest();
  if (error) throw error;
  return { db, cache: createAttributionCache(db, ':memory:') };
}

/**
 * Every source at once, each a real server on loopback: dnsmasq (PTR), two RDAP registries
 * (node:http), .mmdb files from MaxMind's writer, security.txt over HTTPS and HTTP on the target.
 */
describe('attribute', () => {
  let dns: Dnsmasq;
  let registries: Awaited<ReturnType<typeof startRegistries>>;
  let bootstrapDir: string;
  let mmdb: MmdbFiles;
  let txtHttps: TestHttpServer;
  let txtHttp: TestHttpServer;
  let ports: SecurityTxtPort[];
  let cfg: AttributionConfig;

  before(async () => {
    dns = await startDnsmasq([
      [TARGET_ADDRESS, 'db-2.example.org'],
      ['192.0.2.10', 'db1.example.org'],
      ['192.0.2.11', 'db11.example.org'],
    ]);
    registries = await startRegistries();
    bootstrapDir = writeTestBootstrap(registries.a.base);
    mmdb = writeTestMmdb();
    const serve = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
      if (req.url !== SECURITY_TXT_PATH) {
        res.writeHead(404);
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(SECURITY_TXT);
    };
    txtHttps = await startHttp(TARGET_ADDRESS, serve, selfSignedCert(TARGET_ADDRESS));
    txtHttp = await startHttp(TARGET_ADDRESS, serve);
    // The product's 443/8443/80/8080, moved to the test servers' ports (and one where nothing listens).
    ports = [
      { port: txtHttps.port, tls: true },
      { port: await closedTcpPort(TARGET_ADDRESS), tls: true },
      { port: txtHttp.port, tls: false },
    ];
    cfg = {
      dnsServers: [dns.server],
      rdapBootstrapDir: bootstrapDir,
      mmdb: { asn: mmdb.asn, country: mmdb.country, city: mmdb.city },
      timeoutsMs: { dns: 1500, rdap: 2000, securityTxt: 1500 },
      cacheTtlHours: 24,
    };
  });
  after(async () => {
    await dns.stop();
    await registries.close();
    await txtHttps.close();
    await txtHttp.close();
    closeMmdbReaders();
    rmSync(bootstrapDir, { recursive: true, force: true });
    rmSync(mmdb.dir, { recursive: true, force: true });
  });

  /** Requests seen by every server so far. */
  const io = (): { dns: number; rdap: number; txt: number } => ({
    dns: dns.ptrQueries(),
    rdap: registries.a.requests.length + registries.b.requests.length,
    txt: txtHttps.requests.length + txtHttp.requests.length,
  });

  const expected = (over: Partial<Attribution> = {}): Attribution => ({
    ip: TARGET_ADDRESS,
    ptr: ['db-2.example.org'],
    rdap: {
      handle: '127.0.40.0 - 127.0.40.255',
      name: 'LOCKDOWN-TEST-AP',
      type: 'ALLOCATED PORTABLE',
      cidr: '127.0.40.0/24',
      cidrs: ['127.0.40.0/24'],
      startAddress: '127.0.40.0',
      endAddress: '127.0.40.255',
      country: 'CN',
      parentHandle: '127.0.0.0 - 127.0.255.255',
      registry: `${registries.a.base}registry/`,
      url: `${registries.a.base}registry/ip/${TARGET_ADDRESS}`,
      abuseEmails: ['abuse@cloud.example.cn'],
      remarks: ['description: Example Cloud Computing Co., Ltd.', 'remarks: abuse contact: see the IRT object'],
      entities: [
        {
          handle: 'IRT-EXAMPLECLOUD-CN',
          roles: ['abuse'],
          name: 'IRT-EXAMPLECLOUD-CN',
          kind: 'group',
          emails: ['abuse@cloud.example.cn'],
          phones: [],
          addresses: ['1 Example Road, Nanshan District, Shenzhen'],
          remarks: ['remarks: abuse@cloud.example.cn was validated on 2024-11-05'],
          entities: [],
        },
        {
          handle: 'EC123-AP',
          roles: ['administrative', 'technical'],
          name: 'Example Cloud Network Operations',
          kind: 'group',
          emails: ['noc@cloud.example.cn'],
          phones: ['+86-755-5550-1234'],
          addresses: [],
          remarks: [],
          entities: [],
        },
        {
          handle: 'ORG-ECC1-AP',
          roles: ['registrant'],
          name: 'Example Cloud Computing Co., Ltd.',
          kind: 'org',
          emails: ['ipadmin@cloud.example.cn'],
          phones: ['+86-755-5550-0000'],
          addresses: ['1 Example Road, Nanshan District, Shenzhen'],
          remarks: [],
          entities: [],
        },
      ],
    },
    asn: { number: 64510, org: 'Loopback Test Hosting', network: '127.0.40.0/24' },
    geo: { country: 'CN', city: 'Shenzhen' },
    securityTxt: {
      url: `https://${TARGET_ADDRESS}:${txtHttps.port}${SECURITY_TXT_PATH}`,
      contacts: ['mailto:security@cloud.example.cn', 'https://cloud.example.cn/report'],
      expires: '2030-01-01T00:00:00Z',
      expired: false,
      encryption: [],
      policy: ['https://cloud.example.cn/policy'],
      preferredLanguages: 'zh, en',
      canonical: [],
      signed: false,
    },
    contacts: [
      { email: 'abuse@cloud.example.cn', source: 'rdap', role: 'abuse' },
      { email: 'security@cloud.example.cn', source: 'security.txt', role: 'security' },
      { email: 'noc@cloud.example.cn', source: 'rdap', role: 'technical' },
      { email: 'ipadmin@cloud.example.cn', source: 'rdap', role: 'registrant' },
    ],
    errors: [],
    cached: [],
    ...over,
  });

  it('puts every source together: PTR, RDAP, ASN/geo, security.txt, contacts abuse first', async () => {
    const before = io();
    const a = await attribute(TARGET_ADDRESS, cfg, { securityTxtPorts: ports, clock: () => new Date('2026-03-01T00:00:00Z') });
    assert.deepEqual(a, expected());
    const after = io();
    assert.equal(after.dns - before.dns, 1);
    assert.equal(after.rdap - before.rdap, 1);
    assert.equal(after.txt - before.txt, 2, 'one GET on each live port');
  });

  it('answers from the cache within the TTL without any network I/O, and asks again after it expires', async () => {
    const { db, cache } = await sqliteCache();
    try {
      let now = new Date('2026-03-01T00:00:00Z');
      const deps = { securityTxtPorts: ports, clock: () => now, cache };
      const first = await attribute(TARGET_ADDRESS, cfg, deps);
      assert.deepEqual(first, expected());

      const before = io();
      now = new Date('2026-03-01T23:00:00Z'); // 23 h later: inside the 24 h TTL
      const second = await attribute(TARGET_ADDRESS, cfg, deps);
      assert.deepEqual(io(), before, 'no DNS query, no RDAP request, no security.txt GET');
      assert.deepEqual({ ...second, cached: [...second.cached].sort() }, expected({ cached: ['ptr', 'rdap', 'security.txt'] }));

      now = new Date('2026-03-02T01:00:00Z'); // 25 h after the first fetch: expired
      const third = await attribute(TARGET_ADDRESS, cfg, deps);
      const after = io();
      assert.deepEqual(third, expected());
      assert.deepEqual({ dns: after.dns - before.dns, rdap: after.rdap - before.rdap, txt: after.txt - before.txt }, { dns: 1, rdap: 1, txt: 2 });
    } finally {
      await db.destroy();
    }
  });

  it('reuses one RDAP answer for every address of the network', async () => {
    const { db, cache } = await sqliteCache();
    try {
      // No security.txt ports: 192.0.2.x is not on this machine, and tests talk to loopback only.
      const deps = { securityTxtPorts: [], clock: () => new Date('2026-03-01T00:00:00Z'), cache };
      const r0 = io();
      const a = await attribute('192.0.2.10', cfg, deps);
      assert.equal(a.rdap?.handle, 'NET-192-0-2-0-1');
      assert.deepEqual(a.ptr, ['db1.example.org']);
      assert.deepEqual(a.asn, { number: 64500, org: 'Example Hosting', network: '192.0.2.0/24' });
      assert.deepEqual(a.geo, { country: 'CN' });
      assert.deepEqual(a.contacts[0], { email: 'abuse@hosting.example.net', source: 'rdap', role: 'abuse' });
      const r1 = io();
      const b = await attribute('192.0.2.11', cfg, deps);
      const r2 = io();
      assert.equal(r1.rdap - r0.rdap, 1);
      assert.equal(r2.rdap - r1.rdap, 0, 'the neighbour was answered from rdap:192.0.2.0/24');
      assert.equal(r2.dns - r1.dns, 1, 'its PTR is its own');
      assert.deepEqual(b.ptr, ['db11.example.org']);
      assert.deepEqual(b.rdap, a.rdap);
      assert.deepEqual(b.cached, ['rdap']);
      const keys = await db.selectFrom('attribution_cache').select('key').orderBy('key').execute();
      assert.deepEqual(keys.map((k) => k.key), ['ptr:192.0.2.10', 'ptr:192.0.2.11', 'rdap:192.0.2.0/24', 'security-txt:192.0.2.10', 'security-txt:192.0.2.11']);
    } finally {
      await db.destroy();
    }
  });

  it('never throws: every failing source is one clear error, and the result still names the address', async () => {
    const silentDns = await startSilentUdp();
    const silentWeb = await startSilentTcp(TARGET_ADDRESS);
    const refused = await closedTcpPort('127.0.40.3');
    const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-bootstrap-'));
    try {
      writeFileSync(path.join(dir, 'ipv4.json'), JSON.stringify({ publication: 'p', services: [[['127.0.0.0/8'], [`http://127.0.40.3:${refused}/`]]] }));
      writeFileSync(path.join(dir, 'ipv6.json'), JSON.stringify({ publication: 'p', services: [] }));
      const missing = path.join(dir, 'missing-asn.mmdb');
      const started = performance.now();
      const a = await attribute(
        TARGET_ADDRESS,
        { dnsServers: [silentDns.server], rdapBootstrapDir: dir, mmdb: { asn: missing }, timeoutsMs: { dns: 600, rdap: 600, securityTxt: 600 }, cacheTtlHours: 24 },
        { securityTxtPorts: [{ port: silentWeb.port, tls: false }] },
      );
      assert.ok(performance.now() - started < 4000, 'bounded by the per-source timeouts, run at once');
      assert.equal(a.ip, TARGET_ADDRESS);
      assert.deepEqual(a.ptr, []);
      assert.equal(a.rdap, undefined);
      assert.equal(a.asn, undefined);
      assert.equal(a.securityTxt, undefined);
      assert.deepEqual(a.contacts, []);
      assert.deepEqual([...a.errors].sort(), [
        `Could not open the ASN database ${missing}: ENOENT: no such file or directory, stat '${missing}'`,
        `No security.txt found on ${TARGET_ADDRESS}; could not check http://${TARGET_ADDRESS}:${silentWeb.port}${SECURITY_TXT_PATH} did not answer within 600 ms`,
        `RDAP server 127.0.40.3:${refused} refused the connection (http://127.0.40.3:${refused}/ip/${TARGET_ADDRESS})`,
        `Reverse DNS for ${TARGET_ADDRESS} timed out after 600 ms (asked ${silentDns.server})`,
      ]);
    } finally {
      await silentDns.close();
      await silentWeb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports an unusable cache and still answers', async () => {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) }); // not migrated
    try {
      const a = await attribute('192.0.2.10', cfg, { securityTxtPorts: [], cache: createAttributionCache(db, 'broken.db') });
      assert.equal(a.rdap?.handle, 'NET-192-0-2-0-1');
      assert.deepEqual(a.ptr, ['db1.example.org']);
      assert.equal(a.errors.length, 2);
      assert.match(a.errors[0]!, /^Attribution cache could not be read, asking every source: Could not read the attribution cache in database broken\.db: no such table: attribution_cache/);
      assert.match(a.errors[1]!, /^Attribution cache could not be written: Could not write the attribution cache in database broken\.db/);
    } finally {
      await db.destroy();
    }
  });

  it('refuses what is not an address without asking anything', async () => {
    const before = io();
    assert.deepEqual(await attribute('db.example.org', cfg, { securityTxtPorts: ports }), {
      ip: 'db.example.org',
      ptr: [],
      contacts: [],
      errors: ['Cannot attribute "db.example.org": not a valid IPv4 address (expected four decimal octets)'],
      cached: [],
    });
    assert.deepEqual(io(), before);
  });

  it('looks IPv4-mapped IPv6 up as the IPv4 address', async () => {
    const a = await attribute('::ffff:192.0.2.10', { ...cfg, mmdb: {} }, { securityTxtPorts: [] });
    assert.equal(a.ip, '192.0.2.10');
    assert.deepEqual(a.ptr, ['db1.example.org']);
    assert.deepEqual(a.errors, []);
  });
});
