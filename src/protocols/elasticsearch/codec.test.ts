/**
 * The Elasticsearch/OpenSearch/Kibana reply codec against replies captured from the real test servers
 * (fixtures/*.http), documented replies of versions and products that cannot run here (fixtures/*.json,
 * each naming its source), hostile bodies and seeded fuzzing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  ES_LIMITS,
  forEachArrayObject,
  kibanaFromReply,
  parseAddress,
  parseCatIndices,
  parseClusterHealth,
  parseErrorBody,
  parseKibanaStatus,
  parseNodes,
  parseRootInfo,
  productFromRoot,
  toCount,
} from './codec.js';
import { peersOf, productFromRefusal } from './probe.js';
import { jsonDepth } from '../json-body.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const b = (s: string): Buffer => Buffer.from(s, 'utf8');

interface Legacy {
  source: string;
  body: string;
}
const legacy = JSON.parse(fixture('legacy-replies.json').toString('utf8')) as Record<string, Legacy>;
const legacyBody = (name: string): Buffer => b(legacy[name]!.body);

interface KibanaReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}
const kibana = JSON.parse(fixture('kibana-replies.json').toString('utf8')) as Record<string, { source: string; replies: Record<string, KibanaReply> }>;

/** A captured raw HTTP/1.1 response split into status, lower-cased headers and the (de-chunked) body. */
function httpResponse(raw: Buffer): { status: number; headers: Record<string, string>; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'fixture has a header block');
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const at = line.indexOf(':');
    const key = line.slice(0, at).toLowerCase();
    const value = line.slice(at + 1).trim();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    let rest = body;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
      if (size === 0) break;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      rest = rest.subarray(lineEnd + 2 + size + 2);
    }
    body = Buffer.concat(parts);
  } else {
    assert.equal(body.length, Number(headers['content-length']), 'fixture body matches its content-length');
  }
  return { status, headers, body };
}

const captured = (name: string): ReturnType<typeof httpResponse> => httpResponse(fixture(name));

/** A small deterministic PRNG (mulberry32) so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ProtocolError && message.test(err.message));
}

describe('elasticsearch codec: GET /', () => {
  it('reads Elasticsearch 8.8.2 cluster info (captured)', () => {
    const info = parseRootInfo(captured('es-8.8.2-root.http').body);
    assert.deepEqual(info, {
      version: '8.8.2',
      nodeName: 'lockdown-es-open',
      clusterName: 'lockdown-es-open',
      clusterUuid: 'qVxNIAMlTjqm_MBeEaJceQ',
      buildFlavor: 'default',
      buildType: 'zip',
      buildHash: '98e1271edf932a480e4262a471281f1ee295ce6b',
      buildDate: '2023-06-26T05:16:16.196344851Z',
      luceneVersion: '9.6.0',
      tagline: 'You Know, for Search',
    });
    assert.equal(productFromRoot(info), 'Elasticsearch');
  });

  it('names OpenSearch from version.distribution (captured 2.19.4)', () => {
    const info = parseRootInfo(captured('opensearch-2.19.4-root.http').body);
    assert.equal(info.version, '2.19.4');
    assert.equal(info.distribution, 'opensearch');
    assert.equal(info.tagline, 'The OpenSearch Project: https://opensearch.org/');
    assert.equal(productFromRoot(info), 'OpenSearch');
  });

  it('reads Elasticsearch 0.90 (documented; no cluster_name yet)', () => {
    const info = parseRootInfo(legacyBody('es-0.90-root'));
    assert.equal(info.version, '0.90.6');
    assert.equal(info.nodeName, 'Bloodlust');
    assert.equal(info.clusterName, undefined);
    assert.equal(info.luceneVersion, '4.5.1');
    assert.equal(productFromRoot(info), 'Elasticsearch');
  });

  it('refuses replies that are not cluster info', () => {
    rejects(() => parseRootInfo(b('<html><body>Welcome to nginx!</body></html>')), /GET \/ reply is not JSON/);
    rejects(() => parseRootInfo(b('{"ok":true}')), /no version\.number/);
    rejects(() => parseRootInfo(b('{"version":{"number":8}}')), /no version\.number/);
    rejects(() => parseRootInfo(b('[1,2,3]')), /no version\.number/);
    rejects(() => parseRootInfo(b('')), /not JSON/);
  });

  it('clips huge strings from the server', () => {
    const info = parseRootInfo(b(JSON.stringify({ name: 'x'.repeat(100_000), version: { number: '1'.repeat(5000) } })));
    assert.equal(info.nodeName?.length, ES_LIMITS.maxString);
    assert.equal(info.version.length, ES_LIMITS.maxString);
  });
});

describe('elasticsearch codec: GET /_cat/indices', () => {
  it('reads the captured 8.8.2 and 2.19.4 listings (12 + 30 seeded documents)', () => {
    for (const name of ['es-8.8.2-cat-indices.http', 'opensearch-2.19.4-cat-indices.http']) {
      const cat = parseCatIndices(captured(name).body);
      assert.equal(cat.count, 2);
      assert.equal(cat.totalDocs, 42);
      assert.equal(cat.truncated, false);
      const byName = Object.fromEntries(cat.indices.map((i) => [i.name, i]));
      assert.deepEqual(Object.keys(byName).sort(), ['customers', 'orders']);
      assert.equal(byName.customers!.docs, 12);
      assert.equal(byName.orders!.docs, 30);
      assert.equal(byName.orders!.health, 'green');
      assert.equal(byName.orders!.status, 'open');
      assert.equal(cat.totalBytes, byName.customers!.bytes! + byName.orders!.bytes!);
      // Largest first.
      assert.ok(cat.indices[0]!.bytes! >= cat.indices[1]!.bytes!);
    }
  });

  it('reads the pre-5.0 text table, closed index included (documented format)', () => {
    const cat = parseCatIndices(legacyBody('es-2.x-cat-indices-text'));
    assert.deepEqual(cat.indices, [
      { name: 'twitter', health: 'yellow', status: 'open', docs: 1200, bytes: 90214 },
      { name: 'logstash-1', health: 'green', status: 'open', docs: 17, bytes: 8834 },
      { name: 'archive', status: 'close', docs: null, bytes: null },
    ]);
    assert.equal(cat.count, 3);
    assert.equal(cat.totalDocs, 1217);
  });

  it('an empty cluster is an empty list', () => {
    assert.deepEqual(parseCatIndices(b('[]')), { indices: [], count: 0, totalDocs: 0, totalBytes: 0, truncated: false });
    assert.deepEqual(parseCatIndices(b(' [ ] \n')).count, 0);
    assert.equal(parseCatIndices(b('')).count, 0);
  });

  it('keeps the largest 500 of 5,000 indices and totals all of them', () => {
    const rows = Array.from({ length: 5000 }, (_, i) => ({
      health: 'green',
      status: 'open',
      index: `idx-${String(i).padStart(4, '0')}`,
      'docs.count': String(i),
      'store.size': String(i * 10),
    }));
    const cat = parseCatIndices(b(JSON.stringify(rows)));
    assert.equal(cat.count, 5000);
    assert.equal(cat.indices.length, 500);
    assert.equal(cat.truncated, true);
    assert.equal(cat.totalDocs, (4999 * 5000) / 2);
    assert.equal(cat.totalBytes, ((4999 * 5000) / 2) * 10);
    assert.equal(cat.indices[0]!.name, 'idx-4999');
    assert.equal(cat.indices[499]!.name, 'idx-4500');
  });

  it('closed indices and odd counts become null, never NaN or negative', () => {
    const cat = parseCatIndices(
      b(
        JSON.stringify([
          { health: null, status: 'close', index: 'closed', 'docs.count': null, 'store.size': null },
          { index: 'neg', 'docs.count': '-5', 'store.size': '1e9' },
          { index: 'huge', 'docs.count': '99999999999999999999', 'store.size': 12 },
          { index: 'num', 'docs.count': 7, 'store.size': 3.5 },
          { status: 'open', 'docs.count': '1' },
          { index: 42 },
        ]),
      ),
    );
    assert.deepEqual(
      cat.indices.map((i) => [i.name, i.docs, i.bytes]),
      [
        ['huge', null, 12],
        ['closed', null, null],
        ['neg', null, null],
        ['num', 7, null],
      ],
    );
    assert.equal(cat.count, 4, 'rows without a string index name are not indices');
  });

  it('refuses hostile listings', () => {
    rejects(() => parseCatIndices(b('{"error":"x"}')), /JSON object, not a list/);
    rejects(() => parseCatIndices(b('[{"index":"a"}')), /truncated or malformed/);
    rejects(() => parseCatIndices(b('[{"index":"a"},')), /non-object element/);
    rejects(() => parseCatIndices(b('[{"index":"a"}] trailing')), /bytes after the JSON array/);
    rejects(() => parseCatIndices(b('[1,2]')), /non-object element/);
    rejects(() => parseCatIndices(b('[{"index":"a"')), /ends inside an element/);
    rejects(() => parseCatIndices(b(`[{"index":"${'a'.repeat(70_000)}"}]`)), /larger than 65536 bytes/);
    rejects(() => parseCatIndices(b(`[${'{"a":'.repeat(40)}1${'}'.repeat(40)}]`)), /deeper than 32/);
    rejects(() => parseCatIndices(b('<html>502 Bad Gateway</html>')), /not an index row/);
  });

  it('walks one element at a time: callbacks see every object in order', () => {
    const seen: unknown[] = [];
    forEachArrayObject('[ {"a":"]"} , {"b":"\\"}"},{"c":[1,{"d":2}]} ]', 'test', (o) => seen.push(o));
    assert.deepEqual(seen, [{ a: ']' }, { b: '"}' }, { c: [1, { d: 2 }] }]);
  });

  it('100,000 entries of 16 MiB worth of listing stay bounded: only 500 are kept', () => {
    const row = '{"health":"green","status":"open","index":"i","docs.count":"1","store.size":"1"},';
    const text = '[' + row.repeat(100_000) + '{"index":"last","docs.count":"1","store.size":"2"}]';
    const before = process.memoryUsage().heapUsed;
    const cat = parseCatIndices(b(text));
    const grew = process.memoryUsage().heapUsed - before;
    assert.equal(cat.count, 100_001);
    assert.equal(cat.indices.length, 500);
    assert.equal(cat.indices[0]!.name, 'last');
    assert.ok(grew < 64 * 1024 * 1024, `heap grew by ${grew} bytes`);
  });
});

describe('elasticsearch codec: GET /_nodes and addresses', () => {
  it('reads the captured 8.8.2 and 2.19.4 node lists', () => {
    const es = parseNodes(captured('es-8.8.2-nodes.http').body);
    assert.equal(es.count, 1);
    assert.equal(es.nodes[0]!.name, 'lockdown-es-open');
    assert.equal(es.nodes[0]!.httpAddress, '127.0.15.1:9200');
    assert.equal(es.nodes[0]!.transportAddress, '127.0.15.1:9300');
    assert.ok(es.nodes[0]!.roles.includes('master'));
    const os = parseNodes(captured('opensearch-2.19.4-nodes.http').body);
    assert.deepEqual(os.nodes[0]!.roles, ['cluster_manager', 'data', 'ingest', 'remote_cluster_client']);
    assert.deepEqual(peersOf(os.nodes).map((p) => [p.host, p.port, p.role]), [
      ['127.0.15.3', 9200, 'member'],
      ['127.0.15.3', 9300, 'transport'],
    ]);
  });

  it('reads 0.90/1.x nodes with inet[/…] addresses and http_address (documented)', () => {
    const nodes = parseNodes(legacyBody('es-0.90-nodes'));
    assert.equal(nodes.count, 2);
    assert.deepEqual(
      peersOf(nodes.nodes).map((p) => `${p.role} ${p.host}:${p.port} ${p.source}`),
      [
        'member 192.168.1.10:9200 GET /_nodes: nodes.Bz50avTCRhyyCxO7epcQEQ.http.publish_address',
        'transport 192.168.1.10:9300 GET /_nodes: nodes.Bz50avTCRhyyCxO7epcQEQ.transport_address',
        'member 192.168.1.11:9200 GET /_nodes: nodes.BJ_3KE-jSZOqnCuwNh_RGg.http.publish_address',
        'transport 192.168.1.11:9300 GET /_nodes: nodes.BJ_3KE-jSZOqnCuwNh_RGg.transport_address',
      ],
    );
  });

  it('parses every address form the server writes', () => {
    assert.deepEqual(parseAddress('10.0.0.5:9200'), { host: '10.0.0.5', port: 9200 });
    assert.deepEqual(parseAddress('es01/172.18.0.2:9200'), { host: '172.18.0.2', port: 9200 });
    assert.deepEqual(parseAddress('[::1]:9300'), { host: '::1', port: 9300 });
    assert.deepEqual(parseAddress('[fe80::1%eth0]:9300'), { host: 'fe80::1%eth0', port: 9300 });
    assert.deepEqual(parseAddress('inet[/192.168.1.10:9300]'), { host: '192.168.1.10', port: 9300 });
    assert.deepEqual(parseAddress('inet[es-1/10.1.2.3:9300]'), { host: '10.1.2.3', port: 9300 });
    assert.deepEqual(parseAddress('es-node-1:9200'), { host: 'es-node-1', port: 9200 });
    for (const bad of ['', '10.0.0.5', '10.0.0.5:0', '10.0.0.5:70000', '::1:9200', 'a b:1', '10.0.0.5:92x']) {
      assert.equal(parseAddress(bad), undefined, bad);
    }
  });

  it('caps the node list and the peers, and counts every node', () => {
    const nodes: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) nodes[`n${i}`] = { name: `n${i}`, http: { publish_address: `10.0.${i >> 8}.${i & 255}:9200` }, transport_address: `10.0.${i >> 8}.${i & 255}:9300` };
    const parsed = parseNodes(b(JSON.stringify({ nodes })));
    assert.equal(parsed.count, 1000);
    assert.equal(parsed.nodes.length, ES_LIMITS.maxNodes);
    assert.equal(peersOf(parsed.nodes).length, 2 * ES_LIMITS.maxNodes);
  });

  it('filter_path that matched nothing is an empty list; other shapes are refused', () => {
    assert.deepEqual(parseNodes(b('{}')), { nodes: [], count: 0 });
    rejects(() => parseNodes(b('{"nodes":[]}')), /no nodes object/);
    rejects(() => parseNodes(b('[]')), /not a JSON object/);
    const odd = parseNodes(b('{"nodes":{"a":5,"b":{"roles":["data",7,null],"http":{"publish_address":3}}}}'));
    assert.equal(odd.count, 2);
    assert.deepEqual(odd.nodes, [{ id: 'b', roles: ['data'] }]);
  });
});

describe('elasticsearch codec: cluster health, errors, refusals', () => {
  it('reads the captured health replies', () => {
    assert.deepEqual(parseClusterHealth(captured('es-8.8.2-cluster-health.http').body), {
      clusterName: 'lockdown-es-open',
      status: 'green',
      numberOfNodes: 1,
      numberOfDataNodes: 1,
      activePrimaryShards: 2,
      activeShards: 2,
      unassignedShards: 0,
    });
    assert.equal(parseClusterHealth(captured('opensearch-2.19.4-cluster-health.http').body).clusterName, 'lockdown-os-open');
    rejects(() => parseClusterHealth(b('{"cluster_name":"x"}')), /no status/);
  });

  it('reads Elasticsearch 8 security_exception and its realm (captured)', () => {
    const res = captured('es-8.8.2-security-401.http');
    assert.equal(res.status, 401);
    const err = parseErrorBody(res.body);
    assert.deepEqual(err, { type: 'security_exception', reason: 'missing authentication credentials for REST request [/]' });
    assert.equal(res.headers['www-authenticate'], 'Basic realm="security" charset="UTF-8", ApiKey');
    assert.equal(productFromRefusal(res.headers, err), 'Elasticsearch');
  });

  it('reads the OpenSearch security plugin refusal: plain text and its realm (captured over TLS)', () => {
    const res = captured('opensearch-2.19.4-security-401.http');
    const err = parseErrorBody(res.body);
    assert.deepEqual(err, { text: 'Unauthorized' });
    assert.equal(productFromRefusal(res.headers, err), 'OpenSearch');
    assert.equal(productFromRefusal({ 'www-authenticate': 'Basic realm="Open Distro Security"' }, err), 'OpenSearch');
  });

  it('reads Shield 1.x and hapi refusals (documented) and never throws on odd bodies', () => {
    const shield = parseErrorBody(legacyBody('shield-1.x-401'));
    assert.deepEqual(shield, { type: 'AuthenticationException[Missing authentication token]' });
    assert.equal(productFromRefusal({}, shield), 'Elasticsearch');
    assert.equal(productFromRefusal({ 'www-authenticate': 'Basic realm="shield"' }, {}), 'Elasticsearch');
    assert.deepEqual(parseErrorBody(legacyBody('hapi-401')), { type: 'Unauthorized', reason: 'Unauthorized' });
    assert.equal(productFromRefusal({ 'www-authenticate': 'Basic realm="Restricted"' }, { text: '<html>401</html>' }), undefined);
    assert.deepEqual(parseErrorBody(b('')), {});
    assert.deepEqual(parseErrorBody(b('{"error":{}}')), { text: '{"error":{}}' });
    assert.deepEqual(parseErrorBody(b('{' + '['.repeat(100))), { text: '{' + '['.repeat(100) }, 'deep junk is text, not a parse');
    assert.equal(parseErrorBody(b('x'.repeat(1_000_000))).text?.length, ES_LIMITS.maxString);
  });

  it('toCount accepts only non-negative safe integers', () => {
    assert.equal(toCount('0'), 0);
    assert.equal(toCount('123456789012345'), 123456789012345);
    assert.equal(toCount(12), 12);
    for (const bad of ['1234567890123456', '-1', '1.5', '', ' 1', '0x10', -1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN, null, {}, true]) {
      assert.equal(toCount(bad), null, String(bad));
    }
  });
});

describe('elasticsearch codec: Kibana (documented replies; Kibana cannot run here)', () => {
  it('recognises Kibana and OpenSearch Dashboards from headers and redirects', () => {
    for (const [scenario, s] of Object.entries(kibana)) {
      const root = s.replies['/']!;
      assert.equal(kibanaFromReply(root.status, root.headers), 'Kibana', scenario);
    }
    assert.equal(kibanaFromReply(302, { location: '/app/kibana' }), 'Kibana');
    assert.equal(kibanaFromReply(302, { location: 'http://10.0.0.1:5601/s/ops/spaces/enter' }), 'Kibana');
    assert.equal(kibanaFromReply(200, { 'osd-name': 'opensearch-dashboards' }), 'OpenSearch Dashboards');
    assert.equal(kibanaFromReply(302, { location: '/login?next=%2F' }), undefined, 'a login redirect alone is not Kibana');
    assert.equal(kibanaFromReply(200, { location: '/app/kibana' }), undefined, 'only a redirect counts');
    assert.equal(kibanaFromReply(200, { 'x-elastic-product': 'Elasticsearch' }), undefined);
  });

  it('reads the full 8.x/9.x status, the legacy 6.x/7.x status and the redacted one', () => {
    const full = parseKibanaStatus(b(kibana['kibana-8-open']!.replies['/api/status']!.body));
    assert.deepEqual(full, { redacted: false, overall: 'available', name: 'kibana', uuid: '5b2de169-2785-441b-ae8c-186a1936b17d', version: '9.3.0' });
    const old = parseKibanaStatus(b(kibana['kibana-6-open']!.replies['/api/status']!.body));
    assert.equal(old.overall, 'green');
    assert.equal(old.version, '6.8.23');
    assert.equal(old.redacted, false);
    assert.deepEqual(parseKibanaStatus(b(kibana['kibana-8-security']!.replies['/api/status']!.body)), { redacted: true, overall: 'available' });
    rejects(() => parseKibanaStatus(b('{"statusCode":401}')), /no status object/);
    rejects(() => parseKibanaStatus(b('<html>')), /not JSON/);
  });
});

describe('elasticsearch codec: hostile input', () => {
  it('refuses deep nesting before JSON.parse, in linear time', () => {
    assert.equal(jsonDepth('{"a":[1,{"b":"[[[["}]}', 32), 3);
    const deep = '['.repeat(5_000_000) + ']'.repeat(5_000_000);
    const started = performance.now();
    rejects(() => parseRootInfo(b(deep)), /nests deeper than 32 levels/);
    rejects(() => parseNodes(b(deep)), /nests deeper than 32 levels/);
    rejects(() => parseCatIndices(b(deep)), /non-object element|deeper than 32/);
    assert.ok(performance.now() - started < 2000, 'the scan stops at the limit');
  });

  /** Every parser either returns or throws ProtocolError (parseErrorBody never throws). */
  function exercise(buf: Buffer): void {
    for (const parse of [parseRootInfo, parseCatIndices, parseNodes, parseClusterHealth, parseKibanaStatus]) {
      try {
        parse(buf);
      } catch (err) {
        assert.ok(err instanceof ProtocolError, `${parse.name} on ${buf.toString('hex').slice(0, 200)} threw ${String(err)}`);
      }
    }
    parseErrorBody(buf);
  }

  it('fuzz: 2,000 random buffers only ever parse or throw ProtocolError', () => {
    const rand = rng(0x9200);
    const alphabet = b('{}[]",:0123456789-.eE truefalsnul\\indexdocs.countstore.sizeversionnumber\n');
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 160);
      const buf = Buffer.alloc(len);
      // Half fully random bytes, half drawn from JSON's own alphabet so the parsers go deep.
      const biased = rand() < 0.5;
      for (let j = 0; j < len; j++) buf[j] = biased ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
      exercise(buf);
    }
  });

  it('fuzz: random truncations and byte flips of captured replies', () => {
    const rand = rng(0x5eed);
    const valid = [
      captured('es-8.8.2-root.http').body,
      captured('es-8.8.2-cat-indices.http').body,
      captured('opensearch-2.19.4-nodes.http').body,
      captured('opensearch-2.19.4-cluster-health.http').body,
      captured('es-8.8.2-security-401.http').body,
      b(kibana['kibana-8-open']!.replies['/api/status']!.body),
      legacyBody('es-2.x-cat-indices-text'),
    ];
    for (let i = 0; i < 2000; i++) {
      const src = valid[i % valid.length]!;
      const buf = Buffer.from(src.subarray(0, Math.floor(rand() * (src.length + 1))));
      const flips = Math.floor(rand() * 3);
      for (let f = 0; f < flips && buf.length > 0; f++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
      exercise(buf);
    }
  });
});
