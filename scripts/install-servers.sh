#!/usr/bin/env bash
# Install the mail servers the integration suite runs (needs root; idempotent). The
# test fixtures and benchmarks start their own private instances on 127.0.0.1.
#
# - Dovecot and Postfix: installed from Debian as usual; so is Redis, the broker of the
#   task-queue recipe's test (the fixture starts its own redis-server on a free port).
# - Exim 4 and Cyrus IMAP 3: Debian's exim4-daemon-light and cyrus-imapd conflict with
#   the installed postfix and dovecot-imapd, so their packages are fetched with
#   `apt-get download` and unpacked with `dpkg -x` into a private root
#   ($MAILPROBE_SERVERS_ROOT, default /tmp/mpsrv; short, because Cyrus puts unix
#   sockets under its run directory). Only the shared libraries they need that are
#   not on the machine yet are installed with apt (libraries do not conflict); the
#   daemons run from the private root with the fixtures' own configuration, as the
#   system users they switch to (Debian-exim, cyrus).
set -euo pipefail

root="${MAILPROBE_SERVERS_ROOT:-/tmp/mpsrv}"
# Packages unpacked into the private root, and the files that show they are there.
unpacked=(exim4-daemon-light cyrus-common cyrus-imapd sasl2-bin)
unpacked_files=(usr/sbin/exim4 usr/lib/cyrus/bin/master usr/lib/cyrus/bin/imapd usr/sbin/saslpasswd2)
# Shared libraries exim4 (libidn12) and Cyrus's imapd, master and lmtpd (the rest)
# link against that a Debian 12 machine with Postfix and Dovecot lacks.
libraries=(libidn12 libical3 libpcre3 libxapian30)

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to install: $*" >&2
    exit 1
  fi
}

updated=no
apt_update() {
  if [ "$updated" = no ]; then
    apt-get update -qq
    updated=yes
  fi
}

export DEBIAN_FRONTEND=noninteractive

missing=()
command -v dovecot >/dev/null 2>&1 || missing+=(dovecot-imapd dovecot-lmtpd)
[ -x /usr/lib/postfix/sbin/master ] || missing+=(postfix)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
for lib in "${libraries[@]}"; do
  dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q "install ok installed" || missing+=("$lib")
done
if [ "${#missing[@]}" -gt 0 ]; then
  need_root "${missing[@]}"
  apt_update
  # Postfix would otherwise ask how to configure the system-wide instance.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The system users the daemons switch to, as the Debian packages' postinst scripts
# would create them.
if ! getent passwd Debian-exim >/dev/null; then
  need_root "user Debian-exim"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin Debian-exim
fi
if ! getent passwd cyrus >/dev/null; then
  need_root "user cyrus"
  useradd --system --gid mail --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin cyrus
fi

complete=yes
for file in "${unpacked_files[@]}"; do
  [ -e "$root/$file" ] || complete=no
done
if [ "$complete" = no ]; then
  need_root "${unpacked[@]}"
  # Several test runs may start at once: one unpacks, the others wait for it.
  mkdir -p "$(dirname "$root")"
  exec 9>"$root.lock"
  flock 9
  complete=yes
  for file in "${unpacked_files[@]}"; do
    [ -e "$root/$file" ] || complete=no
  done
  if [ "$complete" = no ]; then
    apt_update
    work="$(mktemp -d)"
    # apt downloads as its own user when it may write to the directory.
    if getent passwd _apt >/dev/null; then chown _apt "$work"; fi
    (cd "$work" && apt-get download -qq "${unpacked[@]}")
    staging="$root.new"
    rm -rf "$staging"
    mkdir -p "$staging"
    for deb in "$work"/*.deb; do
      dpkg -x "$deb" "$staging"
    done
    rm -rf "$work" "$root"
    mv "$staging" "$root"
    chmod 755 "$root"
  fi
  flock -u 9
fi
