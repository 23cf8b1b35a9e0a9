#!/usr/bin/env bash
# The queue tests start their own throwaway redis-server (Debian's package) on a random port,
# as scripts/with-postgres.sh does for PostgreSQL. Installs it with apt-get when run as root.
set -u
command -v "${TEST_REDIS_BIN:-redis-server}" >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing redis-server for the queue tests…"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server && exit 0
fi
echo "redis-server is not installed: install it with: sudo apt-get install -y redis-server" >&2
exit 1
