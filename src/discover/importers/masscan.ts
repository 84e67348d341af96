import { capText, compactClaim, isObject, isoTime, str } from './claims.js';
import { ipOf, portOf, transportOf } from './fields.js';
import { mapModule } from './module-map.js';
import { type ParsedCandidate, type ImportSink } from './types.js';
import { type XmlHost } from './xml-hosts.js';

/**
 * masscan output (its src/out-*.c writers): `-oL` lines (`open tcp 6379 10.0.0.1 1700000000`, `banner …`),
 * `-oJ` records (`{"ip", "timestamp", "ports": [{"port", "proto", "status", "reason", "ttl"}]}` inside `[`…`]`
 * with commas between records — before 1.3 after each record, ending in `{finished: 1}`), `--ndjson`
 * records (`{"ip", "timestamp", "port", "proto", "rec_type": "status"|"banner", "data": {...}}`) and `-oX`
 * (an `<nmaprun scanner="masscan">` document). masscan only says a port answered a SYN: the claim is
 * "port open", with no auth claim; a banner record adds the banner as evidence.
 */

interface MasscanPort {
  ip: string;
  port: unknown;
  proto: unknown;
  status?: string | undefined;
  service?: string | undefined;
  banner?: string | undefined;
  timestamp: unknown;
  ttl?: unknown;
  reason?: string | undefined;
}

function candidateOf(p: MasscanPort, line: number, sink: ImportSink, at: string): void {
  const ip = ipOf(p.ip);
  if (!ip.ok) {
    sink.malformed(line, `${at}${ip.reason}`);
    return;
  }
  const port = portOf(p.port);
  if (!port.ok) {
    sink.malformed(line, `${at}${port.reason}`);
    return;
  }
  if (p.status !== undefined && p.status !== 'open') {
    // `--show closed` records: nothing listens there.
    sink.skipped();
    return;
  }
  // masscan's banner names (masscan-app.c) include "unknown"; none is a product, so only the port maps.
  const service = p.service && p.service !== 'unknown' ? p.service : undefined;
  const match = mapModule({ port: port.value, ...(service ? { service } : {}) });
  const c: ParsedCandidate = {
    host: ip.value,
    port: port.value,
    transport: transportOf(p.proto),
    module: match?.module ?? null,
    product: null,
    version: null,
    claimAuth: null,
    claim: compactClaim({
      observedAt: isoTime(p.timestamp),
      service,
      reason: p.reason,
      ttl: typeof p.ttl === 'number' ? p.ttl : undefined,
      moduleFrom: match?.from,
      evidence: p.banner ? { banner: capText(p.banner) } : undefined,
    }),
    line,
  };
  sink.candidate(c);
}

/** `-oL`: `<status> <proto> <port> <ip> <epoch>` or `banner <proto> <port> <ip> <epoch> <service> <banner…>`. */
export function masscanListLine(text: string, line: number, sink: ImportSink): void {
  const t = text.trim();
  if (t === '' || t.startsWith('#')) return;
  const f = t.split(/\s+/);
  const [kind, proto, port, ip, epoch] = f;
  if (f.length < 5 || !kind || !/^(open|closed|banner)$/.test(kind)) {
    sink.malformed(line, 'not a masscan -oL line (expected "open tcp PORT IP TIME")');
    return;
  }
  if (kind === 'banner') {
    const service = f[5];
    const banner = t.split(/\s+/).slice(6).join(' ');
    candidateOf({ ip: ip as string, port, proto, timestamp: epoch, service, banner, status: 'open' }, line, sink, '');
    return;
  }
  candidateOf({ ip: ip as string, port, proto, timestamp: epoch, status: kind }, line, sink, '');
}

/** `-oJ` and `--ndjson` records. */
export function masscanJsonRecord(value: unknown, line: number, sink: ImportSink): void {
  if (Array.isArray(value)) {
    for (const v of value) masscanJsonRecord(v, line, sink);
    return;
  }
  if (!isObject(value)) {
    sink.malformed(line, 'not a JSON object');
    return;
  }
  const ip = typeof value.ip === 'string' ? value.ip : '';
  if (Array.isArray(value.ports)) {
    value.ports.forEach((p, i) => {
      if (!isObject(p)) {
        sink.malformed(line, `ports[${i}]: not a JSON object`);
        return;
      }
      const svc = isObject(p.service) ? p.service : undefined;
      candidateOf(
        {
          ip,
          port: p.port,
          proto: p.proto,
          timestamp: value.timestamp,
          status: svc ? 'open' : str(p.status),
          service: str(svc?.name),
          banner: str(svc?.banner),
          ttl: p.ttl,
          reason: str(p.reason),
        },
        line,
        sink,
        `ports[${i}]: `,
      );
    });
    return;
  }
  if (value.rec_type !== undefined) {
    const data = isObject(value.data) ? value.data : {};
    const banner = value.rec_type === 'banner';
    candidateOf(
      {
        ip,
        port: value.port,
        proto: value.proto,
        timestamp: value.timestamp,
        status: banner ? 'open' : str(data.status),
        service: banner ? str(data.service_name) : undefined,
        banner: banner ? str(data.banner) : undefined,
        ttl: data.ttl,
        reason: str(data.reason),
      },
      line,
      sink,
      '',
    );
    return;
  }
  sink.malformed(line, 'not a masscan record (no "ports" and no "rec_type")');
}

/** `-oX`: one `<host>` per open port, `<service name banner>` on banner records. */
export function masscanXmlHost(h: XmlHost, sink: ImportSink): void {
  const addr = h.addresses.find((a) => a.addrtype !== 'mac');
  if (!addr) {
    sink.malformed(h.line, '<host> without an <address>');
    return;
  }
  if (h.ports.length === 0) {
    sink.skipped();
    return;
  }
  for (const p of h.ports) {
    candidateOf(
      {
        ip: addr.addr,
        port: p.portid,
        proto: p.protocol,
        timestamp: h.endtime,
        status: p.state,
        service: p.service.name,
        banner: p.service.banner,
        reason: undefined,
      },
      p.line,
      sink,
      '',
    );
  }
}
