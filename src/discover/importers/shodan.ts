import { type AuthVerdict } from '../../core/types.js';
import { capJson, capText, compactClaim, isObject, isoTime, judgeBlock, str, strings } from './claims.js';
import { ipFromNumber, ipOf, portOf, transportOf } from './fields.js';
import { mapModule } from './module-map.js';
import { type ImportSink } from './types.js';

/**
 * Shodan banners (the Datapedia's banner specification): one per line from `shodan download` (.json.gz),
 * or inside the search API's `{"matches": [...], "total": N}` and the host API's `{"ip_str", "data": [...]}`.
 * Kept: ip_str, port, transport, product, version, hostnames, domains, org, isp, asn, location, timestamp,
 * tags, `_shodan.module`, and the product block (`redis`, `mongodb`, `elastic` …) as capped evidence.
 */

/** Product blocks Shodan adds for the databases we probe (its property name → what we call it). */
const BLOCKS: readonly (readonly [string, string])[] = [
  ['redis', 'redis'],
  ['mongodb', 'mongodb'],
  ['elastic', 'elasticsearch'],
  ['elasticsearch', 'elasticsearch'],
  ['cassandra', 'cassandra'],
  ['couchdb', 'couchdb'],
  ['memcache', 'memcached'],
  ['memcached', 'memcached'],
  ['mysql', 'mysql'],
  ['postgresql', 'postgres'],
  ['postgres', 'postgres'],
  ['clickhouse', 'clickhouse'],
  ['influxdb', 'influxdb'],
  ['etcd', 'etcd'],
  ['zookeeper', 'zookeeper'],
];

type Obj = Record<string, unknown>;

export function shodanRecord(value: unknown, line: number, sink: ImportSink): void {
  if (Array.isArray(value)) {
    for (const v of value) shodanRecord(v, line, sink);
    return;
  }
  if (!isObject(value)) {
    sink.malformed(line, 'not a JSON object');
    return;
  }
  if (Array.isArray(value.matches)) {
    // A saved page of the search API.
    value.matches.forEach((m, i) => banner(m, line, sink, `matches[${i}]`));
    return;
  }
  if (Array.isArray(value.data) && (value.ip_str !== undefined || value.ip !== undefined)) {
    // The host API: host fields once, one banner per service in `data`.
    const host: Obj = { ...value, data: undefined };
    value.data.forEach((b, i) => banner(isObject(b) ? { ...host, ...b } : b, line, sink, `data[${i}]`));
    return;
  }
  banner(value, line, sink, undefined);
}

function banner(b: unknown, line: number, sink: ImportSink, where: string | undefined): void {
  const at = where ? `${where}: ` : '';
  if (!isObject(b)) {
    sink.malformed(line, `${at}not a JSON object`);
    return;
  }
  const ip = b.ip_str !== undefined ? ipOf(b.ip_str) : b.ipv6 !== undefined ? ipOf(b.ipv6) : ipFromNumber(b.ip);
  if (!ip.ok) {
    sink.malformed(line, `${at}${ip.reason} (ip_str)`);
    return;
  }
  const port = portOf(b.port);
  if (!port.ok) {
    sink.malformed(line, `${at}${port.reason}`);
    return;
  }
  const shodanMeta = isObject(b._shodan) ? b._shodan : undefined;
  const service = str(shodanMeta?.module);
  const product = str(b.product);
  let blockKey: string | undefined;
  for (const [key] of BLOCKS) {
    if (isObject(b[key])) {
      blockKey = key;
      break;
    }
  }
  const match = mapModule({ port: port.value, ...(blockKey ? { block: blockKey } : {}), ...(product ? { product } : {}), ...(service ? { service } : {}) });
  const module = match?.module ?? null;
  const block = blockKey ? b[blockKey] : undefined;
  const data = typeof b.data === 'string' ? b.data : undefined;
  const judged = judgeBlock(module, block, [data]);
  const evidence: Obj = {};
  if (blockKey) evidence[blockKey] = capJson(block);
  // The banner text is evidence when there is no block, or when it is what the claim rests on.
  if (data && (!blockKey || judged.why?.startsWith('reply:'))) evidence.data = capText(data);
  const loc = isObject(b.location) ? b.location : undefined;
  sink.candidate({
    host: ip.value,
    port: port.value,
    transport: transportOf(b.transport),
    module,
    product: product ?? null,
    version: str(b.version) ?? null,
    claimAuth: judged.auth as AuthVerdict | null,
    claim: compactClaim({
      observedAt: isoTime(b.timestamp),
      tags: strings(b.tags),
      hostnames: strings(b.hostnames),
      domains: strings(b.domains),
      org: str(b.org),
      isp: str(b.isp),
      asn: str(b.asn),
      location: loc
        ? compactClaim({
            city: str(loc.city),
            country_code: str(loc.country_code),
            country_name: str(loc.country_name),
            latitude: typeof loc.latitude === 'number' ? loc.latitude : undefined,
            longitude: typeof loc.longitude === 'number' ? loc.longitude : undefined,
          })
        : undefined,
      service,
      moduleFrom: match?.from,
      authFrom: judged.why,
      evidence,
    }),
    line,
  });
}
