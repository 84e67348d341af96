/**
 * Plain data types shared by every stage of the pipeline
 * (targets → discover → probe → assess → store → disclose → monitor).
 * Nothing here does I/O.
 */

/**
 * Transport/protocol outcome of one probe, a closed set (after zgrab2's status.go).
 * It says how far the conversation got, not whether the data is exposed: that is `AuthVerdict`.
 */
export const ProbeStatus = {
  /** The service answered in its protocol and the module could decide. */
  success: 'success',
  /** TCP RST on connect: nothing listens there. */
  connectionRefused: 'connection-refused',
  /** No answer to the connect within the connect timeout (filtered or silent host). */
  connectionTimeout: 'connection-timeout',
  /** The peer closed or reset the connection mid-conversation. */
  connectionClosed: 'connection-closed',
  /** Connected, but the per-probe deadline passed before the protocol exchange ended. */
  ioTimeout: 'io-timeout',
  /** The reply was not the protocol the module speaks (garbage, wrong service, malformed frame). */
  protocolError: 'protocol-error',
  /** The server sent more than the per-connection read cap allowed. */
  readLimit: 'read-limit',
  /** No route / network unreachable / host unreachable. */
  unreachable: 'unreachable',
  /** The caller aborted (Ctrl-C, scan stopped). */
  cancelled: 'cancelled',
  /** Anything else: a bug or an unexpected local failure. The message is in `errors`. */
  unknownError: 'unknown-error',
} as const;
export type ProbeStatus = (typeof ProbeStatus)[keyof typeof ProbeStatus];
export const PROBE_STATUSES: readonly ProbeStatus[] = Object.values(ProbeStatus);

/**
 * Whether the data behind the service can be read without credentials. Never a bare boolean:
 * - `open`: the module read something that only an authenticated client should see
 *   (INFO keyspace, a database list, AuthenticationOk …).
 * - `auth_required`: the server demanded credentials or refused this client (the reply is in `evidence`).
 * - `inconclusive`: the service answered but the module could not tell (e.g. an unknown error reply).
 */
export const AuthVerdict = {
  open: 'open',
  authRequired: 'auth_required',
  inconclusive: 'inconclusive',
} as const;
export type AuthVerdict = (typeof AuthVerdict)[keyof typeof AuthVerdict];
export const AUTH_VERDICTS: readonly AuthVerdict[] = Object.values(AuthVerdict);

export type Transport = 'tcp' | 'http' | 'udp';

/** One network endpoint to probe. `host` is always an IP literal (v4 dotted, v6 canonical). */
export interface Target {
  host: string;
  port: number;
  /** The name the user gave, when the address came from resolving a hostname. */
  hostname?: string;
}

/** Another server the probed one names as a replication/cluster peer. */
export interface Peer {
  /** Address or name exactly as the server reported it. */
  host: string;
  port?: number;
  /** e.g. `master`, `replica`, `member`, `arbiter`. */
  role: string;
  /** Where in the reply the peer was named, e.g. `INFO replication: slave0`. */
  source: string;
}

/** The result of one probe. Every field says where its value comes from. */
export interface ProbeResult {
  /** Module name from the registry, e.g. `redis`. */
  module: string;
  target: Target;
  status: ProbeStatus;
  /** Present when the protocol answered (status `success`); otherwise undefined. */
  auth?: AuthVerdict;
  /** Product as the server names itself (e.g. `Redis`, `PostgreSQL`, `MariaDB`). */
  product?: string;
  /** Version string as the server reported it. */
  version?: string;
  /**
   * The reply that justifies the verdict, as printable text, capped (see `EVIDENCE_CAP`).
   * e.g. `-NOAUTH Authentication required.` or `AuthenticationSASL [SCRAM-SHA-256]`.
   */
  evidence?: string;
  /** Module-specific facts (keyspace, databases, sizes …). Plain JSON only. */
  metadata: Record<string, unknown>;
  peers: Peer[];
  /** Human-readable problems met on the way (sentence case). */
  errors: string[];
  /**
   * What the service holds, normalised across products (names, counts, sizes — metadata only).
   * Filled by modules that can list it; the assessment stage reads names from here.
   */
  inventory?: Inventory;
  /**
   * Redacted result of value sampling (categories, counts, field paths, masked examples). Only present
   * when the target was inside `scope.authorized` and sampling was on; never holds a clear value.
   */
  sample?: RedactedSample;
  /** Added by the assessment stage (src/assess/assess-result.ts), not by modules. */
  assessment?: FindingAssessment;
  /** Names of the allow-listed commands that went on the wire, in order. */
  commands: string[];
  bytesSent: number;
  bytesRead: number;
  /** ISO 8601 time the probe started. */
  startedAt: string;
  durationMs: number;
}

/** A normalised inventory of a service's contents (metadata only: names, counts, sizes). */
export interface Inventory {
  /** Total records (rows, documents, keys, items) when the module could count them. */
  records?: number;
  bytes?: number;
  namespaces: InventoryEntry[];
  /** True when the module stopped listing at a bound: totals are then lower bounds. */
  truncated?: boolean;
}

export type InventoryKind =
  | 'database'
  | 'schema'
  | 'collection'
  | 'table'
  | 'index'
  | 'keyspace'
  | 'bucket'
  | 'measurement'
  | 'key'
  | 'znode';

export interface InventoryEntry {
  /** Outermost to innermost name, e.g. `['shop', 'customers']`, `['db0']`, `['logs-2024']`. */
  path: string[];
  kind: InventoryKind;
  records?: number;
  bytes?: number;
  /** Field/column names when the module saw them without reading values (schemas, mappings). */
  fields?: string[];
}

/**
 * The redacted outcome of sampling, as produced by `assessSample` (src/assess): per category a count,
 * the field paths it was seen in, and one masked example. Typed loosely here so core does not depend
 * on assess; the assess layer guarantees no clear value is in it.
 */
export interface RedactedSample {
  documents: number;
  bytes: number;
  categories: Record<string, unknown>;
  /** Compromise rules that matched sampled values (ransom-note wording, planted Redis payloads); masked evidence. */
  compromise?: { ruleId: string; description: string; strength: 'strong' | 'weak'; evidence: string }[];
}

export const SEVERITY_LEVELS = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITY_LEVELS)[number];

/** What is at risk behind one finding: the assessment stage's output, stored with the finding. */
export interface FindingAssessment {
  severity: Severity;
  score: number;
  /** One line per contribution to the score, e.g. `+40 verdict open: …`. */
  reasons: string[];
  /** Sensitive-data categories, from names (`schema`) or sampled values (`sample`). */
  sensitive: { category: string; count?: number; source: 'schema' | 'sample'; paths?: string[] }[];
  compromised: boolean;
  /** Compromise rules that matched, with masked, capped evidence. */
  compromise: { ruleId: string; description: string; strength: 'strong' | 'weak'; evidence: string }[];
}

/** How much a module may sample inside the authorized scope (both ≤ the hard caps in src/assess). */
export interface SamplePlan {
  /** Documents/rows per collection/table. */
  perCollection: number;
  /** Bytes per target. */
  maxBytes: number;
  /** Collections/tables/indices per target. */
  maxCollections: number;
}

/** Evidence is for humans and notices; it never needs to be large. */
export const EVIDENCE_CAP = 1024;

/** Everything a probe may use from its caller. */
export interface ProbeContext {
  /** Aborted on Ctrl-C or when the per-probe deadline passes. */
  signal: AbortSignal;
  /** Milliseconds allowed for the TCP (or TLS) connect. */
  connectTimeoutMs: number;
  /** Milliseconds allowed for the whole probe, connect included. */
  timeoutMs: number;
  /** Hard cap on bytes read from one connection. */
  readCap: number;
  /** Who is scanning, e.g. `lockdown/0.1 (+https://example.org/scanner)`; sent where a protocol has a client-name field. */
  identity: string;
  /** Short token form of the identity for fields that forbid spaces (Redis CLIENT SETNAME). */
  clientName: string;
  /** True only when the target is inside `scope.authorized` from config: deep reads allowed. */
  authorized: boolean;
  /** True when the operator passed --check-default-credentials; still only honoured when `authorized`. */
  checkDefaultCredentials: boolean;
  /**
   * Set only when `authorized` and sampling is on: the module may read this bounded sample of values
   * with its allow-listed read commands, run it through `assessSample`, and keep only the redacted result.
   */
  sample?: SamplePlan;
}

/** The contract every protocol module implements (one folder per database under src/protocols). */
export interface Probe {
  readonly name: string;
  readonly defaultPorts: readonly number[];
  readonly transport: Transport;
  readonly description: string;
  /** Every command this module may send. `Session.send` refuses anything else. */
  readonly allowedCommands: readonly string[];
  /** Never throws: every failure becomes a `status` and `errors`. */
  probe(target: Target, ctx: ProbeContext): Promise<ProbeResult>;
}

/** A module bound to a port: one unit of scan work together with an address. */
export interface PortSpec {
  module: string;
  port: number;
}
