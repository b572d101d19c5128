"""The one overall deadline holds against servers that stall or drip bytes."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

import mailprobe
from mailprobe import Security, Stage, StageStatus

from .conftest import scripted_settings


class StallingServer:
    """Accepts on 127.0.0.1 and then, per connection, runs ``behaviour(conn, stop)``."""

    def __init__(self, behaviour) -> None:  # type: ignore[no-untyped-def]
        self._behaviour = behaviour
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._serve, daemon=True)]
        self._threads[0].start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            self._conns.append(conn)
            t = threading.Thread(target=self._run, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _run(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            self._behaviour(conn, self._stop)

    def close(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        for c in self._conns:
            c.close()
        self._listener.close()


def silent(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait()


def drip(conn: socket.socket, stop: threading.Event) -> None:
    # A greeting that never ends, one byte every 0.2 s.
    while not stop.wait(0.2):
        conn.sendall(b"*")


@pytest.fixture(params=[silent, drip], ids=["silent", "drip"])
def stalling(request: pytest.FixtureRequest) -> Iterator[StallingServer]:
    server = StallingServer(request.param)
    yield server
    server.close()


@pytest.mark.parametrize("security", [Security.NONE, Security.TLS, Security.STARTTLS])
def test_a_stalling_server_fails_within_the_deadline(
    stalling: StallingServer, security: Security
) -> None:
    server = mailprobe.ServerSettings(host="127.0.0.1", port=stalling.port, security=security)
    settings = scripted_settings(imap=server, smtp=server)
    timeout = 1.5
    started = time.monotonic()
    result = mailprobe.probe(settings, timeout=timeout, test_recipient="bcc@app.example")
    elapsed = time.monotonic() - started

    # Both legs stalled, yet the probe took one deadline, not two: the legs ran side
    # by side and neither waited for the other's server.
    assert elapsed < timeout + 1.0
    for stage in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT):
        stage_result = result.stage(stage)
        assert stage_result.status is StageStatus.FAILED
        assert stage_result.diagnosis is not None
        assert stage_result.diagnosis.cause in ("timeout", "protocol_mismatch", "tls_mode_mismatch")
