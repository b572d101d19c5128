"""A TCP proxy on 127.0.0.1 that delays every chunk by a fixed one-way latency.

    python benchmarks/delay_proxy.py --delay 0.025 LISTEN:TARGET [LISTEN:TARGET ...]

Prints "ready" once listening. Each chunk read from one side is written to the
other ``delay`` seconds later, in order, so a request/response exchange costs
2 x delay of wall time: a model of a distant server. Runs until killed.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import socket
import sys
import threading
import time
from typing import Optional

_EOF = b""


class _DelayedPipe:
    """Forwards src -> dst, each chunk ``delay`` seconds after it was read."""

    def __init__(self, src: socket.socket, dst: socket.socket, delay: float) -> None:
        self.src, self.dst, self.delay = src, dst, delay
        self._queue: list[tuple[float, int, bytes]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = self.src.recv(65536)
            except OSError:
                data = _EOF
            with self._cond:
                heapq.heappush(self._queue, (time.monotonic() + self.delay, next(self._seq), data))
                self._cond.notify()
            if not data:
                return

    def _write(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                due, _seq, data = self._queue[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._queue)
            try:
                if not data:
                    self.dst.shutdown(socket.SHUT_WR)
                    return
                self.dst.sendall(data)
            except OSError:
                return


def _serve(listen: int, target: int, delay: float, ready: threading.Event) -> None:
    server = socket.create_server(("127.0.0.1", listen), backlog=256)
    ready.set()
    while True:
        client, _ = server.accept()
        try:
            upstream: Optional[socket.socket] = socket.create_connection(("127.0.0.1", target))
        except OSError:
            client.close()
            continue
        for sock in (client, upstream):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _DelayedPipe(client, upstream, delay)
        _DelayedPipe(upstream, client, delay)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.025, help="one-way delay, seconds")
    parser.add_argument("routes", nargs="+", help="LISTEN_PORT:TARGET_PORT")
    args = parser.parse_args(argv)
    events = []
    for route in args.routes:
        listen, target = (int(p) for p in route.split(":"))
        ready = threading.Event()
        threading.Thread(
            target=_serve, args=(listen, target, args.delay, ready), daemon=True
        ).start()
        events.append(ready)
    for ready in events:
        ready.wait()
    print("ready", flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
