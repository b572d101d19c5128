"""The rule registry: an ordered set of rules that turn a failure into a diagnosis.

Ordering follows pluggy's example: explicit priorities (higher first), and at
equal priority the later registration first, so an app's rule beats a built-in
one. The first rule that returns a ``Diagnosis`` wins; a fallback that always
answers sits below every rule. Registries are instances, never module globals.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterable, Iterator
from typing import Callable, Optional, TypeVar, Union, overload

import attrs

from .._enums import Security, Stage
from .._errors import (
    CapabilityError,
    DeadlineExceeded,
    ProbeError,
    ReplyError,
    RuleError,
    TLSError,
)
from .._models import Diagnosis, str_tuple
from .._providers import Provider
from ._hints import diagnose

logger = logging.getLogger("mailprobe")


@attrs.frozen(kw_only=True)
class Failure:
    """What a rule sees: the failed stage, the error, and the settings that led there.

    ``code``, ``enhanced_status``, ``response_code``, ``status``, ``command`` and
    ``text`` are read from the error when it is a ``ReplyError``. ``provider`` is
    the recognised mail provider, if any. No password is ever part of a
    ``Failure``; ``password_has_spaces`` only says whether it contains a space.
    """

    stage: Stage
    error: BaseException
    host: str
    port: int
    security: Security
    login: str = ""
    email: str = ""
    test_recipient: Optional[str] = None
    capabilities: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    provider: Optional[Provider] = attrs.field(default=None, eq=False)
    password_has_spaces: bool = False
    oauth2: bool = False

    @property
    def challenge(self) -> Optional[str]:
        """The decoded OAuth error challenge (RFC 7628 JSON), when there was one."""
        return self.reply.challenge if self.reply else None

    @property
    def reply(self) -> Optional[ReplyError]:
        return self.error if isinstance(self.error, ReplyError) else None

    @property
    def code(self) -> Optional[int]:
        """The SMTP reply code, e.g. 535."""
        return self.reply.code if self.reply else None

    @property
    def enhanced_status(self) -> Optional[str]:
        """The RFC 3463 enhanced status code, e.g. ``"5.7.8"``."""
        return self.reply.enhanced_status if self.reply else None

    @property
    def response_code(self) -> Optional[str]:
        """The IMAP response code (RFC 5530), e.g. ``"AUTHENTICATIONFAILED"``."""
        return self.reply.response_code if self.reply else None

    @property
    def status(self) -> Optional[str]:
        """The IMAP status (``"NO"``, ``"BAD"``, ``"BYE"``) or SMTP code as text."""
        return self.reply.status if self.reply else None

    @property
    def command(self) -> Optional[str]:
        return self.error.command if isinstance(self.error, ProbeError) else None

    @property
    def text(self) -> str:
        """The server's words when it said something, else the error message."""
        text = getattr(self.error, "text", None)  # ReplyError, ConnectionLimitError
        if isinstance(text, str):
            return text
        return str(self.error) if isinstance(self.error, ProbeError) else ""

    @property
    def protocol(self) -> str:
        return self.stage.protocol

    def facts(self) -> dict[str, str]:
        """Values for hint templates: ``{proto}``, ``{host}``, ``{port}``, ``{text}``..."""
        error = self.error
        return {
            "proto": self.protocol.upper(),
            "host": self.host,
            "port": str(self.port),
            "ports": _USUAL_PORTS[self.protocol],
            "security": self.security.value.upper(),
            "login": self.login,
            "email": self.email,
            "recipient": self.test_recipient or "",
            "text": self.text.strip()[:300],
            "during": error.during if isinstance(error, DeadlineExceeded) else "",
            "missing": ", ".join(error.missing) if isinstance(error, CapabilityError) else "",
            "tls_reason": error.reason if isinstance(error, TLSError) else "",
            "scope": _challenge_field(self.challenge, "scope"),
        }


def _challenge_field(challenge: Optional[str], key: str) -> str:
    try:
        value = json.loads(challenge or "").get(key, "")
    except (ValueError, AttributeError):
        return ""
    return str(value)


_USUAL_PORTS = {
    "imap": "993 with TLS or 143 with STARTTLS",
    "smtp": "465 with TLS, or 587 (sometimes 25) with STARTTLS",
}

RuleCheck = Callable[[Failure], Optional[Diagnosis]]
F = TypeVar("F", bound=RuleCheck)


def _stage_set(value: Optional[Iterable[Stage]]) -> Optional[frozenset[Stage]]:
    return None if value is None else frozenset(value)


@attrs.frozen(kw_only=True)
class Rule:
    """A classifier: ``check(failure)`` returns a ``Diagnosis`` or None to pass.

    ``stages`` limits the rule to some stages (None: every stage); ``priority``
    orders rules, higher first.
    """

    id: str
    check: RuleCheck = attrs.field(eq=False)
    priority: int = 0
    stages: Optional[frozenset[Stage]] = attrs.field(default=None, converter=_stage_set)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise RuleError("a rule needs a non-empty string id")
        if not callable(self.check):
            raise TypeError(f"rule {self.id!r}: check must be callable")
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise TypeError(f"rule {self.id!r}: priority must be an int")
        if self.stages is not None and not all(isinstance(s, Stage) for s in self.stages):
            raise TypeError(f"rule {self.id!r}: stages must be Stage members")

    def applies_to(self, stage: Stage) -> bool:
        return self.stages is None or stage in self.stages


class RuleRegistry:
    """An ordered, copyable set of rules. ``default_registry()`` gives one with the built-ins."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self._counter = itertools.count()
        self._rules: dict[str, tuple[int, Rule]] = {}
        for rule in rules:
            self.add(rule)

    def add(self, rule: Rule, *, replace: bool = False) -> Rule:
        """Register ``rule``. An existing id raises ``RuleError`` unless ``replace``."""
        if not isinstance(rule, Rule):
            raise TypeError(f"expected a Rule, not {type(rule).__name__}")
        if rule.id in self._rules and not replace:
            raise RuleError(f"a rule with id {rule.id!r} is already registered")
        self._rules[rule.id] = (next(self._counter), rule)
        return rule

    @overload
    def register(
        self,
        check: F,
        *,
        id: str,
        priority: int = 0,
        stages: Optional[Iterable[Stage]] = None,
        replace: bool = False,
    ) -> F: ...

    @overload
    def register(
        self,
        check: None = None,
        *,
        id: str,
        priority: int = 0,
        stages: Optional[Iterable[Stage]] = None,
        replace: bool = False,
    ) -> Callable[[F], F]: ...

    def register(
        self,
        check: Optional[F] = None,
        *,
        id: str,
        priority: int = 0,
        stages: Optional[Iterable[Stage]] = None,
        replace: bool = False,
    ) -> Union[F, Callable[[F], F]]:
        """Register a check function; usable directly or as ``@registry.register(id=...)``."""

        def decorate(fn: F) -> F:
            self.add(
                Rule(
                    id=id,
                    check=fn,
                    priority=priority,
                    stages=None if stages is None else frozenset(stages),
                ),
                replace=replace,
            )
            return fn

        return decorate if check is None else decorate(check)

    def remove(self, rule_id: str) -> Rule:
        """Unregister and return the rule ``rule_id``; ``KeyError`` if absent."""
        return self._rules.pop(rule_id)[1]

    def copy(self) -> RuleRegistry:
        """An independent registry with the same rules in the same order."""
        clone = RuleRegistry()
        for _seq, rule in sorted(self._rules.values(), key=lambda item: item[0]):
            clone.add(rule)
        return clone

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules in the order they are tried."""
        ordered = sorted(self._rules.values(), key=lambda item: (-item[1].priority, -item[0]))
        return tuple(rule for _seq, rule in ordered)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __repr__(self) -> str:
        return f"<RuleRegistry {len(self)} rules>"

    def classify(self, failure: Failure) -> Diagnosis:
        """The first diagnosis a rule gives for ``failure``; the fallback if none does."""
        for rule in self.rules:
            if not rule.applies_to(failure.stage):
                continue
            try:
                diagnosis = rule.check(failure)
            except Exception as exc:
                # A broken rule must not break the probe; the next rule gets its turn.
                logger.warning("rule %s raised %s; skipped", rule.id, type(exc).__name__)
                continue
            if diagnosis is None:
                continue
            if not isinstance(diagnosis, Diagnosis):
                logger.warning(
                    "rule %s returned %s, not a Diagnosis; skipped",
                    rule.id,
                    type(diagnosis).__name__,
                )
                continue
            provider = diagnosis.provider or (failure.provider.id if failure.provider else None)
            return attrs.evolve(diagnosis, rule_id=rule.id, provider=provider)
        return fallback(failure)


def fallback(failure: Failure) -> Diagnosis:
    """The lowest-priority answer: the stage's category, cause ``unknown``."""
    return attrs.evolve(diagnose(failure, "unknown"), rule_id=f"fallback.{failure.stage.value}")
