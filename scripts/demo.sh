#!/usr/bin/env bash
# The main job: the offline example, probing through the scripted transport.
# Installs only mailprobe's runtime dependencies (attrs, typing-extensions, certifi) into
# its own venv, .venv-demo, the first time; later runs start in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! .venv-demo/bin/python -c "import mailprobe" 2>/dev/null; then
  rm -rf .venv-demo
  python3 -m venv .venv-demo
  .venv-demo/bin/python -m pip install --quiet --disable-pip-version-check -e .
fi
exec .venv-demo/bin/python examples/offline_demo.py
