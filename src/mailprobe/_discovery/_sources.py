"""Where candidates come from, one function per source; each returns candidates and
the lookups it made. None of them connects to a mail server (``_verify`` does)."""

from __future__ import annotations

import ssl
import urllib.parse

from .._deadline import Deadline
from .._enums import Security
from .._providers import Provider
from ._autoconfig import ConfigRefused, read_config
from ._dns import LookupFailed, Resolver
from ._http import FetchFailed, fetch
from ._model import Candidate, Lookup, LookupStatus, lookup_status
from ._network import Network

Found = tuple[list[Candidate], list[Candidate], list[Lookup]]

# RFC 6186 section 3 services; RFC 8314 section 5.1: implicit TLS is preferred, so its
# records come first whatever their priority relative to the STARTTLS ones.
SRV_SERVICES = (
    ("imap", "_imaps._tcp", Security.TLS),
    ("imap", "_imap._tcp", Security.STARTTLS),
    ("smtp", "_submissions._tcp", Security.TLS),
    ("smtp", "_submission._tcp", Security.STARTTLS),
)
# Guesses in the order a mail client tries them, implicit TLS first (RFC 8314).
GUESS_IMAP = (
    ("imap", 993, Security.TLS),
    ("imap", 143, Security.STARTTLS),
    ("mail", 993, Security.TLS),
    ("mail", 143, Security.STARTTLS),
)
GUESS_SMTP = (
    ("smtp", 465, Security.TLS),
    ("smtp", 587, Security.STARTTLS),
    ("mail", 465, Security.TLS),
    ("mail", 587, Security.STARTTLS),
)
# Two-label public suffixes common enough among mail hosts to matter when finding
# an MX host's registered domain without the full Public Suffix List.
_SECOND_LEVEL = frozenset(
    f"{sld}.{tld}"
    for tld, slds in {
        "uk": ("co", "org", "ac", "gov", "ltd", "plc", "me", "net"),
        "au": ("com", "net", "org", "edu", "gov"),
        "nz": ("co", "org", "net", "ac"),
        "jp": ("co", "ne", "or", "ac", "go"),
        "br": ("com", "net", "org"),
        "cn": ("com", "net", "org", "edu"),
        "in": ("co", "net", "org"),
        "za": ("co", "org", "net"),
        "kr": ("co", "ne", "or"),
        "tr": ("com", "net", "org"),
        "mx": ("com", "org", "net"),
        "ar": ("com", "net", "org"),
        "il": ("co", "org", "net"),
        "tw": ("com", "net", "org"),
        "hk": ("com", "net", "org"),
        "sg": ("com", "net", "org"),
        "ru": ("com", "net", "org"),
        "ua": ("com", "net", "org"),
        "pl": ("com", "net", "org"),
    }.items()
    for sld in slds
)


def registered_domain(host: str) -> str:
    """The domain a host name was registered under: ``mx1.mail.example.co.uk`` gives
    ``example.co.uk`` (an approximation of the Public Suffix List's answer)."""
    labels = host.lower().rstrip(".").split(".")
    keep = 3 if ".".join(labels[-2:]) in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def from_provider(provider: Provider, *, source: str, origin: str) -> Found:
    """The provider's usual servers (``source`` ``"provider"`` or ``"mx"``)."""
    found: tuple[list[Candidate], list[Candidate]] = ([], [])
    # A custom domain signs in with its whole address at the providers we know by
    # their MX hosts; the provider's own form holds for its own domains.
    username = provider.login if source == "provider" else "email"
    for protocol, server, out in (
        ("imap", provider.imap, found[0]),
        ("smtp", provider.smtp, found[1]),
    ):
        if server is not None:
            out.append(
                Candidate(
                    protocol="imap" if protocol == "imap" else "smtp",
                    host=server.host,
                    port=server.port,
                    security=server.security,
                    username=username,
                    source=source,
                    provider=provider.id,
                    origin=origin,
                )
            )
    return (
        found[0],
        found[1],
        [
            Lookup(
                source=source,
                target=origin,
                status="found",
                detail=f"{provider.name} ({provider.id})",
            )
        ],
    )


def autoconfig_urls(email: str, domain: str) -> tuple[str, str]:
    """The two places Thunderbird looks for a domain's own autoconfig file."""
    query = urllib.parse.urlencode({"emailaddress": email})
    return (
        f"https://autoconfig.{domain}/mail/config-v1.1.xml?{query}",
        f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml",
    )


def from_url(
    url: str,
    *,
    source: str,
    domain: str,
    network: Network,
    context: ssl.SSLContext,
    deadline: Deadline,
    allow_http: bool,
    policy: bool = True,
) -> Found:
    """The servers an autoconfig document at ``url`` names."""
    try:
        final, body = fetch(
            url,
            network=network,
            context=context,
            deadline=deadline,
            allow_http=allow_http,
            policy=policy,
        )
    except FetchFailed as exc:
        return (
            [],
            [],
            [Lookup(source=source, target=url, status=lookup_status(exc.status), detail=str(exc))],
        )
    try:
        imap, smtp = read_config(body, domain=domain, source=source, origin=final)
    except ConfigRefused as exc:
        return (
            [],
            [],
            [Lookup(source=source, target=url, status="failed", detail=f"refused: {exc}")],
        )
    status: LookupStatus = "found" if imap or smtp else "empty"
    detail = f"{len(imap)} IMAP and {len(smtp)} SMTP servers"
    return imap, smtp, [Lookup(source=source, target=url, status=status, detail=detail)]


def from_srv(service: str, *, domain: str, resolver: Resolver, deadline: Deadline) -> Found:
    """Candidates from one RFC 6186 SRV service (``_imaps._tcp`` etc.)."""
    protocol, label, security = next(s for s in SRV_SERVICES if s[1] == service)
    name = f"{label}.{domain}"
    target = f"SRV {name}"
    try:
        records = resolver.srv(name, deadline)
    except LookupFailed as exc:
        return (
            [],
            [],
            [
                Lookup(
                    source="srv", target=target, status=lookup_status(exc.status), detail=str(exc)
                )
            ],
        )
    found = [
        Candidate(
            protocol="imap" if protocol == "imap" else "smtp",
            host=host,
            port=port,
            security=security,
            source="srv",
            origin=name,
        )
        for _priority, _weight, port, host in records
    ]
    status: LookupStatus = "found" if found else "empty"
    lookup = Lookup(source="srv", target=target, status=status, detail=f"{len(found)} records")
    return (found, [], [lookup]) if protocol == "imap" else ([], found, [lookup])


def guesses(domain: str) -> tuple[list[Candidate], list[Candidate]]:
    """Usual host names and ports on the domain, implicit TLS first."""

    def make(protocol: str, table: tuple[tuple[str, int, Security], ...]) -> list[Candidate]:
        return [
            Candidate(
                protocol="imap" if protocol == "imap" else "smtp",
                host=f"{prefix}.{domain}",
                port=port,
                security=security,
                source="guess",
                origin=f"{prefix}.{domain}",
            )
            for prefix, port, security in table
        ]

    return make("imap", GUESS_IMAP), make("smtp", GUESS_SMTP)


def ispdb_url(template: str, domain: str) -> str:
    return template.replace("{domain}", urllib.parse.quote(domain, safe=""))
