"""Shared fixtures: real mail servers for the integration suite, settings builders."""

from __future__ import annotations

import shutil
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest
import trustme

import mailprobe
from mailprobe import InboxSettings, Security, ServerSettings

from .mailservers import ACCOUNTS, MailServers
from .servers_common import servers_versions
from .servers_cyrus import CyrusServer
from .servers_exim import EximServer


def _servers_available() -> Optional[str]:
    for tool in ("dovecot", "postfix"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (the README's test command installs it)"
    return None


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, str]:
    """A server-side context for 127.0.0.1 and the CA file that trusts it."""
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, str(ca_file)


@pytest.fixture(scope="session")
def servers() -> Iterator[MailServers]:
    """Dovecot and Postfix on 127.0.0.1, started once for the session."""
    missing = _servers_available()
    if missing:
        pytest.fail(missing)  # never skip silently: CI must run the integration suite
    instance = MailServers.create()
    try:
        instance.start()
    except RuntimeError as exc:
        # A port taken by another process between choosing and binding it: say why on
        # the terminal, then start once more on fresh ports (a real fault fails again).
        print(f"\nmail servers did not start, retrying on other ports: {exc}", file=sys.stderr)
        instance = MailServers.create()
        instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def more_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    """The CA behind the Exim and Cyrus certificates, and a CA file that trusts it."""
    ca = trustme.CA()
    directory = tmp_path_factory.mktemp("more-ca")
    directory.chmod(0o755)
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return ca, ca_file


@pytest.fixture(scope="session")
def exim(more_ca: tuple[trustme.CA, Path]) -> Iterator[EximServer]:
    """Exim 4 (submission, STARTTLS and implicit TLS) on 127.0.0.1, once per session."""
    instance = EximServer.create(*more_ca)
    instance.start()  # fails, never skips, when the servers are not installed
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def cyrus(more_ca: tuple[trustme.CA, Path]) -> Iterator[CyrusServer]:
    """Cyrus IMAP 3 (both namespaces, STARTTLS and implicit TLS) on 127.0.0.1."""
    instance = CyrusServer.create(*more_ca)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


def pytest_report_header() -> list[str]:
    """The versions of the real servers the integration suite runs, for the record."""
    from . import servers_cyrus, servers_exim

    return [f"servers: {servers_versions()}, {servers_exim.version()}, {servers_cyrus.version()}"]


def inbox(
    account: str = "alice",
    *,
    imap_port: int = 993,
    smtp_port: int = 587,
    imap_security: Security = Security.TLS,
    smtp_security: Security = Security.STARTTLS,
    **overrides: Any,
) -> InboxSettings:
    """Settings for one of the fixture accounts on 127.0.0.1 (the ports are the fixture's
    random ones, so the security mode is always given: TLS for IMAP, STARTTLS for SMTP
    unless told otherwise)."""
    acc = ACCOUNTS[account]
    fields: dict[str, Any] = {
        "email": acc.email,
        "password": acc.password,
        "username": acc.login if acc.login != acc.email else None,
        "imap": ServerSettings(host="127.0.0.1", port=imap_port, security=imap_security),
        "smtp": ServerSettings(host="127.0.0.1", port=smtp_port, security=smtp_security),
    }
    fields.update(overrides)
    return InboxSettings(**fields)


def scripted_settings(**overrides: Any) -> InboxSettings:
    """Settings for probes through the scripted transport (never connected to)."""
    fields: dict[str, Any] = {
        "email": "alice@example.com",
        "password": "s3cret-Pa55",
        "imap": ServerSettings(host="imap.example.com", port=993),
        "smtp": ServerSettings(host="smtp.example.com", port=587),
    }
    fields.update(overrides)
    return InboxSettings(**fields)


def stage_causes(result: mailprobe.ProbeResult) -> dict[str, Optional[str]]:
    """``{stage: cause or status}`` for compact assertions."""
    out: dict[str, Optional[str]] = {}
    for s in result.stages:
        out[s.stage.value] = s.diagnosis.cause if s.diagnosis else s.status.value
    return out


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how long each hostile-server probe took to come back (for the record)."""
    from . import test_hostile

    if test_hostile.TIMINGS:
        terminalreporter.section(
            f"time to result, hostile servers (timeout {test_hostile.TIMEOUT}s)"
        )
        for name, seconds in test_hostile.TIMINGS:
            terminalreporter.write_line(f"{seconds:6.3f}s  {name}")
