#!/usr/bin/env bash
# Run datapass on its embedded default: SQLite in var/, demo data, development login.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export DATAPASS_ENV="${DATAPASS_ENV:-development}"
.venv/bin/datapass db upgrade
.venv/bin/datapass seed-demo
# The first signing key of access tokens, as the production migrate step creates it.
keys="${DATAPASS_OAUTH_KEY_DIR:-${DATAPASS_VAR_DIR:-var}/keys}"
ls "${keys}"/*.jwk.json >/dev/null 2>&1 || .venv/bin/datapass rotate-signing-key
port="${PORT:-5000}"
echo "datapass: http://127.0.0.1:${port}/ — sign in with a demo account at /login"
# The notification worker (with its beat relay) on the embedded broker (files in var/broker,
# no Redis); in development its mails land in var/mailbox, read at /dev/mailbox.
.venv/bin/celery -A worker.celery_app worker -B -P solo -Q datapass --loglevel INFO \
  --logfile "${DATAPASS_VAR_DIR:-var}/worker.log" &
worker_pid=$!
trap 'kill "${worker_pid}" 2>/dev/null || true' EXIT INT TERM
.venv/bin/datapass run --host 127.0.0.1 --port "${port}"
