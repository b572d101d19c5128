"""The public front of discovery: ``discover()`` and ``probe_discovered()``."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterable, Sequence
from typing import Callable, Optional, Union

from .._errors import SettingsError
from .._models import ProbeResult
from .._prober import probe as run_probe
from .._providers import Providers
from .._settings import InboxSettings, check_address, check_text, check_timeout
from .._transports._base import Transport
from ._model import DEFAULT_ISPDB_URL, DiscoveredProbe, Discovery

# The discovery machinery (threads, HTTP, XML, DNS) is imported on first use: most
# apps never call these functions, and the package's import time is kept small.
PathLike = Union[str, "os.PathLike[str]"]
#: What ``probe_discovered`` calls to run the probe: the settings discovered and a
#: transport that connects to the addresses discovery checked.
ProbeCall = Callable[[InboxSettings, Transport], ProbeResult]


def discover(
    email: str,
    /,
    *,
    nameservers: Optional[Sequence[tuple[str, int]]] = None,
    ca_file: Optional[PathLike] = None,
    ssl_context: Optional[ssl.SSLContext] = None,
    ispdb_url: Optional[str] = DEFAULT_ISPDB_URL,
    sources: Optional[Iterable[str]] = None,
    verify: bool = True,
    timeout: float = 15.0,
    providers: Optional[Providers] = None,
    allow_private: bool = False,
    allow_http: bool = False,
) -> Discovery:
    """Find IMAP and SMTP settings for ``email`` the way mail clients do, and check
    each candidate by its greeting (no credentials are ever sent).

    Sources, in the order their candidates rank: the built-in provider data by the
    address's domain (``"provider"``) and by the domain's MX hosts (``"mx"``); the
    domain's own autoconfig file at ``https://autoconfig.<domain>/mail/config-v1.1.xml``
    and ``https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml``
    (``"autoconfig"``); the ISPDB at ``ispdb_url`` by the domain, then by the MX host's
    registered domain (``"ispdb"``; None turns it off); RFC 6186 SRV records, implicit
    TLS first as RFC 8314 prefers (``"srv"``); and guesses on ``imap.``, ``mail.`` and
    ``smtp.<domain>`` (``"guess"``), tried when the others found or verified nothing.
    ``sources`` picks which to use (all by default).

    ``nameservers`` are ``(address, port)`` pairs to ask instead of the system's name
    servers; every host discovery connects to is resolved through them. ``ca_file``
    (or ``ssl_context``) sets the trust for the HTTPS lookups and the greetings.
    ``verify=False`` skips the greetings (and with them the address checks).
    ``timeout`` bounds the whole discovery. A public domain whose hosts resolve to
    private or loopback addresses gets those candidates flagged (``private``) and not
    contacted, unless ``allow_private=True``; domains under ``.internal``, ``.lan``,
    ``.local``, ``.corp``, ``.home.arpa`` and the like are exempt. Autoconfig files are
    fetched over HTTPS only, unless ``allow_http=True``. ``providers`` is the provider
    data (``default_providers()`` when None).

    Needs dnspython (``pip install 'mailprobe[discovery]'``): ``ImportError`` names
    the extra when it is missing. Raises ``SettingsError`` for invalid options; what
    servers and name servers do is reported in the result, never raised.
    """
    from ._discover import Options, run  # noqa: PLC0415

    options = Options.check(
        email,
        nameservers=nameservers,
        ca_file=ca_file,
        ssl_context=ssl_context,
        ispdb_url=ispdb_url,
        sources=sources,
        verify=verify,
        timeout=timeout,
        providers=providers,
        allow_private=allow_private,
        allow_http=allow_http,
    )
    return run(options)


def probe_discovered(
    email: str,
    password: Optional[str] = None,
    /,
    *,
    oauth2_token: Optional[str] = None,
    test_recipient: Optional[str] = None,
    timeout: float = 30.0,
    discovery_timeout: float = 15.0,
    nameservers: Optional[Sequence[tuple[str, int]]] = None,
    ca_file: Optional[PathLike] = None,
    ssl_context: Optional[ssl.SSLContext] = None,
    ispdb_url: Optional[str] = DEFAULT_ISPDB_URL,
    sources: Optional[Iterable[str]] = None,
    providers: Optional[Providers] = None,
    allow_private: bool = False,
    allow_http: bool = False,
    probe: Optional[ProbeCall] = None,
) -> DiscoveredProbe:
    """Discover ``email``'s settings, then probe the best verified IMAP and SMTP
    candidates with ``password`` (or ``oauth2_token``).

    The discovery options are ``discover()``'s (its ``timeout`` is
    ``discovery_timeout``); ``test_recipient`` and ``timeout`` are ``probe()``'s. The
    password only ever goes to a candidate that greeted during discovery, at the
    address discovery checked (the host name is not looked up again). The result's
    ``imap``/``smtp`` candidates say where the settings came from; when either
    protocol has no verified candidate no probe runs and ``problem`` says why.

    ``probe``, when given, runs the probe instead of ``mailprobe.probe``: it is called
    with the ``InboxSettings`` and a ``Transport`` that connects to the checked
    addresses, which it should use (a configured client passes its own options here).
    Raises ``SettingsError`` for invalid options.
    """
    from ._discover import Options, run  # noqa: PLC0415
    from ._network import PinnedTransport  # noqa: PLC0415

    address = check_address("email", email)
    if password is None and oauth2_token is None:
        raise SettingsError("password", "give a password or an oauth2_token")
    if password is not None:
        check_text("password", password, secret=True)
    if oauth2_token is not None:
        check_text("oauth2_token", oauth2_token, secret=True)
    if test_recipient is not None:
        check_address("test_recipient", test_recipient)
    check_timeout("timeout", timeout)
    options = Options.check(
        address,
        nameservers=nameservers,
        ca_file=ca_file,
        ssl_context=ssl_context,
        ispdb_url=ispdb_url,
        sources=sources,
        verify=True,
        timeout=discovery_timeout,
        providers=providers,
        allow_private=allow_private,
        allow_http=allow_http,
    )
    call: ProbeCall = (
        probe
        if probe is not None
        else _default_probe(
            test_recipient=test_recipient,
            timeout=timeout,
            ca_file=ca_file,
            ssl_context=ssl_context,
            providers=providers,
        )
    )
    discovery = run(options)
    imap, smtp = discovery.best_imap, discovery.best_smtp
    missing = [name for name, c in (("IMAP", imap), ("SMTP", smtp)) if c is None]
    if imap is None or smtp is None:
        return DiscoveredProbe(
            discovery=discovery,
            imap=imap,
            smtp=smtp,
            problem=f"no {' or '.join(missing)} server answered during discovery; nothing probed",
        )
    settings = discovery.inbox_settings(password, oauth2_token=oauth2_token)
    assert settings is not None
    transport = PinnedTransport({imap.host: imap.addresses, smtp.host: smtp.addresses})
    return DiscoveredProbe(
        discovery=discovery, imap=imap, smtp=smtp, result=call(settings, transport)
    )


def _default_probe(
    *,
    test_recipient: Optional[str],
    timeout: float,
    ca_file: Optional[PathLike],
    ssl_context: Optional[ssl.SSLContext],
    providers: Optional[Providers],
) -> ProbeCall:
    def call(settings: InboxSettings, transport: Transport) -> ProbeResult:
        return run_probe(
            settings,
            transport=transport,
            test_recipient=test_recipient,
            timeout=timeout,
            ca_file=None if ca_file is None else str(ca_file),
            ssl_context=ssl_context,
            providers=providers,
        )

    return call
