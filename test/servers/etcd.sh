#!/usr/bin/env bash
# etcd test servers (Debian's etcd-server 3.4), on loopback, each from an empty data dir:
#   etcd-open   on $ETCD_OPEN_HOST:$ETCD_PORT: no auth (the classic exposed install), member n1 of a two-member
#   etcd-peer   on $ETCD_PEER_HOST:$ETCD_PORT: member n2 of that cluster, so the member list names a real peer;
#               --metrics extensive on etcd-open, so its /metrics counts every gRPC call it served (per method)
#   etcd-auth   on $ETCD_AUTH_HOST:$ETCD_PORT: a root user with $ETCD_ROOT_PASSWORD, then `etcdctl auth enable`:
#               anonymous ranges get `{"error":"etcdserver: user name is empty","code":3}`
#   etcd-mtls   on $ETCD_TLS_HOST:$ETCD_PORT: client URLs over TLS with --client-cert-auth (the Kubernetes way):
#               a client without a certificate is refused in the TLS handshake. CA, server and client
#               certificates are made with openssl in the server's dir (ca.crt, client.crt, client.key).
# Usage: test/servers/etcd.sh start|stop   (idempotent; by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Not (yet) in servers.env; the tests use the same defaults.
: "${ETCD_OPEN_HOST:=127.0.20.1}"
: "${ETCD_AUTH_HOST:=127.0.20.2}"
: "${ETCD_PEER_HOST:=127.0.20.3}"
: "${ETCD_TLS_HOST:=127.0.20.4}"
: "${ETCD_PORT:=2379}"
: "${ETCD_PEER_PORT:=2380}"
: "${ETCD_ROOT_PASSWORD:=lockdown-etcd-pw}"
: "${ETCD_BIN:=/usr/bin/etcd}"
: "${ETCDCTL_BIN:=/usr/bin/etcdctl}"
export ETCDCTL_API=3

# etcd_run NAME MEMBER HOST INITIAL_CLUSTER TOKEN CLIENT_SCHEME [EXTRA ARGS…] — one foreground member, fresh data.
etcd_run() {
  local name="$1" member="$2" host="$3" cluster="$4" token="$5" scheme="$6" dir
  shift 6
  dir="$(srv_dir "$name")"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  rm -rf "$dir/data"
  mkdir -p "$dir"
  srv_start "$name" -- "$ETCD_BIN" --name "$member" --data-dir "$dir/data" \
    --listen-client-urls "$scheme://$host:$ETCD_PORT" --advertise-client-urls "$scheme://$host:$ETCD_PORT" \
    --listen-peer-urls "http://$host:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$host:$ETCD_PEER_PORT" \
    --initial-cluster "$cluster" --initial-cluster-token "$token" --initial-cluster-state new \
    --logger zap --log-outputs stderr "$@"
}

# etcd_wait NAME ENDPOINT [etcdctl TLS flags…] — until the member reports healthy (it has a leader), or 60 s.
etcd_wait() {
  local name="$1" endpoint="$2"
  shift 2
  local deadline=$((SECONDS + 60))
  while ((SECONDS < deadline)); do
    if "$ETCDCTL_BIN" --endpoints "$endpoint" --dial-timeout 1s --command-timeout 2s "$@" endpoint health >/dev/null 2>&1; then
      return 0
    fi
    srv_running "$name" || srv_fail "$name"
    sleep 0.2
  done
  echo "[servers] $name at $endpoint not healthy within 60 s" >&2
  srv_fail "$name"
}

# A CA, a server certificate for $ETCD_TLS_HOST and a client certificate, made once per server dir.
etcd_make_certs() {
  local dir="$1"
  [[ -f "$dir/client.key" ]] && return 0
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=lockdown-test-ca" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=etcd-mtls" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$ETCD_TLS_HOST" > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 3650 \
    -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=root" -keyout "$dir/client.key" -out "$dir/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > "$dir/client.ext"
  openssl x509 -req -in "$dir/client.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 3650 \
    -extfile "$dir/client.ext" -out "$dir/client.crt" 2>/dev/null
}

start_open_cluster() {
  local cluster="n1=http://$ETCD_OPEN_HOST:$ETCD_PEER_PORT,n2=http://$ETCD_PEER_HOST:$ETCD_PEER_PORT"
  # A half-running pair cannot be completed (the fresh member would bootstrap a new cluster): restart both.
  if srv_running etcd-open && srv_running etcd-peer; then
    echo "[servers] etcd-open and etcd-peer already running"
    return 0
  fi
  srv_stop etcd-open
  srv_stop etcd-peer
  etcd_run etcd-open n1 "$ETCD_OPEN_HOST" "$cluster" lockdown-etcd-open http --metrics extensive
  etcd_run etcd-peer n2 "$ETCD_PEER_HOST" "$cluster" lockdown-etcd-open http
  etcd_wait etcd-open "http://$ETCD_OPEN_HOST:$ETCD_PORT"
  etcd_wait etcd-peer "http://$ETCD_PEER_HOST:$ETCD_PORT"
}

start_auth() {
  local endpoint="http://$ETCD_AUTH_HOST:$ETCD_PORT"
  if srv_running etcd-auth; then echo "[servers] etcd-auth already running (pid $(cat "$(srv_dir etcd-auth)/pid"))"; return 0; fi
  etcd_run etcd-auth n1 "$ETCD_AUTH_HOST" "n1=http://$ETCD_AUTH_HOST:$ETCD_PEER_PORT" lockdown-etcd-auth http
  etcd_wait etcd-auth "$endpoint"
  printf '%s\n' "$ETCD_ROOT_PASSWORD" | "$ETCDCTL_BIN" --endpoints "$endpoint" user add root --interactive=false >/dev/null
  # etcdctl grants the root role to the root user itself when `auth enable` finds it missing.
  "$ETCDCTL_BIN" --endpoints "$endpoint" auth enable >/dev/null 2>&1 || srv_fail etcd-auth
  if "$ETCDCTL_BIN" --endpoints "$endpoint" get --prefix '' --limit 1 >/dev/null 2>&1; then
    echo "[servers] etcd-auth still answers anonymous reads after auth enable" >&2
    srv_fail etcd-auth
  fi
}

start_mtls() {
  local dir endpoint="https://$ETCD_TLS_HOST:$ETCD_PORT"
  dir="$(srv_dir etcd-mtls)"
  etcd_make_certs "$dir"
  etcd_run etcd-mtls n1 "$ETCD_TLS_HOST" "n1=http://$ETCD_TLS_HOST:$ETCD_PEER_PORT" lockdown-etcd-mtls https \
    --cert-file "$dir/server.crt" --key-file "$dir/server.key" --client-cert-auth --trusted-ca-file "$dir/ca.crt"
  etcd_wait etcd-mtls "$endpoint" --cacert "$dir/ca.crt" --cert "$dir/client.crt" --key "$dir/client.key"
}

case "${1:-}" in
  start)
    start_open_cluster
    start_auth
    start_mtls
    ;;
  stop)
    srv_stop etcd-peer
    srv_stop etcd-open
    srv_stop etcd-auth
    srv_stop etcd-mtls
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
