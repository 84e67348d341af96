#!/usr/bin/env bash
# Installs the CouchDB stand-in for the CouchDB module's tests: PouchDB Server (npm `pouchdb-server`, a
# CouchDB-1.x-like HTTP API on Node), from the npm registry, into the lockdown cache — never into the
# project's own node_modules or package.json. Idempotent: does nothing when the pinned version is there.
# Never run at test time (test/servers/couchdb.sh only uses what this installed).
#   LOCKDOWN_CACHE_DIR       cache root (default ~/.cache/lockdown); lands in $LOCKDOWN_CACHE_DIR/pouchdb-server-<ver>/
#   POUCHDB_SERVER_VERSION   pinned version (default 4.2.0)
#
# Why not Apache CouchDB itself: Debian 12 has no couchdb package and its release tarballs are on no
# registry this machine reaches. The module's parsing of real CouchDB 3 replies is tested against the
# documented replies in test/fixtures/couchdb/ instead.
#
# --ignore-scripts: the tests run pouchdb-server --in-memory (memdown), which needs neither of the two
# native add-ons that have install scripts (sqlite3, leveldown — leveldown ships prebuilt binaries anyway);
# skipping them keeps the install at ~20 s instead of a node-gyp build of sqlite3.
set -euo pipefail
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
: "${POUCHDB_SERVER_VERSION:=4.2.0}"
ROOT="$LOCKDOWN_CACHE_DIR/pouchdb-server-$POUCHDB_SERVER_VERSION"
BIN="$ROOT/node_modules/pouchdb-server/bin/pouchdb-server"

installed_version() {
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$ROOT/node_modules/pouchdb-server/package.json" 2>/dev/null || true
}

if [[ -f "$BIN" && "$(installed_version)" == "$POUCHDB_SERVER_VERSION" ]]; then
  echo "[couchdb] pouchdb-server $POUCHDB_SERVER_VERSION already installed at $ROOT"
  exit 0
fi
command -v node >/dev/null || { echo "[couchdb] needs Node.js (node); none on PATH" >&2; exit 1; }
command -v npm >/dev/null || { echo "[couchdb] needs npm; none on PATH" >&2; exit 1; }

start=$(date +%s)
echo "[couchdb] installing pouchdb-server@$POUCHDB_SERVER_VERSION from the npm registry into $ROOT"
rm -rf "$ROOT"
mkdir -p "$ROOT"
# A package.json of its own, so npm installs here and never walks up into a project.
printf '{"name":"lockdown-pouchdb-server","private":true}\n' > "$ROOT/package.json"
npm install --prefix "$ROOT" --no-audit --no-fund --no-save --ignore-scripts --loglevel=error \
  "pouchdb-server@$POUCHDB_SERVER_VERSION"
[[ -f "$BIN" && "$(installed_version)" == "$POUCHDB_SERVER_VERSION" ]] || {
  echo "[couchdb] npm finished but $BIN is missing" >&2
  exit 1
}
echo "[couchdb] installed pouchdb-server $(installed_version) at $ROOT in $(( $(date +%s) - start ))s"
