#!/usr/bin/env bash
# Run datapass on its embedded default: SQLite in var/, demo data, development login.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

export DATAPASS_ENV="${DATAPASS_ENV:-development}"
.venv/bin/datapass db upgrade
.venv/bin/datapass seed-demo
port="${PORT:-5000}"
echo "datapass: http://127.0.0.1:${port}/ — sign in with a demo account at /login"
exec .venv/bin/datapass run --host 127.0.0.1 --port "${port}"
