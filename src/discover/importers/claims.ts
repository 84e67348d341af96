import { EVIDENCE_CAP, type AuthVerdict } from '../../core/types.js';

/**
 * What a source's own record says about authentication, judged the same way for every format: strong
 * evidence that data was read (`open`), an explicit refusal (`auth_required`), or nothing (`null`).
 * The sources' field names differ (Shodan's camelCase blocks, zgrab2's and Censys's snake_case results),
 * so each check accepts the documented spellings of all three.
 */

/** Replies that mean "credentials needed" or "not you", in the words the servers themselves use. */
const AUTH_ERROR_PATTERNS: readonly RegExp[] = [
  /NOAUTH/, // Redis: -NOAUTH Authentication required.
  /WRONGPASS/, // Redis 6+
  /-DENIED\b/, // Redis protected mode
  /\bauthentication required\b/i,
  /\brequires authentication\b/i, // MongoDB: command listDatabases requires authentication
  /\bnot authori[sz]ed\b/i, // MongoDB: not authorized on admin to execute command
  /\bunauthori[sz]ed\b/i, // CouchDB {"error":"unauthorized"}, MongoDB codeName Unauthorized, HTTP 401
  /\bsecurity_exception\b/, // Elasticsearch with security on
  /\bmissing authentication credentials\b/i, // Elasticsearch
  /CLIENT_ERROR unauthenticated/, // memcached with SASL / -Y
  /\bpassword authentication failed\b/i, // PostgreSQL
  /\bno pg_hba\.conf entry\b/i, // PostgreSQL
  /\bAccess denied for user\b/i, // MySQL 1045
  /\bis not allowed to connect to this (MySQL|MariaDB) server\b/i, // MySQL 1130
];

/** The first auth-error phrase in `texts`, or undefined. */
export function authErrorIn(texts: readonly (string | undefined | null)[]): string | undefined {
  for (const text of texts) {
    if (!text) continue;
    for (const p of AUTH_ERROR_PATTERNS) {
      const m = p.exec(text);
      if (m) return m[0];
    }
  }
  return undefined;
}

export interface ClaimJudgement {
  auth: AuthVerdict | null;
  /** Why, in a few words, naming the field that decided (kept in the claim as `authFrom`). */
  why: string | null;
}

type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmptyObject(v: unknown): boolean {
  return isObject(v) && Object.keys(v).length > 0;
}

function nonEmptyArray(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0;
}

function get(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** Redis INFO section names as Shodan keys its `redis` block. */
const REDIS_INFO_SECTIONS = ['keyspace', 'server', 'clients', 'memory', 'stats', 'replication', 'persistence', 'cpu'];

/** MySQL errors that refuse this client before any login: 1130 host not allowed, 1045 access denied. */
const MYSQL_REFUSALS = new Set([1045, 1130]);

/**
 * Judge one product block (Shodan's `redis`/`mongodb`/`elastic`… property, zgrab2's `result`, Censys's
 * per-protocol object) plus free texts known to carry server replies (Shodan's `data`, zgrab2's `error`,
 * an nmap script's output). Evidence that data was read wins over an error phrase, because error words
 * can also appear inside data (a key or index named "unauthorized").
 */
export function judgeBlock(module: string | null, block: unknown, texts: readonly (string | undefined | null)[] = []): ClaimJudgement {
  if (module === null) return { auth: null, why: null };
  const open = (why: string): ClaimJudgement => ({ auth: 'open', why });
  const refused = (why: string): ClaimJudgement => ({ auth: 'auth_required', why });
  if (block !== undefined && block !== null) {
    switch (module) {
      case 'redis': {
        const info = get(block, 'info_response');
        if (typeof info === 'string' && info !== '' && !/^\(error/i.test(info) && !authErrorIn([info])) return open('INFO answered (info_response)');
        if (isObject(block) && REDIS_INFO_SECTIONS.some((k) => nonEmptyObject(block[k]))) return open('INFO sections present');
        break;
      }
      case 'mongodb': {
        if (get(block, 'authentication') === true) return refused('authentication: true');
        for (const path of [['listDatabases', 'databases'], ['database_info', 'databases'], ['list_databases', 'databases']]) {
          if (nonEmptyArray(get(block, ...path))) return open(`${path.join('.')} listed`);
        }
        if (get(block, 'authentication') === false) return open('authentication: false');
        break;
      }
      case 'elasticsearch': {
        for (const k of ['indices', 'nodes', 'cluster', 'cluster_info', 'node_info', 'system_info']) {
          if (nonEmptyObject(get(block, k)) || nonEmptyArray(get(block, k))) return open(`${k} read`);
        }
        break;
      }
      case 'memcached': {
        if (nonEmptyObject(get(block, 'stats')) || typeof get(block, 'pid') === 'number' || typeof get(block, 'curr_items') === 'number') {
          return open('stats answered');
        }
        break;
      }
      case 'cassandra': {
        if (nonEmptyArray(get(block, 'keyspaces'))) return open('keyspaces listed');
        break;
      }
      case 'couchdb': {
        if (nonEmptyArray(get(block, 'dbs')) || nonEmptyArray(get(block, 'all_dbs'))) return open('databases listed');
        break;
      }
      case 'postgres': {
        const mode = get(block, 'authentication_mode', 'mode');
        if (mode === 'ok') return open('authentication_mode: ok');
        if (typeof mode === 'string' && mode !== '') return refused(`authentication_mode: ${mode}`);
        break;
      }
      case 'mysql': {
        const code = get(block, 'error_code') ?? get(block, 'error', 'parsed', 'error_code');
        if (typeof code === 'number' && MYSQL_REFUSALS.has(code)) return refused(`error_code ${code}`);
        break;
      }
      default:
        break;
    }
  }
  const phrase = authErrorIn(texts);
  if (phrase) return refused(`reply: ${phrase}`);
  return { auth: null, why: null };
}

/** Text capped for evidence; the marker says that something was cut. */
export function capText(text: string, cap = EVIDENCE_CAP): string {
  return text.length <= cap ? text : `${text.slice(0, cap)}… [${text.length - cap} more characters]`;
}

/** A JSON value as capped evidence text (never throws, whatever the value). */
export function capJson(value: unknown, cap = EVIDENCE_CAP): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return capText(text, cap);
}

/** A claim object without its empty fields, so millions of candidates stay small. */
export function compactClaim(claim: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(claim)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (isObject(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function strings(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.filter((x): x is string => typeof x === 'string' && x !== '');
  return out.length > 0 ? out : undefined;
}

/** A time the source gave (ISO text, with or without zone, or epoch seconds) as ISO 8601 UTC; else undefined. */
export function isoTime(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return new Date(v * 1000).toISOString();
  if (typeof v !== 'string' || v === '') return undefined;
  if (/^\d{9,11}$/.test(v)) return new Date(Number(v) * 1000).toISOString();
  // Shodan writes UTC without a zone ("2021-01-28T07:21:33.444507").
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
