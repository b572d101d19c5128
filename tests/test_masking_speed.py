"""The masker's quick test: it skips the patterns only when they could not match."""

from __future__ import annotations

import re
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from mailprobe._masking import MASK, Masker, fold


def test_the_fold_keeps_every_pair_the_case_insensitive_pattern_matches() -> None:
    # Characters that re.IGNORECASE may take as equal share a lower case, an upper
    # case or a case fold; in each such group, a match must mean equal folds.
    groups: dict[str, set[str]] = defaultdict(set)
    for code in range(0x110000):
        char = chr(code)
        for key in (char.lower()[:1], char.upper()[:1], char.casefold()[:1]):
            groups[key].add(char)
    for members in groups.values():
        if len(members) < 2:
            continue
        for a in members:
            for b in members:
                if a != b and re.fullmatch(re.escape(a), b, re.IGNORECASE):
                    assert fold(a) == fold(b), (hex(ord(a)), hex(ord(b)))


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=300, deadline=None)
@given(secret=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
       before=_TEXT, after=_TEXT, flips=st.lists(st.booleans(), max_size=12))
def test_a_secret_in_any_letter_case_is_masked(
    secret: str, before: str, after: str, flips: list[bool]
) -> None:
    shown = "".join(
        (ch.swapcase() if len(ch.swapcase()) == 1 else ch) if flip else ch
        for ch, flip in zip(secret, [*flips, *[False] * len(secret)])
    )
    masker = Masker([secret])
    text = f"{before}{shown}{after}"
    expected = re.compile(re.escape(secret), re.IGNORECASE).search(text) is not None
    masked = masker.mask(text)
    if expected:
        assert MASK in masked
        assert re.compile(re.escape(secret), re.IGNORECASE).search(masked) is None or (
            secret in MASK
        )


def test_a_text_without_a_secret_comes_back_as_it_is_without_compiling() -> None:
    masker = Masker(["correct horse"])
    greeting = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot ready."
    assert masker.mask(greeting) is greeting
    assert masker._forms is not None and masker._forms._patterns is None
    assert masker.mask("no CORRECT HORSE here") == f"no {MASK} here"
