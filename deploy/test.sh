#!/usr/bin/env bash
# One command: install wifimon in .venv, then lint, type-check and run the whole test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/deploy/install.sh"
cd "$ROOT"
.venv/bin/ruff check wifimon tests benchmarks
.venv/bin/ruff format --check wifimon tests benchmarks
.venv/bin/mypy wifimon
set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "no tests were collected" >&2
  exit 1
fi
exit "$status"
