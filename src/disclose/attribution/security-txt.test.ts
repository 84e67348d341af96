import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  TARGET_ADDRESS,
  type TestHttpServer,
  closedTcpPort,
  selfSignedCert,
  startHttp,
  startSilentTcp,
} from '../../../test/helpers/attribution-servers.js';
import { SECURITY_TXT_COMMANDS, SECURITY_TXT_PATH, fetchSecurityTxt, parseSecurityTxt, securityTxtUrl } from './security-txt.js';
import { SECURITY_TXT_PORTS, type SecurityTxtPort } from './types.js';

const NOW = new Date('2026-03-01T00:00:00Z');

const PLAIN = [
  '# Our security policy',
  'Contact: mailto:security@example.net',
  'Contact: https://example.net/report',
  'contact: tel:+1-201-555-0123',
  'Expires: 2026-12-31T23:59:59.000Z',
  'Encryption: https://example.net/pgp-key.txt',
  'Preferred-Languages: en, de',
  'Canonical: https://example.net/.well-known/security.txt',
  'Policy: https://example.net/disclosure-policy',
  '',
].join('\r\n');

const SIGNED = [
  '-----BEGIN PGP SIGNED MESSAGE-----',
  'Hash: SHA256',
  '',
  '- # dash-escaped comment',
  'Contact: mailto:psirt@example.org',
  'Expires: 2025-01-01T00:00:00Z',
  '-----BEGIN PGP SIGNATURE-----',
  '',
  'iHUEARYIAB0WIQQ=',
  '-----END PGP SIGNATURE-----',
  '',
].join('\n');

describe('parseSecurityTxt', () => {
  it('reads every RFC 9116 field, case-insensitively, with CRLF lines and comments', () => {
    assert.deepEqual(parseSecurityTxt(PLAIN, 'https://192.0.2.1/.well-known/security.txt', NOW), {
      url: 'https://192.0.2.1/.well-known/security.txt',
      contacts: ['mailto:security@example.net', 'https://example.net/report', 'tel:+1-201-555-0123'],
      expires: '2026-12-31T23:59:59.000Z',
      expired: false,
      encryption: ['https://example.net/pgp-key.txt'],
      policy: ['https://example.net/disclosure-policy'],
      preferredLanguages: 'en, de',
      canonical: ['https://example.net/.well-known/security.txt'],
      signed: false,
    });
  });

  it('reads the content of a cleartext-signed file and flags an expired one', () => {
    const f = parseSecurityTxt(SIGNED, 'u', NOW)!;
    assert.deepEqual(f.contacts, ['mailto:psirt@example.org']);
    assert.equal(f.signed, true);
    assert.equal(f.expired, true);
  });

  it('refuses text without a Contact field (an HTML page, a soft 404)', () => {
    assert.equal(parseSecurityTxt('<html><body>Not found</body></html>', 'u', NOW), undefined);
    assert.equal(parseSecurityTxt('Expires: 2030-01-01T00:00:00Z\nPolicy: https://x.example/', 'u', NOW), undefined);
    assert.equal(parseSecurityTxt('', 'u', NOW), undefined);
  });

  it('bounds what it keeps from a hostile file', () => {
    const many = Array.from({ length: 5000 }, (_, i) => `Contact: mailto:c${i}@example.net`).join('\n');
    const f = parseSecurityTxt(many, 'u', NOW)!;
    assert.equal(f.contacts.length, 20);
    const long = parseSecurityTxt(`Contact: mailto:${'a'.repeat(100_000)}@example.net`, 'u', NOW)!;
    assert.ok(long.contacts[0]!.length <= 2048);
  });

  it('builds URLs without default ports and with brackets for IPv6', () => {
    assert.equal(securityTxtUrl('192.0.2.1', { port: 443, tls: true }), 'https://192.0.2.1/.well-known/security.txt');
    assert.equal(securityTxtUrl('192.0.2.1', { port: 8080, tls: false }), 'http://192.0.2.1:8080/.well-known/security.txt');
    assert.equal(securityTxtUrl('2001:db8::1', { port: 8443, tls: true }), 'https://[2001:db8::1]:8443/.well-known/security.txt');
  });

  it('asks only the host itself on 80/443/8080/8443, with one allow-listed request', () => {
    assert.deepEqual(SECURITY_TXT_PORTS.map((p) => p.port).sort(), [443, 80, 8080, 8443].sort());
    assert.deepEqual(SECURITY_TXT_COMMANDS, ['GET /.well-known/security.txt']);
  });
});

describe('fetchSecurityTxt from loopback servers', () => {
  let https: TestHttpServer;
  let http: TestHttpServer;
  let html: TestHttpServer;
  let notFound: TestHttpServer;
  let redirect: TestHttpServer;
  let huge: TestHttpServer;
  let silent: { port: number; close(): Promise<void> };
  let closedPort: number;
  const all = (): TestHttpServer[] => [https, http, html, notFound, redirect, huge];
  const serve =
    (body: string, type = 'text/plain; charset=utf-8') =>
    (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
      if (req.url !== SECURITY_TXT_PATH) {
        res.writeHead(404);
        return void res.end();
      }
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    };

  before(async () => {
    https = await startHttp(TARGET_ADDRESS, serve(SIGNED), selfSignedCert(TARGET_ADDRESS));
    http = await startHttp(TARGET_ADDRESS, serve(PLAIN));
    html = await startHttp(TARGET_ADDRESS, serve('<html><body>Welcome</body></html>', 'text/html'));
    notFound = await startHttp(TARGET_ADDRESS, (_req, res) => {
      res.writeHead(404);
      res.end('not here');
    });
    redirect = await startHttp(TARGET_ADDRESS, (_req, res) => {
      res.writeHead(301, { location: `http://127.0.0.1:${http.port}${SECURITY_TXT_PATH}` });
      res.end();
    });
    huge = await startHttp(TARGET_ADDRESS, serve(`Contact: mailto:a@example.net\n${'#'.repeat(100_000)}\n`));
    silent = await startSilentTcp(TARGET_ADDRESS);
    closedPort = await closedTcpPort(TARGET_ADDRESS);
  });
  after(async () => {
    for (const s of all()) await s.close();
    await silent.close();
  });

  const opts = { timeoutMs: 700, userAgent: 'lockdown-test', now: NOW };
  const ports = (...list: [TestHttpServer | number, boolean][]): SecurityTxtPort[] =>
    list.map(([s, tls]) => ({ port: typeof s === 'number' ? s : s.port, tls }));

  it('reads the file over HTTPS with a self-signed certificate (not verified)', async () => {
    const r = await fetchSecurityTxt(TARGET_ADDRESS, ports([https, true]), opts);
    assert.equal(r.file?.url, `https://${TARGET_ADDRESS}:${https.port}${SECURITY_TXT_PATH}`);
    assert.deepEqual(r.file?.contacts, ['mailto:psirt@example.org']);
    assert.equal(r.file?.signed, true);
    assert.deepEqual(https.requests, [`GET ${SECURITY_TXT_PATH}`]);
  });

  it('prefers the first port in order that has a valid file', async () => {
    const r = await fetchSecurityTxt(TARGET_ADDRESS, ports([html, false], [http, false], [https, true]), opts);
    assert.deepEqual(r.file?.contacts, ['mailto:security@example.net', 'https://example.net/report', 'tel:+1-201-555-0123']);
    assert.equal(r.definitive, true);
  });

  it('treats HTML, 404, a redirect and a refused port as definite absence; follows no redirect', async () => {
    const before = http.requests.length;
    const r = await fetchSecurityTxt(TARGET_ADDRESS, ports([html, false], [notFound, false], [redirect, false], [closedPort, false]), opts);
    assert.deepEqual(r, { definitive: true, failures: [] });
    assert.equal(http.requests.length, before, 'the redirect target was not asked');
  });

  it('reports a port that accepts and never answers, and a file over the read cap, as failures', async () => {
    const started = performance.now();
    const r = await fetchSecurityTxt(TARGET_ADDRESS, ports([silent.port, false], [huge, false]), opts);
    assert.ok(performance.now() - started < 2500);
    assert.equal(r.file, undefined);
    assert.equal(r.definitive, false);
    assert.deepEqual(r.failures, [
      `http://${TARGET_ADDRESS}:${silent.port}${SECURITY_TXT_PATH} did not answer within 700 ms`,
      `http://${TARGET_ADDRESS}:${huge.port}${SECURITY_TXT_PATH} sent more than 32768 bytes`,
    ]);
  });

  it('sent nothing but the allow-listed GET to any server', () => {
    for (const s of all()) for (const r of s.requests) assert.equal(r, `GET ${SECURITY_TXT_PATH}`);
  });
});
