"""Hostile and broken servers: every probe comes back within the deadline with a
diagnosis, and no credential is sent where it must not be."""

from __future__ import annotations

import random
import ssl
import time
from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest

import mailprobe
from mailprobe import Security, Stage, StageStatus

from .conftest import scripted_settings
from .dummyserver import Peer, ScriptServer, imap_session, smtp_session
from .mailservers import free_port

TIMEOUT = 1.5
PASSWORD = "Hunter2-Xyzzy-Secret"
TIMINGS: list[tuple[str, float]] = []  # reported at the end of the run (conftest)
# A ProtocolError(reason="too_large") on a connect stage: the built-in rules call it a
# protocol mismatch today; with rules that read ProtocolError.reason, a protocol error.
TOO_LARGE = {"protocol_mismatch", "protocol_error"}


@pytest.fixture
def serve(tls: tuple[ssl.SSLContext, str]) -> Iterator[Callable[..., ScriptServer]]:
    servers: list[ScriptServer] = []

    def start(script: Callable[[Peer], None], implicit_tls: bool = False) -> ScriptServer:
        server = ScriptServer(script, tls_context=tls[0], implicit_tls=implicit_tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def probe_both(
    imap_port: int,
    smtp_port: int,
    security: Security,
    ca_file: Optional[str],
    name: str,
    **options: Any,
) -> mailprobe.ProbeResult:
    settings = scripted_settings(
        password=PASSWORD,
        imap=mailprobe.ServerSettings(host="127.0.0.1", port=imap_port, security=security),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=smtp_port, security=security),
    )
    started = time.monotonic()
    result = mailprobe.probe(
        settings, timeout=TIMEOUT, ca_file=ca_file, test_recipient="bcc@app.example", **options
    )
    elapsed = time.monotonic() - started
    TIMINGS.append((name, elapsed))
    assert elapsed < TIMEOUT + 1.0, f"{name} took {elapsed:.2f}s"
    return result


def cause(result: mailprobe.ProbeResult, stage: Stage) -> str:
    stage_result = result.stage(stage)
    assert stage_result.status is StageStatus.FAILED, result.to_dict()
    assert stage_result.diagnosis is not None
    return stage_result.diagnosis.cause


# -- scripts -------------------------------------------------------------------
def silent(peer: Peer) -> None:
    peer.wait()


def drip(peer: Peer) -> None:
    while not peer.stopping:
        peer.send(b"*")
        time.sleep(0.1)


def garbage(peer: Peer) -> None:
    rng = random.Random(7)
    peer.send(bytes(rng.getrandbits(8) for _ in range(4096)) + b"\r\n")
    peer.wait()


def huge_line(peer: Peer) -> None:
    chunk = b"x" * 65536
    for _ in range(48):  # 3 MB, and never a line end
        peer.send(chunk)
    peer.wait()


def close_at_once(peer: Peer) -> None:
    peer.sock.close()


def imap_bye(peer: Peer) -> None:
    peer.send(b"* BYE Too many connections from your address\r\n")
    peer.wait(0.5)


def smtp_554(peer: Peer) -> None:
    peer.send(b"554 5.7.1 Service unavailable; client host blocked\r\n")
    peer.wait(0.5)


def imap_reset_on_login(peer: Peer) -> None:
    imap_session(peer, on={"LOGIN": lambda p, tag: p.reset() or False})


def smtp_reset_on_auth(peer: Peer) -> None:
    smtp_session(peer, on={"AUTH": lambda p, line: p.reset() or False})


def imap_mute_login(peer: Peer) -> None:
    imap_session(peer, on={"LOGIN": lambda p, tag: p.wait() or False})


def smtp_mute_auth(peer: Peer) -> None:
    smtp_session(peer, on={"AUTH": lambda p, line: p.wait() or False})


def imap_endless_continuations(peer: Peer) -> None:
    def flood(p: Peer, tag: bytes) -> bool:
        while not p.stopping:
            p.send(b"+ more please\r\n" * 50)
            time.sleep(0.01)
        return False

    imap_session(peer, on={"LOGIN": flood})


def smtp_endless_ehlo(peer: Peer) -> None:
    def flood(p: Peer, line: bytes) -> bool:
        while not p.stopping:
            p.send(b"250-AUTH PLAIN LOGIN\r\n" * 50)
            time.sleep(0.01)
        return False

    smtp_session(peer, on={"EHLO": flood})


# -- behaviour on both legs (IMAP and SMTP pointed at the same hostile port) ---------
BOTH = [
    ("silent after accept", silent, Security.NONE, {"timeout"}),
    ("greeting one byte at a time", drip, Security.NONE, {"timeout"}),
    ("random binary garbage", garbage, Security.NONE, {"protocol_mismatch"}),
    ("3 MB line without line end", huge_line, Security.NONE, {"protocol_mismatch"}),
    ("immediate close", close_at_once, Security.NONE, {"server_disconnected"}),
    ("TLS port never answers ClientHello", silent, Security.TLS, {"timeout"}),
    ("plaintext greeting on implicit TLS", drip, Security.TLS, {"tls_mode_mismatch"}),
    ("STARTTLS, server silent", silent, Security.STARTTLS, {"timeout"}),
]


@pytest.mark.parametrize(("name", "script", "security", "expected"), BOTH, ids=[b[0] for b in BOTH])
def test_hostile_server_on_both_legs(
    serve: Callable[..., ScriptServer],
    tls: tuple[ssl.SSLContext, str],
    name: str,
    script: Callable[[Peer], None],
    security: Security,
    expected: set[str],
) -> None:
    server = serve(script)
    result = probe_both(server.port, server.port, security, tls[1], name)
    assert cause(result, Stage.IMAP_CONNECT) in expected
    assert cause(result, Stage.SMTP_CONNECT) in expected
    assert PASSWORD.encode() not in server.received


def test_tls_client_on_a_plain_server_and_the_reverse(
    serve: Callable[..., ScriptServer], tls: tuple[ssl.SSLContext, str]
) -> None:
    # A plain client on an implicit-TLS server: both sides wait for the other.
    tls_server = serve(silent, implicit_tls=True)
    result = probe_both(
        tls_server.port, tls_server.port, Security.NONE, tls[1], "plain client on implicit TLS"
    )
    assert cause(result, Stage.IMAP_CONNECT) in {"timeout", "tls_mode_mismatch"}
    # A TLS client on a server that greets in plain text.
    plain = serve(imap_session)
    result = probe_both(plain.port, plain.port, Security.TLS, tls[1], "TLS client on plain")
    assert cause(result, Stage.IMAP_CONNECT) == "tls_mode_mismatch"


# -- behaviour of one protocol -------------------------------------------------------
ONE = [
    ("IMAP * BYE greeting", imap_bye, Stage.IMAP_CONNECT, {"too_many_connections"}),
    ("SMTP 554 greeting", smtp_554, Stage.SMTP_CONNECT, {"server_rejected_connection"}),
    ("IMAP RST after LOGIN", imap_reset_on_login, Stage.IMAP_LOGIN, {"server_disconnected"}),
    ("SMTP RST after AUTH", smtp_reset_on_auth, Stage.SMTP_LOGIN, {"server_disconnected"}),
    ("IMAP never answers LOGIN", imap_mute_login, Stage.IMAP_LOGIN, {"timeout"}),
    ("SMTP never answers AUTH", smtp_mute_auth, Stage.SMTP_LOGIN, {"timeout"}),
    ("IMAP endless + continuations", imap_endless_continuations, Stage.IMAP_LOGIN, {"timeout"}),
    # Refused after 200 lines, at once, instead of waiting for the deadline.
    ("SMTP endless 250- reply", smtp_endless_ehlo, Stage.SMTP_CONNECT, TOO_LARGE),
]


@pytest.mark.parametrize(("name", "script", "stage", "expected"), ONE, ids=[o[0] for o in ONE])
def test_hostile_server_on_one_leg(
    serve: Callable[..., ScriptServer],
    tls: tuple[ssl.SSLContext, str],
    name: str,
    script: Callable[[Peer], None],
    stage: Stage,
    expected: set[str],
) -> None:
    server = serve(script)
    closed = free_port()
    imap_port, smtp_port = (
        (server.port, closed) if stage.protocol == "imap" else (closed, server.port)
    )
    result = probe_both(imap_port, smtp_port, Security.NONE, tls[1], name)
    assert cause(result, stage) in expected
    # The other leg failed at once on its closed port: it did not wait for this one.
    other = Stage.SMTP_CONNECT if stage.protocol == "imap" else Stage.IMAP_CONNECT
    assert cause(result, other) == "connection_refused"
    assert result.stage(other).duration < 0.5


# -- no downgrade: with STARTTLS chosen, no credential without a verified TLS link ----
def _imap_starttls(reply: Optional[bytes], then: str) -> Callable[[Peer], None]:
    def on_starttls(peer: Peer, tag: bytes) -> bool:
        if reply is None:
            peer.send(tag + b" OK Begin TLS negotiation now\r\n")
        else:
            peer.send(tag + b" " + reply + b"\r\n")
            return True
        if then == "garbage":
            peer.send(b"this is not a TLS record\r\n")
            peer.wait()
            return False
        peer.start_tls()  # a certificate the client does not trust
        peer.wait()
        return False

    return lambda peer: imap_session(
        peer, capabilities="IMAP4rev1 STARTTLS AUTH=PLAIN", on={"STARTTLS": on_starttls}
    )


def _smtp_starttls(reply: Optional[bytes], then: str) -> Callable[[Peer], None]:
    def on_starttls(peer: Peer, line: bytes) -> bool:
        if reply is not None:
            peer.send(reply + b"\r\n")
            return True
        peer.send(b"220 2.0.0 Ready to start TLS\r\n")
        if then == "garbage":
            peer.send(b"this is not a TLS record\r\n")
            peer.wait()
            return False
        peer.start_tls()
        peer.wait()
        return False

    return lambda peer: smtp_session(
        peer, extensions=("STARTTLS", "AUTH PLAIN LOGIN"), on={"STARTTLS": on_starttls}
    )


DOWNGRADES = [
    (
        "IMAP no STARTTLS offered",
        Stage.IMAP_CONNECT,
        lambda p: imap_session(p, capabilities="IMAP4rev1 AUTH=PLAIN"),
        {"starttls_unavailable"},
    ),
    (
        "IMAP STARTTLS refused",
        Stage.IMAP_CONNECT,
        _imap_starttls(b"NO [UNAVAILABLE] TLS not available", ""),
        {"starttls_unavailable"},
    ),
    (
        "IMAP STARTTLS then garbage",
        Stage.IMAP_CONNECT,
        _imap_starttls(None, "garbage"),
        {"tls_mode_mismatch", "tls_handshake_failed", "server_disconnected"},
    ),
    (
        "IMAP STARTTLS untrusted certificate",
        Stage.IMAP_CONNECT,
        _imap_starttls(None, "tls"),
        {"cert_unknown_ca"},
    ),
    (
        "SMTP no STARTTLS offered",
        Stage.SMTP_CONNECT,
        lambda p: smtp_session(p, extensions=("AUTH PLAIN LOGIN",)),
        {"starttls_unavailable"},
    ),
    (
        "SMTP STARTTLS refused",
        Stage.SMTP_CONNECT,
        _smtp_starttls(b"454 4.7.0 TLS not available due to local problem", ""),
        {"starttls_unavailable"},
    ),
    (
        "SMTP STARTTLS then garbage",
        Stage.SMTP_CONNECT,
        _smtp_starttls(None, "garbage"),
        {"tls_mode_mismatch", "tls_handshake_failed", "server_disconnected"},
    ),
    (
        "SMTP STARTTLS untrusted certificate",
        Stage.SMTP_CONNECT,
        _smtp_starttls(None, "tls"),
        {"cert_unknown_ca"},
    ),
]


@pytest.mark.parametrize(
    ("name", "stage", "script", "expected"), DOWNGRADES, ids=[d[0] for d in DOWNGRADES]
)
def test_no_credentials_without_tls(
    serve: Callable[..., ScriptServer],
    name: str,
    stage: Stage,
    script: Callable[[Peer], None],
    expected: set[str],
) -> None:
    server = serve(script)
    closed = free_port()
    imap_port, smtp_port = (
        (server.port, closed) if stage.protocol == "imap" else (closed, server.port)
    )
    # No ca_file: the suite's certificate is not trusted, as with a real impostor.
    result = probe_both(imap_port, smtp_port, Security.STARTTLS, None, name)
    assert cause(result, stage) in expected
    login = Stage.IMAP_LOGIN if stage.protocol == "imap" else Stage.SMTP_LOGIN
    assert result.stage(login).status is StageStatus.SKIPPED
    received = server.received
    assert server.connections == 1
    assert PASSWORD.encode() not in received
    for verb in (b"LOGIN", b"AUTHENTICATE", b"AUTH "):
        assert verb not in received.upper()


def test_a_server_without_pipelining_gets_one_command_at_a_time(
    serve: Callable[..., ScriptServer],
) -> None:
    order: list[bytes] = []

    def strict(peer: Peer) -> None:
        def reply(code: bytes) -> Callable[[Peer, bytes], bool]:
            def handler(p: Peer, line: bytes) -> bool:
                order.append(line.split(b":")[0].split(b" ")[0].upper())
                # Anything already waiting would be a pipelined command: record it.
                p.sock.settimeout(0.05)
                try:
                    early = p.sock.recv(100, 2)  # MSG_PEEK
                except OSError:
                    early = b""
                p.sock.settimeout(0.1)
                if early:
                    order.append(b"EARLY")
                p.send(code)
                return True

            return handler

        def data(p: Peer, line: bytes) -> bool:
            p.send(b"354 go ahead\r\n")
            while (body := p.readline()) is not None and body != b".":
                pass
            p.send(b"250 2.0.0 queued\r\n")
            return True

        smtp_session(
            peer,
            extensions=("AUTH PLAIN",),
            on={
                "AUTH": reply(b"235 2.7.0 ok\r\n"),
                "MAIL": reply(b"250 2.1.0 ok\r\n"),
                "RCPT": reply(b"250 2.1.5 ok\r\n"),
                "DATA": data,
            },
        )

    server = serve(strict)
    settings = scripted_settings(
        password=PASSWORD,
        imap=mailprobe.ServerSettings(host="127.0.0.1", port=free_port(), security=Security.NONE),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=server.port, security=Security.NONE),
    )
    result = mailprobe.probe(settings, timeout=5, test_recipient="bcc@app.example")
    assert result.stage(Stage.TEST_EMAIL).status is StageStatus.PASSED, result.to_dict()
    assert order == [b"AUTH", b"MAIL", b"RCPT"]
    assert result.stage(Stage.TEST_EMAIL).details["round_trips"] == 4
