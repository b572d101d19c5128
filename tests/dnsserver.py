"""A name server on 127.0.0.1 for the discovery tests, built on dnspython's message tools.

It answers over UDP and TCP on one free port from a zone the test fills in
(``add("example.test", "MX", "10 mx.example.test.")``), chases CNAMEs inside the zone
the way a recursive resolver would, truncates UDP answers that do not fit, and can
misbehave per name: stay silent, truncate every UDP answer, drip its TCP answer, or
fail. Every question is kept in ``queries`` so tests can say what was (not) asked.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Optional

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

_UDP_LIMIT = 512  # without EDNS (RFC 1035 4.2.1); dnspython asks with EDNS off by default


class DNSServer:
    """A small authoritative-style server; ``reset()`` between tests."""

    def __init__(self, address: str = "127.0.0.1") -> None:
        self.address = address
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.records: dict[tuple[str, str], list[str]] = {}
        self.behaviour: dict[str, str] = {}  # name -> silent | truncate | drip | servfail
        self.queries: list[tuple[str, str, str]] = []  # (name, type, "udp" or "tcp")
        self.udp, self.tcp = self._bind()
        self.port: int = self.udp.getsockname()[1]
        self._threads = [
            threading.Thread(target=self._serve_udp, daemon=True),
            threading.Thread(target=self._serve_tcp, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _bind(self) -> tuple[socket.socket, socket.socket]:
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((self.address, 0))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                tcp.bind((self.address, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                continue
            tcp.listen(16)
            udp.settimeout(0.1)
            tcp.settimeout(0.1)
            return udp, tcp
        raise RuntimeError("no free port for both UDP and TCP")

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        return [(self.address, self.port)]

    # -- the zone ----------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.records.clear()
            self.behaviour.clear()
            self.queries.clear()

    def add(self, name: str, rdtype: str, *rdatas: str) -> None:
        with self._lock:
            self.records.setdefault((name.lower().rstrip("."), rdtype), []).extend(rdatas)

    def host(self, name: str, *addresses: str) -> None:
        """A and AAAA records for ``name``."""
        for address in addresses:
            self.add(name, "AAAA" if ":" in address else "A", address)

    def asked(self, name: str, rdtype: Optional[str] = None) -> bool:
        name = name.lower().rstrip(".")
        with self._lock:
            return any(q[0] == name and (rdtype is None or q[1] == rdtype) for q in self.queries)

    # -- answering -------------------------------------------------------------
    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        if self.behaviour.get(name) == "servfail":
            response.set_rcode(dns.rcode.SERVFAIL)
            return response
        response.flags |= dns.flags.AA
        current = name
        with self._lock:
            for _ in range(32):  # chase CNAMEs within the zone, loops included
                cname = self.records.get((current, "CNAME"))
                if rdtype != "CNAME" and cname:
                    response.answer.append(
                        dns.rrset.from_text(current + ".", 60, "IN", "CNAME", *cname)
                    )
                    current = cname[0].lower().rstrip(".")
                    continue
                rdatas = self.records.get((current, rdtype))
                if rdatas:
                    response.answer.append(
                        dns.rrset.from_text(current + ".", 60, "IN", rdtype, *rdatas)
                    )
                elif not response.answer and not any(k[0] == current for k in self.records):
                    response.set_rcode(dns.rcode.NXDOMAIN)
                break
        return response

    def _handle(self, wire: bytes, transport: str) -> Optional[bytes]:
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        with self._lock:
            self.queries.append((name, dns.rdatatype.to_text(question.rdtype), transport))
        behaviour = self.behaviour.get(name)
        if behaviour == "silent":
            return None
        response = self._answer(query)
        data = response.to_wire(want_shuffle=False)  # answers in the zone's order
        if transport == "udp" and (behaviour in ("truncate", "drip") or len(data) > _UDP_LIMIT):
            truncated = dns.message.make_response(query)
            truncated.flags |= dns.flags.TC
            return truncated.to_wire()
        return data

    def _serve_udp(self) -> None:
        while not self.stop.is_set():
            try:
                wire, peer = self.udp.recvfrom(65535)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            reply = self._handle(wire, "udp")
            if reply is not None:
                with contextlib.suppress(OSError):
                    self.udp.sendto(reply, peer)

    def _serve_tcp(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _peer = self.tcp.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            threading.Thread(target=self._tcp_client, args=(conn,), daemon=True).start()

    def _tcp_client(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            try:
                header = _recv_exactly(conn, 2)
                wire = _recv_exactly(conn, struct.unpack("!H", header)[0])
            except OSError:
                return
            reply = self._handle(wire, "tcp")
            if reply is None:
                self.stop.wait(5)
                return
            framed = struct.pack("!H", len(reply)) + reply
            name = dns.message.from_wire(wire).question[0].name.to_text(omit_final_dot=True)
            try:
                if self.behaviour.get(name.lower()) == "drip":
                    for i in range(len(framed)):
                        if self.stop.wait(0.2):
                            return
                        conn.sendall(framed[i : i + 1])
                else:
                    conn.sendall(framed)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.udp.close()
        self.tcp.close()


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    deadline = time.monotonic() + 5
    while len(data) < size and time.monotonic() < deadline:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data
