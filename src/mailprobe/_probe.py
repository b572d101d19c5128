"""The stage runner: ``probe()`` runs the IMAP and SMTP legs and assembles the result."""

from __future__ import annotations

import logging
import os
import queue
import ssl
import threading
import time
from collections.abc import Iterable
from typing import Any, Callable, Optional, TypeVar, Union

import attrs
from typing_extensions import Protocol

from ._deadline import Deadline
from ._enums import IMAP_STAGES, SMTP_STAGES, Security, Stage, StageStatus
from ._errors import CertificateError, SettingsError
from ._masking import mask_text, masked_error, scrub, secret_forms
from ._message import build_test_message, envelope_address
from ._models import Diagnosis, ErrorDetail, ProbeEvent, ProbeResult, StageResult
from ._optional_stages import capacity, delivery
from ._providers import Providers, default_providers
from ._rules._builtin import default_registry
from ._rules._registry import Failure, RuleRegistry
from ._settings import InboxSettings, ServerSettings, check_address, check_text, check_timeout
from ._suggest import ELIGIBLE, find_working
from ._tls import unverified_context, verifying_context
from ._transports._base import (
    ConnectionInfo,
    Endpoint,
    ImapConnection,
    SmtpConnection,
    Transcript,
    Transport,
    close_quietly,
)
from ._transports._stdlib import StdlibTransport
from ._validate import validate_imap

logger = logging.getLogger("mailprobe")
T = TypeVar("T")
EventHandler = Callable[[ProbeEvent], None]


class _Connection(Protocol):
    """What the runner needs of either kind of connection."""

    @property
    def info(self) -> ConnectionInfo: ...

    def login(self, username: str, password: str) -> str: ...

    def login_oauth2(self, username: str, token: str) -> str: ...

    def close(self) -> None: ...


C = TypeVar("C", bound=_Connection)


def probe(
    settings: InboxSettings,
    /,
    *,
    test_recipient: Optional[str] = None,
    timeout: float = 30.0,
    ca_file: Optional[str] = None,
    ssl_context: Optional[ssl.SSLContext] = None,
    rules: Optional[RuleRegistry] = None,
    transport: Optional[Transport] = None,
    on_event: Optional[EventHandler] = None,
    required_capabilities: Iterable[str] = (),
    transcript: bool = False,
    providers: Optional[Providers] = None,
    sequential: bool = False,
    suggest: bool = False,
    confirm_delivery: bool = False,
    capacity: Union[bool, int] = False,
) -> ProbeResult:
    """Check ``settings`` stage by stage and explain the first failure.

    ``test_recipient`` receives the test email as a blind copy (None skips that
    stage). ``timeout`` is one deadline for the whole probe. ``ca_file`` adds a PEM
    bundle to the trusted authorities (certifi's by default); ``ssl_context``
    replaces the verifying context altogether. ``rules`` classifies failures
    (``default_registry()`` when None); ``transport`` carries the protocol (the
    standard library's when None); ``on_event`` is called in this thread when a
    stage starts and ends; ``required_capabilities`` are IMAP capabilities the
    app needs. ``transcript=True`` stores each stage's protocol exchange, with
    credentials masked and the message body elided, under ``details["transcript"]``
    (for support tickets). Server and network problems never raise: they are in
    the result. ``providers`` is the provider knowledge used for provider-specific
    advice (``default_providers()`` when None). The IMAP and SMTP legs run side by
    side; ``sequential=True`` runs SMTP after IMAP, for servers that dislike
    simultaneous logins (the deadline still covers both). ``suggest=True`` makes a
    failed connect try the other security mode and the usual ports (greetings only,
    no credentials) and put the first that works in ``Diagnosis.suggestion``.
    ``confirm_delivery=True`` also sends the test email to the inbox's own address and
    adds a DELIVERY stage that waits for it to arrive. ``capacity=N`` (True: 5) adds a
    CAPACITY stage holding N simultaneous IMAP logins.

    Raises ``SettingsError`` (a ``ValueError``) for invalid options.
    """
    run = _Run.prepare(
        settings,
        test_recipient=test_recipient,
        timeout=timeout,
        ca_file=ca_file,
        ssl_context=ssl_context,
        rules=rules,
        transport=transport,
        required_capabilities=required_capabilities,
        transcript=transcript,
        providers=providers,
        suggest=suggest,
        confirm_delivery=confirm_delivery,
        capacity=capacity,
    )
    return run.execute(on_event, sequential=bool(sequential))


@attrs.define
class _Run:
    """One probe in progress: validated options, the deadline and the results so far."""

    settings: InboxSettings
    test_recipient: Optional[str]
    timeout: float
    verifying: ssl.SSLContext
    rules: RuleRegistry
    transport: Transport
    required: tuple[str, ...]
    transcript: bool
    providers: Providers
    suggest: bool
    confirm_delivery: bool
    capacity: Optional[int]
    deadline: Optional[Deadline] = None
    events: queue.Queue[Union[ProbeEvent, None]] = attrs.field(factory=queue.Queue)
    results: dict[Stage, StageResult] = attrs.field(factory=dict)
    capabilities: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    lines: dict[str, list[str]] = attrs.field(factory=dict)  # per leg, the current stage's
    imap_login_done: threading.Event = attrs.field(factory=threading.Event)
    sent_at: float = 0.0  # when the server accepted the test email

    @classmethod
    def prepare(
        cls,
        settings: InboxSettings,
        *,
        test_recipient: Optional[str] = None,
        timeout: float = 30.0,
        ca_file: Optional[str] = None,
        ssl_context: Optional[ssl.SSLContext] = None,
        rules: Optional[RuleRegistry] = None,
        transport: Optional[Transport] = None,
        required_capabilities: Iterable[str] = (),
        transcript: bool = False,
        providers: Optional[Providers] = None,
        suggest: bool = False,
        confirm_delivery: bool = False,
        capacity: Union[bool, int] = False,
    ) -> _Run:
        """Validate ``probe()``'s options (``SettingsError``) and set up a run."""
        if not isinstance(settings, InboxSettings):
            raise SettingsError("settings", f"must be InboxSettings, not {type(settings).__name__}")
        if test_recipient is not None:
            test_recipient = check_address("test_recipient", test_recipient)
        if ssl_context is not None and ca_file is not None:
            raise SettingsError("ca_file", "give ca_file or ssl_context, not both")
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise SettingsError("ssl_context", "must be an ssl.SSLContext")
        if ca_file is not None:
            ca_file = check_text(
                "ca_file", os.fspath(ca_file) if isinstance(ca_file, os.PathLike) else ca_file
            )
        if providers is not None and not isinstance(providers, Providers):
            raise SettingsError("providers", f"must be Providers, not {type(providers).__name__}")
        if rules is not None and not isinstance(rules, RuleRegistry):
            raise SettingsError("rules", f"must be a RuleRegistry, not {type(rules).__name__}")
        if isinstance(required_capabilities, (str, bytes)) or not isinstance(
            required_capabilities, Iterable
        ):
            raise SettingsError("required_capabilities", "must be a collection of names")
        required = tuple(
            check_text("required_capabilities", c).upper() for c in required_capabilities
        )
        return cls(
            settings=settings,
            test_recipient=test_recipient,
            timeout=check_timeout("timeout", timeout),
            verifying=ssl_context or verifying_context(ca_file),
            rules=rules if rules is not None else default_registry(),
            transport=transport if transport is not None else StdlibTransport(),
            required=required,
            transcript=bool(transcript),
            providers=providers if providers is not None else default_providers(),
            suggest=bool(suggest),
            confirm_delivery=bool(confirm_delivery),
            capacity=_capacity(capacity),
        )

    # -- orchestration -------------------------------------------------------
    def execute(self, on_event: Optional[EventHandler], *, sequential: bool = False) -> ProbeResult:
        started = time.monotonic()
        self.deadline = Deadline(self.timeout)
        bodies: list[tuple[str, Callable[[], None]]] = [
            ("imap", self._imap_leg),
            ("smtp", self._smtp_leg),
        ]
        if sequential:
            bodies = [("legs", self._both_legs)]
        legs = [
            threading.Thread(target=self._thread, args=(fn,), name=f"mailprobe-{name}", daemon=True)
            for name, fn in bodies
        ]
        try:
            for leg in legs:
                leg.start()
            finished = 0
            while finished < len(legs):
                event = self.events.get()
                if event is None:
                    finished += 1
                elif on_event is not None:
                    on_event(event)
        except BaseException:
            self.deadline.expire()  # stop the legs, then let the caller's error through
            raise
        finally:
            for leg in legs:
                leg.join()
            self.deadline.close()
        stages = [self.results[s] for s in Stage if s in self.results]
        return ProbeResult(stages=stages, duration=time.monotonic() - started)

    def _thread(self, leg: Callable[[], None]) -> None:
        try:
            leg()
        finally:
            self.events.put(None)  # tells execute() this leg is done

    def _both_legs(self) -> None:
        self._imap_leg()
        self._smtp_leg()

    def _imap_leg(self) -> None:
        imap = self.settings.imap
        after = (lambda _conn: capacity(self)) if self.capacity else None
        try:
            self._leg(imap, IMAP_STAGES, self.transport.connect_imap, self._imap_validate, after)
        finally:
            self.imap_login_done.set()
            if self.capacity:
                self._skip_rest((Stage.CAPACITY,), "IMAP validation did not pass")

    def _smtp_leg(self) -> None:
        wanted = self.test_recipient is not None or self.confirm_delivery
        send = self._send if wanted else None
        self._leg(self.settings.smtp, SMTP_STAGES, self.transport.connect_smtp, send)
        if self.confirm_delivery:
            delivery(self)
            self._skip_rest((Stage.DELIVERY,), "the test email was not sent")

    def _record(self, result: StageResult) -> None:
        self.results[result.stage] = result
        if result.stage is Stage.IMAP_LOGIN:
            self.imap_login_done.set()
        if result.status is StageStatus.FAILED and result.diagnosis is not None:
            logger.info(
                "%s failed in %.3fs: %s (%s)",
                result.stage.value,
                result.duration,
                result.diagnosis.category.value,
                result.diagnosis.cause,
            )
        else:
            logger.info("%s %s in %.3fs", result.stage.value, result.status.value, result.duration)
        self.events.put(ProbeEvent(stage=result.stage, kind="finished", result=result))

    def _skip_rest(self, stages: tuple[Stage, ...], reason: str) -> None:
        for stage in stages:
            if stage not in self.results:
                self._record(
                    StageResult(stage=stage, status=StageStatus.SKIPPED, details={"reason": reason})
                )

    def _stage(
        self, stage: Stage, server: ServerSettings, body: Callable[[dict[str, Any]], T]
    ) -> Optional[T]:
        """Run one stage; None when it failed (its result is recorded either way)."""
        self.events.put(ProbeEvent(stage=stage, kind="started"))
        details: dict[str, Any] = {}
        lines: list[str] = []
        # The legs' transcripts feed self.lines[protocol]; an optional stage runs beside
        # them on its own connections and must not take over a leg's list.
        in_leg = stage in IMAP_STAGES or stage in SMTP_STAGES
        self.lines[stage.protocol if in_leg else stage.value] = lines
        started = time.monotonic()
        try:
            value = body(details)
        except Exception as exc:
            if self.transcript:
                details["transcript"] = lines
            duration = time.monotonic() - started
            login, secret = self.settings.login_for(server)
            secrets = secret_forms(self.settings, server)
            failure = Failure(  # rules see the error with every secret masked
                stage=stage,
                error=masked_error(exc, secrets),
                host=server.host,
                port=server.port,
                security=server.security,
                login=login,
                email=self.settings.email,
                test_recipient=self.test_recipient,
                capabilities=self.capabilities.get(stage.protocol, ()),
                provider=self.providers.match(email=self.settings.email, hosts=[server.host]),
                password_has_spaces=" " in secret,
                oauth2=self.settings.uses_oauth2(server),
            )
            result = StageResult(
                stage=stage,
                status=StageStatus.FAILED,
                duration=duration,
                error=ErrorDetail.from_exception(exc),
                diagnosis=self._suggest(stage, server, self.rules.classify(failure)),
                details=details,
            )
            self._record(scrub(result, secrets))
            return None
        if self.transcript:
            details["transcript"] = lines
        result = StageResult(
            stage=stage,
            status=StageStatus.PASSED,
            duration=time.monotonic() - started,
            details=details,
        )
        self._record(scrub(result, secret_forms(self.settings, server)))
        return value

    def _suggest(self, stage: Stage, server: ServerSettings, diagnosis: Diagnosis) -> Diagnosis:
        """With ``suggest=True``, add the port and mode that work after a failed connect."""
        if not self.suggest or stage not in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT):
            return diagnosis
        if diagnosis.cause not in ELIGIBLE or self.deadline is None:
            return diagnosis
        opener = (
            self.transport.connect_imap
            if stage.protocol == "imap"
            else (self.transport.connect_smtp)
        )
        found = find_working(
            server,
            protocol=stage.protocol,
            opener=opener,
            context=self.verifying,
            deadline=self.deadline,
        )
        if found is None:
            return diagnosis
        hint = (
            f"{found.host} answers on port {found.port} with {found.security.value.upper()}:"
            " use that port and security mode."
        )
        return attrs.evolve(diagnosis, suggestion=found, hints=(hint, *diagnosis.hints))

    # -- the legs ------------------------------------------------------------
    def _leg(
        self,
        server: ServerSettings,
        stages: tuple[Stage, Stage, Stage],
        opener: Callable[[Endpoint, Deadline], C],
        finish: Optional[Callable[[C, dict[str, Any]], bool]],
        after: Optional[Callable[[C], None]] = None,
    ) -> None:
        """Connect, log in, then ``finish`` (validate or send) and ``after`` (with the
        connection still open); skip what follows a failure."""
        connect, login, last = stages
        conn: Optional[C] = None
        transcript = self._transcript(connect.protocol, server)
        try:
            conn = self._stage(
                connect, server, lambda d: self._connect(server, opener, transcript, d)
            )
            if conn is None:
                return
            self.capabilities[connect.protocol] = conn.info.capabilities
            username, secret = self.settings.login_for(server)
            c, oauth2 = conn, self.settings.uses_oauth2(server)
            log_in = _counted(c, lambda d: _login(c, username, secret, oauth2, d))
            if self._stage(login, server, log_in) is None:
                return
            if finish is None:
                self._skip_rest(stages, "no test recipient was given")
                return
            if self._stage(last, server, _counted(c, lambda d: finish(c, d))) and after:
                after(c)
        finally:
            if conn is not None:
                close_quietly(conn)
            self._skip_rest(stages, f"an earlier {connect.protocol.upper()} stage failed")

    def _transcript(self, protocol: str, server: ServerSettings) -> Optional[Transcript]:
        """A transcript feeding the current stage's lines and the DEBUG log, if wanted."""
        if not self.transcript and not logger.isEnabledFor(logging.DEBUG):
            return None
        secrets = secret_forms(self.settings, server)

        def sink(line: str) -> None:
            line = mask_text(line, secrets)  # transports mask already; this is a second net
            if self.transcript:
                self.lines[protocol].append(line)
            logger.debug("%s %s", protocol, line)

        return Transcript(sink)

    def _connect(
        self,
        server: ServerSettings,
        opener: Callable[[Endpoint, Deadline], C],
        transcript: Optional[Transcript],
        details: dict[str, Any],
    ) -> C:
        assert self.deadline is not None
        tls = server.security is not Security.NONE
        endpoint = Endpoint(
            host=server.host,
            port=server.port,
            security=server.security,
            tls_context=self.verifying if tls else None,
            transcript=transcript,
        )
        details.update(host=server.host, port=server.port, security=server.security.value)
        try:
            conn = opener(endpoint, self.deadline)
            if tls:
                details["certificate_trusted"] = True
        except CertificateError as exc:
            if not self.settings.allow_untrusted_certificate:
                raise
            # The user allowed it: go on unverified, but say what was wrong.
            details.update(
                certificate_trusted=False,
                certificate_problem=exc.reason,
                certificate_error=str(exc),
            )
            conn = opener(attrs.evolve(endpoint, tls_context=unverified_context()), self.deadline)
        details.update(_info_details(conn.info))
        certificate = details.get("certificate") or {}
        if certificate.get("expires_soon"):
            days = certificate["days_to_expiry"]
            details.setdefault("warnings", []).append(
                f"the server's certificate expires in {days} day{'s' if days != 1 else ''}"
            )
        trips = getattr(conn, "round_trips", None)
        if isinstance(trips, int):
            details["round_trips"] = trips
        return conn

    def _imap_validate(self, conn: ImapConnection, details: dict[str, Any]) -> bool:
        self.capabilities["imap"] = validate_imap(conn, self.required, details)
        return True

    def _send(self, conn: SmtpConnection, details: dict[str, Any]) -> bool:
        sender = self.settings.email
        recipients = [self.test_recipient] if self.test_recipient else []
        if self.confirm_delivery and sender not in recipients:
            recipients.append(sender)  # so that DELIVERY can look for it
        message, message_id = build_test_message(sender)
        details.update(
            message_id=message_id,
            sender=sender,
            recipient=self.test_recipient,
            recipients=recipients,
        )
        details["server_reply"] = conn.send(
            envelope_address(sender), [envelope_address(r) for r in recipients], message
        )
        self.sent_at = time.monotonic()
        return True


def _info_details(info: ConnectionInfo) -> dict[str, Any]:
    details: dict[str, Any] = {
        "greeting": info.greeting,
        "capabilities": list(info.capabilities),
        "auth_mechanisms": list(info.auth_mechanisms),
        "local_address": info.local_address,
        "peer_address": info.peer_address,
    }
    if info.tls:
        details.update(info.tls)
    return details


def _capacity(value: object) -> Optional[int]:
    if value is False or value is None:
        return None
    if value is True:
        return 5  # what a typical inbox connector keeps open
    if isinstance(value, int) and 2 <= value <= 50:
        return value
    raise SettingsError(
        "capacity", f"must be True or a number of connections from 2 to 50, not {value!r}"
    )


def _counted(conn: object, body: Callable[[dict[str, Any]], T]) -> Callable[[dict[str, Any]], T]:
    """``body`` recording in its details how many round trips it took, when the
    connection counts them (``round_trips``; the default transport does)."""

    def run(details: dict[str, Any]) -> T:
        before = getattr(conn, "round_trips", None)
        try:
            return body(details)
        finally:
            after = getattr(conn, "round_trips", None)
            if isinstance(before, int) and isinstance(after, int):
                details["round_trips"] = after - before

    return run


def _login(
    conn: _Connection, username: str, secret: str, oauth2: bool, details: dict[str, Any]
) -> bool:
    details["login"] = username
    if oauth2:
        details["method"] = conn.login_oauth2(username, secret)
    else:
        details["method"] = conn.login(username, secret)
    return True
