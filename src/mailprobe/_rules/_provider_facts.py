"""What the provider's data says about a failure: its documented servers, whether the
host or address typed is the provider's own, and how it treats passwords."""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Callable, Optional

from .._enums import Security
from . import _patterns as words

if TYPE_CHECKING:
    from .._models import ServerDefaults
    from ._registry import Failure

_MODE_NAMES = {Security.TLS: "TLS", Security.STARTTLS: "STARTTLS", Security.NONE: "no encryption"}


def mode(security: Security) -> str:
    return _MODE_NAMES[security]


def described(server: Optional[ServerDefaults]) -> str:
    """A provider's server as "host, port N with MODE" (empty for none)."""
    if server is None:
        return ""
    return f"{server.host}, port {server.port} with {mode(server.security)}"


def provider_documented(f: Failure) -> str:
    """The provider's documented server for this protocol, when it is not the host typed."""
    if f.provider is None:
        return ""
    server = f.provider.imap if f.protocol == "imap" else f.provider.smtp
    if server is None or server.host.lower() == f.host.lower():
        return ""
    return described(server)


def provider_smtp(f: Failure) -> str:
    """The provider's sending server, for a person who typed a server that only
    receives mail."""
    return described(f.provider.smtp) if f.provider is not None else ""


def providers_own_host(f: Failure) -> bool:
    """The host typed is one of the provider's servers (``smtp.yandex.ru`` for Yandex)."""
    return provider_defaults(f) is not None or (
        f.provider is not None
        and f.provider.matches_host(f.host)
        and not words.RECEIVING_HOST.search(f.host)
    )


def sibling(f: Failure) -> str:
    """The usual name of this protocol's server next to a host named for another service:
    ``imap.example.com`` for ``smtp.example.com`` typed as the IMAP server
    (``securesmtp.example.com`` for ``secureimap.example.com``)."""
    wanted = "imap" if f.protocol == "imap" else "smtp"
    match = re.match(r"(secure)?(pop3?|smtp|imap|mail|mx)(?:s|4)?\d?\.(.+)$", f.host, re.I)
    if not match or match.group(2).lower() in (wanted, "mail"):
        return ""
    return f"{(match.group(1) or '').lower()}{wanted}.{match.group(3)}"


@functools.lru_cache(maxsize=1)
def _personal_domains() -> frozenset[str]:
    from importlib import resources  # noqa: PLC0415  (slow to import; needed once)

    text = resources.files("mailprobe._rules").joinpath("personal_domains.json").read_text(
        encoding="utf-8"
    )
    return frozenset(json.loads(text)["domains"])


def personal_domain(domain: str) -> bool:
    """``domain`` (or a domain it is under) is an ISP's or a free mail service's own."""
    labels = domain.lower().rstrip(".").split(".")
    known = _personal_domains()
    return any(".".join(labels[i:]) in known for i in range(len(labels) - 1))


def consumer_address(f: Failure) -> bool:
    """The address is on the provider's own domain, or on an ISP's or free mail service's
    (a personal account: no administrator in the person's organisation)."""
    domain = f.email.rpartition("@")[2]
    if f.provider is not None and f.provider.matches_domain(domain):
        return True
    return personal_domain(domain)


def provider_defaults(f: Failure) -> Optional[ServerDefaults]:
    """The provider's documented server for this protocol, when the host typed is it."""
    if f.provider is None:
        return None
    defaults = f.provider.imap if f.protocol == "imap" else f.provider.smtp
    if defaults is None or defaults.host.lower() != f.host.lower():
        return None
    return defaults


def provider_port_differs(f: Failure) -> bool:
    defaults = provider_defaults(f)
    return defaults is not None and defaults.port != f.port


def provider_settings_typed(f: Failure) -> bool:
    defaults = provider_defaults(f)
    return defaults is not None and defaults.port == f.port and defaults.security is f.security


def provider_app_passwords(kind: str) -> Callable[[Failure], bool]:
    return lambda f: f.provider is not None and f.provider.app_passwords == kind


def provider_password_retired(f: Failure) -> bool:
    """The provider no longer takes a password from mail apps here (``password_retired``:
    this protocol, or this protocol for this kind of address)."""
    if f.provider is None:
        return False
    account = "personal" if consumer_address(f) else "work"
    scopes = f.provider.password_retired
    return f.protocol in scopes or f"{f.protocol}@{account}" in scopes


def swapped_both(f: Failure) -> bool:
    """The host typed here is the other protocol's server, and the other protocol's
    setting holds this one's (the provider's documented name, or the usual sibling)."""
    if not f.other_host or f.other_host.lower() == f.host.lower():
        return False
    if other_protocol_server(f) and f.provider is not None:
        mine = f.provider.imap if f.protocol == "imap" else f.provider.smtp
        return mine is not None and mine.host.lower() == f.other_host.lower()
    near = sibling(f)
    return bool(near) and near.lower() == f.other_host.lower()


def other_protocol_server(f: Failure) -> str:
    """The provider's server for the other protocol, when that is the host typed here
    (the IMAP and SMTP names swapped); empty otherwise."""
    if f.provider is None:
        return ""
    other = f.provider.smtp if f.protocol == "imap" else f.provider.imap
    mine = f.provider.imap if f.protocol == "imap" else f.provider.smtp
    if other is None or mine is None or other.host.lower() == mine.host.lower():
        return ""
    return other.host if other.host.lower() == f.host.lower() else ""
