"""What the Exim and Cyrus fixtures share: where their binaries are, certificates,
process handling and a private syslog.

Debian's ``exim4-daemon-light`` and ``cyrus-imapd`` conflict with the installed
``postfix`` and ``dovecot-imapd``, so ``scripts/install-servers.sh`` unpacks them
(``apt-get download`` + ``dpkg -x``) into a private root, :data:`SERVERS_ROOT`, and
the fixtures run the daemons from there with their own configuration.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

import trustme

# cryptography comes with trustme, which builds on it.
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .mailservers import DOMAIN

SERVERS_ROOT = Path(os.environ.get("MAILPROBE_SERVERS_ROOT", "/tmp/mpsrv"))
LIBRARY_PATH = SERVERS_ROOT / "usr" / "lib" / "x86_64-linux-gnu"


def missing(*relative: str) -> Optional[str]:
    """Why the unpacked servers cannot run, or None when every path is there."""
    for rel in relative:
        if not (SERVERS_ROOT / rel).exists():
            return (
                f"{SERVERS_ROOT / rel} is missing: run scripts/install-servers.sh "
                "(the README's test command does)"
            )
    return None


def _first_line(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, timeout=30, check=False)
    except OSError:
        return "not installed"
    lines = (out.stdout + out.stderr).decode(errors="replace").strip().splitlines()
    return lines[0] if lines and out.returncode == 0 else "not installed"


def servers_versions() -> str:
    """Dovecot's and Postfix's versions, as their own tools report them."""
    dovecot = _first_line(["dovecot", "--version"]).split(" (")[0]
    postfix = _first_line(["postconf", "-d", "-h", "mail_version"])
    return f"Dovecot {dovecot}, Postfix {postfix}"


def write_certificates(ca: trustme.CA, directory: Path) -> tuple[Path, Path]:
    """Write ``server.pem`` (key and chain from ``ca``, for 127.0.0.1, localhost and
    mx.example.test) and ``self-signed.pem`` (a leaf that signs itself, for the same
    names, as ``openssl req -x509`` makes). Both readable by the daemons' users."""
    server = directory / "server.pem"
    leaf = ca.issue_cert("127.0.0.1", "localhost", "mx." + DOMAIN)
    leaf.private_key_and_cert_chain_pem.write_to_path(str(server))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mx." + DOMAIN)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName("mx." + DOMAIN),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    self_signed = directory / "self-signed.pem"
    self_signed.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    for path in (server, self_signed):
        path.chmod(0o644)
    return server, self_signed


def start(
    command: list[str], stderr: Path, env: Optional[dict[str, str]] = None
) -> subprocess.Popen[bytes]:
    """Start a daemon in a session (and process group) of its own, whose id is its pid,
    so that :func:`stop` can wait for the children it forked too."""
    with open(stderr, "wb") as err:
        return subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a daemon :func:`start` began: SIGTERM, SIGKILL after 10 seconds; then wait
    for the processes it forked (an Exim delivery still finishing, say) to end, and
    SIGKILL them after 10 more seconds. They are all in the daemon's own process group."""
    group = proc.pid
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 10
    while _group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(group):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while _group_alive(group) and time.monotonic() < deadline:
            time.sleep(0.05)  # (a zombie nobody reaps would stay: give up after that)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def chown_tree(path: Path, user: str, group: str) -> None:
    for dirpath, dirnames, filenames in os.walk(path):
        shutil.chown(dirpath, user, group)
        for name in dirnames + filenames:
            shutil.chown(os.path.join(dirpath, name), user, group)


class SyslogListener:
    """A datagram socket that writes what syslog(3) sends it to a file.

    Cyrus logs only through syslog(3), and glibc always writes to /dev/log, which
    this machine does not have. :func:`private_dev_log` gives a process its own
    /dev/log pointing here, in a mount namespace of its own.
    """

    def __init__(self, path: Path, log_file: Path) -> None:
        self.path = path
        self.log_file = log_file
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        path.chmod(0o666)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        with open(self.log_file, "ab") as out:
            while not self._stop.is_set():
                try:
                    data = self._sock.recv(65536)
                except (TimeoutError, socket.timeout):
                    continue
                except OSError:
                    return
                out.write(data.rstrip(b"\0\n") + b"\n")
                out.flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


def private_dev_log(command: list[str], socket_path: Path, scratch: Path) -> list[str]:
    """``command`` wrapped to run in a mount namespace whose /dev holds the usual
    character devices plus ``log``, a link to ``socket_path``. The wrapper execs the
    command, so the process id stays the command's own."""
    script = f"""
set -e
mkdir -p {scratch}
mount --rbind /dev {scratch}
mount -t tmpfs -o mode=0755 mailprobe-dev /dev
for n in null zero full random urandom tty; do
  if [ -e {scratch}/$n ]; then touch /dev/$n; mount --bind {scratch}/$n /dev/$n; fi
done
if [ -d {scratch}/shm ]; then mkdir /dev/shm; mount --rbind {scratch}/shm /dev/shm; fi
ln -s {socket_path} /dev/log
exec "$@"
"""
    return [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        script,
        "sh",
        *command,
    ]


def can_unshare() -> bool:
    """True when this process may create a mount namespace (root outside strict sandboxes)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(
            ["unshare", "--mount", "--", "true"], capture_output=True, timeout=10, check=False
        )
        return done.returncode == 0
    return False
