#!/usr/bin/env bash
# Run the whole test suite on a clean machine: installs what it needs first (idempotent).
# Arguments are passed to pytest (e.g. scripts/test.sh -k journey).
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests drive for real: Debian's chromium for the browser tests.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

scripts/setup.sh test

.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
