"""Resolving, connecting and TLS, bounded by the probe's deadline."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
from typing import Any, Optional

from .._deadline import Deadline
from .._errors import DeadlineExceeded, HostNotFoundError, NetworkError
from ._base import Transcript


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int, deadline: Deadline) -> list[tuple[Any, ...]]:
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
    result: list[tuple[Any, ...]] = box["result"]
    if not result:
        raise HostNotFoundError("host name has no address")
    return result


class Wire:
    """A connected socket plus a duplicate descriptor used only to abort it.

    ``shutdown`` on the duplicate ends the connection for every descriptor that
    shares it, so the deadline can interrupt a blocked read even after the
    socket has been wrapped in TLS (which replaces the socket object).
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._dup = sock.dup()
        self.local = _format(sock.getsockname())
        self.peer = _format(sock.getpeername())

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._dup.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._dup.close()


def _format(address: Any) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def connect(host: str, port: int, deadline: Deadline) -> socket.socket:
    """A TCP connection to the first address of ``host`` that accepts one."""
    last: Optional[OSError] = None
    for family, kind, proto, _name, address in resolve(host, port, deadline):
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(deadline.remaining("connecting"))
            sock.connect(address)
        except OSError as exc:
            sock.close()
            if isinstance(exc, socket.timeout):
                raise DeadlineExceeded("connecting") from exc
            last = exc
            continue
        return sock
    if last is not None:
        raise last
    raise NetworkError("no address to connect to")


def start_tls(
    sock: socket.socket,
    context: ssl.SSLContext,
    host: str,
    deadline: Deadline,
    transcript: Optional[Transcript] = None,
) -> ssl.SSLSocket:
    """Run the TLS handshake on ``sock`` (which it takes over)."""
    sock.settimeout(deadline.remaining("negotiating TLS"))
    wrapped = context.wrap_socket(sock, server_hostname=host)
    if transcript is not None:
        transcript.note(f"TLS established ({wrapped.version()})")
    return wrapped


def tls_round_trips(sock: ssl.SSLSocket) -> int:
    """Round trips the finished handshake took: one for TLS 1.3, two before it."""
    return 1 if sock.version() == "TLSv1.3" else 2
