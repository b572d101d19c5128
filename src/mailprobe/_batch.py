"""Many probes at once (``probe_many``) and probes from asyncio code (``aprobe``)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional

from ._errors import SettingsError
from ._models import ProbeEvent, ProbeResult
from ._probe import _Run
from ._providers import default_providers
from ._rules._builtin import default_registry
from ._settings import InboxSettings

if TYPE_CHECKING:
    from concurrent.futures import Future

# asyncio and concurrent.futures are imported where used: together they are most of
# the package's import time, and most apps call neither function.
ResultHandler = Callable[[int, ProbeResult], None]


def _positive(field: str, value: object) -> int:
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

    def run(self, run: _Run, sequential: bool) -> ProbeResult:
        if self._limit is None:
            return run.execute(None, sequential=sequential)
        # Sorted, so two probes never wait on each other's hosts in opposite order.
        hosts = sorted({run.settings.imap.host, run.settings.smtp.host})
        held: list[threading.Semaphore] = []
        try:
            for host in hosts:
                semaphore = self._semaphore(host)
                semaphore.acquire()
                held.append(semaphore)
            return run.execute(None, sequential=sequential)  # the deadline starts now
        finally:
            for semaphore in reversed(held):
                semaphore.release()


def probe_many(
    settings: Iterable[InboxSettings],
    /,
    *,
    max_workers: int = 8,
    per_host_limit: Optional[int] = 4,
    on_result: Optional[ResultHandler] = None,
    **options: Any,
) -> list[ProbeResult]:
    """Probe many inboxes concurrently; results come back in input order.

    ``max_workers`` probes run at once, and at most ``per_host_limit`` of them talk to
    the same server host (servers refuse too many connections from one address; None
    lifts the limit). Each probe's ``timeout`` starts when it starts, not while it
    waits for a free slot. ``on_result(index, result)`` is called in this thread as
    each probe finishes. ``settings`` is read lazily, a few ahead of the workers, so
    a long generator is fine. Other keyword arguments are ``probe()``'s (except
    ``on_event``); invalid ones raise ``SettingsError`` before anything connects.
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait  # noqa: PLC0415

    max_workers = _positive("max_workers", max_workers)
    if per_host_limit is not None:
        per_host_limit = _positive("per_host_limit", per_host_limit)
    if "on_event" in options:
        raise TypeError("probe_many() takes on_result, not on_event")
    sequential = bool(options.pop("sequential", False))
    # One registry and one provider collection serve the whole batch: both are only
    # read while probing.
    if options.get("rules") is None:
        options["rules"] = default_registry()
    if options.get("providers") is None:
        options["providers"] = default_providers()
    limits = _HostLimits(per_host_limit)
    items: Iterator[InboxSettings] = iter(settings)
    results: dict[int, ProbeResult] = {}
    pending: dict[Future[ProbeResult], int] = {}
    next_index = 0
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="mailprobe") as pool:
        while True:
            while len(pending) < max_workers * 2:
                item = next(items, None)
                if item is None:
                    break
                run = _Run.prepare(item, **options)  # misuse raises here, in this thread
                pending[pool.submit(limits.run, run, sequential)] = next_index
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


async def aprobe(settings: InboxSettings, /, **options: Any) -> ProbeResult:
    """``probe()`` for asyncio apps: runs in a worker thread, never blocking the loop.

    Takes ``probe()``'s keyword arguments; ``on_event`` is called on the event loop.
    Cancelling the task stops waiting at once; the probe itself ends by its deadline.
    """
    import asyncio  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    on_event: Optional[Callable[[ProbeEvent], None]] = options.pop("on_event", None)
    sequential = bool(options.pop("sequential", False))
    run = _Run.prepare(settings, **options)

    def relay(event: ProbeEvent) -> None:
        if on_event is not None:
            loop.call_soon_threadsafe(on_event, event)

    return await loop.run_in_executor(
        None, lambda: run.execute(relay if on_event else None, sequential=sequential)
    )
