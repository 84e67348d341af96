/**
 * The Kibana codec: the constant console proxy request, the proxy's replies (Elasticsearch bodies captured from a
 * real Elasticsearch 8.8.2, wrapped the way Kibana 7.x and 8.x relay them — see fixtures/README.md), Kibana's
 * redirects, hostile bodies and seeded fuzzing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  CONSOLE_PROXY_ES_METHOD,
  CONSOLE_PROXY_ES_PATH,
  CONSOLE_PROXY_TARGET,
  consoleProxyHeaders,
  consoleProxyQuery,
  kibanaRedirect,
  proxiedStatus,
  readConsoleProxyReply,
} from './codec.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A captured raw HTTP/1.1 response: status, lower-cased headers and the de-chunked body. */
function capturedResponse(file: URL): { status: number; headers: Record<string, string>; body: Buffer } {
  const raw = readFileSync(file);
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'fixture has a header block');
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (let rest = body; ; ) {
      const eol = rest.indexOf('\r\n');
      const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
      if (size === 0) break;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      rest = rest.subarray(eol + 2 + size + 2);
    }
    body = Buffer.concat(parts);
  }
  return { status, headers, body };
}

const ALL_COLUMNS = capturedResponse(new URL('./fixtures/es-8.8.2-cat-indices-all-columns.http', import.meta.url));
const H_COLUMNS = capturedResponse(new URL('../elasticsearch/fixtures/es-8.8.2-cat-indices.http', import.meta.url));
const ES_401 = capturedResponse(new URL('../elasticsearch/fixtures/es-8.8.2-security-401.http', import.meta.url));

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ProtocolError && pattern.test(err.message));
}

describe('kibana codec: the console proxy request is a constant read', () => {
  it('Kibana reads path = _cat/indices?format=json&bytes=b and method = GET from the target, nothing else', () => {
    const q = new URLSearchParams(CONSOLE_PROXY_TARGET.slice(CONSOLE_PROXY_TARGET.indexOf('?') + 1));
    assert.equal(q.get('method'), 'GET');
    assert.equal(q.get('path'), '_cat/indices?format=json&bytes=b');
    assert.deepEqual([...q.keys()], ['path', 'method']);
    assert.equal(CONSOLE_PROXY_TARGET.split('?')[0], '/api/console/proxy');
    assert.deepEqual(consoleProxyQuery(CONSOLE_PROXY_TARGET), { path: CONSOLE_PROXY_ES_PATH, method: CONSOLE_PROXY_ES_METHOD, keys: ['path', 'method'] });
    assert.equal(CONSOLE_PROXY_ES_METHOD, 'GET');
    // The constant is exactly what URL-encoding the two parameters gives: no hand-written surprise.
    assert.equal(CONSOLE_PROXY_TARGET, `/api/console/proxy?${new URLSearchParams({ path: CONSOLE_PROXY_ES_PATH, method: 'GET' }).toString()}`);
  });

  it('headers: kbn-xsrf always, kbn-version only as the server stated it; osd-* for OpenSearch Dashboards', () => {
    assert.deepEqual(consoleProxyHeaders('Kibana', '7.17.9'), { 'kbn-xsrf': 'true', 'kbn-version': '7.17.9' });
    assert.deepEqual(consoleProxyHeaders('Kibana', undefined), { 'kbn-xsrf': 'true' });
    assert.deepEqual(consoleProxyHeaders('OpenSearch Dashboards', '2.19.0'), { 'osd-xsrf': 'true', 'osd-version': '2.19.0' });
    // A version that could not be a header value (injected CR/LF, spaces, huge) is not echoed back.
    for (const bad of ['7.17.9\r\nx-evil: 1', '7 17', '', 'x'.repeat(65)]) assert.deepEqual(consoleProxyHeaders('Kibana', bad), { 'kbn-xsrf': 'true' }, bad);
  });
});

describe('kibana codec: console proxy replies', () => {
  it('Kibana 8.x: 200 + x-console-proxy-status-code 200 and the captured Elasticsearch body → the indices', () => {
    const reply = readConsoleProxyReply(200, { 'x-console-proxy-status-code': '200', 'x-console-proxy-status-text': 'OK' }, ALL_COLUMNS.body);
    assert.ok(reply.ok);
    assert.equal(reply.esStatus, 200);
    assert.deepEqual(
      reply.cat.indices.map((i) => [i.name, i.docs, i.bytes, i.health, i.status]),
      [
        ['orders', 30, 6798, 'green', 'open'],
        ['customers', 12, 6174, 'green', 'open'],
      ],
    );
    assert.deepEqual([reply.cat.count, reply.cat.totalDocs, reply.cat.totalBytes, reply.cat.truncated], [2, 42, 6798 + 6174, false]);
  });

  it("Kibana 6.x/7.x: Elasticsearch's own status and body (the elasticsearch module's h= capture reads the same)", () => {
    const reply = readConsoleProxyReply(200, { warning: '' }, H_COLUMNS.body);
    assert.ok(reply.ok);
    assert.deepEqual([reply.cat.count, reply.cat.totalDocs, reply.cat.totalBytes], [2, 42, 5055 + 6877]);
  });

  it("Elasticsearch's refusal relayed: 8.x in the header, 7.x as the status; Kibana's own refusals carry no esStatus", () => {
    assert.deepEqual(readConsoleProxyReply(200, { 'x-console-proxy-status-code': '401' }, ES_401.body), {
      ok: false,
      httpStatus: 200,
      esStatus: 401,
      error: { type: 'security_exception', reason: 'missing authentication credentials for REST request [/]' },
    });
    assert.deepEqual(readConsoleProxyReply(401, {}, ES_401.body), {
      ok: false,
      httpStatus: 401,
      esStatus: 401,
      error: { type: 'security_exception', reason: 'missing authentication credentials for REST request [/]' },
    });
    assert.deepEqual(readConsoleProxyReply(400, {}, b('{"statusCode":400,"error":"Bad Request","message":"Request must contain a kbn-xsrf header."}')), {
      ok: false,
      httpStatus: 400,
      error: { type: 'Bad Request', reason: 'Request must contain a kbn-xsrf header.' },
    });
    assert.deepEqual(readConsoleProxyReply(404, {}, b('{"statusCode":404,"error":"Not Found","message":"Not Found"}')), {
      ok: false,
      httpStatus: 404,
      error: { type: 'Not Found', reason: 'Not Found' },
    });
    // Kibana 8.x when no Elasticsearch node answered (create_handler.ts: 502 with the header set to 502).
    const down = readConsoleProxyReply(502, { 'x-console-proxy-status-code': '502' }, b('{"message":"An internal server error occurred. Check Kibana server logs for details."}'));
    assert.equal(down.ok, false);
    assert.equal(!down.ok && down.esStatus, 502);
  });

  it('the status header: only a three-digit status counts', () => {
    assert.deepEqual(proxiedStatus(200, { 'x-console-proxy-status-code': '403' }), { esStatus: 403, fromHeader: true });
    assert.deepEqual(proxiedStatus(200, { 'x-console-proxy-status-code': ' 200 ' }), { esStatus: 200, fromHeader: true });
    for (const bad of ['', 'abc', '2000', '099', '600', '-1', '20']) assert.deepEqual(proxiedStatus(418, { 'x-console-proxy-status-code': bad }), { esStatus: 418, fromHeader: false }, bad);
    assert.deepEqual(proxiedStatus(200, {}), { esStatus: 200, fromHeader: false });
  });

  it('a 200 that is not a JSON index list is refused, whatever it looks like', () => {
    rejects(() => readConsoleProxyReply(200, {}, b('<!DOCTYPE html><html><title>Elastic</title></html>')), /not a JSON list of indices/);
    // A text line with five columns would pass the pre-5.0 text-table reader; through the proxy it is not a listing.
    rejects(() => readConsoleProxyReply(200, {}, b('green open customers 12 5432\n')), /not a JSON list of indices/);
    rejects(() => readConsoleProxyReply(200, {}, b('{"error":{"type":"x"}}')), /not a JSON list of indices/);
    rejects(() => readConsoleProxyReply(200, {}, b('')), /not a JSON list of indices/);
    rejects(() => readConsoleProxyReply(200, {}, b('[{"index":"a"')), /ends inside an element/);
    rejects(() => readConsoleProxyReply(200, {}, b('[{"index":"a"}] trailing')), /bytes after the JSON array/);
    rejects(() => readConsoleProxyReply(200, {}, b(`[${'{"a":'.repeat(40)}1${'}'.repeat(40)}]`)), /deeper than 32/);
    rejects(() => readConsoleProxyReply(200, { 'x-console-proxy-status-code': '200' }, b('[1,2,3]')), /non-object element/);
  });

  it('an empty cluster is an empty listing, not an error', () => {
    const reply = readConsoleProxyReply(200, {}, b('[]'));
    assert.ok(reply.ok);
    assert.deepEqual([reply.cat.count, reply.cat.totalDocs, reply.cat.totalBytes], [0, 0, 0]);
  });

  it('5,000 indices through the proxy: totals over all, the largest 500 kept', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({ health: 'green', status: 'open', index: `i-${i}`, 'docs.count': '2', 'store.size': String(i) }));
    const reply = readConsoleProxyReply(200, {}, b(JSON.stringify(rows)));
    assert.ok(reply.ok);
    assert.equal(reply.cat.count, 5000);
    assert.equal(reply.cat.totalDocs, 10_000);
    assert.equal(reply.cat.indices.length, 500);
    assert.equal(reply.cat.truncated, true);
  });
});

describe('kibana codec: redirects', () => {
  const kibanaReplies = JSON.parse(readFileSync(new URL('../elasticsearch/fixtures/kibana-replies.json', import.meta.url), 'utf8')) as Record<
    string,
    { replies: Record<string, { status: number; headers: Record<string, string> }> }
  >;

  it("the documented GET / redirects: into the app when open, to the login page with security", () => {
    const seen = Object.fromEntries(Object.entries(kibanaReplies).map(([k, v]) => [k, kibanaRedirect(v.replies['/']!.status, v.replies['/']!.headers.location)]));
    assert.deepEqual(seen, { 'kibana-8-open': 'app', 'kibana-8-security': 'login', 'kibana-7-security': 'login', 'kibana-6-open': 'app' });
  });

  it('any base path and absolute URLs; nothing else', () => {
    assert.equal(kibanaRedirect(302, '/kibana/login?next=%2Fkibana%2F'), 'login');
    assert.equal(kibanaRedirect(307, 'https://10.0.0.5:5601/login'), 'login');
    assert.equal(kibanaRedirect(302, '/s/marketing/spaces/space_selector'), 'app');
    assert.equal(kibanaRedirect(301, '/app/home#/'), 'app');
    assert.equal(kibanaRedirect(302, '/loginx'), undefined);
    assert.equal(kibanaRedirect(302, '/app/kibanax'), undefined);
    assert.equal(kibanaRedirect(302, '/?next=/login'), undefined, 'the query does not count');
    assert.equal(kibanaRedirect(200, '/login'), undefined, 'only a redirect counts');
    assert.equal(kibanaRedirect(302, undefined), undefined);
    assert.equal(kibanaRedirect(302, 'http://['), undefined, 'an unparsable location is no redirect');
  });
});

describe('kibana codec: fuzz', () => {
  /** Seeded xorshift, so a failure replays. */
  function rng(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 0x1_0000_0000;
    };
  }
  const STATUSES = [200, 200, 200, 401, 403, 404, 502];
  const HEADERS: Record<string, string>[] = [{}, { 'x-console-proxy-status-code': '200' }, { 'x-console-proxy-status-code': '401' }, { 'x-console-proxy-status-code': 'x' }];

  function exercise(rand: () => number, buf: Buffer): void {
    const status = STATUSES[Math.floor(rand() * STATUSES.length)]!;
    const headers = HEADERS[Math.floor(rand() * HEADERS.length)]!;
    try {
      const reply = readConsoleProxyReply(status, headers, buf);
      if (reply.ok) {
        assert.ok(reply.cat.count >= reply.cat.indices.length);
        assert.ok(Number.isSafeInteger(reply.cat.totalDocs) && reply.cat.totalDocs >= 0);
      }
    } catch (err) {
      assert.ok(err instanceof ProtocolError, `${status} ${JSON.stringify(headers)} ${buf.toString('hex').slice(0, 200)} threw ${String(err)}`);
    }
    // Locations come from the server too: never a throw.
    kibanaRedirect(302, buf.toString('latin1'));
  }

  it('2,000 random buffers: a reply or a ProtocolError, never anything else', () => {
    const rand = rng(0x5601);
    const alphabet = b('[]{}",:0123456789 -.indexdocs.countstore.sizehealthstatuserror\\\n');
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 200);
      const buf = Buffer.alloc(len);
      const biased = rand() < 0.5;
      for (let j = 0; j < len; j++) buf[j] = biased ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
      exercise(rand, buf);
    }
  });

  it('2,000 truncations and byte flips of the captured replies', () => {
    const rand = rng(0xc0de);
    const valid = [ALL_COLUMNS.body, H_COLUMNS.body, ES_401.body];
    for (let i = 0; i < 2000; i++) {
      const src = valid[i % valid.length]!;
      const buf = Buffer.from(src.subarray(0, Math.floor(rand() * (src.length + 1))));
      const flips = Math.floor(rand() * 3);
      for (let f = 0; f < flips && buf.length > 0; f++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      exercise(rand, buf);
    }
  });
});
