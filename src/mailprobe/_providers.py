"""What is known about the mail providers people use, as data (``providers.json``).

A ``Provider`` says which addresses and server names belong to it, its usual
servers, whether it wants app passwords, where its help pages are, and extra
steps per cause. ``Providers`` is a collection an app can extend or override;
``default_providers()`` returns a fresh one holding the shipped data.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal, Optional

import attrs

from ._errors import SettingsError
from ._models import ServerDefaults, str_tuple
from ._settings import ServerSettings, check_address

AppPasswords = Literal["never", "with_2fa", "always"]


def _steps(value: Mapping[str, Iterable[str]]) -> Mapping[str, tuple[str, ...]]:
    return {str(cause): tuple(lines) for cause, lines in value.items()}


@attrs.frozen(kw_only=True)
class Provider:
    """One mail provider.

    ``domains`` are address domains (``gmail.com``); ``hosts`` are server name
    patterns (``*.gmail.com``) that identify it even for custom domains; ``mx``
    are patterns of the MX hosts of domains whose mail it hosts
    (``*.mail.protection.outlook.com``), used by ``discover()``;
    ``app_passwords`` is ``"always"``, ``"with_2fa"`` or ``"never"``;
    ``password_retired`` names where the provider no longer takes a password (an app
    password neither) from mail apps: a protocol (``"imap"``), or a protocol for personal
    or work addresses (``"smtp@personal"``); ``steps`` maps a cause (optionally
    ``cause@stage``, ``cause@protocol``, ``cause@protocol@personal``/``@work``,
    ``cause@personal``/``@work``) to provider-specific steps.
    """

    id: str
    name: str
    domains: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    hosts: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    mx: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    imap: Optional[ServerDefaults] = None
    smtp: Optional[ServerDefaults] = None
    app_passwords: AppPasswords = "never"
    app_password_url: Optional[str] = None
    setup_url: Optional[str] = None
    login: Literal["email", "local_part"] = "email"
    password_retired: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    steps: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_steps, hash=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provider:
        """Build a provider from the ``providers.json`` shape; raises ``SettingsError``."""
        try:
            fields = dict(data)
            for key in ("imap", "smtp"):
                if fields.get(key) is not None:
                    fields[key] = ServerDefaults(**fields[key])
            return cls(**fields)
        except (TypeError, ValueError) as exc:
            raise SettingsError(
                "providers", f"bad provider entry {data.get('id')!r}: {exc}"
            ) from None

    def matches_domain(self, domain: str) -> bool:
        domain = domain.lower().rstrip(".")
        return any(domain == d or domain.endswith("." + d) for d in self.domains)

    def matches_host(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(
            fnmatch.fnmatchcase(host, pattern) or host == pattern.lstrip("*.")
            for pattern in self.hosts
        )

    def matches_mx(self, host: str) -> bool:
        """True when ``host``, an MX host name, matches one of the ``mx`` patterns."""
        host = host.lower().rstrip(".")
        return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in self.mx)


class Providers:
    """An ordered collection of providers; later additions override earlier ones."""

    def __init__(self, providers: Iterable[Provider] = ()) -> None:
        self._by_id: dict[str, Provider] = {}
        for provider in providers:
            self.add(provider, replace=True)

    def add(self, provider: Provider, *, replace: bool = False) -> Provider:
        """Add ``provider``; an existing id raises ``SettingsError`` unless ``replace``."""
        if not isinstance(provider, Provider):
            raise TypeError(f"expected a Provider, not {type(provider).__name__}")
        if provider.id in self._by_id and not replace:
            raise SettingsError("providers", f"provider {provider.id!r} already exists")
        self._by_id.pop(provider.id, None)
        self._by_id[provider.id] = provider  # re-inserted last: it is tried first
        return provider

    def get(self, provider_id: str) -> Optional[Provider]:
        return self._by_id.get(provider_id)

    def copy(self) -> Providers:
        return Providers(self._by_id.values())

    def __iter__(self) -> Iterator[Provider]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def match(
        self, *, email: Optional[str] = None, hosts: Iterable[str] = ()
    ) -> Optional[Provider]:
        """The provider whose server names match ``hosts``, else whose domains match
        ``email``'s; the most recently added wins a tie."""
        candidates = list(reversed(self._by_id.values()))
        for host in hosts:
            for provider in candidates:
                if provider.matches_host(host):
                    return provider
        if email and "@" in email:
            domain = email.rpartition("@")[2]
            for provider in candidates:
                if provider.matches_domain(domain):
                    return provider
        return None

    def match_mx(self, hosts: Iterable[str]) -> Optional[Provider]:
        """The provider hosting a domain whose MX hosts are ``hosts`` (most preferred
        first), or None; the most recently added wins a tie."""
        candidates = list(reversed(self._by_id.values()))
        for host in hosts:
            for provider in candidates:
                if provider.matches_mx(host):
                    return provider
        return None


@functools.lru_cache(maxsize=1)
def _shipped() -> tuple[Provider, ...]:
    # Read once per process; providers are frozen, so every collection can share them.
    from importlib import resources  # noqa: PLC0415  (only needed here; slow to import)

    text = resources.files("mailprobe").joinpath("providers.json").read_text(encoding="utf-8")
    return tuple(Provider.from_dict(entry) for entry in json.loads(text)["providers"])


def default_providers() -> Providers:
    """A fresh collection holding the provider data shipped with mailprobe."""
    return Providers(_shipped())


@attrs.frozen(kw_only=True)
class SuggestedSettings:
    """Server settings a known provider documents, for pre-filling a connection form.

    ``username`` is the login name the provider expects for the address;
    ``app_passwords`` and ``app_password_url`` say whether the form should ask for an
    app password instead of the account password.
    """

    provider: str
    name: str
    imap: ServerSettings
    smtp: ServerSettings
    username: str
    app_passwords: AppPasswords
    app_password_url: Optional[str] = None


def suggest_settings(
    email: str, *, providers: Optional[Providers] = None
) -> Optional[SuggestedSettings]:
    """The usual IMAP and SMTP settings for ``email``'s provider, or None if unknown.

    Only the address's domain is looked at; nothing is resolved or connected.
    Raises ``SettingsError`` for something that is not an email address.
    """
    address = check_address("email", email)
    provider = (providers if providers is not None else default_providers()).match(email=address)
    if provider is None or provider.imap is None or provider.smtp is None:
        return None
    return SuggestedSettings(
        provider=provider.id,
        name=provider.name,
        imap=ServerSettings(
            host=provider.imap.host, port=provider.imap.port, security=provider.imap.security
        ),
        smtp=ServerSettings(
            host=provider.smtp.host, port=provider.smtp.port, security=provider.smtp.security
        ),
        username=address.rpartition("@")[0] if provider.login == "local_part" else address,
        app_passwords=provider.app_passwords,
        app_password_url=provider.app_password_url,
    )
