"""One overall deadline per probe, enforced even against servers that drip bytes.

Every blocking call gets the time that is left as its socket timeout, but a
server sending one byte a second would still stretch a ``readline`` forever. So
the deadline also owns a timer: when it fires it runs the abort callbacks that
transports registered (shutting their sockets down), which wakes any blocked
read or write at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable

from ._errors import DeadlineExceeded


class Deadline:
    """The time left for a probe. Create one per probe; ``close()`` it when done."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._aborts: dict[int, Callable[[], None]] = {}
        self._next_id = 0
        self._expired = threading.Event()
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True
        self._timer.start()

    @property
    def expired(self) -> bool:
        """True once the time is up (or ``expire()`` was called)."""
        return self._expired.is_set() or time.monotonic() >= self._end

    def left(self) -> float:
        """Seconds left, 0.0 once the time is up (never raises)."""
        if self._expired.is_set():
            return 0.0
        return max(self._end - time.monotonic(), 0.0)

    def remaining(self, during: str = "waiting") -> float:
        """Seconds left; raises ``DeadlineExceeded`` naming ``during`` when none are."""
        left = self._end - time.monotonic()
        if left <= 0 or self._expired.is_set():
            raise DeadlineExceeded(during)
        return left

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; returns early (True) if the deadline expires."""
        return self._expired.wait(seconds)

    def on_expiry(self, abort: Callable[[], None]) -> Callable[[], None]:
        """Call ``abort`` when the deadline expires; returns a function that cancels that.

        ``abort`` runs on the timer thread and must only interrupt (for instance
        ``socket.shutdown``), never close or free anything.
        """
        with self._lock:
            key = self._next_id
            self._next_id += 1
            self._aborts[key] = abort
        if self._expired.is_set():
            abort()

        def cancel() -> None:
            with self._lock:
                self._aborts.pop(key, None)

        return cancel

    def expire(self) -> None:
        """End the time now and abort everything under way (also used to cancel)."""
        self._expired.set()
        with self._lock:
            aborts = list(self._aborts.values())
        for abort in aborts:
            with contextlib.suppress(OSError):
                abort()

    def close(self) -> None:
        """Stop the timer thread; the deadline must no longer be used."""
        self._timer.cancel()
