"""SMTP over ``smtplib``, on a socket this package connected and bounded by the deadline.

``smtplib`` formats commands (``putcmd``, ``docmd``, ``data``) and keeps the extension
table (``esmtp_features``, ``has_extn``); the line client (``_line.py``) reads and
writes. Replies are parsed strictly here: a reply line is three digits from 200 to 599
followed by a space, a hyphen or the line end (``2350 ...`` is not a 235), and every
line of a multi-line reply carries the same code. The EHLO reply is parsed here too,
within the line client's bounds: smtplib's parser rebuilds its AUTH string on every
line (quadratic in a hostile reply) and doubles a space in it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from typing import Any, Optional

from .._address import parse_mailbox
from .._deadline import Deadline
from .._decode import decode_reply
from .._enums import Security
from .._errors import CapabilityError, ProbeError, ProtocolError, ReplyError, StartTLSError
from .._masking import login_masker
from .._tls import describe
from . import _sasl as sasl
from ._base import ConnectionInfo, Endpoint
from ._line import SMTP_LIMITS, LineClient, mapped
from ._net import connect
from ._translate import smtp_refusal

_CLOSE_WAIT = 1.0  # seconds granted to sending QUIT
_REPLY = re.compile(rb"([2-5][0-9][0-9])([ -]?)(.*)", re.S)
_FEATURE = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](.*))?$")
_MAX_AUTH_MECHANISMS = 50


def mask_smtp_line(line: str, mode: Optional[str]) -> str:
    """``line`` as the transcript shows it: no credential, no message body."""
    if mode == "AUTH":
        words = line.split(" ")
        if len(words) >= 2 and words[0].upper() == "AUTH":
            # The mechanism stays visible; an initial response does not.
            return " ".join(words[:2]) + (" ********" if len(words) > 2 else "")
        return "********"
    if mode == "DATA" and line.upper() != "DATA":
        return f"[message elided, {len(line.encode())} bytes]"
    return line


class _SMTP(smtplib.SMTP):
    """``smtplib.SMTP`` whose replies and writes go through a ``LineClient``."""

    def __init__(self, line: LineClient, local_hostname: str) -> None:
        super().__init__(local_hostname=local_hostname)
        self._mp_line = line
        self._mp_mode: Optional[str] = None  # "AUTH" or "DATA" while those run
        self.sock = line.sock

    def getreply(self) -> tuple[int, bytes]:
        line = self._mp_line
        code: Optional[int] = None
        texts: list[bytes] = []
        while True:
            raw = line.readline()
            if not raw.endswith(b"\n"):
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            line.show_server(raw)
            text = raw.rstrip(b"\r\n")
            match = _REPLY.fullmatch(text)
            if match is None or (match.group(2) == b"" and match.group(3)):
                reason = "malformed" if line.greeted else "not_protocol"
                raise ProtocolError(f"not an SMTP reply line: {text[:80]!r}", reason=reason)
            this = int(match.group(1))
            if code is not None and this != code:
                raise ProtocolError(
                    f"one reply with two codes ({code}, then {this})", reason="malformed"
                )
            code = this
            texts.append(match.group(3).strip())
            if match.group(2) != b"-":
                return code, b"\n".join(texts)

    def send(self, s: Any) -> None:
        data = s.encode(self.command_encoding) if isinstance(s, str) else bytes(s)
        text = data.decode("utf-8", "replace")
        if self._mp_mode == "DATA" and text.upper() != "DATA\r\n":
            shown = [mask_smtp_line(text, "DATA")]
        else:
            shown = [mask_smtp_line(t, self._mp_mode) for t in text.split("\r\n") if t]
        self._mp_line.send(data, shown)

    def close(self) -> None:
        self.file = None
        self.sock = None  # the line client closes the socket


@contextlib.contextmanager
def _mode(smtp: _SMTP, mode: str) -> Iterator[None]:
    smtp._mp_mode = mode
    try:
        yield
    finally:
        smtp._mp_mode = None


def _dot_stuffed(message: bytes) -> bytes:
    """``message`` as DATA carries it (RFC 5321 4.5.2): leading dots doubled, then CRLF.CRLF."""
    body = re.sub(rb"(?m)^\.", b"..", message)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _ehlo_name(local_address: Optional[str]) -> str:
    # RFC 5321 4.1.3: an address literal when we have no meaningful host name.
    if local_address is None:
        return "[127.0.0.1]"
    host = local_address.rsplit(":", 1)[0].strip("[]")
    return f"[IPv6:{host}]" if ":" in host else f"[{host}]"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _text(raw: bytes) -> str:
    return decode_reply(raw)


def parse_ehlo(reply: bytes) -> tuple[dict[str, str], tuple[str, ...]]:
    """The extension table of an EHLO reply (keys in lower case, as smtplib keeps them)
    and the capability strings (``"AUTH PLAIN LOGIN"``, single spaces)."""
    features: dict[str, str] = {}
    mechanisms: list[str] = []
    for line in _text(reply).split("\n")[1:]:
        match = _FEATURE.match(line.strip())
        if match is None:
            continue
        keyword, params = match.group(1).lower(), " ".join((match.group(2) or "").split())
        if keyword == "auth":  # "AUTH=PLAIN" is the old style of the same (RFC 4954 note)
            for mechanism in params.upper().split():
                if mechanism not in mechanisms and len(mechanisms) < _MAX_AUTH_MECHANISMS:
                    mechanisms.append(mechanism)
            features["auth"] = " ".join(mechanisms)
        else:
            features[keyword] = params
    capabilities = tuple(f"{k.upper()} {v}".strip() for k, v in features.items())
    return features, capabilities


class SmtpConnection:
    """The default transport's SMTP connection."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline) -> None:
        self._deadline = deadline
        self._host, self._port = endpoint.host, endpoint.port
        self._ready = False
        self._line: Optional[LineClient] = None
        self._capabilities: tuple[str, ...] = ()
        try:
            with mapped(deadline, "connecting to the SMTP server"):
                connected = connect(endpoint.host, endpoint.port, deadline)
                self._line = line = LineClient(
                    connected,
                    deadline,
                    protocol="smtp",
                    limits=SMTP_LIMITS,
                    transcript=endpoint.transcript,
                )
            self._smtp = smtp = _SMTP(line, _ehlo_name(line.local_address))
            if endpoint.security is Security.TLS:
                assert endpoint.tls_context is not None
                with line.guard("connecting to the SMTP server"):
                    line.start_tls(endpoint.tls_context, endpoint.host)
                    smtp.sock = line.sock
            with line.guard("waiting for the SMTP greeting", "CONNECT"):
                code, reply = smtp.getreply()
                if code != 220:
                    raise smtp_refusal(code, reply, "CONNECT", greeted=False)
                line.greeted = True
            greeting = f"{code} {_text(reply)}"
            self._ehlo()
            if endpoint.security is Security.STARTTLS:
                assert endpoint.tls_context is not None
                self._starttls(endpoint.tls_context)
            features = smtp.esmtp_features
            self._info = ConnectionInfo(
                greeting=greeting,
                capabilities=self._capabilities,
                auth_mechanisms=tuple(features.get("auth", "").split()),
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

    def _client(self) -> tuple[_SMTP, LineClient]:
        assert self._line is not None
        return self._smtp, self._line

    def _ehlo(self) -> None:
        smtp, line = self._client()
        with line.guard("saying EHLO", "EHLO"):
            code, reply = smtp.docmd("EHLO", smtp.local_hostname)
            if code == 250:
                smtp.ehlo_resp = reply
                smtp.does_esmtp = True
                smtp.esmtp_features, self._capabilities = parse_ehlo(reply)
                return
        with line.guard("saying HELO", "HELO"):
            code, reply = smtp.docmd("HELO", smtp.local_hostname)
            if code != 250:
                raise smtp_refusal(code, reply, "HELO")
            smtp.helo_resp = reply

    def _starttls(self, context: ssl.SSLContext) -> None:
        # RFC 3207: no AUTH before TLS unless the user chose no security.
        smtp, line = self._client()
        with line.guard("negotiating STARTTLS", "STARTTLS"):
            if not smtp.has_extn("starttls"):
                raise StartTLSError("the SMTP server does not offer STARTTLS")
            code, reply = smtp.docmd("STARTTLS")
            if code != 220:
                raise StartTLSError(
                    f"the SMTP server refused STARTTLS: {code} {_text(reply)}", reason="refused"
                )
            line.start_tls(context, self._host)  # drops bytes sent after the 220
            smtp.sock = line.sock
            # Forget everything learnt before TLS (RFC 3207 4.2), then EHLO again.
            smtp.helo_resp = smtp.ehlo_resp = None
            smtp.esmtp_features = {}
            smtp.does_esmtp = False
            self._capabilities = ()
        self._ehlo()

    def _mechanisms(self) -> list[str]:
        smtp, _line = self._client()
        return smtp.esmtp_features.get("auth", "").split()

    def login(self, username: str, password: str) -> str:
        smtp, line = self._client()
        line.hide(login_masker(username, password, self._host, self._port).mask)
        if not smtp.has_extn("auth"):
            raise CapabilityError(
                "the SMTP server offers no AUTH on this connection",
                missing=("AUTH",),
                command="AUTH",
            )
        mechanisms = self._mechanisms()
        if "PLAIN" not in mechanisms and "LOGIN" not in mechanisms:
            raise CapabilityError(
                f"no supported AUTH mechanism (offered: {' '.join(mechanisms) or 'none'})",
                missing=("AUTH PLAIN",),
                command="AUTH",
            )
        # smtplib encodes credentials as ASCII; RFC 4616 PLAIN carries UTF-8.
        with line.guard("logging in", "AUTH"), _mode(smtp, "AUTH"):
            if "PLAIN" in mechanisms:
                mechanism = "PLAIN"
                code, reply = smtp.docmd("AUTH", "PLAIN " + _b64(sasl.plain(username, password)))
            else:
                mechanism = "LOGIN"
                code, reply = smtp.docmd("AUTH", "LOGIN")
                for step in (username.encode(), password.encode()):
                    if code != 334:
                        break
                    code, reply = smtp.docmd(_b64(step))
            if code != 235:
                raise smtp_refusal(code, reply, "AUTH")
        return f"AUTH {mechanism}"

    def login_oauth2(self, username: str, token: str) -> str:
        smtp, line = self._client()
        line.hide(login_masker(username, token, self._host, self._port).mask)
        mechanism = sasl.oauth_mechanism(set(self._mechanisms()))
        if mechanism is None:
            raise CapabilityError(
                "the server offers neither OAUTHBEARER nor XOAUTH2",
                missing=("AUTH OAUTHBEARER",),
                command="AUTH",
            )
        response = _b64(sasl.oauth_response(mechanism, username, token, self._host, self._port))
        challenge: Optional[str] = None
        with line.guard("logging in", "AUTH"), _mode(smtp, "AUTH"):
            code, reply = smtp.docmd("AUTH", f"{mechanism} {response}")
            if code == 334:  # an error challenge (RFC 7628 3.2.2): acknowledge, get the code
                challenge = _decode_challenge(reply)
                code, reply = smtp.docmd(_b64(sasl.ERROR_ACK[mechanism]))
            if code != 235:
                error = smtp_refusal(code, reply, "AUTH")
                if isinstance(error, ReplyError):
                    error.challenge = challenge
                raise error
        return f"AUTH {mechanism}"

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> str:
        smtp, line = self._client()
        # The envelope is written here, from validated mailboxes: nothing a parser could
        # read differently (comments, quoted strings, encoded words) reaches the wire.
        boxes = [parse_mailbox("sender", sender)]
        boxes += [parse_mailbox("recipient", r) for r in recipients]
        options: list[str] = []
        with line.guard("sending the test email", "MAIL"):
            if any(box.needs_smtputf8 for box in boxes):
                if not smtp.has_extn("smtputf8"):
                    raise CapabilityError(
                        "an address with a non-ASCII local part needs SMTPUTF8, which the"
                        " server does not offer",
                        missing=("SMTPUTF8",),
                        command="MAIL",
                    )
                smtp.command_encoding = "utf-8"
                options.append("SMTPUTF8")  # RFC 6531 3.4
            if not message.isascii() and smtp.has_extn("8bitmime"):
                options.append("BODY=8BITMIME")
        envelope = [box.envelope for box in boxes]
        if smtp.has_extn("pipelining"):
            code, reply = self._send_pipelined(envelope[0], envelope[1:], message, options)
        else:
            code, reply = self._send_stepwise(envelope[0], envelope[1:], message, options)
        return f"{code} {_text(reply)}"

    def _send_stepwise(
        self, sender: str, recipients: Sequence[str], message: bytes, options: list[str]
    ) -> tuple[int, bytes]:
        smtp, line = self._client()
        opts = "".join(f" {o}" for o in options)
        with line.guard(command="MAIL"):
            code, reply = smtp.docmd("MAIL", f"FROM:<{sender}>{opts}")
            if code != 250:
                raise smtp_refusal(code, reply, "MAIL")
        for recipient in recipients:
            with line.guard(command="RCPT"):
                code, reply = smtp.docmd("RCPT", f"TO:<{recipient}>")
                if code not in (250, 251):
                    raise smtp_refusal(code, reply, "RCPT")
        with line.guard(command="DATA"), _mode(smtp, "DATA"):
            code, reply = smtp.data(message)
            if code != 250:
                raise smtp_refusal(code, reply, "DATA")
        return code, reply

    def _send_pipelined(
        self, sender: str, recipients: Sequence[str], message: bytes, options: list[str]
    ) -> tuple[int, bytes]:
        """MAIL, RCPT and DATA in one flight (RFC 2920), then the message: two round trips
        instead of three plus one per recipient. Replies come back in order; the first
        refusal is the one reported, also when the server then hangs up (a 421 and a
        close after a refused RCPT)."""
        smtp, line = self._client()
        opts = "".join(f" {o}" for o in options)
        group = [f"MAIL FROM:<{sender}>{opts}"]
        group += [f"RCPT TO:<{r}>" for r in recipients]
        group.append("DATA")
        with line.guard(command="MAIL"):
            smtp.send("".join(f"{command}\r\n" for command in group))
        failure: Optional[ProbeError] = None
        data_code, data_reply = 0, b""
        for command in group:
            verb = command.split(" ", 1)[0].split(":", 1)[0]
            try:
                with line.guard(command=verb):
                    code, reply = smtp.getreply()
            except ProbeError as exc:
                if failure is None:
                    raise
                raise failure from exc
            wanted = {"MAIL": (250,), "RCPT": (250, 251), "DATA": (354,)}[verb]
            if verb == "DATA":
                data_code, data_reply = code, reply
            elif code not in wanted and failure is None:
                failure = smtp_refusal(code, reply, verb)
        if data_code != 354:
            raise failure or smtp_refusal(data_code, data_reply, "DATA")
        if failure is not None:
            # The server took DATA although a command before it failed. Ending it with
            # "." would deliver an empty message to the recipients it accepted: abort
            # the transaction by closing the connection instead (RFC 5321 3.8).
            self._ready = False
            line.close()
            raise failure
        with line.guard(command="DATA"), _mode(smtp, "DATA"):
            smtp.send(_dot_stuffed(message))
            code, reply = smtp.getreply()
            if code != 250:
                raise smtp_refusal(code, reply, "DATA")
        return code, reply

    def close(self) -> None:
        line = self._line
        if line is None:
            return
        try:
            if self._ready and not self._deadline.expired:
                # Say goodbye without waiting for the 221: nothing depends on it.
                line.read_cap = _CLOSE_WAIT
                with contextlib.suppress(Exception):
                    self._smtp.send("QUIT\r\n")
        finally:
            self._ready = False
            line.close()


def _decode_challenge(reply: bytes) -> Optional[str]:
    """A 334 challenge's base64 text decoded; None when it is not base64 (the reply
    that follows is reported like any other)."""
    data = reply.strip()
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True).decode(
            "utf-8", "replace"
        )
    except (binascii.Error, ValueError):
        return None
