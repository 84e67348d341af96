#!/usr/bin/env bash
# Builds FerretDB (a MongoDB-wire-protocol server on an embedded pure-Go SQLite) for the MongoDB module's
# tests, from the Go module proxy, into the lockdown cache. Idempotent: does nothing when the binary of the
# pinned version is already there and runs. Never run at test time (test/servers/mongodb.sh only uses the binary).
#   LOCKDOWN_CACHE_DIR   cache root (default ~/.cache/lockdown); everything lands in $LOCKDOWN_CACHE_DIR/ferretdb-<ver>/
#   FERRETDB_VERSION     pinned module version (default v1.24.2)
#   FERRETDB_GOTOOLCHAIN toolchain for the build (default `local`; FerretDB 1.24 needs Go >= 1.24 — set it to
#                        go1.24.3 to have the go command fetch that toolchain from the module proxy when the local Go is older)
#
# Why not a plain `go install …/cmd/ferretdb@v1.24.2`: the published module lacks build/version/version.txt
# (FerretDB's release tooling generates it from `git describe`), and the binary then panics at start-up.
# So: download the module source from the proxy, add version.txt, and `go build` inside it.
set -euo pipefail
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
: "${FERRETDB_VERSION:=v1.24.2}"
MODULE=github.com/FerretDB/FerretDB
ROOT="$LOCKDOWN_CACHE_DIR/ferretdb-$FERRETDB_VERSION"
BIN="$ROOT/bin/ferretdb"
export GOTOOLCHAIN="${FERRETDB_GOTOOLCHAIN:-local}"

if [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; then
  echo "[ferretdb] $FERRETDB_VERSION already built at $BIN"
  exit 0
fi
command -v go >/dev/null || { echo "[ferretdb] needs Go (the go command); none on PATH" >&2; exit 1; }

start=$(date +%s)
echo "[ferretdb] downloading $MODULE@$FERRETDB_VERSION from the Go module proxy ($(go version))"
dir="$(go mod download -json "$MODULE@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -n "$dir" && -d "$dir" ]] || { echo "[ferretdb] go mod download did not report a source directory" >&2; exit 1; }

# The module cache is read-only: build from a private copy.
rm -rf "$ROOT/src"
mkdir -p "$ROOT/bin"
cp -r "$dir" "$ROOT/src"
chmod -R u+w "$ROOT/src"
printf '%s\n' "$FERRETDB_VERSION" > "$ROOT/src/build/version/version.txt"
printf 'lockdown-cache\n' > "$ROOT/src/build/version/package.txt"

echo "[ferretdb] building cmd/ferretdb (a few minutes on 2 cores)"
(cd "$ROOT/src" && go build -trimpath -o "$BIN" ./cmd/ferretdb)
"$BIN" --version >/dev/null
rm -rf "$ROOT/src"
echo "[ferretdb] built $BIN ($("$BIN" --version 2>&1 | grep -m1 -i version || true)) in $(( $(date +%s) - start ))s"
