"""Byte-level scripted servers on 127.0.0.1, for behaviour no real server produces.

In the spirit of urllib3's dummyserver: each accepted connection runs a script,
a plain function of a ``Peer``, on its own thread. Everything the client sent is
kept in ``ScriptServer.received`` so tests can assert what a server was (not) told.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from typing import Callable, Optional

Script = Callable[["Peer"], None]


class Peer:
    """One accepted connection, seen from the server side."""

    def __init__(self, sock: socket.socket, server: ScriptServer) -> None:
        self.sock: socket.socket = sock
        self.server = server
        self._buffer = b""

    @property
    def stopping(self) -> bool:
        return self.server.stop_event.is_set()

    def send(self, data: bytes) -> None:
        """Send all of ``data``, waiting as long as the client takes to read it (a client
        slowed by a busy machine is not a server hanging up) unless the test ends."""
        view = memoryview(data)
        while view:
            try:
                sent = self.sock.send(view)
            except (TimeoutError, socket.timeout):
                if self.stopping:
                    return
                continue
            view = view[sent:]

    def readline(self) -> Optional[bytes]:
        """The next line from the client (without CRLF), or None when it hung up."""
        while b"\n" not in self._buffer:
            try:
                chunk = self.sock.recv(65536)
            except (TimeoutError, socket.timeout):
                if self.stopping:
                    return None
                continue
            if not chunk:
                return None
            self.server.record(chunk)
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r")

    def wait(self, seconds: Optional[float] = None) -> None:
        """Idle until the test ends (or ``seconds`` pass), reading and recording input."""
        end = None if seconds is None else time.monotonic() + seconds
        while not self.stopping and (end is None or time.monotonic() < end):
            try:
                chunk = self.sock.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            if not chunk:
                return
            self.server.record(chunk)

    def start_tls(self) -> None:
        """Run the server side of a TLS handshake with the suite's certificate."""
        assert self.server.tls_context is not None
        self.sock.settimeout(5)
        self.sock = self.server.tls_context.wrap_socket(self.sock, server_side=True)
        self.sock.settimeout(0.1)

    def reset(self) -> None:
        """Abort the connection with a TCP RST instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


class ScriptServer:
    """Listens on 127.0.0.1 and runs ``script`` for every connection.

    ``implicit_tls=True`` performs the TLS handshake before the script starts.
    """

    def __init__(
        self,
        script: Script,
        *,
        tls_context: Optional[ssl.SSLContext] = None,
        implicit_tls: bool = False,
    ) -> None:
        self.script = script
        self.tls_context = tls_context
        self.implicit_tls = implicit_tls
        self.stop_event = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._received = bytearray()
        self._socks: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.connections = 0
        accept = threading.Thread(target=self._accept, daemon=True)
        accept.start()
        self._threads.append(accept)

    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    def record(self, data: bytes) -> None:
        with self._lock:
            self._received += data

    def _accept(self) -> None:
        while not self.stop_event.is_set():
            try:
                sock, _addr = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            sock.settimeout(0.1)
            with self._lock:
                self.connections += 1
                self._socks.append(sock)
            thread = threading.Thread(target=self._run, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, sock: socket.socket) -> None:
        peer = Peer(sock, self)
        try:
            if self.implicit_tls:
                peer.start_tls()
            self.script(peer)
        except (OSError, ssl.SSLError, ValueError):
            pass  # the client went away, or the test is over
        finally:
            with contextlib.suppress(OSError):
                peer.sock.close()

    def close(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=10)
        with self._lock:
            for sock in self._socks:
                sock.close()
        self._listener.close()


def imap_session(
    peer: Peer,
    capabilities: str = "IMAP4rev1 AUTH=PLAIN",
    on: Optional[dict[str, Callable[[Peer, bytes], bool]]] = None,
    greeting: Optional[bytes] = None,
) -> None:
    """A minimal IMAP server: greets, answers CAPABILITY and LOGOUT, and hands any
    command named in ``on`` to its handler (which returns False to end the session)."""
    peer.send(greeting or f"* OK [CAPABILITY {capabilities}] dummy ready\r\n".encode())
    handlers = on or {}
    while True:
        line = peer.readline()
        if line is None:
            return
        tag, _, rest = line.partition(b" ")
        command = rest.split(b" ", 1)[0].upper().decode("ascii", "replace")
        if command in handlers:
            if not handlers[command](peer, tag):
                return
        elif command == "CAPABILITY":
            peer.send(f"* CAPABILITY {capabilities}\r\n".encode() + tag + b" OK done\r\n")
        elif command == "LOGOUT":
            peer.send(b"* BYE bye\r\n" + tag + b" OK done\r\n")
            return
        else:
            peer.send(tag + b" BAD unexpected\r\n")


def smtp_session(
    peer: Peer,
    extensions: tuple[str, ...] = ("AUTH PLAIN LOGIN",),
    on: Optional[dict[str, Callable[[Peer, bytes], bool]]] = None,
    greeting: bytes = b"220 dummy ESMTP\r\n",
) -> None:
    """A minimal SMTP server: greets, answers EHLO with ``extensions`` and QUIT, and hands
    any command named in ``on`` to its handler (which returns False to end the session)."""
    peer.send(greeting)
    handlers = on or {}
    while True:
        line = peer.readline()
        if line is None:
            return
        command = line.split(b" ", 1)[0].upper().decode("ascii", "replace")
        if command in handlers:
            if not handlers[command](peer, line):
                return
        elif command in ("EHLO", "HELO"):
            lines = ["dummy", *extensions]
            reply = "".join(f"250-{x}\r\n" for x in lines[:-1]) + f"250 {lines[-1]}\r\n"
            peer.send(reply.encode())
        elif command == "QUIT":
            peer.send(b"221 bye\r\n")
            return
        else:
            peer.send(b"502 5.5.2 unexpected\r\n")


class Blackhole:
    """A port on 127.0.0.1 that drops every SYN: a listener whose backlog is full.

    ``listen(0)`` takes one connection into the queue; nobody accepts it, so the
    kernel drops the SYNs of every later attempt, which then hang as on a dead route.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=0)
        self.port: int = self._listener.getsockname()[1]
        self._filler = socket.create_connection(("127.0.0.1", self.port), timeout=1)

    def close(self) -> None:
        self._filler.close()
        self._listener.close()


def imap_mailbox(
    peer: Peer,
    *,
    capabilities: str = "IMAP4rev1 AUTH=PLAIN",
    folders: tuple[bytes, ...] = (b'(\\HasNoChildren) "/" INBOX', b'(\\Sent) "/" Sent'),
    on: Optional[dict[str, Callable[[Peer, bytes], bool]]] = None,
    greeting: Optional[bytes] = None,
) -> None:
    """``imap_session`` that also logs in anyone and answers EXAMINE, LIST and SEARCH."""

    def login(p: Peer, tag: bytes) -> bool:
        p.send(tag + b" OK logged in\r\n")
        return True

    def examine(p: Peer, tag: bytes) -> bool:
        p.send(b"* 3 EXISTS\r\n* 0 RECENT\r\n" + tag + b" OK [READ-ONLY] done\r\n")
        return True

    def listing(p: Peer, tag: bytes) -> bool:
        p.send(b"".join(b"* LIST " + f + b"\r\n" for f in folders) + tag + b" OK done\r\n")
        return True

    def search(p: Peer, tag: bytes) -> bool:
        p.send(b"* SEARCH 1\r\n" + tag + b" OK done\r\n")
        return True

    handlers = {"LOGIN": login, "EXAMINE": examine, "LIST": listing, "SEARCH": search}
    handlers.update(on or {})
    imap_session(peer, capabilities=capabilities, on=handlers, greeting=greeting)


def smtp_mailbox(
    peer: Peer,
    *,
    extensions: tuple[str, ...] = ("PIPELINING", "AUTH PLAIN LOGIN"),
    on: Optional[dict[str, Callable[[Peer, bytes], bool]]] = None,
    greeting: bytes = b"220 dummy ESMTP\r\n",
) -> None:
    """``smtp_session`` that also takes AUTH, MAIL, RCPT and DATA (message discarded)."""

    def reply(text: bytes) -> Callable[[Peer, bytes], bool]:
        def handler(p: Peer, line: bytes) -> bool:
            p.send(text + b"\r\n")
            return True

        return handler

    def data(p: Peer, line: bytes) -> bool:
        p.send(b"354 go ahead\r\n")
        while (body := p.readline()) is not None and body != b".":
            pass
        p.send(b"250 2.0.0 queued\r\n")
        return True

    handlers = {
        "AUTH": reply(b"235 2.7.0 ok"),
        "MAIL": reply(b"250 2.1.0 ok"),
        "RCPT": reply(b"250 2.1.5 ok"),
        "DATA": data,
    }
    handlers.update(on or {})
    smtp_session(peer, extensions=extensions, on=handlers, greeting=greeting)
