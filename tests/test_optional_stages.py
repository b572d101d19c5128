"""DELIVERY and CAPACITY, the stages a probe runs only when asked."""

from __future__ import annotations

import pytest

import mailprobe
from mailprobe import ErrorCategory, ReplyError, SettingsError, Stage, StageStatus
from mailprobe.testing import Replies, ScriptedTransport

from .conftest import scripted_settings


def test_optional_stages_appear_only_when_asked_for() -> None:
    plain = mailprobe.probe(scripted_settings(), transport=ScriptedTransport())
    assert [s.stage for s in plain.stages] == list(Stage)[:6]
    both = mailprobe.probe(
        scripted_settings(), transport=ScriptedTransport(), confirm_delivery=True, capacity=3
    )
    assert [s.stage for s in both.stages] == list(Stage)
    assert both.ok


def test_delivery_sends_to_the_inbox_itself_and_reports_latency() -> None:
    transport = ScriptedTransport(imap_find=Replies(False, False, True))
    result = mailprobe.probe(
        scripted_settings(),
        transport=transport,
        timeout=10,
        test_recipient="bcc@app.example",
        confirm_delivery=True,
    )
    assert result.ok, result.to_dict()
    (send,) = transport.called("smtp_send")
    assert send.args["recipients"] == ("bcc@app.example", "alice@example.com")
    details = result.stage(Stage.DELIVERY).details
    assert details["delivered"] is True and details["polls"] == 3
    assert details["latency"] > 0
    message_id = result.stage(Stage.TEST_EMAIL).details["message_id"]
    assert {c.args["message_id"] for c in transport.called("imap_find")} == {message_id}


def test_a_message_that_never_arrives_is_its_own_diagnosis() -> None:
    result = mailprobe.probe(
        scripted_settings(),
        transport=ScriptedTransport(imap_find=False),
        timeout=2,
        confirm_delivery=True,
    )
    stage = result.stage(Stage.DELIVERY)
    assert stage.status is StageStatus.FAILED
    assert stage.diagnosis is not None
    assert (stage.diagnosis.category, stage.diagnosis.cause, stage.diagnosis.rule_id) == (
        ErrorCategory.TEST_EMAIL_FAILED,
        "not_delivered",
        "delivery.missing",
    )
    assert stage.details["delivered"] is False
    assert result.duration < 3


def test_delivery_is_skipped_when_imap_or_the_send_failed() -> None:
    no_imap = mailprobe.probe(
        scripted_settings(),
        confirm_delivery=True,
        transport=(ScriptedTransport(imap_login=ReplyError.imap("NO", "bad", command="LOGIN"))),
    )
    assert no_imap.stage(Stage.DELIVERY).status is StageStatus.SKIPPED
    no_send = mailprobe.probe(
        scripted_settings(),
        confirm_delivery=True,
        transport=(ScriptedTransport(smtp_send=ReplyError.smtp(554, "no", command="DATA"))),
    )
    assert no_send.stage(Stage.DELIVERY).status is StageStatus.SKIPPED


def test_capacity_counts_what_the_server_allowed() -> None:
    refusal = ReplyError.imap(
        "NO",
        "[LIMIT] Maximum number of connections from user+IP "
        "exceeded (mail_max_userip_connections=3)",
        command="LOGIN",
    )
    # The leg's own login, two more that work, then refusals.
    transport = ScriptedTransport(imap_login=Replies(None, None, None, refusal, None))
    result = mailprobe.probe(scripted_settings(), transport=transport, capacity=5)
    stage = result.stage(Stage.CAPACITY)
    assert stage.status is StageStatus.FAILED
    assert (stage.details["requested"], stage.details["allowed"]) == (5, 3)
    assert "mail_max_userip_connections=3" in stage.details["refusal"]
    diagnosis = stage.diagnosis
    assert diagnosis is not None
    assert (diagnosis.category, diagnosis.cause, diagnosis.rule_id) == (
        ErrorCategory.IMAP_AUTHENTICATION_ERROR,
        "too_many_connections",
        "limits.capacity",
    )
    assert diagnosis.summary == (
        "The server allows only 3 simultaneous connections to this mailbox from one address, "
        "fewer than the 5 the app needs."
    )
    assert not diagnosis.temporary  # the server's configured limit, not a passing state
    closes = [c for c in transport.calls if c.name == "imap_close"]
    assert len(closes) == len(transport.called("imap_connect"))  # every connection closed


@pytest.mark.parametrize("value", [1, 51, "5", 2.5])
def test_bad_capacity_is_refused(value: object) -> None:
    with pytest.raises(SettingsError) as info:
        mailprobe.probe(scripted_settings(), capacity=value, transport=ScriptedTransport())  # type: ignore[arg-type]
    assert info.value.field == "capacity"
