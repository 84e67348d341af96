#!/usr/bin/env bash
# ClickHouse test servers (Debian's clickhouse-server 18.16), each with its own copy of Debian's config.xml and
# users.xml, every path inside its own dir, on loopback:
#   clickhouse-open  on $CLICKHOUSE_OPEN_HOST: HTTP $CLICKHOUSE_HTTP_PORT, native $CLICKHOUSE_NATIVE_PORT; user `default`
#                    with Debian's empty password (the classic exposed install); a cluster `lockdown_cluster` in
#                    remote_servers names the auth instance as a shard replica (a peer for system.clusters), and
#                    `log_queries` is on so system.query_log records every query the server ran (the tests read it).
#   clickhouse-auth  on $CLICKHOUSE_AUTH_HOST: same ports; `<password>$CLICKHOUSE_PASSWORD</password>` for `default`.
# interserver_http_port is removed (18.16 has no MySQL/PostgreSQL ports); logs go to the console (the srv log).
# Runs as the `clickhouse` user the Debian package created.
# Usage: test/servers/clickhouse.sh start|stop   (idempotent; started and stopped by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Not (yet) in servers.env; the tests use the same defaults.
: "${CLICKHOUSE_OPEN_HOST:=127.0.18.1}"
: "${CLICKHOUSE_AUTH_HOST:=127.0.18.2}"
: "${CLICKHOUSE_HTTP_PORT:=8123}"
: "${CLICKHOUSE_NATIVE_PORT:=9000}"
: "${CLICKHOUSE_PASSWORD:=lockdown-ch-pw}"
: "${CLICKHOUSE_BIN:=/usr/sbin/clickhouse-server}"
: "${CLICKHOUSE_CONFIG_SRC:=/etc/clickhouse-server}"
: "${CLICKHOUSE_USER:=clickhouse}"

# ch_config NAME HOST PASSWORD EXTRA-REMOTE-SERVERS — write DIR/config.xml and DIR/users.xml from Debian's files.
ch_config() {
  local name="$1" host="$2" password="$3" cluster="$4" dir
  dir="$(srv_dir "$name")"
  mkdir -p "$dir/data" "$dir/tmp" "$dir/user_files" "$dir/format_schemas"
  sed -e "s#<log>.*</log>#<console>1</console>#" \
    -e "/<errorlog>/d" \
    -e "s#<level>warning</level>#<level>information</level>#" \
    -e "/<interserver_http_port>/d" \
    -e "s#<http_port>[0-9]*</http_port>#<http_port>$CLICKHOUSE_HTTP_PORT</http_port>#" \
    -e "s#<tcp_port>[0-9]*</tcp_port>#<tcp_port>$CLICKHOUSE_NATIVE_PORT</tcp_port>#" \
    -e "s#<path>/var/lib/clickhouse/</path>#<path>$dir/data/</path>#" \
    -e "s#<tmp_path>.*</tmp_path>#<tmp_path>$dir/tmp/</tmp_path>#" \
    -e "s#<user_files_path>.*</user_files_path>#<user_files_path>$dir/user_files/</user_files_path>#" \
    -e "s#<format_schema_path>.*</format_schema_path>#<format_schema_path>$dir/format_schemas/</format_schema_path>#" \
    -e "s#<remote_servers incl=\"clickhouse_remote_servers\" >#&$cluster#" \
    -e "s#</yandex>#    <listen_host>$host</listen_host>\n</yandex>#" \
    "$CLICKHOUSE_CONFIG_SRC/config.xml" > "$dir/config.xml"
  # Only the first <password></password> is user `default`'s (the second is Debian's sample `readonly` user,
  # which only accepts 127.0.0.1/::1 and is left as shipped). log_queries fills system.query_log.
  sed -e "0,/<password><\/password>/s##<password>$password</password>#" \
    -e "0,/<load_balancing>random<\/load_balancing>/s##&<log_queries>1</log_queries>#" \
    "$CLICKHOUSE_CONFIG_SRC/users.xml" > "$dir/users.xml"
  grep -q "<listen_host>$host</listen_host>" "$dir/config.xml" || { echo "[servers] $name: config edit failed" >&2; exit 1; }
  grep -q "<path>$dir/data/</path>" "$dir/config.xml" || { echo "[servers] $name: config edit failed" >&2; exit 1; }
}

# ch_http HOST QUERY [PASSWORD] — the HTTP answer's status code (000 when nothing answered).
ch_http() {
  local auth=()
  [[ -n "${3:-}" ]] && auth=(-u "default:$3")
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${auth[@]}" "http://$1:$CLICKHOUSE_HTTP_PORT/?query=$2" || true
}

# ch_run NAME HOST PASSWORD CLUSTER — start one server and wait until its HTTP interface runs a query.
ch_run() {
  local name="$1" host="$2" password="$3" cluster="$4" code
  if ! srv_running "$name"; then ch_config "$name" "$host" "$password" "$cluster"; fi
  srv_start "$name" --as "$CLICKHOUSE_USER" -- "$CLICKHOUSE_BIN" --config-file="$(srv_dir "$name")/config.xml"
  for _ in $(seq 1 600); do
    code="$(ch_http "$host" 'SELECT%201' "$password")"
    [[ "$code" == 200 ]] && { wait_tcp "$host" "$CLICKHOUSE_NATIVE_PORT" 10 || srv_fail "$name"; return 0; }
    srv_running "$name" || break
    sleep 0.1
  done
  srv_fail "$name"
}

case "${1:-}" in
  start)
    command -v curl >/dev/null || { echo "[servers] clickhouse.sh needs curl" >&2; exit 1; }
    [[ -x "$CLICKHOUSE_BIN" ]] || { echo "[servers] $CLICKHOUSE_BIN is missing; install Debian's clickhouse-server" >&2; exit 1; }
    ch_run clickhouse-open "$CLICKHOUSE_OPEN_HOST" '' \
      "<lockdown_cluster><shard><replica><host>$CLICKHOUSE_AUTH_HOST</host><port>$CLICKHOUSE_NATIVE_PORT</port></replica></shard></lockdown_cluster>"
    ch_run clickhouse-auth "$CLICKHOUSE_AUTH_HOST" "$CLICKHOUSE_PASSWORD" ''
    code="$(ch_http "$CLICKHOUSE_AUTH_HOST" 'SELECT%201')"
    [[ "$code" != 200 ]] || { echo "[servers] clickhouse-auth answers without a password" >&2; srv_fail clickhouse-auth; }
    ;;
  stop)
    srv_stop clickhouse-open
    srv_stop clickhouse-auth
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
