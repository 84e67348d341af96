#!/usr/bin/env bash
# OpenSearch test servers (2.19.4 integration-test zip from Maven Central, installed by
# scripts/install-opensearch.sh), single-node, run as the unprivileged user lockdown-test, on loopback:
#   os-open  on $OPENSEARCH_OPEN_HOST:$OPENSEARCH_PORT: no security plugin (plain HTTP, every API open)
#   os-tls   on $OPENSEARCH_AUTH_HOST:$OPENSEARCH_PORT: the opensearch-security plugin of the same version with its
#            demo configuration: HTTPS only (demo certificates) and HTTP basic authentication, so an anonymous
#            request gets 401 + WWW-Authenticate, and a plain-HTTP request gets no HTTP answer at all
# Each start begins from empty data: the tests seed what they assert.
# Usage: test/servers/opensearch.sh start|stop   (idempotent; by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Not (yet) in servers.env; the tests use the same defaults.
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
: "${OPENSEARCH_VERSION:=2.19.4}"
: "${OPENSEARCH_OPEN_HOST:=127.0.15.3}"
: "${OPENSEARCH_AUTH_HOST:=127.0.15.4}"
: "${OPENSEARCH_PORT:=9200}"
: "${OPENSEARCH_TRANSPORT_PORT:=9300}"
: "${OPENSEARCH_HEAP:=-Xms256m -Xmx512m}"
OS_USER=lockdown-test

# os_home FLAVOUR — the server's hard-linked copy outside the (possibly private) cache, readable by $OS_USER.
os_home() {
  local suffix="$1" cache copy
  cache="$LOCKDOWN_CACHE_DIR/opensearch-$OPENSEARCH_VERSION$suffix"
  copy="$LOCKDOWN_SERVERS_DIR/opensearch-$OPENSEARCH_VERSION$suffix"
  if [[ ! -f "$cache/.complete" ]]; then
    echo "[servers] OpenSearch $OPENSEARCH_VERSION is not installed in $cache; run scripts/install-opensearch.sh" >&2
    return 1
  fi
  if ! cmp -s "$cache/.complete" "$copy/.complete"; then
    rm -rf "$copy"
    cp -al "$cache" "$copy" 2>/dev/null || { rm -rf "$copy"; cp -a "$cache" "$copy"; }
    chmod -R a+rX "$copy"
  fi
  echo "$copy"
}

# os_run NAME HOME HOST URL STATUS [-E setting=value …] — one foreground node with its own config, data and logs.
os_run() {
  local name="$1" home="$2" host="$3" url="$4" want="$5" dir
  shift 5
  dir="$(srv_dir "$name")"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  rm -rf "$dir/config" "$dir/data" "$dir/logs"
  mkdir -p "$dir/data" "$dir/logs"
  cp -a "$home/config" "$dir/config"
  # jvm.options names data/ and logs/ relative to the install dir (bin/opensearch cds there): make them ours.
  sed -i "s#HeapDumpPath=data#HeapDumpPath=$dir/data#; s#ErrorFile=logs/#ErrorFile=$dir/logs/#; s#file=logs/gc.log#file=$dir/logs/gc.log#; s#^8:-Xloggc:logs/#8:-Xloggc:$dir/logs/#" \
    "$dir/config/jvm.options"
  local started=$SECONDS
  srv_start "$name" --as "$OS_USER" -- env OPENSEARCH_JAVA_HOME="$(java_home)" OPENSEARCH_PATH_CONF="$dir/config" \
    OPENSEARCH_JAVA_OPTS="$OPENSEARCH_HEAP" "$home/bin/opensearch" \
    -E cluster.name="lockdown-$name" -E node.name="lockdown-$name" \
    -E network.host="$host" -E http.port="$OPENSEARCH_PORT" -E transport.port="$OPENSEARCH_TRANSPORT_PORT" \
    -E discovery.type=single-node -E path.data="$dir/data" -E path.logs="$dir/logs" "$@"
  wait_http "$name" "$url" "$want"
  echo "[servers] $name answers on $host:$OPENSEARCH_PORT after $((SECONDS - started)) s"
}

case "${1:-}" in
  start)
    id "$OS_USER" >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin "$OS_USER" 2>/dev/null || id "$OS_USER" >/dev/null
    plain="$(os_home '')"
    secure="$(os_home -security)"
    # One JVM at a time: the second starts once the first answers.
    os_run os-open "$plain" "$OPENSEARCH_OPEN_HOST" "http://$OPENSEARCH_OPEN_HOST:$OPENSEARCH_PORT/" 200
    os_run os-tls "$secure" "$OPENSEARCH_AUTH_HOST" "https://$OPENSEARCH_AUTH_HOST:$OPENSEARCH_PORT/" 401
    ;;
  stop)
    srv_stop os-open
    srv_stop os-tls
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
