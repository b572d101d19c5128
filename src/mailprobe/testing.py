"""A scripted transport: make ``probe()`` return any outcome without a network.

Each keyword of ``ScriptedTransport`` scripts one operation. Leave it out and
the operation succeeds with plausible defaults; pass an exception and it is
raised; pass a value and it is returned (a list or tuple of capabilities or folders
is such a value); pass ``Replies(a, b, ...)`` to script successive calls (the last
one repeats), or a function that takes the ``Call`` and returns (or raises) the
outcome, as httpx's ``MockTransport`` takes a handler::

    from mailprobe import ReplyError, probe
    from mailprobe.testing import Replies, ScriptedTransport

    transport = ScriptedTransport(
        imap_login=ReplyError.imap("NO", "[AUTHENTICATIONFAILED] Authentication failed.",
                                   command="LOGIN"),
        imap_capabilities=["IMAP4REV1", "IDLE"],
        imap_find=Replies(False, True),
    )
    result = probe(settings, transport=transport)
    assert result.diagnosis.cause == "invalid_credentials"

``transport.calls`` records what the probe asked for, with passwords left out.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, Union

import attrs

from ._deadline import Deadline
from ._enums import Security
from ._errors import DeadlineExceeded
from ._models import JSONValue
from ._transports._base import ConnectionInfo, Endpoint, Folder

__all__ = ["Call", "Replies", "ScriptedTransport"]

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


@attrs.frozen(kw_only=True)
class Call:
    """One operation the probe asked for. ``args`` never holds a password."""

    name: str
    args: Mapping[str, Any] = attrs.field(factory=dict)


class Replies:
    """Successive outcomes of one operation: the first call gets the first, the next
    call the next, and the last one repeats. Each is an exception (raised), None (the
    default outcome) or a value."""

    def __init__(self, *outcomes: object) -> None:
        if not outcomes:
            raise ValueError("Replies() needs at least one outcome")
        self.outcomes = outcomes

    def __repr__(self) -> str:
        return f"Replies{self.outcomes!r}"


#: What a keyword of ``ScriptedTransport`` takes.
Script = Union[None, BaseException, Replies, Callable[[Call], Any], Any]

# Operations whose value is itself a sequence: a list there is the value.
_SEQUENCE_VALUES = {"imap_capabilities", "imap_list"}


class _Slot:
    def __init__(self, name: str, script: Script) -> None:
        if isinstance(script, (list, tuple)) and name not in _SEQUENCE_VALUES:
            raise TypeError(
                f"{name}: a {type(script).__name__} is not an outcome of this operation;"
                " use Replies(first, second, ...) for successive outcomes"
            )
        if name == "imap_capabilities" and isinstance(script, str):
            script = tuple(script.split())  # "IMAP4rev1 IDLE", as a server sends it
        self._handler: Optional[Callable[[Call], Any]] = None
        if callable(script) and not isinstance(script, type):
            self._handler = script
        self._steps = list(script.outcomes) if isinstance(script, Replies) else [script]
        self._lock = threading.Lock()

    def next(self, default: Any, call: Call) -> Any:
        if self._handler is not None:
            step = self._handler(call)
        else:
            with self._lock:
                step = self._steps.pop(0) if len(self._steps) > 1 else self._steps[0]
        if isinstance(step, BaseException):
            raise step
        return default if step is None else step


class ScriptedTransport:
    """A transport that replays scripted outcomes; see the module docstring.

    ``delay`` makes every operation take that many seconds of the probe's
    deadline, so timeouts can be tested too. A list given where the operation's value
    is not a sequence raises ``TypeError`` (use ``Replies``).
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
            name: _Slot(name, script)
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
        call = Call(name=name, args=args)
        with self._lock:
            self.calls.append(call)
        deadline.remaining(f"waiting for the scripted {name}")  # raises once time is up
        if self._delay and deadline.wait(self._delay):
            raise DeadlineExceeded(f"waiting for the scripted {name}")
        return self._slots[name].next(default, call)

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
            "smtp_login",
            self._deadline,
            "AUTH PLAIN",
            username=username,
            password_sent=bool(password),
        )
        return result

    def login_oauth2(self, username: str, token: str) -> str:
        result: str = self._transport._step(
            "smtp_login", self._deadline, "AUTH XOAUTH2", username=username, token_sent=bool(token)
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
