#!/usr/bin/env bash
# Fetches OpenSearch and its security plugin for the elasticsearch module's tests, from Maven Central, into the
# lockdown cache. Idempotent: does nothing when the pinned version is already complete there. Never run at test
# time (test/servers/opensearch.sh only uses what this left in the cache).
#   LOCKDOWN_CACHE_DIR   cache root (default ~/.cache/lockdown)
#   OPENSEARCH_VERSION   pinned version (default 2.19.4)
# It leaves two trees:
#   $LOCKDOWN_CACHE_DIR/opensearch-<ver>           the integration-test zip as shipped (no plugins): security off
#   $LOCKDOWN_CACHE_DIR/opensearch-<ver>-security  the same plus org.opensearch.plugin:opensearch-security:<ver>.0,
#                                                  installed offline from the cached zip, with the plugin's demo
#                                                  configuration applied (demo TLS certificates, HTTPS on, the
#                                                  internal user database with an `admin` user)
#
# Why 2.19.4: it is the newest 2.19 patch for which Maven Central has both the integration-test zip
# (org.opensearch.distribution.integ-test-zip:opensearch) and the security plugin of the exact same version
# (its version must match the server's to install). 2.19.6 is on Central but opensearch-security 2.19.6.0 and
# 2.19.5.0 are not; the security plugin's Central metadata lists 2.19.3.0 and 2.19.4.0 in the 2.19 line.
set -euo pipefail
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
: "${OPENSEARCH_VERSION:=2.19.4}"
# Only used by the demo installer (it refuses weak passwords); the tests never log in.
: "${OPENSEARCH_ADMIN_PASSWORD:=Lockdown-OS-pw-9}"
PLAIN="$LOCKDOWN_CACHE_DIR/opensearch-$OPENSEARCH_VERSION"
SECURE="$LOCKDOWN_CACHE_DIR/opensearch-$OPENSEARCH_VERSION-security"
SERVER_ARTIFACT="org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip"
PLUGIN_ARTIFACT="org.opensearch.plugin:opensearch-security:$OPENSEARCH_VERSION.0:zip"

if [[ -f "$PLAIN/.complete" && -f "$SECURE/.complete" ]]; then
  echo "[opensearch] $OPENSEARCH_VERSION (plain and with security) already in $LOCKDOWN_CACHE_DIR"
  exit 0
fi
command -v mvn >/dev/null || { echo "[opensearch] needs Maven (mvn); none on PATH" >&2; exit 1; }
command -v java >/dev/null || { echo "[opensearch] needs a Java 17 runtime; none on PATH" >&2; exit 1; }
command -v unzip >/dev/null || { echo "[opensearch] needs unzip; none on PATH" >&2; exit 1; }
JAVA_HOME_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"

start=$(date +%s)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for artifact in "$SERVER_ARTIFACT" "$PLUGIN_ARTIFACT"; do
  echo "[opensearch] fetching $artifact from Maven Central"
  if ! (cd "$work" && mvn -B org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
    -Dartifact="$artifact" -DoutputDirectory="$work/dl") >"$work/mvn.log" 2>&1; then
    tail -n 40 "$work/mvn.log" >&2
    echo "[opensearch] Maven could not fetch $artifact" >&2
    exit 1
  fi
done
server_zip="$work/dl/opensearch-$OPENSEARCH_VERSION.zip"
plugin_zip="$work/dl/opensearch-security-$OPENSEARCH_VERSION.0.zip"
unzip -q "$server_zip" -d "$work/plain"
[[ -x "$work/plain/opensearch-$OPENSEARCH_VERSION/bin/opensearch" ]] || {
  echo "[opensearch] the zip has no opensearch-$OPENSEARCH_VERSION/bin/opensearch" >&2
  exit 1
}
cp -a "$work/plain/opensearch-$OPENSEARCH_VERSION" "$work/secure"

echo "[opensearch] installing the security plugin offline from the cached zip"
if ! OPENSEARCH_JAVA_HOME="$JAVA_HOME_DIR" "$work/secure/bin/opensearch-plugin" install --batch "file://$plugin_zip" >"$work/plugin.log" 2>&1; then
  tail -n 40 "$work/plugin.log" >&2
  echo "[opensearch] opensearch-plugin install failed" >&2
  exit 1
fi
echo "[opensearch] applying the security plugin's demo configuration (demo certificates, HTTPS on)"
# -y: no prompts; -i: initialise the security index from config/opensearch-security on first start;
# -s: skip when already applied. It appends the plugin settings to config/opensearch.yml.
if ! OPENSEARCH_INITIAL_ADMIN_PASSWORD="$OPENSEARCH_ADMIN_PASSWORD" OPENSEARCH_JAVA_HOME="$JAVA_HOME_DIR" \
  bash "$work/secure/plugins/opensearch-security/tools/install_demo_configuration.sh" -y -i -s >"$work/demo.log" 2>&1; then
  cat "$work/demo.log" >&2
  echo "[opensearch] the security demo configuration failed" >&2
  exit 1
fi
grep -q '^plugins.security.ssl.http.enabled: true' "$work/secure/config/opensearch.yml" || {
  echo "[opensearch] the demo configuration did not turn HTTPS on" >&2
  exit 1
}
# The test servers run as an unprivileged user from hard-linked copies: everything must be world-readable
# (each instance copies config/ into its own directory, so the demo keys stay private there).
chmod -R a+rX "$work/plain" "$work/secure"
mkdir -p "$LOCKDOWN_CACHE_DIR"
rm -rf "$PLAIN" "$SECURE"
mv "$work/plain/opensearch-$OPENSEARCH_VERSION" "$PLAIN"
mv "$work/secure" "$SECURE"
date -u +%FT%TZ > "$PLAIN/.complete"
date -u +%FT%TZ > "$SECURE/.complete"
echo "[opensearch] $OPENSEARCH_VERSION ready in $PLAIN and $SECURE ($(du -sh "$PLAIN" | cut -f1) + $(du -sh "$SECURE" | cut -f1)) in $(( $(date +%s) - start ))s"
