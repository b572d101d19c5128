"""The one overall deadline: its own behaviour, and name resolution bounded by it.
(Servers that stall or drip bytes are in test_hostile.py.)"""

from __future__ import annotations

import threading
import time

import pytest

import mailprobe
from mailprobe import Deadline, DeadlineExceeded, Stage

from .conftest import scripted_settings


def test_remaining_shrinks_then_raises() -> None:
    deadline = Deadline(0.2)
    try:
        first = deadline.remaining()
        assert 0 < first <= 0.2
        assert 0 < deadline.left() <= first
        time.sleep(0.25)
        assert deadline.expired
        assert deadline.left() == 0.0
        with pytest.raises(DeadlineExceeded) as info:
            deadline.remaining("reading the greeting")
        assert info.value.during == "reading the greeting"
        assert isinstance(info.value, TimeoutError)
    finally:
        deadline.close()


def test_expiry_runs_the_registered_aborts_once_and_only_while_registered() -> None:
    deadline = Deadline(0.1)
    fired = threading.Event()
    cancelled: list[str] = []
    cancel = deadline.on_expiry(fired.set)
    deadline.on_expiry(lambda: cancelled.append("should not run"))()  # cancelled at once
    try:
        assert fired.wait(2)
        assert cancelled == []
        cancel()
        late = threading.Event()
        deadline.on_expiry(late.set)  # registered after expiry: runs immediately
        assert late.is_set()
    finally:
        deadline.close()


def test_a_slow_resolver_cannot_outlast_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # getaddrinfo takes no timeout; a resolver that hangs must not hold the probe.
    import socket as socket_module

    real = socket_module.getaddrinfo

    def slow(host: str, *args: object, **kwargs: object) -> object:
        if host.endswith(".example.com"):
            time.sleep(3)
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket_module, "getaddrinfo", slow)
    started = time.monotonic()
    result = mailprobe.probe(scripted_settings(), timeout=1.0)
    assert time.monotonic() - started < 2.0
    for stage in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT):
        stage_result = result.stage(stage)
        assert stage_result.diagnosis is not None
        assert stage_result.diagnosis.cause == "timeout"
        assert stage_result.error is not None and "resolving" in stage_result.error.message
