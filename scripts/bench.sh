#!/usr/bin/env bash
# The benchmarks (not part of CI): mailprobe against the naive stdlib sequence, on the
# real Dovecot and Postfix, through a latency-adding proxy. Arguments go to run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-servers.sh
bash scripts/bootstrap.sh
exec .venv/bin/python benchmarks/run.py "$@"
