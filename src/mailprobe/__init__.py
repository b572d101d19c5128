"""mailprobe: check a mailbox's IMAP and SMTP settings stage by stage and say what failed.

import mailprobe

settings = mailprobe.InboxSettings(
    email="alice@example.com",
    password="...",
    imap=mailprobe.ServerSettings(host="imap.example.com", port=993),
    smtp=mailprobe.ServerSettings(host="smtp.example.com", port=587),
)
result = mailprobe.probe(settings, test_recipient="bcc@app.example")
if not result.ok:
    print(result.diagnosis.title, result.diagnosis.hints)
"""

import logging as _logging
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from ._deadline import Deadline
from ._details import (
    CapacityDetails,
    CertificateInfo,
    ConnectDetails,
    DeliveryDetails,
    LoginDetails,
    SendDetails,
    StageDetails,
    TLSInfo,
    ValidateDetails,
)
from ._enums import ErrorCategory, Security, Stage, StageStatus
from ._errors import (
    CapabilityError,
    CertificateError,
    ConnectionLimitError,
    DeadlineExceeded,
    DeliveryError,
    DisconnectedError,
    HostNotFoundError,
    MailprobeError,
    NetworkError,
    ProbeError,
    ProtocolError,
    RefusedError,
    ReplyError,
    RuleError,
    SecurityModeError,
    SettingsError,
    StartTLSError,
    TLSError,
)
from ._models import (
    CheckResult,
    Diagnosis,
    ErrorDetail,
    Evidence,
    JSONValue,
    Message,
    ProbeEvent,
    ProbeResult,
    ServerDefaults,
    StageResult,
)
from ._prober import (
    InboxOptions,
    ProbeOptions,
    Prober,
    ProberOptions,
    aprobe,
    probe,
    probe_many,
)
from ._settings import InboxSettings, ServerSettings
from ._stages._context import StageContext
from ._stages._optional import Check
from ._transports._base import (
    ConnectionInfo,
    Endpoint,
    Folder,
    ImapConnection,
    SmtpConnection,
    Transport,
)
from ._transports._stdlib import StdlibTransport

if _TYPE_CHECKING:
    from ._discovery._api import discover, probe_discovered
    from ._discovery._model import Candidate, DiscoveredProbe, Discovery, Lookup
    from ._providers import (
        Provider,
        Providers,
        SuggestedSettings,
        default_providers,
        suggest_settings,
    )
    from ._rules._advice import Catalogue
    from ._rules._builtin import any_of, builtin_rules, default_registry, when
    from ._rules._registry import Failure, Rule, RuleRegistry, RuleTrial

__version__ = "0.1.0"

# Imported on first use (PEP 562): a plain probe() that passes needs none of these.
# Discovery; the rules, which only a failure consults; the provider data, which only
# a failure or discovery consults.
_LAZY = {
    "discover": "_discovery._api",
    "probe_discovered": "_discovery._api",
    "Candidate": "_discovery._model",
    "DiscoveredProbe": "_discovery._model",
    "Discovery": "_discovery._model",
    "Lookup": "_discovery._model",
    "Provider": "_providers",
    "Providers": "_providers",
    "SuggestedSettings": "_providers",
    "default_providers": "_providers",
    "suggest_settings": "_providers",
    "Catalogue": "_rules._advice",
    "any_of": "_rules._builtin",
    "builtin_rules": "_rules._builtin",
    "default_registry": "_rules._builtin",
    "when": "_rules._builtin",
    "Failure": "_rules._registry",
    "Rule": "_rules._registry",
    "RuleRegistry": "_rules._registry",
    "RuleTrial": "_rules._registry",
}


def __getattr__(name: str) -> _Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mailprobe' has no attribute {name!r}")
    import importlib  # noqa: PLC0415

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


# A library logs but never configures logging: the app decides where records go.
_logging.getLogger("mailprobe").addHandler(_logging.NullHandler())

__all__ = [
    "Candidate",
    "CapabilityError",
    "CapacityDetails",
    "Catalogue",
    "CertificateError",
    "CertificateInfo",
    "Check",
    "CheckResult",
    "ConnectDetails",
    "ConnectionInfo",
    "ConnectionLimitError",
    "Deadline",
    "DeadlineExceeded",
    "DeliveryDetails",
    "DeliveryError",
    "Diagnosis",
    "DisconnectedError",
    "DiscoveredProbe",
    "Discovery",
    "Endpoint",
    "ErrorCategory",
    "ErrorDetail",
    "Evidence",
    "Failure",
    "Folder",
    "HostNotFoundError",
    "ImapConnection",
    "InboxOptions",
    "InboxSettings",
    "JSONValue",
    "LoginDetails",
    "Lookup",
    "MailprobeError",
    "Message",
    "NetworkError",
    "ProbeError",
    "ProbeEvent",
    "ProbeOptions",
    "ProbeResult",
    "Prober",
    "ProberOptions",
    "ProtocolError",
    "Provider",
    "Providers",
    "RefusedError",
    "ReplyError",
    "Rule",
    "RuleError",
    "RuleRegistry",
    "RuleTrial",
    "Security",
    "SecurityModeError",
    "SendDetails",
    "ServerDefaults",
    "ServerSettings",
    "SettingsError",
    "SmtpConnection",
    "Stage",
    "StageContext",
    "StageDetails",
    "StageResult",
    "StageStatus",
    "StartTLSError",
    "StdlibTransport",
    "SuggestedSettings",
    "TLSError",
    "TLSInfo",
    "Transport",
    "ValidateDetails",
    "__version__",
    "any_of",
    "aprobe",
    "builtin_rules",
    "default_providers",
    "default_registry",
    "discover",
    "probe",
    "probe_discovered",
    "probe_many",
    "suggest_settings",
    "when",
]
