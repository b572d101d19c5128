#!/usr/bin/env bash
# The main job: the offline example, probing through the scripted transport.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python examples/offline_demo.py
