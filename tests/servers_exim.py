"""A real Exim 4 submission server on 127.0.0.1 for the integration suite.

Run from the private root ``scripts/install-servers.sh`` unpacks Debian's
``exim4-daemon-light`` into (it conflicts with the installed ``postfix``). The daemon
starts as root with its own configuration (``-C``) and runs everything else as
``Debian-exim`` (``deliver_drop_privilege``). What it does, as shared hosting does:

- a STARTTLS port and an implicit-TLS port (``tls_on_connect_ports``), plus an
  implicit-TLS port that presents a self-signed certificate;
- AUTH PLAIN and LOGIN (the ``plaintext`` authenticator) only once TLS is up, checked
  against an lsearch file of logins and passwords, compared byte for byte (UTF-8);
- a MAIL ACL refusing a sender address the authenticated user does not own, with the
  wording cPanel's Exim configuration uses;
- a RCPT ACL (``verify = recipient``) refusing unknown local users with Exim's own
  "Unrouteable address"; other domains are accepted and discarded, local users' mail
  goes to a maildir per user under the server's root.

``EximServer.stop()`` ends exactly the daemon ``start()`` began.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import trustme

from . import servers_common as common
from .mailservers import ACCOUNTS, DOMAIN, Account, _wait_port, free_port

EXIM = common.SERVERS_ROOT / "usr" / "sbin" / "exim4"
REQUIRED = ("usr/sbin/exim4",)
USER = "Debian-exim"
# cPanel's reply to a sender address the authenticated user does not own.
SPOOFED = (
    "Your FROM address ( $sender_address ) must match your authenticated email user "
    "( $authenticated_id ). Treating this as a spoofed email."
)


def version() -> str:
    """The unpacked Exim's version line."""
    try:
        out = subprocess.run(
            [str(EXIM), "-C", "/dev/null", "-bV"], capture_output=True, timeout=30, check=False
        )
    except OSError:
        return "Exim not installed"
    match = re.search(r"Exim version (\S+)", out.stdout.decode(errors="replace"))
    return f"Exim {match.group(1)}" if match else "Exim unknown"


@dataclass
class EximServer:
    root: Path
    ca_file: Path
    ca: trustme.CA
    smtp_port: int = field(default_factory=free_port)  # submission, STARTTLS
    smtps_port: int = field(default_factory=free_port)  # implicit TLS
    self_signed_port: int = field(default_factory=free_port)  # TLS, self-signed certificate
    accounts: dict[str, Account] = field(default_factory=lambda: dict(ACCOUNTS))
    _proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls, ca: trustme.CA, ca_file: Path) -> EximServer:
        root = Path(tempfile.mkdtemp(prefix="mpe", dir="/tmp"))
        root.chmod(0o755)
        return cls(root=root, ca=ca, ca_file=ca_file)

    @property
    def log(self) -> Path:
        return self.root / "log" / "mainlog"

    def start(self) -> None:
        reason = common.missing(*REQUIRED)
        if reason:
            raise RuntimeError(reason)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._proc is not None:
            common.stop(self._proc)
            self._proc = None
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_for_message(self, local_part: str, message_id: str, timeout: float) -> bool:
        """True once a message with ``message_id`` lands in ``local_part``'s maildir."""
        needle = f"Message-ID: {message_id}".encode().lower()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            folder = self.root / "mail" / local_part / "new"
            for path in folder.glob("*") if folder.is_dir() else ():
                if needle in path.read_bytes().lower():
                    return True
            time.sleep(0.05)
        return False

    def _start(self) -> None:
        d = self.root
        cert, self_signed = common.write_certificates(self.ca, d)
        for sub in ("spool", "log", "mail"):
            (d / sub).mkdir()
        # lsearch: the key ends at the first colon or blank, the data is the rest of the
        # line as it stands (spaces, quotes and backslashes included).
        (d / "passwd").write_text(
            "".join(f"{a.login}: {a.password}\n" for a in self.accounts.values()),
            encoding="utf-8",
        )
        (d / "senders").write_text(
            "".join(f"{a.email}: {a.login}\n" for a in self.accounts.values()), encoding="utf-8"
        )
        local_parts = sorted({a.email.split("@")[0] for a in self.accounts.values()})
        (d / "mailboxes").write_text(
            "".join(f"{lp}: {lp}\n" for lp in local_parts), encoding="utf-8"
        )
        conf = d / "exim.conf"
        conf.write_text(self._config(cert, self_signed), encoding="utf-8")
        common.chown_tree(d / "spool", USER, USER)
        common.chown_tree(d / "log", USER, USER)
        common.chown_tree(d / "mail", USER, USER)
        check = subprocess.run(
            [str(EXIM), "-C", str(conf), "-bV"], capture_output=True, timeout=30, check=False
        )
        if check.returncode != 0:
            output = (check.stdout + check.stderr).decode(errors="replace")
            raise RuntimeError(f"exim -bV failed: {output}")
        # -bdf: daemon in the foreground; no -q: there is no queue runner, every
        # message is delivered at once by the process that took it.
        self._proc = common.start([str(EXIM), "-C", str(conf), "-bdf"], d / "exim.stderr")
        deadline = time.monotonic() + 20
        for port in (self.smtp_port, self.smtps_port, self.self_signed_port):
            _wait_port(port, deadline, self._proc, d / "exim.stderr")

    def _config(self, cert: Path, self_signed: Path) -> str:
        # Macros for what varies per instance; the rest is the fixed CONFIG below.
        macros = {
            "MP_EXIM": EXIM,
            "MP_ROOT": self.root,
            "MP_DOMAIN": DOMAIN,
            "MP_USER": USER,
            "MP_PORTS": f"{self.smtp_port} : {self.smtps_port} : {self.self_signed_port}",
            "MP_TLS_PORTS": f"{self.smtps_port} : {self.self_signed_port}",
            "MP_SELF_SIGNED_PORT": self.self_signed_port,
            "MP_CERT": cert,
            "MP_SELF_SIGNED_CERT": self_signed,
            "MP_SPOOFED": SPOOFED,
        }
        return "".join(f"{name} = {value}\n" for name, value in macros.items()) + CONFIG


# Exim's own configuration language; MP_* are the macros above.
CONFIG = r"""
exim_path = MP_EXIM
keep_environment =
spool_directory = MP_ROOT/spool
log_file_path = MP_ROOT/log/%slog
pid_file_path = MP_ROOT/exim.pid
primary_hostname = mx.MP_DOMAIN
qualify_domain = MP_DOMAIN
domainlist local_domains = MP_DOMAIN
local_interfaces = 127.0.0.1
daemon_smtp_ports = MP_PORTS
tls_on_connect_ports = MP_TLS_PORTS
tls_advertise_hosts = *
tls_certificate = ${if eq{$received_port}{MP_SELF_SIGNED_PORT}{MP_SELF_SIGNED_CERT}{MP_CERT}}
tls_privatekey = ${if eq{$received_port}{MP_SELF_SIGNED_PORT}{MP_SELF_SIGNED_CERT}{MP_CERT}}
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
never_users = root
deliver_drop_privilege = true
smtp_accept_max = 200
smtp_accept_max_per_host = 200
smtp_accept_queue_per_connection = 0
acl_smtp_mail = acl_check_mail
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_mail:
  deny    !authenticated = *
          message = 530 5.7.0 Authentication required
  deny    condition = ${if eq{${lookup{$sender_address}lsearch{MP_ROOT/senders}}}\
                             {$authenticated_id}{no}{yes}}
          message = MP_SPOOFED
  accept

acl_check_rcpt:
  require verify = recipient
  accept

begin routers

local_users:
  driver = accept
  domains = +local_domains
  local_parts = lsearch;MP_ROOT/mailboxes
  transport = maildir

elsewhere:
  driver = redirect
  domains = ! +local_domains
  data = :blackhole:

begin transports

maildir:
  driver = appendfile
  directory = MP_ROOT/mail/$local_part_data
  maildir_format
  create_directory
  user = MP_USER
  group = MP_USER
  mode = 0600

begin authenticators

# RFC 4616 PLAIN: $auth1 authzid, $auth2 authcid, $auth3 password.
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_advertise_condition = ${if def:tls_in_cipher}
  server_condition = ${if and{{!eq{$auth3}{}}\
                              {eq{$auth3}{${lookup{$auth2}lsearch{MP_ROOT/passwd}}}}}}
  server_set_id = $auth2

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_advertise_condition = ${if def:tls_in_cipher}
  server_condition = ${if and{{!eq{$auth2}{}}\
                              {eq{$auth2}{${lookup{$auth1}lsearch{MP_ROOT/passwd}}}}}}
  server_set_id = $auth1
"""
