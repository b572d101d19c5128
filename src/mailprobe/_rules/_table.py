"""The built-in rule tables, read from the package's data files and compiled once.

``rules.json`` holds the rules written from real replies: each row is a set of
matchers (stage, protocol, command, reply code, enhanced status, IMAP response code,
provider, error kind, a case-insensitive text pattern, named conditions), a cause,
an optional category, a priority and the source the row was written from.
``codes.json`` holds the standards: every code of the IANA SMTP Enhanced Status Codes
registry, every reply code RFC 5321, 4954 and 3207 define, and every IMAP response
code of RFC 3501, 9051 and 5530 (plus common non-standard ones), each mapped to a
cause or to ``null`` ("no finer cause than the stage's").
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Optional

import attrs

from .._enums import ErrorCategory, Stage
from .._errors import (
    CapabilityError,
    CertificateError,
    ConnectionLimitError,
    DeadlineExceeded,
    DeliveryError,
    DisconnectedError,
    HostNotFoundError,
    NetworkError,
    ProtocolError,
    RefusedError,
    ReplyError,
    StartTLSError,
    TLSError,
)
from .._models import Diagnosis
from ._advice import causes, diagnose
from ._facts import PREDICATES, stage_set
from ._phrases import phrase_set
from ._registry import Failure, Rule

#: Error kinds a data rule may name, most specific first where they nest.
ERROR_KINDS: dict[str, type[BaseException]] = {
    "reply": ReplyError,
    "capability": CapabilityError,
    "certificate": CertificateError,
    "starttls": StartTLSError,
    "tls": TLSError,
    "deadline": DeadlineExceeded,
    "dns": HostNotFoundError,
    "refused": RefusedError,
    "disconnected": DisconnectedError,
    "network": NetworkError,
    "protocol": ProtocolError,
    "delivery": DeliveryError,
    "connection_limit": ConnectionLimitError,
}

#: The criteria a rule row may give, in the order the catalogue shows them.
MATCHER_KEYS = (
    "protocol",
    "commands",
    "codes",
    "code_class",
    "enhanced",
    "response_codes",
    "errors",
    "reasons",
    "missing",
    "providers",
    "text",
    "phrases",
    "unless",
    "if",
)
_KEYS = {"id", "cause", "priority", "source", "stages", "category", *MATCHER_KEYS}

Evidence = dict[str, str]
Matcher = Callable[[Failure], Optional[Evidence]]


def _enhanced_pattern(patterns: Iterable[str]) -> re.Pattern[str]:
    # "5.7.8" exact, "x.7.8" any class.
    parts = [re.escape(p).replace("x", "[245]").replace("X", "[245]") for p in patterns]
    return re.compile(r"^(?:" + "|".join(parts) + r")$")


Check = Callable[[Failure], Optional[tuple[str, str]]]
_PASS = ("", "")  # a criterion that holds and has nothing to report


def _in(name: str, values: frozenset[Any], get: Callable[[Failure], Any]) -> Check:
    def check(f: Failure) -> Optional[tuple[str, str]]:
        value = get(f)
        return (name, str(value)) if value in values else None

    return check


def _checks(row: Mapping[str, Any]) -> list[Check]:
    """One small check per criterion given in ``row``; each returns what it saw."""
    checks: list[Check] = []
    if "protocol" in row:
        protocol = row["protocol"]
        checks.append(lambda f: _PASS if f.protocol == protocol else None)
    if row.get("errors"):
        kinds = tuple(ERROR_KINDS[name] for name in row["errors"])
        checks.append(
            lambda f: ("error", type(f.error).__name__) if isinstance(f.error, kinds) else None
        )
    if row.get("reasons"):
        checks.append(
            _in("reason", frozenset(row["reasons"]), lambda f: getattr(f.error, "reason", None))
        )
    if row.get("missing"):
        missing = frozenset(row["missing"])

        def gone(f: Failure) -> Optional[tuple[str, str]]:
            found = set(getattr(f.error, "missing", ()) or ()) & missing
            return ("missing", ", ".join(sorted(found))) if found else None

        checks.append(gone)
    if row.get("commands"):
        checks.append(_in("command", frozenset(row["commands"]), lambda f: f.command))
    if row.get("codes"):
        checks.append(_in("code", frozenset(row["codes"]), lambda f: f.code))
    if row.get("code_class"):
        digit = str(row["code_class"])
        checks.append(
            lambda f: (
                ("code", str(f.code)) if f.code is not None and str(f.code)[0] == digit else None
            )
        )
    if row.get("enhanced"):
        enhanced = _enhanced_pattern(row["enhanced"])
        checks.append(
            lambda f: (
                ("enhanced_status", f.enhanced_status)
                if f.enhanced_status and enhanced.match(f.enhanced_status)
                else None
            )
        )
    if row.get("response_codes"):
        checks.append(
            _in("response_code", frozenset(row["response_codes"]), lambda f: f.response_code)
        )
    if row.get("providers"):
        checks.append(
            _in(
                "provider",
                frozenset(row["providers"]),
                lambda f: f.provider.id if f.provider else None,
            )
        )
    if row.get("text"):
        pattern = re.compile(row["text"], re.I)

        def text(f: Failure) -> Optional[tuple[str, str]]:
            found = pattern.search(f.text)
            return ("text", found.group(0)) if found else None

        checks.append(text)
    if row.get("phrases"):
        words = phrase_set(row["phrases"])

        def phrase(f: Failure) -> Optional[tuple[str, str]]:
            found = words.search(f.text)
            return ("phrase", f"{found[0]}: {found[1]}") if found else None

        checks.append(phrase)
    if row.get("unless"):
        unless = re.compile(row["unless"], re.I)
        checks.append(lambda f: None if unless.search(f.text) else _PASS)
    if row.get("if"):
        names = tuple(row["if"])
        predicates = [PREDICATES[name] for name in names]
        checks.append(lambda f: ("if", ", ".join(names)) if all(p(f) for p in predicates) else None)
    return checks


def compile_matcher(row: Mapping[str, Any]) -> Matcher:
    """A function returning what matched (evidence) when every criterion in ``row``
    holds, else None. Criteria left out always hold."""
    unknown = set(row) - _KEYS
    if unknown:
        raise ValueError(f"rule {row.get('id')!r}: unknown keys {sorted(unknown)}")
    checks = _checks(row)

    def match(f: Failure) -> Optional[Evidence]:
        seen: Evidence = {}
        for check in checks:
            outcome = check(f)
            if outcome is None:
                return None
            if outcome[0]:
                seen[outcome[0]] = outcome[1]
        return seen

    return match


def _category(value: Optional[str]) -> Optional[str]:
    if value is None or value == "settings":
        return value
    return ErrorCategory(value).value


@attrs.frozen
class DataRule:
    """One row of ``rules.json``, compiled."""

    id: str
    cause: str
    priority: int
    source: str
    match: Matcher = attrs.field(eq=False, repr=False)
    stages: Optional[frozenset[Stage]] = None
    category: Optional[str] = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DataRule:
        return cls(
            id=row["id"],
            cause=row["cause"],
            priority=int(row["priority"]),
            source=row["source"],
            match=compile_matcher(row),
            stages=stage_set(row["stages"]) if row.get("stages") else None,
            category=_category(row.get("category")),
        )

    def check(self, failure: Failure) -> Optional[Diagnosis]:
        seen = self.match(failure)
        if seen is None:
            return None
        return diagnose(failure, self.cause, self.category, evidence=(self.id, seen, self.source))

    def rule(self) -> Rule:
        return Rule(id=self.id, check=self.check, priority=self.priority, stages=self.stages)


@attrs.frozen
class CodeEntry:
    """One code of a standard: its meaning, the cause it gives (None: no finer cause
    than the stage's), per-command exceptions and where it is defined."""

    code: str
    title: str
    cause: Optional[str]
    source: str
    by_command: Mapping[str, Optional[str]] = attrs.field(factory=dict, eq=False)

    def cause_for(self, command: Optional[str]) -> Optional[str]:
        if command is not None and command in self.by_command:
            return self.by_command[command]
        return self.cause


@attrs.frozen
class CodeTable:
    """A standard's codes as one rule: looks the failure's code up in the table."""

    id: str
    priority: int
    field: str  # "enhanced_status", "code" or "response_code"
    entries: Mapping[str, CodeEntry] = attrs.field(eq=False, repr=False)

    def key(self, failure: Failure) -> Optional[str]:
        value = getattr(failure, self.field)
        if value is None:
            return None
        if self.field == "enhanced_status":
            _cls, _, rest = str(value).partition(".")
            return f"X.{rest}"
        return str(value)

    def check(self, failure: Failure) -> Optional[Diagnosis]:
        key = self.key(failure)
        entry = self.entries.get(key) if key is not None else None
        cause = entry.cause_for(failure.command) if entry is not None else None
        if entry is None or cause is None:
            return None
        known = causes().get(cause)
        if known is not None and not known.fits(failure.stage):
            return None  # a message-level meaning met at login, say: not this code's case
        seen = {self.field: str(getattr(failure, self.field))}
        if failure.command in entry.by_command:
            seen["command"] = str(failure.command)
        return diagnose(
            failure, cause, None, evidence=(self.id, seen, f"{entry.source}: {entry.title}")
        )

    def rule(self) -> Rule:
        return Rule(id=self.id, check=self.check, priority=self.priority)


def _read(name: str) -> Any:
    from importlib import resources  # noqa: PLC0415  (slow to import; needed once)

    text = resources.files("mailprobe._rules").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def data_rules() -> tuple[DataRule, ...]:
    """The rows of ``rules.json``, compiled once per process."""
    return tuple(DataRule.from_row(row) for row in _read("rules.json")["rules"])


#: (table name in codes.json, rule id, priority, Failure field)
_TABLES = (
    ("imap", "standard.imap_response_code", 50, "response_code"),
    ("enhanced", "standard.enhanced_status", 45, "enhanced_status"),
    ("reply", "standard.reply_code", 25, "code"),
)


@functools.lru_cache(maxsize=1)
def code_tables() -> tuple[CodeTable, ...]:
    """The standards' code tables of ``codes.json``, loaded once per process."""
    data = _read("codes.json")
    tables = []
    for name, rule_id, priority, field in _TABLES:
        entries = {
            code: CodeEntry(
                code=code,
                title=entry["title"],
                cause=entry.get("cause"),
                source=entry["source"],
                by_command=entry.get("by_command", {}),
            )
            for code, entry in data[name].items()
        }
        tables.append(CodeTable(id=rule_id, priority=priority, field=field, entries=entries))
    return tuple(tables)
