"""Real Dovecot (IMAP) and Postfix (SMTP) servers on 127.0.0.1 for the integration suite.

Both run as root from a private directory under /tmp, on free high ports, with
certificates issued by a throwaway trustme CA. Postfix authenticates through
Dovecot's auth socket (SASL) and delivers local mail into Dovecot over LMTP.
``MailServers.stop()`` ends exactly the processes ``start()`` began.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import trustme

DOMAIN = "example.test"


@dataclass(frozen=True)
class Account:
    login: str
    password: str
    email: str


# Passwords are chosen to exercise the login paths: plain ASCII, non-ASCII
# (needs AUTHENTICATE/AUTH PLAIN in UTF-8), and quote plus backslash (needs
# IMAP quoting). ``bob`` logs in with a custom username, not his address.
ACCOUNTS = {
    "alice": Account("alice@example.test", "correct horse", "alice@example.test"),
    "bob": Account("bob", "bob-secret-7", "bob@example.test"),
    "carol": Account("carol@example.test", "pässwörd-ß", "carol@example.test"),
    "dave": Account("dave@example.test", 'qu"ote\\back', "dave@example.test"),
    # eve's mail is forwarded to frank by a Postfix alias: her own inbox never sees it.
    "eve": Account("eve@example.test", "eve-secret-5", "eve@example.test"),
    "frank": Account("frank@example.test", "frank-secret-6", "frank@example.test"),
}


_GIVEN: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now, never the same one twice in this process (the
    kernel may hand a just-released port out again, and two servers would then race for
    it)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def _wait_port(port: int, deadline: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early ({proc.returncode}):\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open in time:\n{_tail(log)}")


def _tail(path: Path) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-30:])
    except OSError:
        return "(no log)"


@dataclass
class MailServers:
    root: Path
    ca: trustme.CA
    ca_file: Path
    imap_port: int = field(default_factory=free_port)  # plain + STARTTLS, seen as local
    imaps_port: int = field(default_factory=free_port)  # implicit TLS
    imap_proxy_port: int = field(default_factory=free_port)  # PROXY-protocol listener
    imap_remote_port: int = field(default_factory=free_port)  # forwarder: looks non-local
    smtp_port: int = field(default_factory=free_port)  # submission, STARTTLS
    smtps_port: int = field(default_factory=free_port)  # implicit TLS
    accounts: dict[str, Account] = field(default_factory=lambda: dict(ACCOUNTS))
    # Implicit-TLS SMTP ports presenting a problem certificate: expired, made out to
    # another name, self-signed, and valid but expiring within days.
    cert_ports: dict[str, int] = field(
        default_factory=lambda: {
            name: free_port() for name in ("expired", "wrong_host", "self_signed", "expiring")
        }
    )
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _forwarder: ProxyForwarder | None = None

    @classmethod
    def create(cls, extra_users: int = 0) -> MailServers:
        """Servers (not yet started) with the fixed accounts plus ``extra_users``
        generated ones, ``user<N>@example.test`` with password ``pw-<N>-secret``."""
        root = Path(tempfile.mkdtemp(prefix="mp", dir="/tmp"))
        root.chmod(0o755)
        ca = trustme.CA()
        ca_file = root / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        servers = cls(root=root, ca=ca, ca_file=ca_file)
        for n in range(extra_users):
            address = f"user{n}@{DOMAIN}"
            servers.accounts[f"user{n}"] = Account(address, f"pw-{n}-secret", address)
        return servers

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        cert = self.ca.issue_cert("localhost", "127.0.0.1", "mx." + DOMAIN)
        cert.private_key_and_cert_chain_pem.write_to_path(str(self.root / "server.pem"))
        (self.root / "server.pem").chmod(0o644)
        self._write_problem_certs()
        try:
            self._start_dovecot()
            self._start_postfix()
            self._forwarder = ProxyForwarder(self.imap_remote_port, self.imap_proxy_port)
            self._forwarder.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._forwarder is not None:
            self._forwarder.stop()
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._procs.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_for_message(self, local_part: str, message_id: str, timeout: float) -> bool:
        """True once a message with ``message_id`` lands in ``local_part``'s maildir."""
        needle = f"Message-ID: {message_id}".encode().lower()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for sub in ("new", "cur"):
                folder = self.root / "mail" / local_part / sub
                for path in folder.glob("*") if folder.is_dir() else ():
                    if needle in path.read_bytes().lower():
                        return True
            time.sleep(0.05)
        return False

    def _write_problem_certs(self) -> None:
        now = datetime.datetime.now(datetime.timezone.utc)
        day = datetime.timedelta(days=1)
        leaves = {
            "expired": self.ca.issue_cert(
                "127.0.0.1", not_before=now - 30 * day, not_after=now - day
            ),
            "wrong_host": self.ca.issue_cert("wrong.example"),
            "expiring": self.ca.issue_cert("127.0.0.1", not_after=now + 5 * day + day / 2),
        }
        for name, leaf in leaves.items():
            leaf.private_key_and_cert_chain_pem.write_to_path(str(self.root / f"{name}.pem"))
        # A certificate that signs itself: another throwaway CA's own, served as a leaf.
        stranger = trustme.CA()
        (self.root / "self_signed.pem").write_bytes(
            stranger.private_key_pem.bytes() + stranger.cert_pem.bytes()
        )
        for name in self.cert_ports:
            (self.root / f"{name}.pem").chmod(0o644)

    # -- Dovecot -------------------------------------------------------------
    def _start_dovecot(self) -> None:
        d = self.root
        mail = d / "mail"
        mail.mkdir()
        os.chown(mail, 65534, 65534)
        users = "".join(f"{a.login}:{{PLAIN}}{a.password}::::::\n" for a in self.accounts.values())
        (d / "users").write_text(users, encoding="utf-8")
        conf = f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/server.pem
ssl_key = <{d}/server.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:{mail}/%n
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
haproxy_trusted_networks = 127.0.0.1
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {d}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={mail}/%n allow_all_users=yes
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
  inet_listener imap_haproxy {{
    port = {self.imap_proxy_port}
    haproxy = yes
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service anvil {{
  # No growing per-IP delay after failed logins: every test would slow the next.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0666
  }}
}}
# Clients seen through the PROXY forwarder get a low per-user limit, so the
# connection-capacity check meets a real refusal.
remote 192.0.2.77 {{
  mail_max_userip_connections = 3
}}
protocol lmtp {{
  auth_username_format = %Ln
}}
"""
        # LMTP delivers to the local part for the address-style logins; bob's
        # login is his local part already, so %n maps every account to one maildir.
        (d / "dovecot.conf").write_text(conf, encoding="utf-8")
        with open(d / "dovecot.stderr", "wb") as err:
            proc = subprocess.Popen(
                ["dovecot", "-F", "-c", str(d / "dovecot.conf")],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self._procs.append(proc)
        deadline = time.monotonic() + 20
        for port in (self.imap_port, self.imaps_port, self.imap_proxy_port):
            _wait_port(port, deadline, proc, d / "dovecot.log")

    # -- Postfix -------------------------------------------------------------
    def _start_postfix(self) -> None:
        d = self.root / "pf"
        d.mkdir()
        (d / "queue").mkdir()
        (d / "data").mkdir()
        shutil.chown(d / "data", "postfix")
        senders = "".join(f"{a.email} {a.login}\n" for a in self.accounts.values())
        (d / "senders").write_text(senders, encoding="utf-8")
        (d / "aliases").write_text(f"eve@{DOMAIN} frank@{DOMAIN}\n", encoding="utf-8")
        main = f"""
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file_prefixes = /tmp
maillog_file = {d}/postfix.log
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = {DOMAIN}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks =
alias_maps =
alias_database =
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = 200
biff = no
virtual_mailbox_domains = {DOMAIN}
virtual_alias_maps = texthash:{d}/aliases
virtual_transport = lmtp:unix:{self.root}/run/lmtp
default_transport = discard:
relay_transport = discard:
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {self.root}/run/auth-postfix
smtpd_tls_chain_files = {self.root}/server.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sender_login_maps = texthash:{d}/senders
smtpd_sender_restrictions = reject_sender_login_mismatch
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
"""
        (d / "main.cf").write_text(main, encoding="utf-8")
        problem_services = "\n".join(
            f"127.0.0.1:{port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes "
            f"-o smtpd_tls_security_level=encrypt -o smtpd_tls_chain_files={self.root}/{name}.pem"
            for name, port in self.cert_ports.items()
        )
        master = f"""
127.0.0.1:{self.smtp_port} inet n - n - - smtpd
127.0.0.1:{self.smtps_port} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt
{problem_services}
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""
        (d / "master.cf").write_text(master, encoding="utf-8")
        check = subprocess.run(
            ["postfix", "-c", str(d), "check"], capture_output=True, timeout=60, check=False
        )
        if check.returncode != 0:
            output = (check.stdout + check.stderr).decode(errors="replace")
            raise RuntimeError(f"postfix check failed: {output}\n{_tail(d / 'postfix.log')}")
        with open(d / "master.stderr", "wb") as err:
            proc = subprocess.Popen(
                ["/usr/lib/postfix/sbin/master", "-c", str(d), "-d"],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self._procs.append(proc)
        deadline = time.monotonic() + 20
        try:
            for port in (self.smtp_port, self.smtps_port, *self.cert_ports.values()):
                _wait_port(port, deadline, proc, d / "master.stderr")
        except RuntimeError as exc:  # Postfix says why in its own log, not on stderr
            raise RuntimeError(f"{exc}\npostfix.log:\n{_tail(d / 'postfix.log')}") from None


class ProxyForwarder:
    """Forward 127.0.0.1:listen_port to a Dovecot PROXY-protocol listener.

    Dovecot treats a connection whose client and server address are equal as
    secure and then allows plaintext LOGIN. The PROXY v1 header names a
    documentation-range client address (RFC 5737), so Dovecot applies the rules
    it applies to a remote client. No traffic goes anywhere but 127.0.0.1.
    """

    def __init__(self, listen_port: int, target_port: int) -> None:
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", listen_port))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            for s in self._socks:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
        for t in list(self._threads):
            t.join(timeout=5)
        with self._lock:
            for s in self._socks:
                s.close()
            self._socks.clear()
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, addr = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self._target), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            header = f"PROXY TCP4 192.0.2.77 127.0.0.1 {addr[1]} {self._target}\r\n"
            upstream.sendall(header.encode("ascii"))
            with self._lock:
                self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                t = threading.Thread(target=self._pipe, args=(a, b), daemon=True)
                t.start()
                self._threads.append(t)

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
