#!/usr/bin/env bash
# Run the whole test suite on a clean machine: installs what it needs first (idempotent).
# Arguments are passed to pytest (e.g. scripts/test.sh -k journey).
# The suite runs on SQLite (the embedded default) and, at the same time, the tests that touch the
# database run on a throwaway PostgreSQL server (DATAPASS_TEST_POSTGRES=0 skips that pass).
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests drive for real: Debian's chromium for the browser tests, PostgreSQL
# for the second pass, Redis for the broker checks.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

scripts/setup.sh test

.venv/bin/ruff check .
.venv/bin/ruff format --check .

if [ "${DATAPASS_TEST_POSTGRES:-1}" = "0" ]; then
  exec .venv/bin/python -m pytest "$@"
fi

# The PostgreSQL pass runs beside the SQLite one (the machine has two cores and each pass mostly
# waits on servers, workers and browsers it drives); its output follows the SQLite pass's.
# A throwaway PostgreSQL cluster on a free loopback port, in a temporary directory, run by a
# non-root user (PostgreSQL refuses root); stopped and removed on exit.
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
pg_dir="$(mktemp -d /tmp/datapass-pg.XXXXXX)"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$pg_dir"
  as_pg=(runuser -u postgres --)
fi
pg_pid=""
stop_postgres() {
  [ -n "$pg_pid" ] && kill "$pg_pid" 2>/dev/null || true
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_postgres EXIT
pg_port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
# Durability off: a test cluster is thrown away, and this makes it several times faster.
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o \
  "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null

# The tests that touch the database: all but the pure-domain and the browser ones (or, with
# arguments, what they select).
pg_args=("$@")
if [ $# -eq 0 ]; then
  for dir in tests/*/; do
    case "$dir" in tests/unit/ | tests/e2e/ | tests/__pycache__/) continue ;; esac
    pg_args+=("${dir%/}")
  done
fi
pg_log="$pg_dir/pytest.log"
(
  PATH="$pg_bin:$PATH" DATAPASS_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/postgres" \
    exec .venv/bin/python -m pytest -p no:cacheprovider "${pg_args[@]}"
) >"$pg_log" 2>&1 &
pg_pid=$!

echo "--- the tests on SQLite (the PostgreSQL pass runs beside them, its output follows)"
status=0
.venv/bin/python -m pytest "$@" || status=$?

pg_status=0
wait "$pg_pid" || pg_status=$?
pg_pid=""
echo "--- the same tests on PostgreSQL ($("$pg_bin/postgres" --version))"
cat "$pg_log"
[ "$pg_status" -eq 5 ] && [ $# -gt 0 ] && pg_status=0  # the arguments selected no such test
[ "$status" -ne 0 ] && exit "$status"
exit "$pg_status"
