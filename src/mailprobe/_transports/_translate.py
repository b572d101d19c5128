"""The one place where standard-library exceptions become mailprobe's own.

``imaplib`` and ``smtplib`` report refusals as exceptions whose arguments hold
the server's reply; this module turns them back into data (``ReplyError`` with
status, codes and text) so rules can classify them. Anything else the standard
library raises while handling a server's bytes (a ``ValueError`` from a number that
is not one, a ``UnicodeError``, an ``IndexError`` deep in a parser) becomes a
``ProtocolError``: no standard-library exception leaves a connection untranslated.
"""

from __future__ import annotations

import binascii
import errno
import imaplib
import re
import smtplib
import socket
import ssl
from typing import Optional, TypeVar, Union

from .._deadline import Deadline
from .._decode import decode_reply
from .._errors import (
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
from .._tls import verify_reason

T = TypeVar("T")

# "LOGIN command error: BAD [b'Error in IMAP command LOGIN: ...']" (imaplib._command_complete)
_IMAP_COMMAND_ERROR = re.compile(r"^(\S+) command error: (BAD|NO) (\[.*\])$", re.S)
_IMAP_WRAPPED = re.compile(r"^command: (\S+) => (.*)$", re.S)
# imaplib.abort messages that are imaplib's own words, not a server's BYE text.
_IMAP_ABORT_OWN = (
    "socket error",
    "unexpected response",
    "unexpected tagged",
    "mismatched tag",
    "corrupt",
    "got more than",
)
# OpenSSL reasons meaning "the other side is not speaking TLS" (RFC 8314 port/mode mix-up).
_NOT_TLS = {
    "WRONG_VERSION_NUMBER",
    "RECORD_LAYER_FAILURE",
    "PACKET_LENGTH_TOO_LONG",
    "UNKNOWN_PROTOCOL",
    "HTTP_REQUEST",
    "HTTPS_PROXY_REQUEST",
}
_OLD_TLS = {
    "UNSUPPORTED_PROTOCOL",
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "NO_PROTOCOLS_AVAILABLE",
    "VERSION_TOO_LOW",
}
_NO_ADDRESS = {
    getattr(socket, n) for n in ("EAI_NONAME", "EAI_NODATA", "EAI_FAIL") if hasattr(socket, n)
}


#: Modules whose own exceptions (raised in their frames) are translated, whatever type.
_STDLIB = ("imaplib", "smtplib", "ssl", "socket", "selectors", "base64", "binascii", "email")


def _not_protocol(greeted: bool) -> str:
    return "malformed" if greeted else "not_protocol"


def _raised_in_stdlib(exc: BaseException) -> bool:
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module.split(".", 1)[0] in _STDLIB


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return decode_reply(value)
    return str(value)


def _imap_error(exc: imaplib.IMAP4.error, command: Optional[str], greeted: bool) -> ProbeError:
    arg = exc.args[0] if exc.args else ""
    if isinstance(arg, bytes):
        text = _text(arg).strip()
        if text.upper().startswith("* BYE"):
            return ReplyError.imap("BYE", text[5:].strip(), command=command)
        if text.startswith("* ") or not greeted:
            return ProtocolError(f"unexpected greeting: {text[:200]}", command=command)
        return ReplyError.imap("NO", text, command=command)
    text = _text(arg)
    match = _IMAP_COMMAND_ERROR.match(text)
    if match:
        try:
            import ast  # noqa: PLC0415 - only for imaplib's error text

            data = ast.literal_eval(match.group(3))
            server = _text(data[-1]) if data else ""
        except (ValueError, SyntaxError, IndexError):
            server = match.group(3)
        return ReplyError.imap(match.group(2), server, command=match.group(1))
    if "not IMAP4 compliant" in text:
        return CapabilityError(
            "the server does not speak IMAP4rev1", missing=("IMAP4rev1",), command=command
        )
    if "STARTTLS extension not supported" in text:
        return StartTLSError("the server does not offer STARTTLS")
    if "got more than" in text:
        reason = "too_large" if greeted else "not_protocol"
        return ProtocolError(f"reply line too long ({text})", command=command, reason=reason)
    if command in ("LOGIN", "AUTHENTICATE") and text:
        # authenticate() raises the tagged NO text as str.
        return ReplyError.imap("NO", text, command=command)
    return ProtocolError(text or "IMAP error", command=command, reason=_not_protocol(greeted))


def _imap_abort(exc: imaplib.IMAP4.abort, command: Optional[str], greeted: bool) -> ProbeError:
    text = _text(exc.args[0] if exc.args else "")
    wrapped = _IMAP_WRAPPED.match(text)
    if wrapped:  # imaplib's _command_complete adds "command: NAME => " in front
        command, text = wrapped.group(1), wrapped.group(2)
    reason = _not_protocol(greeted)
    if "unterminated line" in text:  # a line ending in a bare LF: not IMAP
        return ProtocolError(text[:200], command=command, reason=reason)
    if text.startswith("socket error"):
        return DisconnectedError(f"connection lost: {text}", command=command)
    if isinstance(exc, imaplib.IMAP4.readonly) or text.startswith(_IMAP_ABORT_OWN):
        return ProtocolError(text[:300], command=command, reason=reason)
    return ReplyError.imap("BYE", text, command=command)


def _ssl_error(exc: ssl.SSLError) -> ProbeError:
    if isinstance(exc, ssl.SSLCertVerificationError):
        message = getattr(exc, "verify_message", None) or str(exc)
        return CertificateError(f"certificate not trusted: {message}", reason=verify_reason(exc))
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return DisconnectedError("the server closed the connection during TLS")
    reason = getattr(exc, "reason", None) or ""
    if reason in _NOT_TLS:
        return TLSError(f"the server did not answer with TLS ({reason})", reason="wrong_version")
    if reason in _OLD_TLS:
        return TLSError(f"no TLS version in common ({reason})", reason="protocol_version")
    return TLSError(f"TLS handshake failed ({reason or exc})")


def smtp_refusal(
    code: int, reply: Union[bytes, str], command: Optional[str], *, greeted: bool = True
) -> ProbeError:
    """The error for an unwanted SMTP reply: ``ReplyError``, or ``ProtocolError`` when
    the line is not an SMTP reply at all (smtplib reports that as code -1)."""
    if not 200 <= code <= 599:
        return ProtocolError(
            f"not an SMTP reply: {_text(reply)[:200]!r}",
            command=command,
            reason=_not_protocol(greeted),
        )
    return ReplyError.smtp(code, _text(reply), command=command)


def _smtp_error(exc: smtplib.SMTPException, command: Optional[str], greeted: bool) -> ProbeError:
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return DisconnectedError(f"connection lost: {exc}", command=command)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        for code, reply in exc.recipients.values():
            return ReplyError.smtp(code, _text(reply), command="RCPT")
    if isinstance(exc, smtplib.SMTPResponseException):
        if exc.smtp_code == 500 and exc.smtp_error in ("Line too long.", b"Line too long."):
            # smtplib's own words for a reply line over 8 KB, not the server's reply.
            reason = "too_large" if greeted else "not_protocol"
            return ProtocolError("reply line too long", command=command, reason=reason)
        return smtp_refusal(exc.smtp_code, exc.smtp_error, command, greeted=greeted)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return CapabilityError(str(exc), missing=(command or "?",), command=command)
    return ProtocolError(str(exc), command=command, reason=_not_protocol(greeted))


def translate(
    exc: BaseException,
    *,
    during: str,
    deadline: Deadline,
    command: Optional[str] = None,
    greeted: bool = True,
) -> Optional[ProbeError]:
    """The ``ProbeError`` for ``exc``, or None if it is neither a network or protocol
    failure nor raised by the standard library (a bug of ours stays visible).
    ``greeted`` says whether the server had sent a valid greeting (it decides between
    the ``not_protocol`` and ``malformed`` reasons of a ``ProtocolError``)."""
    if isinstance(exc, ProbeError):
        return exc
    if deadline.expired and isinstance(
        exc, (OSError, EOFError, imaplib.IMAP4.error, smtplib.SMTPException)
    ):
        # The deadline's timer shut the socket down; whatever broke, time ran out.
        return DeadlineExceeded(during, command=command)
    if isinstance(exc, imaplib.IMAP4.abort):
        return _imap_abort(exc, command, greeted)
    if isinstance(exc, imaplib.IMAP4.error):
        return _imap_error(exc, command, greeted)
    if isinstance(exc, smtplib.SMTPException):
        return _smtp_error(exc, command, greeted)
    if isinstance(exc, ssl.SSLError):
        return _ssl_error(exc)
    if isinstance(exc, socket.gaierror):
        if exc.errno in _NO_ADDRESS:
            return HostNotFoundError(f"host name not found ({exc.strerror})")
        return NetworkError(f"host name lookup failed ({exc.strerror})")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return DeadlineExceeded(during, command=command)
    if isinstance(exc, ConnectionRefusedError):
        return RefusedError("connection refused")
    if isinstance(
        exc, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, EOFError)
    ) or (
        isinstance(exc, OSError) and exc.errno == errno.ENOTCONN  # reset before we looked
    ):
        return DisconnectedError(f"connection lost while {during}", command=command)
    if isinstance(exc, OSError):
        return NetworkError(f"network error while {during}: {exc.strerror or exc}")
    if isinstance(exc, (ValueError, binascii.Error)) or _raised_in_stdlib(exc):
        # The server's bytes made a parser fail. Only the type is kept: the text may
        # quote anything, a secret included.
        return ProtocolError(
            f"unreadable reply while {during} ({type(exc).__name__})",
            command=command,
            reason=_not_protocol(greeted),
        )
    return None
