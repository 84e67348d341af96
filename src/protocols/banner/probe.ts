/**
 * The "label, don't probe further" module: on the well-known ports of data stores lockdown has no full
 * module for, one request (or none beyond a handshake) is enough to name the product, so `findings` shows
 * them as `inconclusive` with the product named instead of missing them. Which single exchange runs is
 * chosen by the target port (`BANNER_CHECKS`); every exact request is on the allow-list (`BANNER_COMMANDS`,
 * paths in `BANNER_HTTP_PATHS`):
 *
 * | port(s)      | product                     | the one exchange                                          |
 * |--------------|-----------------------------|-----------------------------------------------------------|
 * | 9870, 50070  | Hadoop HDFS NameNode web UI | `GET /` — title "Hadoop Administration" (JMX not read)    |
 * | 8080         | RethinkDB admin console     | `GET /` — title "RethinkDB Administration Console"        |
 * | 7474         | Neo4j HTTP                  | `GET /` — discovery JSON (`neo4j_version`, `bolt_routing`) |
 * | 7687         | Neo4j Bolt                  | Bolt handshake: magic + 4 proposals → 4-byte version      |
 * | 8098         | Riak KV                     | `GET /ping` — `OK` from MochiWeb/WebMachine               |
 * | 8091         | Couchbase Server            | `GET /pools` — `implementationVersion`, or its 401 realm  |
 * | 3000         | Aerospike                   | one info message asking `build` and `edition`             |
 * | 9092         | Apache Kafka                | ApiVersions v0 (no Metadata request)                      |
 * | 15672        | RabbitMQ management         | `GET /api/overview` — 401 realm or `rabbitmq_version`     |
 * | 8983         | Apache Solr                 | `GET /solr/admin/info/system?wt=json`, or its 401 realm   |
 * | any other    | (whatever `GET /` names)    | `GET /` — the Hadoop, RethinkDB and Neo4j recognisers     |
 *
 * RethinkDB's driver port 28015 is deliberately not covered: the server says nothing until the client sends
 * its V1_0 magic, and sending it would be probing further; a silent port named "RethinkDB" by its number
 * alone would be a guess, not a finding. The admin console on 8080 is what this module labels instead.
 *
 * Why the verdict is always `inconclusive`: the module stops at the banner. Even where a reply shows more
 * than a banner was reachable without credentials (a RabbitMQ or Solr admin API answering 200, an open
 * RethinkDB console), it reads nothing further, so it cannot say what data is exposed; it says so in
 * `metadata.exposure` for a human (or a future full module) to follow up.
 *
 * Result fields and their sources:
 * - `auth`: `inconclusive` whenever a product was recognised (see above).
 * - `product` / `version`: from the reply (see `signatures.ts` for each source: titles, JSON keys, Server
 *   headers, the Aerospike `build` value); Bolt and Kafka name the protocol's reference product.
 * - `evidence`: one line quoting the reply that named the product.
 * - `metadata.check`: which exchange ran (`http-root`, `riak-ping`, `couchbase-pools`, `rabbitmq-overview`,
 *   `solr-system`, `bolt-handshake`, `aerospike-info`, `kafka-apiversions`); `metadata.confidence`
 *   (`high` = the reply names the product, `medium` = only its wire protocol answered, `low` = port + hint);
 *   `metadata.exposure` (set only when more than a banner answered without credentials);
 *   `metadata.authentication` (the `WWW-Authenticate` challenge when the service asked for credentials);
 *   plus product facts (edition, Bolt version, Kafka API versions, Solr mode, RabbitMQ cluster name …).
 * - `peers`: SolrCloud's ZooKeeper ensemble from `zkHost` (role `zookeeper`); none otherwise.
 * - A reply that names none of these products ends as `protocol-error` with what was seen in `metadata`
 *   (`httpStatus`, `server`, `title`).
 */
import { ProtocolError } from '../../core/errors.js';
import { AuthVerdict, type Probe, type ProbeResult } from '../../core/types.js';
import { httpCommandName, type HttpResponse } from '../../net/http.js';
import { printable, runProbe, type ProbeRun } from '../../net/probe-run.js';
import {
  AEROSPIKE_INFO_NAMES,
  BOLT_PROPOSALS,
  KAFKA_CORRELATION_ID,
  boltReplyDecoder,
  decodeAerospikeInfo,
  encodeAerospikeInfo,
  encodeBoltHandshake,
  encodeKafkaApiVersions,
  kafkaApiVersionsDecoder,
  type KafkaApiVersionsReply,
} from './codec.js';
import {
  ROOT_RECOGNIZERS,
  htmlTitle,
  recognizeCouchbase,
  recognizeRabbitmq,
  recognizeRiak,
  recognizeSolr,
  type Recognition,
} from './signatures.js';

/** Exact paths (query included) of the HTTP requests this module sends. */
export const BANNER_HTTP_PATHS = {
  root: '/',
  riakPing: '/ping',
  couchbasePools: '/pools',
  rabbitmqOverview: '/api/overview',
  solrSystem: '/solr/admin/info/system?wt=json',
} as const;

/** The allow-list: every request this module may put on the wire. */
export const BANNER_COMMANDS = {
  root: httpCommandName('GET', BANNER_HTTP_PATHS.root),
  riakPing: httpCommandName('GET', BANNER_HTTP_PATHS.riakPing),
  couchbasePools: httpCommandName('GET', BANNER_HTTP_PATHS.couchbasePools),
  rabbitmqOverview: httpCommandName('GET', BANNER_HTTP_PATHS.rabbitmqOverview),
  solrSystem: httpCommandName('GET', BANNER_HTTP_PATHS.solrSystem),
  boltHandshake: 'BOLT HANDSHAKE',
  aerospikeInfo: 'AEROSPIKE INFO build edition',
  kafkaApiVersions: 'KAFKA ApiVersions v0',
} as const;

type HttpKey = keyof typeof BANNER_HTTP_PATHS;

export type BannerCheck =
  | { id: string; kind: 'http'; request: HttpKey; recognize: (res: HttpResponse, port: number) => Recognition | undefined }
  | { id: 'bolt-handshake'; kind: 'bolt' }
  | { id: 'aerospike-info'; kind: 'aerospike' }
  | { id: 'kafka-apiversions'; kind: 'kafka' };

const ROOT_CHECK: BannerCheck = {
  id: 'http-root',
  kind: 'http',
  request: 'root',
  recognize: (res, port) => {
    for (const r of ROOT_RECOGNIZERS) {
      const rec = r(res, port);
      if (rec) return rec;
    }
    return undefined;
  },
};

/** Which exchange runs on which port; any other port gets `ROOT_CHECK`. */
export const BANNER_CHECKS: ReadonlyMap<number, BannerCheck> = new Map<number, BannerCheck>([
  [9870, ROOT_CHECK],
  [50070, ROOT_CHECK],
  [8080, ROOT_CHECK],
  [7474, ROOT_CHECK],
  [7687, { id: 'bolt-handshake', kind: 'bolt' }],
  [8098, { id: 'riak-ping', kind: 'http', request: 'riakPing', recognize: (res) => recognizeRiak(res) }],
  [8091, { id: 'couchbase-pools', kind: 'http', request: 'couchbasePools', recognize: (res) => recognizeCouchbase(res) }],
  [3000, { id: 'aerospike-info', kind: 'aerospike' }],
  [9092, { id: 'kafka-apiversions', kind: 'kafka' }],
  [15672, { id: 'rabbitmq-overview', kind: 'http', request: 'rabbitmqOverview', recognize: (res) => recognizeRabbitmq(res) }],
  [8983, { id: 'solr-system', kind: 'http', request: 'solrSystem', recognize: (res) => recognizeSolr(res) }],
]);

export function bannerCheckForPort(port: number): BannerCheck {
  return BANNER_CHECKS.get(port) ?? ROOT_CHECK;
}

export const bannerProbe: Probe = {
  name: 'banner',
  // 8080 is every other web server's port too: probed only when asked (`-p banner:8080`), so a scan
  // without -p does not turn each web app on 8080 into a finding.
  defaultPorts: [...BANNER_CHECKS.keys()].filter((p) => p !== 8080),
  transport: 'tcp',
  description:
    'Other data stores, labelled from one banner exchange without probing further: Hadoop HDFS, RethinkDB, Neo4j (HTTP, Bolt), Riak, Couchbase, Aerospike, Kafka, RabbitMQ management, Solr',
  allowedCommands: Object.values(BANNER_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(bannerProbe, target, ctx, probeBanner),
};

async function probeBanner(run: ProbeRun): Promise<void> {
  const check = bannerCheckForPort(run.target.port);
  run.result.metadata.check = check.id;
  switch (check.kind) {
    case 'http':
      return httpCheck(run, check.request, check.recognize);
    case 'bolt':
      return boltCheck(run);
    case 'aerospike':
      return aerospikeCheck(run);
    case 'kafka':
      return kafkaCheck(run);
  }
}

async function httpCheck(run: ProbeRun, request: HttpKey, recognize: (res: HttpResponse, port: number) => Recognition | undefined): Promise<void> {
  const command = BANNER_COMMANDS[request];
  const res = await run.http(command, { method: 'GET', path: BANNER_HTTP_PATHS[request] });
  const rec = recognize(res, run.target.port);
  if (rec) {
    record(run, rec);
    return;
  }
  // Keep what was seen, so a human can tell a web server from a data store this module does not know.
  const meta = run.result.metadata;
  meta.httpStatus = res.status;
  if (res.headers.server !== undefined) meta.server = printable(res.headers.server, 256);
  const title = htmlTitle(res.body);
  if (title !== undefined) meta.title = title;
  throw new ProtocolError(`${command} answered HTTP ${res.status} but named none of the data stores this module labels on port ${run.target.port}`);
}

async function boltCheck(run: ProbeRun): Promise<void> {
  const session = await run.connect();
  session.send(BANNER_COMMANDS.boltHandshake, encodeBoltHandshake(BOLT_PROPOSALS));
  const reply = await session.read(boltReplyDecoder(BOLT_PROPOSALS));
  session.close();
  const basis = 'Bolt handshake (Memgraph and other Bolt servers answer it the same way)';
  if (reply.kind === 'none') {
    record(run, {
      product: 'Neo4j',
      confidence: 'medium',
      evidence: 'Bolt handshake answered 00 00 00 00: a Bolt server sharing none of the proposed versions',
      metadata: { noCommonBoltVersion: true, productBasis: basis },
    });
    return;
  }
  const version = `${reply.major}.${reply.minor}`;
  record(run, {
    product: 'Neo4j',
    confidence: 'medium',
    evidence: `Bolt handshake answered: server chose protocol version ${version}`,
    metadata: { boltVersion: version, productBasis: basis },
  });
}

async function aerospikeCheck(run: ProbeRun): Promise<void> {
  const session = await run.connect();
  session.send(BANNER_COMMANDS.aerospikeInfo, encodeAerospikeInfo(AEROSPIKE_INFO_NAMES));
  const info = await session.read(decodeAerospikeInfo);
  session.close();
  const build = info.get('build');
  const edition = info.get('edition');
  const meta: Record<string, unknown> = {};
  if (edition) meta.edition = printable(edition, 128);
  const answered = build !== undefined && /^[0-9]/.test(build);
  if (!answered && build !== undefined) meta.buildReply = printable(build, 128);
  const rec: Recognition = {
    product: 'Aerospike',
    confidence: 'high',
    evidence: `Info protocol answered: ${[...info].map(([k, v]) => `${k}=${v}`).join(', ') || '(no values)'}`.slice(0, 512),
    metadata: meta,
  };
  if (answered) {
    rec.version = printable(build, 64);
    rec.exposure = 'info protocol answered without credentials';
  }
  record(run, rec);
}

async function kafkaCheck(run: ProbeRun): Promise<void> {
  const session = await run.connect();
  session.send(BANNER_COMMANDS.kafkaApiVersions, encodeKafkaApiVersions(run.ctx.clientName, KAFKA_CORRELATION_ID));
  const reply: KafkaApiVersionsReply = await session.read(kafkaApiVersionsDecoder(KAFKA_CORRELATION_ID));
  session.close();
  const keys = new Set(reply.apiVersions.map((a) => a.apiKey));
  record(run, {
    product: 'Apache Kafka',
    confidence: 'medium',
    evidence: `ApiVersions v0 answered: error code ${reply.errorCode}, ${reply.apiVersions.length} APIs`,
    metadata: {
      productBasis: 'Kafka wire protocol (Redpanda and other Kafka-compatible brokers answer the same way)',
      errorCode: reply.errorCode,
      apiKeyCount: reply.apiVersions.length,
      // SaslHandshake (17) offered: the broker can authenticate clients; it does not say it requires it.
      saslHandshake: keys.has(17),
      apiVersions: reply.apiVersions.slice(0, 128),
    },
  });
}

function record(run: ProbeRun, rec: Recognition): void {
  const r = run.result;
  r.auth = AuthVerdict.inconclusive;
  r.product = rec.product;
  if (rec.version !== undefined) r.version = rec.version;
  const meta: Record<string, unknown> = { ...r.metadata, confidence: rec.confidence, ...rec.metadata };
  if (rec.exposure !== undefined) meta.exposure = rec.exposure;
  if (rec.authentication !== undefined) meta.authentication = rec.authentication;
  r.metadata = meta;
  if (rec.peers) r.peers.push(...rec.peers);
  run.setEvidence(rec.evidence);
}
