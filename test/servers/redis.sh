#!/usr/bin/env bash
# Redis test servers (Debian's redis-server), persistence off, on loopback:
#   redis-open       on $REDIS_OPEN_HOST:$REDIS_PORT: no password, protected mode off (the classic exposed install)
#   redis-auth       on $REDIS_AUTH_HOST:$REDIS_PORT: --requirepass $REDIS_PASSWORD
#   redis-replica    on $REDIS_OPEN_HOST:$REDIS_REPLICA_PORT: a replica of redis-open, so INFO replication names
#                    peers both ways (master: slave0:…, replica: master_host/master_port)
#   redis-protected  on $REDIS_AUTH_HOST:$REDIS_PROTECTED_PORT: no password, protected mode on (Redis's default), so
#                    a client from any source address other than 127.0.0.1/::1 gets the real `-DENIED …` reply
#   redis-noinfo     on $REDIS_AUTH_HOST:$REDIS_NOINFO_PORT: no password, INFO renamed away (a hardening some admins
#                    apply instead of a password), so the probe's PING fallback meets a real `-ERR unknown command`
# Usage: test/servers/redis.sh start|stop   (idempotent; by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

: "${REDIS_BIN:=/usr/bin/redis-server}"
# Not (yet) in servers.env; the tests use the same defaults.
: "${REDIS_REPLICA_PORT:=6380}"
: "${REDIS_PROTECTED_PORT:=6381}"
: "${REDIS_NOINFO_PORT:=6382}"

# redis_run NAME HOST PORT [EXTRA ARGS…] — one foreground redis-server with throw-away state in its own dir.
redis_run() {
  local name="$1" host="$2" port="$3" dir
  shift 3
  dir="$(srv_dir "$name")"
  mkdir -p "$dir"
  srv_start "$name" -- "$REDIS_BIN" --bind "$host" --port "$port" --save '' --appendonly no \
    --daemonize no --dir "$dir" --logfile '' "$@"
  wait_tcp "$host" "$port" 30 || srv_fail "$name"
}

# redis_wait_replica — the replica finished its first sync: it sees its link up and the master lists it online.
redis_wait_replica() {
  for _ in $(seq 1 300); do
    if redis-cli -h "$REDIS_OPEN_HOST" -p "$REDIS_REPLICA_PORT" INFO replication 2>/dev/null | grep -q '^master_link_status:up' &&
      redis-cli -h "$REDIS_OPEN_HOST" -p "$REDIS_PORT" INFO replication 2>/dev/null | grep -q '^slave0:.*state=online'; then
      return 0
    fi
    sleep 0.1
  done
  srv_fail redis-replica
}

case "${1:-}" in
  start)
    redis_run redis-open "$REDIS_OPEN_HOST" "$REDIS_PORT" --protected-mode no
    redis_run redis-auth "$REDIS_AUTH_HOST" "$REDIS_PORT" --protected-mode no --requirepass "$REDIS_PASSWORD"
    # bind-source-addr: the replica dials its master from its own address, so the master reports slave0:ip=$REDIS_OPEN_HOST.
    redis_run redis-replica "$REDIS_OPEN_HOST" "$REDIS_REPLICA_PORT" --protected-mode no \
      --replicaof "$REDIS_OPEN_HOST" "$REDIS_PORT" --bind-source-addr "$REDIS_OPEN_HOST"
    redis_run redis-protected "$REDIS_AUTH_HOST" "$REDIS_PROTECTED_PORT" --protected-mode yes
    redis_run redis-noinfo "$REDIS_AUTH_HOST" "$REDIS_NOINFO_PORT" --protected-mode no --rename-command INFO ''
    redis_wait_replica
    ;;
  stop)
    srv_stop redis-replica
    srv_stop redis-protected
    srv_stop redis-noinfo
    srv_stop redis-open
    srv_stop redis-auth
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
