"""Standard-library exceptions are translated into mailprobe's own, in one place."""

from __future__ import annotations

import errno
import imaplib
import smtplib
import socket
import ssl

import pytest

from mailprobe import (
    CapabilityError,
    CertificateError,
    DeadlineExceeded,
    DisconnectedError,
    HostNotFoundError,
    NetworkError,
    ProbeError,
    ProtocolError,
    RefusedError,
    ReplyError,
    StartTLSError,
    TLSError,
)
from mailprobe._deadline import Deadline
from mailprobe._transports._imap import decode_mailbox_name, parse_list_line
from mailprobe._transports._translate import translate


@pytest.fixture
def deadline():
    d = Deadline(60)
    yield d
    d.close()


def _cert_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    exc.verify_code = code
    exc.verify_message = message
    return exc


def _ssl_error(cls: type[ssl.SSLError], reason: str) -> ssl.SSLError:
    exc = cls(1, f"[SSL: {reason}] {reason.lower()}")
    exc.reason = reason
    return exc


CASES = [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), HostNotFoundError),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), NetworkError),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), RefusedError),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), DisconnectedError),
    (BrokenPipeError(errno.EPIPE, "Broken pipe"), DisconnectedError),
    (OSError(errno.ENOTCONN, "Transport endpoint is not connected"), DisconnectedError),
    (socket.timeout("timed out"), DeadlineExceeded),
    (OSError(errno.EHOSTUNREACH, "No route to host"), NetworkError),
    (_cert_error(18, "self-signed certificate"), CertificateError),
    (_ssl_error(ssl.SSLError, "WRONG_VERSION_NUMBER"), TLSError),
    (_ssl_error(ssl.SSLError, "TLSV1_ALERT_PROTOCOL_VERSION"), TLSError),
    (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), DisconnectedError),
    (imaplib.IMAP4.abort("socket error: EOF"), DisconnectedError),
    (imaplib.IMAP4.abort("command: LOGIN => socket error: EOF"), DisconnectedError),
    (imaplib.IMAP4.abort("unexpected response: b'SSH-2.0-OpenSSH'"), ProtocolError),
    (imaplib.IMAP4.abort("socket error: unterminated line: b'x\\n'"), ProtocolError),
    (imaplib.IMAP4.abort("Server shutting down"), ReplyError),
    (imaplib.IMAP4.error(b"[AUTHENTICATIONFAILED] Authentication failed."), ReplyError),
    (imaplib.IMAP4.error(b"* BYE Too many connections"), ReplyError),
    (imaplib.IMAP4.error("LOGIN command error: BAD [b'Error in IMAP command LOGIN']"), ReplyError),
    (imaplib.IMAP4.error("server not IMAP4 compliant"), CapabilityError),
    (imaplib.IMAP4.error("STARTTLS extension not supported by server."), StartTLSError),
    (imaplib.IMAP4.error("got more than 1000000 bytes"), ProtocolError),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), DisconnectedError),
    (smtplib.SMTPAuthenticationError(535, b"5.7.8 Authentication failed"), ReplyError),
    (smtplib.SMTPRecipientsRefused({"x@y.example": (550, b"5.1.1 User unknown")}), ReplyError),
    (smtplib.SMTPDataError(554, b"5.7.1 Message rejected"), ReplyError),
    (smtplib.SMTPResponseException(-1, b"garbage"), ProtocolError),
    (smtplib.SMTPResponseException(500, "Line too long."), ProtocolError),
    (smtplib.SMTPNotSupportedError("SMTPUTF8 not supported"), CapabilityError),
]


@pytest.mark.parametrize(("exc", "expected"), CASES, ids=lambda v: type(v).__name__)
def test_stdlib_exceptions_map_to_probe_errors(
    exc: BaseException, expected: type, deadline: Deadline
) -> None:
    translated = translate(exc, during="testing", deadline=deadline, command="X")
    assert type(translated) is expected
    assert isinstance(translated, ProbeError)


def test_anything_else_is_left_to_the_runner(deadline: Deadline) -> None:
    assert translate(KeyError("x"), during="testing", deadline=deadline) is None
    same = RefusedError("already ours")
    assert translate(same, during="testing", deadline=deadline) is same


def test_after_the_deadline_every_io_error_is_a_timeout() -> None:
    d = Deadline(60)
    d.expire()
    try:
        for exc in (
            imaplib.IMAP4.abort("socket error: EOF"),
            ConnectionResetError(),
            smtplib.SMTPServerDisconnected("closed"),
        ):
            assert isinstance(translate(exc, during="reading", deadline=d), DeadlineExceeded)
    finally:
        d.close()


def test_reply_fields_are_kept_as_data(deadline: Deadline) -> None:
    imap = translate(
        imaplib.IMAP4.error(b"[AUTHENTICATIONFAILED] Authentication failed."),
        during="logging in",
        deadline=deadline,
        command="LOGIN",
    )
    assert isinstance(imap, ReplyError)
    assert (imap.status, imap.response_code, imap.command) == (
        "NO",
        "AUTHENTICATIONFAILED",
        "LOGIN",
    )
    bad = translate(
        imaplib.IMAP4.error(
            "LOGIN command error: BAD [b'[PRIVACYREQUIRED] Plaintext auth disallowed']"
        ),
        during="logging in",
        deadline=deadline,
    )
    assert isinstance(bad, ReplyError)
    assert (bad.status, bad.response_code, bad.command) == ("BAD", "PRIVACYREQUIRED", "LOGIN")
    rcpt = translate(
        smtplib.SMTPRecipientsRefused(
            {"a@b.example": (554, b"5.7.1 <a@b.example>: Relay access denied")}
        ),
        during="sending",
        deadline=deadline,
    )
    assert isinstance(rcpt, ReplyError)
    assert (rcpt.code, rcpt.enhanced_status, rcpt.command) == (554, "5.7.1", "RCPT")


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (18, "self_signed"),
        (19, "self_signed"),
        (20, "unknown_ca"),
        (10, "expired"),
        (9, "not_yet_valid"),
        (62, "hostname_mismatch"),
        (64, "hostname_mismatch"),
        (50, "untrusted"),
    ],
)
def test_certificate_reasons(code: int, reason: str, deadline: Deadline) -> None:
    error = translate(_cert_error(code, "verify failed"), during="TLS", deadline=deadline)
    assert isinstance(error, CertificateError) and error.reason == reason


def test_list_lines_are_parsed() -> None:
    folder = parse_list_line(b'(\\HasNoChildren \\Sent) "/" "Sent Items"')
    assert folder is not None
    assert (folder.name, folder.flags, folder.delimiter) == (
        "Sent Items",
        ("\\HasNoChildren", "\\Sent"),
        "/",
    )
    literal = parse_list_line((b'(\\HasNoChildren) "." {7}', b"Archiv\xc3\xa9"))
    assert literal is not None and literal.name == "Archivé"
    assert parse_list_line(b"(\\Noselect) NIL INBOX") is not None
    assert parse_list_line(b"garbage") is None


def test_modified_utf7_names_are_decoded() -> None:
    assert decode_mailbox_name("Entw&APw-rfe") == "Entwürfe"
    assert decode_mailbox_name("&BBoEPgRABDcEOAQ9BDA-") == "Корзина"
    assert decode_mailbox_name("Tom &- Jerry") == "Tom & Jerry"


# -- one guard: nothing from the standard library escapes untranslated ------------------
def _raised_in(module: str, exc: BaseException) -> BaseException:
    """``exc`` as if raised inside ``module`` (its traceback's last frame is there)."""
    namespace = {"__name__": module, "exc": exc}
    code = compile("def boom():\n    raise exc\n", f"<{module}>", "exec")
    exec(code, namespace)
    try:
        namespace["boom"]()  # type: ignore[operator]
    except BaseException as raised:
        return raised
    raise AssertionError("not raised")


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("invalid literal for int() with base 10: b'x'"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        _raised_in("imaplib", IndexError("list index out of range")),
        _raised_in("imaplib", TypeError("can't concat str to bytes")),
        _raised_in("smtplib", AttributeError("'NoneType' object has no attribute 'sendall'")),
        _raised_in("email._header_value_parser", IndexError("string index out of range")),
        _raised_in("base64", KeyError("x")),
        imaplib.IMAP4.readonly("mailbox status changed to READ-ONLY"),
    ],
    ids=lambda e: f"{type(e).__name__}",
)
def test_stdlib_failures_on_server_bytes_are_protocol_errors(
    exc: BaseException, deadline: Deadline
) -> None:
    translated = translate(exc, during="reading", deadline=deadline, command="X")
    assert isinstance(translated, ProtocolError)
    assert translated.reason == "malformed"
    if not isinstance(exc, imaplib.IMAP4.error):  # imaplib's own words may stay
        assert str(exc) not in str(translated)  # only the type is kept


def test_a_bug_of_ours_stays_visible(deadline: Deadline) -> None:
    for exc in (KeyError("x"), TypeError("bad call"), AttributeError("no such thing")):
        assert translate(exc, during="reading", deadline=deadline) is None


@pytest.mark.parametrize(
    ("exc", "greeted", "reason"),
    [
        (imaplib.IMAP4.abort("unexpected response: b'SSH-2.0-OpenSSH'"), False, "not_protocol"),
        (imaplib.IMAP4.abort("unexpected response: b'%%% hello'"), True, "malformed"),
        (imaplib.IMAP4.abort("unexpected tagged response: b'ZZ1 OK'"), True, "malformed"),
        (imaplib.IMAP4.error(b"garbage greeting"), False, "not_protocol"),
        (imaplib.IMAP4.error("got more than 1000000 bytes"), True, "too_large"),
        (smtplib.SMTPResponseException(-1, b"garbage"), False, "not_protocol"),
        (smtplib.SMTPResponseException(600, b"what"), True, "malformed"),
        (smtplib.SMTPResponseException(500, "Line too long."), True, "too_large"),
    ],
)
def test_protocol_errors_carry_a_reason(
    exc: BaseException, greeted: bool, reason: str, deadline: Deadline
) -> None:
    translated = translate(exc, during="reading", deadline=deadline, greeted=greeted)
    assert isinstance(translated, ProtocolError)
    assert translated.reason == reason
    assert reason in ProtocolError.REASONS


def test_protocol_error_defaults_to_not_the_protocol() -> None:
    assert ProtocolError("x").reason == "not_protocol"
    assert ProtocolError("x", reason="malformed", command="AUTH").command == "AUTH"
