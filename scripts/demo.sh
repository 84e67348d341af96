#!/usr/bin/env bash
# `npm run demo`: start the project's local test servers (real Redis, PostgreSQL, MariaDB and memcached
# on 127.0.10-13.x, some open, some with authentication), put a little synthetic data in, scan them,
# and list what was found. Stop the servers afterwards with `npm run servers:stop`.
set -euo pipefail
cd "$(dirname "$0")/.."
source test/servers/servers.env
DB=".lockdown/demo.db"
mkdir -p .lockdown
bash test/servers/start-all.sh
# a little synthetic data so the findings have something to show
redis-cli -h "$REDIS_OPEN_HOST" -p "$REDIS_PORT" mset demo:user:1 alice demo:user:2 bob demo:user:3 carol >/dev/null
psql -h "$PG_TRUST_HOST" -p "$PG_PORT" -U postgres -qc "CREATE DATABASE demo_shop" 2>/dev/null || true
psql -h "$PG_TRUST_HOST" -p "$PG_PORT" -U postgres -d demo_shop -qc "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS customers(id serial primary key, name text); INSERT INTO customers(name) SELECT 'customer ' || g FROM generate_series(1, 1000) g WHERE NOT EXISTS (SELECT 1 FROM customers)" >/dev/null
echo
echo "== lockdown scan 127.0.10.0-127.0.13.255 -p redis,redis:6380,redis:6381,redis:6382,postgres,mysql,memcached --check-default-credentials"
node bin/lockdown.js scan 127.0.10.0-127.0.13.255 -p redis,redis:6380,redis:6381,redis:6382,postgres,mysql,memcached \
  --check-default-credentials --config scripts/demo.yaml --db "$DB" || true
echo
echo "== lockdown findings --auth open"
node bin/lockdown.js findings --auth open --db "$DB"
echo
echo "== lockdown show $REDIS_OPEN_HOST"
node bin/lockdown.js show "$REDIS_OPEN_HOST" --db "$DB" | head -40
echo
echo "Try: node bin/lockdown.js findings --db $DB --json | less    ·    npm run servers:stop when done"
