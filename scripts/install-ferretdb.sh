#!/usr/bin/env bash
# Builds FerretDB (a MongoDB-wire-protocol server on an embedded pure-Go SQLite) for the MongoDB module's
# tests, from the Go module proxy, into the lockdown cache. Idempotent: does nothing when the binary of the
# pinned version is already there. Never run at test time (the test-server script only uses the binary).
#   LOCKDOWN_CACHE_DIR   cache root (default ~/.cache/lockdown); the binary lands in $LOCKDOWN_CACHE_DIR/ferretdb-<ver>/bin
#   FERRETDB_VERSION     pinned module version (default v1.24.2)
#   FERRETDB_GOTOOLCHAIN toolchain for the build (default: the local `go` when it builds FerretDB; see below)
set -euo pipefail
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
: "${FERRETDB_VERSION:=v1.24.2}"
BIN_DIR="$LOCKDOWN_CACHE_DIR/ferretdb-$FERRETDB_VERSION/bin"
BIN="$BIN_DIR/ferretdb"

if [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; then
  echo "[ferretdb] $FERRETDB_VERSION already built at $BIN"
  exit 0
fi
command -v go >/dev/null || { echo "[ferretdb] needs Go (go install); none on PATH" >&2; exit 1; }

mkdir -p "$BIN_DIR"
echo "[ferretdb] building github.com/FerretDB/FerretDB/cmd/ferretdb@$FERRETDB_VERSION with $(go version) (a few minutes)"
start=$(date +%s)
# GOTOOLCHAIN: FerretDB 1.24's go.mod asks for an older Go than the local one, which is fine ("local" builds it);
# set FERRETDB_GOTOOLCHAIN=go1.24.3 to have the go command fetch that toolchain from the module proxy instead.
GOBIN="$BIN_DIR" GOTOOLCHAIN="${FERRETDB_GOTOOLCHAIN:-local}" GOFLAGS="${GOFLAGS:-} -trimpath" \
  go install "github.com/FerretDB/FerretDB/cmd/ferretdb@$FERRETDB_VERSION"
"$BIN" --version >/dev/null
echo "[ferretdb] built $BIN in $(( $(date +%s) - start ))s"
