"""What discovery returns: candidates, what each lookup gave, the discovery, a discovered probe."""

from __future__ import annotations

from typing import Any, Literal, Optional

import attrs

from .._enums import Security
from .._models import ProbeResult, str_tuple
from .._settings import InboxSettings, ServerSettings
from . import DEFAULT_ISPDB_URL as DEFAULT_ISPDB_URL  # noqa: PLC0414  (re-export)

#: The sources in the order their candidates rank: the built-in provider data by the
#: address's domain, then by the domain's MX hosts, the domain's own autoconfig file,
#: Mozilla's ISPDB, RFC 6186 SRV records, and guesses on usual host names last.
SOURCES = ("provider", "mx", "autoconfig", "ispdb", "srv", "guess")

Protocol = Literal["imap", "smtp"]
LookupStatus = Literal["found", "empty", "failed", "timeout", "blocked", "skipped"]


def lookup_status(status: str) -> LookupStatus:
    """``status`` when it is one a lookup can end with, else ``"failed"``."""
    for known in ("found", "empty", "failed", "timeout", "blocked", "skipped"):
        if status == known:
            return known
    return "failed"


_FORMS = {"email": "%EMAILADDRESS%", "local_part": "%EMAILLOCALPART%"}


def expand_username(form: str, email: str) -> str:
    """The login name ``form`` gives for ``email``: ``"email"``, ``"local_part"``, or a
    Thunderbird template with ``%EMAILADDRESS%``, ``%EMAILLOCALPART%``, ``%EMAILDOMAIN%``."""
    local, _, domain = email.rpartition("@")
    template = _FORMS.get(form, form)
    return (
        template.replace("%EMAILADDRESS%", email)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
    )


@attrs.frozen(kw_only=True)
class Candidate:
    """One server that discovery proposes for ``protocol`` (``"imap"`` or ``"smtp"``).

    ``username`` is the form of the login name: ``"email"`` (the whole address),
    ``"local_part"`` (before the ``@``), or a template from an autoconfig file such as
    ``"%EMAILLOCALPART%.%EMAILDOMAIN%"``; ``login_for(email)`` expands it. ``source``
    says where the candidate came from (``"provider"``, ``"mx"``, ``"autoconfig"``,
    ``"ispdb"``, ``"srv"``, ``"guess"``) and ``origin`` exactly what was asked (a URL,
    a DNS name). ``verified`` is True when the server greeted as expected (no
    credentials are ever sent); otherwise ``problem`` says why not. ``addresses`` are
    the addresses the host resolved to; ``private`` is True when one of them is a
    private or loopback address although the domain is public (such a candidate is
    only contacted with ``allow_private=True``). ``auth`` lists the authentication
    methods an autoconfig file names (``"password-cleartext"``, ``"OAuth2"``, ...).
    """

    protocol: Protocol
    host: str
    port: int
    security: Security = attrs.field(converter=Security)
    username: str = "email"
    source: str
    verified: bool = False
    provider: Optional[str] = None
    origin: Optional[str] = None
    auth: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    addresses: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    private: bool = False
    problem: Optional[str] = None
    greeting: Optional[str] = None

    @property
    def key(self) -> tuple[str, str, int, Security]:
        """What makes two candidates the same server: protocol, host, port and security."""
        return (self.protocol, self.host, self.port, self.security)

    def login_for(self, email: str) -> str:
        """The login name to use on this server for ``email``."""
        return expand_username(self.username, email)

    def server_settings(self, email: str) -> ServerSettings:
        """This candidate as ``ServerSettings`` (the login name set when it is not the
        whole address)."""
        login = self.login_for(email)
        return ServerSettings(
            host=self.host,
            port=self.port,
            security=self.security,
            username=None if login == email else login,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict`` with every field."""
        data = attrs.asdict(self, recurse=False)
        data["security"] = self.security.value
        data["auth"] = list(self.auth)
        data["addresses"] = list(self.addresses)
        return data


@attrs.frozen(kw_only=True)
class Lookup:
    """One question discovery asked and what came of it.

    ``source`` is the source it served, ``target`` what was asked (a URL, a DNS name
    and record type), ``status`` one of ``"found"``, ``"empty"`` (asked, nothing
    there), ``"failed"``, ``"timeout"``, ``"blocked"`` (not asked, by policy) or
    ``"skipped"``; ``detail`` says more in words.
    """

    source: str
    target: str
    status: LookupStatus
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict`` with every field."""
        return attrs.asdict(self)


def _candidates(value: Any) -> tuple[Candidate, ...]:
    return tuple(value)


def _lookups(value: Any) -> tuple[Lookup, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Discovery:
    """What ``discover()`` found for an address.

    ``imap`` and ``smtp`` are the candidates, best first: those that answered before
    those that did not, encrypted before plaintext, then in the order of the sources
    (``SOURCES``). ``verified`` lists the candidates that greeted as expected;
    ``best_imap``/``best_smtp`` are the first verified encrypted ones. ``mx`` are the
    domain's MX hosts (most preferred first), ``provider`` the id of the provider
    recognised by domain or MX host, ``lookups`` every question asked and its outcome.
    ``timed_out`` is True when the deadline cut something short.
    """

    email: str
    domain: str
    imap: tuple[Candidate, ...] = attrs.field(default=(), converter=_candidates)
    smtp: tuple[Candidate, ...] = attrs.field(default=(), converter=_candidates)
    mx: tuple[str, ...] = attrs.field(default=(), converter=str_tuple)
    provider: Optional[str] = None
    lookups: tuple[Lookup, ...] = attrs.field(default=(), converter=_lookups)
    timed_out: bool = False
    duration: float = 0.0

    @property
    def verified(self) -> tuple[Candidate, ...]:
        """The candidates (IMAP, then SMTP) that greeted as expected."""
        return tuple(c for c in (*self.imap, *self.smtp) if c.verified)

    @property
    def best_imap(self) -> Optional[Candidate]:
        """The first verified IMAP candidate that encrypts, or None."""
        return _best(self.imap)

    @property
    def best_smtp(self) -> Optional[Candidate]:
        """The first verified SMTP candidate that encrypts, or None."""
        return _best(self.smtp)

    def inbox_settings(
        self, password: Optional[str] = None, *, oauth2_token: Optional[str] = None
    ) -> Optional[InboxSettings]:
        """``InboxSettings`` for the best verified candidates, or None when either
        protocol has none. Raises ``SettingsError`` for a bad password or token."""
        imap, smtp = self.best_imap, self.best_smtp
        if imap is None or smtp is None:
            return None
        return InboxSettings(
            email=self.email,
            password=password,
            oauth2_token=oauth2_token,
            imap=imap.server_settings(self.email),
            smtp=smtp.server_settings(self.email),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict``."""
        return {
            "email": self.email,
            "domain": self.domain,
            "imap": [c.to_dict() for c in self.imap],
            "smtp": [c.to_dict() for c in self.smtp],
            "mx": list(self.mx),
            "provider": self.provider,
            "lookups": [lookup.to_dict() for lookup in self.lookups],
            "timed_out": self.timed_out,
            "duration": round(self.duration, 6),
        }


def _best(candidates: tuple[Candidate, ...]) -> Optional[Candidate]:
    for candidate in candidates:
        if candidate.verified and candidate.security is not Security.NONE:
            return candidate
    return None


@attrs.frozen(kw_only=True)
class DiscoveredProbe:
    """What ``probe_discovered()`` did: the discovery, the candidates it probed
    (``imap``, ``smtp``; their ``source`` says where the settings came from) and the
    probe's result. ``result`` is None when no probe ran, and ``problem`` says why
    (no verified server for a protocol)."""

    discovery: Discovery
    imap: Optional[Candidate] = None
    smtp: Optional[Candidate] = None
    result: Optional[ProbeResult] = None
    problem: Optional[str] = None

    @property
    def ok(self) -> bool:
        """True when a probe ran and no stage failed."""
        return self.result is not None and self.result.ok

    @property
    def settings_from(self) -> dict[str, str]:
        """Where the probed settings came from, e.g. ``{"imap": "srv", "smtp": "srv"}``."""
        return {c.protocol: c.source for c in (self.imap, self.smtp) if c is not None}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe ``dict``; holds no secret."""
        return {
            "ok": self.ok,
            "problem": self.problem,
            "settings_from": self.settings_from,
            "imap": self.imap.to_dict() if self.imap else None,
            "smtp": self.smtp.to_dict() if self.smtp else None,
            "result": self.result.to_dict() if self.result else None,
            "discovery": self.discovery.to_dict(),
        }
