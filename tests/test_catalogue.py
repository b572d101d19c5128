"""The standards tables, the cause vocabulary and the message catalogue are complete and
consistent; translations plug in; classification never raises, whatever a server sent."""

from __future__ import annotations

import logging
import string
from typing import Optional

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mailprobe
from mailprobe import (
    Catalogue,
    Diagnosis,
    ErrorCategory,
    Failure,
    ReplyError,
    RuleRegistry,
    Security,
    Stage,
)
from mailprobe._decode import decode_reply
from mailprobe._rules._advice import causes, english, fields
from mailprobe._rules._facts import PREDICATES
from mailprobe._rules._table import code_tables, data_rules
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings

# The IANA SMTP Enhanced Status Codes registry (subject.detail, as of its 2024-12-06
# update: RFC 3463, 3886, 4468, 4954, 5248, 6531, 6710, 7293, 7372, 7505, 8617, 8689).
IANA_ENHANCED = (
    ["X.0.0"]
    + [f"X.1.{d}" for d in range(11)]
    + [f"X.2.{d}" for d in range(5)]
    + [f"X.3.{d}" for d in range(7)]
    + [f"X.4.{d}" for d in range(8)]
    + [f"X.5.{d}" for d in range(7)]
    + [f"X.6.{d}" for d in range(10)]
    + [f"X.7.{d}" for d in range(31)]
)
# Reply codes with a defined meaning: RFC 5321 4.2.2-4.2.3, RFC 4954 6, RFC 3207 4,
# RFC 7504 (521, 556).
RFC_REPLY_CODES = [
    "211",
    "214",
    "220",
    "221",
    "235",
    "250",
    "251",
    "252",
    "334",
    "354",
    "421",
    "432",
    "450",
    "451",
    "452",
    "454",
    "455",
    "500",
    "501",
    "502",
    "503",
    "504",
    "521",
    "530",
    "534",
    "535",
    "538",
    "550",
    "551",
    "552",
    "553",
    "554",
    "555",
    "556",
]
# IMAP response codes: RFC 3501 7.1, RFC 9051 7.1, RFC 5530 3, and the extensions' codes
# in IANA's IMAP response code registry, plus common non-standard ones.
IMAP_CODES = [
    "ALERT",
    "BADCHARSET",
    "CAPABILITY",
    "PARSE",
    "PERMANENTFLAGS",
    "READ-ONLY",
    "READ-WRITE",
    "TRYCREATE",
    "UIDNEXT",
    "UIDVALIDITY",
    "UNSEEN",
    "UIDNOTSTICKY",
    "APPENDUID",
    "COPYUID",
    "CLOSED",
    "HASCHILDREN",
    "UNAVAILABLE",
    "AUTHENTICATIONFAILED",
    "AUTHORIZATIONFAILED",
    "EXPIRED",
    "PRIVACYREQUIRED",
    "CONTACTADMIN",
    "NOPERM",
    "INUSE",
    "EXPUNGEISSUED",
    "CORRUPTION",
    "SERVERBUG",
    "CLIENTBUG",
    "CANNOT",
    "LIMIT",
    "OVERQUOTA",
    "ALREADYEXISTS",
    "NONEXISTENT",
    "HIGHESTMODSEQ",
    "NOMODSEQ",
    "MODIFIED",
    "BADCOMPARATOR",
    "BADEVENT",
    "NOTIFICATIONOVERFLOW",
    "BADURL",
    "TOOBIG",
    "URLMECH",
    "NOTSAVED",
    "UNKNOWN-CTE",
    "COMPRESSIONACTIVE",
    "USEATTR",
    "METADATA",
    "ANNOTATE",
    "ANNOTATIONS",
    "NOUPDATE",
    "INPROGRESS",
    "MAILBOXID",
    "UIDREQUIRED",
    "DOWNGRADED",
    "WEBALERT",
    "THROTTLED",
]


def _table(name: str) -> dict[str, object]:
    return {t.id: t for t in code_tables()}[name].entries  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("table", "codes"),
    [
        ("standard.enhanced_status", IANA_ENHANCED),
        ("standard.reply_code", RFC_REPLY_CODES),
        ("standard.imap_response_code", IMAP_CODES),
    ],
)
def test_every_standard_code_has_an_entry(table: str, codes: list[str]) -> None:
    entries = _table(table)
    missing = [c for c in codes if c not in entries]
    assert not missing, f"{table}: no entry for {missing}"
    for code, entry in entries.items():
        for cause in (entry.cause, *entry.by_command.values()):  # type: ignore[attr-defined]
            assert cause is None or cause in causes(), (code, cause)
        assert entry.source and entry.title  # type: ignore[attr-defined]


def test_every_cause_is_complete() -> None:
    messages = english()
    for name, cause in causes().items():
        assert cause.summary, name
        assert cause.hints, name
        assert cause.category in {"stage", "settings"} | {c.value for c in ErrorCategory}, name
        # The last summary applies whatever the situation, so there always is one.
        assert not cause.summary[-1].when, name
        for choice in (*cause.summary, *cause.hints):
            assert choice.id in messages, (name, choice.id)
            assert all(w in PREDICATES for w in choice.when), (name, choice.when)
        for word in (*cause.temporary_if, *cause.permanent_if):
            assert word in PREDICATES, (name, word)


def test_every_message_uses_known_values_and_reads_as_sentences() -> None:
    failure = Failure(
        stage=Stage.SMTP_LOGIN,
        error=ReplyError.smtp(535, "5.7.8 nope", command="AUTH"),
        host="smtp.example.com",
        port=587,
        security=Security.STARTTLS,
    )
    values = set(failure.facts())
    for message_id, text in english().items():
        if not message_id.startswith(("warning.", "hint.")):  # the runner's own values
            assert set(fields(text)) <= values, message_id
        assert text[0].isupper() or text[0] in '{"', message_id
        assert text.rstrip()[-1] in '.:!?"', message_id
        assert "  " not in text, message_id


def test_every_rule_gives_a_known_cause_and_has_a_source() -> None:
    for rule in data_rules():
        assert rule.cause in causes(), rule.id
        assert rule.source, rule.id
    ids = [rule.id for rule in mailprobe.builtin_rules()]
    assert len(ids) == len(set(ids))


def test_a_translation_replaces_the_texts_it_has_and_keeps_the_others() -> None:
    result = mailprobe.probe(
        scripted_settings(),
        transport=ScriptedTransport(
            imap_login=ReplyError.imap(
                "NO", "[AUTHENTICATIONFAILED] Authentication failed.", command="LOGIN"
            )
        ),
    )
    diagnosis = result.diagnosis
    assert diagnosis is not None and diagnosis.summary_message is not None
    assert diagnosis.summary_message.id == "invalid_credentials.summary"
    assert dict(diagnosis.summary_message.params) == {"proto": "IMAP", "login": "alice@example.com"}
    german = Catalogue(
        {
            "invalid_credentials.summary": (
                "Der {proto}-Server hat das Passwort für {login} nicht angenommen."
            )
        }
    )
    translated = german.translate(diagnosis)
    assert translated.summary == (
        "Der IMAP-Server hat das Passwort für alice@example.com nicht angenommen."
    )
    assert translated.hints == diagnosis.hints  # no translation given: English stays
    assert len(diagnosis.hint_messages) == len(diagnosis.hints)
    assert set(Catalogue().ids()) == set(english())
    with pytest.raises(TypeError):
        Catalogue({"x": 3})  # type: ignore[dict-item]


def test_a_translation_with_a_broken_template_keeps_the_english_text() -> None:
    result = mailprobe.probe(
        scripted_settings(),
        transport=ScriptedTransport(
            imap_login=ReplyError.imap("NO", "[AUTHENTICATIONFAILED] x", command="LOGIN")
        ),
    )
    assert result.diagnosis is not None
    broken = Catalogue({"invalid_credentials.summary": "{nonexistent} {"})
    assert broken.translate(result.diagnosis).summary == result.diagnosis.summary


def failure_for(error: BaseException, stage: Stage = Stage.SMTP_LOGIN) -> Failure:
    return Failure(
        stage=stage,
        error=error,
        host="smtp.example.com",
        port=587,
        security=Security.STARTTLS,
        login="alice@example.com",
        email="alice@example.com",
    )


def test_explain_lists_the_rules_tried_until_one_matched() -> None:
    registry = mailprobe.default_registry()
    trials = registry.explain(
        failure_for(ReplyError.smtp(535, "5.7.8 Bad credentials", command="AUTH"))
    )
    assert trials[-1].outcome == "matched"
    assert trials[-1].diagnosis is not None
    assert trials[-1].diagnosis.cause == "invalid_credentials"
    assert {t.outcome for t in trials[:-1]} <= {"no_match", "skipped"}
    assert any(t.outcome == "skipped" for t in trials)  # rules for other stages
    empty = RuleRegistry().explain(failure_for(ReplyError.smtp(535, "x", command="AUTH")))
    assert [(t.rule_id, t.outcome, t.priority) for t in empty] == [
        ("fallback.smtp_login", "matched", None)
    ]


def test_a_rule_that_raises_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    registry = RuleRegistry()

    @registry.register(id="broken", priority=10)
    def broken(f: Failure) -> Optional[Diagnosis]:
        raise RuntimeError("bug in the app's rule")

    with caplog.at_level(logging.WARNING, logger="mailprobe"):
        trials = registry.explain(failure_for(ReplyError.smtp(535, "x", command="AUTH")))
    assert trials[0].outcome == "raised"
    record = next(r for r in caplog.records if "broken" in r.getMessage())
    assert record.exc_info is not None and "bug in the app's rule" in str(record.exc_info[1])


def test_an_app_rule_without_evidence_gets_its_rule_id_as_evidence() -> None:
    registry = RuleRegistry()
    registry.register(
        lambda f: Diagnosis(category=ErrorCategory.UNAUTHORIZED, cause="mine"), id="acme.mine"
    )
    diagnosis = registry.classify(failure_for(ReplyError.smtp(535, "x", command="AUTH")))
    assert diagnosis.evidence is not None and diagnosis.evidence.rule_id == "acme.mine"


_PRINTABLE = st.text(alphabet=string.printable + "äöü授权码\u2028\x00\ufffd", max_size=400)


@settings(max_examples=300, deadline=None)
@given(
    stage=st.sampled_from(list(Stage)),
    code=st.integers(min_value=-5, max_value=999),
    text=_PRINTABLE,
    raw=st.binary(max_size=300),
    command=st.sampled_from(["AUTH", "MAIL", "RCPT", "DATA", "CONNECT", "EHLO", "LOGIN", None]),
    imap=st.booleans(),
)
def test_classification_never_raises(
    stage: Stage, code: int, text: str, raw: bytes, command: Optional[str], imap: bool
) -> None:
    registry = mailprobe.default_registry()
    for words in (text, decode_reply(raw)):
        error = (
            ReplyError.imap(text[:3] or "NO", words, command=command)
            if imap
            else ReplyError.smtp(code, words, command=command)
        )
        diagnosis = registry.classify(failure_for(error, stage))
        assert diagnosis.summary
        assert diagnosis.cause in causes() or diagnosis.cause == "unknown"


def test_the_generated_catalogue_lists_every_cause_rule_and_code() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text("utf-8")
    for name in causes():
        assert f"### `{name}`" in text, name
    for rule in data_rules():
        assert f"`{rule.id}`" in text, rule.id
    for table in code_tables():
        for code in table.entries:
            assert f"| `{code}` |" in text, code


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("Ungültige Anmeldung für Jörg".encode("latin-1"), "Ungültige Anmeldung für Jörg"),
        ("Zugang verweigert: ä".encode("latin-1"), "Zugang verweigert: ä"),
        ("请使用授权码登录".encode("gbk"), "请使用授权码登录"),
        ("smart \u2019quotes\u2019".encode("cp1252"), "smart \u2019quotes\u2019"),
        ("cut in the middle: €".encode()[:-1], "cut in the middle: \ufffd"),
        ("übel: ä".encode()[:-1], "übel: \ufffd"),
        (b"plain ascii", "plain ascii"),
    ],
)
def test_replies_decode_whatever_their_encoding(raw: bytes, text: str) -> None:
    assert decode_reply(raw) == text
