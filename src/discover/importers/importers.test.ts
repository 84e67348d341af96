import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { openSqliteStore } from '../../store/sqlite-store.js';
import { type CandidateRecord, type ImportRecord } from '../../store/store.js';
import { ImportError, runImport } from './run-import.js';
import { type ImportFormat } from './types.js';

/**
 * Every importer on the samples in test/fixtures/import (see the README there for where each shape
 * comes from): the exact candidates, their claims, and the line numbers of the malformed lines.
 */

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/import/', import.meta.url));
const tmp = mkdtempSync(path.join(tmpdir(), 'lockdown-import-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Imported {
  record: ImportRecord;
  candidates: CandidateRecord[];
}

async function importFile(file: string, format?: ImportFormat, batchSize?: number): Promise<Imported> {
  const store = await openSqliteStore(':memory:');
  try {
    const record = await runImport(store, {
      path: file,
      operator: 'tester',
      commandLine: 'lockdown import test',
      ...(format ? { format } : {}),
      ...(batchSize ? { batchSize } : {}),
    });
    return { record, candidates: await store.listCandidates(record.id) };
  } finally {
    await store.close();
  }
}

const fixture = (rel: string): string => path.join(FIXTURES, rel);

/** [line, host, port, transport, module, product, version, claim] */
type Row = [number, string, number, string, string | null, string | null, string | null, string | null];
const rows = (cs: CandidateRecord[]): Row[] => cs.map((c) => [c.line, c.host, c.port, c.transport, c.module, c.product, c.version, c.claimAuth]);

function assertCounts(r: ImportRecord, expected: { format: string; lines: number; candidates: number; skipped: number; malformed: number; gzip?: boolean }): void {
  assert.equal(r.state, 'completed');
  assert.equal(r.format, expected.format);
  assert.equal(r.lines, expected.lines, 'lines');
  assert.equal(r.candidates, expected.candidates, 'candidates');
  assert.equal(r.skipped, expected.skipped, 'skipped');
  assert.equal(r.malformed, expected.malformed, 'malformed');
  assert.equal(r.gzip, expected.gzip ?? false, 'gzip');
}

describe('shodan importer', () => {
  it('reads `shodan download` JSON lines from .json.gz: candidates, claims, tags and malformed lines', async () => {
    const { record, candidates } = await importFile(fixture('shodan/download.json.gz'));
    assertCounts(record, { format: 'shodan', lines: 11, candidates: 7, skipped: 0, malformed: 3, gzip: true });
    assert.deepEqual(record.malformedSamples, [
      { line: 7, reason: 'not JSON (Unterminated string in JSON at position 96)' },
      { line: 8, reason: 'no IP address (ip_str)' },
      { line: 9, reason: 'port 70000 is out of range (1-65535)' },
    ]);
    assert.deepEqual(rows(candidates), [
      [1, '192.0.2.10', 6379, 'tcp', 'redis', 'Redis key-value store', '6.0.16', 'open'],
      [2, '192.0.2.11', 6379, 'tcp', 'redis', 'Redis key-value store', null, 'auth_required'],
      [3, '198.51.100.10', 27017, 'tcp', 'mongodb', 'MongoDB', '4.4.29', 'open'],
      [4, '198.51.100.11', 9200, 'tcp', 'elasticsearch', 'Elastic', '7.10.2', 'open'],
      [5, '198.51.100.12', 80, 'tcp', null, 'nginx', '1.18.0', null],
      [6, '2001:db8::10', 11211, 'tcp', 'memcached', 'Memcache', '1.6.9', 'open'],
      [11, '198.51.100.13', 3306, 'tcp', 'mysql', 'MySQL', null, 'auth_required'],
    ]);
    assert.deepEqual(
      candidates.map((c) => c.position),
      [0, 1, 2, 3, 4, 5, 6],
    );
    const [redis, noauth, mongo, , nginx, memcache] = candidates as [CandidateRecord, CandidateRecord, CandidateRecord, CandidateRecord, CandidateRecord, CandidateRecord];
    const { evidence, ...redisClaim } = redis.claim as { evidence: Record<string, string> };
    assert.deepEqual(redisClaim, {
      observedAt: '2026-01-15T03:12:45.123Z',
      tags: ['database'],
      hostnames: ['cache1.example.net'],
      domains: ['example.net'],
      org: 'Example Hosting',
      isp: 'Example Hosting',
      asn: 'AS64500',
      location: { city: 'Amsterdam', country_code: 'NL', country_name: 'Netherlands', latitude: 52.374, longitude: 4.8897 },
      service: 'redis',
      moduleFrom: 'block',
      authFrom: 'INFO sections present',
    });
    assert.deepEqual(Object.keys(evidence), ['redis'], 'the redis block is the evidence');
    assert.deepEqual(JSON.parse(evidence.redis as string).keyspace, { db0: { keys: 1821, expires: 0, avg_ttl: 0 } });
    assert.equal(noauth.claim.authFrom, 'reply: NOAUTH');
    assert.deepEqual(noauth.claim.evidence, { data: '-NOAUTH Authentication required.\r\n' });
    assert.deepEqual(mongo.claim.tags, ['database', 'compromised'], 'Shodan tags are kept');
    assert.equal(mongo.claim.authFrom, 'listDatabases.databases listed');
    assert.equal(nginx.claim.authFrom, undefined, 'an HTTP 401 of an unmapped service is no auth claim');
    assert.deepEqual(memcache.claim.tags, ['honeypot']);
    assert.equal(memcache.claim.service, 'memcache');
  });

  it('caps a large product block kept as evidence', async () => {
    const file = path.join(tmp, 'big-block.json');
    const keyspace: Record<string, unknown> = {};
    for (let i = 0; i < 2000; i++) keyspace[`db${i}`] = { keys: i };
    writeFileSync(file, JSON.stringify({ ip_str: '192.0.2.99', port: 6379, transport: 'tcp', redis: { keyspace } }) + '\n');
    const { candidates } = await importFile(file);
    const ev = (candidates[0]?.claim.evidence as Record<string, string>).redis as string;
    assert.ok(ev.length < 1100, `evidence capped (${ev.length} chars)`);
    assert.match(ev, /… \[\d+ more characters\]$/);
    assert.equal(candidates[0]?.claimAuth, 'open');
  });

  it('reads a saved search API page, on one line or pretty-printed over many', async () => {
    const one = await importFile(fixture('shodan/search-api.json'));
    assertCounts(one.record, { format: 'shodan', lines: 1, candidates: 2, skipped: 0, malformed: 0 });
    assert.deepEqual(rows(one.candidates), [
      [1, '203.0.113.20', 5984, 'tcp', 'couchdb', 'CouchDB', '3.2.2', 'open'],
      [1, '203.0.113.21', 9042, 'tcp', 'cassandra', 'Apache Cassandra', null, 'open'],
    ]);
    assert.equal(one.candidates[0]?.claim.authFrom, 'databases listed');
    assert.equal(one.candidates[1]?.claim.authFrom, 'keyspaces listed');

    const pretty = await importFile(fixture('shodan/search-api-pretty.json'));
    assertCounts(pretty.record, { format: 'shodan', lines: 68, candidates: 1, skipped: 0, malformed: 1 });
    assert.deepEqual(pretty.record.malformedSamples, [{ line: 1, reason: 'matches[1]: no port' }]);
    assert.deepEqual(rows(pretty.candidates), [[1, '203.0.113.20', 5984, 'tcp', 'couchdb', 'CouchDB', '3.2.2', 'open']]);
  });

  it('detects gzip by its magic bytes, not by the file name', async () => {
    const renamed = path.join(tmp, 'export-without-extension');
    copyFileSync(fixture('shodan/download.json.gz'), renamed);
    const { record } = await importFile(renamed);
    assert.equal(record.gzip, true);
    assert.equal(record.candidates, 7);
  });
});

describe('censys importer', () => {
  it('reads host records one per line', async () => {
    const { record, candidates } = await importFile(fixture('censys/hosts.jsonl'));
    assertCounts(record, { format: 'censys', lines: 6, candidates: 6, skipped: 1, malformed: 2 });
    assert.deepEqual(record.malformedSamples, [
      { line: 5, reason: '"198.51.100.999": octet 4 (999) is out of range (0-255) (ip)' },
      { line: 6, reason: 'services[1]: no port' },
    ]);
    assert.deepEqual(rows(candidates), [
      [1, '192.0.2.30', 6379, 'tcp', 'redis', 'Redis', '6.2.6', 'open'],
      [1, '192.0.2.30', 22, 'tcp', null, 'OpenSSH', '8.9p1', null],
      [2, '192.0.2.31', 6379, 'tcp', 'redis', null, null, 'auth_required'],
      [3, '198.51.100.30', 27017, 'tcp', 'mongodb', 'MongoDB', '6.0.13', null],
      [3, '198.51.100.30', 9200, 'tcp', 'elasticsearch', null, null, 'auth_required'],
      [6, '198.51.100.32', 5432, 'tcp', 'postgres', null, null, null],
    ]);
    const { evidence, ...claim } = candidates[0]?.claim as { evidence: Record<string, string> };
    assert.deepEqual(claim, {
      observedAt: '2026-01-12T10:11:12.123Z',
      tags: ['database'],
      hostnames: ['cache2.example.net'],
      asn: 'AS64500',
      org: 'EXAMPLE-HOSTING',
      location: { city: 'Amsterdam', country_code: 'NL', country_name: 'Netherlands', latitude: 52.374, longitude: 4.8897 },
      service: 'REDIS',
      extendedService: 'REDIS',
      moduleFrom: 'block',
      authFrom: 'INFO answered (info_response)',
    });
    assert.match(evidence.redis as string, /redis_version:6\.2\.6/);
    assert.equal(candidates[2]?.claim.authFrom, 'reply: NOAUTH');
    assert.equal(candidates[4]?.claim.authFrom, 'HTTP 401');
    assert.deepEqual(candidates[3]?.claim.tags, ['cloud'], 'host labels become tags');
  });

  it('reads a pretty-printed Search API v2 page and a Platform API host', async () => {
    const page = await importFile(fixture('censys/search-v2.json'));
    assertCounts(page.record, { format: 'censys', lines: 53, candidates: 1, skipped: 0, malformed: 0 });
    assert.deepEqual(rows(page.candidates), [[1, '203.0.113.40', 11211, 'tcp', 'memcached', null, '1.6.21', 'open']]);
    assert.equal(page.candidates[0]?.claim.authFrom, 'stats answered');

    const platform = await importFile(fixture('censys/platform-host.json'));
    assertCounts(platform.record, { format: 'censys', lines: 1, candidates: 1, skipped: 0, malformed: 0 });
    assert.deepEqual(rows(platform.candidates), [[1, '203.0.113.41', 3306, 'tcp', 'mysql', 'MariaDB', '10.11.6', null]]);
    assert.deepEqual(platform.candidates[0]?.claim.hostnames, ['db.example.com.br']);
  });
});

describe('masscan importer', () => {
  it('reads -oJ as written before 1.3 (a comma after each record, then {finished: 1})', async () => {
    const { record, candidates } = await importFile(fixture('masscan/scan-old.json'));
    assertCounts(record, { format: 'masscan', lines: 7, candidates: 4, skipped: 1, malformed: 1 });
    assert.deepEqual(record.malformedSamples, [{ line: 6, reason: 'ports[0]: "10.20.0.300": octet 4 (300) is out of range (0-255)' }]);
    assert.deepEqual(rows(candidates), [
      [1, '10.20.0.5', 6379, 'tcp', 'redis', null, null, null],
      [2, '10.20.0.6', 27017, 'tcp', 'mongodb', null, null, null],
      [3, '10.20.0.7', 8080, 'tcp', null, null, null, null],
      [5, '10.20.0.9', 11211, 'tcp', 'memcached', null, null, null],
    ]);
    assert.deepEqual(candidates[0]?.claim, { observedAt: '2023-11-14T22:13:20.000Z', reason: 'syn-ack', ttl: 64, moduleFrom: 'port' });
    assert.deepEqual(candidates[3]?.claim, {
      observedAt: '2023-11-14T22:13:24.000Z',
      service: 'memcached',
      moduleFrom: 'service',
      evidence: { banner: 'STAT pid 812\r\nSTAT version 1.5.22' },
    });
  });

  it('reads -oJ as written since 1.3 (`[`, a comma line between records, `]`)', async () => {
    const { record, candidates } = await importFile(fixture('masscan/scan.json'));
    assertCounts(record, { format: 'masscan', lines: 7, candidates: 3, skipped: 0, malformed: 0 });
    assert.deepEqual(rows(candidates), [
      [2, '10.20.1.5', 3306, 'tcp', 'mysql', null, null, null],
      [4, '10.20.1.6', 9200, 'tcp', 'elasticsearch', null, null, null],
      [6, '10.20.1.7', 6379, 'tcp', 'redis', null, null, null],
    ]);
    // A banner that reads like an auth error is evidence, but masscan makes no auth claim.
    assert.deepEqual(candidates[2]?.claim.evidence, { banner: '-NOAUTH Authentication required.' });
  });

  it('reads --ndjson status and banner records', async () => {
    const { record, candidates } = await importFile(fixture('masscan/scan.ndjson'));
    assertCounts(record, { format: 'masscan', lines: 6, candidates: 4, skipped: 1, malformed: 1 });
    assert.deepEqual(record.malformedSamples, [{ line: 5, reason: 'no port' }]);
    assert.deepEqual(rows(candidates), [
      [1, '10.20.2.5', 6379, 'tcp', 'redis', null, null, null],
      [2, '10.20.2.5', 6379, 'tcp', 'redis', null, null, null],
      [3, '10.20.2.6', 5984, 'tcp', 'couchdb', null, null, null],
      [6, '10.20.2.9', 11211, 'udp', 'memcached', null, null, null],
    ]);
  });

  it('reads -oX (<nmaprun scanner="masscan">)', async () => {
    const { record, candidates } = await importFile(fixture('masscan/scan.xml'));
    assertCounts(record, { format: 'masscan', lines: 13, candidates: 3, skipped: 1, malformed: 0 });
    assert.deepEqual(rows(candidates), [
      [5, '10.20.3.5', 6379, 'tcp', 'redis', null, null, null],
      [6, '10.20.3.6', 11211, 'tcp', 'memcached', null, null, null],
      [7, '10.20.3.7', 443, 'tcp', null, null, null, null],
    ]);
    assert.deepEqual(candidates[1]?.claim.evidence, { banner: 'STAT pid 77' });
  });

  it('reads -oL lines', async () => {
    const { record, candidates } = await importFile(fixture('masscan/scan.list'));
    assertCounts(record, { format: 'masscan', lines: 10, candidates: 5, skipped: 1, malformed: 2 });
    assert.deepEqual(record.malformedSamples, [
      { line: 7, reason: 'not a masscan -oL line (expected "open tcp PORT IP TIME")' },
      { line: 8, reason: 'port 99999 is out of range (1-65535)' },
    ]);
    assert.deepEqual(rows(candidates), [
      [2, '10.20.4.5', 6379, 'tcp', 'redis', null, null, null],
      [3, '10.20.4.6', 27017, 'tcp', 'mongodb', null, null, null],
      [5, '10.20.4.8', 11211, 'tcp', 'memcached', null, null, null],
      [6, '10.20.4.9', 11211, 'udp', 'memcached', null, null, null],
      [9, '10.20.4.11', 22, 'tcp', null, null, null, null],
    ]);
    assert.deepEqual(candidates[2]?.claim.evidence, { banner: 'STAT pid 1 STAT version 1.6.9' });
  });
});

describe('nmap importer', () => {
  it('reads -oX: open ports, -sV product/version, NSE info-script output as evidence and claim', async () => {
    const { record, candidates } = await importFile(fixture('nmap/scan.xml'));
    assertCounts(record, { format: 'nmap', lines: 55, candidates: 7, skipped: 2, malformed: 1 });
    assert.deepEqual(record.malformedSamples, [{ line: 46, reason: '<port portid=…>: port 99999 is out of range (1-65535)' }]);
    assert.deepEqual(rows(candidates), [
      [14, '192.0.2.50', 22, 'tcp', null, 'OpenSSH', '8.4p1 Debian 5+deb11u3', null],
      [15, '192.0.2.50', 6379, 'tcp', 'redis', 'Redis key-value store', '7.0.15', 'open'],
      [29, '192.0.2.51', 6379, 'tcp', 'redis', 'Redis key-value store', null, 'auth_required'],
      [30, '192.0.2.51', 27017, 'tcp', 'mongodb', 'MongoDB', '6.0.13', 'auth_required'],
      [35, '192.0.2.51', 11211, 'tcp', 'memcached', 'Memcached', '1.6.18', 'open'],
      [45, '192.0.2.52', 3306, 'tcp', 'mysql', 'MySQL', '8.0.36-0ubuntu0.22.04.1', null],
      [47, '192.0.2.52', 27018, 'tcp', null, null, null, null],
    ]);
    const byLine = new Map(candidates.map((c) => [c.line, c.claim]));
    assert.equal(byLine.get(15)?.authFrom, 'redis-info: INFO answered');
    assert.match((byLine.get(15)?.evidence as Record<string, string>)['redis-info'] as string, /Version {12}7\.0\.15/);
    assert.deepEqual(byLine.get(15)?.hostnames, ['redis-a.example.net']);
    assert.equal(byLine.get(15)?.observedAt, '2026-01-15T10:00:30.000Z');
    assert.equal(byLine.get(29)?.authFrom, 'redis-info: NOAUTH');
    assert.equal(byLine.get(30)?.authFrom, 'mongodb-databases: requires authentication');
    assert.equal(byLine.get(35)?.authFrom, 'memcached-info: stats answered');
    assert.equal(byLine.get(45)?.authFrom, undefined, 'mysql-info reads the handshake only: no auth claim');
    assert.deepEqual(byLine.get(45)?.hostnames, ['db.example.net'], 'duplicate hostnames are merged');
  });

  it('keeps every whole host (and the whole ports of the last one) of a file cut off mid-scan', async () => {
    const { record, candidates } = await importFile(fixture('nmap/truncated.xml'));
    assertCounts(record, { format: 'nmap', lines: 29, candidates: 3, skipped: 1, malformed: 1 });
    assert.deepEqual(record.malformedSamples, [
      {
        line: 29,
        reason: 'the file ends before </ports>, </host>, </nmaprun> (cut off?); of the <host> from line 25, 1 complete <port> element(s) kept',
      },
    ]);
    assert.deepEqual(
      candidates.map((c) => `${c.host}:${c.port}=${c.claimAuth}`),
      ['192.0.2.50:22=null', '192.0.2.50:6379=open', '192.0.2.51:6379=auth_required'],
    );
  });
});

describe('zgrab2 importer', () => {
  it('reads JSON lines of its database modules', async () => {
    const { record, candidates } = await importFile(fixture('zgrab2/scan.jsonl'));
    assertCounts(record, { format: 'zgrab2', lines: 12, candidates: 9, skipped: 1, malformed: 2 });
    assert.deepEqual(record.malformedSamples, [
      { line: 11, reason: 'no data object' },
      { line: 12, reason: 'not JSON (Unterminated string in JSON at position 64)' },
    ]);
    assert.deepEqual(rows(candidates), [
      [1, '192.0.2.60', 6379, 'tcp', 'redis', 'Redis', '5.0.7', 'open'],
      [2, '192.0.2.61', 6379, 'tcp', 'redis', 'Redis', null, 'auth_required'],
      [4, '192.0.2.63', 27017, 'tcp', 'mongodb', 'MongoDB', '5.0.24', 'open'],
      [5, '192.0.2.64', 5432, 'tcp', 'postgres', 'PostgreSQL', null, 'auth_required'],
      [6, '192.0.2.65', 3306, 'tcp', 'mysql', 'MariaDB', '10.11.6-MariaDB-0+deb12u1', null],
      [7, '192.0.2.66', 3306, 'tcp', 'mysql', 'MySQL', null, 'auth_required'],
      [8, '192.0.2.67', 11211, 'tcp', 'memcached', 'memcached', '1.6.14', 'open'],
      [9, '192.0.2.68', 9200, 'tcp', 'elasticsearch', 'Elasticsearch', '7.17.18', 'open'],
      [10, '192.0.2.69', 80, 'tcp', null, null, null, null],
    ]);
    const why = candidates.map((c) => c.claim.authFrom ?? null);
    assert.deepEqual(why, [
      'INFO answered (info_response)',
      'reply: NOAUTH',
      'database_info.databases listed',
      'authentication_mode: sasl',
      null,
      'error_code 1130',
      'stats answered',
      'root document answered (HTTP 200)',
      null,
    ]);
    assert.deepEqual(candidates[2]?.claim.hostnames, ['mongo.example.net'], 'the domain zgrab2 was given is kept');
    assert.equal(candidates[5]?.claim.status, 'application-error');
  });
});

describe('format detection and errors', () => {
  it('tells each format from its content; --format overrides', async () => {
    const cases: [string, ImportFormat][] = [
      ['shodan/download.json.gz', 'shodan'],
      ['shodan/search-api-pretty.json', 'shodan'],
      ['censys/hosts.jsonl', 'censys'],
      ['censys/search-v2.json', 'censys'],
      ['censys/platform-host.json', 'censys'],
      ['masscan/scan-old.json', 'masscan'],
      ['masscan/scan.json', 'masscan'],
      ['masscan/scan.ndjson', 'masscan'],
      ['masscan/scan.xml', 'masscan'],
      ['masscan/scan.list', 'masscan'],
      ['nmap/scan.xml', 'nmap'],
      ['zgrab2/scan.jsonl', 'zgrab2'],
    ];
    for (const [file, format] of cases) assert.equal((await importFile(fixture(file))).record.format, format, file);
    // The same masscan file read as nmap XML: the nmap reader takes its <host>s, as nmap hosts.
    const forced = await importFile(fixture('masscan/scan.xml'), 'nmap');
    assert.equal(forced.record.format, 'nmap');
    assert.equal(forced.record.candidates, 3);
  });

  it('refuses a file it cannot place, a missing file and an empty one, naming the file', async () => {
    const unknown = path.join(tmp, 'notes.txt');
    writeFileSync(unknown, 'hello\nworld\n');
    await assert.rejects(importFile(unknown), (err: Error) => {
      assert.match(err.message, /Cannot tell which tool wrote .*notes\.txt.*--format shodan\|censys\|masscan\|nmap\|zgrab2/);
      return true;
    });
    await assert.rejects(importFile(path.join(tmp, 'missing.json')), /Cannot read import file .*missing\.json: no such file/);
    const empty = path.join(tmp, 'empty.json');
    writeFileSync(empty, '\n\n');
    await assert.rejects(importFile(empty), /Import file .*empty\.json is empty/);
  });

  it('stops between chunks when interrupted, recording the import as failed with what was kept', async () => {
    const file = path.join(tmp, 'big.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 40000; i++) lines.push(JSON.stringify({ ip_str: `10.2.${(i >> 8) & 255}.${i & 255}`, port: 6379, transport: 'tcp' }));
    writeFileSync(file, lines.join('\n') + '\n');
    const store = await openSqliteStore(':memory:');
    try {
      const controller = new AbortController();
      const err = await runImport(store, {
        path: file,
        operator: 't',
        commandLine: 'c',
        signal: controller.signal,
        onProgress: () => controller.abort(),
      }).then(
        () => assert.fail('an interrupted import must not complete'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ImportError && err.interrupted, String(err));
      assert.match(err.message, /^Import i-\S+ of .*big\.jsonl interrupted at line \d+$/);
      assert.equal(err.record.state, 'failed');
      assert.equal(err.record.error, 'Interrupted');
      assert.ok(err.record.candidates > 0 && err.record.candidates < 40000);
      assert.equal(await store.countCandidates(err.record.id), err.record.candidates);
    } finally {
      await store.close();
    }
  });

  it('records a corrupt gzip as a failed import, keeping the whole batches before the damage', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20000; i++) lines.push(JSON.stringify({ ip_str: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, port: 6379, transport: 'tcp', data: `x${i}` }));
    const { gzipSync } = await import('node:zlib');
    const whole = gzipSync(Buffer.from(lines.join('\n') + '\n'));
    const file = path.join(tmp, 'corrupt.json.gz');
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.7)));
    const store = await openSqliteStore(':memory:');
    try {
      const err = await runImport(store, { path: file, operator: 't', commandLine: 'c', batchSize: 500 }).then(
        () => assert.fail('a truncated gzip must fail'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ImportError, String(err));
      assert.match(err.message, /Cannot read import file .*corrupt\.json\.gz: /);
      const rec = err.record;
      assert.equal(rec.state, 'failed');
      assert.ok(rec.error);
      // The record's count is exactly what is stored, and every stored candidate is a whole line.
      assert.equal(await store.countCandidates(rec.id), rec.candidates);
      const stored = await store.listCandidates(rec.id);
      assert.deepEqual(
        stored.map((c) => c.position),
        stored.map((_, i) => i),
      );
      assert.ok(stored.every((c, i) => c.line === i + 1 && c.host === `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`));
      assert.ok(rec.candidates > 0 && rec.candidates < 20000, `kept ${rec.candidates} whole lines`);
    } finally {
      await store.close();
    }
  });
});
