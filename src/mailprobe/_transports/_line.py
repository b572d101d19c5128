"""What the IMAP and SMTP wrappers share: a line client on one socket.

It owns the socket and reads it itself (``imaplib`` and ``smtplib`` only parse): a
timeout re-armed before every read from the time the deadline leaves, a deadline check
on every line (a timer that closes sockets cannot stop CPU work), bounds on every loop
over server bytes (line length, literal size, lines and bytes per reply), the
transcript, round-trip counting, the TLS upgrade that forgets every byte received before
it, one exception-mapping guard around each public operation, and a close that never
raises and always releases what was opened.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterable, Iterator
from typing import Callable, Optional, TypeVar

import attrs

from .._deadline import Deadline
from .._decode import decode_reply
from .._errors import DeadlineExceeded, ProtocolError
from ._base import Transcript
from ._net import Connected, Wire, start_tls
from ._translate import translate

T = TypeVar("T")
_CHUNK = 65536


@attrs.frozen(kw_only=True)
class Limits:
    """Bounds on what one connection reads, whatever the server sends.

    ``line``: bytes in one line; ``literal``: bytes in one IMAP literal (refused before
    anything is allocated); ``reply_lines`` and ``reply_bytes``: lines and bytes read
    between two commands (one reply, or one pipelined flight of replies).
    """

    line: int
    literal: int
    reply_lines: int
    reply_bytes: int


#: IMAP: LIST of up to ``MAX_FOLDERS`` folders fits in a flight, nothing much larger.
MAX_FOLDERS = 10_000
IMAP_LIMITS = Limits(
    line=64 * 1024, literal=64 * 1024, reply_lines=MAX_FOLDERS + 100, reply_bytes=8 << 20
)
#: SMTP: RFC 5321 4.5.3.1.5 allows 512-octet reply lines; smtplib allows 8 KB. An EHLO
#: reply has a few dozen lines.
SMTP_LIMITS = Limits(line=8 * 1024, literal=0, reply_lines=200, reply_bytes=64 * 1024)


@contextlib.contextmanager
def mapped(
    deadline: Deadline, during: str, command: Optional[str] = None, *, greeted: bool = False
) -> Iterator[None]:
    """Map whatever the block raises to a ``ProbeError`` (httpx's ``map_exceptions``
    idea), and count a block that returns after the deadline as timed out (the abort
    may have cut a reply short, so what was read is not trusted)."""
    try:
        yield
    except Exception as exc:
        error = translate(
            exc, during=during, deadline=deadline, command=command, greeted=greeted
        )
        if error is None or error is exc:
            raise
        raise error from exc
    if deadline.expired:
        raise DeadlineExceeded(during, command=command)


class LineClient:
    """One connection's socket, read and written line by line within the deadline."""

    def __init__(
        self,
        connected: Connected,
        deadline: Deadline,
        *,
        protocol: str,
        limits: Limits,
        transcript: Optional[Transcript] = None,
    ) -> None:
        self.protocol = protocol
        self.deadline = deadline
        self.limits = limits
        self.transcript = transcript
        self.during = f"connecting to the {protocol.upper()} server"
        #: True once the server sent a valid greeting: protocol faults before it mean
        #: "not this protocol", after it "a broken reply".
        self.greeted = False
        self.round_trips = 1  # the TCP handshake; TLS handshakes are added
        self.read_cap: Optional[float] = None  # seconds per read, below the deadline
        self._buf = bytearray()
        self._waiting = False  # written since the last read: the next read is a turn
        self._lines = 0
        self._bytes = 0
        self._closed = False
        try:
            self._wire = Wire(connected)
        except BaseException:
            connected.sock.close()
            raise
        self.sock: socket.socket = connected.sock
        self._cancel_abort = deadline.on_expiry(self._wire.abort)

    # -- addresses -----------------------------------------------------------------
    @property
    def local_address(self) -> Optional[str]:
        return self._wire.local

    @property
    def peer_address(self) -> str:
        return self._wire.peer

    @property
    def tls(self) -> Optional[ssl.SSLSocket]:
        return self.sock if isinstance(self.sock, ssl.SSLSocket) else None

    # -- the guard -------------------------------------------------------------------
    @contextlib.contextmanager
    def guard(self, during: Optional[str] = None, command: Optional[str] = None) -> Iterator[None]:
        """``mapped()`` for one operation on this connection (``during`` names it)."""
        if during is not None:
            self.during = during
        try:
            yield
        except Exception as exc:
            error = translate(
                exc,
                during=self.during,
                deadline=self.deadline,
                command=command,
                greeted=self.greeted,
            )
            if error is None or error is exc:
                raise
            raise error from exc
        if self.deadline.expired:
            raise DeadlineExceeded(self.during, command=command)

    def call(self, fn: Callable[[], T], command: Optional[str] = None) -> T:
        with self.guard(command=command):
            return fn()

    # -- reading ---------------------------------------------------------------------
    def _arm(self) -> None:
        left = self.deadline.remaining(self.during)
        self.sock.settimeout(left if self.read_cap is None else min(left, self.read_cap))

    def _turn(self) -> None:
        if self._waiting:
            self.round_trips += 1
            self._waiting = False

    def _limit(self, what: str) -> ProtocolError:
        reason = "too_large" if self.greeted else "not_protocol"
        return ProtocolError(f"the server sent {what}", reason=reason)

    def _count(self, size: int) -> None:
        self._lines += 1
        self._bytes += size
        if self._lines > self.limits.reply_lines:
            raise self._limit(f"more than {self.limits.reply_lines} lines in one reply")
        if self._bytes > self.limits.reply_bytes:
            raise self._limit(f"more than {self.limits.reply_bytes} bytes in one reply")

    def _fill(self) -> bool:
        """Read what the socket has into the buffer; False at the end of the stream."""
        self._arm()
        chunk = self.sock.recv(_CHUNK)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def readline(self) -> bytes:
        """The next line with its line end, a partial line at the end of the stream, or
        ``b""`` when the stream ended. Raises ``ProtocolError`` past ``limits.line``."""
        if self.deadline.expired:
            raise DeadlineExceeded(self.during)
        self._turn()
        scanned = 0
        while True:
            end = self._buf.find(b"\n", scanned)
            if end >= 0:
                size = end + 1
                break
            if len(self._buf) > self.limits.line:
                raise self._limit(f"a line longer than {self.limits.line} bytes")
            scanned = len(self._buf)
            if not self._fill():
                size = len(self._buf)
                break
        if size > self.limits.line:
            raise self._limit(f"a line longer than {self.limits.line} bytes")
        line = bytes(self._buf[:size])
        del self._buf[:size]
        if line:
            self._count(len(line))
        return line

    def read(self, size: int) -> bytes:
        """Exactly ``size`` bytes (fewer only at the end of the stream), refusing a size
        over ``limits.literal`` before reading or allocating anything."""
        if size > self.limits.literal:
            raise self._limit(f"a literal of {size} bytes (the limit is {self.limits.literal})")
        self._turn()
        while len(self._buf) < size:
            if not self._fill():
                break
        data = bytes(self._buf[:size])
        del self._buf[: len(data)]
        self._count(len(data))
        if self.transcript is not None:
            self.transcript.server(f"[literal, {len(data)} bytes]")
        return data

    def show_server(self, line: bytes) -> None:
        if self.transcript is not None and line:
            self.transcript.server(decode_reply(line).rstrip("\r\n"))

    # -- writing ---------------------------------------------------------------------
    def send(self, data: bytes, shown: Iterable[str] = ()) -> None:
        """Write ``data``; ``shown`` are the (masked) lines the transcript gets for it."""
        if self.transcript is not None:
            for line in shown:
                self.transcript.client(line)
        self._arm()
        self._waiting = True
        self._lines = self._bytes = 0  # a new reply (or flight) starts
        self.sock.sendall(data)

    def hide(self, mask: Callable[[str], str]) -> None:
        """Mask every form of a secret in every later transcript line."""
        if self.transcript is not None:
            self.transcript.hide(mask)

    # -- TLS -------------------------------------------------------------------------
    def start_tls(self, context: ssl.SSLContext, host: str) -> ssl.SSLSocket:
        """Upgrade to TLS. Every byte the server sent before the handshake and the
        client has not read yet is thrown away: nothing received in plain text may be
        taken as said over TLS (RFC 3501 6.2.1, RFC 3207 4.2; CVE-2011-0411)."""
        self._buf.clear()
        self._lines = self._bytes = 0
        tls_sock = start_tls(self.sock, context, host, self.deadline, self.transcript)
        self.sock = tls_sock
        self.round_trips += 1 if tls_sock.version() == "TLSv1.3" else 2
        return tls_sock

    @property
    def buffered(self) -> int:
        """Bytes received but not read yet."""
        return len(self._buf)

    # -- closing ---------------------------------------------------------------------
    def close(self) -> None:
        """Release the socket and its duplicate; never raises, safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            with contextlib.suppress(OSError):
                self.sock.close()
        finally:
            self._cancel_abort()
            with contextlib.suppress(OSError):
                self._wire.close()
