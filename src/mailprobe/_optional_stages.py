"""The stages a probe runs only when asked: DELIVERY and CAPACITY.

DELIVERY looks for the test email in the inbox over a fresh IMAP connection and
reports how long it took to arrive. CAPACITY opens the number of simultaneous
authenticated IMAP connections an app intends to keep and reports how many the
server allowed.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Optional

from ._enums import Stage
from ._errors import ConnectionLimitError, DeliveryError, ProbeError, ReplyError
from ._transports._base import close_quietly

if TYPE_CHECKING:
    from ._probe import _Run
    from ._transports._base import ImapConnection

_POLL_FIRST, _POLL_MAX = 0.2, 1.0  # seconds between searches, growing
_MARGIN = 0.5  # seconds kept back from the deadline to close connections


def _open_imap(run: _Run) -> ImapConnection:
    """A fresh, logged-in IMAP connection (with the probe's trust decisions)."""
    server = run.settings.imap
    conn = run._connect(server, run.transport.connect_imap, None, {})
    try:
        username, secret = run.settings.login_for(server)
        if run.settings.uses_oauth2(server):
            conn.login_oauth2(username, secret)
        else:
            conn.login(username, secret)
    except BaseException:
        close_quietly(conn)
        raise
    return conn


def delivery(run: _Run) -> None:
    """Run the DELIVERY stage after a sent test email (or record why it is skipped)."""
    assert run.deadline is not None
    sent = run.results.get(Stage.TEST_EMAIL)
    if sent is None or not sent.passed:
        return  # skipped by the caller: the test email was not sent
    login_done = run.imap_login_done.wait(run.deadline.left())
    login = run.results.get(Stage.IMAP_LOGIN)
    if not login_done or login is None or not login.passed:
        run._skip_rest((Stage.DELIVERY,), "IMAP login did not succeed")
        return
    message_id = str(sent.details["message_id"])
    accepted_at = run.sent_at

    def body(details: dict[str, Any]) -> bool:
        details["message_id"] = message_id
        conn = _open_imap(run)
        try:
            polls, pause = 0, _POLL_FIRST
            while True:
                polls += 1
                if conn.find_message(message_id):
                    details.update(
                        delivered=True,
                        polls=polls,
                        latency=round(time.monotonic() - accepted_at, 3),
                    )
                    return True
                left = run.deadline.left() if run.deadline else 0.0
                if left <= pause + _MARGIN:
                    waited = round(time.monotonic() - accepted_at, 3)
                    details.update(delivered=False, polls=polls, waited=waited)
                    raise DeliveryError(
                        f"the test email was accepted but had not reached the "
                        f"inbox after {waited:.1f} s",
                        waited=waited,
                    )
                time.sleep(pause)
                pause = min(pause * 1.5, _POLL_MAX)
        finally:
            close_quietly(conn)

    run._stage(Stage.DELIVERY, run.settings.imap, body)


def capacity(run: _Run) -> None:
    """Run the CAPACITY stage while the IMAP leg's own connection is still open."""
    requested = run.capacity
    assert requested is not None

    def body(details: dict[str, Any]) -> bool:
        # One after another, each kept open, as a connector opens them: servers check
        # their limit at login, and logins racing each other can slip past it.
        opened: list[ImapConnection] = []
        refused: Optional[BaseException] = None
        try:
            while 1 + len(opened) < requested:  # the leg's own connection is the first
                try:
                    opened.append(_open_imap(run))
                except ProbeError as exc:
                    refused = exc
                    break
        finally:
            for conn in opened:
                close_quietly(conn)
        allowed = 1 + len(opened)
        details.update(requested=requested, allowed=allowed)
        if refused is None:
            return True
        text = (
            refused.text
            if isinstance(refused, ReplyError)
            else (str(refused) if isinstance(refused, ProbeError) else type(refused).__name__)
        )
        details["refusal"] = text
        raise ConnectionLimitError(requested=requested, allowed=allowed, text=text)

    run._stage(Stage.CAPACITY, run.settings.imap, body)
