"""The contract between the stage runner and the wire.

A transport opens IMAP and SMTP connections; a connection runs the few commands
the stages need. Every method either returns or raises a ``ProbeError``
subclass carrying what the server said. The default transport speaks through
``imaplib``/``smtplib``/``ssl``; ``mailprobe.testing.ScriptedTransport`` replays
scripted outcomes with no network.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from typing import Callable, Optional, Protocol

import attrs

from .. import _log
from .._deadline import Deadline
from .._enums import Security
from .._models import JSONValue, str_tuple

_MAX_LINE = 300


class Transcript:
    """Receives a protocol transcript, one line per command or reply line.

    Transports mask credentials and elide message bodies *before* calling it: a
    transcript never carries a password, token or message text. Once a connection
    knows the secret it logs in with, it calls ``hide()``; every later line has every
    form of that secret masked *before* it is cut to 300 characters, so a secret that
    crosses the cut cannot leave its first characters behind.
    """

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink = sink
        self._masks: list[Callable[[str], str]] = []

    def hide(self, mask: Callable[[str], str]) -> None:
        """Apply ``mask`` (for instance ``Masker.mask``) to every later line."""
        self._masks.append(mask)

    def _emit(self, prefix: str, line: str) -> None:
        for mask in self._masks:
            line = mask(line)
        if len(line) > _MAX_LINE:
            line = f"{line[:_MAX_LINE]}... ({len(line)} characters)"
        self._sink(prefix + line)

    def client(self, line: str) -> None:
        """A line the client sent (already masked)."""
        self._emit("C: ", line)

    def server(self, line: str) -> None:
        """A line the server sent."""
        self._emit("S: ", line)

    def note(self, text: str) -> None:
        """Something that is not a protocol line, e.g. ``"TLS established (TLSv1.3)"``."""
        self._emit("-- ", text)


@attrs.frozen(kw_only=True)
class Endpoint:
    """Where to connect and how. ``tls_context`` is None only for ``Security.NONE``;
    ``transcript``, when set, receives the masked protocol transcript."""

    host: str
    port: int
    security: Security
    tls_context: Optional[ssl.SSLContext] = attrs.field(default=None, eq=False, repr=False)
    transcript: Optional[Transcript] = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(kw_only=True)
class ConnectionInfo:
    """What a transport learnt while connecting (all JSON-safe)."""

    greeting: str = ""
    capabilities: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    auth_mechanisms: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    tls: Optional[Mapping[str, JSONValue]] = None
    local_address: Optional[str] = None
    peer_address: Optional[str] = None


@attrs.frozen(kw_only=True)
class Folder:
    """A mailbox as listed by the server."""

    name: str
    flags: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    delimiter: Optional[str] = None


class ImapConnection(Protocol):
    """An open IMAP connection, after the greeting and any STARTTLS."""

    @property
    def info(self) -> ConnectionInfo: ...

    def login(self, username: str, password: str) -> str:
        """Authenticate; returns the method used as the command that was sent, without
        its arguments: ``"LOGIN"`` or ``"AUTHENTICATE PLAIN"``."""
        ...

    def login_oauth2(self, username: str, token: str) -> str:
        """Authenticate with an OAuth 2.0 access token (OAUTHBEARER or XOAUTH2); a
        refusal's decoded error challenge goes in ``ReplyError.challenge``. Returns
        ``"AUTHENTICATE OAUTHBEARER"`` or ``"AUTHENTICATE XOAUTH2"``."""
        ...

    def capabilities(self) -> tuple[str, ...]:
        """The capabilities in force now (they may change after login)."""
        ...

    def examine(self, mailbox: str) -> Mapping[str, JSONValue]:
        """Open ``mailbox`` read-only; returns facts such as ``{"exists": 12}``."""
        ...

    def list_folders(self) -> Sequence[Folder]: ...

    def find_message(self, message_id: str) -> bool:
        """True when INBOX holds a message with this Message-ID (opens INBOX read-only)."""
        ...

    def close(self) -> None:
        """Log out where possible and release the socket; never raises."""
        ...


class SmtpConnection(Protocol):
    """An open SMTP connection, after the greeting, EHLO and any STARTTLS."""

    @property
    def info(self) -> ConnectionInfo: ...

    def login(self, username: str, password: str) -> str:
        """Authenticate; returns the method used as the command that was sent, without
        its arguments: ``"AUTH PLAIN"`` or ``"AUTH LOGIN"`` (the same form as IMAP's)."""
        ...

    def login_oauth2(self, username: str, token: str) -> str:
        """Authenticate with an OAuth 2.0 access token (OAUTHBEARER or XOAUTH2); a
        refusal's decoded error challenge goes in ``ReplyError.challenge``. Returns
        ``"AUTH OAUTHBEARER"`` or ``"AUTH XOAUTH2"``."""
        ...

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> str:
        """Submit ``message`` from ``sender`` to ``recipients`` (bare envelope addresses,
        ``local@domain``, the domain in ASCII); returns the server's final reply text.
        Raises ``CapabilityError`` (missing ``SMTPUTF8``) when a local part needs UTF-8
        and the server does not offer SMTPUTF8."""
        ...

    def close(self) -> None:
        """Say QUIT where possible and release the socket; never raises."""
        ...


class Transport(Protocol):
    """Opens connections. ``deadline`` bounds everything the connection does."""

    def connect_imap(self, endpoint: Endpoint, deadline: Deadline) -> ImapConnection: ...

    def connect_smtp(self, endpoint: Endpoint, deadline: Deadline) -> SmtpConnection: ...


def close_quietly(conn: object) -> None:
    """Close a connection from any transport; a custom transport whose ``close()``
    raises must not break the probe (the contract says it never raises)."""
    try:
        conn.close()  # type: ignore[attr-defined]
    except Exception as exc:
        _log.log(
            _log.WARNING,
            "a transport's close() raised %s; ignored", type(exc).__name__
        )
