#!/usr/bin/env bash
# Memcached test servers (Debian's memcached 1.6), as root with -u root, on loopback:
#   memcached-open  on $MEMCACHED_OPEN_HOST:$MEMCACHED_PORT, TCP and UDP (-U; Debian's 1.6 has UDP off by
#                   default), no auth: the classic exposed install and the 2018 "memcrashed" amplifier
#   memcached-auth  on $MEMCACHED_AUTH_HOST:$MEMCACHED_PORT, ASCII auth (-Y authfile of user:password lines), UDP off
#   memcached-sasl  on $MEMCACHED_AUTH_HOST:$MEMCACHED_SASL_PORT, SASL (-S): binary protocol only, text commands
#                   make it close the connection; a PLAIN password db via MEMCACHED_SASL_PWDB, UDP off
# Usage: test/servers/memcached.sh start|stop   (idempotent; by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${MEMCACHED_BIN:=/usr/bin/memcached}"
# Not (yet) in servers.env; the tests use the same default.
: "${MEMCACHED_SASL_PORT:=11212}"

# Small memory (-m MB), few threads: throw-away test caches.
MC_COMMON=(-u root -m 16 -t 2 -c 256)

start_open() {
  srv_start memcached-open -- "$MEMCACHED_BIN" "${MC_COMMON[@]}" -l "$MEMCACHED_OPEN_HOST" -p "$MEMCACHED_PORT" \
    -U "$MEMCACHED_PORT"
  wait_tcp "$MEMCACHED_OPEN_HOST" "$MEMCACHED_PORT" 30 || srv_fail memcached-open
}

start_auth() {
  local dir; dir="$(srv_dir memcached-auth)"
  mkdir -p "$dir"
  printf '%s:%s\n' "$MEMCACHED_USER" "$MEMCACHED_PASSWORD" >"$dir/authfile"
  chmod 600 "$dir/authfile"
  srv_start memcached-auth -- "$MEMCACHED_BIN" "${MC_COMMON[@]}" -l "$MEMCACHED_AUTH_HOST" -p "$MEMCACHED_PORT" \
    -U 0 -Y "$dir/authfile"
  wait_tcp "$MEMCACHED_AUTH_HOST" "$MEMCACHED_PORT" 30 || srv_fail memcached-auth
}

start_sasl() {
  local dir; dir="$(srv_dir memcached-sasl)"
  mkdir -p "$dir/sasl"
  # Without a config naming a mechanism, sasl_server_init fails ("Error initializing sasl").
  printf 'mech_list: plain\n' >"$dir/sasl/memcached.conf"
  printf '%s:%s\n' "$MEMCACHED_USER" "$MEMCACHED_PASSWORD" >"$dir/pwdb"
  chmod 600 "$dir/pwdb"
  srv_start memcached-sasl -- env SASL_CONF_PATH="$dir/sasl" MEMCACHED_SASL_PWDB="$dir/pwdb" \
    "$MEMCACHED_BIN" "${MC_COMMON[@]}" -l "$MEMCACHED_AUTH_HOST" -p "$MEMCACHED_SASL_PORT" -U 0 -S
  wait_tcp "$MEMCACHED_AUTH_HOST" "$MEMCACHED_SASL_PORT" 30 || srv_fail memcached-sasl
}

case "${1:-}" in
  start)
    start_open
    start_auth
    start_sasl
    ;;
  stop)
    srv_stop memcached-open
    srv_stop memcached-auth
    srv_stop memcached-sasl
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
