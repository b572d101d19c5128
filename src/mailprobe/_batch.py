"""Many probes at once (``probe_many``) and probes from asyncio code (``aprobe``).

Both take ready ``Runner``s from the ``Prober``: options are validated once, before
anything connects, and nothing is rebuilt per inbox. A batch's workers run legs, not
probes: a probe is two tasks on the pool (one when ``sequential``), and its result is
assembled by the leg that ends last.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Callable, Optional

from ._errors import SettingsError
from ._models import ProbeEvent, ProbeResult
from ._runner import Runner
from ._settings import InboxSettings

# asyncio and concurrent.futures are imported where used: together they are most of
# the package's import time, and most apps call neither function.
ResultHandler = Callable[[int, ProbeResult], None]
_END = object()  # the end of the input (None is an item, and refused as one)


def positive(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(field, f"must be a positive integer, not {value!r}")
    return value


class Batch:
    """Probes of many inboxes, ``max_workers`` at a time, results as they finish.

    Items are read lazily, in input order, a few ahead of the probes under way; a probe
    starts as soon as a slot is free and its server hosts are under ``per_host_limit``
    (a probe waiting for a busy host does not hold up probes to other hosts). The legs
    of the probes run on one pool of ``2 * max_workers`` threads; nothing else is a
    thread. Iterate over it in one thread; ``close()`` it when done.
    """

    def __init__(
        self,
        settings: Iterable[InboxSettings],
        make: Callable[[InboxSettings], Runner],
        *,
        max_workers: int,
        per_host_limit: Optional[int],
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        self._items: Iterator[object] = iter(settings)
        self._make = make
        self._max = max_workers
        self._limit = per_host_limit
        self._pool = ThreadPoolExecutor(max_workers=2 * max_workers, thread_name_prefix="mailprobe")
        self._done: queue.SimpleQueue[tuple[int, ProbeResult]] = queue.SimpleQueue()
        self._waiting: deque[tuple[int, Runner]] = deque()  # read, not started yet
        self._running: dict[int, Runner] = {}
        self._busy: dict[str, int] = {}  # probes under way per server host
        self._next = 0
        self._exhausted = False
        self._closed = False

    @staticmethod
    def _hosts(runner: Runner) -> set[str]:
        return {runner.settings.imap.host, runner.settings.smtp.host}

    def _fits(self, runner: Runner) -> bool:
        limit = self._limit
        return limit is None or all(self._busy.get(h, 0) < limit for h in self._hosts(runner))

    def _start(self, index: int, runner: Runner) -> None:
        for host in self._hosts(runner):
            self._busy[host] = self._busy.get(host, 0) + 1
        self._running[index] = runner
        runner.launch(self._pool.submit, lambda result: self._done.put((index, result)))

    def _read(self) -> bool:
        """Read one more item into the waiting line; False at the end of the input."""
        item = next(self._items, _END)
        if item is _END:
            self._exhausted = True
            return False
        if not isinstance(item, InboxSettings):
            raise SettingsError(
                f"settings[{self._next}]", f"must be InboxSettings, not {type(item).__name__}"
            )
        self._waiting.append((self._next, self._make(item)))
        self._next += 1
        return True

    def _fill(self) -> None:
        """Start probes, in input order, while slots are free."""
        while len(self._running) < self._max:
            for position, (index, runner) in enumerate(self._waiting):
                if self._fits(runner):
                    del self._waiting[position]
                    self._start(index, runner)
                    break
            else:  # nothing waiting may start: read on, a few ahead at most
                if self._exhausted or len(self._waiting) >= self._max or not self._read():
                    return

    def __iter__(self) -> Iterator[tuple[int, ProbeResult]]:
        return self

    def __next__(self) -> tuple[int, ProbeResult]:
        if self._closed:
            raise StopIteration
        self._fill()
        if not self._running:  # nothing under way, so every host is free: all done
            raise StopIteration
        index, result = self._done.get()
        runner = self._running.pop(index)
        for host in self._hosts(runner):
            self._busy[host] -= 1
        return index, result

    def close(self, *, cancel: bool = False) -> None:
        """Wait for the probes under way (``cancel``: end their deadlines first), then
        release the threads. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if cancel:
            for runner in self._running.values():
                runner.cancel()
        while self._running:
            index, _result = self._done.get()
            self._running.pop(index, None)
        self._pool.shutdown(wait=True)


def iterate(batch: Batch) -> Iterator[tuple[int, ProbeResult]]:
    """``batch`` as a generator: leaving the loop early cancels the probes under way."""
    finished = False
    try:
        yield from batch
        finished = True
    finally:
        batch.close(cancel=not finished)


def run_many(
    settings: Iterable[InboxSettings],
    make: Callable[[InboxSettings], Runner],
    *,
    max_workers: int,
    per_host_limit: Optional[int],
    on_result: Optional[ResultHandler],
    collect: bool = True,
) -> list[ProbeResult]:
    """Run a ``make(item)`` runner per item, ``max_workers`` at a time, reading the
    items lazily; results in input order (none kept when not ``collect``). An item that
    is not ``InboxSettings`` raises ``SettingsError`` naming its index, once the probes
    under way have ended."""
    results: dict[int, ProbeResult] = {}
    batch = Batch(settings, make, max_workers=max_workers, per_host_limit=per_host_limit)
    try:
        for index, result in batch:
            if collect:
                results[index] = result
            if on_result is not None:
                on_result(index, result)
    finally:
        batch.close()
    return [results[i] for i in range(len(results))]


async def run_async(
    runner: Runner, on_event: Optional[Callable[[ProbeEvent], None]]
) -> ProbeResult:
    """Run ``runner`` on a worker thread; ``on_event`` is called on the event loop.
    Cancelling the awaiting task ends the probe's deadline, so its legs stop at once."""
    import asyncio  # noqa: PLC0415

    loop = asyncio.get_running_loop()

    def relay(event: ProbeEvent) -> None:
        if on_event is not None:
            loop.call_soon_threadsafe(on_event, event)

    future = loop.run_in_executor(None, runner.execute, relay if on_event else None)
    try:
        return await future
    except asyncio.CancelledError:
        runner.cancel()
        raise
