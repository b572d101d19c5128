"""Stages that follow a leg, only when asked for: DELIVERY, CAPACITY and an app's checks.

All of them work through the ``StageContext`` alone, the door an app's own check uses
too. DELIVERY looks for the test email in the inbox over a fresh IMAP connection and
reports how long it took to arrive. CAPACITY opens the number of simultaneous
authenticated IMAP connections an app intends to keep and reports how many the
server allowed.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

import attrs

from .._details import CapacityDetails, DeliveryDetails, SendDetails
from .._enums import Stage
from .._errors import (
    ConnectionLimitError,
    DeadlineExceeded,
    DeliveryError,
    DisconnectedError,
    ProbeError,
    ReplyError,
)
from ._context import StageContext, Step

_POLL_FIRST, _POLL_MAX = 0.2, 1.0  # seconds between searches, growing
_MARGIN = 0.5  # seconds kept back from the deadline to close connections


def _check_name(instance: Check, attribute: Any, value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise TypeError("a Check needs a non-empty name")


def _check_run(instance: Check, attribute: Any, value: Callable[[StageContext], None]) -> None:
    if not callable(value):
        raise TypeError(f"check {instance.name!r}: run must be callable")


def _check_after(instance: Check, attribute: Any, value: Stage) -> None:
    if not isinstance(value, Stage):
        raise TypeError(f"check {instance.name!r}: after must be a Stage")


@attrs.frozen(kw_only=True)
class Check:
    """An app's own check, run after the stage ``after`` passed (and skipped when it
    did not), with the same ``StageContext`` the built-in stages use.

    ``run(ctx)`` records what it found with ``ctx.record(...)``, fails by raising a
    ``ProbeError`` (classified by the rules as a failure at ``after``, so it gets that
    stage's category unless a rule of the app's says otherwise), and may call
    ``ctx.skip(reason)``. Its result is in ``ProbeResult.checks`` under ``name``.
    """

    name: str = attrs.field(validator=_check_name)
    run: Callable[[StageContext], None] = attrs.field(validator=_check_run, eq=False)
    after: Stage = attrs.field(default=Stage.IMAP_VALIDATE, validator=_check_after)


class After(Step):
    """A stage that follows a leg: it runs when ``needs`` passed, else it is skipped
    with ``unmet``; ``hold`` keeps the leg's own connection open while it runs."""

    needs: Stage
    unmet: str
    hold: bool = False


class Capacity(After):
    """Hold N simultaneous authenticated IMAP connections, the leg's own included."""

    stage = Stage.CAPACITY
    details_type = CapacityDetails
    needs = Stage.IMAP_VALIDATE
    unmet = "IMAP validation did not pass"
    hold = True  # the leg's own connection is the first of the N

    def __init__(self, requested: int) -> None:
        self.requested = requested

    def run(self, ctx: StageContext) -> None:
        # One after another, each kept open, as a connector opens them: servers check
        # their limit at login, and logins racing each other can slip past it.
        requested, opened = self.requested, 0
        refused: Optional[ProbeError] = None
        try:
            while 1 + opened < requested:
                try:
                    conn = ctx.open_imap(login=False)
                except ReplyError as exc:  # a greeting that refuses one more connection
                    refused = exc
                    break
                try:
                    ctx.login(conn)
                except (ReplyError, DisconnectedError) as exc:
                    # Only a refusal or a hang-up at login is the server's limit; any
                    # other failure (a timeout, say) is reported as what it is.
                    ctx.close(conn)
                    refused = exc
                    break
                opened += 1
        finally:
            ctx.record(requested=requested, allowed=1 + opened)
        if refused is None:
            return
        text = refused.text if isinstance(refused, ReplyError) else str(refused)
        ctx.record(refusal=text)
        raise ConnectionLimitError(requested=requested, allowed=1 + opened, text=text)


class Delivery(After):
    """Wait for the test email in INBOX, searching over a fresh IMAP connection."""

    stage = Stage.DELIVERY
    details_type = DeliveryDetails
    needs = Stage.TEST_EMAIL
    unmet = "the test email was not sent"

    def run(self, ctx: StageContext) -> None:
        sent = ctx.result(Stage.TEST_EMAIL)
        accepted_at = ctx.finished_at(Stage.TEST_EMAIL)
        login = ctx.wait_for(Stage.IMAP_LOGIN)
        if login is None or not login.passed:
            ctx.skip("IMAP login did not succeed")
        assert sent is not None  # needs: it passed
        assert accepted_at is not None
        details = sent.details
        message_id = details.message_id if isinstance(details, SendDetails) else None
        if not message_id:
            ctx.skip("the test email has no Message-ID")
        ctx.record(message_id=message_id)
        conn = ctx.open_imap()
        polls, pause = 0, _POLL_FIRST
        while True:
            polls += 1
            if conn.find_message(message_id):
                latency = round(time.monotonic() - accepted_at, 3)
                ctx.record(delivered=True, polls=polls, latency=latency)
                return
            if ctx.deadline.left() <= pause + _MARGIN:
                waited = round(time.monotonic() - accepted_at, 3)
                ctx.record(delivered=False, polls=polls, waited=waited)
                raise DeliveryError(
                    f"the test email was accepted but had not reached the inbox after"
                    f" {waited:.1f} s",
                    waited=waited,
                )
            if ctx.deadline.wait(pause):  # the deadline ended (or the probe was cancelled)
                raise DeadlineExceeded("waiting for the test email", command="SEARCH")
            pause = min(pause * 1.5, _POLL_MAX)


class CheckStep(After):
    """An app's ``Check`` as a stage."""

    def __init__(self, check: Check) -> None:
        self.check = check
        self.stage = self.needs = check.after
        self.name = check.name
        self.unmet = f"{check.after.value} did not pass"

    def run(self, ctx: StageContext) -> None:
        self.check.run(ctx)
