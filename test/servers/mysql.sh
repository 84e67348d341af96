#!/usr/bin/env bash
# Two MariaDB servers (Debian's mariadb-server) on loopback for the MySQL protocol tests:
#   mysql-open  on $MYSQL_OPEN_HOST: 'root'@'%' with an EMPTY password (the classic exposed install)
#   mysql-auth  on $MYSQL_AUTH_HOST: 'root'@'%' identified by $MYSQL_PASSWORD
# Usage: test/servers/mysql.sh start|stop   (idempotent; started and stopped by PID)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Probes close after the greeting on purpose; --max-connect-errors keeps the server from ever blocking
# 127.0.0.1 (ERR 1129) for those handshake-only connections.
#
# write_init_file FILE PASSWORD — accounts for one instance. Run at every start (--init-file), so every
# statement is idempotent. With --skip-name-resolve a TCP client from 127.0.0.1 matches 'root'@'%' only
# once the host-specific root accounts and the anonymous users are gone.
write_init_file() {
  local file="$1" pw="$2"
  cat > "$file" <<SQL
DROP USER IF EXISTS ''@'localhost';
DROP USER IF EXISTS ''@'$(hostname)';
DROP USER IF EXISTS 'root'@'127.0.0.1';
DROP USER IF EXISTS 'root'@'::1';
DROP USER IF EXISTS 'root'@'$(hostname)';
CREATE USER IF NOT EXISTS 'root'@'%';
ALTER USER 'root'@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pw');
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'root'@'localhost';
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('$pw');
GRANT ALL PRIVILEGES ON *.* TO 'root'@'localhost' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
}

start_one() {
  local name="$1" host="$2" pw="$3" dir data
  dir="$(srv_dir "$name")"
  data="$dir/data"
  mkdir -p "$dir"
  if srv_running "$name"; then echo "[servers] $name already running (pid $(cat "$dir/pid"))"; return 0; fi
  if [[ ! -d "$data/mysql" ]]; then
    rm -rf "$data"
    mariadb-install-db --no-defaults --user=root --datadir="$data" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
      || { tail -n 40 "$dir/install.log" >&2; return 1; }
  fi
  write_init_file "$dir/init.sql" "$pw"
  srv_start "$name" -- mariadbd --no-defaults --user=root --datadir="$data" \
    --bind-address="$host" --port="$MYSQL_PORT" --socket="$data/mysqld.sock" --pid-file="$data/mariadbd.pid" \
    --skip-name-resolve --skip-log-bin --innodb-buffer-pool-size=16M --innodb-log-file-size=8M \
    --key-buffer-size=1M --max-connections=50 --performance-schema=OFF \
    --max-connect-errors=4294967295 \
    --init-file="$dir/init.sql"
  wait_tcp "$host" "$MYSQL_PORT" 60 || srv_fail "$name"
}

case "${1:-}" in
  start)
    start_one mysql-open "$MYSQL_OPEN_HOST" ""
    start_one mysql-auth "$MYSQL_AUTH_HOST" "$MYSQL_PASSWORD"
    ;;
  stop)
    srv_stop mysql-open
    srv_stop mysql-auth
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
