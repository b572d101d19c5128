"""The six built-in stages as objects, and the two legs that run them.

A leg is one protocol's stages on one connection: connect, log in, then validate (IMAP)
or send the test email (SMTP); a failure skips the rest of its leg only. Stages that
follow a leg (CAPACITY, DELIVERY, an app's checks) run after it, each when the stage it
needs passed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, Optional

from .._defaults import english_text
from .._details import ConnectDetails, LoginDetails, SendDetails, ValidateDetails
from .._enums import IMAP_STAGES, SMTP_STAGES, Security, Stage
from .._message import build_test_message, envelope_address
from .._models import Diagnosis
from .._transports._base import Transcript, close_quietly
from .._validate import validate_imap
from ._connect import amend_connect, connect
from ._context import RunState, StageContext, Step
from ._optional import After, Capacity, CheckStep, Delivery


class Leg:
    """One protocol's stages on one connection, and the stages that follow them."""

    def __init__(self, state: RunState, protocol: str) -> None:
        self.state = state
        self.protocol = protocol
        self.conn: Any = None
        self.lines: list[str] = []  # the current stage's transcript lines
        self.transcript: Optional[Transcript] = state.transcript_into(lambda: self.lines, protocol)
        self.steps: tuple[Step, ...] = ()
        self.after: tuple[After, ...] = ()

    def run(self) -> None:
        state = self.state
        reason = f"an earlier {self.protocol.upper()} stage failed"
        try:
            for step in self.steps:
                unwanted = step.unwanted() if isinstance(step, _LegStep) else None
                if unwanted is not None:
                    state.skip(step, unwanted)
                    break
                ctx = StageContext(state, step.stage)
                self.lines = ctx._lines
                if not state.run(step, ctx):
                    break
            state.skip_all(self.steps, reason)
            for after in self.after:
                if not after.hold:
                    self.close()
                needed = state.result(after.needs)
                if needed is None or not needed.passed:
                    state.skip(after, after.unmet)
                else:
                    state.run(after)
        finally:
            self.close()
            state.skip_all(self.steps, reason)
            state.skip_all(self.after, reason)

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            close_quietly(conn)


class _LegStep(Step):
    def __init__(self, leg: Leg) -> None:
        self.leg = leg

    def unwanted(self) -> Optional[str]:
        """Why this stage is not run at all (None: it is)."""
        return None


@contextlib.contextmanager
def _counted(ctx: StageContext, conn: Any) -> Iterator[None]:
    """Record the round trips the block took, when the connection counts them."""
    before = getattr(conn, "round_trips", None)
    try:
        yield
    finally:
        after = getattr(conn, "round_trips", None)
        if isinstance(before, int) and isinstance(after, int):
            ctx.record(round_trips=after - before)


class Connect(_LegStep):
    """Resolve, connect, TLS (implicit or STARTTLS), greeting, capabilities."""

    details_type = ConnectDetails

    def __init__(self, leg: Leg, stage: Stage) -> None:
        super().__init__(leg)
        self.stage = stage

    def run(self, ctx: StageContext) -> None:
        conn = self.leg.conn = connect(ctx, self.leg.transcript)
        info = conn.info
        ctx.record(
            greeting=info.greeting,
            capabilities=list(info.capabilities),
            auth_mechanisms=list(info.auth_mechanisms),
            local_address=info.local_address,
            peer_address=info.peer_address,
        )
        if info.tls:
            tls = dict(info.tls)
            given = tls.get("certificate")
            if isinstance(given, Mapping):
                certificate = dict(given)
                trusted = ctx._values.get("certificate_trusted")
                if isinstance(trusted, bool):
                    certificate["trusted"] = trusted
                _put_problem(certificate, ctx._values.get("certificate_problem"))
                tls["certificate"] = certificate
                self._certificate_warnings(ctx, certificate)
            ctx.record(**tls)
        self._warn_trust(ctx)
        trips = getattr(conn, "round_trips", None)
        if isinstance(trips, int):
            ctx.record(round_trips=trips)
        self.leg.state.capabilities[self.stage.protocol] = tuple(info.capabilities)
        self.leg.state.greetings[self.stage.protocol] = info.greeting

    def _certificate_warnings(self, ctx: StageContext, certificate: dict[str, Any]) -> None:
        days = certificate.get("days_to_expiry")
        if certificate.get("expires_soon") and isinstance(days, int):
            text = f"the server's certificate expires in {days} day{'s' if days != 1 else ''}"
            ctx.record(warnings=[text])
            message_id = "warning.certificate_expiring" + ("_one" if days == 1 else "")
            params = {"protocol": self.stage.protocol.upper(), "days": str(days)}
            ctx.warn(english_text(message_id, **params), message_id=message_id, **params)

    def _warn_trust(self, ctx: StageContext) -> None:
        protocol = self.stage.protocol.upper()
        if ctx._values.get("certificate_trusted") is False:
            problem = str(ctx._values.get("certificate_problem") or "untrusted")
            message_id = "warning.certificate_untrusted_allowed"
            params = {"protocol": protocol, "problem": problem}
            ctx.warn(english_text(message_id, **params), message_id=message_id, **params)
        if ctx.server.security is Security.NONE:
            message_id = "warning.plaintext_connection"
            ctx.warn(
                english_text(message_id, protocol=protocol),
                message_id=message_id,
                protocol=protocol,
            )

    def amend(self, ctx: StageContext, error: BaseException, diagnosis: Diagnosis) -> Diagnosis:
        return amend_connect(ctx, error, diagnosis)


def _put_problem(certificate: dict[str, Any], problem: object) -> None:
    if isinstance(problem, str):
        certificate["problem"] = problem


class Login(_LegStep):
    """``LOGIN``/``AUTHENTICATE`` or ``AUTH``, with a password or an OAuth 2.0 token."""

    details_type = LoginDetails

    def __init__(self, leg: Leg, stage: Stage) -> None:
        super().__init__(leg)
        self.stage = stage

    def run(self, ctx: StageContext) -> None:
        username, _secret = ctx.settings.login_for(ctx.server)
        ctx.record(login=username)
        with _counted(ctx, self.leg.conn):
            ctx.record(method=ctx.login(self.leg.conn))


class Validate(_LegStep):
    """IMAP4rev1/rev2 spoken, ``EXAMINE INBOX``, ``LIST``, the required capabilities."""

    stage = Stage.IMAP_VALIDATE
    details_type = ValidateDetails

    def run(self, ctx: StageContext) -> None:
        found: dict[str, Any] = {}
        try:
            with _counted(ctx, self.leg.conn):
                caps = validate_imap(self.leg.conn, self.leg.state.plan.required, found)
            self.leg.state.capabilities["imap"] = caps
        finally:
            ctx.record(**found)


class Send(_LegStep):
    """The test email: ``MAIL FROM``, ``RCPT TO``, ``DATA``."""

    stage = Stage.TEST_EMAIL
    details_type = SendDetails

    def unwanted(self) -> Optional[str]:
        plan = self.leg.state.plan
        if plan.test_recipient is None and not plan.confirm_delivery:
            return "no test recipient was given"
        return None

    def run(self, ctx: StageContext) -> None:
        sender = ctx.settings.email
        recipient = ctx.test_recipient
        recipients = [recipient] if recipient else []
        if self.leg.state.plan.confirm_delivery and sender not in recipients:
            recipients.append(sender)  # so that DELIVERY can look for it
        message, message_id = build_test_message(sender)
        ctx.record(message_id=message_id, sender=sender, recipient=recipient, recipients=recipients)
        with _counted(ctx, self.leg.conn):
            reply = self.leg.conn.send(
                envelope_address(sender), [envelope_address(r) for r in recipients], message
            )
        ctx.record(server_reply=reply)


def build_legs(state: RunState) -> tuple[Leg, Leg]:
    """The IMAP and SMTP legs of a probe, with the stages that follow each."""
    imap, smtp = Leg(state, "imap"), Leg(state, "smtp")
    connect_imap, login_imap, _ = IMAP_STAGES
    connect_smtp, login_smtp, _ = SMTP_STAGES
    imap.steps = (Connect(imap, connect_imap), Login(imap, login_imap), Validate(imap))
    smtp.steps = (Connect(smtp, connect_smtp), Login(smtp, login_smtp), Send(smtp))
    imap_after: list[After] = []
    smtp_after: list[After] = []
    if state.plan.capacity is not None:
        imap_after.append(Capacity(state.plan.capacity))
    if state.plan.confirm_delivery:
        smtp_after.append(Delivery())
    for check in state.config.checks:
        target = imap_after if check.after.protocol == "imap" else smtp_after
        if check.after is Stage.DELIVERY:
            target = smtp_after
        target.append(CheckStep(check))
    imap.after, smtp.after = tuple(imap_after), tuple(smtp_after)
    return imap, smtp
