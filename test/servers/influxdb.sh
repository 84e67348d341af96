#!/usr/bin/env bash
# InfluxDB 1.x test servers (Debian's influxdb 1.6), each with its own config file and meta/data/wal dirs, on loopback:
#   influxdb-open  on $INFLUXDB_OPEN_HOST:$INFLUXDB_PORT: auth-enabled = false (1.x's default: the classic exposed install)
#   influxdb-auth  on $INFLUXDB_AUTH_HOST:$INFLUXDB_PORT: auth-enabled = true; the first admin $INFLUXDB_ADMIN_USER is
#                  created by this script with `CREATE USER … WITH ALL PRIVILEGES`, which 1.x accepts without
#                  credentials while no user exists (and then never again).
#   influxdb-noadmin on $INFLUXDB_NOADMIN_HOST:$INFLUXDB_PORT: auth-enabled = true and no user at all — the state in
#                  which 1.x refuses every query with 403 "create admin user first" but lets anyone create that admin.
# Each instance binds its RPC (backup/restore) service to its own $HOST:$INFLUXDB_RPC_PORT, so the two do not clash.
# Phoning home is off (`reporting-disabled`, and Debian's own `reporting-enabled = false`); the `_internal`
# monitor store is off so the database list is exactly what the tests create.
# Usage: test/servers/influxdb.sh start|stop   (idempotent; started and stopped by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Not (yet) in servers.env; the tests use the same defaults.
: "${INFLUXDB_OPEN_HOST:=127.0.19.1}"
: "${INFLUXDB_AUTH_HOST:=127.0.19.2}"
: "${INFLUXDB_NOADMIN_HOST:=127.0.19.3}"
: "${INFLUXDB_PORT:=8086}"
: "${INFLUXDB_RPC_PORT:=8088}"
: "${INFLUXDB_ADMIN_USER:=lockdown}"
: "${INFLUXDB_ADMIN_PASSWORD:=lockdown-influx-pw}"
: "${INFLUXDB_BIN:=/usr/bin/influxd}"
: "${INFLUXDB_RUN_AS:=lockdown-test}"

# influx_config NAME HOST AUTH — write DIR/influxdb.conf.
influx_config() {
  local name="$1" host="$2" auth="$3" dir
  dir="$(srv_dir "$name")"
  mkdir -p "$dir/meta" "$dir/data" "$dir/wal"
  cat > "$dir/influxdb.conf" <<EOF
reporting-disabled = true
reporting-enabled = false
bind-address = "$host:$INFLUXDB_RPC_PORT"

[meta]
  dir = "$dir/meta"

[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = true
  cache-max-memory-size = 67108864

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "$host:$INFLUXDB_PORT"
  auth-enabled = $auth
  log-enabled = true
  pprof-enabled = false
  unix-socket-enabled = false

[continuous_queries]
  enabled = false
EOF
}

# influx_http METHOD HOST PATH [USER:PASSWORD] [DATA…] — prints "<status> <body>"; status 000 when nothing answered.
influx_http() {
  local method="$1" host="$2" path="$3" cred="${4:-}" out
  shift 4 || shift $#
  local args=(-s --max-time 2 -X "$method" -w '\n%{http_code}')
  [[ -n "$cred" ]] && args+=(-u "$cred")
  out="$(curl "${args[@]}" "$@" "http://$host:$INFLUXDB_PORT$path" 2>/dev/null || true)"
  [[ -n "$out" ]] || out=$'\n000'
  echo "${out##*$'\n'} ${out%$'\n'*}"
}

# influx_run NAME HOST AUTH — start one influxd and wait until /ping answers 204.
influx_run() {
  local name="$1" host="$2" auth="$3"
  id -u "$INFLUXDB_RUN_AS" >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin "$INFLUXDB_RUN_AS"
  if ! srv_running "$name"; then influx_config "$name" "$host" "$auth"; fi
  srv_start "$name" --as "$INFLUXDB_RUN_AS" -- "$INFLUXDB_BIN" run -config "$(srv_dir "$name")/influxdb.conf"
  for _ in $(seq 1 300); do
    [[ "$(influx_http GET "$host" /ping)" == 204\ * ]] && return 0
    srv_running "$name" || break
    sleep 0.1
  done
  srv_fail "$name"
}

# influx_ensure_admin — create the first admin unless its credentials already work; fail unless auth is enforced.
influx_ensure_admin() {
  local host="$INFLUXDB_AUTH_HOST" cred="$INFLUXDB_ADMIN_USER:$INFLUXDB_ADMIN_PASSWORD" out
  out="$(influx_http GET "$host" '/query?q=SHOW+USERS' "$cred")"
  if [[ "$out" != 200\ * ]]; then
    out="$(influx_http POST "$host" /query '' --data-urlencode \
      "q=CREATE USER \"$INFLUXDB_ADMIN_USER\" WITH PASSWORD '$INFLUXDB_ADMIN_PASSWORD' WITH ALL PRIVILEGES")"
    [[ "$out" == 200\ * && "$out" != *error* ]] || { echo "[servers] influxdb-auth: creating the admin failed: $out" >&2; srv_fail influxdb-auth; }
    out="$(influx_http GET "$host" '/query?q=SHOW+USERS' "$cred")"
    [[ "$out" == 200\ * ]] || { echo "[servers] influxdb-auth: the admin's credentials do not work: $out" >&2; srv_fail influxdb-auth; }
  fi
  out="$(influx_http GET "$host" '/query?q=SHOW+DATABASES')"
  [[ "$out" == 401\ * ]] || { echo "[servers] influxdb-auth: SHOW DATABASES still open without credentials: $out" >&2; srv_fail influxdb-auth; }
}

case "${1:-}" in
  start)
    command -v curl >/dev/null || { echo "[servers] influxdb.sh needs curl" >&2; exit 1; }
    [[ -x "$INFLUXDB_BIN" ]] || { echo "[servers] $INFLUXDB_BIN is missing; install Debian's influxdb" >&2; exit 1; }
    influx_run influxdb-open "$INFLUXDB_OPEN_HOST" false
    influx_run influxdb-auth "$INFLUXDB_AUTH_HOST" true
    influx_ensure_admin
    influx_run influxdb-noadmin "$INFLUXDB_NOADMIN_HOST" true
    out="$(influx_http GET "$INFLUXDB_NOADMIN_HOST" '/query?q=SHOW+DATABASES')"
    [[ "$out" == 403\ *"create admin user first"* ]] || { echo "[servers] influxdb-noadmin: unexpected answer: $out" >&2; srv_fail influxdb-noadmin; }
    ;;
  stop)
    srv_stop influxdb-open
    srv_stop influxdb-auth
    srv_stop influxdb-noadmin
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
