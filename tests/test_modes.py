"""Finding the security mode: a silent chosen mode is checked against the other one on a
second connection (greeting only), and a mode left out on an unusual port is found."""

from __future__ import annotations

import inspect
import ssl
import time
from collections.abc import Iterator
from typing import Any, Callable, Optional

import pytest

import mailprobe
from mailprobe import (
    DeadlineExceeded,
    Diagnosis,
    ErrorCategory,
    Failure,
    ReplyError,
    Security,
    SecurityModeError,
    Stage,
    StageStatus,
    TLSError,
)
from mailprobe._deadline import Deadline
from mailprobe._stages._connect import GRACE, GraceDeadline
from mailprobe.testing import Call, ScriptedTransport

from .conftest import inbox, scripted_settings
from .dummyserver import Peer, ScriptServer, imap_session, smtp_session
from .mailservers import MailServers

TLS, STARTTLS, NONE = Security.TLS, Security.STARTTLS, Security.NONE
PASSWORD = "Mode-Probe-Secret-77"


class OneModePort(ScriptedTransport):
    """An IMAP port that speaks only ``mode``: other modes get silence until the deadline,
    or (a TLS client on a plain port) the plain-text greeting read as a bad TLS record.
    SMTP is scripted as usual (``smtp_modes`` puts it under the same rule)."""

    def __init__(
        self, mode: Security, *, silent_tls: bool = False, smtp_modes: bool = False, **script: Any
    ) -> None:
        super().__init__(**script)
        self.mode = mode
        self.silent_tls = silent_tls
        self.smtp_modes = smtp_modes

    def _answer(self, endpoint: mailprobe.Endpoint, deadline: Deadline) -> None:
        if endpoint.security is self.mode:
            return
        if endpoint.security is TLS and not self.silent_tls:
            raise TLSError("the server did not answer with TLS", reason="wrong_version")
        deadline.wait(60)  # nothing comes; the deadline (or a grace) ends the wait
        raise DeadlineExceeded("waiting for the greeting")

    def connect_imap(self, endpoint, deadline):  # type: ignore[no-untyped-def]
        self.calls.append(Call(name="imap_try", args={"security": endpoint.security}))
        self._answer(endpoint, deadline)
        return super().connect_imap(endpoint, deadline)

    def connect_smtp(self, endpoint, deadline):  # type: ignore[no-untyped-def]
        self.calls.append(Call(name="smtp_try", args={"security": endpoint.security}))
        if self.smtp_modes:
            self._answer(endpoint, deadline)
        return super().connect_smtp(endpoint, deadline)

    def tried(self, protocol: str) -> list[Security]:
        return [c.args["security"] for c in self.called(f"{protocol}_try")]


def imap_on(port: int, security: Optional[Security]) -> mailprobe.InboxSettings:
    return scripted_settings(
        imap=mailprobe.ServerSettings(host="imap.example.com", port=port, security=security)
    )


def spying_registry() -> tuple[mailprobe.RuleRegistry, list[BaseException]]:
    """The built-in rules plus one that records every IMAP connect error the rules see."""
    seen: list[BaseException] = []
    rules = mailprobe.default_registry()

    @rules.register(id="app.spy", priority=1000, stages=[Stage.IMAP_CONNECT])
    def spy(failure: Failure) -> Optional[Diagnosis]:
        seen.append(failure.error)
        return None

    return rules, seen


# -- a silent chosen mode ----------------------------------------------------------------
@pytest.mark.parametrize(("chosen", "answers"), [(STARTTLS, TLS), (NONE, TLS), (TLS, STARTTLS)])
def test_a_silent_mode_is_a_mode_mismatch_found_in_seconds(
    chosen: Security, answers: Security
) -> None:
    transport = OneModePort(answers, silent_tls=True)
    started = time.monotonic()
    result = mailprobe.probe(imap_on(2993, chosen), transport=transport, timeout=6)
    elapsed = time.monotonic() - started
    assert elapsed < GRACE + 1.5, elapsed  # not the 30 s deadline
    stage = result.stage(Stage.IMAP_CONNECT)
    assert stage.status is StageStatus.FAILED
    assert stage.error is not None and stage.error.type == "SecurityModeError"
    diagnosis = stage.diagnosis
    assert diagnosis is not None
    assert (diagnosis.cause, diagnosis.rule_id) == ("tls_mode_mismatch", "tls.mode_mismatch")
    assert diagnosis.category is ErrorCategory.IMAP_SETTINGS_INCORRECT
    assert diagnosis.stage is Stage.IMAP_CONNECT
    assert diagnosis.suggestion == mailprobe.ServerDefaults(
        host="imap.example.com", port=2993, security=answers
    )
    # The first hint says which mode to choose, once (not again as "answers on port ...").
    mode = answers.value.upper()
    assert diagnosis.hints[0] == f"Choose {mode} as the security setting and keep port 2993."
    assert not any("answers on port 2993" in hint for hint in diagnosis.hints)
    # The second connection was asked for its greeting only: nobody logged in.
    assert transport.tried("imap") == [chosen, answers]
    assert transport.called("imap_login") == []
    assert result.stage(Stage.IMAP_LOGIN).status is StageStatus.SKIPPED


def test_rules_see_the_mode_that_answered() -> None:
    rules, seen = spying_registry()
    mailprobe.probe(imap_on(2993, STARTTLS), transport=OneModePort(TLS), rules=rules, timeout=6)
    (error,) = seen
    assert isinstance(error, SecurityModeError) and isinstance(error, TLSError)
    assert (error.tried, error.other_mode_answered, error.reason) == (
        STARTTLS,
        TLS,
        "wrong_version",
    )


def test_a_slow_server_gets_the_rest_of_the_deadline_when_the_other_mode_is_silent() -> None:
    class SlowGreeting(ScriptedTransport):
        def connect_imap(self, endpoint, deadline):  # type: ignore[no-untyped-def]
            self.calls.append(Call(name="imap_try", args={}))
            deadline.wait(1.4)  # greets after 1.4 s, in any mode
            deadline.remaining("waiting for the greeting")
            if endpoint.security is TLS:
                raise DeadlineExceeded("negotiating TLS")
            return super().connect_imap(endpoint, deadline)

    transport = SlowGreeting()
    started = time.monotonic()
    result = mailprobe.probe(imap_on(2993, STARTTLS), transport=transport, timeout=4)
    assert result.stage(Stage.IMAP_CONNECT).passed, result.to_dict()
    # A grace of 1.3 s, 0.9 s of silence in the other mode, then STARTTLS again with
    # the 1.8 s that are left: enough for the 1.4 s greeting.
    assert len(transport.called("imap_try")) == 3
    assert time.monotonic() - started < 4.5


def test_a_port_silent_in_both_modes_is_not_blamed_on_the_mode() -> None:
    transport = OneModePort(NONE, silent_tls=True)  # neither STARTTLS nor TLS answers
    rules, seen = spying_registry()
    result = mailprobe.probe(imap_on(2993, STARTTLS), transport=transport, rules=rules, timeout=3)
    diagnosis = result.stage(Stage.IMAP_CONNECT).diagnosis
    assert diagnosis is not None and diagnosis.cause == "timeout"
    assert transport.tried("imap") == [STARTTLS, TLS, STARTTLS]
    (error,) = seen
    assert isinstance(error, DeadlineExceeded) and error.other_mode_silent is TLS
    # Both modes were tried: the summary says so, and no hint sends the person to the
    # security setting.
    assert "with or without encryption" in diagnosis.summary
    assert "security setting" not in diagnosis.summary
    assert not any("security setting" in hint for hint in diagnosis.hints), diagnosis.hints
    assert any("keeps happening" in hint for hint in diagnosis.hints), diagnosis.hints


def test_a_silent_port_whose_other_mode_was_not_tried_may_be_the_mode() -> None:
    error = DeadlineExceeded("waiting for the greeting")
    assert error.other_mode_silent is None
    transport = ScriptedTransport(imap_connect=error)
    result = mailprobe.probe(imap_on(2993, STARTTLS), transport=transport, timeout=3)
    diagnosis = result.stage(Stage.IMAP_CONNECT).diagnosis
    assert diagnosis is not None and diagnosis.cause == "timeout"
    assert "security setting" in diagnosis.summary


def test_a_mode_that_answers_at_once_is_not_second_guessed() -> None:
    transport = OneModePort(STARTTLS)  # a TLS client gets the plain greeting at once
    result = mailprobe.probe(imap_on(2993, TLS), transport=transport, timeout=6)
    diagnosis = result.stage(Stage.IMAP_CONNECT).diagnosis
    assert diagnosis is not None and diagnosis.cause == "tls_mode_mismatch"
    assert transport.tried("imap") == [TLS]  # no second connection without suggest=True
    assert diagnosis.suggestion is None


# -- no mode given -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("speaks", "silent_tls", "tried"),
    [
        (TLS, False, [TLS]),
        (STARTTLS, False, [TLS, STARTTLS]),  # the plain greeting says it at once
        (STARTTLS, True, [TLS, STARTTLS]),  # silence, then a greeting in plain text
    ],
)
def test_an_unusual_port_without_a_mode_gets_the_mode_found(
    speaks: Security, silent_tls: bool, tried: list[Security]
) -> None:
    transport = OneModePort(speaks, silent_tls=silent_tls)
    started = time.monotonic()
    result = mailprobe.probe(imap_on(2993, None), transport=transport, timeout=6)
    assert time.monotonic() - started < GRACE + 1.5
    assert result.ok, result.to_dict()
    connect = result.stage(Stage.IMAP_CONNECT).details
    assert (connect.security, connect.security_detected) == (speaks, True)
    assert connect["security"] == speaks.value  # the JSON shape says it too
    assert transport.tried("imap") == tried
    # Credentials went once, over the connection in the mode found.
    assert len(transport.called("imap_login")) == 1
    assert [m.id for m in result.warning_messages] == ["warning.security_detected"]
    assert f"answered with {speaks.value.upper()}" in result.warnings[0]


def test_detection_never_picks_no_encryption() -> None:
    from mailprobe import StartTLSError

    def no_starttls(call: Call) -> object:
        if call.args["security"] is STARTTLS:
            raise StartTLSError("the IMAP server does not offer STARTTLS")
        return None

    transport = OneModePort(STARTTLS, imap_connect=no_starttls)
    result = mailprobe.probe(imap_on(2993, None), transport=transport, timeout=6)
    stage = result.stage(Stage.IMAP_CONNECT)
    assert stage.diagnosis is not None and stage.diagnosis.cause == "starttls_unavailable"
    assert transport.tried("imap") == [TLS, STARTTLS]
    assert transport.called("imap_login") == []
    assert result.warnings == ()


def test_usual_ports_keep_their_mode_without_asking() -> None:
    transport = OneModePort(STARTTLS)
    result = mailprobe.probe(imap_on(143, None), transport=transport)
    assert result.ok
    assert transport.tried("imap") == [STARTTLS]
    assert not result.stage(Stage.IMAP_CONNECT).details.security_detected
    assert result.warnings == ()


def test_a_refusal_in_the_first_mode_is_its_answer() -> None:
    refusal = ReplyError.imap("BYE", "Too many connections from your address")
    transport = OneModePort(TLS, imap_connect=refusal)
    result = mailprobe.probe(imap_on(2993, None), transport=transport, timeout=6)
    details = result.stage(Stage.IMAP_CONNECT).details
    assert (details.security, details.security_detected) == (TLS, True)
    assert transport.tried("imap") == [TLS]


def test_the_grace_deadline_overrides_every_public_deadline_method() -> None:
    # GraceDeadline skips Deadline.__init__ (no timer thread per attempt), so a method
    # added to Deadline later must be added here too.
    public = {n for n, _ in inspect.getmembers(Deadline) if not n.startswith("_")}
    assert public <= set(vars(GraceDeadline)), public - set(vars(GraceDeadline))


def test_the_grace_ends_an_attempt_but_never_the_probe() -> None:
    parent = Deadline(5)
    try:
        grace = GraceDeadline(parent, 0.05)
        assert 0 < grace.remaining() <= 0.05
        assert grace.wait(1) is True and grace.cut and grace.expired
        with pytest.raises(DeadlineExceeded):
            grace.remaining("waiting for the greeting")
        assert not parent.expired
        released = GraceDeadline(parent, 0.01)
        released.release()
        time.sleep(0.02)
        assert not released.expired and released.remaining() > 4
        grace.expire()
        assert not parent.expired
    finally:
        parent.close()


# -- real sockets ------------------------------------------------------------------------
@pytest.fixture
def serve(tls: tuple[ssl.SSLContext, str]) -> Iterator[Callable[..., ScriptServer]]:
    servers: list[ScriptServer] = []

    def start(script: Callable[[Peer], None], implicit_tls: bool = False) -> ScriptServer:
        server = ScriptServer(script, tls_context=tls[0], implicit_tls=implicit_tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _smtp_with_starttls(peer: Peer) -> None:
    def starttls(p: Peer, line: bytes) -> bool:
        p.send(b"220 2.0.0 go ahead\r\n")
        p.start_tls()
        return True

    smtp_session(peer, extensions=("STARTTLS", "AUTH PLAIN LOGIN"), on={"STARTTLS": starttls})


def _byte_settings(imap_port: int, smtp_port: int, security: Optional[Security]) -> Any:
    return scripted_settings(
        password=PASSWORD,
        imap=mailprobe.ServerSettings(host="127.0.0.1", port=imap_port, security=security),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=smtp_port, security=security),
    )


def test_starttls_on_implicit_tls_servers_is_found_in_seconds(
    serve: Callable[..., ScriptServer], tls: tuple[ssl.SSLContext, str]
) -> None:
    imap = serve(imap_session, implicit_tls=True)
    smtp = serve(smtp_session, implicit_tls=True)
    started = time.monotonic()
    result = mailprobe.probe(
        _byte_settings(imap.port, smtp.port, STARTTLS), ca_file=tls[1], timeout=20
    )
    assert time.monotonic() - started < GRACE + 2
    for stage, port in ((Stage.IMAP_CONNECT, imap.port), (Stage.SMTP_CONNECT, smtp.port)):
        diagnosis = result.stage(stage).diagnosis
        assert diagnosis is not None and diagnosis.cause == "tls_mode_mismatch"
        assert diagnosis.suggestion == mailprobe.ServerDefaults(
            host="127.0.0.1", port=port, security=TLS
        )
    assert (imap.connections, smtp.connections) == (2, 2)
    assert PASSWORD.encode() not in imap.received + smtp.received


def test_no_mode_given_finds_tls_and_starttls_on_random_ports(
    serve: Callable[..., ScriptServer], tls: tuple[ssl.SSLContext, str]
) -> None:
    imap = serve(imap_session, implicit_tls=True)
    smtp = serve(_smtp_with_starttls)
    settings = _byte_settings(imap.port, smtp.port, None)
    result = mailprobe.probe(settings, ca_file=tls[1], timeout=20)
    imap_connect = result.stage(Stage.IMAP_CONNECT)
    smtp_connect = result.stage(Stage.SMTP_CONNECT)
    assert imap_connect.passed and smtp_connect.passed, result.to_dict()
    assert imap_connect.details.security is TLS and imap_connect.details.security_detected
    assert smtp_connect.details.security is STARTTLS and smtp_connect.details.security_detected
    assert smtp_connect.details.tls is not None  # the STARTTLS handshake happened
    assert len(result.warnings) == 2


@pytest.mark.integration
def test_starttls_on_dovecot_and_postfix_tls_ports_is_found_in_seconds(
    servers: MailServers,
) -> None:
    settings = inbox(
        imap_port=servers.imaps_port,
        imap_security=STARTTLS,
        smtp_port=servers.smtps_port,
        smtp_security=STARTTLS,
    )
    started = time.monotonic()
    result = mailprobe.probe(settings, ca_file=str(servers.ca_file), timeout=20)
    assert time.monotonic() - started < GRACE + 2
    for stage, port in (
        (Stage.IMAP_CONNECT, servers.imaps_port),
        (Stage.SMTP_CONNECT, servers.smtps_port),
    ):
        diagnosis = result.stage(stage).diagnosis
        assert diagnosis is not None and diagnosis.cause == "tls_mode_mismatch"
        assert diagnosis.suggestion == mailprobe.ServerDefaults(
            host="127.0.0.1", port=port, security=TLS
        )


@pytest.mark.integration
def test_no_mode_given_against_dovecot_and_postfix(servers: MailServers) -> None:
    settings = inbox(
        imap=mailprobe.ServerSettings(host="127.0.0.1", port=servers.imap_port),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=servers.smtps_port),
    )
    result = mailprobe.probe(
        settings, ca_file=str(servers.ca_file), timeout=20, test_recipient="bcc@app.example"
    )
    assert result.ok, result.to_dict()
    assert result.stage(Stage.IMAP_CONNECT).details.security is STARTTLS
    assert result.stage(Stage.SMTP_CONNECT).details.security is TLS
    assert result.stage(Stage.IMAP_CONNECT).details.security_detected
    assert result.stage(Stage.SMTP_CONNECT).details.security_detected


# -- alternatives offered ------------------------------------------------------------------
def test_a_confirmed_mode_is_the_fix_with_no_untested_port_offered() -> None:
    # Port 143 typed with TLS; the server greets in plain text and offers STARTTLS.
    # Nothing said that port 993 answers, so the hints must not send the person there.
    transport = OneModePort(STARTTLS)
    result = mailprobe.probe(imap_on(143, TLS), transport=transport, timeout=6)
    diagnosis = result.stage(Stage.IMAP_CONNECT).diagnosis
    assert diagnosis is not None and diagnosis.cause == "tls_mode_mismatch"
    assert diagnosis.hints[0] == "Choose STARTTLS as the security setting and keep port 143."
    assert not any("993" in hint for hint in diagnosis.hints), diagnosis.hints
    assert "Port 143 expects STARTTLS" in diagnosis.summary

