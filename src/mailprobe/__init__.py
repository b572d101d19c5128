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

from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from ._deadline import (
        Deadline,
    )
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
    from ._discovery._api import (
        discover,
        probe_discovered,
    )
    from ._discovery._model import (
        Candidate,
        DiscoveredProbe,
        Discovery,
        Lookup,
    )
    from ._enums import (
        ErrorCategory,
        Security,
        Stage,
        StageStatus,
    )
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
    from ._providers import (
        Provider,
        Providers,
        SuggestedSettings,
        default_providers,
        suggest_settings,
    )
    from ._rules._advice import (
        Catalogue,
    )
    from ._rules._builtin import (
        any_of,
        builtin_rules,
        default_registry,
        when,
    )
    from ._rules._registry import (
        Failure,
        Rule,
        RuleRegistry,
        RuleTrial,
    )
    from ._settings import (
        InboxSettings,
        ServerSettings,
    )
    from ._stages._context import (
        StageContext,
    )
    from ._stages._optional import (
        Check,
    )
    from ._transports._base import (
        ConnectionInfo,
        Endpoint,
        Folder,
        ImapConnection,
        SmtpConnection,
        Transport,
    )
    from ._transports._stdlib import (
        StdlibTransport,
    )

__version__ = "0.1.0"

# Every name is imported on first use (PEP 562), so ``import mailprobe`` costs almost
# nothing until the app touches it: a web process that imports mailprobe at start-up
# and probes only in a background job pays for the probe machinery there. The
# ``_TYPE_CHECKING`` block above says the same for type checkers and editors;
# tests/test_api.py checks the two agree with ``__all__``.
_LAZY = {
    "Candidate": "_discovery._model",
    "CapabilityError": "_errors",
    "CapacityDetails": "_details",
    "Catalogue": "_rules._advice",
    "CertificateError": "_errors",
    "CertificateInfo": "_details",
    "Check": "_stages._optional",
    "CheckResult": "_models",
    "ConnectDetails": "_details",
    "ConnectionInfo": "_transports._base",
    "ConnectionLimitError": "_errors",
    "Deadline": "_deadline",
    "DeadlineExceeded": "_errors",
    "DeliveryDetails": "_details",
    "DeliveryError": "_errors",
    "Diagnosis": "_models",
    "DisconnectedError": "_errors",
    "DiscoveredProbe": "_discovery._model",
    "Discovery": "_discovery._model",
    "Endpoint": "_transports._base",
    "ErrorCategory": "_enums",
    "ErrorDetail": "_models",
    "Evidence": "_models",
    "Failure": "_rules._registry",
    "Folder": "_transports._base",
    "HostNotFoundError": "_errors",
    "ImapConnection": "_transports._base",
    "InboxOptions": "_prober",
    "InboxSettings": "_settings",
    "JSONValue": "_models",
    "LoginDetails": "_details",
    "Lookup": "_discovery._model",
    "MailprobeError": "_errors",
    "Message": "_models",
    "NetworkError": "_errors",
    "ProbeError": "_errors",
    "ProbeEvent": "_models",
    "ProbeOptions": "_prober",
    "ProbeResult": "_models",
    "Prober": "_prober",
    "ProberOptions": "_prober",
    "ProtocolError": "_errors",
    "Provider": "_providers",
    "Providers": "_providers",
    "RefusedError": "_errors",
    "ReplyError": "_errors",
    "Rule": "_rules._registry",
    "RuleError": "_errors",
    "RuleRegistry": "_rules._registry",
    "RuleTrial": "_rules._registry",
    "Security": "_enums",
    "SecurityModeError": "_errors",
    "SendDetails": "_details",
    "ServerDefaults": "_models",
    "ServerSettings": "_settings",
    "SettingsError": "_errors",
    "SmtpConnection": "_transports._base",
    "Stage": "_enums",
    "StageContext": "_stages._context",
    "StageDetails": "_details",
    "StageResult": "_models",
    "StageStatus": "_enums",
    "StartTLSError": "_errors",
    "StdlibTransport": "_transports._stdlib",
    "SuggestedSettings": "_providers",
    "TLSError": "_errors",
    "TLSInfo": "_details",
    "Transport": "_transports._base",
    "ValidateDetails": "_details",
    "any_of": "_rules._builtin",
    "aprobe": "_prober",
    "builtin_rules": "_rules._builtin",
    "default_providers": "_providers",
    "default_registry": "_rules._builtin",
    "discover": "_discovery._api",
    "probe": "_prober",
    "probe_discovered": "_discovery._api",
    "probe_many": "_prober",
    "suggest_settings": "_providers",
    "when": "_rules._builtin",
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
