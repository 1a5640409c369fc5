#!/usr/bin/env bash
# Installs what wifimon needs on a Debian machine with Python 3.11+: a venv in .venv with
# wifimon and its test/demo extras. Idempotent; sourced by demo.sh and test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

need_apt=()
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "wifimon needs Python 3.11 or newer" >&2; exit 1; }
python3 -m venv --help >/dev/null 2>&1 || need_apt+=(python3-venv)
# WeasyPrint (PDF reports) lays out text with Pango; DejaVu is the reports' font.
ldconfig -p | grep -q libpangoft2-1.0.so.0 || need_apt+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_apt+=(fonts-dejavu-core)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
  else
    echo "please install: ${need_apt[*]} (sudo apt-get install ${need_apt[*]})" >&2; exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
