import { type Probe } from '../core/types.js';
import { bannerProbe } from './banner/probe.js';
import { cassandraProbe } from './cassandra/probe.js';
import { clickhouseProbe } from './clickhouse/probe.js';
import { couchdbProbe } from './couchdb/probe.js';
import { elasticsearchProbe } from './elasticsearch/probe.js';
import { etcdProbe } from './etcd/probe.js';
import { influxdbProbe } from './influxdb/probe.js';
import { kibanaProbe } from './kibana/probe.js';
import { memcachedProbe } from './memcached/probe.js';
import { mongodbProbe } from './mongodb/probe.js';
import { mssqlProbe } from './mssql/probe.js';
import { mysqlProbe } from './mysql/probe.js';
import { postgresProbe } from './postgres/probe.js';
import { redisProbe } from './redis/probe.js';
import { zookeeperProbe } from './zookeeper/probe.js';

/**
 * The explicit list of protocol modules (zgrab2's default_modules.go model).
 * Adding a database = a folder under src/protocols and one line here; see README "Add a module".
 */
export const PROBES: readonly Probe[] = [
  redisProbe,
  postgresProbe,
  mysqlProbe,
  memcachedProbe,
  mongodbProbe,
  elasticsearchProbe,
  kibanaProbe,
  cassandraProbe,
  couchdbProbe,
  clickhouseProbe,
  influxdbProbe,
  etcdProbe,
  zookeeperProbe,
  mssqlProbe,
  // Last: it labels many products by port, and probeForPort takes the first module that claims a port.
  bannerProbe,
];

const byName = new Map(PROBES.map((p) => [p.name, p]));

export function getProbe(name: string): Probe | undefined {
  return byName.get(name);
}

/** The module whose default ports include `port`, if any. */
export function probeForPort(port: number): Probe | undefined {
  return PROBES.find((p) => p.defaultPorts.includes(port));
}
