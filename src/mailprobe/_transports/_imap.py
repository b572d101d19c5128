"""IMAP over ``imaplib``, on a socket this package connected and bounded by the deadline."""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Callable, Optional, TypeVar

from .._deadline import Deadline
from .._enums import Security
from .._errors import (
    CapabilityError,
    ProtocolError,
    ReplyError,
    StartTLSError,
)
from .._models import JSONValue
from .._tls import describe
from . import _sasl as sasl
from ._base import ConnectionInfo, Endpoint, Folder, Transcript
from ._net import Wire, connect, start_tls, tls_round_trips
from ._translate import guarded

T = TypeVar("T")
_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delim>"(?:\\.|[^"\\])*"|NIL) ?(?P<name>.*)$')
_CLOSE_WAIT = 1.0  # seconds granted to sending LOGOUT


_LOGIN_COMMAND = re.compile(r'^(\S+ LOGIN (?:"(?:\\.|[^"\\])*"|\S+))')


def mask_imap_line(line: str, auth: Optional[str]) -> str:
    """``line`` as the transcript shows it: no password, no SASL response."""
    if auth == "LOGIN":
        match = _LOGIN_COMMAND.match(line)
        return f"{match.group(1)} ********" if match else "********"
    if auth == "AUTHENTICATE":
        parts = line.split(" ")
        if len(parts) >= 3 and parts[1].upper() == "AUTHENTICATE":
            # The mechanism stays visible; an initial response (SASL-IR) does not.
            return " ".join(parts[:3]) + (" ********" if len(parts) > 3 else "")
        return "********"
    return line


class _IMAP4(imaplib.IMAP4):
    """``imaplib.IMAP4`` on an already connected socket, re-arming the timeout per read
    and reporting each line to the transcript (masked while authenticating)."""

    def __init__(
        self, sock: Any, host: str, deadline: Deadline, transcript: Optional[Transcript]
    ) -> None:
        self._mp_sock = sock
        self._mp_deadline = deadline
        self._mp_cap: Optional[float] = None
        self._mp_transcript = transcript
        self._mp_auth: Optional[str] = None  # "LOGIN" or "AUTHENTICATE" while logging in
        self._mp_trust_filed_caps = True  # False while STARTTLS runs (pre-TLS data)
        self.round_trips = 0  # times the client waited for the server after writing
        self._mp_waiting = False
        super().__init__(host, 0)

    def _get_capabilities(self) -> None:
        # RFC 3501 7.1: the greeting may carry [CAPABILITY ...], which imaplib files under
        # "CAPABILITY"; using it saves the CAPABILITY round trip imaplib would make. After
        # STARTTLS everything learnt before TLS is discarded (RFC 3501 6.2.1) and asked again.
        filed = self.untagged_responses.pop("CAPABILITY", None)
        raw = filed[-1] if filed else None
        if isinstance(raw, bytes) and raw and self._mp_trust_filed_caps:
            self.capabilities = tuple(raw.decode("ascii", "replace").upper().split())
        else:
            super()._get_capabilities()  # type: ignore[misc]

    def open(self, host: str = "", port: int = 0, timeout: Optional[float] = None) -> None:
        self.host = host
        self.port = port
        self.sock = self._mp_sock
        self.file = self.sock.makefile("rb")

    def _arm(self) -> None:
        left = self._mp_deadline.remaining("waiting for the IMAP server")
        self.sock.settimeout(left if self._mp_cap is None else min(left, self._mp_cap))

    def _count_turn(self) -> None:
        if self._mp_waiting:
            self.round_trips += 1
            self._mp_waiting = False

    def readline(self) -> bytes:
        self._arm()
        self._count_turn()
        line = super().readline()
        if self._mp_transcript is not None and line:
            self._mp_transcript.server(line.decode("utf-8", "replace").rstrip("\r\n"))
        return line

    def read(self, size: int) -> bytes:
        self._arm()
        self._count_turn()
        data = super().read(size)
        if self._mp_transcript is not None:
            self._mp_transcript.server(f"[literal, {len(data)} bytes]")
        return data

    def send(self, data: Any) -> None:
        self._arm()
        if self._mp_transcript is not None:
            for line in bytes(data).decode("utf-8", "replace").split("\r\n"):
                if line:
                    self._mp_transcript.client(mask_imap_line(line, self._mp_auth))
        self._mp_waiting = True
        super().send(data)


def _quote(value: str) -> str:
    # RFC 3501 quoted string: backslash and double quote are escaped.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _unquote(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    return decode_mailbox_name(text)


def decode_mailbox_name(name: str) -> str:
    """Decode IMAP's modified UTF-7 (RFC 3501 section 5.1.3): ``&AOQ-`` is ``ä``."""

    def one(match: re.Match[str]) -> str:
        chunk = match.group(1)
        if not chunk:
            return "&"
        data = chunk.replace(",", "/")
        data += "=" * (-len(data) % 4)
        try:
            return base64.b64decode(data).decode("utf-16-be")
        except (ValueError, UnicodeDecodeError):
            return match.group(0)

    return re.sub(r"&([A-Za-z0-9+,]*)-", one, name)


def parse_list_line(item: Any) -> Optional[Folder]:
    """One ``LIST`` reply (bytes, or a (line, literal) tuple) as a ``Folder``."""
    literal: Optional[bytes] = None
    if isinstance(item, tuple):
        item, literal = item[0], item[1]
    if not isinstance(item, bytes):
        return None
    match = _LIST_LINE.match(item)
    if match is None:
        return None
    delim = match.group("delim")
    if literal is not None:
        name = literal.decode("utf-8", "replace")
    else:
        name = _unquote(match.group("name"))
    return Folder(
        name=name,
        flags=tuple(match.group("flags").decode("ascii", "replace").split()),
        delimiter=None if delim == b"NIL" else _unquote(delim),
    )


class ImapConnection:
    """The default transport's IMAP connection."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline) -> None:
        self._deadline = deadline
        self._during = "connecting to the IMAP server"
        self._ready = False
        self._listed: Any = None  # LIST's outcome, fetched in the same flight as EXAMINE
        self._host, self._port = endpoint.host, endpoint.port
        sock = self._call(lambda: connect(endpoint.host, endpoint.port, deadline))
        self._setup_trips = 1  # the TCP handshake; TLS handshakes are added below
        self._wire = Wire(sock)
        self._cancel_abort = deadline.on_expiry(self._wire.abort)
        self._imap: Optional[_IMAP4] = None
        try:
            if endpoint.security is Security.TLS:
                assert endpoint.tls_context is not None
                ctx = endpoint.tls_context
                sock = self._call(
                    lambda: start_tls(sock, ctx, endpoint.host, deadline, endpoint.transcript)
                )
                self._setup_trips += tls_round_trips(sock)
            self._during = "waiting for the IMAP greeting"
            self._imap = imap = self._call(
                lambda: _IMAP4(sock, endpoint.host, deadline, endpoint.transcript)
            )
            greeting = imap.welcome.decode("utf-8", "replace")
            if endpoint.security is Security.STARTTLS:
                assert endpoint.tls_context is not None
                self._starttls(imap, endpoint.tls_context)
            tls = describe(imap.sock) if isinstance(imap.sock, ssl.SSLSocket) else None
            self._info = ConnectionInfo(
                greeting=greeting,
                capabilities=imap.capabilities,
                auth_mechanisms=tuple(c[5:] for c in imap.capabilities if c.startswith("AUTH=")),
                tls=tls,
                local_address=self._wire.local,
                peer_address=self._wire.peer,
            )
            self._ready = True
        except BaseException:
            if self._imap is None:
                sock.close()
            self.close()
            raise

    @property
    def info(self) -> ConnectionInfo:
        return self._info

    @property
    def round_trips(self) -> int:
        """Round trips so far: TCP and TLS handshakes plus each wait for a reply."""
        return self._setup_trips + (self._imap.round_trips if self._imap else 0)

    def _call(self, fn: Callable[[], T], command: Optional[str] = None) -> T:
        return guarded(fn, deadline=self._deadline, during=self._during, command=command)

    def _starttls(self, imap: _IMAP4, context: ssl.SSLContext) -> None:
        # RFC 3501 6.2.1: no credentials before TLS unless the user chose no security.
        self._during = "negotiating STARTTLS"
        if "STARTTLS" not in imap.capabilities:
            raise StartTLSError("the IMAP server does not offer STARTTLS")
        imap.untagged_responses.pop("CAPABILITY", None)
        imap._mp_trust_filed_caps = False
        try:
            self._call(lambda: imap.starttls(context), "STARTTLS")
            if isinstance(imap.sock, ssl.SSLSocket):
                self._setup_trips += tls_round_trips(imap.sock)
                if imap._mp_transcript is not None:
                    imap._mp_transcript.note(f"TLS established ({imap.sock.version()})")
        except ReplyError as exc:
            raise StartTLSError(
                f"the IMAP server refused STARTTLS: {exc.text}", reason="refused"
            ) from exc
        except ProtocolError as exc:
            raise StartTLSError(f"STARTTLS failed: {exc}", reason="refused") from exc
        finally:
            imap._mp_trust_filed_caps = True

    def _client(self) -> _IMAP4:
        assert self._imap is not None
        return self._imap

    def login(self, username: str, password: str) -> str:
        imap = self._client()
        self._during = "logging in"
        caps = imap.capabilities
        if username.isascii() and password.isascii():
            if "LOGINDISABLED" in caps:
                raise CapabilityError(
                    "the server refuses LOGIN on this connection (LOGINDISABLED)",
                    missing=("LOGIN",),
                    command="LOGIN",
                )
            with _authenticating(imap, "LOGIN"):
                self._call(lambda: imap.login(_quote(username), password), "LOGIN")
            return "LOGIN"
        # imaplib's LOGIN only takes ASCII; RFC 4616 PLAIN carries UTF-8.
        if "AUTH=PLAIN" not in caps:
            raise CapabilityError(
                "non-ASCII credentials need AUTHENTICATE PLAIN, not offered",
                missing=("AUTH=PLAIN",),
                command="AUTHENTICATE",
            )
        token = sasl.plain(username, password)
        with _authenticating(imap, "AUTHENTICATE"):
            if "SASL-IR" in caps:
                # RFC 4959: the response rides on the command, saving a round trip.
                initial = base64.b64encode(token).decode("ascii")
                typ, data = self._call(
                    lambda: imap._simple_command("AUTHENTICATE", "PLAIN", initial), "AUTHENTICATE"
                )
                if typ != "OK":
                    raise ReplyError.imap(typ, _last_text(data), command="AUTHENTICATE")
                imap.state = "AUTH"
            else:
                self._call(lambda: imap.authenticate("PLAIN", lambda _ch: token), "AUTHENTICATE")
        return "AUTHENTICATE PLAIN"

    def login_oauth2(self, username: str, token: str) -> str:
        imap = self._client()
        self._during = "logging in"
        offered = {c[5:] for c in imap.capabilities if c.startswith("AUTH=")}
        mechanism = sasl.oauth_mechanism(offered)
        if mechanism is None:
            raise CapabilityError(
                "the server offers neither OAUTHBEARER nor XOAUTH2",
                missing=("AUTH=OAUTHBEARER",),
                command="AUTHENTICATE",
            )
        response = sasl.oauth_response(mechanism, username, token, self._host, self._port)
        challenges: list[bytes] = []

        def respond(challenge: bytes) -> bytes:
            if not challenges and not challenge:
                challenges.append(b"")
                return response
            challenges.append(challenge)  # the server's error, as JSON
            ack: bytes = sasl.ERROR_ACK[mechanism]
            return ack

        with _authenticating(imap, "AUTHENTICATE"):
            try:
                self._call(lambda: imap.authenticate(mechanism, respond), "AUTHENTICATE")
            except ReplyError as exc:
                errors = [c for c in challenges if c]
                if errors:
                    exc.challenge = errors[0].decode("utf-8", "replace")
                raise
        return f"AUTHENTICATE {mechanism}"

    def capabilities(self) -> tuple[str, ...]:
        imap = self._client()
        # A server may send its new capabilities in the tagged OK of LOGIN (RFC 3501 7.1);
        # imaplib files that response code under "CAPABILITY".
        typ, data = imap.response("CAPABILITY")
        if not (data and data[-1]):
            self._during = "asking for capabilities"
            typ, data = self._call(imap.capability, "CAPABILITY")
            if typ != "OK":
                raise ReplyError.imap(typ, _last_text(data), command="CAPABILITY")
        raw = data[-1]
        text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
        return tuple(text.upper().split())

    def examine(self, mailbox: str) -> Mapping[str, JSONValue]:
        """EXAMINE ``mailbox``; LIST is sent in the same flight (RFC 3501 5.5 allows
        several commands in progress) and its answer kept for ``list_folders()``."""
        imap = self._client()
        self._during = f"opening {mailbox}"
        self._listed = None
        examine_tag = self._call(lambda: imap._command("EXAMINE", _quote(mailbox)), "EXAMINE")
        list_tag = self._call(lambda: imap._command("LIST", '""', '"*"'), "LIST")
        typ, data = self._call(lambda: imap._command_complete("EXAMINE", examine_tag), "EXAMINE")
        exists = imap.response("EXISTS")[1]
        self._during = "listing folders"
        try:
            list_typ, list_data = self._call(
                lambda: imap._command_complete("LIST", list_tag), "LIST"
            )
            self._listed = (list_typ, imap.response("LIST")[1], list_data)
        except ReplyError as exc:
            self._listed = exc
        if typ != "OK":
            raise ReplyError.imap(typ, _last_text(data), command="EXAMINE")
        try:
            count = int(exists[-1]) if exists and exists[-1] is not None else None
        except (TypeError, ValueError):
            count = None
        return {"exists": count}

    def list_folders(self) -> Sequence[Folder]:
        imap = self._client()
        self._during = "listing folders"
        listed, self._listed = self._listed, None
        if isinstance(listed, ReplyError):
            raise listed
        if listed is None:
            typ, data = self._call(imap.list, "LIST")
            tagged: Sequence[Any] = data
        else:
            typ, data, tagged = listed
        if typ != "OK":
            raise ReplyError.imap(typ, _last_text(tagged), command="LIST")
        folders = [parse_list_line(item) for item in data if item is not None]
        return tuple(f for f in folders if f is not None)

    def find_message(self, message_id: str) -> bool:
        imap = self._client()
        self._during = "looking for the test email"
        if imap.state != "SELECTED":
            typ, data = self._call(lambda: imap.select('"INBOX"', readonly=True), "EXAMINE")
            if typ != "OK":
                raise ReplyError.imap(typ, _last_text(data), command="EXAMINE")
        # A command in the selected state also brings news of mail that arrived since.
        typ, data = self._call(
            lambda: imap.search(None, "HEADER", "Message-ID", _quote(message_id)), "SEARCH"
        )
        if typ != "OK":
            raise ReplyError.imap(typ, _last_text(data), command="SEARCH")
        return bool(data and data[0] and data[0].split())

    def close(self) -> None:
        imap = self._imap
        try:
            polite = self._ready and not self._deadline.expired
            if imap is not None and polite and imap.state != "LOGOUT":
                # Say goodbye without waiting for the BYE: nothing depends on it.
                imap._mp_cap = _CLOSE_WAIT
                imap.state = "LOGOUT"
                with contextlib.suppress(Exception):
                    imap.send(b"Z LOGOUT\r\n")
            if imap is not None:
                try:
                    imap.shutdown()
                except Exception:
                    with contextlib.suppress(Exception):
                        imap.sock.close()
        finally:
            self._cancel_abort()
            self._wire.close()


@contextlib.contextmanager
def _authenticating(imap: _IMAP4, mode: str) -> Iterator[None]:
    imap._mp_auth = mode
    try:
        yield
    finally:
        imap._mp_auth = None


def _last_text(data: Sequence[Any]) -> str:
    raw = data[-1] if data else b""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
