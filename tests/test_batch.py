"""probe_many() and aprobe()."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

import mailprobe
from mailprobe import ProbeEvent, RefusedError, SettingsError, Stage
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings


def _inboxes(n: int, hosts: int = 1) -> list[mailprobe.InboxSettings]:
    return [
        scripted_settings(
            email=f"user{i}@example.com",
            imap=mailprobe.ServerSettings(host=f"imap{i % hosts}.example.com", port=993),
            smtp=mailprobe.ServerSettings(host=f"smtp{i % hosts}.example.com", port=587),
        )
        for i in range(n)
    ]


class CountingTransport(ScriptedTransport):
    """Scripted, with a record of how many connections were open at once per host."""

    def __init__(self, **script: object) -> None:
        super().__init__(delay=0.05, **script)
        self._open: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self._count_lock = threading.Lock()

    def _track(self, host: str, delta: int) -> None:
        with self._count_lock:
            self._open[host] = self._open.get(host, 0) + delta
            self.peak[host] = max(self.peak.get(host, 0), self._open[host])

    def connect_imap(self, endpoint, deadline):  # type: ignore[no-untyped-def]
        self._track(endpoint.host, 1)
        conn = super().connect_imap(endpoint, deadline)
        original = conn.close

        def close() -> None:
            original()
            self._track(endpoint.host, -1)

        conn.close = close  # type: ignore[method-assign]
        return conn


class HostScriptedTransport(ScriptedTransport):
    """Refuses SMTP for some hosts, and answers later inboxes sooner than earlier ones."""

    def __init__(self, refused: set[str], count: int) -> None:
        super().__init__()
        self._refused, self._count = refused, count

    def connect_smtp(self, endpoint, deadline):  # type: ignore[no-untyped-def]
        index = int(endpoint.host[4:].split(".")[0])
        time.sleep(0.01 * (self._count - index))  # finish in reverse order
        if endpoint.host in self._refused:
            raise RefusedError("refused")
        return super().connect_smtp(endpoint, deadline)


def test_results_come_back_in_input_order() -> None:
    failing = {3, 7}
    transport = HostScriptedTransport({f"smtp{i}.example.com" for i in failing}, 12)
    completion: list[int] = []
    results = mailprobe.probe_many(
        _inboxes(12, hosts=12),
        transport=transport,
        max_workers=12,
        on_result=lambda i, r: completion.append(i),
    )
    assert [r.ok for r in results] == [i not in failing for i in range(12)]
    assert [r.stage(Stage.SMTP_CONNECT).diagnosis is not None for r in results] == [
        i in failing for i in range(12)
    ]
    assert completion != sorted(completion)  # they finished out of order...
    # ...and still came back in input order (checked above).


def test_on_result_sees_every_index_once_in_the_callers_thread() -> None:
    seen: list[int] = []
    threads: set[int] = set()

    def on_result(index: int, result: mailprobe.ProbeResult) -> None:
        seen.append(index)
        threads.add(threading.get_ident())

    results = mailprobe.probe_many(
        _inboxes(10, hosts=10),
        transport=ScriptedTransport(delay=0.01),
        max_workers=3,
        on_result=on_result,
    )
    assert sorted(seen) == list(range(10))
    assert threads == {threading.get_ident()}
    assert all(r.ok for r in results)


def test_per_host_limit_caps_simultaneous_probes_to_one_server() -> None:
    transport = CountingTransport()
    started = time.monotonic()
    results = mailprobe.probe_many(
        _inboxes(16, hosts=2), transport=transport, max_workers=16, per_host_limit=3
    )
    elapsed = time.monotonic() - started
    assert all(r.ok for r in results)
    assert max(transport.peak.values()) <= 3
    assert set(transport.peak) == {"imap0.example.com", "imap1.example.com"}
    assert elapsed < 16 * 0.25  # still concurrent across hosts and within the limit


def test_the_input_is_read_lazily() -> None:
    produced: list[int] = []

    def generate() -> Iterator[mailprobe.InboxSettings]:
        for i, inbox in enumerate(_inboxes(40, hosts=40)):
            produced.append(i)
            yield inbox

    first_seen: list[int] = []

    def on_result(index: int, result: mailprobe.ProbeResult) -> None:
        if not first_seen:
            first_seen.append(len(produced))

    mailprobe.probe_many(
        generate(), transport=ScriptedTransport(delay=0.02), max_workers=2, on_result=on_result
    )
    assert first_seen[0] <= 2 * 2 + 1  # only a few ahead of the workers were read


@pytest.mark.parametrize(
    ("option", "value"),
    [("max_workers", 0), ("per_host_limit", 0), ("max_workers", True), ("timeout", -1)],
)
def test_bad_batch_options_raise_before_probing(option: str, value: object) -> None:
    transport = ScriptedTransport()
    with pytest.raises(SettingsError):
        mailprobe.probe_many(_inboxes(2), transport=transport, **{option: value})
    assert transport.calls == []


def test_probe_many_refuses_on_event() -> None:
    with pytest.raises(TypeError):
        mailprobe.probe_many(_inboxes(1), on_event=print)


def test_aprobe_does_not_block_the_event_loop() -> None:
    events: list[ProbeEvent] = []

    async def main() -> tuple[mailprobe.ProbeResult, int]:
        ticks = 0
        stop = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        result = await mailprobe.aprobe(
            scripted_settings(),
            transport=ScriptedTransport(delay=0.1),
            on_event=events.append,
            timeout=10,
        )
        stop.set()
        await task
        return result, ticks

    result, ticks = asyncio.run(main())
    assert result.ok
    assert ticks >= 20  # the loop kept running through ~0.4 s of probing
    assert {e.stage for e in events if e.kind == "finished"} == set(list(Stage)[:6])


def test_aprobe_raises_settings_errors_at_once() -> None:
    with pytest.raises(SettingsError):
        asyncio.run(mailprobe.aprobe(scripted_settings(), timeout=0))


@pytest.mark.parametrize("bad", [None, "alice@example.com", 42])
def test_probe_many_refuses_an_item_that_is_not_settings_naming_its_index(bad: object) -> None:
    inboxes: list[object] = [*_inboxes(2), bad, *_inboxes(2)]
    with pytest.raises(SettingsError) as info:
        mailprobe.probe_many(inboxes, transport=ScriptedTransport(), max_workers=1)  # type: ignore[arg-type]
    assert info.value.field == "settings[2]"
    assert type(bad).__name__ in str(info.value)


def test_a_prober_probes_many_with_one_plan() -> None:
    transport = ScriptedTransport()
    prober = mailprobe.Prober(transport=transport, timeout=10)
    results = prober.probe_many(_inboxes(6, hosts=3), test_recipient="bcc@app.example")
    assert all(r.ok for r in results)
    assert len(transport.called("smtp_send")) == 6
    with pytest.raises(TypeError):
        prober.probe_many(_inboxes(1), on_event=print)  # type: ignore[call-arg]


def test_prober_aprobe() -> None:
    prober = mailprobe.Prober(transport=ScriptedTransport())
    result = asyncio.run(prober.aprobe(scripted_settings(), test_recipient="bcc@app.example"))
    assert result.ok
