#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 on a random port; always stops it afterwards.
# Uses TEST_DATABASE_URL as it is when already set. The server binaries refuse to run as root,
# so as root they run as the `postgres` system user (created when missing).
set -euo pipefail

if [ -n "${TEST_DATABASE_URL:-}" ]; then
  "$@"
  exit $?
fi

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ]; then
  echo "PostgreSQL 15 server binaries not found in $PGBIN (apt-get install postgresql-15)." >&2
  exit 1
fi

tmp=$(mktemp -d /tmp/gsr-pg.XXXXXX)
chmod 755 "$tmp"

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$tmp"
fi

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/server.log" -w -t 60 start \
  -o "-p $port -k $tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres gsr_test

echo "PostgreSQL 15 test server on 127.0.0.1:$port"
export TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/gsr_test"
status=0
"$@" || status=$?
exit $status
