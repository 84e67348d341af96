# Shared helpers for the test-server scripts: every server is started in the background,
# remembered by PID in $LOCKDOWN_SERVERS_DIR/NAME/pid, and stopped by that PID. Idempotent.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=servers.env
source "$HERE/servers.env"
mkdir -p "$LOCKDOWN_SERVERS_DIR"

srv_dir() { echo "$LOCKDOWN_SERVERS_DIR/$1"; }

srv_running() {
  local pidfile; pidfile="$(srv_dir "$1")/pid"
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# srv_start NAME [--as USER] -- CMD ARGS...   (CMD must stay in the foreground)
srv_start() {
  local name="$1"; shift
  local as=""
  if [[ "${1:-}" == "--as" ]]; then as="$2"; shift 2; fi
  [[ "${1:-}" == "--" ]] && shift
  local dir; dir="$(srv_dir "$name")"
  mkdir -p "$dir"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  if [[ -n "$as" ]]; then
    chown -R "$as" "$dir"
    setsid runuser -u "$as" -- "$@" >"$dir/log" 2>&1 < /dev/null &
  else
    setsid "$@" >"$dir/log" 2>&1 < /dev/null &
  fi
  echo $! > "$dir/pid"
  echo "[servers] started $name (pid $!)"
}

srv_stop() {
  local name="$1" dir pid
  dir="$(srv_dir "$name")"
  [[ -f "$dir/pid" ]] || return 0
  pid="$(cat "$dir/pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    echo "[servers] stopped $name (pid $pid)"
  fi
  rm -f "$dir/pid"
}

# wait_tcp HOST PORT [SECONDS] — wait until something accepts connections.
wait_tcp() {
  local host="$1" port="$2" secs="${3:-60}"
  for _ in $(seq 1 $((secs * 10))); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "[servers] $host:$port did not come up within ${secs}s" >&2
  return 1
}

# srv_fail NAME — print the server's log and fail.
srv_fail() {
  echo "[servers] $1 failed to start; its log:" >&2
  tail -n 40 "$(srv_dir "$1")/log" >&2 || true
  return 1
}

# java_home — the JDK behind the `java` on PATH (for servers that want JAVA_HOME-style variables).
java_home() { dirname "$(dirname "$(readlink -f "$(command -v java)")")"; }

# http_status URL — the HTTP status code of a GET (000 when nothing answers). Node is always here; curl may not be.
http_status() {
  node -e '
    const u = new URL(process.argv[1]);
    const m = u.protocol === "https:" ? require("node:https") : require("node:http");
    const r = m.get(u, { rejectUnauthorized: false, timeout: 2000 }, (res) => { console.log(res.statusCode); res.resume(); });
    r.on("timeout", () => r.destroy());
    r.on("error", () => console.log("000"));' "$1"
}

# wait_http NAME URL STATUS — until URL answers STATUS, the process dies (log printed) or 180 s pass.
wait_http() {
  local name="$1" url="$2" want="$3" got=""
  for _ in $(seq 1 360); do
    got="$(http_status "$url")"
    [[ "$got" == "$want" ]] && return 0
    srv_running "$name" || srv_fail "$name"
    sleep 0.5
  done
  echo "[servers] $name: $url answered $got, not $want, within 180 s" >&2
  srv_fail "$name"
}
