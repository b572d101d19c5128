"""Where discovery may connect: names resolved through its own resolver, the
private-address policy, and a transport that connects only to those addresses.

A public domain whose autoconfig host or mail server resolves to a loopback or
private address is either a mistake or an attempt to make a server-side app talk
to its own network; such addresses are reported and, unless the app allowed it
(``allow_private=True``), never contacted.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import ssl
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional, TypeVar, cast

import attrs

from .._deadline import Deadline
from .._errors import HostNotFoundError, NetworkError, RefusedError
from .._transports._base import Endpoint, ImapConnection, SmtpConnection, Transport
from .._transports._stdlib import StdlibTransport
from ._dns import LookupFailed, Resolver

C = TypeVar("C")

#: Domain suffixes of internal networks, where private addresses are expected:
#: RFC 6761 (localhost), RFC 6762 (local), RFC 8375 (home.arpa), ICANN's reserved
#: "internal", and names widely used inside companies and homes.
INTERNAL_SUFFIXES = ("localhost", "local", "internal", "home.arpa", "lan", "intranet", "corp")


def is_private_address(address: str) -> bool:
    """True for loopback, private, link-local, shared, reserved and multicast addresses."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def is_internal_domain(domain: str) -> bool:
    """True when ``domain`` names an internal network (see ``INTERNAL_SUFFIXES``)."""
    domain = domain.lower().rstrip(".")
    return any(domain == s or domain.endswith("." + s) for s in INTERNAL_SUFFIXES)


def _timed_out(future: concurrent.futures.Future[tuple[str, ...]]) -> bool:
    error = future.exception()
    return isinstance(error, LookupFailed) and error.status == "timeout"


@attrs.frozen
class Resolved:
    """A host's addresses: ``usable`` are those the policy lets discovery contact."""

    addresses: tuple[str, ...]
    usable: tuple[str, ...]
    private: bool


class Network:
    """Name resolution for one discovery, with the policy applied and answers shared
    between threads (each host is asked once)."""

    def __init__(self, resolver: Resolver, *, domain: str, allow_private: bool) -> None:
        self.resolver = resolver
        self.internal = is_internal_domain(domain)
        self.allow_private = allow_private or self.internal
        self._lock = threading.Lock()
        self._memo: dict[str, concurrent.futures.Future[tuple[str, ...]]] = {}

    def _lookup(self, host: str, deadline: Deadline) -> tuple[str, ...]:
        with self._lock:
            future = self._memo.get(host)
            if future is not None and future.done() and _timed_out(future):
                future = None  # asked under a shorter deadline (the lookups'): ask again
            mine = future is None
            if future is None:
                future = self._memo[host] = concurrent.futures.Future()
        if mine:
            try:
                future.set_result(tuple(self.resolver.addresses(host, deadline)))
            except BaseException as exc:
                future.set_exception(exc)
        try:
            return future.result(timeout=deadline.left())
        except concurrent.futures.TimeoutError:
            raise LookupFailed("timeout", f"no address for {host} in time") from None

    def resolve(self, host: str, deadline: Deadline, *, policy: bool = True) -> Resolved:
        """``host``'s addresses; raises ``LookupFailed``. With ``policy`` (the default),
        private addresses of a public domain are left out of ``usable`` unless allowed."""
        addresses = self._lookup(host, deadline)
        private = [a for a in addresses if is_private_address(a)]
        if not policy:
            return Resolved(addresses, addresses, False)
        usable = (
            addresses if self.allow_private else tuple(a for a in addresses if a not in private)
        )
        return Resolved(addresses, usable, bool(private) and not self.internal)


class _NamedContext:
    """``base`` with the host name fixed: the transport connects to an address and
    passes it as ``server_hostname``; the certificate must still match the name
    (and the name goes out as SNI). Everything else is ``base``'s own, so the probe's
    trust decisions (authorities, unverified on request) hold unchanged."""

    def __init__(self, base: ssl.SSLContext, name: str) -> None:
        self._base = base
        self._name = name

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        kwargs["server_hostname"] = self._name
        return self._base.wrap_socket(sock, *args, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._base, attribute)


def named_context(base: ssl.SSLContext, name: str) -> ssl.SSLContext:
    """``base`` for connections to an address of host ``name`` (see ``_NamedContext``)."""
    # The transports only call wrap_socket() on the context they are given.
    return cast(ssl.SSLContext, _NamedContext(base, name))


def _retry_next(exc: Exception) -> bool:
    # Only "nothing there" moves on to the next address; any answer is the server's.
    return isinstance(exc, RefusedError) or type(exc) is NetworkError


class PinnedTransport:
    """A ``Transport`` that connects to the addresses discovery resolved for each host
    name (never asking the system resolver again, so the password goes to the very
    address that was checked), verifying certificates against the host name."""

    def __init__(
        self, addresses: Mapping[str, Sequence[str]], inner: Optional[Transport] = None
    ) -> None:
        self._addresses = {host: tuple(a) for host, a in addresses.items()}
        self._inner: Transport = inner if inner is not None else StdlibTransport()

    def _each(
        self, endpoint: Endpoint, deadline: Deadline, opener: Callable[[Endpoint, Deadline], C]
    ) -> C:
        addresses = self._addresses.get(endpoint.host)
        if not addresses:
            raise HostNotFoundError(f"{endpoint.host} was not resolved during discovery")
        context = endpoint.tls_context
        pinned = named_context(context, endpoint.host) if context is not None else None
        last: Optional[Exception] = None
        for address in addresses:
            try:
                return opener(attrs.evolve(endpoint, host=address, tls_context=pinned), deadline)
            except Exception as exc:
                if not _retry_next(exc):
                    raise
                last = exc
        assert last is not None
        raise last

    def connect_imap(self, endpoint: Endpoint, deadline: Deadline) -> ImapConnection:
        return self._each(endpoint, deadline, self._inner.connect_imap)

    def connect_smtp(self, endpoint: Endpoint, deadline: Deadline) -> SmtpConnection:
        return self._each(endpoint, deadline, self._inner.connect_smtp)
