"""The rule registry: ordering, registration forms, copies and the fallback."""

from __future__ import annotations

import logging
from typing import Optional

import pytest

import mailprobe
from mailprobe import (
    Diagnosis,
    ErrorCategory,
    Failure,
    ReplyError,
    Rule,
    RuleError,
    RuleRegistry,
    Security,
    Stage,
)
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings


def failure(
    stage: Stage = Stage.SMTP_LOGIN, text: str = "5.7.8 Authentication failed", code: int = 535
) -> Failure:
    return Failure(
        stage=stage,
        error=ReplyError.smtp(code, text, command="AUTH"),
        host="smtp.example.com",
        port=587,
        security=Security.STARTTLS,
        login="alice@example.com",
        email="alice@example.com",
    )


def answer(cause: str) -> Diagnosis:
    return Diagnosis(category=ErrorCategory.UNAUTHORIZED, cause=cause)


def test_higher_priority_first_and_later_registration_wins_ties() -> None:
    registry = RuleRegistry()
    registry.register(lambda f: answer("first"), id="a", priority=5)
    registry.register(lambda f: answer("second"), id="b", priority=5)
    registry.register(lambda f: answer("low"), id="c", priority=1)
    assert [r.id for r in registry.rules] == ["b", "a", "c"]
    diagnosis = registry.classify(failure())
    assert (diagnosis.cause, diagnosis.rule_id) == ("second", "b")


def test_an_app_rule_beats_a_builtin_at_equal_priority() -> None:
    registry = mailprobe.default_registry()
    decided = registry.explain(failure())[-1]  # the built-in that answers today
    builtin = next(r for r in registry.rules if r.id == decided.rule_id)

    @registry.register(id="acme.sso", priority=builtin.priority, stages=[Stage.SMTP_LOGIN])
    def acme(f: Failure) -> Optional[Diagnosis]:
        return answer("acme_sso_required") if f.code == 535 else None

    assert registry.classify(failure()).cause == "acme_sso_required"
    assert registry.classify(failure()).rule_id == "acme.sso"
    # Outside its stages the app rule is not consulted.
    assert registry.classify(failure(stage=Stage.TEST_EMAIL)).rule_id != "acme.sso"


def test_rule_objects_and_duplicates() -> None:
    registry = RuleRegistry()
    rule = Rule(id="x", check=lambda f: answer("x"), priority=3)
    assert registry.add(rule) is rule
    with pytest.raises(RuleError):
        registry.add(Rule(id="x", check=lambda f: None))
    registry.add(Rule(id="x", check=lambda f: answer("replaced")), replace=True)
    assert registry.classify(failure()).cause == "replaced"
    assert "x" in registry and len(registry) == 1
    assert registry.remove("x").id == "x"
    assert "x" not in registry


@pytest.mark.parametrize(
    "kwargs",
    [
        {"id": "", "check": lambda f: None},
        {"id": "ok", "check": "not callable"},
        {"id": "ok", "check": lambda f: None, "priority": "high"},
        {"id": "ok", "check": lambda f: None, "stages": ["imap_login"]},
    ],
)
def test_bad_rules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises((RuleError, TypeError)):
        Rule(**kwargs)  # type: ignore[arg-type]


def test_copy_is_independent() -> None:
    original = mailprobe.default_registry()
    clone = original.copy()
    clone.register(lambda f: answer("mine"), id="mine", priority=1000)
    assert "mine" in clone and "mine" not in original
    assert [r.id for r in original.copy().rules] == [r.id for r in original.rules]


def test_default_registry_is_fresh_every_time() -> None:
    first = mailprobe.default_registry()
    first.remove("standard.reply_code")
    assert "standard.reply_code" in mailprobe.default_registry()


def test_the_fallback_answers_when_no_rule_does() -> None:
    empty = RuleRegistry()
    for stage in Stage:
        odd = failure(stage=stage, text="something odd happened here", code=451)
        diagnosis = empty.classify(odd)
        assert diagnosis.cause == "unknown"
        assert diagnosis.rule_id == f"fallback.{stage.value}"
        assert diagnosis.category is ErrorCategory.for_stage(stage)
        assert "something odd happened here" in diagnosis.summary


def test_a_broken_rule_is_skipped_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    registry = RuleRegistry()

    @registry.register(id="broken", priority=10)
    def broken(f: Failure) -> Optional[Diagnosis]:
        raise RuntimeError("bug in the app's rule")

    registry.register(lambda f: "not a diagnosis", id="wrong-type", priority=5)  # type: ignore[arg-type,return-value]
    registry.register(lambda f: answer("works"), id="works", priority=1)
    with caplog.at_level(logging.WARNING, logger="mailprobe"):
        assert registry.classify(failure()).cause == "works"
    assert "broken" in caplog.text and "wrong-type" in caplog.text


def test_probe_uses_the_given_registry() -> None:
    registry = mailprobe.default_registry()
    registry.register(
        lambda f: answer("custom"), id="custom", priority=500, stages=[Stage.IMAP_LOGIN]
    )
    transport = ScriptedTransport(imap_login=ReplyError.imap("NO", "Nope", command="LOGIN"))
    result = mailprobe.probe(scripted_settings(), rules=registry, transport=transport)
    assert result.diagnosis is not None
    assert (result.diagnosis.cause, result.diagnosis.rule_id) == ("custom", "custom")


def test_failure_exposes_reply_fields() -> None:
    f = Failure(
        stage=Stage.IMAP_LOGIN,
        error=ReplyError.imap("NO", "[AUTHENTICATIONFAILED] Invalid credentials", command="LOGIN"),
        host="imap.example.com",
        port=993,
        security=Security.TLS,
    )
    assert (f.response_code, f.status, f.command, f.code) == (
        "AUTHENTICATIONFAILED",
        "NO",
        "LOGIN",
        None,
    )
    assert f.text == "[AUTHENTICATIONFAILED] Invalid credentials"
    s = failure()
    assert (s.code, s.enhanced_status, s.protocol) == (535, "5.7.8", "smtp")
