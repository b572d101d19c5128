"""How the rules do on replies they were not written from.

Put a slice collected apart (same format as tests/replies/*.jsonl, labelled by someone
who did not write the rules) at tests/replies/holdout.jsonl, then run

    .venv/bin/python scripts/measure_heldout.py [-v]

before looking at a single miss: the first figure is the honest one. Afterwards the
slice joins the corpus under another name (round<N>_heldout.jsonl) and its misses may
be studied, by class, never by quoting a text into a rule.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import corpus


def main(argv: list[str]) -> int:
    rows = [r for r in corpus.load(holdout=True) if not r.get("excluded")]
    if not rows:
        print(f"no rows in {corpus.HERE / corpus.HOLDOUT}", file=sys.stderr)
        return 1
    category = cause = 0
    misses = []
    for row, got_category, got_cause in corpus.outcomes(rows):
        category += got_category in {row["category"], *row.get("also_category", ())}
        right = got_cause in {row["cause"], *row.get("also", ())}
        cause += right
        if not right or got_category not in {row["category"], *row.get("also_category", ())}:
            misses.append((row["id"], row["cause"], got_cause))
    n = len(rows)
    print(f"held-out: {n} replies; category {category / n:.1%}, cause {cause / n:.1%}")
    if "-v" in argv:
        for row_id, wanted, got in misses:
            print(f"  {row_id}: wanted {wanted}, got {got}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
