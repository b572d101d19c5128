"""The discovery tests' world: made-up domains answered by a local name server only,
HTTPS autoconfig and ISPDB servers, and greeters on the usual mail ports, all on one
random loopback address; Dovecot and Postfix (``servers``) for the real mailboxes.

``lab`` is started once per session; the ``net`` fixture hands it to a test with an
empty zone, no pages and fresh greeter records. Test modules import the fixture
functions (``*_fixture``); pytest knows them by their ``name``.
"""

from __future__ import annotations

import os
import ssl
import xml.sax.saxutils
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest
import trustme

import mailprobe

from .dnsserver import DNSServer
from .netservers import Greeter, HTTPSServer, Page, free_loopback_address

ISPDB = "https://ispdb.test/v1.1/{domain}"
GREETER_PORTS = {993: "imap-tls", 143: "imap-starttls", 465: "smtp-tls", 587: "smtp-starttls"}
# Every name a lab server may be asked for by TLS (the certificate must cover it).
NAMES = (
    "ispdb.test",
    *(
        f"{p}.{d}"
        for p in ("imap", "smtp", "mail")
        for d in (
            "guess.test",
            "mailhost.test",
            "bighost.test",
            "example.test",
            "corp.internal",
            "isp.test",
            "other.test",
            "v6.test",
        )
    ),
    *(
        n
        for d in (
            "example.test",
            "wk.test",
            "hostile.test",
            "isp.test",
            "corp.internal",
            "moved.test",
            "srv.test",
        )
        for n in (d, f"autoconfig.{d}")
    ),
)


@dataclass
class Lab:
    address: str
    ca: trustme.CA
    ca_file: str
    dns: DNSServer
    https: HTTPSServer
    http: HTTPSServer
    greeters: dict[int, Greeter]
    extra_ca: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.dns.reset()
        self.https.reset()
        self.http.reset()
        for greeter in self.greeters.values():
            greeter.reset()
        self.dns.host("ispdb.test", self.address)

    # -- shaping the world ---------------------------------------------------
    def at_lab(self, *names: str) -> None:
        """``names`` resolve to the lab's address (HTTPS on 443, greeters)."""
        for name in names:
            self.dns.host(name, self.address)

    def autoconfig(self, domain: str, body: bytes, **page: Any) -> None:
        self.at_lab(f"autoconfig.{domain}")
        self.https.pages[(f"autoconfig.{domain}", "/mail/config-v1.1.xml")] = Page(body, **page)

    def well_known(self, domain: str, body: bytes, **page: Any) -> None:
        self.at_lab(domain)
        path = "/.well-known/autoconfig/mail/config-v1.1.xml"
        self.https.pages[(domain, path)] = Page(body, **page)

    def ispdb(self, domain: str, body: bytes, **page: Any) -> None:
        self.https.pages[("ispdb.test", f"/v1.1/{domain}")] = Page(body, **page)

    # -- asking --------------------------------------------------------------
    def discover(self, email: str, **options: Any) -> mailprobe.Discovery:
        options.setdefault("nameservers", self.dns.nameservers)
        options.setdefault("ca_file", self.ca_file)
        options.setdefault("ispdb_url", ISPDB)
        options.setdefault("allow_private", True)  # the whole lab is on loopback
        options.setdefault("timeout", 10.0)
        return mailprobe.discover(email, **options)

    def received(self) -> bytes:
        """Everything every greeter was sent (after TLS)."""
        return b"".join(g.received for g in self.greeters.values())

    def connections(self) -> int:
        return sum(g.connections for g in self.greeters.values())


def server(host: str, port: int, socket_type: str, username: str = "%EMAILADDRESS%") -> str:
    esc = xml.sax.saxutils.escape
    return (
        f"<hostname>{esc(host)}</hostname><port>{port}</port>"
        f"<socketType>{socket_type}</socketType><username>{esc(username)}</username>"
        "<authentication>password-cleartext</authentication>"
    )


def config(
    domain: str,
    imap: tuple[tuple[Any, ...], ...] = (),
    smtp: tuple[tuple[Any, ...], ...] = (),
) -> bytes:
    """A Thunderbird config-v1.1 document naming ``imap`` and ``smtp`` servers, each
    ``(host, port, socketType[, username])``."""
    parts = [f'<?xml version="1.0"?>\n<clientConfig version="1.1"><emailProvider id="{domain}">']
    parts.append(f"<domain>{domain}</domain><displayName>{domain} mail</displayName>")
    parts += [f'<incomingServer type="imap">{server(*s)}</incomingServer>' for s in imap]
    parts.append(
        '<incomingServer type="pop3">' + server("pop.x.test", 995, "SSL") + "</incomingServer>"
    )
    parts += [f'<outgoingServer type="smtp">{server(*s)}</outgoingServer>' for s in smtp]
    parts.append("</emailProvider></clientConfig>\n")
    return "".join(parts).encode()


def _check_root() -> Optional[str]:
    if os.geteuid() != 0:
        return "the discovery lab binds ports 443, 993, 143, 465 and 587: run the suite as root"
    return None


@pytest.fixture(scope="session", name="lab")
def lab_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    problem = _check_root()
    if problem:
        pytest.fail(problem)  # never skip silently: CI runs as root
    address = free_loopback_address((443, 80, *GREETER_PORTS))
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*NAMES).configure_cert(context)
    ca_file = tmp_path_factory.mktemp("lab") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    dns = DNSServer()
    started: list[Any] = [dns]
    try:
        https = HTTPSServer(address, 443, context)
        started.append(https)
        http = HTTPSServer(address, 80, None)
        started.append(http)
        greeters = {}
        for port, kind in GREETER_PORTS.items():
            greeters[port] = Greeter(address, port, kind, context)
            started.append(greeters[port])
        instance = Lab(address, ca, str(ca_file), dns, https, http, greeters)
        instance.reset()
        yield instance
    finally:
        for part in reversed(started):
            part.close()


@pytest.fixture(name="net")
def net_fixture(lab: Lab) -> Iterator[Lab]:
    lab.reset()
    yield lab
    lab.reset()


@pytest.fixture(name="both_cas")
def both_cas_fixture(lab: Lab, servers: Any, tmp_path: Path) -> str:
    """A CA file trusting the lab and the Dovecot/Postfix fixtures."""
    path = tmp_path / "both.pem"
    path.write_bytes(Path(lab.ca_file).read_bytes() + Path(servers.ca_file).read_bytes())
    return str(path)


@pytest.fixture(name="no_system_lookups")
def no_system_lookups_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Records every made-up name handed to the system resolver; there must be none."""
    import socket

    asked: list[str] = []
    real = socket.getaddrinfo

    def watched(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.rstrip(".").endswith((".test", ".internal")):
            asked.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", watched)
    yield asked
    assert asked == [], f"the system resolver was asked for {asked}"
