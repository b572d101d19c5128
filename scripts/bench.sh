#!/usr/bin/env bash
# The benchmarks (not part of CI): mailprobe against the naive stdlib script and against
# its peers (ImapFlow + Nodemailer on Node.js, aioimaplib + aiosmtplib), on the real
# Dovecot and Postfix, through a latency-adding proxy. Arguments go to run.py
# (--rounds 3 by default: every figure is the median of three rounds, with its spread).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-servers.sh
bash scripts/bootstrap.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
# The Node.js peer, installed next to its job script (node_modules is not committed).
if command -v npm >/dev/null 2>&1 && [ ! -d benchmarks/peers/node/node_modules/imapflow ]; then
  npm install --prefix benchmarks/peers/node --no-audit --no-fund --no-package-lock --silent
fi
exec .venv/bin/python benchmarks/run.py "$@"
