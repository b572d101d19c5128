"""Resolving, connecting (Happy Eyeballs) and TLS, bounded by the probe's deadline."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import selectors
import socket
import ssl
import threading
import time
from typing import Any, Optional

from .._deadline import Deadline
from .._errors import DeadlineExceeded, HostNotFoundError, NetworkError
from ._base import Transcript

#: RFC 8305 5: wait this long for one attempt before starting the next in parallel.
ATTEMPT_DELAY = 0.25
_POLL = 0.1  # longest sleep between deadline checks (a cancelled probe ends soon)
_IN_PROGRESS = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, errno.EALREADY}

AddrInfo = tuple[Any, ...]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int, deadline: Deadline) -> list[AddrInfo]:
    """``getaddrinfo`` results, waiting no longer than the deadline allows.

    ``getaddrinfo`` takes no timeout, so it runs on a daemon thread; if the
    resolver outlives the deadline the thread is left to finish on its own.
    """
    if _is_ip(host):
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except Exception as exc:  # handed to the waiting thread
            box["error"] = exc

    thread = threading.Thread(target=run, name="mailprobe-resolve", daemon=True)
    thread.start()
    thread.join(deadline.remaining("resolving the host name"))
    if thread.is_alive():
        raise DeadlineExceeded("resolving the host name")
    if "error" in box:
        raise box["error"]
    result: list[AddrInfo] = box["result"]
    if not result:
        raise HostNotFoundError("host name has no address")
    return result


def interleave(infos: list[AddrInfo]) -> list[AddrInfo]:
    """RFC 8305 4: alternate address families, starting with the resolver's first."""
    queues: dict[int, list[AddrInfo]] = {}
    for info in infos:
        queues.setdefault(info[0], []).append(info)
    out: list[AddrInfo] = []
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                out.append(queue.pop(0))
    return out


class Connected:
    """A connected socket and the address it reached."""

    def __init__(self, sock: socket.socket, address: Any) -> None:
        self.sock = sock
        self.address = address


class _Race:
    """Connection attempts in flight, on non-blocking sockets watched by a selector."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.pending: dict[socket.socket, Any] = {}
        self.errors: list[OSError] = []
        self.winner: Optional[Connected] = None

    def start(self, info: AddrInfo) -> None:
        family, kind, proto, _name, address = info
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            code = sock.connect_ex(address)
        except OSError as exc:
            sock.close()
            self.errors.append(exc)
            return
        if code == 0:
            self.winner = Connected(sock, address)
        elif code in _IN_PROGRESS:
            self.pending[sock] = address
            self.selector.register(sock, selectors.EVENT_WRITE)
        else:
            sock.close()
            self.errors.append(OSError(code, os.strerror(code)))

    def wait(self, seconds: float) -> bool:
        """Wait for attempts to finish; True when one of them failed."""
        failed = False
        for key, _events in self.selector.select(seconds):
            sock: socket.socket = key.fileobj  # type: ignore[assignment]
            address = self.pending.pop(sock)
            self.selector.unregister(sock)
            code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code == 0 and self.winner is None:
                self.winner = Connected(sock, address)
                continue
            sock.close()
            if code:
                failed = True
                self.errors.append(OSError(code, os.strerror(code)))
        return failed

    def close(self) -> None:
        for sock in self.pending:
            sock.close()
        self.selector.close()


def connect(
    host: str, port: int, deadline: Deadline, *, attempt_delay: float = ATTEMPT_DELAY
) -> Connected:
    """A TCP connection to ``host``, Happy Eyeballs style (RFC 8305).

    All resolved addresses share the deadline: the first attempt starts at once, each
    further one ``attempt_delay`` later (or as soon as the one before it failed), and
    the first to connect wins; the others are closed. So a dropped SYN on one address
    (a broken IPv6 route behind an AAAA record, say) costs a quarter second, not the
    whole deadline.
    """
    todo = interleave(resolve(host, port, deadline))
    race = _Race()
    next_start = 0.0
    try:
        while race.winner is None:
            now = time.monotonic()
            if todo and (not race.pending or now >= next_start):
                race.start(todo.pop(0))
                next_start = now + attempt_delay
                continue
            if not race.pending:
                if race.errors:
                    raise race.errors[0]
                raise NetworkError("no address to connect to")
            wait = min(deadline.remaining("connecting"), _POLL)
            if todo:
                wait = min(wait, max(next_start - now, 0.0))
            if race.wait(wait):
                next_start = 0.0  # a failure lets the next attempt start at once
    finally:
        race.close()
    race.winner.sock.setblocking(True)
    return race.winner


class Wire:
    """A connected socket plus a duplicate descriptor used only to abort it.

    ``shutdown`` on the duplicate ends the connection for every descriptor that
    shares it, so the deadline can interrupt a blocked read even after the
    socket has been wrapped in TLS (which replaces the socket object). The peer
    address is the one connected to (``getpeername`` fails with ENOTCONN once a
    server has reset the connection).
    """

    def __init__(self, connected: Connected) -> None:
        self.sock = connected.sock
        self._dup = self.sock.dup()
        try:
            self.local: Optional[str] = _format(self.sock.getsockname())
        except OSError:
            self.local = None
        self.peer = _format(connected.address)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._dup.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._dup.close()


def _format(address: Any) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def start_tls(
    sock: socket.socket,
    context: ssl.SSLContext,
    host: str,
    deadline: Deadline,
    transcript: Optional[Transcript] = None,
) -> ssl.SSLSocket:
    """Run the TLS handshake on ``sock`` (which it takes over; closed on failure)."""
    fd = sock.fileno()
    try:
        sock.settimeout(deadline.remaining("negotiating TLS"))
        # A connection the server reset is no longer "connected": ssl's wrap_socket
        # then probes it with recv(1), and when that fails (ECONNRESET) the SSLSocket
        # it made, which already owns the file descriptor, is neither closed nor
        # returned (CPython 3.9-3.12; 3.13 closes it). Asking first narrows that window
        # to microseconds; _close_abandoned() closes what slips through it.
        sock.getpeername()
        wrapped = context.wrap_socket(sock, server_hostname=host)
    except BaseException as exc:
        sock.close()
        _close_abandoned(exc, fd)
        raise
    if transcript is not None:
        transcript.note(f"TLS established ({wrapped.version()})")
    return wrapped


def _close_abandoned(exc: BaseException, fd: int) -> None:
    """Close the SSLSocket that ``ssl.SSLSocket._create`` made for ``fd`` and dropped
    when it raised (CPython 3.9-3.12): it is still the ``self`` of the frame that raised.
    Only public traceback and frame attributes are read."""
    tb = exc.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, ssl.SSLSocket) and candidate.fileno() == fd:
            with contextlib.suppress(OSError):
                candidate.close()
        tb = tb.tb_next


def tls_round_trips(sock: ssl.SSLSocket) -> int:
    """Round trips the finished handshake took: one for TLS 1.3, two before it."""
    return 1 if sock.version() == "TLSv1.3" else 2
