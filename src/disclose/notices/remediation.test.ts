import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RulesError } from '../../rules/validate.js';
import { PROBES } from '../../protocols/registry.js';
import { buildNoticeModel } from './notice-model.js';
import { chooseVariant, loadRemediations, parseVersion, type RemediationFile } from './remediation.js';
import { type FindingRecord } from '../../store/store.js';

const rem = loadRemediations();

function finding(module: string, product: string | null, version: string | null, port = 1234): FindingRecord {
  return {
    id: 1,
    host: '192.0.2.7',
    port,
    module,
    hostname: null,
    status: 'success',
    auth: 'open',
    product,
    version,
    evidence: 'x',
    metadata: {},
    peers: [],
    errors: [],
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-01T00:00:00.000Z',
    lastScanId: null,
    severity: 'high',
    assessment: null,
    inventory: null,
    sample: null,
    honeypot: null,
  };
}

/** Every config line of the fix the notice would carry for this server. */
function fixFor(module: string, product: string | null, version: string | null, port = 1234): { variant: string; lines: string; firewall: string; check: string } {
  const m = buildNoticeModel({ caseRecord: { id: 'c-1', state: 'new', openedAt: '2026-01-02T00:00:00Z', snapshot: finding(module, product, version, port) }, locale: 'en', sender: { name: 's', contact: '' }, remediations: rem });
  return {
    variant: m.fix.variantId,
    lines: [...m.fix.bind.lines, ...m.fix.auth.lines].join('\n'),
    firewall: m.fix.firewall.flatMap((f) => f.lines).join('\n'),
    check: m.fix.check.lines.join('\n'),
  };
}

describe('remediation data', () => {
  it('every built-in file loads and validates; the eight products each have their own', () => {
    for (const module of ['redis', 'postgres', 'mysql', 'memcached', 'mongodb', 'elasticsearch', 'cassandra', 'couchdb']) {
      assert.ok(rem.byModule.has(module), `${module}.yaml exists`);
    }
    assert.ok(rem.firewall.length >= 4);
    // Every registered module gets a fix: its own file or the generic one.
    for (const p of PROBES) assert.ok(rem.byModule.get(p.name) ?? rem.generic);
  });

  it('gives the exact product- and version-specific lines', () => {
    const cases: [string, string | null, string | null, string, RegExp[]][] = [
      ['redis', 'Redis', '7.0.15', 'redis-7', [/^bind 127\.0\.0\.1 -::1$/m, /^protected-mode yes$/m, /^requirepass /m]],
      ['redis', 'Redis', '5.0.14', 'redis-3.2', [/^bind 127\.0\.0\.1 ::1$/m, /^protected-mode yes$/m]],
      ['redis', 'Redis', '2.8.24', 'redis-old', [/^bind 127\.0\.0\.1$/m]],
      ['redis', 'Valkey', '8.0.1', 'redis-7', [/^bind 127\.0\.0\.1 -::1$/m]],
      ['mongodb', 'MongoDB', '7.0.2', 'mongodb-2.6', [/^net:$/m, /^ {2}bindIp: 127\.0\.0\.1$/m, /^security:$/m, /^ {2}authorization: enabled$/m]],
      ['mongodb', 'MongoDB', '2.4.9', 'mongodb-old', [/^bind_ip = 127\.0\.0\.1$/m, /^auth = true$/m]],
      ['mongodb', 'FerretDB', '1.24.2', 'ferretdb', [/--listen-addr=127\.0\.0\.1:27017/]],
      ['elasticsearch', 'Elasticsearch', '8.8.2', 'elasticsearch-6.8', [/^network\.host: 127\.0\.0\.1$/m, /^xpack\.security\.enabled: true$/m]],
      ['elasticsearch', 'Elasticsearch', '5.6.16', 'elasticsearch-old', [/^network\.host: 127\.0\.0\.1$/m]],
      ['elasticsearch', 'OpenSearch', '2.19.4', 'opensearch', [/^network\.host: 127\.0\.0\.1$/m, /^plugins\.security\.disabled: false$/m]],
      ['elasticsearch', 'Kibana', '8.8.2', 'kibana', [/^server\.host: "127\.0\.0\.1"$/m]],
      ['postgres', 'PostgreSQL', '15.8 (Debian 15.8-0+deb12u1)', 'postgres-10', [/^listen_addresses = 'localhost'$/m, /scram-sha-256$/m, /^password_encryption = scram-sha-256$/m]],
      ['postgres', 'PostgreSQL', '9.6.24', 'postgres-old', [/^listen_addresses = 'localhost'$/m, / md5$/m]],
      ['mysql', 'MariaDB', '5.5.5-10.11.6-MariaDB-0+deb12u1', 'mariadb', [/^\[mysqld\]$/m, /^bind-address = 127\.0\.0\.1$/m, /DROP USER IF EXISTS 'root'@'%'/]],
      ['mysql', 'MySQL', '8.0.36', 'mysql-5.7', [/^bind-address = 127\.0\.0\.1$/m, /ALTER USER 'root'@'localhost'/]],
      ['memcached', 'Memcached', '1.6.18', 'memcached-1.5.15', [/^-l 127\.0\.0\.1$/m, /^-U 0$/m, /^-Y /m]],
      ['cassandra', 'Apache Cassandra', '5.0.9', 'cassandra', [/^rpc_address: 127\.0\.0\.1$/m, /^authenticator: PasswordAuthenticator$/m]],
      ['couchdb', 'Apache CouchDB', '3.3.3', 'couchdb-2', [/^\[chttpd\]$/m, /^bind_address = 127\.0\.0\.1$/m, /^\[admins\]$/m]],
      ['couchdb', 'Apache CouchDB', '1.6.1', 'couchdb-1', [/^\[httpd\]$/m, /^bind_address = 127\.0\.0\.1$/m]],
      ['couchdb', 'PouchDB Server', '4.2.0', 'pouchdb-server', [/--host 127\.0\.0\.1/]],
      ['nosuchmodule', 'Thing', '1.0', 'generic', [/127\.0\.0\.1/]],
    ];
    for (const [module, product, version, variant, wanted] of cases) {
      const fix = fixFor(module, product, version);
      assert.equal(fix.variant, variant, `${module} ${product} ${version}`);
      for (const re of wanted) assert.match(fix.lines, re, `${module} ${product} ${version}: ${re}`);
    }
  });

  it('a server that did not say its version gets the newest fix for its product', () => {
    assert.equal(fixFor('redis', 'Redis', null).variant, 'redis-7');
    assert.equal(fixFor('mysql', 'MariaDB', null).variant, 'mariadb');
    assert.equal(fixFor('mysql', null, null).variant, 'mysql-5.7');
  });

  it('fills host, port and protocol into the check and the firewall rules (tcp and udp for memcached)', () => {
    const redis = fixFor('redis', 'Redis', '7.0.15', 6379);
    assert.equal(redis.check, 'redis-cli -h 192.0.2.7 -p 6379 ping');
    assert.match(redis.firewall, /^nft add rule inet filter input tcp dport 6379 drop$/m);
    assert.match(redis.firewall, /^iptables -A INPUT -p tcp --dport 6379 -j DROP$/m);
    assert.match(redis.firewall, /^ufw deny 6379\/tcp$/m);
    assert.match(redis.firewall, /0\.0\.0\.0\/0/);
    assert.doesNotMatch(redis.firewall, /udp/);
    const mc = fixFor('memcached', 'Memcached', '1.6.18', 11211);
    assert.match(mc.firewall, /^ufw deny 11211\/tcp$/m);
    assert.match(mc.firewall, /^ufw deny 11211\/udp$/m);
  });

  it('parses versions the way servers report them', () => {
    assert.deepEqual(parseVersion('7.0.15'), [7, 0, 15]);
    assert.deepEqual(parseVersion('5.5.5-10.11.6-MariaDB'), [10, 11, 6]);
    assert.deepEqual(parseVersion('15.8 (Debian)'), [15, 8]);
    assert.deepEqual(parseVersion('v3.4.0'), [3, 4, 0]);
    assert.equal(parseVersion('unknown'), undefined);
    const file = rem.byModule.get('redis') as RemediationFile;
    assert.equal(chooseVariant(file, 'Redis', '7.0.0').id, 'redis-7', 'the lower bound is inclusive');
    assert.equal(chooseVariant(file, 'Redis', '6.99').id, 'redis-3.2');
  });

  describe('schema validation names the file and the entry', () => {
    const base = (): Record<string, unknown> => ({
      module: 'redis',
      protocols: ['tcp'],
      variants: [
        {
          id: 'x',
          configFile: '/etc/x',
          bind: { lines: ['bind 127.0.0.1'], text: { en: 'e' } },
          auth: { lines: ['requirepass x'], text: { en: 'e' } },
          restart: ['r'],
          check: { lines: ['redis-cli -h {{host}} -p {{port}} ping'], text: { en: 'e' } },
          references: [],
        },
      ],
    });
    const attempt = (mutate: (f: any) => void, file = 'redis.yaml'): unknown => {
      const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-rem-'));
      try {
        const f = base();
        mutate(f);
        writeFileSync(path.join(dir, file), JSON.stringify(f));
        return loadRemediations({ extraDir: dir });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

    it('accepts a valid user file that replaces a built-in one', () => {
      const loaded = attempt(() => undefined) as ReturnType<typeof loadRemediations>;
      assert.equal(loaded.byModule.get('redis')?.variants[0]?.id, 'x');
      assert.ok(loaded.byModule.has('postgres'), 'the other built-ins stay');
    });

    const bad: [string, (f: any) => void, RegExp][] = [
      ['unknown variable', (f) => (f.variants[0].check.lines[0] = 'redis-cli -h {{hots}}'), /redis\.yaml: variants\[0\]\.check\.lines\[0\]: .*no value named hots/],
      ['missing English', (f) => (f.variants[0].bind.text = { 'zh-CN': '中文' }), /variants\[0\]\.bind\.text: missing required key "en"/],
      ['unknown key', (f) => (f.variants[0].binds = f.variants[0].bind), /variants\[0\]\.binds: unknown key/],
      ['no lines', (f) => (f.variants[0].auth.lines = []), /variants\[0\]\.auth\.lines: must have at least 1 entry/],
      ['bounded catch-all', (f) => (f.variants[0].minVersion = '7.0'), /variants\[0\]: the last variant must have no product or version bounds/],
      ['bad regex', (f) => (f.variants[0].product = '(' ) , /invalid regular expression/],
      ['wrong module name', (f) => (f.module = 'postgres'), /module: is "postgres" but the file is named redis\.yaml/],
      ['bad protocol', (f) => (f.protocols = ['sctp']), /protocols\[0\]: expected one of "tcp", "udp"/],
    ];
    for (const [what, mutate, re] of bad) {
      it(`refuses: ${what}`, () => {
        assert.throws(() => attempt(mutate), (e: unknown) => e instanceof RulesError && re.test(e.message));
      });
    }
  });
});
