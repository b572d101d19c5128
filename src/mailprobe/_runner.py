"""The runner: one probe's legs on their threads, under one deadline, events relayed.

The IMAP and SMTP legs run side by side (``sequential``: one after the other on one
thread), each a small loop over stage objects (``_stages``); the caller's thread relays
events to ``on_event`` and assembles the ``ProbeResult``. Nothing escapes but the
caller's own exceptions (from ``on_event``), after every leg has stopped.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Optional, Union

from ._deadline import Deadline
from ._models import ProbeEvent, ProbeResult
from ._settings import InboxSettings
from ._stages._context import Config, Plan, RunState
from ._stages._legs import build_legs

EventHandler = Callable[[ProbeEvent], None]


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

    def execute(self, on_event: Optional[EventHandler] = None) -> ProbeResult:
        """Run the probe; the deadline starts now."""
        started = time.monotonic()
        events: queue.SimpleQueue[Union[ProbeEvent, None]] = queue.SimpleQueue()
        deadline = Deadline(self.plan.timeout)
        with self._lock:
            self._deadline = deadline
            cancelled = self._cancelled
        if cancelled:
            deadline.expire()
        state = RunState(self.config, self.settings, self.plan, deadline, events.put)
        imap, smtp = build_legs(state)

        def both() -> None:
            imap.run()
            smtp.run()

        bodies: list[tuple[str, Callable[[], None]]] = (
            [("legs", both)] if self.config.sequential else [("imap", imap.run), ("smtp", smtp.run)]
        )

        def thread(body: Callable[[], None]) -> None:
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
                elif on_event is not None:
                    on_event(event)
        except BaseException:
            deadline.expire()  # stop the legs, then let the caller's error through
            raise
        finally:
            for leg in legs:
                if leg.ident is not None:  # started
                    leg.join()
            deadline.close()
        warnings, messages = state.warnings()
        return ProbeResult(
            stages=state.stage_results(),
            duration=time.monotonic() - started,
            warnings=warnings,
            warning_messages=messages,
            checks=state.check_results(),
        )
