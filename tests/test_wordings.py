"""Wordings nobody tuned the rules for: replies written from memory by helpers who had
not seen the rules, styled after many servers and languages, to test that each cause is
recognised in other words than the corpus's (tests/wordings/README.md). Unlike the
corpus these are not copied from a source, so they test wording, not coverage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailprobe import Stage
from mailprobe._rules._advice import causes

from . import corpus

HERE = Path(__file__).resolve().parent / "wordings"
ROWS = [
    json.loads(line)
    for path in sorted(HERE.glob("*.jsonl"))
    for line in path.read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def _param(row: dict[str, Any]) -> Any:
    marks = (
        [pytest.mark.xfail(reason=row["known_miss"], strict=True)] if "known_miss" in row else []
    )
    return pytest.param(row, id=row["id"], marks=marks)


def test_the_wordings_cover_every_reply_cause_in_several_languages() -> None:
    assert len({r["id"] for r in ROWS}) == len(ROWS) >= 300
    named = {r["cause"] for r in ROWS}
    assert named <= set(causes())
    assert len(named) >= 40
    # About one reply in six is in another language than English.
    foreign = [r for r in ROWS if any(ord(ch) > 0x17F for ch in r["text"]) or r.get("lang")]
    assert len(foreign) >= 20


@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_wording(row: dict[str, Any]) -> None:
    diagnosis = corpus.probe_row(row).stage(Stage(row["stage"])).diagnosis
    assert diagnosis is not None
    categories = {row["category"], *row.get("also_category", ())}
    assert diagnosis.category.value in categories, (diagnosis.evidence, row["text"])
    assert diagnosis.cause in {row["cause"], *row.get("also", ())}, (
        diagnosis.evidence,
        row["text"],
    )
