"""Hostile and broken servers: every probe comes back within the deadline with a
diagnosis, and no credential is sent where it must not be."""

from __future__ import annotations

import gc
import json
import random
import ssl
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest

import mailprobe
from mailprobe import Security, Stage, StageStatus

from .conftest import scripted_settings
from .dummyserver import (
    Peer,
    ScriptServer,
    imap_mailbox,
    imap_session,
    smtp_mailbox,
    smtp_session,
)
from .mailservers import free_port

TIMEOUT = 1.5
PASSWORD = "Hunter2-Xyzzy-Secret"
TIMINGS: list[tuple[str, float]] = []  # reported at the end of the run (conftest)
# A ProtocolError(reason="too_large"): the built-in rules read the reason.
TOO_LARGE = {"protocol_error"}
BUILTIN_CAUSE = {
    "protocol:malformed": "protocol_error",
    "protocol:too_large": "protocol_error",
    "protocol:not_protocol": "protocol_mismatch",
}


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
    ("SMTP 554 greeting", smtp_554, Stage.SMTP_CONNECT, {"ip_blocked"}),
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


# == round 2 (issue 11) ================================================================
# Each class below runs several variants; the worst case of each is measured for time
# and peak Python memory (tracemalloc, every thread) and reported with the timings.
MEMORY_BOUND = 50_000_000
LIMIT_TIMEOUT = 3.0


def protocol_reasons() -> mailprobe.RuleRegistry:
    """The built-in rules plus one that names a ProtocolError's reason as the cause, so
    tests can tell "not the protocol" from "malformed" from "too large"."""
    rules = mailprobe.default_registry()

    @rules.register(id="test.protocol_reason", priority=10_000)
    def by_reason(failure: mailprobe.Failure) -> Optional[mailprobe.Diagnosis]:
        if isinstance(failure.error, mailprobe.ProtocolError):
            return mailprobe.Diagnosis(
                category=mailprobe.ErrorCategory.UNAUTHORIZED,
                cause=f"protocol:{failure.error.reason}",
            )
        return None

    return rules


def measured(name: str, run: Callable[[], mailprobe.ProbeResult], timeout: float) -> Any:
    """``run()`` under tracemalloc; asserts it ended within ``timeout`` + 1 s holding
    less than 50 MB more than before, and records both figures."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    started = time.monotonic()
    try:
        result = run()
    finally:
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    TIMINGS.append((f"{name} [peak {peak / 1e6:.1f} MB]", elapsed))
    assert elapsed < timeout + 1.0, f"{name} took {elapsed:.2f}s"
    assert peak < MEMORY_BOUND, f"{name} held {peak / 1e6:.1f} MB"
    return result


def probe_one(
    server: ScriptServer,
    protocol: str,
    *,
    security: Security = Security.NONE,
    ca_file: Optional[str] = None,
    timeout: float = TIMEOUT,
    name: str,
    **options: Any,
) -> mailprobe.ProbeResult:
    """Probe with ``protocol``'s leg on ``server`` and the other on a closed port."""
    closed = free_port()
    imap_port, smtp_port = (server.port, closed) if protocol == "imap" else (closed, server.port)
    other = Security.NONE
    settings = scripted_settings(
        password=PASSWORD,
        imap=mailprobe.ServerSettings(
            host="127.0.0.1", port=imap_port, security=security if protocol == "imap" else other
        ),
        smtp=mailprobe.ServerSettings(
            host="127.0.0.1", port=smtp_port, security=security if protocol == "smtp" else other
        ),
    )
    options.setdefault("rules", protocol_reasons())
    return measured(
        name,
        lambda: mailprobe.probe(
            settings,
            timeout=timeout,
            ca_file=ca_file,
            test_recipient="bcc@app.example",
            **options,
        ),
        timeout,
    )


# -- 1. nothing learnt before TLS survives STARTTLS ------------------------------------
INJECTED = b'* LIST (\\Sent) "/" Injected-Sent\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN X-INJECTED\r\n'


def _imap_injecting(where: str) -> Callable[[Peer], None]:
    def on_starttls(p: Peer, tag: bytes) -> bool:
        ok = tag + b" OK begin TLS now\r\n"
        if where == "before":
            p.send(INJECTED + ok)
        elif where == "after":
            p.send(ok + INJECTED)  # one segment: the client reads both at once
        else:  # "greeting": the injection came with the plain-text greeting
            p.send(ok)
        p.start_tls()
        return True

    greeting = None
    if where == "greeting":
        greeting = b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN X-INJECTED] hi\r\n" + INJECTED
    return lambda peer: imap_mailbox(
        peer,
        capabilities="IMAP4rev1 STARTTLS AUTH=PLAIN",
        on={"STARTTLS": on_starttls},
        greeting=greeting,
    )


@pytest.mark.parametrize("where", ["before", "after", "greeting"])
def test_imap_state_from_before_starttls_is_forgotten(
    serve: Callable[..., ScriptServer], tls: tuple[ssl.SSLContext, str], where: str
) -> None:
    server = serve(_imap_injecting(where))
    result = probe_one(
        server, "imap", security=Security.STARTTLS, ca_file=tls[1], name=f"IMAP inject {where}"
    )
    validate = result.stage(Stage.IMAP_VALIDATE)
    assert validate.status is StageStatus.PASSED, result.to_dict()
    assert "Injected-Sent" not in validate.details["folders"]
    assert validate.details["sent_folder"] == "Sent"
    for stage in (Stage.IMAP_CONNECT, Stage.IMAP_VALIDATE):
        assert "X-INJECTED" not in result.stage(stage).details["capabilities"]


def _smtp_injecting(where: str) -> Callable[[Peer], None]:
    def ehlo(p: Peer, line: bytes) -> bool:
        if isinstance(p.sock, ssl.SSLSocket):
            p.send(b"250-dummy\r\n250-X-TLS-ONLY\r\n250 AUTH LOGIN\r\n")
        else:  # before TLS: a different AUTH list, which must not survive
            p.send(b"250-dummy\r\n250-STARTTLS\r\n250-X-PLAIN-ONLY\r\n250 AUTH PLAIN\r\n")
        return True

    def starttls(p: Peer, line: bytes) -> bool:
        if where == "after":
            p.send(b"220 2.0.0 go ahead\r\n250-fake\r\n250 AUTH PLAIN X-INJECTED\r\n")
        else:
            p.send(b"220 2.0.0 go ahead\r\n")
        p.start_tls()
        return True

    def auth(p: Peer, line: bytes) -> bool:
        if line.upper().startswith(b"AUTH LOGIN"):
            p.send(b"334 VXNlcm5hbWU6\r\n")
            p.readline()
            p.send(b"334 UGFzc3dvcmQ6\r\n")
            p.readline()
            p.send(b"235 2.7.0 ok\r\n")
        else:
            p.send(b"504 5.5.4 not here\r\n")
        return True

    return lambda peer: smtp_mailbox(peer, on={"EHLO": ehlo, "STARTTLS": starttls, "AUTH": auth})


@pytest.mark.parametrize("where", ["ehlo", "after"])
def test_smtp_state_from_before_starttls_is_forgotten(
    serve: Callable[..., ScriptServer], tls: tuple[ssl.SSLContext, str], where: str
) -> None:
    server = serve(_smtp_injecting(where))
    result = probe_one(
        server, "smtp", security=Security.STARTTLS, ca_file=tls[1], name=f"SMTP inject {where}"
    )
    connect = result.stage(Stage.SMTP_CONNECT)
    assert connect.status is StageStatus.PASSED, result.to_dict()
    assert "X-TLS-ONLY" in connect.details["capabilities"]
    assert not {"X-PLAIN-ONLY", "X-INJECTED"} & set(connect.details["capabilities"])
    assert tuple(connect.details["auth_mechanisms"]) == ("LOGIN",)
    assert result.stage(Stage.SMTP_LOGIN).details["method"] == "AUTH LOGIN"


# -- 2. bounded memory and CPU ----------------------------------------------------------
def _imap_literal(size: int, at: str) -> Callable[[Peer], None]:
    def listing(p: Peer, tag: bytes) -> bool:
        p.send(b'* LIST () "/" {' + str(size).encode() + b"}\r\n")
        chunk = b"x" * 65536
        for _ in range(min(size // len(chunk), 64)):  # up to 4 MB, sent fast
            p.send(chunk)
        p.wait()
        return False

    def greeting(p: Peer) -> None:
        p.send(b"* OK {" + str(size).encode() + b"}\r\n")
        p.wait()

    if at == "greeting":
        return greeting
    return lambda peer: imap_mailbox(peer, on={"LIST": listing})


def _imap_many_folders(
    count: int, line: bytes = b'* LIST () "/" F%d\r\n'
) -> Callable[[Peer], None]:
    payload = b"".join(line.replace(b"%d", str(i).encode()) for i in range(count))

    def listing(p: Peer, tag: bytes) -> bool:
        view = memoryview(payload)
        for start in range(0, len(view), 1 << 20):
            p.send(view[start : start + (1 << 20)])
        p.send(tag + b" OK done\r\n")
        return True

    return lambda peer: imap_mailbox(peer, on={"LIST": listing})


def _smtp_ehlo_flood(lines: int, width: int) -> Callable[[Peer], None]:
    payload = (b"250-AUTH " + b"X" * width + b"\r\n") * lines + b"250 OK\r\n"

    def ehlo(p: Peer, line: bytes) -> bool:
        p.send(b"250-dummy\r\n")
        p.send(payload)
        return True

    return lambda peer: smtp_mailbox(peer, on={"EHLO": ehlo})


def _imap_capability_flood(width: int) -> Callable[[Peer], None]:
    def greet(peer: Peer) -> None:
        imap_mailbox(peer, greeting=b"* OK ready\r\n", on={"CAPABILITY": capability})

    def capability(p: Peer, tag: bytes) -> bool:
        p.send(b"* CAPABILITY IMAP4rev1 " + b"X" * width + b"\r\n" + tag + b" OK\r\n")
        return True

    return greet


LIMITS = [
    (
        "IMAP 2 GB literal in LIST",
        "imap",
        _imap_literal(2_000_000_000, "list"),
        Stage.IMAP_VALIDATE,
        "protocol:too_large",
    ),
    (
        "IMAP 70 KB literal in LIST",
        "imap",
        _imap_literal(70_000, "list"),
        Stage.IMAP_VALIDATE,
        "protocol:too_large",
    ),
    (
        "IMAP 2 GB literal in the greeting",
        "imap",
        _imap_literal(2_000_000_000, "greeting"),
        Stage.IMAP_CONNECT,
        "protocol:not_protocol",
    ),
    (
        "IMAP LIST of a million folders",
        "imap",
        _imap_many_folders(1_000_000),
        Stage.IMAP_VALIDATE,
        "protocol:too_large",
    ),
    (
        "IMAP LIST of 10001 folders",
        "imap",
        _imap_many_folders(10_001),
        Stage.IMAP_VALIDATE,
        "protocol:too_large",
    ),
    (
        "IMAP LIST of 9000 x 1 KB lines",
        "imap",
        _imap_many_folders(9_000, b'* LIST () "/" F%d' + b"y" * 1000 + b"\r\n"),
        Stage.IMAP_VALIDATE,
        "protocol:too_large",
    ),
    (
        "IMAP 100 KB CAPABILITY line",
        "imap",
        _imap_capability_flood(100_000),
        Stage.IMAP_CONNECT,
        "protocol:too_large",
    ),
    (
        "SMTP EHLO of 5000 long AUTH lines",
        "smtp",
        _smtp_ehlo_flood(5000, 400),
        Stage.SMTP_CONNECT,
        "protocol:too_large",
    ),
    (
        "SMTP EHLO line of 100 KB",
        "smtp",
        _smtp_ehlo_flood(1, 100_000),
        Stage.SMTP_CONNECT,
        "protocol:too_large",
    ),
]


@pytest.mark.parametrize(
    ("name", "protocol", "script", "stage", "expected"), LIMITS, ids=[x[0] for x in LIMITS]
)
def test_memory_and_cpu_are_bounded(
    serve: Callable[..., ScriptServer],
    name: str,
    protocol: str,
    script: Callable[[Peer], None],
    stage: Stage,
    expected: str,
) -> None:
    server = serve(script)
    result = probe_one(server, protocol, timeout=LIMIT_TIMEOUT, name=name)
    assert cause(result, stage) == expected


def test_a_large_but_allowed_listing_passes(serve: Callable[..., ScriptServer]) -> None:
    server = serve(_imap_many_folders(9_000))
    result = probe_one(server, "imap", timeout=LIMIT_TIMEOUT, name="IMAP LIST of 9000 folders")
    validate = result.stage(Stage.IMAP_VALIDATE)
    assert validate.status is StageStatus.PASSED, result.to_dict()
    assert validate.details["folder_count"] == 9_000


# -- 5. malformed replies -------------------------------------------------------------------
def _smtp_auth_reply(reply: bytes) -> Callable[[Peer], None]:
    def auth(p: Peer, line: bytes) -> bool:
        p.send(reply)
        p.wait(0.5)
        return False

    return lambda peer: smtp_mailbox(peer, on={"AUTH": auth})


def _imap_login_reply(make: Callable[[bytes], bytes]) -> Callable[[Peer], None]:
    def login(p: Peer, tag: bytes) -> bool:
        p.send(make(tag))
        p.wait(0.5)
        return False

    return lambda peer: imap_mailbox(peer, on={"LOGIN": login})


MALFORMED = [
    (
        "SMTP 2350 is not 235",
        "smtp",
        _smtp_auth_reply(b"2350 2.7.0 ok\r\n"),
        Stage.SMTP_LOGIN,
        "protocol:malformed",
    ),
    (
        "SMTP code 600",
        "smtp",
        _smtp_auth_reply(b"600 what\r\n"),
        Stage.SMTP_LOGIN,
        "protocol:malformed",
    ),
    (
        "SMTP code 199",
        "smtp",
        _smtp_auth_reply(b"199 early\r\n"),
        Stage.SMTP_LOGIN,
        "protocol:malformed",
    ),
    (
        "SMTP mixed codes in one reply",
        "smtp",
        _smtp_auth_reply(b"235-2.7.0 ok\r\n535 no\r\n"),
        Stage.SMTP_LOGIN,
        "protocol:malformed",
    ),
    (
        "SMTP greeting 2200",
        "smtp",
        lambda p: smtp_mailbox(p, greeting=b"2200 hello\r\n"),
        Stage.SMTP_CONNECT,
        "protocol:not_protocol",
    ),
    (
        "SMTP SSH banner",
        "smtp",
        lambda p: smtp_mailbox(p, greeting=b"SSH-2.0-OpenSSH_9.2\r\n"),
        Stage.SMTP_CONNECT,
        "protocol:not_protocol",
    ),
    (
        "IMAP wrong tag",
        "imap",
        _imap_login_reply(lambda tag: b"ZZZZ1 OK welcome\r\n"),
        Stage.IMAP_LOGIN,
        "protocol:malformed",
    ),
    (
        "IMAP garbage after greeting",
        "imap",
        _imap_login_reply(lambda tag: b"%%% hello\r\n"),
        Stage.IMAP_LOGIN,
        "protocol:malformed",
    ),
    (
        "IMAP bare LF line",
        "imap",
        _imap_login_reply(lambda tag: tag + b" OK x\n"),
        Stage.IMAP_LOGIN,
        "protocol:malformed",
    ),
]


@pytest.mark.parametrize(
    ("name", "protocol", "script", "stage", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_replies_are_protocol_errors(
    serve: Callable[..., ScriptServer],
    name: str,
    protocol: str,
    script: Callable[[Peer], None],
    stage: Stage,
    expected: str,
) -> None:
    server = serve(script)
    result = probe_one(server, protocol, name=name)
    assert cause(result, stage) == expected
    builtin = probe_one(serve(script), protocol, name=name, rules=mailprobe.default_registry())
    assert cause(builtin, stage) == BUILTIN_CAUSE[expected]


@pytest.mark.parametrize("greeting", [b"* ok [capability IMAP4rev1 AUTH=PLAIN] hi", b"* Ok hi"])
def test_imap_keywords_are_case_insensitive(
    serve: Callable[..., ScriptServer], greeting: bytes
) -> None:
    def lower(peer: Peer) -> None:
        def login(p: Peer, tag: bytes) -> bool:
            p.send(tag + b" ok [capability IMAP4rev1 IDLE] logged in\r\n")
            return True

        def capability(p: Peer, tag: bytes) -> bool:
            p.send(b"* capability IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" ok done\r\n")
            return True

        imap_mailbox(
            peer, greeting=greeting + b"\r\n", on={"LOGIN": login, "CAPABILITY": capability}
        )

    server = serve(lower)
    result = probe_one(server, "imap", name=f"IMAP lower-case {greeting[:6]!r}")
    assert result.stage(Stage.IMAP_VALIDATE).status is StageStatus.PASSED, result.to_dict()


# -- 6. resets and closes: always translated, nothing leaked -------------------------------
def _reset_at_once(peer: Peer) -> None:
    peer.reset()


def _reset_after(data: bytes) -> Callable[[Peer], None]:
    def script(peer: Peer) -> None:
        peer.send(data)
        peer.reset()

    return script


RESETS = [
    ("RST right after accept", _reset_at_once, Security.NONE),
    ("RST right after accept, TLS", _reset_at_once, Security.TLS),
    ("RST after half a greeting", _reset_after(b"* OK hal"), Security.NONE),
    ("RST after half a reply", _reset_after(b"22"), Security.NONE),
]


@pytest.mark.parametrize(("name", "script", "security"), RESETS, ids=[r[0] for r in RESETS])
def test_resets_are_translated_and_leak_nothing(
    serve: Callable[..., ScriptServer],
    tls: tuple[ssl.SSLContext, str],
    name: str,
    script: Callable[[Peer], None],
    security: Security,
) -> None:
    server = serve(script)
    settings = scripted_settings(
        password=PASSWORD,
        imap=mailprobe.ServerSettings(host="127.0.0.1", port=server.port, security=security),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=server.port, security=security),
    )
    result = measured(
        name, lambda: mailprobe.probe(settings, timeout=TIMEOUT, ca_file=tls[1]), TIMEOUT
    )
    for stage in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT):
        error = result.stage(stage).error
        assert error is not None
        assert error.type in {"DisconnectedError", "ProtocolError", "TLSError"}, error
        assert cause(result, stage) != "unknown"
    gc.collect()  # a leaked socket would raise ResourceWarning here (filterwarnings=error)


# -- 3. secrets echoed in every form, at volume -------------------------------------------
def test_a_server_echoing_the_password_in_every_form_at_volume(
    serve: Callable[..., ScriptServer],
) -> None:
    from .test_secrets import _forms, _leftovers

    forms = " ".join(_forms(PASSWORD).values()).encode()

    def auth(p: Peer, line: bytes) -> bool:
        p.send(b"".join(b"535-5.7.8 " + forms + b"\r\n" for _ in range(100)))
        p.send(b"535 5.7.8 " + forms + b"\r\n")
        return True

    server = serve(lambda peer: smtp_mailbox(peer, on={"AUTH": auth}))
    result = probe_one(
        server, "smtp", name="SMTP echoes the password 100 times x 16 forms", transcript=True
    )
    login = result.stage(Stage.SMTP_LOGIN)
    assert login.error is not None and "********" in (login.error.server_text or "")
    text = json.dumps(result.to_dict())
    assert not _leftovers(text, PASSWORD)


# -- 4. addresses: the envelope and headers carry exactly the validated address -----------
def test_a_utf8_address_through_a_hostile_smtp_server(serve: Callable[..., ScriptServer]) -> None:
    server = serve(
        lambda peer: smtp_mailbox(peer, extensions=("PIPELINING", "SMTPUTF8", "AUTH PLAIN"))
    )
    closed = free_port()
    settings = scripted_settings(
        email="jörg+tag@straße.de",
        password=PASSWORD,
        imap=mailprobe.ServerSettings(host="127.0.0.1", port=closed, security=Security.NONE),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=server.port, security=Security.NONE),
    )
    result = measured(
        "SMTPUTF8 sender and IDN recipient",
        lambda: mailprobe.probe(settings, timeout=TIMEOUT, test_recipient="bcc@例子.example"),
        TIMEOUT,
    )
    assert result.stage(Stage.TEST_EMAIL).status is StageStatus.PASSED, result.to_dict()
    commands = [c for c in server.received.split(b"\r\n") if c[:4] in (b"MAIL", b"RCPT")]
    assert commands == [
        "MAIL FROM:<jörg+tag@xn--strae-oqa.de> SMTPUTF8 BODY=8BITMIME".encode(),
        b"RCPT TO:<bcc@xn--fsqu00a.example>",
    ] or commands == [
        "MAIL FROM:<jörg+tag@xn--strae-oqa.de> SMTPUTF8".encode(),
        b"RCPT TO:<bcc@xn--fsqu00a.example>",
    ]
