#!/usr/bin/env bash
# Fetches Elasticsearch for the elasticsearch module's tests, from Maven Central, into the lockdown cache.
# Idempotent: does nothing when the pinned version is already unpacked there. Never run at test time (the
# test-server script test/servers/elasticsearch.sh only uses what this left in the cache).
#   LOCKDOWN_CACHE_DIR     cache root (default ~/.cache/lockdown); the server lands in $LOCKDOWN_CACHE_DIR/elasticsearch-<ver>
#   ELASTICSEARCH_VERSION  pinned version (default 8.8.2)
#
# Why this artifact: the default distribution (with its bundled JDK) is not on Maven Central; the integration-test
# zip `org.elasticsearch.distribution.integ-test-zip:elasticsearch:<ver>:zip` is. In 8.8.2 it holds the server, the
# transport-netty4, x-pack-core, x-pack-security and apm modules — enough for `GET /`, the cat/nodes/cluster APIs and
# real HTTP authentication (401 + WWW-Authenticate). It has no JDK (the system Java 17 runs it), no ML and no
# ingest-geoip module (so nothing downloads GeoIP databases). From 8.9 on `GET /` moved into a module this zip
# lacks, and 9.x needs Java 21: hence 8.8.2.
set -euo pipefail
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
: "${ELASTICSEARCH_VERSION:=8.8.2}"
HOME_DIR="$LOCKDOWN_CACHE_DIR/elasticsearch-$ELASTICSEARCH_VERSION"
MARKER="$HOME_DIR/.complete"
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ELASTICSEARCH_VERSION:zip"

if [[ -f "$MARKER" && -x "$HOME_DIR/bin/elasticsearch" ]]; then
  echo "[elasticsearch] $ELASTICSEARCH_VERSION already in $HOME_DIR"
  exit 0
fi
command -v mvn >/dev/null || { echo "[elasticsearch] needs Maven (mvn); none on PATH" >&2; exit 1; }
command -v java >/dev/null || { echo "[elasticsearch] needs a Java 17 runtime; none on PATH" >&2; exit 1; }
command -v unzip >/dev/null || { echo "[elasticsearch] needs unzip; none on PATH" >&2; exit 1; }

start=$(date +%s)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "[elasticsearch] fetching $ARTIFACT from Maven Central"
# dependency:copy (plugin 3.x) takes -Dartifact without a project and writes the zip where we say.
if ! (cd "$work" && mvn -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
  -Dartifact="$ARTIFACT" -DoutputDirectory="$work/dl") >"$work/mvn.log" 2>&1; then
  tail -n 40 "$work/mvn.log" >&2
  echo "[elasticsearch] Maven could not fetch $ARTIFACT" >&2
  exit 1
fi
zip="$work/dl/elasticsearch-$ELASTICSEARCH_VERSION.zip"
[[ -f "$zip" ]] || { echo "[elasticsearch] $zip missing after the fetch" >&2; exit 1; }
unzip -q "$zip" -d "$work/unpacked"
[[ -x "$work/unpacked/elasticsearch-$ELASTICSEARCH_VERSION/bin/elasticsearch" ]] || {
  echo "[elasticsearch] the zip has no elasticsearch-$ELASTICSEARCH_VERSION/bin/elasticsearch" >&2
  exit 1
}
# The test servers run as an unprivileged user from a hard-linked copy: everything must be world-readable.
chmod -R a+rX "$work/unpacked"
mkdir -p "$LOCKDOWN_CACHE_DIR"
rm -rf "$HOME_DIR"
mv "$work/unpacked/elasticsearch-$ELASTICSEARCH_VERSION" "$HOME_DIR"
date -u +%FT%TZ > "$MARKER"
echo "[elasticsearch] $ELASTICSEARCH_VERSION ready in $HOME_DIR (modules: $(ls "$HOME_DIR/modules" | tr '\n' ' ')$(du -sh "$HOME_DIR" | cut -f1)) in $(( $(date +%s) - start ))s"
