import assert from 'node:assert/strict';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ProbeStatus } from '../core/types.js';
import { floodPeer, recordingProxy, silentPeer, type FakePeer } from '../../test/helpers/fake-servers.js';
import { probeCtx } from '../../test/helpers/probe-ctx.js';
import { runProbe } from './probe-run.js';

const MODULE = { name: 'unit', allowedCommands: ['HELLO', 'GET /', 'GET /big'] };
const target = (port: number) => ({ host: '127.0.0.1', port });

describe('runProbe and Session rails', () => {
  let silent: FakePeer;
  before(async () => {
    silent = await silentPeer();
  });
  after(async () => silent.close());

  it('refuses a command missing from the allow-list and sends nothing', async () => {
    const proxy = await recordingProxy('127.0.0.1', silent.port);
    try {
      const r = await runProbe(MODULE, target(proxy.port), probeCtx({ timeoutMs: 1000 }), async (run) => {
        const s = await run.connect();
        s.send('FLUSHALL', Buffer.from('FLUSHALL\r\n'));
      });
      assert.equal(r.status, ProbeStatus.unknownError);
      assert.match(r.errors[0] ?? '', /not on its allow-list/);
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(proxy.clientBytes().length, 0);
      assert.deepEqual(r.commands, []);
    } finally {
      await proxy.close();
    }
  });

  it('ends a silent peer at the deadline as io-timeout, inconclusive', async () => {
    const t0 = performance.now();
    const r = await runProbe(MODULE, target(silent.port), probeCtx({ timeoutMs: 300 }), async (run) => {
      const s = await run.connect();
      s.send('HELLO', Buffer.from('hi'));
      await s.read(() => undefined);
    });
    const elapsed = performance.now() - t0;
    assert.equal(r.status, ProbeStatus.ioTimeout);
    assert.equal(r.auth, 'inconclusive');
    assert.ok(elapsed >= 290 && elapsed < 3800, `took ${elapsed} ms`);
  });

  it('stops reading at the read cap', async () => {
    const flood = await floodPeer(100 * 1024 * 1024);
    try {
      const r = await runProbe(MODULE, target(flood.port), probeCtx({ readCap: 64 * 1024 }), async (run) => {
        const s = await run.connect();
        await s.read(() => undefined);
      });
      assert.equal(r.status, ProbeStatus.readLimit);
      assert.ok(r.bytesRead < 1024 * 1024, `read ${r.bytesRead} bytes`);
    } finally {
      await flood.close();
    }
  });

  it('reports a cancelled probe as cancelled, without a verdict', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const r = await runProbe(MODULE, target(silent.port), probeCtx({ signal: ac.signal, timeoutMs: 5000 }), async (run) => {
      const s = await run.connect();
      await s.read(() => undefined);
    });
    assert.equal(r.status, ProbeStatus.cancelled);
    assert.equal(r.auth, undefined);
  });

  it('maps a closed port to connection-refused', async () => {
    const r = await runProbe(MODULE, target(1), probeCtx(), async (run) => {
      await run.connect();
    });
    assert.equal(r.status, ProbeStatus.connectionRefused);
    assert.equal(r.auth, undefined);
  });
});

describe('HTTP exchanges', () => {
  let server: http.Server;
  let port: number;
  let lastUserAgent = '';
  before(async () => {
    server = http.createServer((req, res) => {
      lastUserAgent = req.headers['user-agent'] ?? '';
      if (req.url === '/big') {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 0x41);
        let sent = 0;
        const pump = (): void => {
          while (sent < 50 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      if (req.url === '/slow') return; // never answers
      res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end('{"error":"auth"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('sends the identity as User-Agent and returns status, headers and body', async () => {
    let status = 0;
    const r = await runProbe(MODULE, target(port), probeCtx(), async (run) => {
      const res = await run.http('GET /', { method: 'GET', path: '/' });
      status = res.status;
      assert.equal(res.headers['www-authenticate'], 'Basic realm="x"');
      assert.equal(res.body.toString(), '{"error":"auth"}');
      run.result.auth = 'auth_required';
    });
    assert.equal(status, 401);
    assert.equal(r.status, ProbeStatus.success);
    assert.deepEqual(r.commands, ['GET /']);
    assert.match(lastUserAgent, /^lockdown-test/);
  });

  it('caps a huge body at the read cap', async () => {
    const r = await runProbe(MODULE, target(port), probeCtx({ readCap: 256 * 1024 }), async (run) => {
      await run.http('GET /big', { method: 'GET', path: '/big' });
    });
    assert.equal(r.status, ProbeStatus.readLimit);
    assert.ok(r.bytesRead < 2 * 1024 * 1024);
  });

  it('refuses a request missing from the allow-list', async () => {
    const r = await runProbe(MODULE, target(port), probeCtx(), async (run) => {
      await run.http('DELETE /', { method: 'GET', path: '/' });
    });
    assert.match(r.errors[0] ?? '', /not on its allow-list/);
  });

  it('times out a server that never answers', async () => {
    const mod = { ...MODULE, allowedCommands: ['GET /slow'] };
    const r = await runProbe(mod, target(port), probeCtx({ timeoutMs: 300 }), async (run) => {
      await run.http('GET /slow', { method: 'GET', path: '/slow' });
    });
    assert.equal(r.status, ProbeStatus.ioTimeout);
  });
});
