#!/usr/bin/env bash
# MongoDB-protocol test servers: FerretDB (built by scripts/install-ferretdb.sh) on its embedded SQLite backend,
# telemetry off, debug HTTP listener off, on loopback:
#   mongodb-open  on $MONGODB_OPEN_HOST:$MONGODB_PORT: no authentication (the classic exposed install). Logs at
#                 DEBUG, which prints every request it receives, so a test can check what the probe sent
#   mongodb-auth  on $MONGODB_AUTH_HOST:$MONGODB_PORT: --test-enable-new-auth with a setup user
#                 $MONGODB_USER/$MONGODB_PASSWORD in `admin` (FerretDB 1.24's SCRAM authentication; without a
#                 login, listDatabases answers `Command listDatabases requires authentication`, code 13)
#   mongodb-rs    on $MONGODB_RS_HOST:$MONGODB_PORT: no authentication, --repl-set-name $MONGODB_RS_NAME, so hello
#                 reports setName and hosts (FerretDB names only itself there)
# Usage: test/servers/mongodb.sh start|stop   (idempotent; by PID). Data lives in the server dirs (SQLite files).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Not (yet) in servers.env; the tests use the same defaults.
: "${MONGODB_OPEN_HOST:=127.0.14.1}"
: "${MONGODB_AUTH_HOST:=127.0.14.2}"
: "${MONGODB_RS_HOST:=127.0.14.3}"
: "${MONGODB_PORT:=27017}"
: "${MONGODB_USER:=lockdown}"
: "${MONGODB_PASSWORD:=lockdown-mongo-pw}"
: "${MONGODB_RS_NAME:=lockdown-rs}"
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
: "${FERRETDB_VERSION:=v1.24.2}"
: "${FERRETDB_BIN:=$LOCKDOWN_CACHE_DIR/ferretdb-$FERRETDB_VERSION/bin/ferretdb}"

# ferret_run NAME HOST [EXTRA ARGS…] — one foreground FerretDB with its SQLite files and state in its own dir.
ferret_run() {
  local name="$1" host="$2" dir
  shift 2
  dir="$(srv_dir "$name")"
  mkdir -p "$dir/data"
  srv_start "$name" -- "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$dir/data/" \
    --listen-addr="$host:$MONGODB_PORT" --state-dir="$dir" --telemetry=disable --debug-addr=- "$@"
}

# An OP_MSG `hello` on admin (52 bytes: header, flagBits 0, one kind 0 section { hello: 1, $db: "admin" }).
HELLO_OP_MSG='\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\xdd\x07\x00\x00\x00\x00\x00\x00\x00'
HELLO_OP_MSG+='\x1f\x00\x00\x00\x10hello\x00\x01\x00\x00\x00\x02$db\x00\x06\x00\x00\x00admin\x00\x00'

# ferret_answers HOST — the server answers that hello with an OP_MSG (opCode 2013 = dd 07 at bytes 12–15).
ferret_answers() {
  local reply
  reply="$(
    exec 3<>"/dev/tcp/$1/$MONGODB_PORT" 2>/dev/null || exit 1
    printf "$HELLO_OP_MSG" >&3
    timeout 2 head -c 16 <&3 | od -An -tx1 | tr -d ' \n'
  )" 2>/dev/null || return 1
  [[ "${reply:24:8}" == "dd070000" ]]
}

# ferret_wait NAME HOST — the port accepts connections and FerretDB answers the wire protocol.
ferret_wait() {
  local name="$1" host="$2"
  wait_tcp "$host" "$MONGODB_PORT" 30 || srv_fail "$name"
  for _ in $(seq 1 100); do
    if ferret_answers "$host"; then return 0; fi
    sleep 0.1
  done
  srv_fail "$name"
}

case "${1:-}" in
  start)
    if [[ ! -x "$FERRETDB_BIN" ]]; then
      echo "[servers] FerretDB not built at $FERRETDB_BIN; run scripts/install-ferretdb.sh" >&2
      exit 1
    fi
    ferret_run mongodb-open "$MONGODB_OPEN_HOST" --log-level=DEBUG
    ferret_run mongodb-auth "$MONGODB_AUTH_HOST" --test-enable-new-auth \
      --setup-database=admin --setup-username="$MONGODB_USER" --setup-password="$MONGODB_PASSWORD"
    ferret_run mongodb-rs "$MONGODB_RS_HOST" --repl-set-name="$MONGODB_RS_NAME"
    ferret_wait mongodb-open "$MONGODB_OPEN_HOST"
    ferret_wait mongodb-auth "$MONGODB_AUTH_HOST"
    ferret_wait mongodb-rs "$MONGODB_RS_HOST"
    ;;
  stop)
    srv_stop mongodb-open
    srv_stop mongodb-auth
    srv_stop mongodb-rs
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
