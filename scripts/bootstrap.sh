#!/usr/bin/env bash
# Create .venv (if missing) and install mailprobe into it, editable, with everything a
# contributor needs: the test, lint and docs extras ('.[dev]').
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
