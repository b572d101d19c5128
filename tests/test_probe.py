"""The stage runner, driven through the scripted transport."""

from __future__ import annotations

import email
import email.policy
import json
import logging
import time

import pytest

import mailprobe
from mailprobe import (
    CertificateError,
    ConnectionInfo,
    ErrorCategory,
    Folder,
    ProbeEvent,
    RefusedError,
    ReplyError,
    Stage,
    StageStatus,
)
from mailprobe.testing import Replies, ScriptedTransport

from .conftest import scripted_settings, stage_causes

SECRET = "s3cret-Pa55"


def run(transport: ScriptedTransport, **options: object) -> mailprobe.ProbeResult:
    options.setdefault("test_recipient", "bcc@app.example")
    return mailprobe.probe(scripted_settings(), transport=transport, **options)  # type: ignore[arg-type]


def test_all_six_stages_in_canonical_order() -> None:
    result = run(ScriptedTransport())
    assert result.ok and result.diagnosis is None
    assert [s.stage for s in result.stages] == list(Stage)[:6]  # optional stages not asked for
    assert all(s.status is StageStatus.PASSED for s in result.stages)
    assert result.duration > 0


def test_a_failed_stage_skips_the_rest_of_its_leg_only() -> None:
    transport = ScriptedTransport(imap_login=ReplyError.imap("NO", "bad", command="LOGIN"))
    result = run(transport)
    assert stage_causes(result) == {
        "imap_connect": "passed",
        "imap_login": "invalid_credentials",
        "imap_validate": "skipped",
        "smtp_connect": "passed",
        "smtp_login": "passed",
        "test_email": "passed",
    }
    assert not result.ok


def test_headline_diagnosis_is_the_first_failure_in_canonical_order() -> None:
    transport = ScriptedTransport(
        imap_examine=ReplyError.imap("NO", "[UNAVAILABLE] try later", command="EXAMINE"),
        smtp_connect=RefusedError("connection refused"),
    )
    result = run(transport)
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.IMAP_VALIDATION_ERROR
    assert result.stage(Stage.SMTP_CONNECT).diagnosis is not None


def test_smtp_settings_incorrect_means_imap_worked() -> None:
    result = run(ScriptedTransport(smtp_connect=RefusedError("connection refused")))
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.SMTP_SETTINGS_INCORRECT
    assert all(
        result.stage(s).passed for s in (Stage.IMAP_CONNECT, Stage.IMAP_LOGIN, Stage.IMAP_VALIDATE)
    )


def test_no_test_recipient_skips_only_the_test_email() -> None:
    transport = ScriptedTransport()
    result = mailprobe.probe(scripted_settings(), transport=transport)
    assert result.ok
    assert result.stage(Stage.TEST_EMAIL).status is StageStatus.SKIPPED
    assert result.stage(Stage.SMTP_LOGIN).passed
    assert transport.called("smtp_send") == []


def test_the_test_email_is_a_blind_copy_with_a_recorded_message_id() -> None:
    transport = ScriptedTransport()
    result = run(transport)
    (call,) = transport.called("smtp_send")
    assert call.args["sender"] == "alice@example.com"
    assert call.args["recipients"] == ("bcc@app.example",)
    message = email.message_from_bytes(call.args["message"], policy=email.policy.SMTP)
    assert message["From"] == "alice@example.com"
    assert "bcc@app.example" not in call.args["message"].decode()
    assert message["Message-ID"] == result.stage(Stage.TEST_EMAIL).details["message_id"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert b"\r\n" in call.args["message"]


def test_idn_addresses_travel_in_ascii_in_the_envelope() -> None:
    transport = ScriptedTransport()
    mailprobe.probe(
        scripted_settings(email="anna@bücher.example"),
        transport=transport,
        test_recipient="bcc@bücher.example",
    )
    (call,) = transport.called("smtp_send")
    assert call.args["sender"] == "anna@xn--bcher-kva.example"
    assert call.args["recipients"] == ("bcc@xn--bcher-kva.example",)


def test_login_uses_the_custom_username_and_server_override() -> None:
    transport = ScriptedTransport()
    smtp = mailprobe.ServerSettings(host="smtp.example.com", port=587, username="relay")
    mailprobe.probe(scripted_settings(username="alice", smtp=smtp), transport=transport)
    assert transport.called("imap_login")[0].args["username"] == "alice"
    assert transport.called("smtp_login")[0].args["username"] == "relay"


def test_validation_reports_version_sent_folder_and_counts() -> None:
    folders = (
        Folder(name="INBOX"),
        Folder(name="INBOX.Sent Items", delimiter="."),
        Folder(name="INBOX.Archive", delimiter="."),
    )
    result = run(
        ScriptedTransport(imap_list=folders, imap_capabilities=("IMAP4REV2", "IMAP4REV1", "IDLE"))
    )
    details = result.stage(Stage.IMAP_VALIDATE).details
    assert details["imap_version"] == "IMAP4rev2"
    assert details["sent_folder"] == "INBOX.Sent Items"
    assert details["folder_count"] == 3
    assert details["inbox"] == {"exists": 3}


def test_a_server_without_imap4rev1_fails_validation() -> None:
    result = run(ScriptedTransport(imap_capabilities=("IMAP2",)))
    assert stage_causes(result)["imap_validate"] == "missing_capability"


def test_untrusted_certificate_is_retried_only_when_allowed() -> None:
    refused = CertificateError(
        "certificate not trusted: self-signed certificate", reason="self_signed"
    )
    strict = ScriptedTransport(imap_connect=Replies(refused, None))
    result = mailprobe.probe(scripted_settings(), transport=strict)
    assert stage_causes(result)["imap_connect"] == "cert_self_signed"
    assert len(strict.called("imap_connect")) == 1

    lenient = ScriptedTransport(imap_connect=Replies(refused, None))
    result = mailprobe.probe(scripted_settings(allow_untrusted_certificate=True), transport=lenient)
    assert result.ok
    first, second = lenient.called("imap_connect")
    assert first.args["verify"] is True and second.args["verify"] is False
    details = result.stage(Stage.IMAP_CONNECT).details
    assert details["certificate_trusted"] is False
    assert details["certificate_problem"] == "self_signed"


def test_an_unexpected_transport_exception_becomes_a_failed_stage() -> None:
    transport = ScriptedTransport(smtp_login=RuntimeError(f"bug holding {SECRET}"))
    result = run(transport)
    stage = result.stage(Stage.SMTP_LOGIN)
    assert stage.status is StageStatus.FAILED
    assert stage.error is not None and stage.error.type == "RuntimeError"
    assert SECRET not in json.dumps(result.to_dict())
    assert stage.diagnosis is not None and stage.diagnosis.cause == "unknown"


def test_secrets_echoed_by_a_server_are_masked() -> None:
    echo = ReplyError.imap("BAD", f"Error in IMAP command LOGIN: {SECRET}", command="LOGIN")
    transport = ScriptedTransport(
        imap_login=echo, imap_connect=ConnectionInfo(greeting=f"* OK {SECRET}")
    )
    result = run(transport)
    dumped = json.dumps(result.to_dict())
    assert SECRET not in dumped and SECRET not in repr(result)
    assert "********" in dumped


def test_connections_are_closed_whatever_happens() -> None:
    transport = ScriptedTransport(
        imap_examine=ReplyError.imap("NO", "x", command="EXAMINE"),
        smtp_send=ReplyError.smtp(554, "no", command="DATA"),
    )
    run(transport)
    names = [c.name for c in transport.calls]
    assert names.count("imap_close") == 1 and names.count("smtp_close") == 1


def test_events_start_and_finish_each_stage_in_the_callers_thread() -> None:
    import threading

    events: list[ProbeEvent] = []
    threads: set[int] = set()

    def on_event(event: ProbeEvent) -> None:
        events.append(event)
        threads.add(threading.get_ident())

    result = run(ScriptedTransport(smtp_login=ReplyError.smtp(535, "5.7.8 no")), on_event=on_event)
    finished = [e for e in events if e.kind == "finished"]
    assert {e.stage for e in finished} == set(list(Stage)[:6])
    assert all(e.result is not None for e in finished)
    started = {e.stage for e in events if e.kind == "started"}
    assert started == {
        Stage.IMAP_CONNECT,
        Stage.IMAP_LOGIN,
        Stage.IMAP_VALIDATE,
        Stage.SMTP_CONNECT,
        Stage.SMTP_LOGIN,
    }
    assert threads == {threading.get_ident()}
    for stage in list(Stage)[:6]:
        kinds = [e.kind for e in events if e.stage is stage]
        assert kinds in (["started", "finished"], ["finished"])
    assert result.stage(Stage.TEST_EMAIL).status is StageStatus.SKIPPED


def test_an_exception_in_on_event_propagates_after_cleanup() -> None:
    transport = ScriptedTransport()

    def explode(event: ProbeEvent) -> None:
        raise KeyError("app bug")

    with pytest.raises(KeyError):
        run(transport, on_event=explode)


def test_the_deadline_covers_the_whole_probe() -> None:
    transport = ScriptedTransport(delay=0.4)
    started = time.monotonic()
    result = run(transport, timeout=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    causes = stage_causes(result)
    assert "timeout" in causes.values()
    timed_out = [s for s in result.stages if s.diagnosis and s.diagnosis.cause == "timeout"]
    assert all(s.error and s.error.type == "DeadlineExceeded" for s in timed_out)


def test_legs_run_concurrently() -> None:
    transport = ScriptedTransport(delay=0.2)
    started = time.monotonic()
    result = run(transport, timeout=10)
    assert result.ok
    # Each leg makes four scripted calls of 0.2 s: together they take about 0.8 s, not 1.6 s.
    assert time.monotonic() - started < 1.4


def test_result_is_frozen_and_json_safe() -> None:
    result = run(ScriptedTransport(imap_login=ReplyError.imap("NO", "x", command="LOGIN")))
    data = result.to_dict()
    assert json.loads(json.dumps(data)) == data
    # Keys are only ever added: the first four are the 0.1 ones.
    assert list(data) == [
        "ok",
        "duration",
        "diagnosis",
        "stages",
        "warnings",
        "warning_messages",
        "checks",
    ]
    assert list(data["stages"][0]) == [
        "stage",
        "status",
        "duration",
        "error",
        "diagnosis",
        "details",
    ]
    assert data["diagnosis"]["category"] == "imap_authentication_error"
    with pytest.raises(AttributeError):
        result.duration = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.stages[0].details["greeting"] = "x"  # type: ignore[index]


def test_one_info_line_per_stage(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="mailprobe"):
        run(ScriptedTransport(smtp_login=ReplyError.smtp(535, "5.7.8 no")))
    lines = [r.getMessage() for r in caplog.records if r.name == "mailprobe"]
    assert len(lines) == 6
    assert any("smtp_login failed" in line and "invalid_credentials" in line for line in lines)
    assert not any(SECRET in line for line in lines)


def test_transcript_is_opt_in_and_per_stage() -> None:
    plain = run(ScriptedTransport())
    assert all("transcript" not in s.details for s in plain.stages)
    with_transcript = run(ScriptedTransport(), transcript=True)
    for stage in with_transcript.stages:
        assert stage.details["transcript"] == ()  # the scripted transport speaks no protocol


def test_masking_of_transcript_lines() -> None:
    from mailprobe._transports._imap import mask_imap_line
    from mailprobe._transports._smtp import mask_smtp_line

    assert (
        mask_imap_line('A1 LOGIN "bob smith" "pa ss"', "LOGIN") == 'A1 LOGIN "bob smith" ********'
    )
    assert mask_imap_line("A1 LOGIN bob pass", "LOGIN") == "A1 LOGIN bob ********"
    assert mask_imap_line("A2 AUTHENTICATE PLAIN", "AUTHENTICATE") == "A2 AUTHENTICATE PLAIN"
    assert mask_imap_line("A2 AUTHENTICATE PLAIN AGFsaWNl", "AUTHENTICATE") == (
        "A2 AUTHENTICATE PLAIN ********"
    )
    assert mask_imap_line("AGFsaWNlAHB3", "AUTHENTICATE") == "********"
    assert mask_imap_line("A3 EXAMINE INBOX", None) == "A3 EXAMINE INBOX"
    assert mask_smtp_line("AUTH PLAIN AGFsaWNlAHB3", "AUTH") == "AUTH PLAIN ********"
    assert mask_smtp_line("AUTH LOGIN", "AUTH") == "AUTH LOGIN"
    assert mask_smtp_line("YWxpY2U=", "AUTH") == "********"
    assert mask_smtp_line("Subject: hi\r\n\r\nbody\r\n.\r\n", "DATA").startswith(
        "[message elided, "
    )
    assert mask_smtp_line("MAIL FROM:<a@b.example>", None) == "MAIL FROM:<a@b.example>"


def test_sequential_runs_one_leg_after_the_other() -> None:
    concurrent = time.monotonic()
    run(ScriptedTransport(delay=0.1), timeout=10)
    concurrent = time.monotonic() - concurrent
    sequential = time.monotonic()
    result = run(ScriptedTransport(delay=0.1), timeout=10, sequential=True)
    sequential = time.monotonic() - sequential
    assert result.ok
    assert sequential > concurrent * 1.5  # four calls per leg: ~0.8 s against ~0.4 s


def test_suggest_tries_the_other_mode_then_the_usual_ports_without_credentials() -> None:
    from mailprobe import TLSError

    mismatch = TLSError("wrong version", reason="wrong_version")
    transport = ScriptedTransport(
        smtp_connect=Replies(mismatch, RefusedError("no"), RefusedError("no"), None)
    )
    settings = scripted_settings(
        smtp=mailprobe.ServerSettings(
            host="smtp.example.com", port=2525, security=mailprobe.Security.TLS
        )
    )
    result = mailprobe.probe(settings, transport=transport, suggest=True)
    tried = [(c.args["port"], c.args["security"].value) for c in transport.called("smtp_connect")]
    assert tried == [(2525, "tls"), (2525, "starttls"), (465, "tls"), (587, "starttls")]
    diagnosis = result.stage(Stage.SMTP_CONNECT).diagnosis
    assert diagnosis is not None
    assert diagnosis.suggestion == mailprobe.ServerDefaults(
        host="smtp.example.com", port=587, security="starttls"
    )
    # Another port than the one typed: the working settings come first among the hints.
    assert diagnosis.hints[0].startswith("smtp.example.com answers on port 587 with STARTTLS")
    assert transport.called("smtp_login") == []


def test_a_transport_whose_close_raises_does_not_break_the_probe(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Fragile(ScriptedTransport):
        def connect_imap(self, endpoint, deadline):  # type: ignore[no-untyped-def]
            conn = super().connect_imap(endpoint, deadline)

            def close() -> None:
                raise OSError("already gone")

            conn.close = close  # type: ignore[method-assign]
            return conn

    with caplog.at_level(logging.WARNING, logger="mailprobe"):
        result = run(Fragile(), confirm_delivery=True, capacity=2)
    assert result.ok
    assert [s.stage for s in result.stages] == list(Stage)
    assert "close() raised OSError" in caplog.text
