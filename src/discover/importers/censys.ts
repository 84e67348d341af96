import { type AuthVerdict } from '../../core/types.js';
import { capJson, compactClaim, isObject, isoTime, judgeBlock, str, strings } from './claims.js';
import { ipOf, portOf, transportOf } from './fields.js';
import { mapModule } from './module-map.js';
import { type ImportSink } from './types.js';

/**
 * Censys host records (the host data definitions: `ip`, `services[]` with `port`, `service_name`,
 * `extended_service_name`, `transport_protocol`, `software[]`, `labels`, and a per-protocol object named
 * after the service, e.g. `redis`, `mongodb`, `elasticsearch`), one host per line (BigQuery/bulk exports),
 * or wrapped by the Search API v2 (`{"result": {"hits": [...]}}`, `{"result": <host>}`) or the Platform
 * API (`{"result": {"resource": <host>}}`, where a service names its protocol in `protocol`).
 * Every service becomes a candidate; those that map to no module keep `module: null`.
 */

type Obj = Record<string, unknown>;

export function censysRecord(value: unknown, line: number, sink: ImportSink): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => host(v, line, sink, `[${i}]`));
    return;
  }
  if (!isObject(value)) {
    sink.malformed(line, 'not a JSON object');
    return;
  }
  const result = isObject(value.result) ? value.result : undefined;
  if (result && Array.isArray(result.hits)) {
    result.hits.forEach((h, i) => host(h, line, sink, `result.hits[${i}]`));
    return;
  }
  if (result && isObject(result.resource)) return host(result.resource, line, sink, 'result.resource');
  if (result && result.ip !== undefined) return host(result, line, sink, 'result');
  if (Array.isArray(value.hits)) {
    value.hits.forEach((h, i) => host(h, line, sink, `hits[${i}]`));
    return;
  }
  if (isObject(value.resource)) return host(value.resource, line, sink, 'resource');
  host(value, line, sink, undefined);
}

function host(h: unknown, line: number, sink: ImportSink, where: string | undefined): void {
  const at = where ? `${where}: ` : '';
  if (!isObject(h)) {
    sink.malformed(line, `${at}not a JSON object`);
    return;
  }
  const ip = ipOf(h.ip);
  if (!ip.ok) {
    sink.malformed(line, `${at}${ip.reason} (ip)`);
    return;
  }
  if (!Array.isArray(h.services) || h.services.length === 0) {
    // A host Censys knows but with no service observed: nothing to import.
    sink.skipped();
    return;
  }
  const as = isObject(h.autonomous_system) ? h.autonomous_system : undefined;
  const loc = isObject(h.location) ? h.location : undefined;
  const coords = loc && isObject(loc.coordinates) ? loc.coordinates : undefined;
  const dns = isObject(h.dns) ? h.dns : undefined;
  const reverse = dns && isObject(dns.reverse_dns) ? dns.reverse_dns : undefined;
  const hostnames = [...(strings(dns?.names) ?? []), ...(strings(reverse?.names) ?? [])];
  const common = {
    hostnames: hostnames.length > 0 ? [...new Set(hostnames)] : undefined,
    asn: typeof as?.asn === 'number' ? `AS${as.asn}` : str(as?.asn),
    org: str(as?.name) ?? str(as?.description),
    location: loc
      ? compactClaim({
          city: str(loc.city),
          country_code: str(loc.country_code),
          country_name: str(loc.country),
          latitude: typeof coords?.latitude === 'number' ? coords.latitude : undefined,
          longitude: typeof coords?.longitude === 'number' ? coords.longitude : undefined,
        })
      : undefined,
  };
  const hostLabels = labelsOf(h.labels);
  const hostSeen = isoTime(h.last_updated_at);

  h.services.forEach((s, i) => {
    const sat = `${at}services[${i}]: `;
    if (!isObject(s)) {
      sink.malformed(line, `${sat}not a JSON object`);
      return;
    }
    const port = portOf(s.port);
    if (!port.ok) {
      sink.malformed(line, `${sat}${port.reason}`);
      return;
    }
    const serviceName = str(s.service_name) ?? str(s.protocol) ?? str(s.extended_service_name);
    const software = Array.isArray(s.software) ? s.software.filter(isObject) : [];
    const sw = software.find((x) => str(x.product)) as Obj | undefined;
    const swProduct = str(sw?.product);
    const blockKey = serviceName ? serviceName.toLowerCase() : undefined;
    const block = blockKey && isObject(s[blockKey]) ? s[blockKey] : undefined;
    const match = mapModule({ port: port.value, ...(block ? { block: blockKey } : {}), ...(swProduct ? { product: swProduct } : {}), ...(serviceName ? { service: serviceName } : {}) });
    const module = match?.module ?? null;
    const judged = judge(module, block, s);
    const evidence: Obj = {};
    if (block && blockKey) evidence[blockKey] = capJson(block);
    const tags = [...(hostLabels ?? []), ...(labelsOf(s.labels) ?? [])];
    sink.candidate({
      host: ip.value,
      port: port.value,
      transport: transportOf(s.transport_protocol),
      module,
      product: swProduct ?? null,
      version: versionOf(module, block) ?? str(sw?.version) ?? null,
      claimAuth: judged.auth as AuthVerdict | null,
      claim: compactClaim({
        observedAt: isoTime(s.observed_at) ?? hostSeen,
        tags: tags.length > 0 ? [...new Set(tags)] : undefined,
        ...common,
        service: serviceName,
        extendedService: str(s.extended_service_name),
        moduleFrom: match?.from,
        authFrom: judged.why,
        evidence,
      }),
      line,
    });
  });
}

/** Censys labels are strings (v2) or `{value: …}` objects (Platform). */
function labelsOf(v: unknown): string[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out = v.map((x) => (typeof x === 'string' ? x : isObject(x) ? str(x.value) : undefined)).filter((x): x is string => Boolean(x));
  return out.length > 0 ? out : undefined;
}

/** Censys fills its per-protocol objects from zgrab2-style grabs: the same field names, plus HTTP status for HTTP products. */
function judge(module: string | null, block: Obj | undefined, service: Obj) {
  const texts: string[] = [];
  if (block) {
    for (const k of ['ping_response', 'info_response', 'auth_response', 'error', 'errmsg', 'message']) {
      const v = block[k];
      if (typeof v === 'string') texts.push(v);
    }
  }
  const judged = judgeBlock(module, block, texts);
  if (judged.auth !== null || module === null) return judged;
  const http = isObject(service.http) ? service.http : undefined;
  const response = http && isObject(http.response) ? http.response : undefined;
  const status = response?.status_code;
  if (status === 401 || status === 403) return { auth: 'auth_required' as const, why: `HTTP ${status}` };
  return judged;
}

function versionOf(module: string | null, block: Obj | undefined): string | undefined {
  if (!block) return undefined;
  const direct = str(block.version);
  if (direct) return direct;
  if (module === 'mongodb' && isObject(block.build_info)) return str(block.build_info.version);
  if (module === 'postgres' && isObject(block.server_parameters)) return str(block.server_parameters.server_version);
  return undefined;
}
