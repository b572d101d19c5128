#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine, as root: installs Dovecot and
# Postfix from Debian if they are missing, installs the package with its test
# extras into .venv, then runs the tests (real servers included), mypy and ruff.
# Extra arguments go to pytest. Any failure, or no test at all, fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-servers.sh
bash scripts/bootstrap.sh
.venv/bin/python -m pytest "$@"
.venv/bin/python -m mypy --strict src tests/type_usage.py
.venv/bin/python -m ruff check src tests examples benchmarks
echo "all checks passed"
