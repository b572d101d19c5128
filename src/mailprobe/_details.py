"""Typed, frozen details of what each stage saw.

Each stage kind has its own class (``ConnectDetails``, ``LoginDetails``, ...), so typed
code reads ``details.latency`` and ``mypy --strict`` knows it is an ``Optional[float]``.
For code written against the earlier mapping form, a details value is also a read-only
``Mapping`` of its JSON shape: ``details["latency"]`` still works.

``to_dict()`` gives the documented JSON shape (keys are only ever added, never renamed)
and ``from_dict()`` reads it back exactly; keys this version does not know (a custom
transport's extra TLS facts, a newer version's fields) are kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar, Optional, TypeVar

import attrs

from ._enums import Security, Stage
from ._json import JSONValue, check_types, freeze, thaw

D = TypeVar("D", bound="StageDetails")


def _frozen(value: Mapping[str, Any]) -> Mapping[str, JSONValue]:
    frozen = freeze(value)
    if not isinstance(frozen, Mapping):
        raise TypeError(f"expected a mapping, not {type(value).__name__}")
    return frozen


def _optional_frozen(value: Optional[Mapping[str, Any]]) -> Optional[Mapping[str, JSONValue]]:
    return None if value is None else _frozen(value)


def _strs(value: Iterable[Any]) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)):
        raise TypeError("expected a sequence of strings, not a single string")
    return tuple(str(v) for v in value)


def _optional_strs(value: Optional[Iterable[Any]]) -> Optional[tuple[str, ...]]:
    return None if value is None else _strs(value)


def _optional_security(value: Optional[object]) -> Optional[Security]:
    return None if value is None else Security(value)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    """Set ``key`` only when there is a value (absent keys mean "not reached")."""
    if value is not None:
        out[key] = value


def _list(value: Optional[tuple[str, ...]]) -> Optional[list[str]]:
    return None if value is None else list(value)


_COMMON_KINDS: dict[str, Any] = {"round_trips": int, "transcript": (list, tuple), "reason": str}


@attrs.frozen(kw_only=True)
class StageDetails(Mapping[str, JSONValue]):
    """What any stage records, and the base of the per-stage details classes.

    ``round_trips`` counts the TCP and TLS handshakes and the waits for a reply (the
    default transport counts them); ``transcript`` holds the masked protocol lines
    (``transcript=True``); ``reason`` says why a skipped stage was skipped; ``extra``
    holds keys this class does not name, which is where an app's own check keeps
    what it recorded.
    """

    #: The stage kinds this class describes (used by ``ProbeResult.from_dict``).
    stages: ClassVar[frozenset[Stage]] = frozenset()

    round_trips: Optional[int] = None
    transcript: Optional[tuple[str, ...]] = attrs.field(default=None, converter=_optional_strs)
    reason: Optional[str] = None
    extra: Mapping[str, JSONValue] = attrs.field(factory=dict, converter=_frozen, hash=False)
    _view: Optional[Mapping[str, JSONValue]] = attrs.field(
        default=None, init=False, eq=False, repr=False, hash=False
    )

    def _body(self) -> dict[str, Any]:
        """The stage-specific keys, in their documented order."""
        return {}

    @classmethod
    def _read(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Constructor arguments for the stage-specific keys, popped from ``data``."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: plain ``dict``/``list`` values, absent keys for what was not
        reached (a failed connect has no ``greeting``)."""
        out = self._body()
        for key, value in self.extra.items():
            out.setdefault(key, thaw(value))
        _put(out, "reason", self.reason)
        _put(out, "round_trips", self.round_trips)
        _put(out, "transcript", _list(self.transcript))
        return out

    @classmethod
    def from_dict(cls: type[D], data: Mapping[str, Any]) -> D:
        """Rebuild details from ``to_dict()`` output. Raises ``ValueError`` or
        ``TypeError`` for values of the wrong kind."""
        if not isinstance(data, Mapping):
            raise TypeError(f"details must be a mapping, not {type(data).__name__}")
        rest = dict(data)
        common: dict[str, Any] = {}
        # A value of another kind under one of these names was an app's own (a check's
        # ``record(reason=[...])``): it stays in ``extra``, as the runner kept it.
        for key, kind in _COMMON_KINDS.items():
            if key in rest and isinstance(rest[key], kind) and not isinstance(rest[key], bool):
                value = rest.pop(key)
                if key != "transcript" or all(isinstance(line, str) for line in value):
                    common[key] = value
                else:
                    rest[key] = value
        specific = cls._read(rest)
        details = cls(**common, **specific, extra=rest)
        check_types(details)
        return details

    def _json(self) -> Mapping[str, JSONValue]:
        view = self._view
        if view is None:
            view = _frozen(self.to_dict())
            object.__setattr__(self, "_view", view)
        return view

    def __getitem__(self, key: str) -> JSONValue:
        return self._json()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._json())

    def __len__(self) -> int:
        return len(self._json())


@attrs.frozen(kw_only=True)
class TLSInfo:
    """The TLS session: protocol ``version`` (``"TLSv1.3"``) and ``cipher``."""

    version: Optional[str] = None
    cipher: Optional[str] = None


@attrs.frozen(kw_only=True)
class CertificateInfo:
    """What the server's certificate says, read from its DER bytes (also when it is
    not trusted). Fields that could not be read are None; ``trusted`` and ``problem``
    repeat the connect stage's verdict (``problem`` is a ``CertificateError.reason``)."""

    sha256: Optional[str] = None
    subject: Optional[str] = None
    issuer: Optional[str] = None
    not_before: Optional[str] = None
    not_after: Optional[str] = None
    days_to_expiry: Optional[int] = None
    self_signed: Optional[bool] = None
    subject_alt_names: Optional[tuple[str, ...]] = attrs.field(
        default=None, converter=_optional_strs
    )
    expires_soon: Optional[bool] = None
    parse_error: Optional[str] = None
    trusted: Optional[bool] = None
    problem: Optional[str] = None
    extra: Mapping[str, JSONValue] = attrs.field(factory=dict, converter=_frozen, hash=False)

    _KEYS: ClassVar[tuple[str, ...]] = (
        "sha256",
        "subject",
        "issuer",
        "not_before",
        "not_after",
        "days_to_expiry",
        "self_signed",
        "subject_alt_names",
        "expires_soon",
        "parse_error",
        "trusted",
        "problem",
    )

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape; fields that are None are left out."""
        out: dict[str, Any] = {}
        for key in self._KEYS:
            value = getattr(self, key)
            _put(out, key, list(value) if isinstance(value, tuple) else value)
        for key, value in self.extra.items():
            out.setdefault(key, thaw(value))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CertificateInfo:
        """Rebuild from ``to_dict()`` output (or the transport's certificate summary)."""
        if not isinstance(data, Mapping):
            raise TypeError(f"certificate must be a mapping, not {type(data).__name__}")
        rest = dict(data)
        known = {key: rest.pop(key) for key in cls._KEYS if key in rest}
        info = cls(**known, extra=rest)
        check_types(info)
        return info


@attrs.frozen(kw_only=True)
class ConnectDetails(StageDetails):
    """``imap_connect`` and ``smtp_connect``: where the probe connected, how, and what
    the server said.

    ``security`` is the mode used; ``security_detected`` is True when the settings
    gave none and the probe found it. ``greeting``, ``capabilities``,
    ``auth_mechanisms`` and the addresses are known once the server greeted
    (``greeting`` is None before). ``certificate_trusted`` is False when an untrusted
    certificate was allowed (``certificate_problem`` and ``certificate_error`` say
    why). ``warnings`` are the stage's own notes, such as a certificate about to expire.
    """

    stages: ClassVar[frozenset[Stage]] = frozenset({Stage.IMAP_CONNECT, Stage.SMTP_CONNECT})

    host: Optional[str] = None
    port: Optional[int] = None
    security: Optional[Security] = attrs.field(default=None, converter=_optional_security)
    security_detected: bool = False
    certificate_trusted: Optional[bool] = None
    certificate_problem: Optional[str] = None
    certificate_error: Optional[str] = None
    greeting: Optional[str] = None
    capabilities: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    auth_mechanisms: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    local_address: Optional[str] = None
    peer_address: Optional[str] = None
    tls: Optional[TLSInfo] = None
    certificate: Optional[CertificateInfo] = None
    warnings: tuple[str, ...] = attrs.field(default=(), converter=_strs)

    def _body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "host", self.host)
        _put(out, "port", self.port)
        _put(out, "security", self.security.value if self.security else None)
        if self.security_detected:
            out["security_detected"] = True
        _put(out, "certificate_trusted", self.certificate_trusted)
        _put(out, "certificate_problem", self.certificate_problem)
        _put(out, "certificate_error", self.certificate_error)
        if self.greeting is not None:  # these are known together, once greeted
            out.update(
                greeting=self.greeting,
                capabilities=list(self.capabilities),
                auth_mechanisms=list(self.auth_mechanisms),
                local_address=self.local_address,
                peer_address=self.peer_address,
            )
        if self.tls is not None:
            out.update(tls_version=self.tls.version, cipher=self.tls.cipher)
        if self.tls is not None or self.certificate is not None:
            out["certificate"] = self.certificate.to_dict() if self.certificate else None
        if self.warnings:
            out["warnings"] = list(self.warnings)
        return out

    @classmethod
    def _read(cls, data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            key: data.pop(key)
            for key in (
                "host",
                "port",
                "security",
                "security_detected",
                "certificate_trusted",
                "certificate_problem",
                "certificate_error",
                "greeting",
                "capabilities",
                "auth_mechanisms",
                "local_address",
                "peer_address",
                "warnings",
            )
            if key in data
        }
        if "tls_version" in data or "cipher" in data:
            version, cipher = data.pop("tls_version", None), data.pop("cipher", None)
            out["tls"] = TLSInfo(version=version, cipher=cipher)
        certificate = data.pop("certificate", None)
        if certificate is not None:
            out["certificate"] = CertificateInfo.from_dict(certificate)
        return out


@attrs.frozen(kw_only=True)
class LoginDetails(StageDetails):
    """``imap_login`` and ``smtp_login``: the ``login`` name used and the ``method``
    (``"LOGIN"``, ``"AUTHENTICATE PLAIN"``, ``"PLAIN"``, ``"XOAUTH2"``)."""

    stages: ClassVar[frozenset[Stage]] = frozenset({Stage.IMAP_LOGIN, Stage.SMTP_LOGIN})

    login: Optional[str] = None
    method: Optional[str] = None

    def _body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "login", self.login)
        _put(out, "method", self.method)
        return out

    @classmethod
    def _read(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {key: data.pop(key) for key in ("login", "method") if key in data}


@attrs.frozen(kw_only=True)
class ValidateDetails(StageDetails):
    """``imap_validate``: the capabilities in force, the IMAP version, INBOX facts
    (``inbox["exists"]``), the folders (at most 200 names; ``folder_count`` counts all),
    the Sent folder found (None when there is none) and the required capabilities
    that are missing."""

    stages: ClassVar[frozenset[Stage]] = frozenset({Stage.IMAP_VALIDATE})

    capabilities: Optional[tuple[str, ...]] = attrs.field(default=None, converter=_optional_strs)
    imap_version: Optional[str] = None
    inbox: Optional[Mapping[str, JSONValue]] = attrs.field(
        default=None, converter=_optional_frozen, hash=False
    )
    folder_count: Optional[int] = None
    folders: Optional[tuple[str, ...]] = attrs.field(default=None, converter=_optional_strs)
    sent_folder: Optional[str] = None
    missing_capabilities: Optional[tuple[str, ...]] = attrs.field(
        default=None, converter=_optional_strs
    )

    @property
    def missing(self) -> tuple[str, ...]:
        """The required capabilities the server does not offer (empty when none)."""
        return self.missing_capabilities or ()

    def _body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        _put(out, "capabilities", _list(self.capabilities))
        _put(out, "imap_version", self.imap_version)
        _put(out, "inbox", None if self.inbox is None else thaw(self.inbox))
        _put(out, "folder_count", self.folder_count)
        if self.folders is not None:  # the Sent folder is known (maybe None) once listed
            out.update(folders=list(self.folders), sent_folder=self.sent_folder)
        else:
            _put(out, "sent_folder", self.sent_folder)
        _put(out, "missing_capabilities", _list(self.missing_capabilities))
        return out

    @classmethod
    def _read(cls, data: dict[str, Any]) -> dict[str, Any]:
        keys = (
            "capabilities",
            "imap_version",
            "inbox",
            "folder_count",
            "folders",
            "sent_folder",
            "missing_capabilities",
        )
        return {key: data.pop(key) for key in keys if key in data}


@attrs.frozen(kw_only=True)
class SendDetails(StageDetails):
    """``test_email``: the ``message_id``, the ``sender``, the ``recipient`` asked for,
    all envelope ``recipients`` and the server's final reply."""

    stages: ClassVar[frozenset[Stage]] = frozenset({Stage.TEST_EMAIL})

    message_id: Optional[str] = None
    sender: Optional[str] = None
    recipient: Optional[str] = None
    recipients: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    server_reply: Optional[str] = None

    def _body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.message_id is not None:
            out.update(
                message_id=self.message_id,
                sender=self.sender,
                recipient=self.recipient,
                recipients=list(self.recipients),
            )
        _put(out, "server_reply", self.server_reply)
        return out

    @classmethod
    def _read(cls, data: dict[str, Any]) -> dict[str, Any]:
        keys = ("message_id", "sender", "recipient", "recipients", "server_reply")
        return {key: data.pop(key) for key in keys if key in data}


@attrs.frozen(kw_only=True)
class DeliveryDetails(StageDetails):
    """``delivery``: the ``message_id`` looked for, whether it was ``delivered``, the
    number of searches (``polls``), and ``latency`` (seconds from acceptance to finding
    it) or ``waited`` (seconds waited in vain)."""

    stages: ClassVar[frozenset[Stage]] = frozenset({Stage.DELIVERY})

    message_id: Optional[str] = None
    delivered: Optional[bool] = None
    polls: Optional[int] = None
    latency: Optional[float] = None
    waited: Optional[float] = None

    def _body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("message_id", "delivered", "polls", "latency", "waited"):
            _put(out, key, getattr(self, key))
        return out

    @classmethod
    def _read(cls, data: dict[str, Any]) -> dict[str, Any]:
        keys = ("message_id", "delivered", "polls", "latency", "waited")
        return {key: data.pop(key) for key in keys if key in data}


@attrs.frozen(kw_only=True)
class CapacityDetails(StageDetails):
    """``capacity``: the simultaneous connections ``requested``, how many the server
    ``allowed``, and what it said to the first it refused (``refusal``)."""

    stages: ClassVar[frozenset[Stage]] = frozenset({Stage.CAPACITY})

    requested: Optional[int] = None
    allowed: Optional[int] = None
    refusal: Optional[str] = None

    def _body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("requested", "allowed", "refusal"):
            _put(out, key, getattr(self, key))
        return out

    @classmethod
    def _read(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {key: data.pop(key) for key in ("requested", "allowed", "refusal") if key in data}


#: The details class of each stage.
DETAILS_TYPES: dict[Stage, type[StageDetails]] = {
    stage: cls
    for cls in (
        ConnectDetails,
        LoginDetails,
        ValidateDetails,
        SendDetails,
        DeliveryDetails,
        CapacityDetails,
    )
    for stage in cls.stages
}


def details_for(stage: Stage, data: Mapping[str, Any]) -> StageDetails:
    """``data`` (the JSON shape) as the details class of ``stage``."""
    return DETAILS_TYPES.get(stage, StageDetails).from_dict(data)
