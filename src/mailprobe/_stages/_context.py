"""The door every stage uses: ``StageContext``, and the probe state behind it.

A stage (a built-in one, DELIVERY, CAPACITY or an app's own check) sees only its
``StageContext``: the settings, the deadline, the results so far, connection openers
that apply the probe's trust decisions, and ``record`` / ``skip`` / ``warn``. The
``RunState`` behind it records results, turns failures into diagnoses through the
rules (from the masked view) and reports events; the runner drives it.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Optional, Union

import attrs

from .. import _log
from .._deadline import Deadline
from .._defaults import shared_providers, shared_rules
from .._details import StageDetails
from .._enums import Security, Stage, StageStatus
from .._errors import CertificateError
from .._masking import Masker, mask_text, masked_error, scrub, secret_forms
from .._models import (
    CheckResult,
    Diagnosis,
    ErrorDetail,
    Message,
    ProbeEvent,
    StageResult,
)
from .._settings import InboxSettings, ServerSettings
from .._transports._base import (
    ImapConnection,
    SmtpConnection,
    Transcript,
    Transport,
    close_quietly,
)
from ._connect import open_trusted

if TYPE_CHECKING:
    from .._providers import Providers
    from .._rules._registry import RuleRegistry
    from ._optional import Check

_ORDER = {stage: index for index, stage in enumerate(Stage)}


@attrs.frozen(kw_only=True)
class Config:
    """What the app configured once (``Prober``); shared, read-only, by every probe.

    ``rules`` and ``providers`` are None when the app gave none: the built-in ones are
    then built on first use (``registry()``, ``provider_data()``), since only a failure
    or discovery consults them.
    """

    transport: Transport
    verifying: ssl.SSLContext
    rules: Optional[RuleRegistry]
    providers: Optional[Providers]
    timeout: float
    sequential: bool
    suggest: bool
    checks: tuple[Check, ...] = ()

    def registry(self) -> RuleRegistry:
        """The app's rules, or the built-in ones."""
        return self.rules if self.rules is not None else shared_rules()

    def provider_data(self) -> Providers:
        """The app's provider data, or the shipped one."""
        return self.providers if self.providers is not None else shared_providers()


@attrs.frozen(kw_only=True)
class Plan:
    """What varies per inbox: the options of one ``Prober.probe`` call, validated."""

    test_recipient: Optional[str] = None
    required: tuple[str, ...] = ()
    transcript: bool = False
    confirm_delivery: bool = False
    capacity: Optional[int] = None
    timeout: float = 30.0


class Skipped(Exception):
    """Raised by ``StageContext.skip``: the stage records itself as skipped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Step:
    """A stage as an object: ``run(ctx)`` does the work through the context, recording
    details with ``ctx.record`` and raising to fail; ``amend`` may add to the diagnosis
    of its failure (the connect stages add a working port and mode)."""

    stage: Stage
    name: Optional[str] = None  # an app's check's name; None for the built-in stages
    details_type: type[StageDetails] = StageDetails

    def run(self, ctx: StageContext) -> None:
        raise NotImplementedError

    def amend(self, ctx: StageContext, error: BaseException, diagnosis: Diagnosis) -> Diagnosis:
        return diagnosis


class StageContext:
    """What a stage may use: the inbox ``settings``, the probe's ``deadline``, the
    results so far, connections opened with the probe's trust decisions, and ways to
    ``record`` details, ``warn`` and ``skip``.

    An app's own check (``mailprobe.Check``) receives one. Connections it opens are
    closed when the check ends, if it has not closed them itself.
    """

    def __init__(self, state: RunState, stage: Stage) -> None:
        self._state = state
        self.stage = stage
        self._values: dict[str, Any] = {}
        self._lines: list[str] = []
        self._opened: list[Any] = []
        self._transcript: Optional[Transcript] = None

    # -- what the stage may read ----------------------------------------------------
    @property
    def settings(self) -> InboxSettings:
        """The inbox being probed (credentials included: never put them in details)."""
        return self._state.settings

    @property
    def deadline(self) -> Deadline:
        """The probe's one deadline: pass it to blocking calls, ``wait()`` on it."""
        return self._state.deadline

    @property
    def test_recipient(self) -> Optional[str]:
        """Where the test email goes as a blind copy, if anywhere."""
        return self._state.plan.test_recipient

    @property
    def server(self) -> ServerSettings:
        """The server of this stage's protocol, with the security mode in use (the
        one found by the connect stage when the settings gave none)."""
        return self._state.server(self.stage.protocol)

    def result(self, stage: Stage) -> Optional[StageResult]:
        """The result of ``stage`` if it has been recorded."""
        return self._state.result(stage)

    def wait_for(self, stage: Stage) -> Optional[StageResult]:
        """The result of ``stage`` (of the other leg, say), waiting for it as long as
        the deadline allows; None if it was not recorded in time."""
        return self._state.wait_for(stage)

    def finished_at(self, stage: Stage) -> Optional[float]:
        """When ``stage`` was recorded, on ``time.monotonic()``'s clock."""
        return self._state.finished_at(stage)

    # -- connections ----------------------------------------------------------------
    @property
    def transcript(self) -> Optional[Transcript]:
        """The stage's transcript (masked protocol lines), when one is kept."""
        if self._transcript is None:
            lines = self._lines
            self._transcript = self._state.transcript_into(lambda: lines, self.stage.protocol)
        return self._transcript

    def open_imap(self, *, login: bool = True) -> ImapConnection:
        """A fresh IMAP connection to the inbox's server, with the probe's trust
        decisions (an untrusted certificate only when the settings allow it), logged
        in unless ``login=False``. Raises ``ProbeError`` subclasses."""
        server = self._state.server("imap")
        conn: ImapConnection = open_trusted(
            self._state, "imap", server, self.deadline, self.transcript
        )
        self._opened.append(conn)
        if login:
            self.login(conn)
        return conn

    def open_smtp(self, *, login: bool = True) -> SmtpConnection:
        """A fresh SMTP connection, as ``open_imap`` opens IMAP ones."""
        server = self._state.server("smtp")
        conn: SmtpConnection = open_trusted(
            self._state, "smtp", server, self.deadline, self.transcript
        )
        self._opened.append(conn)
        if login:
            self.login(conn)
        return conn

    def login(self, conn: Union[ImapConnection, SmtpConnection]) -> str:
        """Log ``conn`` in with the inbox's credentials for this stage's protocol
        (password or OAuth 2.0 token); returns the method used."""
        server = self.server
        username, secret = self.settings.login_for(server)
        if self.settings.uses_oauth2(server):
            return conn.login_oauth2(username, secret)
        return conn.login(username, secret)

    def close(self, conn: object) -> None:
        """Close a connection this context opened (closing twice is harmless)."""
        for index, opened in enumerate(self._opened):
            if opened is conn:
                del self._opened[index]
                close_quietly(conn)
                return

    # -- what the stage may say -----------------------------------------------------
    def record(self, **values: object) -> None:
        """Add JSON-safe values to the stage's details (kept if the stage fails)."""
        self._values.update(values)

    def warn(self, text: str, *, message_id: str = "warning.custom", **params: str) -> None:
        """Add a warning to ``ProbeResult.warnings`` (``message_id`` and ``params`` are
        the translatable form in ``ProbeResult.warning_messages``)."""
        self._state.warn(self.stage, text, Message(id=message_id, params=params))

    def skip(self, reason: str) -> NoReturn:
        """End the stage as skipped, giving ``reason``."""
        raise Skipped(reason)

    def _close_all(self) -> None:
        opened, self._opened = self._opened, []
        for conn in opened:
            close_quietly(conn)


class RunState:
    """One probe's shared state: results, warnings, the servers as resolved, events."""

    def __init__(
        self,
        config: Config,
        settings: InboxSettings,
        plan: Plan,
        deadline: Deadline,
        emit: Callable[[ProbeEvent], None],
    ) -> None:
        self.config = config
        self.settings = settings
        self.plan = plan
        self.deadline = deadline
        self._emit = emit
        self._cond = threading.Condition()
        self._results: dict[Stage, StageResult] = {}
        self._checks: dict[str, CheckResult] = {}
        self._finished: dict[Stage, float] = {}
        self._warnings: list[tuple[int, int, str, Message]] = []
        self._resolved: dict[str, ServerSettings] = {}
        self._secrets: dict[str, Masker] = {}
        self.capabilities: dict[str, tuple[str, ...]] = {}
        self.greetings: dict[str, str] = {}  # per protocol, what the server said first
        self.untrusted_allowed: set[str] = set()  # protocols whose certificate was allowed
        self.verified: dict[str, str] = {}  # per protocol, the host whose certificate was verified
        self._debug = _log.enabled(_log.DEBUG)

    # -- servers and secrets ---------------------------------------------------------
    def given(self, protocol: str) -> ServerSettings:
        return self.settings.imap if protocol == "imap" else self.settings.smtp

    def server(self, protocol: str) -> ServerSettings:
        """The server with the security mode in use (TLS until one was found)."""
        resolved = self._resolved.get(protocol)
        if resolved is not None:
            return resolved
        given = self.given(protocol)
        if given.security is None:
            return attrs.evolve(given, security=Security.TLS)
        return given

    def resolve(self, protocol: str, server: ServerSettings) -> None:
        self._resolved[protocol] = server

    def secrets(self, protocol: str) -> Masker:
        forms = self._secrets.get(protocol)
        if forms is None:
            forms = self._secrets[protocol] = secret_forms(self.settings, self.given(protocol))
        return forms

    def transcript_into(
        self, lines: Callable[[], list[str]], protocol: str
    ) -> Optional[Transcript]:
        """A transcript appending masked lines to the list ``lines()`` gives at the time
        (a leg points it at the current stage's), and to the DEBUG log."""
        if not self.plan.transcript and not self._debug:
            return None
        secrets = self.secrets(protocol)
        keep = self.plan.transcript

        def sink(line: str) -> None:
            line = mask_text(line, secrets)  # transports mask already; this is a second net
            if keep:
                lines().append(line)
            _log.log(_log.DEBUG, "%s %s", protocol, line)

        return Transcript(sink)

    # -- results -----------------------------------------------------------------------
    def result(self, stage: Stage) -> Optional[StageResult]:
        with self._cond:
            return self._results.get(stage)

    def finished_at(self, stage: Stage) -> Optional[float]:
        with self._cond:
            return self._finished.get(stage)

    def wait_for(self, stage: Stage) -> Optional[StageResult]:
        with self._cond:
            while stage not in self._results:
                left = self.deadline.left()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self._results[stage]

    def warn(self, stage: Stage, text: str, message: Message) -> None:
        with self._cond:
            self._warnings.append((_ORDER[stage], len(self._warnings), text, message))

    def warnings(self) -> tuple[tuple[str, ...], tuple[Message, ...]]:
        with self._cond:
            ordered = sorted(self._warnings, key=lambda w: (w[0], w[1]))
        return tuple(w[2] for w in ordered), tuple(w[3] for w in ordered)

    def stage_results(self) -> list[StageResult]:
        with self._cond:
            return [self._results[s] for s in Stage if s in self._results]

    def check_results(self) -> list[CheckResult]:
        with self._cond:
            return [self._checks[c.name] for c in self.config.checks if c.name in self._checks]

    def recorded(self, step: Step) -> bool:
        with self._cond:
            if step.name is not None:
                return step.name in self._checks
            return step.stage in self._results

    def _store(self, step: Step, result: StageResult) -> None:
        if result.failed and result.diagnosis is not None:
            _log.log(
                _log.INFO,
                "%s failed in %.3fs: %s (%s)",
                step.name or result.stage.value,
                result.duration,
                result.diagnosis.category.value,
                result.diagnosis.cause,
            )
        else:
            _log.log(
                _log.INFO,
                "%s %s in %.3fs",
                step.name or result.stage.value,
                result.status.value,
                result.duration,
            )
        with self._cond:
            if isinstance(result, CheckResult):
                self._checks[result.name] = result
            else:
                self._results[result.stage] = result
                self._finished[result.stage] = time.monotonic()
            self._cond.notify_all()
        self._emit(ProbeEvent(stage=result.stage, kind="finished", result=result, check=step.name))

    def _build(self, step: Step, **fields: Any) -> StageResult:
        if step.name is not None:
            return CheckResult(stage=step.stage, name=step.name, **fields)
        return StageResult(stage=step.stage, **fields)

    def skip(self, step: Step, reason: str) -> None:
        """Record ``step`` as skipped, unless it already has a result."""
        if not self.recorded(step):
            details = step.details_type(reason=reason)
            self._store(step, self._build(step, status=StageStatus.SKIPPED, details=details))

    def skip_all(self, steps: Iterable[Step], reason: str) -> None:
        for step in steps:
            self.skip(step, reason)

    # -- running one stage --------------------------------------------------------------
    def run(self, step: Step, ctx: Optional[StageContext] = None) -> bool:
        """Run ``step`` and record its result; True when it passed."""
        ctx = ctx or StageContext(self, step.stage)
        self._emit(ProbeEvent(stage=step.stage, kind="started", check=step.name))
        started = time.monotonic()
        error: Optional[BaseException] = None
        try:
            step.run(ctx)
        except Skipped as skipped:
            ctx.record(reason=skipped.reason)
            self._finish(step, ctx, None, started, StageStatus.SKIPPED)
            return False
        except Exception as exc:
            error = exc
        finally:
            ctx._close_all()
        status = StageStatus.PASSED if error is None else StageStatus.FAILED
        self._finish(step, ctx, error, started, status)
        return error is None

    def _details(self, step: Step, ctx: StageContext, secrets: Masker) -> StageDetails:
        values = dict(ctx._values)
        if self.plan.transcript:
            values["transcript"] = list(ctx._lines)
        values = scrub(values, secrets)  # what a server echoed back, masked
        try:
            return step.details_type.from_dict(values)
        except (TypeError, ValueError):
            # A custom transport's odd values: keep them all, untyped, rather than fail.
            return step.details_type(extra=values)

    def _finish(
        self,
        step: Step,
        ctx: StageContext,
        error: Optional[BaseException],
        started: float,
        status: StageStatus,
    ) -> None:
        # Every part is masked before the result is built (the details are built from
        # masked values, so they are never rebuilt).
        secrets = self.secrets(step.stage.protocol)
        details = self._details(step, ctx, secrets)
        diagnosis = None if error is None else self._diagnose(step, ctx, error)
        result = self._build(
            step,
            status=status,
            duration=time.monotonic() - started,
            error=None if error is None else scrub(ErrorDetail.from_exception(error), secrets),
            diagnosis=None if diagnosis is None else scrub(diagnosis, secrets),
            details=details,
        )
        self._store(step, result)

    def _diagnose(self, step: Step, ctx: StageContext, error: BaseException) -> Diagnosis:
        from .._rules._registry import Failure  # noqa: PLC0415  (rules load on first failure)

        server = self.server(step.stage.protocol)
        login, secret = self.settings.login_for(server)
        if (
            isinstance(error, CertificateError)
            and step.stage is Stage.SMTP_CONNECT
            and self.server("imap").host.lower() == server.host.lower()
        ):
            # A certificate IMAP verified on the same server says where the fix lies.
            # The SMTP leg never ends after the IMAP leg for this wait; IMAP never waits.
            self.wait_for(Stage.IMAP_CONNECT)
        # Rules, an app's own included, see the failure as the result will show it:
        # whatever the server echoed of a secret is masked (issue 11).
        failure = Failure(
            stage=step.stage,
            error=masked_error(error, self.secrets(step.stage.protocol)),
            host=server.host,
            port=server.port,
            security=server.security or Security.TLS,
            login=login,
            email=self.settings.email,
            test_recipient=self.plan.test_recipient,
            capabilities=self.capabilities.get(step.stage.protocol, ()),
            provider=self.config.provider_data().match(
                email=self.settings.email, hosts=[server.host]
            ),
            password_has_spaces=" " in secret,
            oauth2=self.settings.uses_oauth2(server),
            greeting=self.greetings.get(step.stage.protocol),
            verified_hosts=[
                host for protocol, host in self.verified.items()
                if protocol != step.stage.protocol
            ],
            other_host=self.given("smtp" if step.stage.protocol == "imap" else "imap").host,
        )
        diagnosis = self.config.registry().classify(failure)
        try:
            diagnosis = step.amend(ctx, error, diagnosis)
        except Exception as exc:  # finding a suggestion must never lose the diagnosis
            _log.log(
                _log.WARNING,
                "amending the %s diagnosis raised %s", step.stage.value, type(exc).__name__
            )
        return attrs.evolve(diagnosis, stage=step.stage)
