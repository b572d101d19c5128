"""One overall deadline per probe, enforced even against servers that drip bytes.

Every blocking call gets the time that is left as its socket timeout, but a
server sending one byte a second would still stretch a ``readline`` forever. So
when a deadline's time comes it runs the abort callbacks that transports
registered (shutting their sockets down), which wakes any blocked read or write
at once.

The time is kept by one scheduler thread for the whole process, not a timer
thread per deadline: a thousand probes in flight cost one thread and a heap
entry each, and a probe that ends early leaves nothing behind to wake.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import threading
import time
from typing import Any, Callable, Optional

from ._errors import DeadlineExceeded

# A heap entry: [end time, sequence number, the deadline or None once it was closed].
_Entry = list[Any]


class _Scheduler:
    """Calls ``Deadline.expire()`` when each deadline's time comes, on one daemon thread
    started on first use (and again in a child process after ``fork``)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._closed = 0  # entries in the heap whose deadline was closed early
        self._thread: Optional[threading.Thread] = None

    def add(self, end: float, deadline: Deadline) -> _Entry:
        entry: _Entry = [end, next(self._seq), deadline]
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._start()
            elif self._heap[0] is entry:
                self._cond.notify()  # the new deadline is the next to come
        return entry

    def remove(self, entry: _Entry) -> None:
        with self._cond:
            if entry[2] is None:
                return
            entry[2] = None
            self._closed += 1
            # Closed entries are dropped lazily; keep them from piling up in a busy
            # process (most probes end long before their deadline).
            if self._closed > 256 and self._closed * 2 > len(self._heap):
                self._heap = [e for e in self._heap if e[2] is not None]
                heapq.heapify(self._heap)
                self._closed = 0

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mailprobe.deadlines", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                heap = self._heap
                while heap and heap[0][2] is None:
                    heapq.heappop(heap)
                    self._closed -= 1
                if not heap:
                    self._cond.wait()
                    continue
                wait = heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                entry = heapq.heappop(heap)
                deadline, entry[2] = entry[2], None
            if deadline is not None:
                with contextlib.suppress(Exception):  # an abort must not stop the clock
                    deadline.expire()

    def after_fork(self) -> None:
        """In a child process: the thread did not survive ``fork`` (and the lock may
        have been held by it); start again, keeping the deadlines already set."""
        self._cond = threading.Condition(threading.Lock())
        self._thread = None
        if any(entry[2] is not None for entry in self._heap):
            self._start()


_SCHEDULER = _Scheduler()
if hasattr(os, "register_at_fork"):  # a task queue's worker may fork after import
    os.register_at_fork(after_in_child=_SCHEDULER.after_fork)


class Deadline:
    """The time left for a probe. Create one per probe; ``close()`` it when done."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._aborts: dict[int, Callable[[], None]] = {}
        self._next_id = 0
        self._expired = threading.Event()
        self._entry: Optional[_Entry] = _SCHEDULER.add(self._end, self)

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

        ``abort`` runs on the scheduler's thread and must only interrupt (for instance
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
        """Take the deadline off the scheduler; it must no longer be used."""
        entry, self._entry = self._entry, None
        if entry is not None:
            _SCHEDULER.remove(entry)
