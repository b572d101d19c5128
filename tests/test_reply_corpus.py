"""Every real reply of the corpus gets the category and cause a support engineer would
give it. (How the rules do on replies they were not written from is measured with
scripts/measure_heldout.py on a slice collected apart; see tests/replies/README.md.)"""

from __future__ import annotations

import base64
import collections
import json
from typing import Any

import pytest

from mailprobe import ErrorCategory, Stage
from mailprobe._rules._advice import causes

from . import corpus

ROWS = [row for row in corpus.load() if not row.get("excluded")]
STAGES = {s.value for s in Stage}
CATEGORIES = {c.value for c in ErrorCategory}


def _id(row: dict[str, Any]) -> str:
    return str(row["id"])


def test_the_corpus_is_broad_and_sourced() -> None:
    everything = ROWS
    assert len(everything) >= 400
    assert len({r["id"] for r in everything}) == len(everything), "ids are unique"
    for row in everything:
        assert row["stage"] in STAGES and row["category"] in CATEGORIES, row["id"]
        assert row["cause"] in causes(), row["id"]
        assert row.get("source"), row["id"]
        assert ("text" in row) != ("text_b64" in row), row["id"]
    by_stage = collections.Counter(r["stage"] for r in everything)
    assert all(by_stage[s] >= 5 for s in STAGES - {"delivery", "capacity"}), by_stage
    origins = {r["origin"] for r in everything}
    for needed in (
        "gmail",
        "microsoft",
        "yahoo",
        "icloud",
        "zoho",
        "yandex",
        "qq",
        "netease",
        "ses",
        "sendgrid",
        "postfix",
        "exim",
        "dovecot",
        "cyrus",
        "sendmail",
    ):
        assert needed in origins, needed
    charsets = {r.get("charset") for r in everything}
    assert {"gbk", "latin-1", "broken-utf8"} <= charsets


@pytest.mark.parametrize("row", ROWS, ids=_id)
def test_reply(row: dict[str, Any]) -> None:
    result = corpus.probe_row(row)
    diagnosis = result.stage(Stage(row["stage"])).diagnosis
    assert diagnosis is not None
    accepted = {row["cause"], *row.get("also", ())}
    assert diagnosis.cause in accepted, (diagnosis.evidence, row["text" if "text" in row else "id"])
    assert diagnosis.category.value in {row["category"], *row.get("also_category", ())}
    assert diagnosis.summary and "{" not in diagnosis.summary
    assert diagnosis.hints and all("{" not in hint for hint in diagnosis.hints)
    assert diagnosis.evidence is not None


def test_encoded_replies_decode_like_the_transport() -> None:
    encoded = [r for r in ROWS if "text_b64" in r]
    assert encoded
    for row in encoded:
        text = corpus.reply_text(row)
        assert "\ufffd" not in text or row.get("charset") == "broken-utf8", row["id"]
        base64.b64decode(row["text_b64"])  # well-formed
        json.dumps(text)
