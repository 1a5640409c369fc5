#!/usr/bin/env bash
# One command: install wifimon in .venv, then lint, type-check and run the whole test suite.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/deploy/install.sh"
cd "$ROOT"

# System tools the tests use: network namespaces, tc shaping and iperf3 for the probes.
missing=()
command -v iperf3 >/dev/null 2>&1 || missing+=(iperf3)
command -v tc >/dev/null 2>&1 || missing+=(iproute2)
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)
# A real Prometheus (and promtool, amtool) for the dashboard and rules tests.
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
# Reports as auditors see them: pdftotext/pdftoppm for the PDF, headless Chromium for the HTML.
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# Hotspot sessions: radclient sends real RADIUS accounting; a real PostgreSQL holds radacct.
command -v radclient >/dev/null 2>&1 || missing+=(freeradius-utils)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql)
if ((${#missing[@]})) && [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
.venv/bin/ruff check wifimon tests benchmarks grafana
.venv/bin/ruff format --check wifimon tests benchmarks grafana
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
