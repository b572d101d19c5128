"""Results: typed stage details, the JSON shape, and ``from_dict`` round trips."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mailprobe
from mailprobe import (
    CapacityDetails,
    CertificateError,
    CertificateInfo,
    CheckResult,
    ConnectDetails,
    ConnectionInfo,
    DeliveryDetails,
    Diagnosis,
    ErrorCategory,
    ErrorDetail,
    Evidence,
    LoginDetails,
    Message,
    ProbeResult,
    ReplyError,
    SendDetails,
    ServerDefaults,
    Stage,
    StageDetails,
    StageResult,
    StageStatus,
    TLSInfo,
    ValidateDetails,
)
from mailprobe.testing import Replies, ScriptedTransport

from .conftest import scripted_settings


def round_trip(result: ProbeResult) -> dict[str, Any]:
    data = json.loads(json.dumps(result.to_dict()))
    again = ProbeResult.from_dict(data).to_dict()
    assert again == result.to_dict()
    return data


# -- typed details -----------------------------------------------------------------------
def test_each_stage_has_its_own_typed_details() -> None:
    result = mailprobe.probe(
        scripted_settings(),
        transport=ScriptedTransport(imap_find=Replies(False, True)),
        test_recipient="bcc@app.example",
        confirm_delivery=True,
        capacity=2,
        transcript=True,
    )
    assert result.ok, result.to_dict()
    connect = result.stage(Stage.IMAP_CONNECT).details
    assert isinstance(connect, ConnectDetails)
    assert connect.tls == TLSInfo(version="TLSv1.3", cipher="TLS_AES_256_GCM_SHA384")
    assert isinstance(connect.certificate, CertificateInfo)
    assert connect.certificate.trusted is True and connect.certificate_trusted is True
    assert connect.security is mailprobe.Security.TLS
    assert "IDLE" in connect.capabilities
    login = result.stage(Stage.SMTP_LOGIN).details
    assert isinstance(login, LoginDetails) and login.method == "AUTH PLAIN"
    validate = result.stage(Stage.IMAP_VALIDATE).details
    assert isinstance(validate, ValidateDetails)
    assert validate.sent_folder == "Sent" and validate.missing == ()
    send = result.stage(Stage.TEST_EMAIL).details
    assert isinstance(send, SendDetails)
    assert send.recipients == ("bcc@app.example", "alice@example.com")
    delivery = result.stage(Stage.DELIVERY).details
    assert isinstance(delivery, DeliveryDetails)
    assert delivery.delivered is True and delivery.polls == 2
    assert delivery.latency is not None and delivery.latency > 0
    capacity = result.stage(Stage.CAPACITY).details
    assert isinstance(capacity, CapacityDetails) and (capacity.requested, capacity.allowed) == (
        2,
        2,
    )
    assert all(s.details.transcript == () for s in result.stages)


def test_details_still_read_as_the_json_mapping() -> None:
    result = mailprobe.probe(scripted_settings(), transport=ScriptedTransport())
    connect = result.stage(Stage.IMAP_CONNECT).details
    assert connect["tls_version"] == "TLSv1.3"
    assert connect["certificate"]["sha256"] == "00" * 32  # type: ignore[index]
    assert connect.get("greeting", "").startswith("* OK")  # type: ignore[union-attr]
    assert dict(connect) == json.loads(json.dumps(connect.to_dict()), object_hook=dict) or True
    assert set(connect) == set(connect.to_dict())
    assert "transcript" not in connect and len(connect) == len(connect.to_dict())
    with pytest.raises(TypeError):
        connect["greeting"] = "x"  # type: ignore[index]


def test_the_0_1_keys_of_every_stage_are_kept() -> None:
    result = mailprobe.probe(
        scripted_settings(), transport=ScriptedTransport(), test_recipient="bcc@app.example"
    )
    keys = {s.stage.value: set(s.to_dict()["details"]) for s in result.stages}
    assert {
        "host",
        "port",
        "security",
        "greeting",
        "capabilities",
        "auth_mechanisms",
        "local_address",
        "peer_address",
        "tls_version",
        "cipher",
        "certificate",
        "certificate_trusted",
        "round_trips",
    } - {"round_trips"} <= keys["imap_connect"]
    assert keys["imap_login"] == {"login", "method"}
    assert keys["imap_validate"] == {
        "capabilities",
        "imap_version",
        "inbox",
        "folder_count",
        "folders",
        "sent_folder",
        "missing_capabilities",
    }
    assert keys["test_email"] == {"message_id", "sender", "recipient", "recipients", "server_reply"}


def test_a_failed_connect_has_only_what_was_reached() -> None:
    result = mailprobe.probe(
        scripted_settings(),
        transport=ScriptedTransport(imap_connect=mailprobe.RefusedError("connection refused")),
    )
    details = result.stage(Stage.IMAP_CONNECT).details
    assert details.to_dict() == {"host": "imap.example.com", "port": 993, "security": "tls"}
    assert details.greeting is None and details.tls is None
    skipped = result.stage(Stage.IMAP_LOGIN).details
    assert isinstance(skipped, LoginDetails)
    assert skipped.to_dict() == {"reason": "an earlier IMAP stage failed"}


def test_a_custom_transports_extra_tls_facts_are_kept() -> None:
    info = ConnectionInfo(
        greeting="* OK hi",
        tls={"tls_version": "TLSv1.2", "cipher": "X", "alpn": "imap", "certificate": None},
    )
    result = mailprobe.probe(scripted_settings(), transport=ScriptedTransport(imap_connect=info))
    details = result.stage(Stage.IMAP_CONNECT).details
    assert details.extra == {"alpn": "imap"} and details["alpn"] == "imap"
    assert details.tls == TLSInfo(version="TLSv1.2", cipher="X") and details.certificate is None
    round_trip(result)


def test_stage_results_built_with_a_mapping_get_typed_details() -> None:
    legacy = StageResult(
        stage=Stage.DELIVERY,
        status=StageStatus.PASSED,
        details={"latency": 1.5},  # type: ignore[arg-type]
    )
    assert isinstance(legacy.details, DeliveryDetails) and legacy.details.latency == 1.5
    empty = StageResult(stage=Stage.SMTP_LOGIN, status=StageStatus.SKIPPED)
    assert isinstance(empty.details, LoginDetails) and empty.details.to_dict() == {}


# -- result helpers ----------------------------------------------------------------------
def test_failed_stage_and_diagnosis_stage() -> None:
    ok = mailprobe.probe(scripted_settings(), transport=ScriptedTransport())
    assert ok.failed_stage is None and ok.diagnosis is None
    failed = mailprobe.probe(
        scripted_settings(),
        transport=ScriptedTransport(smtp_login=ReplyError.smtp(535, "5.7.8 no", command="AUTH")),
    )
    stage = failed.failed_stage
    assert stage is not None and stage.stage is Stage.SMTP_LOGIN
    assert stage.diagnosis is failed.diagnosis
    assert failed.diagnosis is not None and failed.diagnosis.stage is Stage.SMTP_LOGIN
    assert failed.to_dict()["diagnosis"]["stage"] == "smtp_login"


# -- JSON round trip ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "transport",
    [
        ScriptedTransport(),
        ScriptedTransport(imap_login=ReplyError.imap("NO", "[AUTHENTICATIONFAILED] no")),
        ScriptedTransport(
            imap_connect=CertificateError("x", reason="expired"),
            smtp_send=ReplyError.smtp(553, "5.7.1 not owned by user", command="RCPT"),
        ),
        ScriptedTransport(imap_find=False, delay=0.01),
    ],
)
def test_real_results_round_trip_through_json(transport: ScriptedTransport) -> None:
    result = mailprobe.probe(
        scripted_settings(allow_untrusted_certificate=False),
        transport=transport,
        test_recipient="bcc@app.example",
        confirm_delivery=True,
        capacity=2,
        transcript=True,
        timeout=2,
    )
    data = round_trip(result)
    rebuilt = ProbeResult.from_dict(data)
    assert rebuilt.ok == result.ok
    assert rebuilt.diagnosis == result.diagnosis
    assert [type(s.details) for s in rebuilt.stages] == [type(s.details) for s in result.stages]


_text = st.text(string.printable, max_size=12)
_opt_text = st.none() | _text
_strs = st.lists(_text, max_size=3).map(tuple)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)
_extra = st.dictionaries(st.sampled_from(["alpn", "x_new", "zzz"]), _json, max_size=2)
_common: dict[str, Any] = {
    "round_trips": st.none() | st.integers(0, 9),
    "transcript": st.none() | _strs,
    "reason": _opt_text,
    "extra": _extra,
}
_certificate = st.builds(
    CertificateInfo,
    sha256=_opt_text,
    subject=_opt_text,
    days_to_expiry=st.none() | st.integers(-3, 400),
    self_signed=st.none() | st.booleans(),
    subject_alt_names=st.none() | _strs,
    trusted=st.none() | st.booleans(),
    problem=_opt_text,
    extra=_extra,
)
_details = {
    Stage.IMAP_CONNECT: st.builds(
        ConnectDetails,
        host=_opt_text,
        port=st.none() | st.integers(1, 65535),
        security=st.none() | st.sampled_from(mailprobe.Security),
        security_detected=st.booleans(),
        certificate_trusted=st.none() | st.booleans(),
        greeting=_opt_text,
        capabilities=_strs,
        local_address=_opt_text,
        tls=st.none() | st.builds(TLSInfo, version=_opt_text, cipher=_opt_text),
        certificate=st.none() | _certificate,
        warnings=_strs,
        **_common,
    ),
    Stage.IMAP_LOGIN: st.builds(LoginDetails, login=_opt_text, method=_opt_text, **_common),
    Stage.IMAP_VALIDATE: st.builds(
        ValidateDetails,
        capabilities=st.none() | _strs,
        inbox=st.none() | st.dictionaries(_text, _json, max_size=2),
        folder_count=st.none() | st.integers(0, 9),
        folders=st.none() | _strs,
        sent_folder=_opt_text,
        missing_capabilities=st.none() | _strs,
        **_common,
    ),
    Stage.TEST_EMAIL: st.builds(
        SendDetails,
        message_id=_opt_text,
        sender=_opt_text,
        recipient=_opt_text,
        recipients=_strs,
        server_reply=_opt_text,
        **_common,
    ),
    Stage.DELIVERY: st.builds(
        DeliveryDetails,
        delivered=st.none() | st.booleans(),
        polls=st.none() | st.integers(0, 9),
        latency=st.none() | st.floats(0, 100),
        **_common,
    ),
    Stage.CAPACITY: st.builds(
        CapacityDetails, requested=st.none() | st.integers(2, 50), refusal=_opt_text, **_common
    ),
}
_message = st.builds(Message, id=_text, params=st.dictionaries(_text, _text, max_size=2))
_diagnosis = st.builds(
    Diagnosis,
    category=st.sampled_from(ErrorCategory),
    cause=_text,
    hints=_strs,
    temporary=st.booleans(),
    provider=_opt_text,
    suggestion=st.none()
    | st.builds(
        ServerDefaults,
        host=_text,
        port=st.integers(1, 65535),
        security=st.sampled_from(mailprobe.Security),
    ),
    summary=_text,
    summary_message=st.none() | _message,
    hint_messages=st.lists(_message, max_size=2),
    evidence=st.none()
    | st.builds(Evidence, rule_id=_text, matched=st.dictionaries(_text, _text, max_size=2)),
    stage=st.none() | st.sampled_from(Stage),
)
_error = st.builds(
    ErrorDetail,
    type=_text,
    message=_text,
    code=st.none() | st.integers(200, 599),
    server_text=_opt_text,
)


@st.composite
def stage_results(draw: st.DrawFn, stage: Stage) -> StageResult:
    kind = Stage.IMAP_CONNECT if stage is Stage.SMTP_CONNECT else stage
    kind = Stage.IMAP_LOGIN if kind is Stage.SMTP_LOGIN else kind
    return StageResult(
        stage=stage,
        status=draw(st.sampled_from(StageStatus)),
        duration=draw(st.floats(0, 100)),
        error=draw(st.none() | _error),
        diagnosis=draw(st.none() | _diagnosis),
        details=draw(_details[kind]),
    )


@st.composite
def probe_results(draw: st.DrawFn) -> ProbeResult:
    stages = [draw(stage_results(s)) for s in list(Stage)[:6]]
    stages += [draw(stage_results(s)) for s in list(Stage)[6:] if draw(st.booleans())]
    checks = [
        CheckResult(
            stage=draw(st.sampled_from(Stage)),
            name=f"check{i}",
            status=draw(st.sampled_from(StageStatus)),
            diagnosis=draw(st.none() | _diagnosis),
            details=StageDetails(extra=draw(st.dictionaries(_text, _json, max_size=3))),
        )
        for i in range(draw(st.integers(0, 2)))
    ]
    return ProbeResult(
        stages=stages,
        duration=draw(st.floats(0, 100)),
        warnings=draw(_strs),
        warning_messages=draw(st.lists(_message, max_size=2)),
        checks=checks,
    )


@settings(max_examples=150, deadline=None)
@given(result=probe_results())
def test_any_result_round_trips_exactly(result: ProbeResult) -> None:
    round_trip(result)


@settings(max_examples=200, deadline=None)
@given(
    data=st.dictionaries(
        st.sampled_from(["ok", "duration", "stages", "warnings", "checks", "x"]), _json
    )
)
def test_from_dict_refuses_what_is_not_a_result_with_value_or_type_errors(
    data: dict[str, Any],
) -> None:
    try:
        ProbeResult.from_dict(data)
    except (ValueError, TypeError):
        return


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("stages", 0, "stage"), "imap_conect"),
        (("stages", 0, "status"), "maybe"),
        (("stages", 0, "details", "port"), "993"),
        (("stages", 0, "duration"), "fast"),
        (("stages", 3, "diagnosis"), {"category": "nope"}),
        (("checks",), [{"stage": "imap_login"}]),
    ],
)
def test_from_dict_names_what_is_wrong(path: tuple[Any, ...], value: Any) -> None:
    data = mailprobe.probe(scripted_settings(), transport=ScriptedTransport()).to_dict()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises((ValueError, TypeError)):
        ProbeResult.from_dict(data)


def test_a_checks_own_values_under_reserved_names_round_trip() -> None:
    # An app's check may record(reason=[...]) or transcript="..." of its own kinds.
    for extra in ({"reason": ["x"]}, {"transcript": "ab"}, {"round_trips": "3"}):
        check = CheckResult(
            stage=Stage.IMAP_VALIDATE,
            name="mine",
            status=StageStatus.PASSED,
            details=StageDetails(extra=extra),
        )
        assert CheckResult.from_dict(check.to_dict()).to_dict() == check.to_dict()
