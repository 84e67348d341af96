#!/usr/bin/env bash
# Elasticsearch test servers (8.8.2 integration-test zip from Maven Central, installed by
# scripts/install-elasticsearch.sh), single-node, run as the unprivileged user lockdown-test, on loopback:
#   es-open  on $ELASTICSEARCH_OPEN_HOST:$ELASTICSEARCH_PORT: xpack.security.enabled=false (the classic exposed
#            install); HTTP request tracing on, so the server's own log lists every request it received
#   es-auth  on $ELASTICSEARCH_AUTH_HOST:$ELASTICSEARCH_PORT: xpack.security.enabled=true over plain HTTP, the
#            `elastic` user's password from the keystore's bootstrap.password: anonymous requests get
#            401 + WWW-Authenticate
#   es-anon  on $ELASTICSEARCH_ANON_HOST:$ELASTICSEARCH_PORT: security on, but anonymous access granted a role with only
#            the `monitor` cluster privilege (xpack.security.authc.anonymous.roles): `GET /`, node and health info answer
#            anonymously while the index listing is refused with 403 — a half-open cluster seen in the wild
# ML and anything that could phone home stay off (the zip has no ML or ingest-geoip module; xpack.ml.enabled=false
# says so explicitly). Each start begins from empty data: the tests seed what they assert.
# Usage: test/servers/elasticsearch.sh start|stop   (idempotent; by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Not (yet) in servers.env; the tests use the same defaults.
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
: "${ELASTICSEARCH_VERSION:=8.8.2}"
: "${ELASTICSEARCH_OPEN_HOST:=127.0.15.1}"
: "${ELASTICSEARCH_AUTH_HOST:=127.0.15.2}"
: "${ELASTICSEARCH_ANON_HOST:=127.0.15.5}"
: "${ELASTICSEARCH_PORT:=9200}"
: "${ELASTICSEARCH_TRANSPORT_PORT:=9300}"
: "${ELASTICSEARCH_PASSWORD:=lockdown-es-pw}"
: "${ELASTICSEARCH_HEAP:=-Xms256m -Xmx512m}"
ES_USER=lockdown-test
ES_CACHE="$LOCKDOWN_CACHE_DIR/elasticsearch-$ELASTICSEARCH_VERSION"
# The server runs from a hard-linked copy outside the (possibly private) cache, readable by $ES_USER.
ES_HOME_COPY="$LOCKDOWN_SERVERS_DIR/elasticsearch-$ELASTICSEARCH_VERSION"

es_prepare_home() {
  if [[ ! -f "$ES_CACHE/.complete" ]]; then
    echo "[servers] Elasticsearch $ELASTICSEARCH_VERSION is not installed in $ES_CACHE; run scripts/install-elasticsearch.sh" >&2
    return 1
  fi
  id "$ES_USER" >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin "$ES_USER" 2>/dev/null || id "$ES_USER" >/dev/null
  if ! cmp -s "$ES_CACHE/.complete" "$ES_HOME_COPY/.complete"; then
    rm -rf "$ES_HOME_COPY"
    cp -al "$ES_CACHE" "$ES_HOME_COPY" 2>/dev/null || { rm -rf "$ES_HOME_COPY"; cp -a "$ES_CACHE" "$ES_HOME_COPY"; }
    chmod -R a+rX "$ES_HOME_COPY"
  fi
}

# es_run NAME HOST [-E setting=value …] — one foreground node with its own config, data and logs.
es_run() {
  local name="$1" host="$2" dir
  shift 2
  dir="$(srv_dir "$name")"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  rm -rf "$dir/config" "$dir/data" "$dir/logs"
  mkdir -p "$dir/data" "$dir/logs"
  cp -a "$ES_HOME_COPY/config" "$dir/config"
  # jvm.options names data/ and logs/ relative to the server's working directory (the install dir): make them ours.
  sed -i "s#HeapDumpPath=data#HeapDumpPath=$dir/data#; s#ErrorFile=logs/#ErrorFile=$dir/logs/#; s#file=logs/gc.log#file=$dir/logs/gc.log#" \
    "$dir/config/jvm.options"
  if [[ "$name" == es-anon ]]; then
    printf 'monitor_only:\n  cluster: ["monitor"]\n' > "$dir/config/roles.yml"
  fi
  if [[ "$name" == es-auth || "$name" == es-anon ]]; then
    ES_JAVA_HOME="$(java_home)" ES_PATH_CONF="$dir/config" "$ES_HOME_COPY/bin/elasticsearch-keystore" create >/dev/null
    printf '%s' "$ELASTICSEARCH_PASSWORD" |
      ES_JAVA_HOME="$(java_home)" ES_PATH_CONF="$dir/config" "$ES_HOME_COPY/bin/elasticsearch-keystore" add -x bootstrap.password >/dev/null
  fi
  local started=$SECONDS
  srv_start "$name" --as "$ES_USER" -- env ES_JAVA_HOME="$(java_home)" ES_PATH_CONF="$dir/config" ES_JAVA_OPTS="$ELASTICSEARCH_HEAP" \
    "$ES_HOME_COPY/bin/elasticsearch" \
    -E cluster.name="lockdown-$name" -E node.name="lockdown-$name" \
    -E network.host="$host" -E http.port="$ELASTICSEARCH_PORT" -E transport.port="$ELASTICSEARCH_TRANSPORT_PORT" \
    -E discovery.type=single-node -E path.data="$dir/data" -E path.logs="$dir/logs" \
    -E xpack.ml.enabled=false "$@"
  local want=200
  [[ "$name" == es-auth ]] && want=401
  wait_http "$name" "http://$host:$ELASTICSEARCH_PORT/" "$want"
  echo "[servers] $name answers on $host:$ELASTICSEARCH_PORT after $((SECONDS - started)) s"
}

case "${1:-}" in
  start)
    es_prepare_home
    # One JVM at a time: the second starts once the first answers.
    es_run es-open "$ELASTICSEARCH_OPEN_HOST" -E xpack.security.enabled=false \
      -E logger.org.elasticsearch.http.HttpTracer=TRACE
    es_run es-auth "$ELASTICSEARCH_AUTH_HOST" -E xpack.security.enabled=true \
      -E xpack.security.http.ssl.enabled=false -E xpack.security.transport.ssl.enabled=false
    es_run es-anon "$ELASTICSEARCH_ANON_HOST" -E xpack.security.enabled=true \
      -E xpack.security.http.ssl.enabled=false -E xpack.security.transport.ssl.enabled=false \
      -E xpack.security.authc.anonymous.roles=monitor_only
    ;;
  stop)
    srv_stop es-open
    srv_stop es-auth
    srv_stop es-anon
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
