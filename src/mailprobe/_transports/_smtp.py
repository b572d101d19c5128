"""SMTP over ``smtplib``, on a socket this package connected and bounded by the deadline."""

from __future__ import annotations

import base64
import contextlib
import re
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from typing import Any, Callable, Optional, TypeVar

from .._deadline import Deadline
from .._enums import Security
from .._errors import CapabilityError, ProbeError, ReplyError, StartTLSError
from .._tls import describe
from . import _sasl as sasl
from ._base import ConnectionInfo, Endpoint, Transcript
from ._net import Wire, connect, start_tls, tls_round_trips
from ._translate import guarded, smtp_refusal

T = TypeVar("T")
_CLOSE_WAIT = 1.0  # seconds granted to sending QUIT


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
    """``smtplib.SMTP`` on an already connected socket, re-arming the timeout per read
    and reporting each line to the transcript (masked while authenticating)."""

    def __init__(
        self, sock: Any, deadline: Deadline, local_hostname: str, transcript: Optional[Transcript]
    ) -> None:
        super().__init__(local_hostname=local_hostname)
        self.sock = sock
        self._mp_deadline = deadline
        self._mp_cap: Optional[float] = None
        self._mp_transcript = transcript
        self._mp_mode: Optional[str] = None  # "AUTH" or "DATA" while those run
        self.round_trips = 0  # times the client waited for the server after writing
        self._mp_waiting = False

    def _arm(self) -> None:
        assert self.sock is not None
        left = self._mp_deadline.remaining("waiting for the SMTP server")
        self.sock.settimeout(left if self._mp_cap is None else min(left, self._mp_cap))

    def getreply(self) -> tuple[int, bytes]:
        self._arm()
        if self._mp_waiting:
            self.round_trips += 1
            self._mp_waiting = False
        code, reply = super().getreply()
        if self._mp_transcript is not None:
            lines = reply.decode("utf-8", "replace").split("\n")
            for i, line in enumerate(lines):
                mark = "-" if i < len(lines) - 1 else " "
                self._mp_transcript.server(f"{code}{mark}{line}".rstrip())
        return code, reply

    def send(self, s: Any) -> None:
        self._arm()
        if self._mp_transcript is not None:
            text = s if isinstance(s, str) else bytes(s).decode("utf-8", "replace")
            if self._mp_mode == "DATA" and text.upper() != "DATA\r\n":
                self._mp_transcript.client(mask_smtp_line(text, "DATA"))
            else:
                for line in text.split("\r\n"):
                    if line:
                        self._mp_transcript.client(mask_smtp_line(line, self._mp_mode))
        self._mp_waiting = True
        super().send(s)


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


def _ehlo_name(local_address: str) -> str:
    # RFC 5321 4.1.3: an address literal when we have no meaningful host name.
    host = local_address.rsplit(":", 1)[0].strip("[]")
    return f"[IPv6:{host}]" if ":" in host else f"[{host}]"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class SmtpConnection:
    """The default transport's SMTP connection."""

    def __init__(self, endpoint: Endpoint, deadline: Deadline) -> None:
        self._deadline = deadline
        self._host, self._port = endpoint.host, endpoint.port
        self._during = "connecting to the SMTP server"
        self._ready = False
        sock = self._call(lambda: connect(endpoint.host, endpoint.port, deadline))
        self._setup_trips = 1  # the TCP handshake; TLS handshakes are added below
        self._wire = Wire(sock)
        self._cancel_abort = deadline.on_expiry(self._wire.abort)
        self._transcript = endpoint.transcript
        self._smtp = smtp = _SMTP(sock, deadline, _ehlo_name(self._wire.local), self._transcript)
        try:
            if endpoint.security is Security.TLS:
                assert endpoint.tls_context is not None
                ctx = endpoint.tls_context
                smtp.sock = tls_sock = self._call(
                    lambda: start_tls(sock, ctx, endpoint.host, deadline, self._transcript)
                )
                self._setup_trips += tls_round_trips(tls_sock)
            self._during = "waiting for the SMTP greeting"
            code, reply = self._call(smtp.getreply, "CONNECT")
            if code != 220:
                raise smtp_refusal(code, reply, "CONNECT")
            greeting = f"{code} {_text(reply)}"
            self._ehlo()
            if endpoint.security is Security.STARTTLS:
                assert endpoint.tls_context is not None
                self._starttls(endpoint.tls_context)
            tls = describe(smtp.sock) if isinstance(smtp.sock, ssl.SSLSocket) else None
            features = smtp.esmtp_features
            self._info = ConnectionInfo(
                greeting=greeting,
                capabilities=tuple(f"{k.upper()} {v}".strip() for k, v in features.items()),
                auth_mechanisms=tuple(features.get("auth", "").upper().split()),
                tls=tls,
                local_address=self._wire.local,
                peer_address=self._wire.peer,
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
        return self._setup_trips + self._smtp.round_trips

    def _call(self, fn: Callable[[], T], command: Optional[str] = None) -> T:
        return guarded(fn, deadline=self._deadline, during=self._during, command=command)

    def _ehlo(self) -> None:
        smtp = self._smtp
        self._during = "saying EHLO"
        code, reply = self._call(smtp.ehlo, "EHLO")
        if code != 250:
            code, reply = self._call(smtp.helo, "HELO")
            if code != 250:
                raise smtp_refusal(code, reply, "HELO")

    def _starttls(self, context: ssl.SSLContext) -> None:
        # RFC 3207: no AUTH before TLS unless the user chose no security.
        smtp = self._smtp
        self._during = "negotiating STARTTLS"
        if not smtp.has_extn("starttls"):
            raise StartTLSError("the SMTP server does not offer STARTTLS")
        code, reply = self._call(lambda: smtp.docmd("STARTTLS"), "STARTTLS")
        if code != 220:
            raise StartTLSError(
                f"the SMTP server refused STARTTLS: {code} {_text(reply)}", reason="refused"
            )
        raw = smtp.sock
        assert raw is not None
        smtp.sock = tls_sock = self._call(
            lambda: start_tls(raw, context, self._host, self._deadline, self._transcript)
        )
        self._setup_trips += tls_round_trips(tls_sock)
        # Forget everything learnt before TLS (RFC 3207 4.2), as smtplib.starttls does.
        smtp.file = None
        smtp.helo_resp = smtp.ehlo_resp = None
        smtp.esmtp_features = {}
        smtp.does_esmtp = False
        self._ehlo()

    def login(self, username: str, password: str) -> str:
        smtp = self._smtp
        self._during = "logging in"
        if not smtp.has_extn("auth"):
            raise CapabilityError(
                "the SMTP server offers no AUTH on this connection",
                missing=("AUTH",),
                command="AUTH",
            )
        mechanisms = smtp.esmtp_features.get("auth", "").upper().split()
        if "PLAIN" not in mechanisms and "LOGIN" not in mechanisms:
            raise CapabilityError(
                f"no supported AUTH mechanism (offered: {' '.join(mechanisms) or 'none'})",
                missing=("AUTH PLAIN",),
                command="AUTH",
            )
        user, secret = username.encode(), password.encode()
        # smtplib encodes credentials as ASCII; RFC 4616 PLAIN carries UTF-8.
        with _mode(smtp, "AUTH"):
            if "PLAIN" in mechanisms:
                mechanism = "PLAIN"
                token = _b64(sasl.plain(username, password))
                code, reply = self._call(lambda: smtp.docmd("AUTH", "PLAIN " + token), "AUTH")
            else:
                mechanism = "LOGIN"
                code, reply = self._call(lambda: smtp.docmd("AUTH", "LOGIN"), "AUTH")
                for step in (user, secret):
                    if code != 334:
                        break
                    code, reply = self._call(lambda s=step: smtp.docmd(_b64(s)), "AUTH")  # type: ignore[misc]
        if code != 235:
            raise smtp_refusal(code, reply, "AUTH")
        return mechanism

    def login_oauth2(self, username: str, token: str) -> str:
        smtp = self._smtp
        self._during = "logging in"
        offered = set(smtp.esmtp_features.get("auth", "").upper().split())
        mechanism = sasl.oauth_mechanism(offered)
        if mechanism is None:
            raise CapabilityError(
                "the server offers neither OAUTHBEARER nor XOAUTH2",
                missing=("AUTH OAUTHBEARER",),
                command="AUTH",
            )
        response = _b64(sasl.oauth_response(mechanism, username, token, self._host, self._port))
        challenge: Optional[str] = None
        with _mode(smtp, "AUTH"):
            code, reply = self._call(lambda: smtp.docmd("AUTH", f"{mechanism} {response}"), "AUTH")
            if code == 334:  # an error challenge (RFC 7628 3.2.2): acknowledge, get the code
                challenge = base64.b64decode(reply + b"==").decode("utf-8", "replace")
                ack = _b64(sasl.ERROR_ACK[mechanism])
                code, reply = self._call(lambda: smtp.docmd(ack), "AUTH")
        if code != 235:
            error = smtp_refusal(code, reply, "AUTH")
            if isinstance(error, ReplyError):
                error.challenge = challenge
            raise error
        return mechanism

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> str:
        smtp = self._smtp
        self._during = "sending the test email"
        options: list[str] = []
        if not all(a.isascii() for a in (sender, *recipients)):
            if not smtp.has_extn("smtputf8"):
                raise CapabilityError(
                    "a non-ASCII address needs SMTPUTF8, not offered",
                    missing=("SMTPUTF8",),
                    command="MAIL",
                )
            smtp.command_encoding = "utf-8"
            options.append("SMTPUTF8")
        if smtp.has_extn("pipelining"):
            code, reply = self._send_pipelined(sender, recipients, message, options)
        else:
            code, reply = self._send_stepwise(sender, recipients, message, options)
        return f"{code} {_text(reply)}"

    def _send_stepwise(
        self, sender: str, recipients: Sequence[str], message: bytes, options: list[str]
    ) -> tuple[int, bytes]:
        smtp = self._smtp
        code, reply = self._call(lambda: smtp.mail(sender, options), "MAIL")
        if code != 250:
            raise smtp_refusal(code, reply, "MAIL")
        for recipient in recipients:
            code, reply = self._call(lambda r=recipient: smtp.rcpt(r), "RCPT")  # type: ignore[misc]
            if code not in (250, 251):
                raise smtp_refusal(code, reply, "RCPT")
        with _mode(smtp, "DATA"):
            code, reply = self._call(lambda: smtp.data(message), "DATA")
        if code != 250:
            raise smtp_refusal(code, reply, "DATA")
        return code, reply

    def _send_pipelined(
        self, sender: str, recipients: Sequence[str], message: bytes, options: list[str]
    ) -> tuple[int, bytes]:
        """MAIL, RCPT and DATA in one flight (RFC 2920), then the message: two round trips
        instead of three plus one per recipient. Replies come back in order; the first
        refusal is the one reported."""
        smtp = self._smtp
        opts = "".join(f" {o}" for o in options)
        group = [f"MAIL FROM:{smtplib.quoteaddr(sender)}{opts}"]
        group += [f"RCPT TO:{smtplib.quoteaddr(r)}" for r in recipients]
        group.append("DATA")
        self._call(lambda: smtp.send("".join(f"{line}\r\n" for line in group)), "MAIL")
        failure: Optional[ProbeError] = None
        data_code, data_reply = 0, b""
        for line in group:
            command = line.split(" ", 1)[0].split(":", 1)[0]
            code, reply = self._call(smtp.getreply, command)
            wanted = {"MAIL": (250,), "RCPT": (250, 251), "DATA": (354,)}[command]
            if command == "DATA":
                data_code, data_reply = code, reply
            elif code not in wanted and failure is None:
                failure = smtp_refusal(code, reply, command)
        if data_code != 354:
            raise failure or smtp_refusal(data_code, data_reply, "DATA")
        if failure is not None:
            # The server took DATA although a command before it failed: end it empty.
            with contextlib.suppress(ProbeError):
                self._call(lambda: smtp.send(b".\r\n"), "DATA")
                self._call(smtp.getreply, "DATA")
            raise failure
        with _mode(smtp, "DATA"):
            self._call(lambda: smtp.send(_dot_stuffed(message)), "DATA")
            code, reply = self._call(smtp.getreply, "DATA")
        if code != 250:
            raise smtp_refusal(code, reply, "DATA")
        return code, reply

    def close(self) -> None:
        smtp = self._smtp
        try:
            if self._ready and smtp.sock is not None and not self._deadline.expired:
                # Say goodbye without waiting for the 221: nothing depends on it.
                smtp._mp_cap = _CLOSE_WAIT
                with contextlib.suppress(Exception):
                    smtp.send("QUIT\r\n")
            with contextlib.suppress(Exception):
                smtp.close()
        finally:
            self._cancel_abort()
            self._wire.close()
