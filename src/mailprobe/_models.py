"""Frozen result values: what each stage did, what went wrong and what to do about it.

Every value has ``to_dict()`` (JSON-safe, stable keys) and ``from_dict()``, which
rebuilds it exactly: ``ProbeResult.from_dict(r.to_dict()).to_dict() == r.to_dict()``.
``from_dict`` raises ``ValueError`` or ``TypeError`` naming the key that is wrong.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, Optional, TypeVar, overload

import attrs

from ._details import (
    CapacityDetails,
    ConnectDetails,
    DeliveryDetails,
    LoginDetails,
    SendDetails,
    StageDetails,
    ValidateDetails,
    details_for,
)
from ._enums import ErrorCategory, Security, Stage, StageStatus
from ._errors import ProbeError, ReplyError
from ._json import (
    JSONValue,
    read_field,
    read_int,
    read_mapping,
    read_optional,
    read_str,
    read_strings,
    str_tuple,
)

__all__ = [  # JSONValue and str_tuple are re-exported for the transports and rules
    "CheckResult",
    "Diagnosis",
    "ErrorDetail",
    "Evidence",
    "JSONValue",
    "Message",
    "ProbeEvent",
    "ProbeResult",
    "ServerDefaults",
    "StageResult",
    "str_tuple",
]

if TYPE_CHECKING:  # the default (PEP 696) matters only to type checkers
    from typing_extensions import TypeVar as DefaultTypeVar

    D_co = DefaultTypeVar("D_co", bound=StageDetails, covariant=True, default=StageDetails)
else:
    D_co = TypeVar("D_co", bound=StageDetails, covariant=True)


# -- values ------------------------------------------------------------------------
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ErrorDetail:
        """Rebuild from ``to_dict()`` output."""
        data = read_mapping(data, "error")
        optional = ("command", "enhanced_status", "response_code", "server_text", "challenge")
        return cls(
            type=read_field(data, "type", str, "error"),
            message=read_field(data, "message", str, "error"),
            code=read_optional(data, "code", read_int, "error"),
            **{key: read_optional(data, key, read_str, "error") for key in optional},
        )


@attrs.frozen(kw_only=True)
class ServerDefaults:
    """A server as host, port and security: a provider's usual one, or a suggestion."""

    host: str
    port: int
    security: Security = attrs.field(converter=Security)

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "security": self.security.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServerDefaults:
        """Rebuild from ``to_dict()`` output."""
        data = read_mapping(data, "suggestion")
        return cls(
            host=read_field(data, "host", str, "suggestion"),
            port=read_int(read_field(data, "port", int, "suggestion")),
            security=read_field(data, "security", str, "suggestion"),
        )


def _title(instance: Diagnosis) -> str:
    return instance.category.label


def _str_mapping(value: Mapping[str, object]) -> Mapping[str, str]:
    return types.MappingProxyType({str(k): str(v) for k, v in value.items()})


@attrs.frozen(kw_only=True)
class Message:
    """A translatable text: a stable message id and the named values filled into it.

    ``Diagnosis.summary``, ``Diagnosis.hints`` and ``ProbeResult.warnings`` are rendered
    from messages; an app that shows them in another language renders the same ids
    from its own catalogue.
    """

    id: str
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_str_mapping, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict``: ``{"id": ..., "params": {...}}``."""
        return {"id": self.id, "params": dict(self.params)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """Rebuild from ``to_dict()`` output."""
        data = read_mapping(data, "message")
        return cls(
            id=read_field(data, "id", str, "message"),
            params=read_mapping(data.get("params", {}), "message.params"),
        )


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        """Rebuild from ``to_dict()`` output."""
        data = read_mapping(data, "evidence")
        return cls(
            rule_id=read_field(data, "rule_id", str, "evidence"),
            matched=read_mapping(data.get("matched", {}), "evidence.matched"),
            source=read_str(data.get("source", "")),
        )


def _message_tuple(value: Iterable[Message]) -> tuple[Message, ...]:
    return tuple(value)


def _optional_stage(value: Optional[object]) -> Optional[Stage]:
    return None if value is None else Stage(value)


@attrs.frozen(kw_only=True)
class Diagnosis:
    """Why a stage failed and what a person can do about it.

    ``category`` is the support-guide name of the error, ``cause`` a finer slug
    (``"invalid_credentials"``), ``hints`` concrete steps in order, ``links``
    help pages, ``temporary`` True when retrying later may work without changing
    anything, ``provider`` the id of the recognised provider (``"gmail"``),
    ``suggestion`` a port and security mode found to work, ``rule_id`` the rule
    that decided. ``summary`` is one plain sentence saying what happened and what to
    do; ``summary_message`` and ``hint_messages`` are the same texts as message ids
    with their values, for translation; ``evidence`` says what decided. ``stage`` is
    the stage that failed (set by the probe; a rule need not set it).
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
    stage: Optional[Stage] = attrs.field(default=None, converter=_optional_stage)

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
            "stage": self.stage.value if self.stage else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnosis:
        """Rebuild from ``to_dict()`` output."""
        data = read_mapping(data, "diagnosis")
        what = "diagnosis"
        return cls(
            category=ErrorCategory(read_field(data, "category", str, what)),
            cause=read_field(data, "cause", str, what),
            title=read_field(data, "title", str, what),
            hints=read_strings(data.get("hints", []), "diagnosis.hints"),
            links=read_strings(data.get("links", []), "diagnosis.links"),
            temporary=bool(read_field(data, "temporary", bool, what)),
            provider=read_optional(data, "provider", read_str, what),
            suggestion=read_optional(data, "suggestion", ServerDefaults.from_dict, what),
            rule_id=read_str(data.get("rule_id", "")),
            summary=read_str(data.get("summary", "")),
            summary_message=read_optional(data, "summary_message", Message.from_dict, what),
            hint_messages=[Message.from_dict(m) for m in data.get("hint_messages", [])],
            evidence=read_optional(data, "evidence", Evidence.from_dict, what),
            stage=read_optional(data, "stage", Stage, what),
        )


def _no_details() -> Any:
    return None  # replaced in __attrs_post_init__ by the stage's empty details


@attrs.frozen(kw_only=True)
class StageResult(Generic[D_co]):
    """One stage's outcome.

    ``details`` is a frozen value of the stage's details class (``ConnectDetails``,
    ``LoginDetails``, ...); ``ProbeResult.stage(Stage.DELIVERY).details`` is typed as
    ``DeliveryDetails``. It also reads as a JSON mapping (``details["latency"]``).
    """

    stage: Stage
    status: StageStatus
    duration: float = 0.0
    error: Optional[ErrorDetail] = None
    diagnosis: Optional[Diagnosis] = None
    details: D_co = attrs.field(factory=_no_details, hash=False)

    def __attrs_post_init__(self) -> None:
        details: object = self.details
        if not isinstance(details, StageDetails):
            # None (not given) or a plain mapping, as results were built before 0.2.
            data: Mapping[str, Any] = details if isinstance(details, Mapping) else {}
            object.__setattr__(self, "details", self._details_from(data))

    def _details_from(self, data: Mapping[str, Any]) -> StageDetails:
        return details_for(self.stage, data)

    @property
    def passed(self) -> bool:
        return self.status is StageStatus.PASSED

    @property
    def failed(self) -> bool:
        return self.status is StageStatus.FAILED

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict`` with every field."""
        return {
            "stage": self.stage.value,
            "status": self.status.value,
            "duration": round(self.duration, 6),
            "error": self.error.to_dict() if self.error else None,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "details": self.details.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageResult:
        """Rebuild from ``to_dict()`` output."""
        return StageResult(**_stage_fields(read_mapping(data, "stage result"), "stage result"))


def _stage_fields(data: Mapping[str, Any], what: str, *, plain: bool = False) -> dict[str, Any]:
    stage = Stage(read_field(data, "stage", str, what))
    duration = read_field(data, "duration", (int, float), what)
    try:
        raw = read_mapping(data.get("details", {}), f"{what}.details")
        details = StageDetails.from_dict(raw) if plain else details_for(stage, raw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}.details: {exc}") from None
    return {
        "stage": stage,
        "status": StageStatus(read_field(data, "status", str, what)),
        "duration": float(duration),
        "error": read_optional(data, "error", ErrorDetail.from_dict, what),
        "diagnosis": read_optional(data, "diagnosis", Diagnosis.from_dict, what),
        "details": details,
    }


@attrs.frozen(kw_only=True)
class CheckResult(StageResult[StageDetails]):
    """The outcome of an app's own check (``Prober(checks=...)``): ``name`` is the
    check's, ``stage`` the stage it follows (its failures are diagnosed as that
    stage's), and ``details.extra`` (or ``details["key"]``) holds what it recorded."""

    name: str = ""

    def _details_from(self, data: Mapping[str, Any]) -> StageDetails:
        return StageDetails.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict``: the stage result's keys plus ``name``."""
        return {"name": self.name, **super().to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """Rebuild from ``to_dict()`` output."""
        data = read_mapping(data, "check result")
        fields = _stage_fields(data, "check result", plain=True)
        return cls(name=read_field(data, "name", str, "check result"), **fields)


def _stage_tuple(value: Iterable[StageResult]) -> tuple[StageResult, ...]:
    return tuple(value)


def _check_tuple(value: Iterable[CheckResult]) -> tuple[CheckResult, ...]:
    return tuple(value)


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ProbeResult:
    """All stages in canonical order, the app's own checks, the diagnosis of the first
    failure and the warnings worth showing beside "connected".

    ``warnings`` are plain sentences (an untrusted certificate that was allowed, a
    certificate about to expire, a connection without encryption, a security mode the
    probe had to find); ``warning_messages`` are the same as message ids with their
    values, in the same order, for translation.
    """

    stages: tuple[StageResult, ...] = attrs.field(converter=_stage_tuple)
    duration: float = 0.0
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    warning_messages: tuple[Message, ...] = attrs.field(default=(), converter=_message_tuple)
    checks: tuple[CheckResult, ...] = attrs.field(default=(), converter=_check_tuple)

    @property
    def ok(self) -> bool:
        """True when no stage and no check failed (skipped ones do not count)."""
        return self.failed_stage is None

    @property
    def failed_stage(self) -> Optional[StageResult]:
        """The first failed stage in canonical order (then the first failed check), or
        None when nothing failed: the one whose ``diagnosis`` is the headline."""
        for result in (*self.stages, *self.checks):
            if result.status is StageStatus.FAILED:
                return result
        return None

    @property
    def diagnosis(self) -> Optional[Diagnosis]:
        """The first failed stage's diagnosis, in canonical stage order."""
        for result in (*self.stages, *self.checks):
            if result.diagnosis is not None:
                return result.diagnosis
        return None

    @overload
    def stage(
        self, stage: Literal[Stage.IMAP_CONNECT, Stage.SMTP_CONNECT]
    ) -> StageResult[ConnectDetails]: ...

    @overload
    def stage(
        self, stage: Literal[Stage.IMAP_LOGIN, Stage.SMTP_LOGIN]
    ) -> StageResult[LoginDetails]: ...

    @overload
    def stage(self, stage: Literal[Stage.IMAP_VALIDATE]) -> StageResult[ValidateDetails]: ...

    @overload
    def stage(self, stage: Literal[Stage.TEST_EMAIL]) -> StageResult[SendDetails]: ...

    @overload
    def stage(self, stage: Literal[Stage.DELIVERY]) -> StageResult[DeliveryDetails]: ...

    @overload
    def stage(self, stage: Literal[Stage.CAPACITY]) -> StageResult[CapacityDetails]: ...

    @overload
    def stage(self, stage: Stage) -> StageResult: ...

    def stage(self, stage: Stage) -> StageResult:
        """The result of ``stage``, its details typed for the stage (``KeyError`` if the
        probe did not run it)."""
        for result in self.stages:
            if result.stage is stage:
                return result
        raise KeyError(stage)

    def check(self, name: str) -> CheckResult:
        """The result of the app's check ``name`` (``KeyError`` if there is none)."""
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict`` with stable keys; holds no secret."""
        diagnosis = self.diagnosis
        return {
            "ok": self.ok,
            "duration": round(self.duration, 6),
            "diagnosis": diagnosis.to_dict() if diagnosis else None,
            "stages": [s.to_dict() for s in self.stages],
            "warnings": list(self.warnings),
            "warning_messages": [m.to_dict() for m in self.warning_messages],
            "checks": [c.to_dict() for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProbeResult:
        """Rebuild a result from ``to_dict()`` output (say, after a trip through JSON
        and a task queue). ``ok`` and ``diagnosis`` are derived again from the stages.
        Raises ``ValueError`` or ``TypeError`` naming what does not fit."""
        data = read_mapping(data, "result")
        stages = read_field(data, "stages", (list, tuple), "result")
        return cls(
            stages=[StageResult.from_dict(s) for s in stages],
            duration=float(read_field(data, "duration", (int, float), "result")),
            warnings=read_strings(data.get("warnings", []), "result.warnings"),
            warning_messages=[Message.from_dict(m) for m in data.get("warning_messages", [])],
            checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
        )


@attrs.frozen(kw_only=True)
class ProbeEvent:
    """Sent to ``on_event`` when a stage starts (``result`` is None) and when it ends.
    For an app's own check, ``check`` is its name and ``stage`` the stage it follows."""

    stage: Stage
    kind: Literal["started", "finished"]
    result: Optional[StageResult] = None
    check: Optional[str] = None

