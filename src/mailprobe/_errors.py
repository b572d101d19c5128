"""Exceptions.

``probe()`` raises only for misuse; what a server or the network does is recorded
in the result. The tree::

    MailprobeError
    ├── SettingsError (ValueError)      bad settings or probe options, names the field
    ├── RuleError (ValueError)          a rule registry used wrongly
    └── ProbeError                      a stage failed; recorded, never raised by probe()
        ├── NetworkError (ConnectionError)
        │   ├── HostNotFoundError       DNS has no address for the host
        │   ├── RefusedError            nothing listens on the port
        │   └── DisconnectedError       the server closed or reset the connection
        ├── DeadlineExceeded (TimeoutError)
        ├── TLSError                    handshake failed for a reason other than trust
        │   ├── CertificateError        the certificate is not trusted (``reason``)
        │   ├── StartTLSError           STARTTLS not offered or refused
        │   └── SecurityModeError       the port answers in the other security mode
        ├── ReplyError                  the server answered a command with a refusal
        ├── ProtocolError               the server's bytes break the protocol (``reason``:
        │                               ``not_protocol``, ``malformed`` or ``too_large``)
        ├── CapabilityError             something the probe needs is not offered
        ├── DeliveryError               the test email did not arrive in the inbox in time
        └── ConnectionLimitError        fewer simultaneous connections than asked for

Transports raise ``ProbeError`` subclasses; the default transport translates the
standard library's exceptions into them in ``_transports/_translate.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ._enums import Security

_IMAP_CODE = re.compile(r"^\[([A-Za-z0-9-]+)(?:[ \]])")
_ENHANCED = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\b")
# qmail and some others put the enhanced code at the end: "... (#5.7.1)".
_ENHANCED_TRAILING = re.compile(r"\(#([245]\.\d{1,3}\.\d{1,3})\)")


class MailprobeError(Exception):
    """Base of every exception this library raises or records."""


class SettingsError(MailprobeError, ValueError):
    """A setting or probe option is invalid.

    ``field`` names it (a full path such as ``"imap.port"`` where there is one) and
    ``problem`` says what is wrong with it. ``errors`` lists ``(field, problem)`` for
    every bad field found (``InboxSettings.from_form`` reports them all at once); the
    first is the one in ``field`` and ``problem``.
    """

    def __init__(
        self, field: str, problem: str, *, errors: Iterable[tuple[str, str]] = ()
    ) -> None:
        found = tuple(errors) or ((field, problem),)
        super().__init__("; ".join(f"{f}: {p}" for f, p in found))
        self.field = field
        self.problem = problem
        self.errors: tuple[tuple[str, str], ...] = found


class RuleError(MailprobeError, ValueError):
    """A rule registry was used wrongly (for instance an empty or duplicate rule id)."""


class ProbeError(MailprobeError):
    """A stage failed. Carries what the server said, where known, as data."""

    #: The command that was being run, e.g. ``"LOGIN"``, ``"RCPT"``; ``None`` when connecting.
    command: Optional[str] = None

    def __init__(self, message: str, *, command: Optional[str] = None) -> None:
        super().__init__(message)
        if command is not None:
            self.command = command


class NetworkError(ProbeError, ConnectionError):
    """The connection could not be made or was lost."""


class HostNotFoundError(NetworkError):
    """The host name does not resolve to an address."""


class RefusedError(NetworkError):
    """The host answered, but nothing accepts connections on that port."""


class DisconnectedError(NetworkError):
    """The server closed or reset the connection unexpectedly."""


class DeadlineExceeded(ProbeError, TimeoutError):
    """The probe's overall deadline passed. ``during`` says what was under way.

    ``other_mode_silent`` is the other security mode when a second connection tried it
    on the same port and got no greeting either (so the mode chosen is not the
    problem); otherwise None.
    """

    def __init__(self, during: str, *, command: Optional[str] = None) -> None:
        super().__init__(f"deadline exceeded while {during}", command=command)
        self.during = during
        self.other_mode_silent: Optional[Security] = None


class TLSError(ProbeError):
    """The TLS handshake failed. ``reason`` is a short slug such as ``"wrong_version"``."""

    def __init__(self, message: str, *, reason: str = "handshake_failed") -> None:
        super().__init__(message)
        self.reason = reason


class CertificateError(TLSError):
    """The server's certificate is not trusted.

    ``reason`` is one of ``self_signed``, ``unknown_ca``, ``expired``,
    ``not_yet_valid``, ``hostname_mismatch`` or ``untrusted``. For
    ``hostname_mismatch``, ``names`` lists the names the certificate is made out for
    (read from one more handshake that verifies nothing and sends no credentials;
    empty when they could not be read).
    """

    def __init__(
        self, message: str, *, reason: str = "untrusted", names: Sequence[str] = ()
    ) -> None:
        super().__init__(message, reason=reason)
        self.names: tuple[str, ...] = tuple(names)


class StartTLSError(TLSError):
    """STARTTLS was required but the server does not offer it or refused it."""

    def __init__(self, message: str, *, reason: str = "not_offered") -> None:
        super().__init__(message, reason=reason)
        self.command = "STARTTLS"


class SecurityModeError(TLSError):
    """The port did not answer in the security mode chosen, and does in another.

    Raised when a connection in the chosen mode got no greeting (or no TLS handshake)
    within a few seconds and a second connection, in ``other_mode_answered``, was
    greeted properly (no credentials are ever sent to it). ``tried`` is the mode that
    was chosen. ``reason`` is ``"wrong_version"``, as for a TLS handshake that met a
    plain-text greeting: both mean the port speaks the other mode.
    """

    def __init__(self, message: str, *, tried: Security, other_mode_answered: Security) -> None:
        super().__init__(message, reason="wrong_version")
        self.tried = tried
        self.other_mode_answered = other_mode_answered


class ReplyError(ProbeError):
    """The server refused a command.

    ``status`` is the IMAP status (``NO``, ``BAD``, ``BYE``) or the SMTP reply code
    as text; ``code`` the SMTP reply code; ``enhanced_status`` the RFC 3463 code
    (``"5.7.8"``); ``response_code`` the IMAP response code (``"AUTHENTICATIONFAILED"``);
    ``text`` the server's own words; ``challenge`` the decoded error challenge an
    OAuth mechanism received (RFC 7628 3.2.2 JSON), if any.
    """

    challenge: Optional[str] = None

    def __init__(
        self,
        *,
        protocol: str,
        command: Optional[str],
        status: str,
        text: str,
        code: Optional[int] = None,
        enhanced_status: Optional[str] = None,
        response_code: Optional[str] = None,
    ) -> None:
        shown = f"{command} " if command else ""
        super().__init__(
            f"{protocol.upper()} {shown}refused: {status} {text}".rstrip(), command=command
        )
        self.protocol = protocol
        self.status = status
        self.text = text
        self.code = code
        self.enhanced_status = enhanced_status
        self.response_code = response_code

    @classmethod
    def imap(cls, status: str, text: str, *, command: Optional[str] = None) -> ReplyError:
        """An IMAP refusal; a leading ``[CODE]`` in ``text`` becomes ``response_code``."""
        match = _IMAP_CODE.match(text)
        return cls(
            protocol="imap",
            command=command,
            status=status.upper(),
            text=text,
            response_code=match.group(1).upper() if match else None,
        )

    @classmethod
    def smtp(cls, code: int, text: str, *, command: Optional[str] = None) -> ReplyError:
        """An SMTP refusal; a leading ``x.y.z`` in ``text`` becomes ``enhanced_status``."""
        match = _ENHANCED.match(text) or _ENHANCED_TRAILING.search(text)
        return cls(
            protocol="smtp",
            command=command,
            status=str(code),
            text=text,
            code=code,
            enhanced_status=match.group(1) if match else None,
        )


class ProtocolError(ProbeError):
    """The server sent something the protocol does not allow.

    ``reason`` tells the cases apart, so rules can:

    - ``"not_protocol"``: no valid greeting came, the bytes are not this protocol at all
      (another service on the port, random bytes, a line with no end). The default.
    - ``"malformed"``: the server greeted properly, then broke the protocol: a reply
      code that is not three digits followed by a space, hyphen or line end (``2350``),
      a code outside 2xx-5xx, mixed codes in one multi-line reply, a reply with a tag
      the client never sent, undecodable base64, a line that fits no IMAP response.
    - ``"too_large"``: after a valid greeting, the server exceeded one of the client's
      bounds (line length, literal size, lines or bytes in one reply, folders).
    """

    #: The reason slugs a ``ProtocolError`` may carry.
    REASONS = ("not_protocol", "malformed", "too_large")

    def __init__(
        self, message: str, *, command: Optional[str] = None, reason: str = "not_protocol"
    ) -> None:
        super().__init__(message, command=command)
        self.reason = reason


class CapabilityError(ProbeError):
    """Something the probe needs is not offered. ``missing`` names what."""

    def __init__(self, message: str, *, missing: tuple[str, ...], command: Optional[str] = None):
        super().__init__(message, command=command)
        self.missing = missing


class DeliveryError(ProbeError):
    """The test email was accepted but had not reached the inbox after ``waited`` seconds."""

    def __init__(self, message: str, *, waited: float) -> None:
        super().__init__(message, command="SEARCH")
        self.waited = waited


class ConnectionLimitError(ProbeError):
    """The server allowed ``allowed`` of ``requested`` simultaneous connections; ``text``
    is what it said to the first one it refused."""

    def __init__(self, *, requested: int, allowed: int, text: str) -> None:
        super().__init__(
            f"the server allowed {allowed} of {requested} simultaneous connections: {text}".rstrip(
                ": "
            ),
            command="LOGIN",
        )
        self.requested = requested
        self.allowed = allowed
        self.text = text
