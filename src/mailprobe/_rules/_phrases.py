"""Replies in other languages: ``phrases.json`` holds, per cause and per language, the
patterns of the words servers use; a rule names a set with ``"phrases"``.

The sets are large (hundreds of patterns), so a set is compiled the first time a reply
could need it, and a reply it cannot concern is not searched: one in plain English
(ASCII, with English function words) or, for Russian, Chinese, Japanese and Korean, one
without a letter of that script.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any, Optional

# A language's letters: its patterns cannot match a reply without one.
_SCRIPTS = {
    "ru": re.compile("[\u0400-\u04ff]"),
    "zh": re.compile("[\u3400-\u9fff\uf900-\ufaff]"),
    "ja": re.compile("[\u3040-\u30ff\u3400-\u9fff]"),
    "ko": re.compile("[\u1100-\u11ff\uac00-\ud7af]"),
}
# Words English replies are made of and the other languages' replies are not (no
# loanwords such as "login", "server" or "spam").
_ENGLISH = re.compile(
    r"\b(?:the|you|your|this|that|please|have|has|been|were|with|are|not|and|for|from"
    r"|cannot|our|we|too|many|must|may|can|should|could|would|failed|failure|denied"
    r"|rejected|refused|unknown|user|address|mailbox|sender|recipient|authentication"
    r"|password|blocked|exceeded|temporarily|try|again|later|unavailable|permission)\b",
    re.I,
)


def _read(name: str) -> Any:
    from importlib import resources  # noqa: PLC0415  (slow to import; needed once)

    text = resources.files("mailprobe._rules").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def phrases() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """``phrases.json``: per name (a cause), per language, the patterns, read once."""
    data = _read("phrases.json")["phrases"]
    return {name: {lang: tuple(p) for lang, p in langs.items()} for name, langs in data.items()}


def looks_english(text: str) -> bool:
    """Plain ASCII with at least two different English function words."""
    if not text.isascii():
        return False
    return len({word.lower() for word in _ENGLISH.findall(text)}) >= 2


class PhraseSet:
    """The phrases of one name in every language, searched as one pattern for the
    languages written in Latin letters and one per other script."""

    def __init__(self, name: str, languages: Mapping[str, tuple[str, ...]]) -> None:
        self.name = name
        self.languages = tuple(sorted(languages))
        self._source = dict(languages)
        self._compiled: Optional[tuple[Optional[re.Pattern[str]], dict[str, re.Pattern[str]]]]
        self._compiled = None

    def _patterns(self) -> tuple[Optional[re.Pattern[str]], dict[str, re.Pattern[str]]]:
        if self._compiled is None:

            def group(lang: str) -> str:
                return f"(?P<{lang}>" + "|".join(f"(?:{p})" for p in self._source[lang]) + ")"

            # A phrase in a Latin-letter language starts a word: the guard in front
            # lets the search skip the inside of words at once.
            latin = "|".join(group(lang) for lang in self.languages if lang not in _SCRIPTS)
            scripts = {
                lang: re.compile(group(lang), re.I) for lang in self.languages if lang in _SCRIPTS
            }
            compiled = re.compile(rf"(?<!\w)(?:{latin})", re.I) if latin else None
            self._compiled = (compiled, scripts)
        return self._compiled

    def search(self, text: str) -> Optional[tuple[str, str]]:
        """The language and the words that matched, or None."""
        if looks_english(text):
            return None
        latin, scripts = self._patterns()
        found = latin.search(text) if latin is not None else None
        if found is not None:
            return str(found.lastgroup), found.group(0)
        for lang, pattern in scripts.items():
            if _SCRIPTS[lang].search(text):
                found = pattern.search(text)
                if found is not None:
                    return lang, found.group(0)
        return None


@functools.cache
def phrase_set(name: str) -> PhraseSet:
    """The set named ``name``; ValueError when ``phrases.json`` has none."""
    try:
        languages = phrases()[name]
    except KeyError:
        raise ValueError(f"no phrases named {name!r} in phrases.json") from None
    return PhraseSet(name, languages)
