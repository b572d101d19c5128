"""Prober: configured once, reused; stages and app checks through StageContext; warnings."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import pytest

import mailprobe
from mailprobe import (
    Check,
    ConnectionInfo,
    DeadlineExceeded,
    Diagnosis,
    ErrorCategory,
    Failure,
    Folder,
    ProbeError,
    Prober,
    ReplyError,
    SettingsError,
    Stage,
    StageContext,
    StageStatus,
    ValidateDetails,
)
from mailprobe._prober import _prober_for
from mailprobe.testing import Replies, ScriptedTransport

from .conftest import scripted_settings, stage_causes


def _leg_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("mailprobe-")]


# -- a configured Prober -------------------------------------------------------------------
def test_a_prober_is_reused_across_threads_and_inboxes() -> None:
    transport = ScriptedTransport(delay=0.01)
    prober = Prober(transport=transport, timeout=10)
    inboxes = [scripted_settings(email=f"user{i}@example.com") for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda s: prober.probe(s, test_recipient="bcc@app.example"), inboxes)
        )
    assert all(r.ok for r in results)
    senders = sorted(c.args["sender"] for c in transport.called("smtp_send"))
    assert senders == sorted(s.email for s in inboxes)


def test_the_prober_builds_its_rules_and_contexts_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import mailprobe._defaults as shared
    import mailprobe._rules._builtin as module

    built: list[int] = []
    real = module.default_registry
    monkeypatch.setattr(shared, "_rules", None)
    monkeypatch.setattr(module, "default_registry", lambda: built.append(1) or real())
    prober = Prober(transport=ScriptedTransport())
    for _ in range(3):
        assert prober.probe(scripted_settings()).ok
    assert built == []  # a probe that passes classifies nothing: the rules wait
    failing = ScriptedTransport(imap_login=DeadlineExceeded("logging in"))
    prober = Prober(transport=failing)
    for _ in range(3):
        assert stage_causes(prober.probe(scripted_settings()))["imap_login"] == "timeout"
    assert built == [1]  # built on the first failure, once for every Prober


def test_module_functions_reuse_one_default_prober() -> None:
    default = _prober_for({})
    assert _prober_for({"timeout": 5.0, "ca_file": None, "suggest": False}) is default
    assert _prober_for({"suggest": True}) is not default


def test_per_probe_timeout_overrides_the_probers() -> None:
    prober = Prober(transport=ScriptedTransport(delay=0.3), timeout=30)
    started = time.monotonic()
    result = prober.probe(scripted_settings(), timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert "timeout" in stage_causes(result).values()


@pytest.mark.parametrize(
    ("option", "value"),
    [("rules", []), ("providers", {}), ("transport", object()), ("timeout", 0), ("checks", "x")],
)
def test_bad_prober_options_raise_at_construction(option: str, value: object) -> None:
    with pytest.raises(SettingsError) as info:
        Prober(**{option: value})  # type: ignore[misc]
    assert info.value.field == option


def test_unknown_options_are_type_errors() -> None:
    with pytest.raises(TypeError, match="timout"):
        Prober(timout=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="ca_file"):
        Prober().probe(scripted_settings(), ca_file="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        mailprobe.probe(scripted_settings(), test_recipent="a@b.example")  # type: ignore[call-arg]


# -- app checks ----------------------------------------------------------------------------
class NoSentFolder(ProbeError):
    """The app's own finding: there is no Sent folder to file sent mail in."""


def sent_folder_exists(ctx: StageContext) -> None:
    validate = ctx.result(Stage.IMAP_VALIDATE)
    assert validate is not None and isinstance(validate.details, ValidateDetails)
    ctx.record(sent_folder=validate.details.sent_folder)
    if validate.details.sent_folder is None:
        raise NoSentFolder("the mailbox has no Sent folder")


SENT = Check(name="sent_folder", run=sent_folder_exists)


def test_an_apps_check_passes_and_records() -> None:
    prober = Prober(transport=ScriptedTransport(), checks=[SENT])
    result = prober.probe(scripted_settings())
    assert result.ok
    check = result.check("sent_folder")
    assert check.passed and check.stage is Stage.IMAP_VALIDATE
    assert check.details["sent_folder"] == "Sent" and check.details.extra == {"sent_folder": "Sent"}
    assert result.to_dict()["checks"][0]["name"] == "sent_folder"


def test_an_apps_check_fails_with_a_diagnosis_from_the_rules() -> None:
    rules = mailprobe.default_registry()

    @rules.register(id="app.no_sent_folder", priority=50, stages=[Stage.IMAP_VALIDATE])
    def no_sent(failure: Failure) -> Optional[Diagnosis]:
        if isinstance(failure.error, NoSentFolder):
            return Diagnosis(
                category=ErrorCategory.IMAP_VALIDATION_ERROR,
                cause="no_sent_folder",
                hints=("Create a folder named Sent.",),
            )
        return None

    folders = (Folder(name="INBOX"), Folder(name="Archive"))
    events: list[mailprobe.ProbeEvent] = []
    prober = Prober(transport=ScriptedTransport(imap_list=folders), checks=[SENT], rules=rules)
    result = prober.probe(scripted_settings(), on_event=events.append)
    assert not result.ok
    check = result.check("sent_folder")
    assert check.status is StageStatus.FAILED and check.details["sent_folder"] is None
    assert result.failed_stage is check
    assert result.diagnosis is not None
    assert (result.diagnosis.cause, result.diagnosis.stage) == (
        "no_sent_folder",
        Stage.IMAP_VALIDATE,
    )
    assert [e.kind for e in events if e.check == "sent_folder"] == ["started", "finished"]
    assert mailprobe.ProbeResult.from_dict(result.to_dict()).to_dict() == result.to_dict()


def test_a_check_is_skipped_when_its_stage_did_not_pass() -> None:
    prober = Prober(
        transport=ScriptedTransport(imap_login=ReplyError.imap("NO", "bad", command="LOGIN")),
        checks=[SENT],
    )
    check = prober.probe(scripted_settings()).check("sent_folder")
    assert check.status is StageStatus.SKIPPED
    assert check.details.reason == "imap_validate did not pass"


def test_connections_a_check_opens_are_closed_and_trusted_like_the_legs() -> None:
    opened: list[object] = []

    def folder_count(ctx: StageContext) -> None:
        conn = ctx.open_imap()
        opened.append(conn)
        ctx.record(folders=len(conn.list_folders()))
        ctx.warn("a note for the app", message_id="app.note", detail="x")

    refused = mailprobe.CertificateError("self-signed", reason="self_signed")
    transport = ScriptedTransport(imap_connect=Replies(refused, None))
    prober = Prober(transport=transport, checks=[Check(name="count", run=folder_count)])
    result = prober.probe(scripted_settings(allow_untrusted_certificate=True))
    assert result.ok, result.to_dict()
    assert result.check("count").details["folders"] == 4
    calls = transport.called("imap_connect")
    # The leg's verified try, its unverified retry, then the check: unverified at once.
    assert [c.args["verify"] for c in calls] == [True, False, False]
    names = [c.name for c in transport.calls]
    assert names.count("imap_close") == len(calls) - 1  # the failed try never opened
    assert result.warning_messages[-1].id == "app.note"


def test_checks_need_unique_names() -> None:
    with pytest.raises(SettingsError):
        Prober(checks=[SENT, SENT])
    with pytest.raises(TypeError):
        Check(name="", run=sent_folder_exists)


# -- warnings ------------------------------------------------------------------------------
def test_warnings_beside_connected() -> None:
    refused = mailprobe.CertificateError("self-signed", reason="self_signed")
    expiring = ConnectionInfo(
        greeting="220 hi",
        tls={
            "tls_version": "TLSv1.3",
            "cipher": "X",
            "certificate": {"sha256": "ab", "days_to_expiry": 3, "expires_soon": True},
        },
    )
    result = mailprobe.probe(
        scripted_settings(
            allow_untrusted_certificate=True,
            smtp=mailprobe.ServerSettings(host="smtp.example.com", port=465),
        ),
        transport=ScriptedTransport(imap_connect=Replies(refused, None), smtp_connect=expiring),
    )
    assert result.ok
    assert [m.id for m in result.warning_messages] == [
        "warning.certificate_untrusted_allowed",
        "warning.certificate_expiring",
    ]
    assert "not trusted (self_signed)" in result.warnings[0]
    assert "expires in 3 days" in result.warnings[1]
    smtp = result.stage(Stage.SMTP_CONNECT).details
    assert smtp.warnings == ("the server's certificate expires in 3 days",)
    assert smtp.certificate is not None and smtp.certificate.trusted is True


def test_plaintext_is_a_warning() -> None:
    plain = mailprobe.ServerSettings(
        host="imap.example.com", port=143, security=mailprobe.Security.NONE
    )
    result = mailprobe.probe(scripted_settings(imap=plain), transport=ScriptedTransport())
    assert [m.id for m in result.warning_messages] == ["warning.plaintext_connection"]
    assert result.to_dict()["warnings"] == list(result.warnings)


# -- CAPACITY and DELIVERY -------------------------------------------------------------------
def test_capacity_reports_a_timeout_as_a_timeout_not_a_limit() -> None:
    transport = ScriptedTransport(imap_login=Replies(None, None, DeadlineExceeded("logging in")))
    result = mailprobe.probe(scripted_settings(), transport=transport, capacity=4)
    stage = result.stage(Stage.CAPACITY)
    assert stage.diagnosis is not None and stage.diagnosis.cause == "timeout"
    assert (stage.details.requested, stage.details.allowed, stage.details.refusal) == (4, 2, None)
    closes = transport.called("imap_close")
    assert len(closes) == len(transport.called("imap_connect"))


def test_capacity_counts_a_refused_greeting_as_the_limit() -> None:
    bye = ReplyError.imap("BYE", "Too many connections from your address")
    transport = ScriptedTransport(imap_connect=Replies(None, None, bye))
    stage = mailprobe.probe(scripted_settings(), transport=transport, capacity=5).stage(
        Stage.CAPACITY
    )
    assert stage.diagnosis is not None and stage.diagnosis.cause == "too_many_connections"
    assert stage.details.allowed == 2


def test_cancelling_aprobe_ends_the_probe_at_once() -> None:
    cancelled_at: list[float] = []

    async def main() -> None:
        task = asyncio.create_task(
            mailprobe.aprobe(
                scripted_settings(),
                transport=ScriptedTransport(imap_find=False),
                confirm_delivery=True,
                timeout=30,
            )
        )
        await asyncio.sleep(1.2)  # DELIVERY is in the middle of a 0.675 s pause by now
        cancelled_at.append(time.monotonic())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())  # returns once the worker thread running the probe is done
    # DELIVERY waits on the deadline, not in time.sleep: cancelling ends it at once.
    assert time.monotonic() - cancelled_at[0] < 0.35
    assert not _leg_threads()


def test_runner_cancel_before_start_expires_at_once() -> None:
    runner = Prober(transport=ScriptedTransport(delay=5))._runner(scripted_settings(), {})
    runner.cancel()
    started = time.monotonic()
    result = runner.execute()
    assert time.monotonic() - started < 0.5
    assert stage_causes(result)["imap_connect"] == "timeout"
