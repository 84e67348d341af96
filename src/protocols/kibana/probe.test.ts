/**
 * The kibana probe. Kibana cannot run here (not on Maven Central, npm or Debian), so a tiny test-only HTTP server
 * replays the documented replies of a server that cannot run here: Kibana's `GET /` and `GET /api/status` from
 * ../elasticsearch/fixtures/kibana-replies.json and fixtures/kibana-7-open.json (each entry names its Kibana
 * source), and, for the console proxy, Elasticsearch's `_cat/indices?format=json&bytes=b` reply captured from a
 * real Elasticsearch 8.8.2, wrapped the way Kibana's create_handler.ts relays it (fixtures/README.md). The replay
 * server applies Kibana's documented xsrf and version checks and records every request, so the tests can assert
 * exactly what the probe sent. Hostile peers (silent, garbage, floods, closed port) are real sockets.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { after, afterEach, describe, it } from 'node:test';
import { type ProbeResult } from '../../core/types.js';
import { httpCommandName } from '../../net/http.js';
import { selfSignedCert } from '../../../test/helpers/attribution-servers.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { KIBANA_COMMANDS, KIBANA_PATHS, kibanaProbe } from './probe.js';

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}
type Scenario = { source: string; replies: Record<string, Reply> };

const load = (url: URL): Record<string, Scenario> => JSON.parse(readFileSync(url, 'utf8')) as Record<string, Scenario>;
const SCENARIOS: Record<string, Scenario> = {
  ...load(new URL('../elasticsearch/fixtures/kibana-replies.json', import.meta.url)),
  ...load(new URL('./fixtures/kibana-7-open.json', import.meta.url)),
};

/** A captured raw HTTP/1.1 response from a real Elasticsearch: status, lower-cased headers, de-chunked body. */
function captured(url: URL): Reply {
  const raw = readFileSync(url);
  const end = raw.indexOf('\r\n\r\n');
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
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
    delete headers['transfer-encoding'];
  }
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1]), headers, body };
}

/** `_cat/indices?format=json&bytes=b` (all columns): orders 30 docs / 6798 bytes, customers 12 docs / 6174 bytes. */
const ES_CAT_ALL = captured(new URL('./fixtures/es-8.8.2-cat-indices-all-columns.http', import.meta.url));
/** The elasticsearch module's capture (h= columns): orders 30 / 5055, customers 12 / 6877. */
const ES_CAT_H = captured(new URL('../elasticsearch/fixtures/es-8.8.2-cat-indices.http', import.meta.url));
const ES_401 = captured(new URL('../elasticsearch/fixtures/es-8.8.2-security-401.http', import.meta.url));

/**
 * What Kibana's console proxy answers for an Elasticsearch response (create_handler.ts): 8.x always 200 with
 * Elasticsearch's status in `x-console-proxy-status-code`; 6.x/7.x Elasticsearch's own status. Body unchanged.
 */
function viaConsoleProxy(generation: '8.x' | '7.x', es: Reply): Reply {
  const contentType = es.headers['content-type'] ?? 'application/json';
  if (generation === '8.x') {
    const text = http.STATUS_CODES[es.status] ?? '';
    return { status: 200, headers: { 'content-type': contentType, warning: '', 'x-console-proxy-status-code': String(es.status), 'x-console-proxy-status-text': text }, body: es.body };
  }
  return { status: es.status, headers: { 'content-type': contentType, warning: '' }, body: es.body };
}

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

interface Replay {
  port: number;
  requests: Recorded[];
  close(): Promise<void>;
}

/**
 * Replays one scenario: GET routes from its replies; `POST /api/console/proxy` (any query) answers `proxy` after
 * Kibana's own checks — 400 without kbn-xsrf/kbn-version, 400 when kbn-version differs from `version`
 * (lifecycle_handlers.ts). Anything else: Kibana's 404. Every request is recorded with its body size.
 */
async function replay(
  replies: Record<string, Reply>,
  opts: { proxy?: Reply; version?: string; tls?: { key: string; cert: string } } = {},
): Promise<Replay> {
  const requests: Recorded[] = [];
  const send = (res: http.ServerResponse, reply: Reply): void => {
    res.writeHead(reply.status, reply.headers).end(reply.body);
  };
  const boom = (status: number, error: string, message: string): Reply => ({
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ statusCode: status, error, message }),
  });
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes });
      const pathname = (req.url ?? '').split('?')[0];
      if (req.method === 'POST' && pathname === '/api/console/proxy' && opts.proxy) {
        if (req.headers['kbn-xsrf'] === undefined && req.headers['kbn-version'] === undefined) {
          send(res, boom(400, 'Bad Request', 'Request must contain a kbn-xsrf header.'));
          return;
        }
        const v = req.headers['kbn-version'];
        if (v !== undefined && v !== opts.version) {
          send(res, boom(400, 'Bad Request', `Browser client is out of date, please refresh the page ("kbn-version" header was "${String(v)}" but should be "${opts.version}")`));
          return;
        }
        send(res, opts.proxy);
        return;
      }
      const reply = req.method === 'GET' ? replies[req.url ?? ''] : undefined;
      send(res, reply ?? boom(404, 'Not Found', 'Not Found'));
    });
  };
  const server = opts.tls ? https.createServer(opts.tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let current: Replay | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function probeReplay(replies: Record<string, Reply>, opts: Parameters<typeof replay>[1] = {}): Promise<{ r: ProbeResult; requests: Recorded[] }> {
  current = await replay(replies, opts);
  const r = await kibanaProbe.probe({ host: '127.0.0.1', port: current.port }, probeCtx());
  // Whatever the scenario: only allow-listed requests, each named in result.commands, in order. (Over TLS the
  // first, plain-HTTP attempt dies in the TLS layer and never reaches the server's HTTP handler.)
  assert.deepEqual(
    current.requests.map((q) => (q.method === 'POST' ? KIBANA_COMMANDS.consoleProxy : httpCommandName(q.method as 'GET', q.url))),
    opts.tls ? r.commands.slice(1) : r.commands,
  );
  for (const c of r.commands) assert.ok(kibanaProbe.allowedCommands.includes(c), c);
  for (const q of current.requests) {
    assert.ok(q.method === 'GET' || q.method === 'POST', q.method);
    assert.equal(q.bodyBytes, 0, `${q.method} ${q.url} carried a body`);
    assert.equal(q.headers['user-agent'], probeCtx().identity, 'the scanner names itself');
  }
  return { r, requests: current.requests };
}

/** The console proxy request exactly as the probe must send it. */
function assertProxyRequest(q: Recorded | undefined, version: string | undefined): void {
  assert.ok(q, 'the console proxy was called');
  assert.equal(q.method, 'POST');
  assert.equal(q.url, KIBANA_PATHS.consoleProxy);
  const query = new URL(q.url, 'http://x').searchParams;
  assert.equal(new URL(q.url, 'http://x').pathname, '/api/console/proxy');
  assert.equal(query.get('method'), 'GET', 'the proxied method is GET');
  assert.equal(query.get('path'), '_cat/indices?format=json&bytes=b');
  assert.deepEqual([...query.keys()].sort(), ['method', 'path']);
  assert.equal(q.headers['kbn-xsrf'], 'true');
  assert.equal(q.headers['kbn-version'], version);
  assert.ok(q.headers['content-length'] === undefined || q.headers['content-length'] === '0', `content-length ${q.headers['content-length']}`);
  assert.equal(q.headers['transfer-encoding'], undefined);
  assert.equal(q.headers['content-type'], undefined);
  assert.equal(q.bodyBytes, 0);
}

describe('kibana probe: the allow-list itself', () => {
  it('three requests: two GETs and the console proxy POST whose query is always method=GET and the constant path', () => {
    assert.deepEqual([...kibanaProbe.allowedCommands].sort(), ['GET /', 'GET /api/status', 'POST /api/console/proxy (GET _cat/indices)']);
    assert.equal(httpCommandName('GET', KIBANA_PATHS.status), KIBANA_COMMANDS.status);
    assert.equal(httpCommandName('GET', KIBANA_PATHS.root), KIBANA_COMMANDS.root);
    assert.equal(httpCommandName('POST', KIBANA_PATHS.consoleProxy), 'POST /api/console/proxy');
    const query = new URL(KIBANA_PATHS.consoleProxy, 'http://x').searchParams;
    assert.equal(query.get('method'), 'GET');
    assert.equal(query.get('path'), '_cat/indices?format=json&bytes=b');
    assert.equal(kibanaProbe.name, 'kibana');
    assert.equal(kibanaProbe.transport, 'http');
    assert.deepEqual(kibanaProbe.defaultPorts, [5601]);
  });
});

describe('kibana probe: open Kibana, Elasticsearch through its console proxy (documented replies)', () => {
  const cases = [
    // scenario, how its proxy relays, the Elasticsearch reply, version, kbn-version sent, bytes
    ['kibana-8-open', '8.x', ES_CAT_ALL, '9.3.0', 6798 + 6174, 'kibana', 'available'],
    ['kibana-7-open', '7.x', ES_CAT_ALL, '7.17.9', 6798 + 6174, 'kibana-7', 'green'],
    ['kibana-6-open', '7.x', ES_CAT_H, '6.8.23', 5055 + 6877, 'kibana-6', 'green'],
  ] as const;
  for (const [scenario, generation, es, version, bytes, name, overall] of cases) {
    it(`${scenario}: open, consoleProxy open with 2 indices / 42 docs, inventory, exposes elasticsearch-via-kibana`, async () => {
      const { r, requests } = await probeReplay(SCENARIOS[scenario]!.replies, { proxy: viaConsoleProxy(generation, es), version });
      assert.equal(r.status, 'success', r.errors.join('; '));
      assert.equal(r.module, 'kibana');
      assert.equal(r.auth, 'open');
      assert.equal(r.product, 'Kibana');
      assert.equal(r.version, version);
      assert.equal(r.metadata.tls, false);
      assert.deepEqual(r.metadata.consoleProxy, { open: true, indices: 2, docs: 42, bytes });
      assert.equal(r.metadata.exposes, 'elasticsearch-via-kibana');
      assert.equal((r.metadata.kibana as { name: string }).name, name);
      assert.equal((r.metadata.kibana as { overall: string }).overall, overall);
      assert.equal(r.inventory?.records, 42);
      assert.equal(r.inventory?.bytes, bytes);
      assert.deepEqual(
        r.inventory?.namespaces.map((n) => [n.path, n.kind, n.records]).sort(),
        [
          [['customers'], 'index', 12],
          [['orders'], 'index', 30],
        ],
      );
      assert.match(
        r.evidence ?? '',
        new RegExp(
          `^GET /api/status answered without credentials: HTTP 200 OK\\\\nname: ${name}\\\\nversion\\.number: ${version.replace(/\./g, '\\.')}\\\\nstatus\\.overall: ${overall}\\\\n` +
            `POST /api/console/proxy \\(GET _cat/indices\\) answered without credentials: Elasticsearch behind Kibana's console proxy lists 2 indices, 42 docs, ${bytes} bytes: `,
        ),
      );
      assert.match(r.evidence ?? '', /orders \(30 docs\)/);
      assert.deepEqual(r.commands, [KIBANA_COMMANDS.status, KIBANA_COMMANDS.consoleProxy]);
      assert.deepEqual(
        requests.map((q) => `${q.method} ${q.url}`),
        ['GET /api/status', `POST ${KIBANA_PATHS.consoleProxy}`],
      );
      assertProxyRequest(requests[1], version);
      assert.deepEqual(r.errors, []);
    });
  }
});

describe('kibana probe: secured Kibana — auth_required, the console proxy never called', () => {
  it('8.x with security: the redacted status body → auth_required', async () => {
    const { r, requests } = await probeReplay(SCENARIOS['kibana-8-security']!.replies, { proxy: viaConsoleProxy('8.x', ES_CAT_ALL), version: '9.3.0' });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'Kibana');
    assert.equal(r.version, undefined);
    assert.equal(r.evidence, 'GET /api/status: HTTP 200, redacted status only (overall level available): Kibana requires login');
    assert.deepEqual(r.metadata.kibana, { redacted: true, overall: 'available' });
    assert.equal(r.metadata.consoleProxy, undefined);
    assert.equal(r.metadata.exposes, undefined);
    assert.equal(r.inventory, undefined);
    assert.deepEqual(requests.map((q) => `${q.method} ${q.url}`), ['GET /api/status']);
  });

  it('7.x with security: 401 → auth_required, version from kbn-version', async () => {
    const { r, requests } = await probeReplay(SCENARIOS['kibana-7-security']!.replies, { proxy: viaConsoleProxy('7.x', ES_CAT_ALL), version: '7.17.9' });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'Kibana');
    assert.equal(r.version, '7.17.9');
    assert.equal(r.evidence, 'GET /api/status: HTTP 401 Unauthorized\\nUnauthorized: Unauthorized');
    assert.equal(r.metadata.httpStatus, 401);
    assert.equal(r.metadata.consoleProxy, undefined);
    assert.deepEqual(requests.map((q) => `${q.method} ${q.url}`), ['GET /api/status']);
  });

  it('a login wall in front (an authenticating proxy redirecting /api/status to /login) → auth_required', async () => {
    const wall: Reply = { status: 302, headers: { location: '/login?next=%2Fapi%2Fstatus' }, body: '' };
    const { r, requests } = await probeReplay({ '/api/status': wall }, { proxy: viaConsoleProxy('8.x', ES_CAT_ALL) });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.metadata.location, '/login?next=%2Fapi%2Fstatus');
    assert.match(r.evidence ?? '', /^GET \/api\/status: HTTP 302 Found\\nLocation: \/login\?next=%2Fapi%2Fstatus\\nRedirects to a login page/);
    assert.deepEqual(requests.map((q) => `${q.method} ${q.url}`), ['GET /api/status']);
  });

  it('/api/status unanswered (404), GET / the documented 8.x login redirect with kbn-name → Kibana, auth_required', async () => {
    const { r, requests } = await probeReplay({ '/': SCENARIOS['kibana-8-security']!.replies['/']! }, { proxy: viaConsoleProxy('8.x', ES_CAT_ALL) });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.product, 'Kibana');
    assert.match(r.evidence ?? '', /^GET \/api\/status: HTTP 404 Not Found\\nNot Found: Not Found\\nGET \/: HTTP 302 Found\\nLocation: \/login\?next=%2F\\nRedirects to a login page/);
    assert.deepEqual(requests.map((q) => `${q.method} ${q.url}`), ['GET /api/status', 'GET /']);
  });

  it('/api/status unanswered, GET / redirects into the app (6.x /app/kibana): Kibana, inconclusive, no proxy call', async () => {
    const { r, requests } = await probeReplay({ '/': SCENARIOS['kibana-6-open']!.replies['/']! }, { proxy: viaConsoleProxy('7.x', ES_CAT_ALL) });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'inconclusive');
    assert.equal(r.product, 'Kibana');
    assert.equal(r.version, '6.8.23');
    assert.deepEqual(requests.map((q) => `${q.method} ${q.url}`), ['GET /api/status', 'GET /']);
  });
});

describe('kibana probe: open Kibana whose console proxy does not list', () => {
  it("Elasticsearch's 401 relayed (8.x header): Kibana open, consoleProxy closed with esStatus 401, no inventory", async () => {
    const { r } = await probeReplay(SCENARIOS['kibana-8-open']!.replies, { proxy: viaConsoleProxy('8.x', ES_401), version: '9.3.0' });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.deepEqual(r.metadata.consoleProxy, {
      open: false,
      httpStatus: 200,
      esStatus: 401,
      errorType: 'security_exception',
      errorReason: 'missing authentication credentials for REST request [/]',
    });
    assert.equal(r.metadata.exposes, undefined);
    assert.equal(r.inventory, undefined);
    assert.match(r.evidence ?? '', /\\nPOST \/api\/console\/proxy \(GET _cat\/indices\): HTTP 200, Elasticsearch answered 401 through the proxy: security_exception: /);
  });

  it('console disabled (Kibana 404): consoleProxy closed, no esStatus', async () => {
    const { r } = await probeReplay(SCENARIOS['kibana-7-open']!.replies, { version: '7.17.9' });
    assert.equal(r.auth, 'open');
    assert.deepEqual(r.metadata.consoleProxy, { open: false, httpStatus: 404, errorType: 'Not Found', errorReason: 'Not Found' });
    assert.match(r.evidence ?? '', /\\nPOST \/api\/console\/proxy \(GET _cat\/indices\): HTTP 404, Kibana refused: Not Found: Not Found$/);
  });

  it('a 200 that is not an index list: noted in errors, verdict stays open', async () => {
    const html: Reply = { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>console</html>' };
    const { r } = await probeReplay(SCENARIOS['kibana-8-open']!.replies, { proxy: html, version: '9.3.0' });
    assert.equal(r.status, 'success');
    assert.equal(r.auth, 'open');
    assert.deepEqual(r.metadata.consoleProxy, { open: false, httpStatus: 200 });
    assert.deepEqual(r.errors, ['POST /api/console/proxy (GET _cat/indices): Console proxy answered 200, but the body is not a JSON list of indices']);
  });
});

describe('kibana probe: Kibana over HTTPS only (server.ssl.enabled)', () => {
  it('plain HTTP fails, the TLS retry reads the status and the proxy, tls true', async () => {
    const { r, requests } = await probeReplay(SCENARIOS['kibana-8-open']!.replies, {
      proxy: viaConsoleProxy('8.x', ES_CAT_ALL),
      version: '9.3.0',
      tls: selfSignedCert('127.0.0.1'),
    });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.metadata.tls, true);
    assert.equal(typeof r.metadata.plainHttpFailure, 'string');
    assert.deepEqual(r.metadata.consoleProxy, { open: true, indices: 2, docs: 42, bytes: 6798 + 6174 });
    // The plain attempt never reached the HTTP layer of the TLS server: it records only the TLS requests.
    assert.deepEqual(r.commands, [KIBANA_COMMANDS.status, KIBANA_COMMANDS.status, KIBANA_COMMANDS.consoleProxy]);
    assert.deepEqual(requests.map((q) => `${q.method} ${q.url}`), ['GET /api/status', `POST ${KIBANA_PATHS.consoleProxy}`]);
    assertProxyRequest(requests[1], '9.3.0');
  });
});

describe('kibana probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive, one request', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => kibanaProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /deadline of 500 ms/);
    assert.deepEqual(result.commands, [KIBANA_COMMANDS.status]);
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('garbage peer (an SSH banner): protocol-error, neither HTTP nor HTTPS', async () => {
    peer = await garbagePeer(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
    const { result, ms } = await timed(() => kibanaProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /^Neither HTTP nor HTTPS: /);
    assert.deepEqual(result.commands, [KIBANA_COMMANDS.status, KIBANA_COMMANDS.status]);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('an HTTP server that is not Kibana: protocol-error after GET /, its replies kept as evidence', async () => {
    const server = http.createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<html>nginx 404</html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const r = await kibanaProbe.probe({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port }, probeCtx());
      assert.equal(r.status, 'protocol-error');
      assert.equal(r.auth, 'inconclusive');
      assert.equal(r.product, undefined);
      assert.match(r.errors[0] ?? '', /^Not Kibana: GET \/api\/status answered HTTP 404/);
      assert.match(r.evidence ?? '', /^GET \/api\/status: HTTP 404 Not Found\\n<html>nginx 404<\/html>\\nGET \/: HTTP 404/);
      assert.deepEqual(r.commands, [KIBANA_COMMANDS.status, KIBANA_COMMANDS.root]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('JSON with a status object but no Kibana mark: protocol-error, not a verdict', async () => {
    const { r } = await probeReplay({ '/api/status': { status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":{"ok":true}}' } });
    assert.equal(r.status, 'protocol-error');
    assert.equal(r.auth, 'inconclusive');
    assert.match(r.errors[0] ?? '', /not Kibana status/);
  });

  it('100 MB body behind a valid HTTP header: read-limit at the read cap, bounded memory', async () => {
    peer = await floodPeer(100 * 1024 * 1024, 0x7b, { afterRequest: true, prefix: 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n' });
    const { result, ms, grew } = await timedWithMemory(() => kibanaProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'read-limit');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /read cap of 1048576 bytes/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 6000, `took ${ms} ms`);
  });

  it('100 MB flood of non-HTTP bytes: protocol-error, bounded memory', async () => {
    peer = await floodPeer();
    const { result, ms, grew } = await timedWithMemory(() => kibanaProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assertMemoryBounded(grew);
    assert.ok(ms < 6000, `took ${ms} ms`);
  });

  it('an open Kibana whose console proxy floods: the verdict stands (open), the read cap is a partial-result error', async () => {
    const flood: Reply = { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(3 * 1024 * 1024, 0x5b) };
    const { r } = await probeReplay(SCENARIOS['kibana-8-open']!.replies, { proxy: flood, version: '9.3.0' });
    assert.equal(r.status, 'success');
    assert.equal(r.auth, 'open');
    assert.match(r.errors[0] ?? '', /^Partial result: .*read cap of 1048576 bytes/);
    assert.equal(r.metadata.exposes, undefined);
  });

  it('closed port: connection-refused, no verdict', async () => {
    const r = await probeClosedPort(kibanaProbe);
    assert.ok(r.commands.length <= 1);
  });
});
