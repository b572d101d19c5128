"""Frozen result values: what each stage did, what went wrong and what to do about it."""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from typing import Any, Optional, Union

import attrs
from typing_extensions import Literal, TypeAlias

from ._enums import ErrorCategory, Security, Stage, StageStatus
from ._errors import ProbeError, ReplyError

#: A JSON-safe value as stored in ``StageResult.details`` (sequences are tuples).
JSONValue: TypeAlias = Union[
    None, bool, int, float, str, "tuple[JSONValue, ...]", "Mapping[str, JSONValue]"
]


def freeze(value: Any) -> JSONValue:
    """A deep read-only copy: mappings become mapping proxies, lists become tuples."""
    if isinstance(value, Mapping):
        return types.MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return tuple(freeze(v) for v in items)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def thaw(value: JSONValue) -> Any:
    """The plain ``dict``/``list`` form of a frozen value, for ``json.dumps``."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


def str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    """Converter: any iterable of strings as a tuple."""
    return tuple(value)


def _frozen_mapping(value: Mapping[str, Any]) -> Mapping[str, JSONValue]:
    frozen = freeze(value)
    assert isinstance(frozen, Mapping)
    return frozen


@attrs.frozen(kw_only=True)
class ErrorDetail:
    """What failed, as data: the exception's type and message and the server's reply."""

    type: str
    message: str
    command: Optional[str] = None
    code: Optional[int] = None
    enhanced_status: Optional[str] = None
    response_code: Optional[str] = None
    server_text: Optional[str] = None
    challenge: Optional[str] = None

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorDetail:
        """Describe ``exc``; only ``ProbeError`` messages are kept verbatim."""
        if not isinstance(exc, ProbeError):
            # An unexpected exception's text may quote its input (a password,
            # say), so only its type is kept.
            return cls(type=type(exc).__name__, message="unexpected error in the transport")
        reply = exc if isinstance(exc, ReplyError) else None
        return cls(
            type=type(exc).__name__,
            message=str(exc),
            command=exc.command,
            code=reply.code if reply else None,
            enhanced_status=reply.enhanced_status if reply else None,
            response_code=reply.response_code if reply else None,
            server_text=reply.text if reply else None,
            challenge=reply.challenge if reply else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict`` with every field."""
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class ServerDefaults:
    """A server as host, port and security: a provider's usual one, or a suggestion."""

    host: str
    port: int
    security: Security = attrs.field(converter=Security)

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "security": self.security.value}


def _title(instance: Diagnosis) -> str:
    return instance.category.label


def _str_mapping(value: Mapping[str, object]) -> Mapping[str, str]:
    return types.MappingProxyType({str(k): str(v) for k, v in value.items()})


@attrs.frozen(kw_only=True)
class Message:
    """A translatable text: a stable message id and the named values filled into it.

    ``Diagnosis.summary`` and ``Diagnosis.hints`` are rendered from messages; an app
    that shows them in another language renders the same ids from its own catalogue.
    """

    id: str
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_str_mapping, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict``: ``{"id": ..., "params": {...}}``."""
        return {"id": self.id, "params": dict(self.params)}


@attrs.frozen(kw_only=True)
class Evidence:
    """What decided a diagnosis: the rule, what it matched, and where its knowledge
    comes from (an RFC section, a provider's published list)."""

    rule_id: str
    matched: Mapping[str, str] = attrs.field(factory=dict, converter=_str_mapping, hash=False)
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict`` with every field."""
        return {"rule_id": self.rule_id, "matched": dict(self.matched), "source": self.source}


def _message_tuple(value: Iterable[Message]) -> tuple[Message, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Diagnosis:
    """Why a stage failed and what a person can do about it.

    ``category`` is the support-guide name of the error, ``cause`` a finer slug
    (``"invalid_credentials"``), ``hints`` concrete steps in order, ``links``
    help pages, ``temporary`` True when retrying later may work without changing
    anything, ``provider`` the id of the recognised provider (``"gmail"``),
    ``suggestion`` a port and security mode found to work (``probe(suggest=True)``),
    ``rule_id`` the rule that decided. ``summary`` is one plain sentence saying what
    happened and what to do; ``summary_message`` and ``hint_messages`` are the same
    texts as message ids with their values, for translation; ``evidence`` says what
    decided.
    """

    category: ErrorCategory
    cause: str
    hints: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    links: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    title: str = attrs.field(default=attrs.Factory(_title, takes_self=True))
    temporary: bool = False
    provider: Optional[str] = None
    suggestion: Optional[ServerDefaults] = None
    rule_id: str = ""
    summary: str = ""
    summary_message: Optional[Message] = None
    hint_messages: tuple[Message, ...] = attrs.field(default=(), converter=_message_tuple)
    evidence: Optional[Evidence] = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict`` with every field."""
        return {
            "category": self.category.value,
            "cause": self.cause,
            "title": self.title,
            "summary": self.summary,
            "hints": list(self.hints),
            "links": list(self.links),
            "temporary": self.temporary,
            "provider": self.provider,
            "suggestion": self.suggestion.to_dict() if self.suggestion else None,
            "rule_id": self.rule_id,
            "summary_message": self.summary_message.to_dict() if self.summary_message else None,
            "hint_messages": [m.to_dict() for m in self.hint_messages],
            "evidence": self.evidence.to_dict() if self.evidence else None,
        }


@attrs.frozen(kw_only=True)
class StageResult:
    """One stage's outcome. ``details`` is a read-only, JSON-safe mapping of what was seen."""

    stage: Stage
    status: StageStatus
    duration: float = 0.0
    error: Optional[ErrorDetail] = None
    diagnosis: Optional[Diagnosis] = None
    details: Mapping[str, JSONValue] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False
    )

    @property
    def passed(self) -> bool:
        return self.status is StageStatus.PASSED

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict`` with every field."""
        return {
            "stage": self.stage.value,
            "status": self.status.value,
            "duration": round(self.duration, 6),
            "error": self.error.to_dict() if self.error else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "details": thaw(self.details),
        }


def _stage_tuple(value: Iterable[StageResult]) -> tuple[StageResult, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ProbeResult:
    """All six stages in canonical order and the diagnosis of the first failure."""

    stages: tuple[StageResult, ...] = attrs.field(converter=_stage_tuple)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no stage failed (skipped stages do not count as failures)."""
        return all(s.status is not StageStatus.FAILED for s in self.stages)

    @property
    def diagnosis(self) -> Optional[Diagnosis]:
        """The first failed stage's diagnosis, in canonical stage order."""
        for result in self.stages:
            if result.diagnosis is not None:
                return result.diagnosis
        return None

    def stage(self, stage: Stage) -> StageResult:
        """The result of ``stage``."""
        for result in self.stages:
            if result.stage is stage:
                return result
        raise KeyError(stage)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict`` with stable keys; holds no secret."""
        diagnosis = self.diagnosis
        return {
            "ok": self.ok,
            "duration": round(self.duration, 6),
            "diagnosis": diagnosis.to_dict() if diagnosis else None,
            "stages": [s.to_dict() for s in self.stages],
        }


@attrs.frozen(kw_only=True)
class ProbeEvent:
    """Sent to ``on_event`` when a stage starts (``result`` is None) and when it ends."""

    stage: Stage
    kind: Literal["started", "finished"]
    result: Optional[StageResult] = None
