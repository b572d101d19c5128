"""A real Cyrus IMAP 3 server on 127.0.0.1 for the integration suite.

Run from the private root ``scripts/install-servers.sh`` unpacks Debian's
``cyrus-common`` and ``cyrus-imapd`` into (they conflict with the installed
``dovecot-imapd``). The master process starts as root and runs its services as the
``cyrus`` user. Passwords live in a sasldb file written with ``saslpasswd2``;
``allowplaintext: no`` makes a password need TLS, as upstream's default does.

Two namespaces, each on a STARTTLS and an implicit-TLS port:

- ``netnews``: ``unixhierarchysep: no`` and ``altnamespace: no``, what Debian's
  imapd.conf still ships and what Cyrus 2 servers show: folders are ``INBOX.Sent``,
  the hierarchy separator is ``.``;
- ``unix``: Cyrus 3's own defaults (``unixhierarchysep: yes``, ``altnamespace: yes``):
  folders are ``Sent`` beside ``INBOX``, the separator is ``/``.

One more implicit-TLS port presents a self-signed certificate. ``CyrusServer.stop()``
ends exactly the master process ``start()`` began (it ends its own children).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import trustme

from . import servers_common as common
from .mailservers import ACCOUNTS, DOMAIN, Account, _tail, _wait_port, free_port

BIN = common.SERVERS_ROOT / "usr" / "lib" / "cyrus" / "bin"
SASLPASSWD = common.SERVERS_ROOT / "usr" / "sbin" / "saslpasswd2"
REQUIRED = ("usr/lib/cyrus/bin/master", "usr/lib/cyrus/bin/imapd", "usr/sbin/saslpasswd2")

# Per-namespace settings (the rest of imapd.conf is shared).
NAMESPACES = {
    "netnews": {"unixhierarchysep": "no", "altnamespace": "no"},
    "unix": {"unixhierarchysep": "yes", "altnamespace": "yes"},
}


def version() -> str:
    """The unpacked Cyrus version, from its own build information."""
    try:
        out = subprocess.run(
            [str(BIN / "master"), "-V"], capture_output=True, env=_env(), timeout=30, check=False
        )
    except OSError:
        return "Cyrus not installed"
    # "cyrus-imapd 3.6.1-Debian-3.6.1-4+deb12u5"
    text = (out.stdout + out.stderr).decode(errors="replace").strip()
    return "Cyrus IMAP " + text.split()[-1] if text else "Cyrus unknown"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL")}
    env["LD_LIBRARY_PATH"] = str(common.LIBRARY_PATH)
    env["CYRUS_SYSLOG_PREFIX"] = "mailprobe-cyrus"
    return env


@dataclass
class CyrusServer:
    root: Path
    ca_file: Path
    ca: trustme.CA
    imap_port: int = field(default_factory=free_port)  # netnews namespace, STARTTLS
    imaps_port: int = field(default_factory=free_port)  # netnews namespace, implicit TLS
    unix_imap_port: int = field(default_factory=free_port)  # Cyrus 3 namespace, STARTTLS
    unix_imaps_port: int = field(default_factory=free_port)  # Cyrus 3 namespace, TLS
    self_signed_port: int = field(default_factory=free_port)  # TLS, self-signed certificate
    accounts: dict[str, Account] = field(default_factory=lambda: dict(ACCOUNTS))
    _proc: subprocess.Popen[bytes] | None = None
    _syslog: common.SyslogListener | None = None

    @classmethod
    def create(cls, ca: trustme.CA, ca_file: Path) -> CyrusServer:
        root = Path(tempfile.mkdtemp(prefix="mpc", dir="/tmp"))
        root.chmod(0o755)
        return cls(root=root, ca=ca, ca_file=ca_file)

    @property
    def log(self) -> Path:
        return self.root / "syslog.log"

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
        if self._syslog is not None:
            self._syslog.close()
            self._syslog = None
        # A mount namespace ends with its last process: nothing stays mounted here.
        subprocess.run(["rm", "-rf", "--one-file-system", str(self.root)], check=False)

    def _start(self) -> None:
        d = self.root
        cert, self_signed = common.write_certificates(self.ca, d)
        # What Cyrus's mkimap (Debian's cyrus-makedirs) creates.
        for sub in (
            "conf",
            "conf/socket",
            "conf/db",
            "conf/user",
            "conf/quota",
            "conf/sieve",
            "conf/log",
            "conf/msg",
            "conf/ptclient",
            "spool",
            "proc",
            "lock",
        ):
            (d / sub).mkdir()
        self._write_passwords()
        configs = {
            name: self._imapd_conf(name, options, cert) for name, options in NAMESPACES.items()
        }
        configs["self_signed"] = self._imapd_conf("self_signed", NAMESPACES["netnews"], self_signed)
        imapd = BIN / "imapd"
        services = [
            ("imap", "", "netnews", self.imap_port),
            ("imaps", "-s", "netnews", self.imaps_port),
            ("imapunix", "", "unix", self.unix_imap_port),
            ("imapsunix", "-s", "unix", self.unix_imaps_port),
            ("imapsselfsigned", "-s", "self_signed", self.self_signed_port),
        ]
        lines = "\n".join(
            f'  {name} cmd="{imapd} {flag} -C {configs[conf]}" listen="127.0.0.1:{port}" prefork=0'
            for name, flag, conf, port in services
        )
        cyrus_conf = d / "cyrus.conf"
        cyrus_conf.write_text(
            f'START {{\n  recover cmd="{BIN}/ctl_cyrusdb -C {configs["netnews"]} -r"\n}}\n'
            f"SERVICES {{\n{lines}\n}}\nEVENTS {{\n}}\n",
            encoding="utf-8",
        )
        common.chown_tree(d, "cyrus", "mail")
        command = [
            str(BIN / "master"),
            "-C",
            str(configs["netnews"]),
            "-M",
            str(cyrus_conf),
            "-p",
            str(d / "master.pid"),
            "-l",
            "128",
            "-L",
            str(d / "master.out"),
        ]
        if common.can_unshare():
            self._syslog = common.SyslogListener(d / "log.sock", self.log)
            command = common.private_dev_log(command, d / "log.sock", d / "hostdev")
        self._proc = common.start(command, d / "master.stderr", env=_env())
        deadline = time.monotonic() + 30
        for _, _, _, port in services:
            _wait_port(port, deadline, self._proc, self.log)

    def _write_passwords(self) -> None:
        sasldb = self.root / "sasldb2"
        for account in self.accounts.values():
            # With virtdomains, Cyrus strips the default domain and asks SASL for the
            # bare user in the server's realm (its servername).
            user = account.login.partition("@")[0]
            done = subprocess.run(
                [str(SASLPASSWD), "-p", "-c", "-f", str(sasldb), "-u", f"mx.{DOMAIN}", user],
                input=account.password.encode("utf-8"),
                capture_output=True,
                env=_env(),
                timeout=30,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"saslpasswd2 failed: {done.stderr.decode(errors='replace')}")

    def _imapd_conf(self, name: str, options: dict[str, str], cert: Path) -> Path:
        d = self.root
        settings = {
            "configdirectory": f"{d}/conf",
            "defaultpartition": "default",
            "partition-default": f"{d}/spool",
            "proc_path": f"{d}/proc",
            "mboxname_lockpath": f"{d}/lock",
            "lmtpsocket": f"{d}/conf/socket/lmtp",
            "idlesocket": f"{d}/conf/socket/idle",
            "notifysocket": f"{d}/conf/socket/notify",
            "servername": f"mx.{DOMAIN}",
            "admins": "cyrus",
            "virtdomains": "userid",
            "defaultdomain": DOMAIN,
            "allowplaintext": "no",
            "sasl_pwcheck_method": "auxprop",
            "sasl_auxprop_plugin": "sasldb",
            "sasl_sasldb_path": f"{d}/sasldb2",
            "sasl_mech_list": "PLAIN LOGIN",
            "tls_server_cert": str(cert),
            "tls_server_key": str(cert),
            "autocreate_quota": "0",
            "autocreate_inbox_folders": "Sent | Drafts",
            "xlist-sent": "Sent",
            "xlist-drafts": "Drafts",
            "hashimapspool": "no",
            "syslog_prefix": "mailprobe-cyrus",
            **options,
        }
        path = d / f"imapd-{name}.conf"
        path.write_text("".join(f"{k}: {v}\n" for k, v in settings.items()), encoding="utf-8")
        return path

    def tail(self) -> str:
        return _tail(self.log)
