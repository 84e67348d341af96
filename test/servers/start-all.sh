#!/usr/bin/env bash
# Start every local test server (idempotent). With LOCKDOWN_SERVERS_STARTED=FILE, the names of the
# scripts that were not already running are appended to FILE so the caller can stop just those.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for s in redis memcached postgres mysql couchdb mongodb elasticsearch opensearch cassandra clickhouse influxdb etcd zookeeper; do
  out="$(bash "$HERE/$s.sh" start)"
  echo "$out"
  if [[ -n "${LOCKDOWN_SERVERS_STARTED:-}" ]] && grep -q "started" <<<"$out"; then echo "$s" >> "$LOCKDOWN_SERVERS_STARTED"; fi
done
