#!/usr/bin/env bash
# Stop local test servers by PID: all of them, or only the script names given as arguments.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
names=("$@"); [[ ${#names[@]} -gt 0 ]] || names=(redis memcached postgres mysql couchdb mongodb elasticsearch opensearch cassandra clickhouse influxdb etcd zookeeper)
for s in "${names[@]}"; do bash "$HERE/$s.sh" stop; done
