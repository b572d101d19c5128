"""The built-in rules (data, see ``_table.py``) and the small matchers apps compose
their own rules from (``when``, ``any_of``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Callable, Optional

from ._phrases import phrase_set
from ._registry import Failure, Rule, RuleRegistry
from ._table import code_tables, data_rules

Matcher = Callable[[Failure], bool]


def when(
    *,
    errors: tuple[type[BaseException], ...] = (),
    codes: Iterable[int] = (),
    enhanced: Iterable[str] = (),
    response_codes: Iterable[str] = (),
    commands: Iterable[str] = (),
    text: Optional[str] = None,
    phrases: Optional[str] = None,
    test: Optional[Matcher] = None,
) -> Matcher:
    """A matcher true when every given criterion holds (criteria left out always hold).

    ``text`` is a case-insensitive regular expression searched in the server's words;
    ``phrases`` names a built-in set of other languages' words for a cause (a key of
    ``phrases.json``, such as ``"sending_limit_exceeded"``).
    """
    code_set, enhanced_set = frozenset(codes), frozenset(enhanced)
    response_set, command_set = frozenset(response_codes), frozenset(commands)
    pattern = re.compile(text, re.I) if text else None
    words = phrase_set(phrases) if phrases else None

    def match(f: Failure) -> bool:
        return (
            (not errors or isinstance(f.error, errors))
            and (not code_set or f.code in code_set)
            and (not enhanced_set or f.enhanced_status in enhanced_set)
            and (not response_set or f.response_code in response_set)
            and (not command_set or f.command in command_set)
            and (pattern is None or bool(pattern.search(f.text)))
            and (words is None or words.search(f.text) is not None)
            and (test is None or test(f))
        )

    return match


def any_of(*matchers: Matcher) -> Matcher:
    """A matcher true when one of ``matchers`` is."""
    return lambda f: any(m(f) for m in matchers)


def builtin_rules() -> tuple[Rule, ...]:
    """The built-in rules: the rows of the rule table and the standards' code tables."""
    return tuple(row.rule() for row in data_rules()) + tuple(t.rule() for t in code_tables())


def default_registry() -> RuleRegistry:
    """A new registry holding the built-in rules; add your own to it or to a ``copy()``."""
    return RuleRegistry(builtin_rules())
