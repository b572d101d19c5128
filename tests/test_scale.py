"""Threads and memory as batches grow: legs on one pool, one clock for every deadline,
results streamed without being kept."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import mailprobe
from mailprobe import Deadline, SettingsError
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings


def _inboxes(n: int, hosts: int = 50) -> list[mailprobe.InboxSettings]:
    return [
        scripted_settings(
            email=f"user{i}@example.com",
            imap=mailprobe.ServerSettings(host=f"imap{i % hosts}.example.com", port=993),
            smtp=mailprobe.ServerSettings(host=f"smtp{i % hosts}.example.com", port=587),
        )
        for i in range(n)
    ]


class ThreadCounting(ScriptedTransport):
    """Scripted, noting how many threads were alive whenever a connection opened."""

    def __init__(self, **script: Any) -> None:
        super().__init__(**script)
        self.seen: list[int] = []

    def connect_imap(self, endpoint, deadline):  # type: ignore[no-untyped-def]
        self.seen.append(threading.active_count())
        return super().connect_imap(endpoint, deadline)

    def connect_smtp(self, endpoint, deadline):  # type: ignore[no-untyped-def]
        self.seen.append(threading.active_count())
        return super().connect_smtp(endpoint, deadline)


def _settle() -> int:
    Deadline(0.01).close()  # the scheduler's one thread exists from the first deadline on
    time.sleep(0.05)
    return threading.active_count()


def test_a_probe_costs_one_thread_besides_the_callers_and_sequential_none() -> None:
    before = _settle()
    transport = ThreadCounting(delay=0.02)
    assert mailprobe.Prober(transport=transport).probe(scripted_settings()).ok
    assert max(transport.seen) <= before + 1
    transport.seen.clear()
    assert mailprobe.Prober(transport=transport, sequential=True).probe(scripted_settings()).ok
    assert max(transport.seen) == before


def test_deadlines_share_one_clock_and_a_closed_one_never_fires() -> None:
    before = _settle()
    fired: list[int] = []
    # The first expiry is a second away: registering 200 deadlines and closing half of
    # them must be done by then even on a busy machine.
    deadlines = [Deadline(1.0 + i / 1000) for i in range(200)]
    for i, deadline in enumerate(deadlines):
        deadline.on_expiry(lambda i=i: fired.append(i))  # type: ignore[misc]
    assert threading.active_count() == before
    for deadline in deadlines[::2]:
        deadline.close()
    time.sleep(1.6)
    assert sorted(fired) == list(range(1, 200, 2))
    for deadline in deadlines[1::2]:
        assert deadline.expired
        deadline.close()


def test_a_batch_runs_legs_on_a_bounded_pool() -> None:
    before = _settle()
    transport = ThreadCounting(delay=0.002)
    prober = mailprobe.Prober(transport=transport, timeout=30)
    results = prober.probe_many(_inboxes(1000), max_workers=16, per_host_limit=None)
    assert len(results) == 1000 and all(r.ok for r in results)
    assert [r.stage(mailprobe.Stage.IMAP_LOGIN).details.login for r in results] == [
        f"user{i}@example.com" for i in range(1000)
    ]
    assert max(transport.seen) <= before + 2 * 16  # two legs per probe, nothing else
    assert threading.active_count() == before  # the pool is gone afterwards


def test_collect_false_streams_results_through_on_result() -> None:
    seen: list[int] = []
    prober = mailprobe.Prober(transport=ScriptedTransport(), timeout=30)
    kept = prober.probe_many(
        _inboxes(300), max_workers=8, on_result=lambda i, r: seen.append(i), collect=False
    )
    assert kept == []
    assert sorted(seen) == list(range(300))


def test_probe_iter_yields_each_result_as_it_finishes() -> None:
    prober = mailprobe.Prober(transport=ScriptedTransport(delay=0.001), timeout=30)
    pairs = list(prober.probe_iter(_inboxes(100), max_workers=8, test_recipient="b@x.example"))
    assert sorted(i for i, _r in pairs) == list(range(100))
    assert all(r.ok for _i, r in pairs)


def test_probe_iter_checks_its_options_before_the_first_next() -> None:
    prober = mailprobe.Prober(transport=ScriptedTransport())
    with pytest.raises(SettingsError):
        prober.probe_iter(_inboxes(2), max_workers=0)
    with pytest.raises(SettingsError):
        prober.probe_iter(_inboxes(2), timeout=-1)
    with pytest.raises(TypeError):
        prober.probe_iter(_inboxes(2), on_event=print)  # type: ignore[call-arg]


def test_leaving_probe_iter_early_cancels_the_probes_under_way() -> None:
    before = _settle()
    prober = mailprobe.Prober(transport=ScriptedTransport(delay=0.4), timeout=60)
    started = time.monotonic()
    results = prober.probe_iter(_inboxes(40), max_workers=8)
    index, result = next(results)
    results.close()  # as a break out of a for loop does
    assert time.monotonic() - started < 5  # not 40 probes of about 2 s each
    assert threading.active_count() == before
    assert 0 <= index < 40 and result is not None
