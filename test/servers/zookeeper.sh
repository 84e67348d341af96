#!/usr/bin/env bash
# ZooKeeper test servers (Debian's zookeeper 3.8, QuorumPeerMain on the package's jars), run as the unprivileged
# user lockdown-test with a small heap, on loopback, each from an empty data dir, admin server off:
#   zk-open  on $ZOOKEEPER_OPEN_HOST:$ZOOKEEPER_PORT: no auth, every four-letter word allowed
#            (4lw.commands.whitelist=*). It runs as a one-voter quorum (standaloneEnabled=false) whose config also
#            names an observer at $ZOOKEEPER_OBSERVER_HOST that is never started, so `conf` prints a real ensemble
#            membership (server.1 / server.2 lines) for the probe's peer list; the lone participant leads.
#   zk-auth  on $ZOOKEEPER_AUTH_HOST:$ZOOKEEPER_PORT: enforce.auth.enabled=true with the digest scheme (3.7+), default
#            four-letter whitelist (srvr only): a session that has not authenticated is closed on its first request.
#   zk-acl   on $ZOOKEEPER_ACL_HOST:$ZOOKEEPER_PORT: default whitelist; after start this script sets a digest ACL
#            on the root znode with the package's own zkCli.sh (user $ZOOKEEPER_ACL_USER): listing / answers NoAuth.
# Usage: test/servers/zookeeper.sh start|stop   (idempotent; by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Not (yet) in servers.env; the tests use the same defaults.
: "${ZOOKEEPER_OPEN_HOST:=127.0.21.1}"
: "${ZOOKEEPER_AUTH_HOST:=127.0.21.2}"
: "${ZOOKEEPER_ACL_HOST:=127.0.21.3}"
: "${ZOOKEEPER_OBSERVER_HOST:=127.0.21.4}"
: "${ZOOKEEPER_PORT:=2181}"
: "${ZOOKEEPER_ACL_USER:=lockdown}"
: "${ZOOKEEPER_ACL_PASSWORD:=lockdown-zk-pw}"
: "${ZOOKEEPER_HEAP:=-Xms32m -Xmx128m}"
: "${ZOOKEEPER_JARS:=/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar}"
: "${ZOOKEEPER_CLI:=/usr/share/zookeeper/bin/zkCli.sh}"
ZK_USER=lockdown-test

zk_user() {
  id "$ZK_USER" >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin "$ZK_USER" 2>/dev/null || id "$ZK_USER" >/dev/null
}

# zk_4lw HOST WORD — the server's reply to a four-letter word (empty when nothing answers).
zk_4lw() {
  local host="$1" word="$2"
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "%s" "$2" >&3 && cat <&3' "$host" "$ZOOKEEPER_PORT" "$word" 2>/dev/null || true
}

# zk_wait NAME HOST — until srvr reports a serving mode (standalone/leader), the process dies, or 60 s pass.
zk_wait() {
  local name="$1" host="$2" deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    if zk_4lw "$host" srvr | grep -qE '^Mode: (standalone|leader|follower)'; then return 0; fi
    srv_running "$name" || srv_fail "$name"
    sleep 0.3
  done
  echo "[servers] $name on $host:$ZOOKEEPER_PORT not serving within 60 s" >&2
  srv_fail "$name"
}

# zk_run NAME HOST [cfg lines…] — one foreground server with its own zoo.cfg and empty data dir.
zk_run() {
  local name="$1" host="$2" dir
  shift 2
  dir="$(srv_dir "$name")"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  rm -rf "$dir/data"
  mkdir -p "$dir/data"
  echo 1 > "$dir/data/myid"
  {
    echo "tickTime=2000"
    echo "initLimit=10"
    echo "syncLimit=5"
    echo "dataDir=$dir/data"
    echo "clientPort=$ZOOKEEPER_PORT"
    echo "clientPortAddress=$host"
    echo "admin.enableServer=false"
    printf '%s\n' "$@"
  } > "$dir/zoo.cfg"
  # shellcheck disable=SC2086 # the heap flags are words on purpose
  srv_start "$name" --as "$ZK_USER" -- java $ZOOKEEPER_HEAP -Dzookeeper.jmx.log4j.disable=true -cp "$ZOOKEEPER_JARS" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg"
  zk_wait "$name" "$host"
}

# zk_cli HOST — the package's zkCli.sh reading commands from stdin (one JVM for the lot).
zk_cli() {
  "$ZOOKEEPER_CLI" -server "$1:$ZOOKEEPER_PORT" 2>&1
}

start_acl() {
  local digest out
  if srv_running zk-acl; then echo "[servers] zk-acl already running (pid $(cat "$(srv_dir zk-acl)/pid"))"; return 0; fi
  zk_run zk-acl "$ZOOKEEPER_ACL_HOST"
  # ZooKeeper's digest: base64(sha1("user:password")); the ACL needs no authenticated session to be set.
  digest="$(printf '%s:%s' "$ZOOKEEPER_ACL_USER" "$ZOOKEEPER_ACL_PASSWORD" | openssl dgst -binary -sha1 | base64)"
  printf 'create /lockdown_private\nsetAcl / digest:%s:%s:cdrwa\nquit\n' "$ZOOKEEPER_ACL_USER" "$digest" | zk_cli "$ZOOKEEPER_ACL_HOST" >/dev/null || true
  # zkCli exits non-zero after a refused command: the refusal is what this check wants to see.
  out="$(printf 'ls /\nquit\n' | zk_cli "$ZOOKEEPER_ACL_HOST" || true)"
  if ! grep -q 'Insufficient permission' <<<"$out"; then
    echo "[servers] zk-acl: the root ACL did not take; zkCli said:" >&2
    echo "$out" | tail -n 20 >&2
    srv_fail zk-acl
  fi
}

case "${1:-}" in
  start)
    zk_user
    # One JVM at a time: the next starts once the previous serves.
    zk_run zk-open "$ZOOKEEPER_OPEN_HOST" "4lw.commands.whitelist=*" "standaloneEnabled=false" \
      "server.1=$ZOOKEEPER_OPEN_HOST:2888:3888:participant;$ZOOKEEPER_OPEN_HOST:$ZOOKEEPER_PORT" \
      "server.2=$ZOOKEEPER_OBSERVER_HOST:2888:3888:observer;$ZOOKEEPER_OBSERVER_HOST:$ZOOKEEPER_PORT"
    zk_run zk-auth "$ZOOKEEPER_AUTH_HOST" "enforce.auth.enabled=true" "enforce.auth.schemes=digest" \
      "authProvider.1=org.apache.zookeeper.server.auth.DigestAuthenticationProvider"
    start_acl
    ;;
  stop)
    srv_stop zk-open
    srv_stop zk-auth
    srv_stop zk-acl
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
