/**
 * The HTTP recognisers on documented and captured replies of each product (test/fixtures/banner/README.md
 * names the sources), and on look-alikes they must not claim: a generic web server, JSON without the
 * product's keys, another product's auth realm. Also fuzzed: they are total functions over any bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type HttpResponse } from '../../net/http.js';
import { fixtureBytes } from '../../../test/fixtures/banner/replay-server.js';
import {
  htmlTitle,
  jsonObject,
  recognizeCouchbase,
  recognizeHadoop,
  recognizeNeo4j,
  recognizeRabbitmq,
  recognizeRethinkdb,
  recognizeRiak,
  recognizeSolr,
  zookeeperPeers,
} from './signatures.js';

function res(status: number, body: Buffer | string, headers: Record<string, string> = {}): HttpResponse {
  return { status, body: typeof body === 'string' ? Buffer.from(body) : body, headers };
}

const NGINX = res(200, '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head><body>…</body></html>', { server: 'nginx/1.22.1' });
const PLAIN_JSON = res(200, '{"status":"ok","version":"1.0"}', { 'content-type': 'application/json' });

describe('HTML and JSON helpers', () => {
  it('htmlTitle finds the first title, collapses whitespace, ignores pages without one', () => {
    assert.equal(htmlTitle(Buffer.from('<html><TITLE lang="en">  Hadoop\n  Administration </TITLE>')), 'Hadoop Administration');
    assert.equal(htmlTitle(Buffer.from('<html><body>no title</body></html>')), undefined);
    assert.equal(htmlTitle(Buffer.from(`<title>${'x'.repeat(300)}</title>`)), undefined, 'titles past 256 characters are not titles');
  });

  it('jsonObject accepts only JSON objects', () => {
    assert.deepEqual(jsonObject(Buffer.from(' {"a":1} ')), { a: 1 });
    assert.equal(jsonObject(Buffer.from('[1,2]')), undefined);
    assert.equal(jsonObject(Buffer.from('{"a":')), undefined);
    assert.equal(jsonObject(Buffer.from('null')), undefined);
  });
});

describe('GET / recognisers', () => {
  it('Hadoop 3 index.html on the NameNode port: high confidence, exposure noted', () => {
    const r = recognizeHadoop(res(200, fixtureBytes('hadoop-3-index.html'), { 'content-type': 'text/html' }), 9870);
    assert.deepEqual(r, {
      product: 'Apache Hadoop HDFS',
      confidence: 'high',
      evidence: 'GET / answered 200: <title>Hadoop Administration</title>',
      exposure: 'web UI answered without credentials',
      metadata: { title: 'Hadoop Administration', component: 'NameNode web UI' },
    });
    assert.equal(recognizeHadoop(res(200, fixtureBytes('hadoop-3-index.html')), 12345)?.metadata.component, 'web UI');
  });

  it('Hadoop with SPNEGO: a 401 Negotiate on 9870/50070 is a low-confidence label; elsewhere nothing', () => {
    const refused = res(401, '<html><head><title>Error 401 Authentication required</title></head></html>', { 'www-authenticate': 'Negotiate' });
    const r = recognizeHadoop(refused, 50070);
    assert.equal(r?.confidence, 'low');
    assert.equal(r?.authentication, 'Negotiate');
    assert.equal(recognizeHadoop(refused, 8080), undefined);
    assert.equal(recognizeHadoop(res(401, '', { 'www-authenticate': 'Basic realm="x"' }), 9870), undefined);
    assert.equal(recognizeHadoop(NGINX, 9870), undefined);
  });

  it('RethinkDB 2.4.1 admin console: title, version from the asset links, exposure', () => {
    const r = recognizeRethinkdb(res(200, fixtureBytes('rethinkdb-2.4.1-admin.html')));
    assert.equal(r?.product, 'RethinkDB');
    assert.equal(r?.version, '2.4.1-24-g25364c');
    assert.equal(r?.evidence, 'GET / answered 200: <title>RethinkDB Administration Console</title>');
    assert.match(r?.exposure ?? '', /admin web UI answered without credentials/);
    assert.equal(recognizeRethinkdb(NGINX), undefined);
  });

  it('Neo4j discovery documents of 5.19.0 and 4.4.0; no exposure claimed (the document is public by design)', () => {
    const r5 = recognizeNeo4j(res(200, fixtureBytes('neo4j-discovery-5.19.0.json')));
    assert.equal(r5?.product, 'Neo4j');
    assert.equal(r5?.version, '5.19.0');
    assert.deepEqual(r5?.metadata, {
      edition: 'enterprise',
      boltRouting: 'neo4j://localhost:7687',
      boltDirect: 'bolt://localhost:7687',
      transaction: 'http://localhost:7474/db/{databaseName}/tx',
      query: 'http://localhost:7474/db/{databaseName}/query/v2',
    });
    assert.equal(r5?.exposure, undefined);
    assert.equal(r5?.evidence, 'GET / answered 200 with the Neo4j discovery document: neo4j_version 5.19.0, edition enterprise');
    assert.equal(recognizeNeo4j(res(200, fixtureBytes('neo4j-discovery-4.4.0.json')))?.version, '4.4.0');
    assert.equal(recognizeNeo4j(PLAIN_JSON), undefined);
    assert.equal(recognizeNeo4j(res(401, fixtureBytes('neo4j-discovery-4.4.0.json'))), undefined);
  });
});

describe('product-path recognisers', () => {
  const RIAK_SERVER = 'MochiWeb/1.1 WebMachine/1.9.0 (participate in the frantic)';

  it('Riak: /ping "OK" from MochiWeb/WebMachine; a bare "OK" from anything else is not Riak', () => {
    const r = recognizeRiak(res(200, fixtureBytes('riak-ping.txt'), { server: RIAK_SERVER, 'content-type': 'text/html' }));
    assert.deepEqual(r, {
      product: 'Riak KV',
      confidence: 'high',
      evidence: `GET /ping answered 200 "OK" from Server: ${RIAK_SERVER}`,
      metadata: { server: RIAK_SERVER },
    });
    assert.equal(recognizeRiak(res(200, 'OK', { server: 'nginx' })), undefined);
    assert.equal(recognizeRiak(res(200, 'OK')), undefined);
    assert.equal(recognizeRiak(res(404, 'OK', { server: RIAK_SERVER })), undefined);
  });

  it('Couchbase 1.8.1 /pools: version, cluster uuid, isAdminCreds false, exposure', () => {
    const r = recognizeCouchbase(res(200, fixtureBytes('couchbase-pools-1.8.1.json'), { 'content-type': 'application/json' }));
    assert.equal(r?.product, 'Couchbase Server');
    assert.equal(r?.version, '1.8.1-927-rel-enterprise');
    assert.deepEqual(r?.metadata, {
      isAdminCreds: false,
      clusterUuid: 'c25913df-59a2-4886-858c-7119d42e36ab',
      nsServerVersion: '1.8.1-927-rel-enterprise',
      pools: ['default'],
    });
    assert.equal(r?.exposure, 'cluster information endpoint answered without credentials');
  });

  it('Couchbase refusal: 401 with its realm and Server header; version from a 2.x Server header', () => {
    const r = recognizeCouchbase(res(401, '', { 'www-authenticate': 'Basic realm="Couchbase Server Admin / REST"', server: 'Couchbase Server' }));
    assert.equal(r?.product, 'Couchbase Server');
    assert.equal(r?.authentication, 'Basic realm="Couchbase Server Admin / REST"');
    assert.equal(r?.version, undefined);
    assert.equal(r?.exposure, undefined);
    assert.equal(recognizeCouchbase(res(401, '', { server: 'Couchbase Server 2.1.1-764-rel-community' }))?.version, '2.1.1-764-rel-community');
    assert.equal(recognizeCouchbase(res(401, '', { 'www-authenticate': 'Basic realm="other"' })), undefined);
    assert.equal(recognizeCouchbase(PLAIN_JSON), undefined);
  });

  it('RabbitMQ: the 401 realm and body; the 3.5.1 overview with version, cluster and totals', () => {
    const refused = recognizeRabbitmq(
      res(401, fixtureBytes('rabbitmq-not-authorized.json'), { 'www-authenticate': 'Basic realm="RabbitMQ Management"', 'content-type': 'application/json' }),
    );
    assert.equal(refused?.product, 'RabbitMQ');
    assert.equal(refused?.authentication, 'Basic realm="RabbitMQ Management"');
    assert.deepEqual(refused?.metadata, { error: 'not_authorized', reason: 'Not_Authorized' });
    assert.equal(refused?.exposure, undefined);
    assert.equal(
      refused?.evidence,
      'GET /api/overview answered 401 with WWW-Authenticate: Basic realm="RabbitMQ Management" {"error":"not_authorized","reason":"Not_Authorized"}',
    );
    const open = recognizeRabbitmq(res(200, fixtureBytes('rabbitmq-overview-3.5.1.json')));
    assert.equal(open?.version, '3.5.1');
    assert.deepEqual(open?.metadata, {
      managementVersion: '3.5.1',
      clusterName: 'my-rabbit@ae74c041248b',
      erlangVersion: '17.5',
      node: 'my-rabbit@ae74c041248b',
      objectTotals: { consumers: 0, queues: 4, exchanges: 8, connections: 0, channels: 0 },
    });
    assert.equal(open?.exposure, 'unauthenticated admin API answered (management HTTP API)');
    assert.equal(recognizeRabbitmq(res(401, '', { 'www-authenticate': 'Basic realm="rabbitmq"' })), undefined);
    assert.equal(recognizeRabbitmq(PLAIN_JSON), undefined);
  });

  it('Solr 6.7.0 system info: version, mode, ZooKeeper peers from zkHost, exposure; its 401 realm', () => {
    const r = recognizeSolr(res(200, fixtureBytes('solr-system-6.7.0.json')));
    assert.equal(r?.product, 'Apache Solr');
    assert.equal(r?.version, '6.7.0');
    assert.equal(r?.metadata.mode, 'solrcloud');
    assert.equal(r?.metadata.luceneVersion, '6.7.0');
    assert.equal(r?.metadata.zkHost, 'localhost:9983');
    assert.equal(r?.metadata.jvmVersion, '1.8.0_131 25.131-b11');
    assert.deepEqual(r?.peers, [{ host: 'localhost', port: 9983, role: 'zookeeper', source: 'GET /solr/admin/info/system: zkHost' }]);
    assert.match(r?.exposure ?? '', /unauthenticated admin API answered/);
    const refused = recognizeSolr(res(401, '', { 'www-authenticate': 'Basic realm="solr"' }));
    assert.equal(refused?.authentication, 'Basic realm="solr"');
    assert.equal(recognizeSolr(res(401, '', { 'www-authenticate': 'xBasic realm="solr"' }))?.product, 'Apache Solr');
    assert.equal(recognizeSolr(PLAIN_JSON), undefined);
    assert.equal(recognizeSolr(res(401, '', { 'www-authenticate': 'Basic realm="Jetty"' })), undefined);
    // Solr's error envelope (the shape of SolrException replies) names it even without a challenge.
    const forbidden = recognizeSolr(res(403, '{"responseHeader":{"status":403,"QTime":0},"error":{"msg":"Unauthorized request, Response code: 403","code":403}}'));
    assert.equal(forbidden?.product, 'Apache Solr');
    assert.equal(forbidden?.metadata.error, 'Unauthorized request, Response code: 403');
    assert.equal(recognizeSolr(res(403, '{"error":{"msg":"nope"}}')), undefined);
  });

  it('zkHost lists with chroot, IPv6 and junk', () => {
    assert.deepEqual(
      zookeeperPeers('zk1:2181,zk2:2182,[::1]:2183/solr').map((p) => [p.host, p.port]),
      [
        ['zk1', 2181],
        ['zk2', 2182],
        ['::1', 2183],
      ],
    );
    assert.deepEqual(zookeeperPeers('zk1, bad host:x ,zk3').map((p) => p.host), ['zk1', 'zk3']);
    assert.equal(zookeeperPeers('h:99999')[0]?.port, undefined);
  });
});

describe('recognisers fuzz', () => {
  it('2,000 random replies never throw and never claim a product from noise', () => {
    let a = 0x5eed;
    const next = (): number => {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      return a / 4294967296;
    };
    const all = [recognizeRethinkdb, recognizeNeo4j, recognizeRiak, recognizeCouchbase, recognizeRabbitmq, recognizeSolr];
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(next() * 200);
      const body = Buffer.alloc(len);
      for (let j = 0; j < len; j++) body[j] = Math.floor(next() * 256);
      const reply = res([200, 401, 404][i % 3]!, body);
      for (const f of all) assert.equal(f(reply), undefined);
      assert.equal(recognizeHadoop(reply, 9870), undefined);
    }
  });
});
