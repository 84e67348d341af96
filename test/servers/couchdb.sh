#!/usr/bin/env bash
# CouchDB-like test servers: PouchDB Server (scripts/install-couchdb.sh puts it in the lockdown cache),
# in-memory (nothing on disk but its config file and log), on loopback:
#   couchdb-open  on $COUCHDB_OPEN_HOST:$COUCHDB_PORT: no admin at all — CouchDB's "admin party"
#   couchdb-auth  on $COUCHDB_AUTH_HOST:$COUCHDB_PORT: an admin $COUCHDB_ADMIN_USER created right after start
#                 with `PUT /_config/admins/<name>` (CouchDB 1.x style). What PouchDB Server then enforces,
#                 measured: `/_config`, `/_active_tasks`, `/_log`, `/_db_updates` answer 401 "You are not a
#                 server admin." and a database whose `_security` has members answers 401 "You are not authorized
#                 to access this db."; `/_all_dbs` and databases without members stay readable (as in CouchDB 1.x).
# Apache CouchDB itself cannot run here (not in Debian 12, no tarball on a reachable registry); the module is also
# tested against documented CouchDB 3 replies (test/fixtures/couchdb/).
# Usage: test/servers/couchdb.sh start|stop   (idempotent; started and stopped by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Not (yet) in servers.env; the tests use the same defaults.
: "${COUCHDB_OPEN_HOST:=127.0.17.1}"
: "${COUCHDB_AUTH_HOST:=127.0.17.2}"
: "${COUCHDB_PORT:=5984}"
: "${COUCHDB_ADMIN_USER:=lockdown}"
: "${COUCHDB_ADMIN_PASSWORD:=lockdown-couch-pw}"
: "${POUCHDB_SERVER_VERSION:=4.2.0}"
: "${LOCKDOWN_CACHE_DIR:=$HOME/.cache/lockdown}"
POUCHDB_BIN="$LOCKDOWN_CACHE_DIR/pouchdb-server-$POUCHDB_SERVER_VERSION/node_modules/pouchdb-server/bin/pouchdb-server"

# couch_http METHOD URL [JSON-BODY] [USER:PASSWORD] — prints "<status> <body>"; status 000 when nothing answered.
couch_http() {
  node -e '
    const [method, url, body, cred] = process.argv.slice(1);
    const headers = { accept: "application/json", "content-type": "application/json" };
    if (cred) headers.authorization = "Basic " + Buffer.from(cred).toString("base64");
    fetch(url, { method, headers, body: body || undefined, signal: AbortSignal.timeout(2000) })
      .then(async (r) => console.log(r.status, await r.text()))
      .catch(() => console.log("000"));
  ' "$@"
}

# couch_run NAME HOST — one pouchdb-server in the foreground, with its own fresh config file and log in its dir.
couch_run() {
  local name="$1" host="$2" dir
  dir="$(srv_dir "$name")"
  mkdir -p "$dir"
  if ! srv_running "$name"; then
    # A fresh config each start: no admin left over from a previous run, the log inside the server's dir.
    printf '{"log":{"file":"%s/pouchdb.log"}}\n' "$dir" > "$dir/config.json"
  fi
  # env -C: pouchdb-server writes next to its working directory; keep that inside $dir.
  srv_start "$name" -- env -C "$dir" node "$POUCHDB_BIN" --in-memory --no-color \
    --host "$host" --port "$COUCHDB_PORT" --config "$dir/config.json"
  for _ in $(seq 1 300); do
    [[ "$(couch_http GET "http://$host:$COUCHDB_PORT/")" == 200\ * ]] && return 0
    srv_running "$name" || break
    sleep 0.1
  done
  srv_fail "$name"
}

# couch_ensure_admin HOST — create the admin unless it exists; fail unless its credentials work.
couch_ensure_admin() {
  local base="http://$1:$COUCHDB_PORT" out
  out="$(couch_http GET "$base/_config")"
  if [[ "$out" == 200\ * ]]; then
    out="$(couch_http PUT "$base/_config/admins/$COUCHDB_ADMIN_USER" "\"$COUCHDB_ADMIN_PASSWORD\"")"
    [[ "$out" == 200\ * ]] || { echo "[servers] couchdb-auth: creating the admin failed: $out" >&2; srv_fail couchdb-auth; }
  fi
  out="$(couch_http GET "$base/_config" '' "$COUCHDB_ADMIN_USER:$COUCHDB_ADMIN_PASSWORD")"
  [[ "$out" == 200\ * ]] || { echo "[servers] couchdb-auth: the admin's credentials do not work: $out" >&2; srv_fail couchdb-auth; }
  out="$(couch_http GET "$base/_config")"
  [[ "$out" == 401\ * ]] || { echo "[servers] couchdb-auth: /_config still open without credentials: $out" >&2; srv_fail couchdb-auth; }
}

case "${1:-}" in
  start)
    [[ -f "$POUCHDB_BIN" ]] || { echo "[servers] $POUCHDB_BIN is missing; run scripts/install-couchdb.sh" >&2; exit 1; }
    couch_run couchdb-open "$COUCHDB_OPEN_HOST"
    couch_run couchdb-auth "$COUCHDB_AUTH_HOST"
    couch_ensure_admin "$COUCHDB_AUTH_HOST"
    ;;
  stop)
    srv_stop couchdb-open
    srv_stop couchdb-auth
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
