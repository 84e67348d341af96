#!/usr/bin/env bash
# Installs every real server the tests and the demo use: Debian packages first, then the servers that
# come from other registries (npm, Maven Central, the Go module proxy), cached under
# ${LOCKDOWN_CACHE_DIR:-~/.cache/lockdown}. Idempotent: a second run only checks.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$HERE/install-system-deps.sh"
for s in couchdb ferretdb elasticsearch opensearch cassandra; do
  start=$(date +%s)
  bash "$HERE/install-$s.sh"
  echo "[install] $s ready in $(( $(date +%s) - start ))s"
done
