import { type AuthVerdict } from '../../core/types.js';
import { authErrorIn, capText, compactClaim, isoTime, type ClaimJudgement } from './claims.js';
import { ipOf, portOf } from './fields.js';
import { mapModule } from './module-map.js';
import { type ImportSink } from './types.js';
import { type XmlHost, type XmlPort } from './xml-hosts.js';

/**
 * nmap `-oX` (docs/nmap.dtd): every `<port>` whose `<state state="open">` becomes a candidate, with
 * product and version from `<service product= version=>` (`-sV`) and the output of the read-only NSE
 * scripts for our databases kept as capped evidence; those outputs also give the claim:
 * redis-info prints INFO fields only when INFO was answered, mongodb-databases lists databases only
 * when listDatabases was allowed, memcached-info prints stats only when `stats` was answered, the
 * couchdb scripts print what `/_all_dbs` and `/_stats` returned; an auth error in any of them is an
 * `auth_required` claim. mysql-info and cassandra-info read only the handshake: no auth claim.
 */

/** NSE scripts whose output is kept (the databases' info scripts; never the brute-force ones). */
const DB_SCRIPTS = new Set([
  'redis-info',
  'mongodb-info',
  'mongodb-databases',
  'mysql-info',
  'memcached-info',
  'cassandra-info',
  'couchdb-databases',
  'couchdb-stats',
  'pgsql-info',
]);

export function nmapXmlHost(h: XmlHost, sink: ImportSink): void {
  const addr = h.addresses.find((a) => a.addrtype !== 'mac');
  if (!addr) {
    sink.malformed(h.line, '<host> without an IP <address>');
    return;
  }
  const ip = ipOf(addr.addr);
  if (!ip.ok) {
    sink.malformed(h.line, `<address addr=…>: ${ip.reason}`);
    return;
  }
  const open = h.ports.filter((p) => p.state === 'open');
  // Hosts down, and ports closed / filtered / open|filtered, assert no service.
  sink.skipped(h.ports.length - open.length + (h.ports.length === 0 ? 1 : 0));
  for (const p of open) candidate(ip.value, h, p, sink);
}

function candidate(host: string, h: XmlHost, p: XmlPort, sink: ImportSink): void {
  const port = portOf(p.portid);
  if (!port.ok) {
    sink.malformed(p.line, `<port portid=…>: ${port.reason}`);
    return;
  }
  const svc = p.service;
  const match = mapModule({ port: port.value, ...(svc.product ? { product: svc.product } : {}), ...(svc.name ? { service: svc.name } : {}) });
  const module = match?.module ?? null;
  const scripts = p.scripts.filter((s) => DB_SCRIPTS.has(s.id));
  const judged = judgeScripts(module, scripts);
  const evidence: Record<string, string> = {};
  for (const s of scripts) evidence[s.id] = capText(s.output);
  sink.candidate({
    host,
    port: port.value,
    transport: p.protocol.toLowerCase(),
    module,
    product: svc.product ?? null,
    version: svc.version ?? versionFromScripts(scripts) ?? null,
    claimAuth: judged.auth as AuthVerdict | null,
    claim: compactClaim({
      observedAt: isoTime(h.endtime ?? h.starttime),
      hostnames: h.hostnames.length > 0 ? [...new Set(h.hostnames)] : undefined,
      service: svc.name,
      extrainfo: svc.extrainfo,
      tls: svc.tunnel === 'ssl' ? true : undefined,
      moduleFrom: match?.from,
      authFrom: judged.why,
      evidence,
    }),
    line: p.line,
  });
}

function judgeScripts(module: string | null, scripts: { id: string; output: string }[]): ClaimJudgement {
  if (module === null || scripts.length === 0) return { auth: null, why: null };
  for (const s of scripts) {
    const phrase = authErrorIn([s.output]);
    if (phrase) return { auth: 'auth_required', why: `${s.id}: ${phrase}` };
  }
  for (const s of scripts) {
    const failed = /^\s*ERROR:/m.test(s.output);
    if (failed) continue;
    if (s.id === 'redis-info' && /^\s*Version\b/m.test(s.output)) return { auth: 'open', why: 'redis-info: INFO answered' };
    if (s.id === 'mongodb-databases' && /\bname = /.test(s.output) && !/errmsg/.test(s.output)) {
      return { auth: 'open', why: 'mongodb-databases: databases listed' };
    }
    if (s.id === 'memcached-info' && /^\s*Process ID\b/m.test(s.output)) return { auth: 'open', why: 'memcached-info: stats answered' };
    if ((s.id === 'couchdb-databases' || s.id === 'couchdb-stats') && s.output.trim() !== '') {
      return { auth: 'open', why: `${s.id}: answered` };
    }
  }
  return { auth: null, why: null };
}

function versionFromScripts(scripts: { id: string; output: string }[]): string | undefined {
  for (const s of scripts) {
    const m = /^\s*Version:?\s+(\S+)/m.exec(s.output);
    if (m && (s.id === 'redis-info' || s.id === 'mysql-info' || s.id === 'cassandra-info')) return m[1];
  }
  return undefined;
}
