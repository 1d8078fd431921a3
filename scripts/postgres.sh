#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for development, tests and benchmarks (never production).
#
# Usage: scripts/postgres.sh start [DB]   start the cluster (initialising it on first use),
#                                         create database DB (default: practice), print its URL
#        scripts/postgres.sh url [DB]     create DB if missing and print its URL (must be running)
#        scripts/postgres.sh status       say whether the cluster runs; exit 1 when it does not
#        scripts/postgres.sh stop         stop the cluster (keeps its data)
#        scripts/postgres.sh destroy      stop it and delete its data
#
# Every command is idempotent. The cluster listens on 127.0.0.1 only; one role (`practice`,
# allowed to create databases) owns the databases; its generated password lives in
# $POSTGRES_DIR/password (mode 600) and is part of the printed URL.
#   POSTGRES_PORT  TCP port (default 54329)
#   POSTGRES_DIR   cluster directory (default <repo>/var/postgres; when run as root and the
#                  `postgres` user cannot reach the repository, /tmp/practice-postgres-<hash>)
# Needs the Debian server: scripts/apt-install.sh postgresql
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${POSTGRES_PORT:-54329}"
DIR="${POSTGRES_DIR:-$ROOT/var/postgres}"
if [ -z "${POSTGRES_DIR:-}" ] && [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 &&
  ! runuser -u postgres -- test -x "$ROOT"; then
  # A checkout in a private folder (mode 700): keep the cluster where `postgres` can reach it.
  DIR="/tmp/practice-postgres-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
fi
DATA="$DIR/data"
SOCKETS="$DIR/run"
ROLE="practice"

die() { echo "postgres.sh: $*" >&2; exit 1; }

pg_bin() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$bin" ] || die "PostgreSQL server not installed: run scripts/apt-install.sh postgresql"
  echo "$bin"
}

# The server refuses to run as root: as root, run its programs as the `postgres` user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() { [ -f "$DATA/postmaster.pid" ] && as_owner "$(pg_bin)/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

superuser_sql() {
  as_owner "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKETS" -p "$PORT" -U postgres \
    -d postgres -tA "$@"
}

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  mkdir -p "$DATA" "$SOCKETS"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$DIR"
    runuser -u postgres -- test -w "$DATA" ||
      die "user postgres cannot write $DATA (a parent folder is not traversable); set POSTGRES_DIR"
  fi
  chmod 700 "$DATA" "$SOCKETS"
  umask 077
  [ -f "$DIR/password" ] || head -c 24 /dev/urandom | base64 | tr -d '/+=\n' >"$DIR/password"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR/password"
  as_owner "$(pg_bin)/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$DIR/initdb.log" 2>&1 ||
    die "initdb failed; see $DIR/initdb.log"
  cat >>"$DATA/postgresql.conf" <<EOF
# scripts/postgres.sh: loopback only, sockets private to the cluster's owner.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKETS'
unix_socket_permissions = 0700
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_connections = 100
EOF
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

start_cluster() {
  init_cluster
  if ! running; then
    port_taken && die "port $PORT is taken by another server; set POSTGRES_PORT"
    as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -o "-p $PORT" -l "$DIR/server.log" -w -t 60 start \
      >/dev/null || die "server did not start; see $DIR/server.log"
  fi
  local password
  password="$(cat "$DIR/password")"
  superuser_sql <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
}

ensure_database() {
  local db="$1"
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "database name must be lower-case letters, digits, _"
  if [ -z "$(superuser_sql -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    superuser_sql -c "CREATE DATABASE $db OWNER $ROLE" >/dev/null
  fi
}

print_url() { echo "postgresql://$ROLE:$(cat "$DIR/password")@127.0.0.1:$PORT/$1"; }

command="${1:-}"
db="${2:-practice}"
case "$command" in
  start)
    start_cluster
    ensure_database "$db"
    print_url "$db"
    ;;
  url)
    running || die "not running; start it with: scripts/postgres.sh start"
    ensure_database "$db"
    print_url "$db"
    ;;
  status)
    if running; then echo "running on 127.0.0.1:$PORT ($DATA)"; else echo "stopped"; exit 1; fi
    ;;
  stop)
    if running; then as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; fi
    echo "stopped"
    ;;
  destroy)
    if running; then as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; fi
    rm -rf "$DIR"
    echo "destroyed"
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
