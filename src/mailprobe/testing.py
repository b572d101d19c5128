"""A scripted transport: make ``probe()`` return any outcome without a network.

Each keyword of ``ScriptedTransport`` scripts one operation. Leave it out and
the operation succeeds with plausible defaults; pass an exception and it is
raised; pass a value and it is returned; pass a ``list`` to script successive
calls (the last entry repeats)::

    from mailprobe import ReplyError, probe
    from mailprobe.testing import ScriptedTransport

    transport = ScriptedTransport(
        imap_login=ReplyError.imap("NO", "[AUTHENTICATIONFAILED] Authentication failed.",
                                   command="LOGIN"),
    )
    result = probe(settings, transport=transport)
    assert result.diagnosis.cause == "invalid_credentials"

``transport.calls`` records what the probe asked for, with passwords left out.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ._deadline import Deadline
from ._enums import Security
from ._errors import DeadlineExceeded
from ._models import JSONValue
from ._transports._base import ConnectionInfo, Endpoint, Folder

__all__ = ["Call", "ScriptedTransport"]

IMAP_INFO = ConnectionInfo(
    greeting="* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=PLAIN] Scripted IMAP server ready",
    capabilities=("IMAP4REV1", "SASL-IR", "IDLE", "UIDPLUS", "SPECIAL-USE", "AUTH=PLAIN"),
    auth_mechanisms=("PLAIN",),
    local_address="127.0.0.1:50000",
    peer_address="127.0.0.1:993",
)
SMTP_INFO = ConnectionInfo(
    greeting="220 scripted.test ESMTP ready",
    capabilities=(
        "PIPELINING",
        "SIZE 35882577",
        "8BITMIME",
        "AUTH PLAIN LOGIN",
        "ENHANCEDSTATUSCODES",
        "SMTPUTF8",
    ),
    auth_mechanisms=("PLAIN", "LOGIN"),
    local_address="127.0.0.1:50001",
    peer_address="127.0.0.1:587",
)
FOLDERS = (
    Folder(name="INBOX", flags=("\\HasNoChildren",), delimiter="/"),
    Folder(name="Sent", flags=("\\HasNoChildren", "\\Sent"), delimiter="/"),
    Folder(name="Drafts", flags=("\\HasNoChildren", "\\Drafts"), delimiter="/"),
    Folder(name="Trash", flags=("\\HasNoChildren", "\\Trash"), delimiter="/"),
)
_TLS: dict[str, JSONValue] = {
    "tls_version": "TLSv1.3",
    "cipher": "TLS_AES_256_GCM_SHA384",
    "certificate": {"subject": "commonName=scripted.test", "sha256": "00" * 32},
}

Script = Any  # None | BaseException | value | list of those


@attrs.frozen(kw_only=True)
class Call:
    """One operation the probe asked for. ``args`` never holds a password."""

    name: str
    args: Mapping[str, Any] = attrs.field(factory=dict)


class _Slot:
    def __init__(self, script: Script) -> None:
        self._steps = list(script) if isinstance(script, list) else [script]
        self._lock = threading.Lock()

    def next(self, default: Any) -> Any:
        with self._lock:
            step = self._steps.pop(0) if len(self._steps) > 1 else self._steps[0]
        if isinstance(step, BaseException):
            raise step
        return default if step is None else step


class ScriptedTransport:
    """A transport that replays scripted outcomes; see the module docstring.

    ``delay`` makes every operation take that many seconds of the probe's
    deadline, so timeouts can be tested too.
    """

    def __init__(
        self,
        *,
        imap_connect: Script = None,
        imap_login: Script = None,
        imap_capabilities: Script = None,
        imap_examine: Script = None,
        imap_list: Script = None,
        imap_find: Script = None,
        smtp_connect: Script = None,
        smtp_login: Script = None,
        smtp_send: Script = None,
        delay: float = 0.0,
    ) -> None:
        self._slots = {
            name: _Slot(script)
            for name, script in (
                ("imap_connect", imap_connect),
                ("imap_login", imap_login),
                ("imap_capabilities", imap_capabilities),
                ("imap_examine", imap_examine),
                ("imap_list", imap_list),
                ("imap_find", imap_find),
                ("smtp_connect", smtp_connect),
                ("smtp_login", smtp_login),
                ("smtp_send", smtp_send),
            )
        }
        self._delay = delay
        self._lock = threading.Lock()
        self.calls: list[Call] = []

    def _step(self, name: str, deadline: Deadline, default: Any, **args: Any) -> Any:
        with self._lock:
            self.calls.append(Call(name=name, args=args))
        deadline.remaining(f"waiting for the scripted {name}")  # raises once time is up
        if self._delay and deadline.wait(self._delay):
            raise DeadlineExceeded(f"waiting for the scripted {name}")
        return self._slots[name].next(default)

    def called(self, name: str) -> list[Call]:
        """The recorded calls named ``name`` (e.g. ``"smtp_send"``)."""
        return [c for c in self.calls if c.name == name]

    def connect_imap(self, endpoint: Endpoint, deadline: Deadline) -> _ImapConnection:
        info = self._step(
            "imap_connect", deadline, _with_tls(IMAP_INFO, endpoint), **_endpoint_args(endpoint)
        )
        return _ImapConnection(self, deadline, info)

    def connect_smtp(self, endpoint: Endpoint, deadline: Deadline) -> _SmtpConnection:
        info = self._step(
            "smtp_connect", deadline, _with_tls(SMTP_INFO, endpoint), **_endpoint_args(endpoint)
        )
        return _SmtpConnection(self, deadline, info)


def _endpoint_args(endpoint: Endpoint) -> dict[str, Any]:
    context = endpoint.tls_context
    return {
        "host": endpoint.host,
        "port": endpoint.port,
        "security": endpoint.security,
        "verify": bool(context and context.verify_mode != 0),
    }


def _with_tls(info: ConnectionInfo, endpoint: Endpoint) -> ConnectionInfo:
    if endpoint.security is Security.NONE:
        return info
    return attrs.evolve(info, tls=_TLS)


class _Connection:
    def __init__(
        self, transport: ScriptedTransport, deadline: Deadline, info: ConnectionInfo
    ) -> None:
        self._transport = transport
        self._deadline = deadline
        self._info = info
        self.closed = False

    @property
    def info(self) -> ConnectionInfo:
        return self._info

    def close(self) -> None:
        self.closed = True
        self._transport.calls.append(Call(name=f"{self._prefix}_close"))

    _prefix = ""


class _ImapConnection(_Connection):
    _prefix = "imap"

    def login(self, username: str, password: str) -> str:
        default = "LOGIN" if (username + password).isascii() else "AUTHENTICATE PLAIN"
        result: str = self._transport._step(
            "imap_login", self._deadline, default, username=username, password_sent=bool(password)
        )
        return result

    def login_oauth2(self, username: str, token: str) -> str:
        result: str = self._transport._step(
            "imap_login",
            self._deadline,
            "AUTHENTICATE XOAUTH2",
            username=username,
            token_sent=bool(token),
        )
        return result

    def capabilities(self) -> tuple[str, ...]:
        result: tuple[str, ...] = tuple(
            self._transport._step("imap_capabilities", self._deadline, self._info.capabilities)
        )
        return result

    def examine(self, mailbox: str) -> Mapping[str, JSONValue]:
        result: Mapping[str, JSONValue] = self._transport._step(
            "imap_examine", self._deadline, {"exists": 3}, mailbox=mailbox
        )
        return result

    def list_folders(self) -> Sequence[Folder]:
        return tuple(self._transport._step("imap_list", self._deadline, FOLDERS))

    def find_message(self, message_id: str) -> bool:
        return bool(self._transport._step("imap_find", self._deadline, True, message_id=message_id))


class _SmtpConnection(_Connection):
    _prefix = "smtp"

    def login(self, username: str, password: str) -> str:
        result: str = self._transport._step(
            "smtp_login", self._deadline, "PLAIN", username=username, password_sent=bool(password)
        )
        return result

    def login_oauth2(self, username: str, token: str) -> str:
        result: str = self._transport._step(
            "smtp_login", self._deadline, "XOAUTH2", username=username, token_sent=bool(token)
        )
        return result

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> str:
        result: str = self._transport._step(
            "smtp_send",
            self._deadline,
            "250 2.0.0 Ok: queued as SCRIPTED",
            sender=sender,
            recipients=tuple(recipients),
            message=message,
        )
        return result
