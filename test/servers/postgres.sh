#!/usr/bin/env bash
# PostgreSQL 15 test servers (Debian's postgresql-15), run as the `postgres` OS user, on loopback:
#   pg-trust    on $PG_TRUST_HOST: initdb -A trust, pg_hba trusts 127.0.0.0/8 (the classic exposed install), plaintext
#   pg-scram    on $PG_SCRAM_HOST: initdb -A scram-sha-256, password $PG_PASSWORD for `postgres`, TLS on
#               (self-signed certificate), so the probe's SSLRequest → TLS upgrade path runs against a real server
#   pg-standby  on $PG_STANDBY_HOST: a streaming hot standby of pg-trust (pg_basebackup -R), so replication
#               peers show up in pg_stat_replication (on pg-trust) and pg_stat_wal_receiver (on the standby)
# Usage: test/servers/postgres.sh start|stop   (idempotent; initdb only when the data dir is missing; by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${PG_BIN:=/usr/lib/postgresql/15/bin}"
# Not (yet) in servers.env; the tests use the same default.
: "${PG_STANDBY_HOST:=127.0.11.3}"

# Small footprint, and durability off: these clusters hold throw-away test data only.
PG_COMMON=(-c shared_buffers=16MB -c max_connections=40 -c max_wal_senders=5 -c fsync=off
  -c synchronous_commit=off -c full_page_writes=off -c logging_collector=off -c log_min_messages=warning
  -c huge_pages=off)

as_pg() { runuser -u postgres -- "$@"; }

# pg_wait NAME HOST — the port accepts connections and the server is past "starting up".
pg_wait() {
  local name="$1" host="$2"
  wait_tcp "$host" "$PG_PORT" 60 || srv_fail "$name"
  for _ in $(seq 1 300); do
    if "$PG_BIN/pg_isready" -q -h "$host" -p "$PG_PORT" -U postgres -d postgres -t 1; then return 0; fi
    sleep 0.1
  done
  srv_fail "$name"
}

# pg_prepare NAME — the server dir exists and belongs to postgres (initdb refuses to run as root).
pg_prepare() {
  local dir; dir="$(srv_dir "$1")"
  mkdir -p "$dir"
  chown postgres: "$dir"
  echo "$dir"
}

start_trust() {
  local name=pg-trust dir data
  dir="$(pg_prepare "$name")"
  data="$dir/data"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    as_pg "$PG_BIN/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C --no-instructions \
      >"$dir/initdb.log" 2>&1 || { tail -n 40 "$dir/initdb.log" >&2; return 1; }
    # initdb -A trust covers 127.0.0.1/32 only; the probe and the standby may come from any 127.x address.
    printf '%s\n' 'host all all 127.0.0.0/8 trust' 'host replication all 127.0.0.0/8 trust' >>"$data/pg_hba.conf"
  fi
  srv_start "$name" --as postgres -- "$PG_BIN/postgres" -D "$data" -k "$dir" -p "$PG_PORT" \
    -c listen_addresses="$PG_TRUST_HOST" "${PG_COMMON[@]}"
  pg_wait "$name" "$PG_TRUST_HOST"
}

start_scram() {
  local name=pg-scram dir data
  dir="$(pg_prepare "$name")"
  data="$dir/data"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    printf '%s\n' "$PG_PASSWORD" >"$dir/pwfile"
    chown postgres: "$dir/pwfile"
    chmod 600 "$dir/pwfile"
    as_pg "$PG_BIN/initdb" -D "$data" -A scram-sha-256 --pwfile="$dir/pwfile" -U postgres -E UTF8 --locale=C \
      --no-instructions >"$dir/initdb.log" 2>&1 || { tail -n 40 "$dir/initdb.log" >&2; return 1; }
    rm -f "$dir/pwfile"
    printf '%s\n' 'host all all 127.0.0.0/8 scram-sha-256' >>"$data/pg_hba.conf"
    openssl req -new -x509 -days 3650 -nodes -subj /CN=lockdown-pg-test -newkey rsa:2048 \
      -keyout "$data/server.key" -out "$data/server.crt" >"$dir/openssl.log" 2>&1 \
      || { cat "$dir/openssl.log" >&2; return 1; }
    chown postgres: "$data/server.key" "$data/server.crt"
    chmod 600 "$data/server.key"
  fi
  srv_start "$name" --as postgres -- "$PG_BIN/postgres" -D "$data" -k "$dir" -p "$PG_PORT" \
    -c listen_addresses="$PG_SCRAM_HOST" -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key \
    "${PG_COMMON[@]}"
  pg_wait "$name" "$PG_SCRAM_HOST"
}

start_standby() {
  local name=pg-standby dir data
  dir="$(pg_prepare "$name")"
  data="$dir/data"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    # -R writes standby.signal and primary_conninfo (host=$PG_TRUST_HOST) into the copy.
    as_pg "$PG_BIN/pg_basebackup" -h "$PG_TRUST_HOST" -p "$PG_PORT" -U postgres -D "$data" -R -X stream \
      -c fast >"$dir/basebackup.log" 2>&1 || { tail -n 40 "$dir/basebackup.log" >&2; return 1; }
  fi
  # cluster_name becomes the walreceiver's application_name in the primary's pg_stat_replication.
  srv_start "$name" --as postgres -- "$PG_BIN/postgres" -D "$data" -k "$dir" -p "$PG_PORT" \
    -c listen_addresses="$PG_STANDBY_HOST" -c hot_standby=on -c cluster_name=lockdown_standby "${PG_COMMON[@]}"
  pg_wait "$name" "$PG_STANDBY_HOST"
}

# stop_one NAME — fast shutdown of our own postmaster (pg_ctl reads the PID from our data dir), then
# srv_stop for the runuser wrapper by its PID. Plain SIGTERM would be a "smart" shutdown that waits for clients.
stop_one() {
  local name="$1" data
  data="$(srv_dir "$name")/data"
  if srv_running "$name" && [[ -f "$data/postmaster.pid" ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" stop -m fast -w -t 30 >/dev/null 2>&1 || true
  fi
  srv_stop "$name"
}

case "${1:-}" in
  start)
    start_trust
    start_scram
    start_standby
    ;;
  stop)
    stop_one pg-standby
    stop_one pg-trust
    stop_one pg-scram
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
