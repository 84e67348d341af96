#!/usr/bin/env bash
# Fetches Apache Cassandra 5.0 for the Cassandra module's tests, from Maven Central, into the lockdown cache.
# Idempotent: does nothing when the pinned version is already complete there. Never run at test time (the
# test-server script only uses what this left in the cache).
#   LOCKDOWN_CACHE_DIR  cache root (default ~/.cache/lockdown); the server lands in $LOCKDOWN_CACHE_DIR/cassandra-<ver>/lib
#   CASSANDRA_VERSION   pinned version (default 5.0.9, the newest 5.0 patch of cassandra-all on Maven Central)
#
# Why not the binary tarball: `org.apache.cassandra:apache-cassandra:5.0.x:tar.gz:bin` is not on Maven Central
# (the artifact's Central metadata stops at 4.0-alpha2; a 5.0.x tar.gz:bin lookup answers "Could not find artifact").
# The server itself is `org.apache.cassandra:cassandra-all` plus its runtime dependencies, which are all there —
# the same jars as the tarball's lib/. The tarball's bin/ scripts and conf/ are not needed: the test-server script
# (test/servers/cassandra.sh) runs CassandraDaemon with the JVM options of the tarball's conf/jvm*-server.options
# and writes each instance's own cassandra.yaml and logback.xml.
set -euo pipefail
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
: "${CASSANDRA_VERSION:=5.0.9}"
HOME_DIR="$LOCKDOWN_CACHE_DIR/cassandra-$CASSANDRA_VERSION"
MARKER="$HOME_DIR/.complete"

if [[ -f "$MARKER" && -f "$HOME_DIR/lib/cassandra-all-$CASSANDRA_VERSION.jar" ]]; then
  echo "[cassandra] $CASSANDRA_VERSION already in $HOME_DIR ($(ls "$HOME_DIR/lib" | wc -l) jars)"
  exit 0
fi
command -v mvn >/dev/null || { echo "[cassandra] needs Maven (mvn); none on PATH" >&2; exit 1; }
command -v java >/dev/null || { echo "[cassandra] needs a Java 11 or 17 runtime; none on PATH" >&2; exit 1; }

start=$(date +%s)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A throw-away POM whose only dependency is the server: dependency:copy-dependencies then copies the server jar
# and every runtime dependency (what the tarball ships in lib/) in one resolution.
cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lockdown.test</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.cassandra</groupId>
      <artifactId>cassandra-all</artifactId>
      <version>$CASSANDRA_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
rm -rf "$HOME_DIR.tmp"
mkdir -p "$HOME_DIR.tmp/lib"
echo "[cassandra] resolving org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION and its runtime dependencies from Maven Central"
if ! (cd "$work" && mvn -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$HOME_DIR.tmp/lib") >"$work/mvn.log" 2>&1; then
  tail -n 40 "$work/mvn.log" >&2
  echo "[cassandra] Maven could not resolve cassandra-all:$CASSANDRA_VERSION" >&2
  exit 1
fi
[[ -f "$HOME_DIR.tmp/lib/cassandra-all-$CASSANDRA_VERSION.jar" ]] || { echo "[cassandra] cassandra-all jar missing after resolve" >&2; exit 1; }
# Native libraries for other platforms are dead weight here.
find "$HOME_DIR.tmp/lib" -name '*-osx-*.jar' -delete -o -name '*-windows-*.jar' -delete
rm -rf "$HOME_DIR"
mv "$HOME_DIR.tmp" "$HOME_DIR"
date -u +%FT%TZ > "$MARKER"
echo "[cassandra] $CASSANDRA_VERSION ready in $HOME_DIR ($(ls "$HOME_DIR/lib" | wc -l) jars, $(du -sh "$HOME_DIR" | cut -f1)) in $(( $(date +%s) - start ))s"
