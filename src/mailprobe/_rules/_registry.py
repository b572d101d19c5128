"""The rule registry: an ordered set of rules that turn a failure into a diagnosis.

Ordering follows pluggy's example: explicit priorities (higher first), and at
equal priority the later registration first, so an app's rule beats a built-in
one. The first rule that returns a ``Diagnosis`` wins; a fallback that always
answers sits below every rule. Registries are instances, never module globals.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Callable, Literal, Optional, TypeVar, Union, overload

import attrs

from .. import _log
from .._enums import ErrorCategory, Security, Stage
from .._errors import ProbeError, ReplyError, RuleError
from .._models import Diagnosis, Evidence, Message, str_tuple
from .._providers import Provider


@attrs.frozen(kw_only=True)
class Failure:
    """What a rule sees: the failed stage, the error, and the settings that led there.

    ``code``, ``enhanced_status``, ``response_code``, ``status``, ``command`` and
    ``text`` are read from the error when it is a ``ReplyError``. ``provider`` is
    the recognised mail provider, if any; ``greeting`` what the server said first,
    when it said anything. No password is ever part of a ``Failure``;
    ``password_has_spaces`` only says whether it contains a space.
    ``verified_hosts`` names the servers whose certificate the probe's other protocol
    verified (the IMAP server's name when SMTP fails, and the other way round);
    ``other_host`` is the server typed for the other protocol.
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
    greeting: Optional[str] = None
    verified_hosts: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    other_host: str = ""

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
        """Values for message templates: ``{proto}``, ``{host}``, ``{port}``,
        ``{server_words}`` and the others the cause catalogue documents."""
        from ._facts import facts  # noqa: PLC0415  (the facts module imports this one)

        return facts(self)


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
        self._order: Optional[tuple[Rule, ...]] = None  # ``rules``, kept until a change
        for rule in rules:
            self.add(rule)

    def add(self, rule: Rule, *, replace: bool = False) -> Rule:
        """Register ``rule``. An existing id raises ``RuleError`` unless ``replace``."""
        if not isinstance(rule, Rule):
            raise TypeError(f"expected a Rule, not {type(rule).__name__}")
        if rule.id in self._rules and not replace:
            raise RuleError(f"a rule with id {rule.id!r} is already registered")
        self._rules[rule.id] = (next(self._counter), rule)
        self._order = None
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
        removed = self._rules.pop(rule_id)[1]
        self._order = None
        return removed

    def copy(self) -> RuleRegistry:
        """An independent registry with the same rules in the same order."""
        clone = RuleRegistry()
        for _seq, rule in sorted(self._rules.values(), key=lambda item: item[0]):
            clone.add(rule)
        return clone

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules in the order they are tried."""
        order = self._order
        if order is None:  # sorted once per change, not once per failure
            ordered = sorted(self._rules.values(), key=lambda item: (-item[1].priority, -item[0]))
            order = self._order = tuple(rule for _seq, rule in ordered)
        return order

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __repr__(self) -> str:
        return f"<RuleRegistry {len(self)} rules>"

    def classify(self, failure: Failure) -> Diagnosis:
        """The first diagnosis a rule gives for ``failure``; the fallback if none does.

        A rule that raises is logged with its traceback and skipped; so is one that
        returns something other than a ``Diagnosis``.
        """
        for rule in self.rules:
            if not rule.applies_to(failure.stage):
                continue
            _outcome, diagnosis = _try(rule, failure)
            if diagnosis is not None:
                return _finish(diagnosis, rule, failure)
        return fallback(failure)

    def explain(self, failure: Failure) -> tuple[RuleTrial, ...]:
        """Every rule in the order ``classify`` tries them, and what each did with
        ``failure`` (for app developers debugging their own rules). Trying stops at
        the first match, as in ``classify``; the fallback is listed last if reached."""
        trials: list[RuleTrial] = []
        for rule in self.rules:
            if not rule.applies_to(failure.stage):
                trials.append(RuleTrial(rule_id=rule.id, priority=rule.priority, outcome="skipped"))
                continue
            outcome, diagnosis = _try(rule, failure)
            if diagnosis is not None:
                final = _finish(diagnosis, rule, failure)
                trials.append(
                    RuleTrial(
                        rule_id=rule.id, priority=rule.priority, outcome=outcome, diagnosis=final
                    )
                )
                return tuple(trials)
            trials.append(RuleTrial(rule_id=rule.id, priority=rule.priority, outcome=outcome))
        final = fallback(failure)
        trials.append(
            RuleTrial(rule_id=final.rule_id, priority=None, outcome="matched", diagnosis=final)
        )
        return tuple(trials)


Outcome = Literal["matched", "no_match", "skipped", "raised", "invalid"]


@attrs.frozen(kw_only=True)
class RuleTrial:
    """What one rule did with a failure (``RuleRegistry.explain``).

    ``outcome`` is ``"matched"`` (``diagnosis`` holds its answer), ``"no_match"``,
    ``"skipped"`` (the rule does not apply to the stage), ``"raised"`` (logged with
    its traceback) or ``"invalid"`` (it returned something other than a Diagnosis).
    ``priority`` is None for the fallback.
    """

    rule_id: str
    priority: Optional[int]
    outcome: Outcome
    diagnosis: Optional[Diagnosis] = None


def _try(rule: Rule, failure: Failure) -> tuple[Outcome, Optional[Diagnosis]]:
    try:
        diagnosis = rule.check(failure)
    except Exception:
        # A broken rule must not break the probe; the next rule gets its turn.
        _log.log(_log.WARNING, "rule %s raised; skipped", rule.id, exc_info=True)
        return "raised", None
    if diagnosis is None:
        return "no_match", None
    if not isinstance(diagnosis, Diagnosis):
        _log.log(
            _log.WARNING,
            "rule %s returned %s, not a Diagnosis; skipped", rule.id, type(diagnosis).__name__
        )
        return "invalid", None
    return "matched", diagnosis


def _finish(diagnosis: Diagnosis, rule: Rule, failure: Failure) -> Diagnosis:
    """Stamp the rule's id, the provider and (for an app's rule that gave none) the
    evidence on a rule's answer."""
    provider = diagnosis.provider or (failure.provider.id if failure.provider else None)
    evidence = diagnosis.evidence or Evidence(rule_id=rule.id)
    return attrs.evolve(diagnosis, rule_id=rule.id, provider=provider, evidence=evidence)


def fallback(failure: Failure) -> Diagnosis:
    """The lowest-priority answer: the stage's category, cause ``unknown``."""
    from ._advice import diagnose  # noqa: PLC0415  (the advice module imports this one)

    rule_id = f"fallback.{failure.stage.value}"
    try:
        diagnosis = diagnose(failure, "unknown", evidence=(rule_id, {}, ""))
    except Exception:
        # Whatever a server sent, classification ends in a diagnosis.
        _log.log(
            _log.WARNING, "the fallback diagnosis failed; a minimal one is used", exc_info=True
        )
        summary = "The check failed; no more is known."
        diagnosis = Diagnosis(
            category=ErrorCategory.for_stage(failure.stage),
            cause="unknown",
            summary=summary,
            summary_message=Message(id="generic.summary"),
            evidence=Evidence(rule_id=rule_id),
        )
    return attrs.evolve(diagnosis, rule_id=rule_id)
