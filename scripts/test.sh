#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine, as root: installs Dovecot and
# Postfix from Debian if they are missing, installs the package with its test
# extras into .venv, then runs the tests (real servers included), mypy and ruff.
# Extra arguments go to pytest. Any failure, or no test at all, fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd dovecot-lmtpd)
[ -x /usr/lib/postfix/sbin/master ] || missing+=(postfix)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Postfix would otherwise ask how to configure the system-wide instance.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash scripts/bootstrap.sh
.venv/bin/python -m pytest "$@"
.venv/bin/python -m mypy --strict src
.venv/bin/python -m ruff check src tests examples
echo "all checks passed"
