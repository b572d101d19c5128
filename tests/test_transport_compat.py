"""The default transport on every Python and against the servers people run (issue 12):
Python 3.14's imaplib shape, pipelining that never delivers an empty message, Happy
Eyeballs, READ-ONLY after EXAMINE, Cyrus' LOGINDISABLED, undecodable SASL challenges,
capability strings, and one form for the login method."""

from __future__ import annotations

import imaplib
import socket
import ssl
import time
from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest

import mailprobe
from mailprobe import CapabilityError, ReplyError, Security, Stage, StageStatus
from mailprobe._deadline import Deadline
from mailprobe._transports import _imap
from mailprobe._transports._base import Endpoint
from mailprobe._transports._imap import ImapConnection, imap_class
from mailprobe._transports._net import interleave
from mailprobe._transports._smtp import SmtpConnection, parse_ehlo

from .conftest import scripted_settings
from .dummyserver import Blackhole, Peer, ScriptServer, imap_mailbox, smtp_mailbox

USER, PASSWORD = "alice@example.com", "s3cret-Pa55"


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptServer]]:
    servers: list[ScriptServer] = []

    def start(script: Callable[[Peer], None], **kw: Any) -> ScriptServer:
        server = ScriptServer(script, **kw)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def deadline() -> Iterator[Deadline]:
    d = Deadline(5)
    yield d
    d.close()


def endpoint(port: int, security: Security = Security.NONE, **kw: Any) -> Endpoint:
    return Endpoint(host="127.0.0.1", port=port, security=security, **kw)


# -- Python 3.14's imaplib -----------------------------------------------------------------
class Imap314Shape(imaplib.IMAP4):
    """imaplib.IMAP4 as CPython 3.14 shapes it: ``file`` is a read-only property,
    reads go through ``_readbuf``/``sock.recv``, ``shutdown`` closes ``_file``. Every
    piece of that I/O layer fails the test if the wrapper touches it."""

    @property  # type: ignore[override]
    def file(self) -> Any:
        raise AssertionError("IMAP4.file read (a RuntimeWarning on 3.14)")

    def open(self, host: str = "", port: int = 143, timeout: Optional[float] = None) -> None:
        raise AssertionError("imaplib's open() used")

    def read(self, size: int) -> bytes:
        raise AssertionError("imaplib's read() (_readbuf) used")

    def readline(self) -> bytes:
        raise AssertionError("imaplib's readline() (_readbuf) used")

    def shutdown(self) -> None:
        raise AssertionError("imaplib's shutdown() (_file) used")

    def starttls(self, ssl_context: Any = None) -> Any:
        raise AssertionError("imaplib's starttls() used")


def test_the_wrapper_never_touches_imaplibs_io_layer(
    serve: Callable[..., ScriptServer],
    tls: tuple[ssl.SSLContext, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(AttributeError):
        Imap314Shape.__new__(Imap314Shape).file = None  # type: ignore[misc]
    monkeypatch.setattr(_imap, "_IMAP4", imap_class(Imap314Shape))

    def on_starttls(p: Peer, tag: bytes) -> bool:
        # Pre-TLS bytes in the same segment: they must be dropped on "3.14" as well.
        p.send(tag + b' OK go\r\n* LIST (\\Sent) "/" Injected\r\n')
        p.start_tls()
        return True

    server = serve(
        lambda peer: imap_mailbox(
            peer, capabilities="IMAP4rev1 STARTTLS AUTH=PLAIN", on={"STARTTLS": on_starttls}
        ),
        tls_context=tls[0],
    )
    settings = scripted_settings(
        imap=mailprobe.ServerSettings(
            host="127.0.0.1", port=server.port, security=Security.STARTTLS
        ),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=1, security=Security.NONE),
    )
    result = mailprobe.probe(settings, timeout=5, ca_file=tls[1], transcript=True)
    validate = result.stage(Stage.IMAP_VALIDATE)
    assert validate.status is StageStatus.PASSED, result.to_dict()
    assert "Injected" not in validate.details["folders"]
    assert result.stage(Stage.IMAP_LOGIN).details["method"] == "LOGIN"


# -- READ-ONLY after the pipelined EXAMINE -----------------------------------------------
def test_read_only_after_examine_does_not_break_the_next_command(
    serve: Callable[..., ScriptServer], deadline: Deadline
) -> None:
    def capability(p: Peer, tag: bytes) -> bool:
        p.send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
        return True

    server = serve(lambda peer: imap_mailbox(peer, on={"CAPABILITY": capability}))
    conn = ImapConnection(endpoint(server.port), deadline)
    try:
        conn.login(USER, PASSWORD)
        assert conn.examine("INBOX") == {"exists": 3}
        assert [f.name for f in conn.list_folders()] == ["INBOX", "Sent"]
        assert conn.capabilities() == ("IMAP4REV1", "AUTH=PLAIN")  # a new command
        assert conn.find_message("<x@example.com>") is True
    finally:
        conn.close()


# -- LOGINDISABLED after TLS with AUTH=PLAIN (Cyrus) ---------------------------------------
@pytest.mark.parametrize(
    ("capabilities", "expected"),
    [
        ("IMAP4rev1 LOGINDISABLED AUTH=PLAIN", "AUTHENTICATE PLAIN"),
        ("IMAP4rev1 LOGINDISABLED AUTH=PLAIN SASL-IR", "AUTHENTICATE PLAIN"),
        ("IMAP4rev1 LOGINDISABLED", CapabilityError),
        ("IMAP4rev1 AUTH=PLAIN", "LOGIN"),
    ],
)
def test_logindisabled_with_auth_plain_authenticates(
    serve: Callable[..., ScriptServer], deadline: Deadline, capabilities: str, expected: Any
) -> None:
    def authenticate(p: Peer, tag: bytes) -> bool:
        if not p.server.received.rstrip().endswith(b"PLAIN"):  # SASL-IR: response inline
            p.send(tag + b" OK authenticated\r\n")
            return True
        p.send(b"+ \r\n")
        p.readline()
        p.send(tag + b" OK authenticated\r\n")
        return True

    server = serve(
        lambda peer: imap_mailbox(
            peer, capabilities=capabilities, on={"AUTHENTICATE": authenticate}
        )
    )
    conn = ImapConnection(endpoint(server.port), deadline)
    try:
        if isinstance(expected, str):
            assert conn.login(USER, PASSWORD) == expected
        else:
            with pytest.raises(expected):
                conn.login(USER, PASSWORD)
            assert b"LOGIN " not in server.received.split(b"\r\n", 1)[-1]
    finally:
        conn.close()


# -- SMTP: pipelining never delivers an empty message -----------------------------------
def _pipelining_server(
    rcpt: Callable[[Peer, bytes], bool], data: Optional[Callable[[Peer, bytes], bool]] = None
) -> Callable[[Peer], None]:
    handlers = {"RCPT": rcpt}
    if data is not None:
        handlers["DATA"] = data
    return lambda peer: smtp_mailbox(peer, extensions=("PIPELINING", "AUTH PLAIN"), on=handlers)


def _refuse(
    address: bytes, reply: bytes, then_close: bool = False
) -> Callable[[Peer, bytes], bool]:
    def rcpt(p: Peer, line: bytes) -> bool:
        if address in line:
            p.send(reply)
            if then_close:
                p.sock.close()
                return False
        else:
            p.send(b"250 2.1.5 ok\r\n")
        return True

    return rcpt


def _data_354(p: Peer, line: bytes) -> bool:
    p.send(b"354 go ahead\r\n")
    p.wait(2)  # record whatever comes: it must not be a final "."
    return False


def _send(server: ScriptServer, deadline: Deadline, recipients: list[str]) -> SmtpConnection:
    conn = SmtpConnection(endpoint(server.port), deadline)
    conn.login(USER, PASSWORD)
    return conn


def test_a_refused_rcpt_aborts_the_transaction_instead_of_sending_the_dot(
    serve: Callable[..., ScriptServer], deadline: Deadline
) -> None:
    server = serve(_pipelining_server(_refuse(b"bad@", b"550 5.1.1 no such user\r\n"), _data_354))
    conn = _send(server, deadline, [])
    try:
        started = time.monotonic()
        with pytest.raises(ReplyError) as info:
            conn.send(USER, ["bad@example.com", "good@example.com"], b"Subject: x\r\n\r\nhi\r\n")
        assert time.monotonic() - started < 1.5  # the close ended it, not a timeout
    finally:
        conn.close()
    assert (info.value.code, info.value.command) == (550, "RCPT")
    time.sleep(0.2)
    received = server.received
    assert b"DATA\r\n" in received
    after_data = received.split(b"DATA\r\n", 1)[1]
    assert b"." not in after_data.split(b"\r\n") and b"QUIT" not in after_data


@pytest.mark.parametrize(
    ("rcpt", "data", "code"),
    [
        (_refuse(b"bad@", b"550 5.1.1 no such user\r\n"), "421-close", 550),
        (_refuse(b"bad@", b"550 5.1.1 no such user\r\n", then_close=True), None, 550),
        (_refuse(b"bad@", b"421 4.7.0 too many errors\r\n", then_close=True), None, 421),
    ],
    ids=["550 then 421 and close", "550 then close", "421 and close"],
)
def test_a_refusal_followed_by_a_hang_up_reports_the_refusal(
    serve: Callable[..., ScriptServer],
    deadline: Deadline,
    rcpt: Callable[[Peer, bytes], bool],
    data: Optional[str],
    code: int,
) -> None:
    def close_with_421(p: Peer, line: bytes) -> bool:
        p.send(b"421 4.7.0 closing connection\r\n")
        p.sock.close()
        return False

    server = serve(_pipelining_server(rcpt, close_with_421 if data else None))
    conn = _send(server, deadline, [])
    try:
        with pytest.raises(ReplyError) as info:
            conn.send(USER, ["bad@example.com", "good@example.com"], b"Subject: x\r\n\r\nhi\r\n")
    finally:
        conn.close()
    assert (info.value.code, info.value.command) == (code, "RCPT")


# -- SMTP: 334 challenges, capability strings, the method's form -------------------------
def test_an_undecodable_334_challenge_is_a_reply_like_any_other(
    serve: Callable[..., ScriptServer], deadline: Deadline
) -> None:
    def auth(p: Peer, line: bytes) -> bool:
        p.send(b"334 %%% not base64 %%%\r\n")
        p.readline()
        p.send(b"535 5.7.8 token rejected\r\n")
        return True

    server = serve(lambda peer: smtp_mailbox(peer, extensions=("AUTH XOAUTH2",), on={"AUTH": auth}))
    conn = SmtpConnection(endpoint(server.port), deadline)
    try:
        with pytest.raises(ReplyError) as info:
            conn.login_oauth2(USER, "token")
    finally:
        conn.close()
    assert (info.value.code, info.value.challenge) == (535, None)


def test_capability_strings_have_single_spaces_and_merge_old_style_auth() -> None:
    reply = b"dummy\nPIPELINING\nAUTH PLAIN LOGIN\nAUTH=LOGIN XOAUTH2\nSIZE  10240000\n8BITMIME"
    features, capabilities = parse_ehlo(reply)
    assert capabilities == ("PIPELINING", "AUTH PLAIN LOGIN XOAUTH2", "SIZE 10240000", "8BITMIME")
    assert features["auth"] == "PLAIN LOGIN XOAUTH2"
    flood = b"dummy\n" + b"\n".join(b"AUTH M%d" % i for i in range(10_000))
    assert len(parse_ehlo(flood)[0]["auth"].split()) == 50


@pytest.mark.parametrize(
    ("extensions", "method"),
    [(("AUTH PLAIN LOGIN",), "AUTH PLAIN"), (("AUTH LOGIN",), "AUTH LOGIN")],
)
def test_the_smtp_method_is_reported_as_the_command(
    serve: Callable[..., ScriptServer], deadline: Deadline, extensions: tuple[str, ...], method: str
) -> None:
    def auth(p: Peer, line: bytes) -> bool:
        if line.upper() == b"AUTH LOGIN":
            for _ in range(2):
                p.send(b"334 x\r\n")
                p.readline()
        p.send(b"235 2.7.0 ok\r\n")
        return True

    server = serve(lambda peer: smtp_mailbox(peer, extensions=extensions, on={"AUTH": auth}))
    conn = SmtpConnection(endpoint(server.port), deadline)
    try:
        assert conn.info.capabilities == tuple(e for e in extensions)
        assert conn.login(USER, PASSWORD) == method
    finally:
        conn.close()


# -- Happy Eyeballs ----------------------------------------------------------------------
def test_interleave_alternates_families() -> None:
    v6 = [(socket.AF_INET6, 1, 6, "", (f"::{i}", 1)) for i in range(3)]
    v4 = [(socket.AF_INET, 1, 6, "", (f"10.0.0.{i}", 1)) for i in range(2)]
    assert [a[4][0] for a in interleave(v6 + v4)] == ["::0", "10.0.0.0", "::1", "10.0.0.1", "::2"]


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    hole = Blackhole()
    yield hole
    hole.close()


def _fake_resolver(ports: list[int]) -> Callable[..., list[Any]]:
    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "mail.test"  # never the system resolver for a made-up name
        return [
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", p))
            for p in ports
        ]

    return getaddrinfo


def test_a_dropped_syn_on_the_first_address_costs_a_quarter_second(
    serve: Callable[..., ScriptServer], blackhole: Blackhole, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve(imap_mailbox)
    monkeypatch.setattr(socket, "getaddrinfo", _fake_resolver([blackhole.port, server.port]))
    settings = scripted_settings(
        imap=mailprobe.ServerSettings(host="mail.test", port=143, security=Security.NONE),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=1, security=Security.NONE),
    )
    result = mailprobe.probe(settings, timeout=3)
    connect = result.stage(Stage.IMAP_CONNECT)
    assert connect.status is StageStatus.PASSED, result.to_dict()
    assert 0.2 < connect.duration < 1.0
    assert connect.details["peer_address"] == f"127.0.0.1:{server.port}"
    assert result.stage(Stage.IMAP_VALIDATE).status is StageStatus.PASSED


def test_only_dead_addresses_end_at_the_deadline(
    blackhole: Blackhole, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _fake_resolver([blackhole.port] * 3))
    settings = scripted_settings(
        imap=mailprobe.ServerSettings(host="mail.test", port=143, security=Security.NONE),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=1, security=Security.NONE),
    )
    started = time.monotonic()
    result = mailprobe.probe(settings, timeout=1.0)
    assert time.monotonic() - started < 2.0
    imap = result.stage(Stage.IMAP_CONNECT)
    assert imap.diagnosis is not None and imap.diagnosis.cause == "timeout"


def test_a_refused_first_address_moves_on_at_once(
    serve: Callable[..., ScriptServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    from .mailservers import free_port

    server = serve(imap_mailbox)
    monkeypatch.setattr(socket, "getaddrinfo", _fake_resolver([free_port(), server.port]))
    settings = scripted_settings(
        imap=mailprobe.ServerSettings(host="mail.test", port=143, security=Security.NONE),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=1, security=Security.NONE),
    )
    result = mailprobe.probe(settings, timeout=3)
    connect = result.stage(Stage.IMAP_CONNECT)
    assert connect.status is StageStatus.PASSED and connect.duration < 0.2


def test_a_reset_while_ssl_wraps_the_socket_leaves_no_socket_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CPython 3.9-3.12: when the connection is reset between our check and ssl's own,
    # SSLSocket._create raises from its recv(1) probe and drops the SSLSocket that owns
    # the descriptor. Simulate exactly that window and check nothing is left open.
    import errno
    import gc
    import os

    from mailprobe._transports._net import start_tls

    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    fd = client.fileno()

    def not_connected(self: ssl.SSLSocket) -> Any:
        raise OSError(errno.ENOTCONN, "Transport endpoint is not connected")

    def reset(self: ssl.SSLSocket, *args: Any) -> bytes:
        raise ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")

    monkeypatch.setattr(ssl.SSLSocket, "getpeername", not_connected)
    monkeypatch.setattr(ssl.SSLSocket, "recv", reset)
    try:
        with pytest.raises(ConnectionResetError):
            start_tls(client, ssl.create_default_context(), "127.0.0.1", Deadline(5))
        monkeypatch.undo()
        gc.collect()  # an SSLSocket left open would raise ResourceWarning here
        with pytest.raises(OSError, match="Bad file descriptor") as closed:
            os.fstat(fd)
        assert closed.value.errno == errno.EBADF  # the descriptor is closed
    finally:
        accepted.close()
        listener.close()
