"""IMAP over ``imaplib``, on a socket this package connected and bounded by the deadline.

``imaplib`` parses and builds commands; the reading and writing is the line client's
(``_line.py``), plugged in through imaplib's overridable methods ``open``, ``read``,
``readline``, ``send`` and ``shutdown``. So imaplib's own buffering is never used: not
``IMAP4.file`` (up to Python 3.13), nor ``_file``/``_readbuf`` (3.14, where ``file`` became
a read-only property). STARTTLS is run here, not by ``imaplib.starttls()``, so that
nothing received before TLS survives it on any version.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Callable, Optional, cast

from .._deadline import Deadline
from .._decode import decode_reply
from .._enums import Security
from .._errors import CapabilityError, ProtocolError, ReplyError, StartTLSError
from .._masking import login_masker
from .._models import JSONValue
from .._tls import describe
from . import _sasl as sasl
from ._base import ConnectionInfo, Endpoint, Folder
from ._line import IMAP_LIMITS, MAX_FOLDERS, LineClient, mapped
from ._net import connect

_LIST_LINE = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delim>"(?:\\.|[^"\\])*"|NIL) ?(?P<name>.*)$')
_CLOSE_WAIT = 1.0  # seconds granted to sending LOGOUT
_LOGIN_COMMAND = re.compile(r'^(\S+ LOGIN (?:"(?:\\.|[^"\\])*"|\S+))')
# RFC 3501 9: keywords are case-insensitive. imaplib matches them in upper case only,
# so the status or response name (and a bracketed response code after a status) is
# upper-cased before imaplib sees the line.
_KEYWORD = re.compile(rb"^(?:\*|[A-Za-z0-9]+) (?:\d+ )?([A-Za-z][A-Za-z0-9-]*)(?= |\r?\n|$)")
_CODE = re.compile(rb" \[([A-Za-z][A-Za-z0-9.-]*)")
_STATUS = (b"OK", b"NO", b"BAD", b"BYE", b"PREAUTH")


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


def canonical_keywords(line: bytes) -> bytes:
    """``line`` with its response keyword (and response code) in upper case."""
    match = _KEYWORD.match(line)
    if match is None:
        return line
    start, end = match.span(1)
    word = line[start:end].upper()
    line = line[:start] + word + line[end:]
    if word in _STATUS:
        code = _CODE.match(line, end)
        if code is not None:
            cstart, cend = code.span(1)
            line = line[:cstart] + line[cstart:cend].upper() + line[cend:]
    return line


def imap_class(base: type[imaplib.IMAP4]) -> Callable[[LineClient, str], imaplib.IMAP4]:
    """``base`` (``imaplib.IMAP4``) reading and writing through a ``LineClient``.

    The imaplib internals relied on, all present with the same signatures in CPython
    3.9 through 3.14 (Lib/imaplib.py of each, and typeshed's 3.14 stubs), are used only
    in this class and in ``ImapConnection.examine``:

    - ``_get_capabilities()`` is overridden so the greeting's ``[CAPABILITY ...]`` saves
      a round trip, and to mark the server as greeted;
    - ``_command(name, *args)`` and ``_command_complete(name, tag)`` send EXAMINE and
      LIST before reading either answer (pipelining, RFC 3501 5.5).

    Everything else used is public: the overridable I/O methods, ``xatom``,
    ``authenticate``, ``login``, ``select``, ``search``, ``capability``, ``response``
    and the attributes ``untagged_responses``, ``capabilities``, ``state``, ``welcome``,
    ``is_readonly``.
    """

    class _IMAP4(base):  # type: ignore[valid-type,misc]
        def __init__(self, line: LineClient, host: str) -> None:
            self._mp_line = line
            self._mp_auth: Optional[str] = None  # "LOGIN"/"AUTHENTICATE" while logging in
            self._mp_greeting_caps = True  # False after STARTTLS: ask again
            self._mp_after_literal = False
            super().__init__(host, 0)

        # -- the overridable methods (imaplib's "Overridable methods" section) ---------
        def open(self, host: str = "", port: int = 0, timeout: Optional[float] = None) -> None:
            self.host = host
            self.port = port
            self.sock = self._mp_line.sock

        def readline(self) -> bytes:
            line = self._mp_line.readline()
            self._mp_line.show_server(line)
            if self._mp_after_literal:  # the rest of a line that carried a literal
                self._mp_after_literal = False
                return line
            return canonical_keywords(line)

        def read(self, size: int) -> bytes:
            self._mp_after_literal = True
            return self._mp_line.read(size)

        def send(self, data: Any) -> None:
            raw = bytes(data)
            text = raw.decode("utf-8", "replace").split("\r\n")
            shown = [mask_imap_line(t, self._mp_auth) for t in text if t]
            self._mp_line.send(raw, shown)

        def shutdown(self) -> None:
            pass  # the line client closes the socket

        # -- internals (see the class docstring) ----------------------------------------
        def _get_capabilities(self) -> None:
            # Called once a valid greeting (OK or PREAUTH) was read.
            self._mp_line.greeted = True
            filed = self.untagged_responses.pop("CAPABILITY", None)
            raw = filed[-1] if filed else None
            if isinstance(raw, bytes) and raw and self._mp_greeting_caps:
                self.capabilities = tuple(raw.decode("ascii", "replace").upper().split())
            else:
                super()._get_capabilities()

    return _IMAP4


_IMAP4 = imap_class(imaplib.IMAP4)


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


def _last_text(data: Sequence[Any]) -> str:
    raw = data[-1] if data else b""
    return decode_reply(raw) if isinstance(raw, bytes) else str(raw or "")


class ImapConnection:
    """The default transport's IMAP connection."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline) -> None:
        self._deadline = deadline
        self._host, self._port = endpoint.host, endpoint.port
        self._ready = False
        self._listed: Any = None  # LIST's outcome, fetched in the same flight as EXAMINE
        self._imap: Optional[imaplib.IMAP4] = None
        self._line: Optional[LineClient] = None
        during = "connecting to the IMAP server"
        try:
            with mapped(deadline, during):
                connected = connect(endpoint.host, endpoint.port, deadline)
                self._line = line = LineClient(
                    connected,
                    deadline,
                    protocol="imap",
                    limits=IMAP_LIMITS,
                    transcript=endpoint.transcript,
                )
            with line.guard(during):
                if endpoint.security is Security.TLS:
                    assert endpoint.tls_context is not None
                    line.start_tls(endpoint.tls_context, endpoint.host)
            with line.guard("waiting for the IMAP greeting", "CONNECT"):
                self._imap = imap = _IMAP4(line, endpoint.host)
            greeting = decode_reply(imap.welcome)
            if endpoint.security is Security.STARTTLS:
                assert endpoint.tls_context is not None
                self._starttls(endpoint.tls_context)
            self._info = ConnectionInfo(
                greeting=greeting,
                capabilities=imap.capabilities,
                auth_mechanisms=tuple(c[5:] for c in imap.capabilities if c.startswith("AUTH=")),
                tls=describe(line.tls) if line.tls is not None else None,
                local_address=line.local_address,
                peer_address=line.peer_address,
            )
            self._ready = True
        except BaseException:
            self.close()
            raise

    @property
    def info(self) -> ConnectionInfo:
        return self._info

    @property
    def round_trips(self) -> int:
        """Round trips so far: TCP and TLS handshakes plus each wait for a reply."""
        return self._line.round_trips if self._line is not None else 0

    def _client(self) -> tuple[imaplib.IMAP4, LineClient]:
        assert self._imap is not None
        assert self._line is not None
        return self._imap, self._line

    def _starttls(self, context: Any) -> None:
        # RFC 3501 6.2.1: no credentials before TLS unless the user chose no security.
        imap, line = self._client()
        with line.guard("negotiating STARTTLS", "STARTTLS"):
            if "STARTTLS" not in imap.capabilities:
                raise StartTLSError("the IMAP server does not offer STARTTLS")
            try:
                typ, data = imap.xatom("STARTTLS")
            except imaplib.IMAP4.error as exc:
                raise StartTLSError(f"STARTTLS failed: {exc}", reason="refused") from exc
            if typ != "OK":
                raise StartTLSError(
                    f"the IMAP server refused STARTTLS: {_last_text(data)}", reason="refused"
                )
            line.start_tls(context, self._host)
            imap.sock = line.sock
            # Forget everything learnt before TLS (RFC 3501 6.2.1): untagged responses
            # (an injected "* LIST" or "* CAPABILITY"), the capabilities, buffered bytes
            # (dropped by start_tls); then ask for the capabilities again.
            imap.untagged_responses.clear()
            cast(Any, imap)._mp_greeting_caps = False  # the class is imap_class()'s
            imap._get_capabilities()

    def login(self, username: str, password: str) -> str:
        imap, line = self._client()
        line.hide(login_masker(username, password, self._host, self._port).mask)
        caps = imap.capabilities
        ascii_credentials = username.isascii() and password.isascii()
        with line.guard("logging in", "LOGIN"):
            if ascii_credentials and "LOGINDISABLED" not in caps:
                with _authenticating(imap, "LOGIN"):
                    imap.login(_quote(username), password)
                return "LOGIN"
            if "AUTH=PLAIN" not in caps:
                if "LOGINDISABLED" in caps:
                    raise CapabilityError(
                        "the server refuses LOGIN on this connection (LOGINDISABLED)"
                        " and offers no AUTHENTICATE PLAIN",
                        missing=("LOGIN",),
                        command="LOGIN",
                    )
                # imaplib's LOGIN only takes ASCII; RFC 4616 PLAIN carries UTF-8.
                raise CapabilityError(
                    "non-ASCII credentials need AUTHENTICATE PLAIN, not offered",
                    missing=("AUTH=PLAIN",),
                    command="AUTHENTICATE",
                )
        # LOGINDISABLED with AUTH=PLAIN (Cyrus keeps listing it after TLS), or non-ASCII.
        token = sasl.plain(username, password)
        with line.guard("logging in", "AUTHENTICATE"), _authenticating(imap, "AUTHENTICATE"):
            if "SASL-IR" in caps:
                # RFC 4959: the response rides on the command, saving a round trip.
                initial = base64.b64encode(token).decode("ascii")
                typ, data = imap.xatom("AUTHENTICATE", "PLAIN", initial)
                if typ != "OK":
                    raise ReplyError.imap(typ, _last_text(data), command="AUTHENTICATE")
                imap.state = "AUTH"
            else:
                imap.authenticate("PLAIN", lambda _challenge: token)
        return "AUTHENTICATE PLAIN"

    def login_oauth2(self, username: str, token: str) -> str:
        imap, line = self._client()
        line.hide(login_masker(username, token, self._host, self._port).mask)
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

        try:
            with line.guard("logging in", "AUTHENTICATE"), _authenticating(imap, "AUTHENTICATE"):
                imap.authenticate(mechanism, respond)
        except ReplyError as exc:
            errors = [c for c in challenges if c]
            if errors:
                exc.challenge = errors[0].decode("utf-8", "replace")
            raise
        return f"AUTHENTICATE {mechanism}"

    def capabilities(self) -> tuple[str, ...]:
        imap, line = self._client()
        with line.guard("asking for capabilities", "CAPABILITY"):
            # A server may send its new capabilities in the tagged OK of LOGIN (RFC 3501
            # 7.1); imaplib files that response code under "CAPABILITY".
            typ, data = imap.response("CAPABILITY")
            if not (data and data[-1]):
                typ, data = imap.capability()
                if typ != "OK":
                    raise ReplyError.imap(typ, _last_text(data), command="CAPABILITY")
            raw = data[-1]
            text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
        return tuple(text.upper().split())

    def examine(self, mailbox: str) -> Mapping[str, JSONValue]:
        """EXAMINE ``mailbox``; LIST is sent in the same flight (RFC 3501 5.5 allows
        several commands in progress) and its answer kept for ``list_folders()``."""
        imap, line = self._client()
        self._listed = None
        # Read-only is what we ask for: the [READ-ONLY] code EXAMINE answers with must
        # not make imaplib's next command raise "mailbox status changed to READ-ONLY".
        imap.is_readonly = True
        with line.guard(f"opening {mailbox}", "EXAMINE"):
            examine_tag = imap._command("EXAMINE", _quote(mailbox))
            list_tag = imap._command("LIST", '""', '"*"')
            typ, data = imap._command_complete("EXAMINE", examine_tag)
            exists = imap.response("EXISTS")[1]
        try:
            with line.guard("listing folders", "LIST"):
                list_typ, list_data = imap._command_complete("LIST", list_tag)
                self._listed = (list_typ, imap.response("LIST")[1], list_data)
        except ReplyError as exc:
            self._listed = exc
        for code in ("READ-ONLY", "READ-WRITE"):
            imap.untagged_responses.pop(code, None)
        if typ != "OK":
            raise ReplyError.imap(typ, _last_text(data), command="EXAMINE")
        try:
            count = int(exists[-1]) if exists and exists[-1] is not None else None
        except (TypeError, ValueError):
            count = None
        return {"exists": count}

    def list_folders(self) -> Sequence[Folder]:
        imap, line = self._client()
        listed, self._listed = self._listed, None
        if isinstance(listed, ReplyError):
            raise listed
        with line.guard("listing folders", "LIST"):
            if listed is None:
                typ, data = imap.list()
                tagged: Sequence[Any] = data
            else:
                typ, data, tagged = listed
            if typ != "OK":
                raise ReplyError.imap(typ, _last_text(tagged), command="LIST")
            return self._parse_folders(data, line)

    @staticmethod
    def _parse_folders(data: Sequence[Any], line: LineClient) -> tuple[Folder, ...]:
        items = [item for item in data if item is not None]
        if len(items) > MAX_FOLDERS:
            raise ProtocolError(
                f"the server listed more than {MAX_FOLDERS} folders",
                command="LIST",
                reason="too_large",
            )
        folders = []
        for index, item in enumerate(items):
            if index % 1000 == 999 and line.deadline.expired:  # CPU work: check the time
                line.deadline.remaining(line.during)
            folder = parse_list_line(item)
            if folder is not None:
                folders.append(folder)
        return tuple(folders)

    def find_message(self, message_id: str) -> bool:
        imap, line = self._client()
        with line.guard("looking for the test email", "EXAMINE"):
            if imap.state != "SELECTED":
                typ, data = imap.select('"INBOX"', readonly=True)
                if typ != "OK":
                    raise ReplyError.imap(typ, _last_text(data), command="EXAMINE")
        with line.guard("looking for the test email", "SEARCH"):
            # A command in the selected state also brings news of mail that arrived since.
            typ, data = imap.search(None, "HEADER", "Message-ID", _quote(message_id))
            if typ != "OK":
                raise ReplyError.imap(typ, _last_text(data), command="SEARCH")
        return bool(data and data[0] and data[0].split())

    def close(self) -> None:
        imap, line = self._imap, self._line
        if line is None:
            return
        try:
            polite = self._ready and not self._deadline.expired
            if imap is not None and polite and imap.state != "LOGOUT":
                # Say goodbye without waiting for the BYE: nothing depends on it.
                line.read_cap = _CLOSE_WAIT
                imap.state = "LOGOUT"
                with contextlib.suppress(Exception):
                    imap.send(b"Z LOGOUT\r\n")
        finally:
            line.close()


@contextlib.contextmanager
def _authenticating(imap: imaplib.IMAP4, mode: str) -> Iterator[None]:
    imap._mp_auth = mode  # type: ignore[attr-defined]
    try:
        yield
    finally:
        imap._mp_auth = None  # type: ignore[attr-defined]

