#!/usr/bin/env bash
# Two single-node Apache Cassandra 5.0 clusters (from scripts/install-cassandra.sh's cache) on loopback, as the
# unprivileged user lockdown-test, each with its own config, data dirs and cluster name:
#   cassandra-open  on $CASSANDRA_OPEN_HOST:$CASSANDRA_PORT: AllowAllAuthenticator (the classic exposed install)
#   cassandra-peer  on $CASSANDRA_PEER_HOST:$CASSANDRA_PORT: a second node of cassandra-open's cluster (joins without
#                   bootstrap streaming), so system.peers_v2 on each names the other: real cluster peers
#   cassandra-auth  on $CASSANDRA_AUTH_HOST:$CASSANDRA_PORT: PasswordAuthenticator (default superuser cassandra/cassandra,
#                   never used by the probe or the tests), a cluster of its own
# Each node gossips on its own address ($CASSANDRA_STORAGE_PORT); JMX stays off (no jmx port property), so nothing
# else binds. Started one at a time (a JVM each), small heaps ($CASSANDRA_HEAP).
# Usage: test/servers/cassandra.sh start|stop   (idempotent; started and stopped by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Not (yet) in servers.env; the tests use the same defaults.
: "${CASSANDRA_OPEN_HOST:=127.0.16.1}"
: "${CASSANDRA_AUTH_HOST:=127.0.16.2}"
: "${CASSANDRA_PEER_HOST:=127.0.16.3}"
: "${CASSANDRA_PORT:=9042}"
: "${CASSANDRA_STORAGE_PORT:=7000}"
: "${CASSANDRA_VERSION:=5.0.9}"
: "${CASSANDRA_HEAP:=512M}"
: "${CASSANDRA_START_SECS:=180}"
: "${CASSANDRA_JAVA:=java}"
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
CASSANDRA_USER=lockdown-test
CASSANDRA_CACHE="$LOCKDOWN_CACHE_DIR/cassandra-$CASSANDRA_VERSION"

# The JVM options of the distribution's conf/jvm-server.options and conf/jvm17-server.options (Cassandra 5.0),
# less what only matters for big production heaps; Java 11 needs none of the JPMS flags but accepts them.
JVM_OPTS=(
  -ea -da:net.openhft... -XX:+UseThreadPriorities -Xss256k -XX:+UseTLAB -XX:+ResizeTLAB -XX:+PerfDisableSharedMem
  -Djava.net.preferIPv4Stack=true
  -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 -XX:G1HeapRegionSize=16m
  -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300 -XX:InitiatingHeapOccupancyPercent=70
  -Djdk.attach.allowAttachSelf=true
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.useCacheForAllThreads=true -Dio.netty.allocator.maxOrder=11
  # Test-only: no gossip settling wait, no 10 s wait before the default role is created, and a short ring delay
  # (a restarted node whose known peer is still down waits one ring delay, 30 s by default, for a gossip round).
  -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.superuser_setup_delay_ms=0 -Dcassandra.ring_delay_ms=3000
  -Dcassandra-foreground=yes
)

ensure_user() {
  id "$CASSANDRA_USER" >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin "$CASSANDRA_USER" 2>/dev/null || id "$CASSANDRA_USER" >/dev/null
}

# stage_runtime — a copy of the cached jars the unprivileged user can read ($HOME may be private to root).
# Hard links when the cache is on the same file system, so staging costs no space; once per version.
stage_runtime() {
  local dest="$LOCKDOWN_SERVERS_DIR/cassandra-runtime-$CASSANDRA_VERSION"
  if [[ ! -f "$CASSANDRA_CACHE/.complete" ]]; then
    echo "[servers] Cassandra $CASSANDRA_VERSION is not installed in $CASSANDRA_CACHE; run scripts/install-cassandra.sh" >&2
    return 1
  fi
  if [[ ! -f "$dest/.complete" ]]; then
    rm -rf "$dest"
    cp -al "$CASSANDRA_CACHE" "$dest" 2>/dev/null || { rm -rf "$dest"; cp -a "$CASSANDRA_CACHE" "$dest"; }
    chmod -R a+rX "$dest"
  fi
  echo "$dest"
}

# write_config NAME HOST AUTHENTICATOR CLUSTER SEED — the node's cassandra.yaml and logback.xml in its own dir.
write_config() {
  local name="$1" host="$2" authenticator="$3" cluster="$4" seed="$5" dir
  dir="$(srv_dir "$name")"
  mkdir -p "$dir/conf" "$dir/tmp"
  cat > "$dir/conf/cassandra.yaml" <<YAML
# Written by test/servers/cassandra.sh: a throw-away single-node test cluster.
cluster_name: lockdown-$cluster
num_tokens: 4
# A node joining the test cluster takes ranges without streaming (there is nothing worth streaming).
auto_bootstrap: false
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
authenticator:
  class_name: org.apache.cassandra.auth.$authenticator
authorizer:
  class_name: org.apache.cassandra.auth.AllowAllAuthorizer
role_manager:
  class_name: org.apache.cassandra.auth.CassandraRoleManager
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$seed:$CASSANDRA_STORAGE_PORT"
listen_address: $host
rpc_address: $host
storage_port: $CASSANDRA_STORAGE_PORT
native_transport_port: $CASSANDRA_PORT
start_native_transport: true
data_file_directories: [$dir/data]
commitlog_directory: $dir/commitlog
saved_caches_directory: $dir/saved_caches
hints_directory: $dir/hints
cdc_raw_directory: $dir/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
# Tests drop and recreate their keyspace: no snapshot for each drop.
auto_snapshot: false
hinted_handoff_enabled: false
YAML
  cat > "$dir/conf/logback.xml" <<'XML'
<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.cassandra" level="INFO"/>
  <root level="WARN"><appender-ref ref="STDOUT"/></root>
</configuration>
XML
}

# cql_ready HOST PORT — an OPTIONS frame (protocol v4) gets a SUPPORTED frame back: the server really speaks CQL.
cql_ready() {
  local reply
  reply="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "\x04\x00\x00\x01\x05\x00\x00\x00\x00" >&3 && head -c 5 <&3 | od -An -tx1' "$1" "$2" 2>/dev/null)" || return 1
  [[ "$(echo $reply)" == "84 00 00 01 06" ]]
}

# start_one NAME HOST AUTHENTICATOR CLUSTER SEED
start_one() {
  local name="$1" host="$2" authenticator="$3" cluster="$4" seed="$5" dir runtime started
  dir="$(srv_dir "$name")"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  runtime="$(stage_runtime)"
  write_config "$name" "$host" "$authenticator" "$cluster" "$seed"
  started=$(date +%s)
  srv_start "$name" --as "$CASSANDRA_USER" -- "$CASSANDRA_JAVA" "-Xms$CASSANDRA_HEAP" "-Xmx$CASSANDRA_HEAP" "${JVM_OPTS[@]}" \
    "-javaagent:$runtime/lib/jamm-0.4.0.jar" \
    "-Djava.io.tmpdir=$dir/tmp" "-Djna.tmpdir=$dir/tmp" \
    "-Dcassandra.config=file://$dir/conf/cassandra.yaml" "-Dlogback.configurationFile=file://$dir/conf/logback.xml" \
    "-Dcassandra.logdir=$dir" "-Dcassandra.storagedir=$dir" \
    -cp "$runtime/lib/*" org.apache.cassandra.service.CassandraDaemon
  for _ in $(seq 1 "$CASSANDRA_START_SECS"); do
    if cql_ready "$host" "$CASSANDRA_PORT"; then
      echo "[servers] $name answers CQL on $host:$CASSANDRA_PORT after $(( $(date +%s) - started ))s"
      return 0
    fi
    srv_running "$name" || srv_fail "$name"
    sleep 1
  done
  echo "[servers] $name did not answer CQL within ${CASSANDRA_START_SECS}s" >&2
  srv_fail "$name"
}

# wait_peers — the two open-cluster nodes have seen each other come up through gossip (each logs
# "InetAddress /<other>:<storage port> is now UP"), so system.peers_v2 on each names the other.
wait_peers() {
  for _ in $(seq 1 "$CASSANDRA_START_SECS"); do
    if grep -q "InetAddress /$CASSANDRA_PEER_HOST:$CASSANDRA_STORAGE_PORT is now UP" "$(srv_dir cassandra-open)/log" &&
      grep -q "InetAddress /$CASSANDRA_OPEN_HOST:$CASSANDRA_STORAGE_PORT is now UP" "$(srv_dir cassandra-peer)/log"; then
      return 0
    fi
    sleep 1
  done
  echo "[servers] cassandra-open and cassandra-peer did not see each other within ${CASSANDRA_START_SECS}s" >&2
  srv_fail cassandra-peer
}

case "${1:-}" in
  start)
    ensure_user
    start_one cassandra-open "$CASSANDRA_OPEN_HOST" AllowAllAuthenticator open "$CASSANDRA_OPEN_HOST"
    start_one cassandra-peer "$CASSANDRA_PEER_HOST" AllowAllAuthenticator open "$CASSANDRA_OPEN_HOST"
    start_one cassandra-auth "$CASSANDRA_AUTH_HOST" PasswordAuthenticator auth "$CASSANDRA_AUTH_HOST"
    wait_peers
    ;;
  stop)
    srv_stop cassandra-auth
    srv_stop cassandra-peer
    srv_stop cassandra-open
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
