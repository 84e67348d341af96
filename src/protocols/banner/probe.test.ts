/**
 * The banner probe on the wire, port by port. None of these products runs on this machine (RabbitMQ is
 * packaged in Debian but not installed here), so tiny test-only servers (test/fixtures/banner/replay-server.ts)
 * replay their documented or captured replies — sources in test/fixtures/banner/README.md. They are not the
 * products. Because the module picks its one exchange by port, the replay servers listen on the products'
 * real ports on 127.0.84.1. Every test checks that only allow-listed requests went out (HTTP: the replay
 * server's request log; binary: the exact bytes received), and hostile peers cover the bounded failures.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { type ProbeResult } from '../../core/types.js';
import { assertMemoryBounded, floodPeer, silentPeer, timed, timedWithMemory } from '../../../test/helpers/fake-servers.js';
import { probeCtx } from '../../../test/helpers/probe-ctx.js';
import {
  fixtureBufferJson,
  fixtureHex,
  fixtureReply,
  hostilePeer,
  httpReplay,
  kafkaFrame,
  tcpReplay,
  type Listening,
  type Reply,
  type TcpReplay,
} from '../../../test/fixtures/banner/replay-server.js';
import { KAFKA_CORRELATION_ID, encodeAerospikeInfo, encodeBoltHandshake, encodeKafkaApiVersions } from './codec.js';
import { BANNER_COMMANDS, BANNER_HTTP_PATHS, bannerCheckForPort, bannerProbe } from './probe.js';

const HOST = '127.0.84.1';
const CTX = probeCtx();

let open: Listening | undefined;
after(async () => open?.close());

function assertAllowListed(r: ProbeResult): void {
  for (const c of r.commands) assert.ok(bannerProbe.allowedCommands.includes(c), `sent ${c}, not on the allow-list`);
}

/** Serve `routes` on the product's port, probe it, and check the request log against the allow-list. */
async function probeHttp(port: number, routes: Record<string, Reply>): Promise<{ r: ProbeResult; urls: string[] }> {
  const replay = await httpReplay(routes, HOST, port);
  open = replay;
  const r = await bannerProbe.probe({ host: HOST, port }, CTX);
  await replay.close();
  open = undefined;
  const exact: string[] = Object.values(BANNER_HTTP_PATHS);
  for (const q of replay.requests) {
    assert.equal(q.method, 'GET');
    assert.equal(q.bodyBytes, 0);
    assert.equal(q.headers['user-agent'], CTX.identity);
    assert.ok(exact.includes(q.url), `requested ${q.url}, which is not one of the exact allow-listed requests`);
  }
  assert.equal(replay.requests.length, r.commands.length, 'every command went on the wire once');
  assertAllowListed(r);
  return { r, urls: replay.requests.map((q) => q.url) };
}

/** Serve `reply` on the product's port once the request (`complete`) arrived; return what the probe sent. */
async function probeTcp(port: number, reply: Buffer, complete: (b: Buffer) => boolean): Promise<{ r: ProbeResult; sent: Buffer }> {
  const replay: TcpReplay = await tcpReplay(reply, complete, HOST, port);
  open = replay;
  const r = await bannerProbe.probe({ host: HOST, port }, CTX);
  await replay.close();
  open = undefined;
  assertAllowListed(r);
  return { r, sent: replay.received() };
}

function assertLabel(r: ProbeResult, product: string, check: string): void {
  assert.equal(r.status, 'success', r.errors.join('; '));
  assert.equal(r.auth, 'inconclusive');
  assert.equal(r.product, product);
  assert.equal(r.metadata.check, check);
  assert.deepEqual(r.errors, []);
}

describe('banner probe: HTTP products, replayed documented replies', () => {
  it('the port table: each default port has its exchange, any other port falls back to GET /', () => {
    // 8080 is left out of the defaults (every web app listens there); `-p banner:8080` still labels the RethinkDB console.
    assert.deepEqual(bannerProbe.defaultPorts, [9870, 50070, 7474, 7687, 8098, 8091, 3000, 9092, 15672, 8983]);
    assert.equal(bannerCheckForPort(8080).id, 'http-root');
    assert.equal(bannerCheckForPort(28015).id, 'http-root', 'RethinkDB driver port: no special exchange');
    assert.equal(bannerCheckForPort(7687).id, 'bolt-handshake');
    assert.equal(bannerCheckForPort(12345).id, 'http-root');
  });

  it('9870 Hadoop NameNode UI: GET / only, labelled from the title, exposure noted', async () => {
    const { r, urls } = await probeHttp(9870, { '/': fixtureReply('hadoop-3-index.html', 200, { 'content-type': 'text/html' }) });
    assertLabel(r, 'Apache Hadoop HDFS', 'http-root');
    assert.equal(r.version, undefined);
    assert.equal(r.metadata.confidence, 'high');
    assert.equal(r.metadata.component, 'NameNode web UI');
    assert.equal(r.metadata.exposure, 'web UI answered without credentials');
    assert.equal(r.evidence, 'GET / answered 200: <title>Hadoop Administration</title>');
    assert.deepEqual(urls, ['/']);
    assert.deepEqual(r.commands, [BANNER_COMMANDS.root]);
  });

  it('50070 Hadoop 2 port behind SPNEGO: 401 Negotiate → low-confidence label with the challenge', async () => {
    const { r } = await probeHttp(50070, {
      '/': { status: 401, body: Buffer.from('<html><head><title>Error 401 Authentication required</title></head></html>'), headers: { 'www-authenticate': 'Negotiate' } },
    });
    assertLabel(r, 'Apache Hadoop HDFS', 'http-root');
    assert.equal(r.metadata.confidence, 'low');
    assert.equal(r.metadata.authentication, 'Negotiate');
    assert.equal(r.metadata.exposure, undefined);
  });

  it('8080 RethinkDB 2.4.1 admin console: version from the page, exposure noted', async () => {
    const { r, urls } = await probeHttp(8080, { '/': fixtureReply('rethinkdb-2.4.1-admin.html', 200, { 'content-type': 'text/html' }) });
    assertLabel(r, 'RethinkDB', 'http-root');
    assert.equal(r.version, '2.4.1-24-g25364c');
    assert.match(String(r.metadata.exposure), /admin web UI answered without credentials/);
    assert.deepEqual(urls, ['/']);
  });

  it('7474 Neo4j 5.19.0 discovery document: version and edition, nothing more requested', async () => {
    const { r, urls } = await probeHttp(7474, { '/': fixtureReply('neo4j-discovery-5.19.0.json', 200, { 'content-type': 'application/json' }) });
    assertLabel(r, 'Neo4j', 'http-root');
    assert.equal(r.version, '5.19.0');
    assert.equal(r.metadata.edition, 'enterprise');
    assert.equal(r.metadata.boltRouting, 'neo4j://localhost:7687');
    assert.equal(r.metadata.exposure, undefined);
    assert.deepEqual(urls, ['/']);
  });

  it('8098 Riak: GET /ping "OK" from MochiWeb', async () => {
    const server = 'MochiWeb/1.1 WebMachine/1.9.0 (participate in the frantic)';
    const { r, urls } = await probeHttp(8098, { '/ping': fixtureReply('riak-ping.txt', 200, { server, 'content-type': 'text/html' }) });
    assertLabel(r, 'Riak KV', 'riak-ping');
    assert.equal(r.metadata.server, server);
    assert.deepEqual(urls, ['/ping']);
    assert.deepEqual(r.commands, [BANNER_COMMANDS.riakPing]);
  });

  it('8091 Couchbase 1.8.1: GET /pools answered → version and cluster uuid', async () => {
    const { r, urls } = await probeHttp(8091, { '/pools': fixtureReply('couchbase-pools-1.8.1.json', 200, { 'content-type': 'application/json' }) });
    assertLabel(r, 'Couchbase Server', 'couchbase-pools');
    assert.equal(r.version, '1.8.1-927-rel-enterprise');
    assert.equal(r.metadata.clusterUuid, 'c25913df-59a2-4886-858c-7119d42e36ab');
    assert.equal(r.metadata.isAdminCreds, false);
    assert.deepEqual(urls, ['/pools']);
  });

  it('8091 Couchbase refusing: 401 realm and Server header → labelled, challenge kept', async () => {
    const { r } = await probeHttp(8091, {
      '/pools': { status: 401, body: Buffer.alloc(0), headers: { 'www-authenticate': 'Basic realm="Couchbase Server Admin / REST"', server: 'Couchbase Server' } },
    });
    assertLabel(r, 'Couchbase Server', 'couchbase-pools');
    assert.equal(r.metadata.authentication, 'Basic realm="Couchbase Server Admin / REST"');
    assert.equal(r.metadata.server, 'Couchbase Server');
  });

  it('15672 RabbitMQ management refusing: 401 realm and the server\'s error body', async () => {
    const { r, urls } = await probeHttp(15672, {
      '/api/overview': fixtureReply('rabbitmq-not-authorized.json', 401, { 'www-authenticate': 'Basic realm="RabbitMQ Management"', 'content-type': 'application/json' }),
    });
    assertLabel(r, 'RabbitMQ', 'rabbitmq-overview');
    assert.equal(r.metadata.authentication, 'Basic realm="RabbitMQ Management"');
    assert.equal(r.metadata.reason, 'Not_Authorized');
    assert.match(r.evidence ?? '', /401 with WWW-Authenticate: Basic realm="RabbitMQ Management" \{"error":"not_authorized"/);
    assert.deepEqual(urls, ['/api/overview']);
  });

  it('15672 RabbitMQ 3.5.1 overview answered without credentials: still inconclusive, exposure named', async () => {
    const { r } = await probeHttp(15672, { '/api/overview': fixtureReply('rabbitmq-overview-3.5.1.json', 200, { 'content-type': 'application/json' }) });
    assertLabel(r, 'RabbitMQ', 'rabbitmq-overview');
    assert.equal(r.version, '3.5.1');
    assert.equal(r.metadata.exposure, 'unauthenticated admin API answered (management HTTP API)');
    assert.equal(r.metadata.clusterName, 'my-rabbit@ae74c041248b');
  });

  it('8983 Solr 6.7.0 SolrCloud: the exact ?wt=json request, version, ZooKeeper peer, exposure', async () => {
    const { r, urls } = await probeHttp(8983, { '/solr/admin/info/system': fixtureReply('solr-system-6.7.0.json', 200, { 'content-type': 'application/json' }) });
    assertLabel(r, 'Apache Solr', 'solr-system');
    assert.equal(r.version, '6.7.0');
    assert.equal(r.metadata.mode, 'solrcloud');
    assert.deepEqual(r.peers, [{ host: 'localhost', port: 9983, role: 'zookeeper', source: 'GET /solr/admin/info/system: zkHost' }]);
    assert.deepEqual(urls, ['/solr/admin/info/system?wt=json']);
    assert.deepEqual(r.commands, ['GET /solr/admin/info/system']);
  });

  it('8983 Solr with BasicAuth: 401 realm="solr" → labelled', async () => {
    const { r } = await probeHttp(8983, { '/solr/admin/info/system': { status: 401, body: Buffer.alloc(0), headers: { 'www-authenticate': 'Basic realm="solr"' } } });
    assertLabel(r, 'Apache Solr', 'solr-system');
    assert.equal(r.metadata.authentication, 'Basic realm="solr"');
  });

  it('a web server that is none of these: protocol-error, what it said kept in metadata', async () => {
    const { r } = await probeHttp(8080, {
      '/': { status: 200, body: Buffer.from('<html><head><title>Welcome to nginx!</title></head></html>'), headers: { server: 'nginx/1.22.1' } },
    });
    assert.equal(r.status, 'protocol-error');
    assert.equal(r.auth, 'inconclusive');
    assert.equal(r.product, undefined);
    assert.match(r.errors[0] ?? '', /GET \/ answered HTTP 200 but named none of the data stores this module labels on port 8080/);
    assert.equal(r.metadata.httpStatus, 200);
    assert.equal(r.metadata.server, 'nginx/1.22.1');
    assert.equal(r.metadata.title, 'Welcome to nginx!');
  });

  it('any other port: GET / recognises a Neo4j 4.4 discovery document there too', async () => {
    const replay = await httpReplay({ '/': fixtureReply('neo4j-discovery-4.4.0.json', 200, { 'content-type': 'application/json' }) });
    const r = await bannerProbe.probe({ host: '127.0.0.1', port: replay.port }, CTX);
    await replay.close();
    assertLabel(r, 'Neo4j', 'http-root');
    assert.equal(r.version, '4.4.0');
    assert.deepEqual(replay.requests.map((q) => q.url), ['/']);
  });
});

describe('banner probe: binary products, replayed documented replies', () => {
  it('7687 Bolt: exactly the 20-byte handshake goes out; the server\'s 4.1 labels Neo4j (medium confidence)', async () => {
    const { r, sent } = await probeTcp(7687, fixtureHex('bolt-reply-4.1.hex'), (b) => b.length >= 20);
    assertLabel(r, 'Neo4j', 'bolt-handshake');
    assert.deepEqual(sent, encodeBoltHandshake());
    assert.deepEqual(r.commands, [BANNER_COMMANDS.boltHandshake]);
    assert.equal(r.metadata.boltVersion, '4.1');
    assert.equal(r.metadata.confidence, 'medium');
    assert.equal(r.version, undefined, 'a Bolt version is not a product version');
    assert.equal(r.evidence, 'Bolt handshake answered: server chose protocol version 4.1');
  });

  it('7687 Bolt server sharing no version (00 00 00 00): still a Bolt server, labelled', async () => {
    const { r } = await probeTcp(7687, fixtureHex('bolt-reply-none.hex'), (b) => b.length >= 20);
    assertLabel(r, 'Neo4j', 'bolt-handshake');
    assert.equal(r.metadata.noCommonBoltVersion, true);
  });

  it('3000 Aerospike: exactly one info message asking build and edition; version and edition read', async () => {
    const request = encodeAerospikeInfo();
    const { r, sent } = await probeTcp(3000, fixtureHex('aerospike-info-build-edition.hex'), (b) => b.length >= request.length);
    assertLabel(r, 'Aerospike', 'aerospike-info');
    assert.deepEqual(sent, request);
    assert.equal(r.version, '3.12.0');
    assert.equal(r.metadata.edition, 'Aerospike Community Edition');
    assert.equal(r.metadata.exposure, 'info protocol answered without credentials');
    assert.equal(r.evidence, 'Info protocol answered: build=3.12.0, edition=Aerospike Community Edition');
  });

  it('9092 Kafka: exactly one ApiVersions v0 request; the recorded reply labels Kafka, no Metadata asked', async () => {
    const request = encodeKafkaApiVersions(CTX.clientName);
    const reply = kafkaFrame(fixtureBufferJson('kafka-apiversions-v0-response-body.json'), KAFKA_CORRELATION_ID);
    const { r, sent } = await probeTcp(9092, reply, (b) => b.length >= request.length);
    assertLabel(r, 'Apache Kafka', 'kafka-apiversions');
    assert.deepEqual(sent, request);
    assert.deepEqual(r.commands, [BANNER_COMMANDS.kafkaApiVersions]);
    assert.equal(r.metadata.apiKeyCount, 21);
    assert.equal(r.metadata.errorCode, 0);
    assert.equal(r.metadata.saslHandshake, true);
    assert.equal(r.metadata.confidence, 'medium');
  });
});

describe('banner probe against hostile and absent peers', () => {
  it('silent binary port (Kafka 9092): io-timeout within the deadline, inconclusive', async () => {
    open = await hostilePeer('silent', HOST, 9092);
    const { result, ms } = await timed(() => bannerProbe.probe({ host: HOST, port: 9092 }, probeCtx({ timeoutMs: 500 })));
    await open.close();
    open = undefined;
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('silent HTTP port: io-timeout within the deadline, inconclusive', async () => {
    const peer = await silentPeer();
    const { result, ms } = await timed(() => bannerProbe.probe({ host: '127.0.0.1', port: peer.port }, probeCtx({ timeoutMs: 500 })));
    await peer.close();
    assert.equal(result.status, 'io-timeout');
    assert.equal(result.auth, 'inconclusive');
    assert.ok(ms >= 450 && ms < 3900, `took ${ms} ms`);
  });

  it('garbage on the Aerospike and Bolt ports (an HTTP error page): protocol-error naming it', async () => {
    const page = Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    open = await hostilePeer('garbage', HOST, 3000, { bytes: page });
    const aero = await bannerProbe.probe({ host: HOST, port: 3000 }, CTX);
    await open.close();
    open = await hostilePeer('garbage', HOST, 7687, { bytes: page });
    const bolt = await bannerProbe.probe({ host: HOST, port: 7687 }, CTX);
    await open.close();
    open = undefined;
    assert.equal(aero.status, 'protocol-error');
    assert.match(aero.errors[0] ?? '', /Not an Aerospike reply: proto version byte 0x48/);
    assert.equal(bolt.status, 'protocol-error');
    assert.match(bolt.errors[0] ?? '', /Answered HTTP, not the Bolt handshake/);
    assert.equal(aero.product, undefined);
  });

  it('100 MB flood on the Kafka port: protocol-error at once, bounded read', async () => {
    open = await hostilePeer('flood', HOST, 9092);
    const { result, ms } = await timed(() => bannerProbe.probe({ host: HOST, port: 9092 }, CTX));
    await open.close();
    open = undefined;
    assert.equal(result.status, 'protocol-error');
    assert.match(result.errors[0] ?? '', /Not a Kafka reply: message size 1094795585/);
    assert.ok(result.bytesRead <= 1024 * 1024 + 128 * 1024, `read ${result.bytesRead} bytes`);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB flood of non-HTTP bytes on an HTTP port: protocol-error', async () => {
    const peer = await floodPeer();
    const { result, ms } = await timed(() => bannerProbe.probe({ host: '127.0.0.1', port: peer.port }, CTX));
    await peer.close();
    assert.equal(result.status, 'protocol-error');
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('100 MB JSON body on the Solr port: read-limit at the read cap, bounded memory', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let sent = 0;
      const pump = (): void => {
        while (sent < 100 * 1024 * 1024 && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.write('{"lucene":');
      pump();
    });
    await new Promise<void>((res) => server.listen(8983, HOST, res));
    const { result, ms, grew } = await timedWithMemory(() => bannerProbe.probe({ host: HOST, port: 8983 }, CTX));
    server.closeAllConnections();
    await new Promise<void>((res) => server.close(() => res()));
    assert.equal(result.status, 'read-limit');
    assert.equal(result.auth, 'inconclusive');
    assert.ok(result.bytesRead <= 1024 * 1024 + 256 * 1024, `read ${result.bytesRead} bytes`);
    assertMemoryBounded(grew);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });

  it('closed ports (Bolt and HTTP): connection-refused, no verdict, nothing sent', async () => {
    const s = net.createServer();
    await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
    const free = (s.address() as net.AddressInfo).port;
    await new Promise<void>((res) => s.close(() => res()));
    for (const target of [
      { host: HOST, port: 7687 },
      { host: '127.0.0.1', port: free },
    ]) {
      const r = await bannerProbe.probe(target, CTX);
      assert.equal(r.status, 'connection-refused', `${target.host}:${target.port}`);
      assert.equal(r.auth, undefined);
    }
  });
});
