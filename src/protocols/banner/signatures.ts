/**
 * Pure recognisers for the HTTP replies of data stores the banner module labels: each looks at one reply
 * (status, headers, body) and returns a `Recognition` when the reply names its product, else undefined.
 * No I/O. Every signature below is taken from the product's own source or documentation (the fixtures in
 * test/fixtures/banner/README.md name them).
 */
import { type HttpResponse } from '../../net/http.js';
import { printable } from '../../net/probe-run.js';

/**
 * How sure a label is: `high` when the reply names the product (a title, its JSON keys, its auth realm),
 * `medium` when only the product's wire protocol answered (Bolt, Kafka: other products speak it too),
 * `low` when the port and a generic hint are all there is.
 */
export type Confidence = 'high' | 'medium' | 'low';

export interface Recognition {
  product: string;
  version?: string;
  confidence: Confidence;
  /** One line that justifies the label, quoting the reply. */
  evidence: string;
  /** Set when the reply shows more than a banner was reachable without credentials. */
  exposure?: string;
  /** The `WWW-Authenticate` challenge, when the service asked for credentials. */
  authentication?: string;
  metadata: Record<string, unknown>;
  peers?: { host: string; port?: number; role: string; source: string }[];
}

/** Only the head of a page is looked at: titles and asset links live there. */
const HTML_SCAN = 64 * 1024;

/** The text of the first `<title>`, whitespace collapsed, at most 256 characters. */
export function htmlTitle(body: Buffer): string | undefined {
  const head = body.subarray(0, HTML_SCAN).toString('latin1');
  const m = /<title[^>]*>([^<]{0,256})<\/title>/i.exec(head);
  return m ? m[1]!.replace(/\s+/g, ' ').trim() : undefined;
}

/** The body as a JSON object, or undefined when it is not one. */
export function jsonObject(body: Buffer): Record<string, unknown> | undefined {
  const text = body.toString('utf8').trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? printable(v, 256) : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function challenge(res: HttpResponse): string | undefined {
  const h = res.headers['www-authenticate'];
  return h === undefined ? undefined : printable(h, 256);
}

function serverHeader(res: HttpResponse): string | undefined {
  const h = res.headers.server;
  return h === undefined ? undefined : printable(h, 256);
}

function withServer(meta: Record<string, unknown>, res: HttpResponse): Record<string, unknown> {
  const server = serverHeader(res);
  return server === undefined ? meta : { ...meta, server };
}

// ------------------------------------------------------------------ GET / recognisers

/** Hadoop's HDFS web UI: `index.html` titled "Hadoop Administration" (apache/hadoop webapps/hdfs/index.html). */
export function recognizeHadoop(res: HttpResponse, port: number): Recognition | undefined {
  const title = htmlTitle(res.body);
  if (res.status === 200 && title !== undefined && /\bhadoop\b/i.test(title)) {
    return {
      product: 'Apache Hadoop HDFS',
      confidence: 'high',
      evidence: `GET / answered ${res.status}: <title>${title}</title>`,
      exposure: 'web UI answered without credentials',
      metadata: withServer({ title, component: HADOOP_PORTS.has(port) ? 'NameNode web UI' : 'web UI' }, res),
    };
  }
  // With Kerberos (SPNEGO) on, the UI answers 401 Negotiate and its page names no product: a port-based guess.
  const auth = challenge(res);
  if (res.status === 401 && HADOOP_PORTS.has(port) && auth !== undefined && /^Negotiate\b/i.test(auth)) {
    return {
      product: 'Apache Hadoop HDFS',
      confidence: 'low',
      evidence: `GET / answered 401 with WWW-Authenticate: ${auth} on the NameNode web UI port ${port}`,
      authentication: auth,
      metadata: withServer({ component: 'NameNode web UI', productBasis: `port ${port} and a SPNEGO challenge; the page names no product` }, res),
    };
  }
  return undefined;
}

export const HADOOP_PORTS: ReadonlySet<number> = new Set([9870, 50070]);

/**
 * RethinkDB's administration console: `<title>RethinkDB Administration Console</title>`; every asset link
 * carries the server's version as `?v=<version>` (seen in a reply captured from RethinkDB 2.4.1).
 */
export function recognizeRethinkdb(res: HttpResponse): Recognition | undefined {
  const title = htmlTitle(res.body);
  if (res.status !== 200 || title === undefined || !/RethinkDB Administration Console/i.test(title)) return undefined;
  const head = res.body.subarray(0, HTML_SCAN).toString('latin1');
  const v = /\?v=([0-9][0-9A-Za-z.+-]{0,63})["']/.exec(head);
  const rec: Recognition = {
    product: 'RethinkDB',
    confidence: 'high',
    evidence: `GET / answered ${res.status}: <title>${title}</title>`,
    // The web UI has no login of its own: whoever reaches it works as the admin user.
    exposure: 'admin web UI answered without credentials (it has no login and acts as the admin user)',
    metadata: withServer({ title }, res),
  };
  if (v) rec.version = v[1]!;
  return rec;
}

/** Neo4j's HTTP discovery document (`GET /`, JSON): `neo4j_version`, `neo4j_edition`, `bolt_routing`/`bolt_direct`. */
export function recognizeNeo4j(res: HttpResponse): Recognition | undefined {
  if (res.status !== 200) return undefined;
  const doc = jsonObject(res.body);
  if (!doc) return undefined;
  const version = str(doc.neo4j_version);
  const boltRouting = str(doc.bolt_routing);
  const boltDirect = str(doc.bolt_direct);
  const transaction = str(doc.transaction);
  if (version === undefined && !((boltRouting !== undefined || boltDirect !== undefined) && transaction !== undefined)) return undefined;
  const meta: Record<string, unknown> = {};
  const edition = str(doc.neo4j_edition);
  if (edition !== undefined) meta.edition = edition;
  if (boltRouting !== undefined) meta.boltRouting = boltRouting;
  if (boltDirect !== undefined) meta.boltDirect = boltDirect;
  if (transaction !== undefined) meta.transaction = transaction;
  const query = str(doc.query);
  if (query !== undefined) meta.query = query;
  const rec: Recognition = {
    product: 'Neo4j',
    confidence: 'high',
    // The discovery document is public by design; it says nothing about access to the data.
    evidence: `GET / answered ${res.status} with the Neo4j discovery document${version ? `: neo4j_version ${version}` : ''}${edition ? `, edition ${edition}` : ''}`,
    metadata: withServer(meta, res),
  };
  if (version !== undefined) rec.version = version;
  return rec;
}

export const ROOT_RECOGNIZERS: readonly ((res: HttpResponse, port: number) => Recognition | undefined)[] = [
  recognizeHadoop,
  (res) => recognizeRethinkdb(res),
  (res) => recognizeNeo4j(res),
];

// ------------------------------------------------------------------ product-specific paths

/** Riak KV: `GET /ping` answers `OK` from Webmachine on MochiWeb (`Server: MochiWeb/1.1 WebMachine/…`). */
export function recognizeRiak(res: HttpResponse): Recognition | undefined {
  const server = serverHeader(res);
  if (res.status !== 200 || res.body.toString('latin1').trim() !== 'OK') return undefined;
  if (server === undefined || !/MochiWeb|WebMachine/i.test(server)) return undefined;
  return {
    product: 'Riak KV',
    confidence: 'high',
    evidence: `GET /ping answered ${res.status} "OK" from Server: ${server}`,
    metadata: { server },
  };
}

/**
 * Couchbase Server: `GET /pools` answers JSON with `implementationVersion` and `componentsVersion.ns_server`;
 * refused, it answers 401 `WWW-Authenticate: Basic realm="Couchbase Server Admin / REST"`, and every ns_server
 * reply carries `Server: Couchbase Server` (couchbase/ns_server menelaus_util.erl).
 */
export function recognizeCouchbase(res: HttpResponse): Recognition | undefined {
  const server = serverHeader(res);
  const auth = challenge(res);
  const doc = res.status === 200 ? jsonObject(res.body) : undefined;
  const components = obj(doc?.componentsVersion);
  const version = str(doc?.implementationVersion);
  if (doc && (version !== undefined || str(components?.ns_server) !== undefined)) {
    const meta: Record<string, unknown> = {};
    if (typeof doc.isAdminCreds === 'boolean') meta.isAdminCreds = doc.isAdminCreds;
    if (typeof doc.isEnterprise === 'boolean') meta.isEnterprise = doc.isEnterprise;
    const uuid = str(doc.uuid);
    if (uuid !== undefined) meta.clusterUuid = uuid;
    const nsServer = str(components?.ns_server);
    if (nsServer !== undefined) meta.nsServerVersion = nsServer;
    const pools = Array.isArray(doc.pools) ? doc.pools.map((p) => str(obj(p)?.name)).filter((n): n is string => n !== undefined) : [];
    if (pools.length > 0) meta.pools = pools.slice(0, 16);
    const rec: Recognition = {
      product: 'Couchbase Server',
      confidence: 'high',
      evidence: `GET /pools answered ${res.status} with implementationVersion ${version ?? '(none)'}`,
      exposure: 'cluster information endpoint answered without credentials',
      metadata: withServer(meta, res),
    };
    if (version !== undefined) rec.version = version;
    return rec;
  }
  const couchbaseRealm = auth !== undefined && /Couchbase Server/i.test(auth);
  const couchbaseServer = server !== undefined && /^Couchbase Server\b/i.test(server);
  if ((res.status === 401 || res.status === 403) && (couchbaseRealm || couchbaseServer)) {
    const rec: Recognition = {
      product: 'Couchbase Server',
      confidence: 'high',
      evidence: `GET /pools answered ${res.status}${auth ? ` with WWW-Authenticate: ${auth}` : ''}${server ? ` from Server: ${server}` : ''}`,
      metadata: withServer({}, res),
    };
    if (auth !== undefined) rec.authentication = auth;
    // Couchbase 2.x put its version in the Server header ("Couchbase Server 2.1.1-764-rel-community").
    const v = server !== undefined ? /^Couchbase Server ([0-9][\w.+-]*)/i.exec(server) : null;
    if (v) rec.version = v[1]!;
    return rec;
  }
  return undefined;
}

/**
 * RabbitMQ management plugin: `GET /api/overview` refused with 401 `WWW-Authenticate: Basic realm="RabbitMQ
 * Management"` (rabbit_mgmt.hrl `AUTH_REALM`) and `{"error":"not_authorized",…}`, or answered 200 JSON with
 * `rabbitmq_version`/`management_version`.
 */
export function recognizeRabbitmq(res: HttpResponse): Recognition | undefined {
  const auth = challenge(res);
  const doc = jsonObject(res.body);
  if (res.status === 200 && doc && (str(doc.rabbitmq_version) !== undefined || str(doc.management_version) !== undefined)) {
    const meta: Record<string, unknown> = {};
    const fields: [string, string][] = [
      ['management_version', 'managementVersion'],
      ['cluster_name', 'clusterName'],
      ['erlang_version', 'erlangVersion'],
      ['node', 'node'],
    ];
    for (const [from, to] of fields) {
      const v = str(doc[from]);
      if (v !== undefined) meta[to] = v;
    }
    const totals = obj(doc.object_totals);
    if (totals) {
      const counts: Record<string, number> = {};
      for (const [k, v] of Object.entries(totals)) if (typeof v === 'number' && Number.isFinite(v)) counts[k] = v;
      meta.objectTotals = counts;
    }
    const version = str(doc.rabbitmq_version);
    const rec: Recognition = {
      product: 'RabbitMQ',
      confidence: 'high',
      evidence: `GET /api/overview answered ${res.status}: rabbitmq_version ${version ?? '(none)'}, management_version ${str(doc.management_version) ?? '(none)'}`,
      exposure: 'unauthenticated admin API answered (management HTTP API)',
      metadata: withServer(meta, res),
    };
    if (version !== undefined) rec.version = version;
    return rec;
  }
  if ((res.status === 401 || res.status === 403) && auth !== undefined && /RabbitMQ Management/i.test(auth)) {
    const meta: Record<string, unknown> = {};
    const error = str(doc?.error);
    const reason = str(doc?.reason);
    if (error !== undefined) meta.error = error;
    if (reason !== undefined) meta.reason = reason;
    return {
      product: 'RabbitMQ',
      confidence: 'high',
      evidence: `GET /api/overview answered ${res.status} with WWW-Authenticate: ${auth}${doc ? ` ${printable(res.body, 160)}` : ''}`,
      authentication: auth,
      metadata: withServer(meta, res),
    };
  }
  return undefined;
}

/**
 * Apache Solr: `GET /solr/admin/info/system?wt=json` answers JSON with `lucene["solr-spec-version"]`, `mode`
 * (`std`/`solrcloud`) and, in SolrCloud, `zkHost`; with an authentication plugin it answers 401
 * `WWW-Authenticate: Basic realm="solr"` (or `xBasic`); other refusals come in Solr's JSON error envelope
 * (`responseHeader.status` + `error.msg`).
 */
export function recognizeSolr(res: HttpResponse): Recognition | undefined {
  const auth = challenge(res);
  const doc = res.status === 200 ? jsonObject(res.body) : undefined;
  const lucene = obj(doc?.lucene);
  const version = str(lucene?.['solr-spec-version']);
  if (doc && version !== undefined) {
    const meta: Record<string, unknown> = {};
    const mode = str(doc.mode);
    if (mode !== undefined) meta.mode = mode;
    const luceneVersion = str(lucene?.['lucene-spec-version']);
    if (luceneVersion !== undefined) meta.luceneVersion = luceneVersion;
    const impl = str(lucene?.['solr-impl-version']);
    if (impl !== undefined) meta.solrImplVersion = impl;
    const solrHome = str(doc.solr_home);
    if (solrHome !== undefined) meta.solrHome = solrHome;
    const jvm = str(obj(doc.jvm)?.version);
    if (jvm !== undefined) meta.jvmVersion = jvm;
    const zkHost = str(doc.zkHost);
    if (zkHost !== undefined) meta.zkHost = zkHost;
    const rec: Recognition = {
      product: 'Apache Solr',
      version,
      confidence: 'high',
      evidence: `GET /solr/admin/info/system answered ${res.status}: solr-spec-version ${version}${mode ? `, mode ${mode}` : ''}`,
      exposure: 'unauthenticated admin API answered (Solr ships without authentication)',
      metadata: withServer(meta, res),
    };
    const peers = zkHost !== undefined ? zookeeperPeers(zkHost) : [];
    if (peers.length > 0) rec.peers = peers;
    return rec;
  }
  if ((res.status === 401 || res.status === 403) && auth !== undefined && /realm="solr"/i.test(auth)) {
    return {
      product: 'Apache Solr',
      confidence: 'high',
      evidence: `GET /solr/admin/info/system answered ${res.status} with WWW-Authenticate: ${auth}`,
      authentication: auth,
      metadata: withServer({}, res),
    };
  }
  // Solr's own error envelope (`responseHeader.status` + `error.msg`), e.g. a 403 from its authorization plugin.
  const envelope = res.status !== 200 ? jsonObject(res.body) : undefined;
  const header = obj(envelope?.responseHeader);
  const msg = str(obj(envelope?.error)?.msg);
  if (header && typeof header.status === 'number' && msg !== undefined) {
    return {
      product: 'Apache Solr',
      confidence: 'high',
      evidence: `GET /solr/admin/info/system answered ${res.status} with Solr's error envelope: ${msg}`,
      metadata: withServer({ error: msg }, res),
    };
  }
  return undefined;
}

/** SolrCloud's `zkHost` (`h1:2181,h2:2181/chroot`) as ZooKeeper peers. */
export function zookeeperPeers(zkHost: string): NonNullable<Recognition['peers']> {
  const slash = zkHost.indexOf('/');
  const list = slash === -1 ? zkHost : zkHost.slice(0, slash);
  const peers: NonNullable<Recognition['peers']> = [];
  for (const item of list.split(',').slice(0, 32)) {
    const m = /^\s*(\[[^\]]+\]|[^:\s]+)(?::(\d{1,5}))?\s*$/.exec(item);
    if (!m) continue;
    const peer: NonNullable<Recognition['peers']>[number] = { host: m[1]!.replace(/^\[|\]$/g, ''), role: 'zookeeper', source: 'GET /solr/admin/info/system: zkHost' };
    if (m[2] !== undefined && Number(m[2]) <= 65535) peer.port = Number(m[2]);
    peers.push(peer);
  }
  return peers;
}
