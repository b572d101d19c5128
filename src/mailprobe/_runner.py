"""The runner: one probe's legs, under one deadline, events relayed.

The IMAP and SMTP legs run side by side (``sequential``: one after the other), each a
small loop over stage objects (``_stages``). Threads are spent only where they buy
time: without ``on_event`` the caller's thread runs the SMTP leg itself while one
other thread runs the IMAP leg (``sequential``: no other thread at all); with
``on_event`` both legs run on threads and the caller's thread relays their events. A
batch (``launch``) hands the legs to its pool's workers and gets the result from the
leg that ends last. Nothing escapes but the caller's own exceptions (from
``on_event``), after every leg has stopped.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional, Union

from ._deadline import Deadline
from ._models import ProbeEvent, ProbeResult
from ._settings import InboxSettings
from ._stages._context import Config, Plan, RunState
from ._stages._legs import build_legs

EventHandler = Callable[[ProbeEvent], None]
Body = Callable[[], None]


def _ignore(_event: ProbeEvent) -> None:
    pass


class Runner:
    """One probe, ready to run once. ``cancel()`` (from any thread) ends its deadline."""

    def __init__(self, config: Config, settings: InboxSettings, plan: Plan) -> None:
        self.config = config
        self.settings = settings
        self.plan = plan
        self._lock = threading.Lock()
        self._deadline: Optional[Deadline] = None
        self._cancelled = False

    def cancel(self) -> None:
        """Stop the probe: its deadline expires now, every blocked read returns."""
        with self._lock:
            self._cancelled = True
            deadline = self._deadline
        if deadline is not None:
            deadline.expire()

    def _begin(self, emit: EventHandler) -> tuple[RunState, list[tuple[str, Body]]]:
        """The deadline (it starts now), the probe's state and its legs' bodies."""
        deadline = Deadline(self.plan.timeout)
        with self._lock:
            self._deadline = deadline
            cancelled = self._cancelled
        if cancelled:
            deadline.expire()
        state = RunState(self.config, self.settings, self.plan, deadline, emit)
        imap, smtp = build_legs(state)

        def both() -> None:
            imap.run()
            smtp.run()

        if self.config.sequential:
            return state, [("legs", both)]
        return state, [("imap", imap.run), ("smtp", smtp.run)]

    @staticmethod
    def _result(state: RunState, started: float) -> ProbeResult:
        warnings, messages = state.warnings()
        return ProbeResult(
            stages=state.stage_results(),
            duration=time.monotonic() - started,
            warnings=warnings,
            warning_messages=messages,
            checks=state.check_results(),
        )

    def execute(self, on_event: Optional[EventHandler] = None) -> ProbeResult:
        """Run the probe; the deadline starts now."""
        if on_event is not None:
            return self._relayed(on_event)
        started = time.monotonic()
        state, bodies = self._begin(_ignore)
        *others, (_name, last) = bodies
        legs = [
            threading.Thread(target=body, name=f"mailprobe-{name}", daemon=True)
            for name, body in others
        ]
        try:
            for leg in legs:
                leg.start()
            last()  # the last leg runs on the caller's thread
        except BaseException:
            state.deadline.expire()  # stop the other leg, then let the error through
            raise
        finally:
            for leg in legs:
                if leg.ident is not None:  # started
                    leg.join()
            state.deadline.close()
        return self._result(state, started)

    def _relayed(self, on_event: EventHandler) -> ProbeResult:
        """Both legs on threads; their events reach ``on_event`` in the caller's thread."""
        import queue  # noqa: PLC0415 - only probes with on_event relay events

        started = time.monotonic()
        events: queue.SimpleQueue[Union[ProbeEvent, None]] = queue.SimpleQueue()
        state, bodies = self._begin(events.put)

        def thread(body: Body) -> None:
            try:
                body()
            finally:
                events.put(None)  # tells the loop below this leg is done

        legs = [
            threading.Thread(target=thread, args=(body,), name=f"mailprobe-{name}", daemon=True)
            for name, body in bodies
        ]
        try:
            for leg in legs:
                leg.start()
            finished = 0
            while finished < len(legs):
                event = events.get()
                if event is None:
                    finished += 1
                else:
                    on_event(event)
        except BaseException:
            state.deadline.expire()  # stop the legs, then let the caller's error through
            raise
        finally:
            for leg in legs:
                if leg.ident is not None:  # started
                    leg.join()
            state.deadline.close()
        return self._result(state, started)

    def launch(self, spawn: Callable[[Body], object], done: Callable[[ProbeResult], None]) -> None:
        """Start the probe on a pool: ``spawn(body)`` runs each leg on a worker, and
        ``done(result)`` is called on the worker whose leg ends last. The deadline
        starts now."""
        started = time.monotonic()
        state, bodies = self._begin(_ignore)
        left = [len(bodies)]
        lock = threading.Lock()

        def leg(body: Body) -> None:
            try:
                body()
            finally:
                with lock:
                    left[0] -= 1
                    last = left[0] == 0
                if last:
                    state.deadline.close()
                    done(self._result(state, started))

        for _name, body in bodies:
            spawn(lambda body=body: leg(body))  # type: ignore[misc]
