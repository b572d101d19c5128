#!/usr/bin/env bash
# Install Dovecot and Postfix from Debian if they are missing (needs root). The test
# fixtures and benchmarks start their own private instances on 127.0.0.1.
set -euo pipefail
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
