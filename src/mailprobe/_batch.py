"""Many probes at once (``probe_many``) and probes from asyncio code (``aprobe``).

Both take ready ``Runner``s from the ``Prober``: options are validated once, before
anything connects, and nothing is rebuilt per inbox.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Callable, Optional

from ._errors import SettingsError
from ._models import ProbeEvent, ProbeResult
from ._runner import Runner
from ._settings import InboxSettings

if TYPE_CHECKING:
    from concurrent.futures import Future

# asyncio and concurrent.futures are imported where used: together they are most of
# the package's import time, and most apps call neither function.
ResultHandler = Callable[[int, ProbeResult], None]
_END = object()  # the end of the input (None is an item, and refused as one)


def positive(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(field, f"must be a positive integer, not {value!r}")
    return value


class _HostLimits:
    """At most ``limit`` probes talking to one server host at a time."""

    def __init__(self, limit: Optional[int]) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.Semaphore] = {}

    def _semaphore(self, host: str) -> threading.Semaphore:
        with self._lock:
            if host not in self._semaphores:
                assert self._limit is not None
                self._semaphores[host] = threading.Semaphore(self._limit)
            return self._semaphores[host]

    def run(self, runner: Runner) -> ProbeResult:
        if self._limit is None:
            return runner.execute()
        # Sorted, so two probes never wait on each other's hosts in opposite order.
        hosts = sorted({runner.settings.imap.host, runner.settings.smtp.host})
        held: list[threading.Semaphore] = []
        try:
            for host in hosts:
                semaphore = self._semaphore(host)
                semaphore.acquire()
                held.append(semaphore)
            return runner.execute()  # the deadline starts now
        finally:
            for semaphore in reversed(held):
                semaphore.release()


def run_many(
    settings: Iterable[InboxSettings],
    make: Callable[[InboxSettings], Runner],
    *,
    max_workers: int,
    per_host_limit: Optional[int],
    on_result: Optional[ResultHandler],
) -> list[ProbeResult]:
    """Run a ``make(item)`` runner per item, ``max_workers`` at a time, reading the
    items lazily; results in input order. An item that is not ``InboxSettings`` raises
    ``SettingsError`` naming its index."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait  # noqa: PLC0415

    limits = _HostLimits(per_host_limit)
    items: Iterator[object] = iter(settings)
    results: dict[int, ProbeResult] = {}
    pending: dict[Future[ProbeResult], int] = {}
    next_index = 0
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="mailprobe") as pool:
        while True:
            while len(pending) < max_workers * 2:
                item = next(items, _END)
                if item is _END:
                    break
                if not isinstance(item, InboxSettings):
                    raise SettingsError(
                        f"settings[{next_index}]",
                        f"must be InboxSettings, not {type(item).__name__}",
                    )
                pending[pool.submit(limits.run, make(item))] = next_index
                next_index += 1
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                results[index] = future.result()
                if on_result is not None:
                    on_result(index, results[index])
    return [results[i] for i in range(next_index)]


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
