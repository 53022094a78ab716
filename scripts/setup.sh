#!/usr/bin/env bash
# Install what datapass needs into .venv and node_modules; safe to run again (idempotent).
# Usage: scripts/setup.sh [test]   ("test" adds the test dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "test" ] && extras="[test]"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# Reinstall only when the dependencies changed since the last install.
stamp=".venv/.installed${extras:+-test}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
  touch "$stamp"
fi

# The State design system (DSFR), served by the app from node_modules.
if [ ! -f node_modules/@gouvfr/dsfr/dist/dsfr.min.css ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
