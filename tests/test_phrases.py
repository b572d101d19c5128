"""The phrase sets of phrases.json: every pattern compiles and matches a sentence of its
cause in its language, no sentence of one cause is read as another's, and English
replies are left to the English rules (the sets carry no English words)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mailprobe._rules._advice import causes
from mailprobe._rules._phrases import phrase_set, phrases

from . import corpus

EXAMPLES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "phrase_examples.jsonl")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]
LANGUAGES = {"de", "fr", "es", "pt", "it", "pl", "ru", "cs", "nl", "tr", "zh", "ja", "ko"}


def test_every_set_names_a_cause_and_covers_the_languages() -> None:
    for name, langs in phrases().items():
        assert name in causes(), name
        assert set(langs) == LANGUAGES, name
        for lang, patterns in langs.items():
            assert patterns, (name, lang)
            for pattern in patterns:
                re.compile(pattern, re.I)


def test_every_pattern_matches_an_example_of_its_cause_and_language() -> None:
    for name, langs in phrases().items():
        for lang, patterns in langs.items():
            mine = [e["text"] for e in EXAMPLES if (e["cause"], e["lang"]) == (name, lang)]
            for pattern in patterns:
                assert any(re.search(pattern, t, re.I) for t in mine), (name, lang, pattern)


@pytest.mark.parametrize("cause", sorted(phrases()))
def test_examples_are_read_as_their_cause_and_no_other(cause: str) -> None:
    own = phrase_set(cause)
    others = {name: phrase_set(name) for name in phrases() if name != cause}
    for example in (e for e in EXAMPLES if e["cause"] == cause):
        text = example["text"]
        if example.get("not"):
            assert not own.search(text), (cause, text)
            continue
        # Close languages share words (Spanish and Portuguese): any language may match.
        assert own.search(text), (cause, text)
        wrong = [
            n for n, p in others.items() if p.search(text) and n not in example.get("also", ())
        ]
        assert not wrong, (cause, text, wrong)


def test_no_reply_of_the_corpus_is_read_as_another_cause_by_the_phrases() -> None:
    # The English rules keep their own guards ("unless"); the phrase sets carry no
    # English words, so an English reply matches none of them or only its own cause.
    sets = {name: phrase_set(name) for name in phrases()}
    checked = 0
    for row in corpus.load():
        if row.get("excluded"):
            continue
        text = corpus.reply_text(row)
        accepted = {row["cause"], *row.get("also", ())}
        wrong = [n for n, p in sets.items() if n not in accepted and p.search(text)]
        checked += 1
        assert not wrong, (row["id"], wrong)
    assert checked > 2500


def test_a_reply_in_another_language_names_the_language_in_its_evidence() -> None:
    from mailprobe import ErrorCategory, ReplyError

    from .test_rules import S_LOGIN, Row, diagnosis_of

    diagnosis = diagnosis_of(
        Row(
            S_LOGIN,
            ReplyError.smtp(535, "5.7.8 Das Kennwort ist abgelaufen", command="AUTH"),
            ErrorCategory.UNAUTHORIZED,
            "",
        )
    )
    assert diagnosis.cause == "password_expired"
    assert diagnosis.evidence is not None
    assert diagnosis.evidence.rule_id == "words.password_expired"
    assert diagnosis.evidence.matched["phrase"].startswith("de: ")


def test_apps_can_use_the_phrase_sets_in_their_own_rules() -> None:
    from mailprobe import ReplyError, Security, Stage, when
    from mailprobe._rules._registry import Failure

    matcher = when(commands=["MAIL"], phrases="sending_limit_exceeded")
    limit = ReplyError.smtp(451, "Tageslimit für den E-Mail-Versand erreicht", command="MAIL")
    other = ReplyError.smtp(451, "Greylisting aktiv", command="MAIL")
    where = {"host": "smtp.example.com", "port": 587, "security": Security.STARTTLS}
    assert matcher(Failure(stage=Stage.TEST_EMAIL, error=limit, **where))
    assert not matcher(Failure(stage=Stage.TEST_EMAIL, error=other, **where))
    with pytest.raises(ValueError, match="no phrases named"):
        when(phrases="no_such_cause")
