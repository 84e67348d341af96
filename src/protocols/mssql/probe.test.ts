/**
 * The MSSQL probe on the wire. Microsoft SQL Server cannot run on this machine, so a tiny test-only TCP
 * server (test/fixtures/mssql/replay-server.ts) replays the PRELOGIN response bytes captured from real
 * SQL Server 2008 and 2017 servers (sources in test/fixtures/mssql/README.md); it is not a SQL Server.
 * Each test decodes what the probe sent and asserts it was exactly one PRELOGIN packet.
 * Hostile peers (silent, garbage, flood) and a closed port are the bounded-failure cases.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { VERSION } from '../../core/version.js';
import { type ProbeResult } from '../../core/types.js';
import { assertMemoryBounded, type FakePeer, floodPeer, garbagePeer, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeClosedPort, probeCtx } from '../../../test/helpers/probe-ctx.js';
import { fixtureHex, tdsReplayServer, tdsResponse, type TcpReplay } from '../../../test/fixtures/mssql/replay-server.js';
import { ENCRYPTION, TDS_PACKET_TYPE, parsePreLogin, tdsMessageDecoder } from './codec.js';
import { MSSQL_COMMANDS, clientPreLogin, mssqlProbe } from './probe.js';

const SQL2008_RESPONSE = fixtureHex('sqlserver-10.0.5512-prelogin-response.hex');
const SQL2017_RESPONSE = tdsResponse(fixtureHex('sqlserver-14.0.3281-prelogin-payload.hex'));

/** Decode everything the probe sent: it must be exactly one PRELOGIN packet, equal to `clientPreLogin()`. */
function assertOnePreLogin(sent: Buffer, result: ProbeResult): void {
  const r = tdsMessageDecoder(TDS_PACKET_TYPE.preLogin)(sent);
  assert.ok(r, `the probe sent an incomplete TDS packet: ${sent.toString('hex')}`);
  assert.equal(r.consumed, sent.length, 'bytes after the PRELOGIN packet');
  assert.equal(r.value.packets, 1);
  const p = parsePreLogin(r.value.payload);
  const expected = clientPreLogin();
  assert.deepEqual(p.version, expected.version);
  assert.equal(p.encryption, ENCRYPTION.off);
  assert.deepEqual(p.instOpt, Buffer.from([0]), 'default instance: a lone NUL');
  assert.equal(p.threadId, 0);
  assert.equal(p.mars, false);
  assert.deepEqual(result.commands, [MSSQL_COMMANDS.preLogin]);
  assert.equal(result.bytesSent, sent.length);
  for (const c of result.commands) assert.ok(mssqlProbe.allowedCommands.includes(c), c);
}

describe('mssql probe against replayed SQL Server PRELOGIN responses (captured bytes, not a running server)', () => {
  let replay: TcpReplay | undefined;
  after(async () => replay?.close());

  it('SQL Server 2008 (10.0.5512), no TLS: inconclusive, version, release, ENCRYPT_NOT_SUP and what it means', async () => {
    replay = await tdsReplayServer(SQL2008_RESPONSE);
    const r = await mssqlProbe.probe({ host: '127.0.0.1', port: replay.port }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'inconclusive');
    assert.equal(r.product, 'Microsoft SQL Server');
    assert.equal(r.version, '10.0.5512');
    assert.deepEqual(r.metadata, {
      loginAttempted: false,
      release: 'SQL Server 2008',
      encryption: 'ENCRYPT_NOT_SUP',
      encryptionNote:
        'the server offers no TLS at all: a login, its (only obfuscated) password included, would cross the network in clear',
      instanceValid: true,
      mars: false,
    });
    assert.equal(
      r.evidence,
      'PRELOGIN answered: version 10.0.5512 (SQL Server 2008), encryption ENCRYPT_NOT_SUP, MARS off; no login attempted (SQL Server always requires one)',
    );
    assert.deepEqual(r.peers, []);
    assert.deepEqual(r.errors, []);
    assert.equal(r.bytesRead, SQL2008_RESPONSE.length);
    assertOnePreLogin(replay.received(), r);
    assert.equal(replay.connections(), 1);
    await replay.close();
    replay = undefined;
  });

  it('SQL Server 2017 (14.0.3281), TLS available: ENCRYPT_OFF, release 2017, one PRELOGIN sent', async () => {
    replay = await tdsReplayServer(SQL2017_RESPONSE);
    const r = await mssqlProbe.probe({ host: '127.0.0.1', port: replay.port }, probeCtx());
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'inconclusive');
    assert.equal(r.version, '14.0.3281');
    assert.equal(r.metadata.release, 'SQL Server 2017');
    assert.equal(r.metadata.encryption, 'ENCRYPT_OFF');
    assert.match(String(r.metadata.encryptionNote), /only the login packet would be encrypted/);
    assert.equal(r.metadata.instanceValid, undefined, 'this server sent no INSTOPT');
    assertOnePreLogin(replay.received(), r);
    await replay.close();
    replay = undefined;
  });

  it('sends lockdown\'s own version in VERSION', () => {
    const [major, minor, patch] = VERSION.split('.').map((x) => Number.parseInt(x, 10));
    assert.deepEqual(clientPreLogin().version, { major, minor, build: patch, subBuild: 0 });
  });

  it('a response whose option offset points outside the payload: protocol-error naming it, verdict inconclusive', async () => {
    const hostile = Buffer.from(SQL2008_RESPONSE);
    hostile.writeUInt16BE(0x0400, 8 + 1); // VERSION offset far past the 35-byte payload
    replay = await tdsReplayServer(hostile);
    const r = await mssqlProbe.probe({ host: '127.0.0.1', port: replay.port }, probeCtx());
    assert.equal(r.status, 'protocol-error');
    assert.equal(r.auth, 'inconclusive');
    assert.match(r.errors[0] ?? '', /PRELOGIN option 0x00 data \(offset 1024, length 6\) ends past the 35-byte payload/);
    assert.equal(r.product, undefined);
    assertOnePreLogin(replay.received(), r);
    await replay.close();
    replay = undefined;
  });

  it('a server that closes after the PRELOGIN: connection-closed, inconclusive', async () => {
    const server = net.createServer((s) => s.once('data', () => s.end()));
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as net.AddressInfo).port;
    const r = await mssqlProbe.probe({ host: '127.0.0.1', port }, probeCtx());
    await new Promise<void>((res) => server.close(() => res()));
    assert.equal(r.status, 'connection-closed');
    assert.equal(r.auth, 'inconclusive');
  });
});

describe('mssql probe against hostile and absent peers', () => {
  let peer: FakePeer | undefined;
  after(async () => peer?.close());

  it('silent peer: io-timeout within the deadline, verdict inconclusive', async () => {
    peer = await silentPeer();
    const { result, ms } = await timed(() => mssqlProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /deadline of 500 ms/);
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('garbage (an HTTP reply): protocol-error naming the bad byte', async () => {
    peer = await garbagePeer(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), { afterRequest: true });
    const { result, ms } = await timed(() => mssqlProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.equal(result.auth, 'inconclusive');
    assert.match(result.errors[0] ?? '', /Not a TDS reply: packet type 0x48 where 0x04 was expected/);
    assert.ok(ms < 4000, `took ${ms} ms`);
  });

  it('100 MB flood of non-TDS bytes: protocol-error at once, bounded read', async () => {
    peer = await floodPeer();
    const { result, ms } = await timed(() => mssqlProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /packet type 0x41/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood behind a legal TDS header: the message cap ends it with bounded memory', async () => {
    // 0x04 then bytes 0x04: every packet header claims type 0x04, status 0x04 (no EOM), length 0x0404.
    peer = await floodPeer(100 * 1024 * 1024, 0x04, { afterRequest: true });
    const { result, ms, grew } = await timedWithMemory(() => mssqlProbe.probe({ host: '127.0.0.1', port: peer!.port }, probeCtx()));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /TDS message spans more than 16 packets/);
    assertMemoryBounded(grew);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('closed port: connection-refused, no verdict, nothing sent', async () => {
    const r = await probeClosedPort(mssqlProbe);
    assert.deepEqual(r.commands, []);
  });
});
