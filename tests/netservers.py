"""Servers on a loopback address for the discovery tests: HTTPS for autoconfig files
and the ISPDB, and greeters that speak just enough IMAP or SMTP to greet.

Autoconfig is fetched from port 443 and guesses go to ports 993, 143, 465 and 587,
so these servers bind those ports on an address of their own in 127.0.0.0/8 (the
suite runs as root, like the Dovecot and Postfix fixtures). Every byte a greeter
receives (after TLS) is kept, so tests can assert that no credential ever arrived.
"""

from __future__ import annotations

import contextlib
import http.server
import random
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional


def free_loopback_address(ports: tuple[int, ...]) -> str:
    """A random 127.x.y.z on which all ``ports`` can be bound."""
    for _ in range(50):
        address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        probes = []
        try:
            for port in ports:
                sock = socket.socket()
                probes.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((address, port))
        except OSError:
            continue
        finally:
            for sock in probes:
                sock.close()
        return address
    raise RuntimeError(f"cannot bind ports {ports} on a loopback address (is the suite root?)")


@dataclass
class Page:
    """What the HTTPS server answers for one host and path."""

    body: bytes = b""
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    drip: Optional[float] = None  # seconds between body bytes, sent without end
    length: Optional[str] = None  # Content-Length to claim; "omit": none, end at close


class HTTPSServer:
    """Serves ``pages[(host, path)]`` over HTTPS (plain HTTP when ``context`` is None);
    ``requests`` lists what was asked."""

    def __init__(self, address: str, port: int, context: Optional[ssl.SSLContext]) -> None:
        self.pages: dict[tuple[str, str], Page] = {}
        self.requests: list[tuple[str, str]] = []  # (host, path with query)
        self.stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                server.requests.append((host, self.path))
                page = server.pages.get((host, self.path.split("?")[0]), Page(b"", 404))
                self.send_response(page.status)
                for name, value in page.headers:
                    self.send_header(name, value)
                if page.drip is not None:
                    self.send_header("Content-Length", page.length or "5000")
                    self.end_headers()
                    self.wfile.flush()
                    while not server.stop.wait(page.drip):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    return
                if page.length != "omit":
                    self.send_header("Content-Length", page.length or str(len(page.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(page.body)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[Any, Any]:
                sock, peer = self.socket.accept()
                sock.settimeout(10)
                if context is None:
                    return sock, peer
                # The handshake runs in the handler's thread, not the accept loop.
                tls = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                return tls, peer

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (the deadline) is part of the tests

        Server.allow_reuse_address = True
        self.httpd = Server((address, port), Handler)
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def reset(self) -> None:
        self.pages.clear()
        self.requests.clear()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


Session = Callable[["Greeter", "_Peer"], None]


class _Peer:
    def __init__(self, sock: socket.socket, greeter: Greeter) -> None:
        self.sock = sock
        self.greeter = greeter
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def line(self) -> Optional[bytes]:
        while b"\n" not in self.buffer:
            try:
                chunk = self.sock.recv(4096)
            except (TimeoutError, socket.timeout):
                if self.greeter.stop.is_set():
                    return None
                continue
            if not chunk:
                return None
            self.greeter.record(chunk)
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r")

    def start_tls(self) -> None:
        self.sock.settimeout(5)
        self.sock = self.greeter.context.wrap_socket(self.sock, server_side=True)
        self.sock.settimeout(0.2)


class Greeter:
    """A mail server that greets and answers CAPABILITY/EHLO, STARTTLS and LOGOUT/QUIT;
    anything else (a login above all) is recorded and refused."""

    def __init__(self, address: str, port: int, kind: str, context: ssl.SSLContext) -> None:
        self.kind = kind  # imap-tls, imap-starttls, smtp-tls, smtp-starttls
        self.context = context
        self.stop = threading.Event()
        self.connections = 0
        self._received = bytearray()
        self._lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((address, port))
        self.listener.listen(16)
        self.listener.settimeout(0.1)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    def record(self, data: bytes) -> None:
        with self._lock:
            self._received += data

    def reset(self) -> None:
        with self._lock:
            self._received.clear()
            self.connections = 0

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                sock, _peer = self.listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._run, args=(sock,), daemon=True).start()

    def _run(self, sock: socket.socket) -> None:
        sock.settimeout(0.2)
        peer = _Peer(sock, self)
        try:
            if self.kind.endswith("-tls"):
                peer.start_tls()
            if self.kind.startswith("imap"):
                self._imap(peer)
            else:
                self._smtp(peer)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(OSError):
                peer.sock.close()

    def _imap(self, peer: _Peer) -> None:
        tls = self.kind == "imap-tls"
        caps = "IMAP4rev1 AUTH=PLAIN" if tls else "IMAP4rev1 STARTTLS LOGINDISABLED"
        peer.send(f"* OK [CAPABILITY {caps}] greeter ready\r\n".encode())
        while (line := peer.line()) is not None:
            tag, _, rest = line.partition(b" ")
            command = rest.split(b" ", 1)[0].upper()
            if command == b"CAPABILITY":
                peer.send(f"* CAPABILITY {caps}\r\n".encode() + tag + b" OK done\r\n")
            elif command == b"STARTTLS" and not tls:
                peer.send(tag + b" OK begin TLS\r\n")
                peer.start_tls()
                tls, caps = True, "IMAP4rev1 AUTH=PLAIN"
            elif command == b"LOGOUT":
                peer.send(b"* BYE bye\r\n" + tag + b" OK done\r\n")
                return
            else:
                peer.send(tag + b" NO [AUTHENTICATIONFAILED] greeters take no logins\r\n")

    def _smtp(self, peer: _Peer) -> None:
        tls = self.kind == "smtp-tls"
        peer.send(b"220 greeter ESMTP\r\n")
        while (line := peer.line()) is not None:
            command = line.split(b" ", 1)[0].upper()
            if command in (b"EHLO", b"HELO"):
                extra = b"250 AUTH PLAIN LOGIN\r\n" if tls else b"250 STARTTLS\r\n"
                peer.send(b"250-greeter\r\n250-PIPELINING\r\n" + extra)
            elif command == b"STARTTLS" and not tls:
                peer.send(b"220 2.0.0 go ahead\r\n")
                peer.start_tls()
                tls = True
            elif command == b"QUIT":
                peer.send(b"221 bye\r\n")
                return
            else:
                peer.send(b"535 5.7.8 greeters take no logins\r\n")

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=5)
        self.listener.close()
