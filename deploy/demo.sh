#!/usr/bin/env bash
# One command: install wifimon in .venv and run the demo against a simulated fleet.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/deploy/install.sh"
exec "$ROOT/.venv/bin/wifimon" demo "$@"
