import { PROBES } from '../../protocols/registry.js';

/**
 * Maps what a source called a service (product name, service/protocol name, port) to one of our module
 * names. Names of modules that are still being added are listed too, so candidates imported today are
 * verified by those modules the day they land (verification skips modules the registry does not have).
 */

/** Keywords in product / service names, checked in order. */
const NAME_RULES: readonly (readonly [RegExp, string])[] = [
  [/\bredis\b/i, 'redis'],
  [/mongo/i, 'mongodb'],
  [/elastic|opensearch/i, 'elasticsearch'],
  [/postgres|pgsql/i, 'postgres'],
  [/mysql|mariadb|percona/i, 'mysql'],
  [/memcache/i, 'memcached'],
  [/cassandra|scylla/i, 'cassandra'],
  [/couchdb/i, 'couchdb'],
  [/clickhouse/i, 'clickhouse'],
  [/influx/i, 'influxdb'],
  [/\betcd\b/i, 'etcd'],
  [/zookeeper/i, 'zookeeper'],
];

/** Default ports of the modules not (yet) in the registry; the registry's own ports come first. */
const EXTRA_DEFAULT_PORTS: ReadonlyMap<number, string> = new Map([
  [27017, 'mongodb'],
  [9200, 'elasticsearch'],
  [9042, 'cassandra'],
  [5984, 'couchdb'],
  [8123, 'clickhouse'],
  [8086, 'influxdb'],
  [2379, 'etcd'],
  [2181, 'zookeeper'],
]);

export type ModuleSource = 'block' | 'product' | 'service' | 'port';

export interface ModuleMatch {
  module: string;
  from: ModuleSource;
}

/** Module whose name appears in `text`, if any. */
export function moduleFromName(text: string | undefined | null): string | undefined {
  if (!text) return undefined;
  for (const [re, name] of NAME_RULES) if (re.test(text)) return name;
  return undefined;
}

/** Module that owns `port` by default, if any. */
export function moduleFromPort(port: number): string | undefined {
  for (const p of PROBES) if (p.defaultPorts.includes(port)) return p.name;
  return EXTRA_DEFAULT_PORTS.get(port);
}

/** Service names that identify nothing (masscan/nmap when no probe matched). */
const GENERIC_SERVICES = new Set(['', 'unknown', 'tcpwrapped', 'none']);
/** …and those that only say "HTTP", which our HTTP-speaking modules share. */
const HTTP_SERVICES = new Set(['http', 'https', 'http-alt', 'http-proxy', 'ssl/http', 'ssl', 'tls']);
const HTTP_MODULES = new Set(['elasticsearch', 'couchdb', 'clickhouse', 'influxdb', 'etcd']);

/**
 * The best match: a product block the source filled (`block`) beats the product name, which beats the
 * service name, which beats the port. The port decides only when the source named no product and no
 * specific service: nmap saying `ssh` on 6379 is not Redis, and neither is a named product that matches
 * no module (an nginx in front of port 9200 is nginx).
 */
export function mapModule(hints: { block?: string; product?: string; service?: string; port: number }): ModuleMatch | null {
  const byBlock = moduleFromName(hints.block);
  if (byBlock) return { module: byBlock, from: 'block' };
  const byProduct = moduleFromName(hints.product);
  if (byProduct) return { module: byProduct, from: 'product' };
  const byService = moduleFromName(hints.service);
  if (byService) return { module: byService, from: 'service' };
  if (hints.product) return null;
  const byPort = moduleFromPort(hints.port);
  if (!byPort) return null;
  const service = (hints.service ?? '').toLowerCase();
  if (GENERIC_SERVICES.has(service) || (HTTP_SERVICES.has(service) && HTTP_MODULES.has(byPort))) return { module: byPort, from: 'port' };
  return null;
}
