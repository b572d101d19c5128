"""DNS for discovery through dnspython (the ``discovery`` extra): MX, SRV, A and AAAA.

The standard library cannot ask for MX or SRV records, so dnspython is an optional
dependency, imported only when discovery runs. Every lookup is bounded by the
deadline (dnspython's ``lifetime``), and only the first few records of an answer are
used, however many a server sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any, Optional

from .._deadline import Deadline
from .._errors import SettingsError
from .._settings import normalize_host

EXTRA_HINT = "settings discovery needs dnspython: pip install 'mailprobe[discovery]'"
MAX_MX = 10  # MX hosts kept per domain
MAX_SRV = 10  # SRV records kept per service
MAX_ADDRESSES = 8  # addresses kept per host (A and AAAA together)
_ATTEMPT = 2.0  # seconds one name server gets for one try before the next is asked


class LookupFailed(Exception):
    """A DNS question got no usable answer. ``status`` is ``"empty"`` (the name or
    the record does not exist), ``"timeout"`` or ``"failed"``."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def _dns() -> Any:
    """The dnspython modules discovery uses; ``ImportError`` naming the extra if absent."""
    try:
        import dns.exception  # noqa: PLC0415  (optional dependency, loaded on first use)
        import dns.message  # noqa: PLC0415
        import dns.nameserver  # noqa: PLC0415
        import dns.rdatatype  # noqa: PLC0415
        import dns.resolver  # noqa: PLC0415
    except ImportError as exc:
        raise ImportError(EXTRA_HINT) from exc
    return dns


def check_nameservers(value: object) -> Optional[tuple[tuple[str, int], ...]]:
    """``nameservers`` as ``((ip, port), ...)``; raises ``SettingsError``."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise SettingsError("nameservers", "must be a non-empty sequence of (host, port) pairs")
    out = []
    for item in value:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise SettingsError("nameservers", f"{item!r} is not a (host, port) pair")
        host, port = item
        try:
            address = str(ipaddress.ip_address(host))
        except ValueError:
            raise SettingsError(
                "nameservers", f"{host!r} is not an IP address (a name server is given by address)"
            ) from None
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise SettingsError("nameservers", f"port {port!r} is not a number from 1 to 65535")
        out.append((address, port))
    return tuple(out)


def _name(value: Any) -> Optional[str]:
    """A host name from an answer, normalized; None for the root (``.``) or garbage."""
    text = value.to_text(omit_final_dot=True) if hasattr(value, "to_text") else str(value)
    if not text or text == ".":
        return None
    try:
        return normalize_host("host", text)
    except SettingsError:
        return None


class Resolver:
    """Asks the configured name servers (the system's when None). Thread-safe."""

    def __init__(self, nameservers: Optional[Sequence[tuple[str, int]]] = None) -> None:
        self._dns = dns = _dns()
        if nameservers is None:
            try:
                resolver = dns.resolver.Resolver(configure=True)
            except dns.exception.DNSException as exc:
                # No /etc/resolv.conf: every lookup will say so, discovery goes on.
                self._resolver: Optional[Any] = None
                self._broken = f"no name server configured ({exc})"
                return
        else:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = [dns.nameserver.Do53Nameserver(h, p) for h, p in nameservers]
        resolver.timeout = _ATTEMPT
        resolver.cache = None
        self._resolver = resolver
        self._broken = ""

    def _ask(self, name: str, rdtype: str, deadline: Deadline) -> Any:
        dns = self._dns
        if self._resolver is None:
            raise LookupFailed("failed", self._broken)
        left = deadline.left()
        if left <= 0:
            raise LookupFailed("timeout", f"no time left to ask for {rdtype} {name}")
        try:
            return self._resolver.resolve(name, rdtype, search=False, lifetime=left)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            raise LookupFailed("empty", f"no {rdtype} record for {name}") from None
        except dns.exception.Timeout:
            raise LookupFailed("timeout", f"no answer for {rdtype} {name} in time") from None
        except dns.message.ChainTooLong:
            raise LookupFailed("failed", f"CNAME chain too long (or a loop) for {name}") from None
        except dns.resolver.NoNameservers as exc:
            raise LookupFailed(
                "failed", f"no name server answered {rdtype} {name}: {exc}"
            ) from None
        except dns.exception.DNSException as exc:
            raise LookupFailed(
                "failed", f"bad answer for {rdtype} {name}: {type(exc).__name__}"
            ) from None
        except (OSError, ValueError) as exc:
            raise LookupFailed("failed", f"lookup of {rdtype} {name} failed: {exc}") from None

    def mx(self, domain: str, deadline: Deadline) -> list[str]:
        """The domain's MX hosts, most preferred first (RFC 5321 5.1); a null MX
        (RFC 7505, ``0 .``) gives none."""
        answer = self._ask(domain, "MX", deadline)
        hosts: list[str] = []
        for record in sorted(answer, key=lambda r: int(r.preference)):
            host = _name(record.exchange)
            if host and host not in hosts:
                hosts.append(host)
                if len(hosts) == MAX_MX:
                    break
        return hosts

    def srv(self, name: str, deadline: Deadline) -> list[tuple[int, int, int, str]]:
        """``(priority, weight, port, target)`` for ``name``, by priority then weight
        (heaviest first); a target of ``.`` (RFC 2782: not offered) gives none."""
        answer = self._ask(name, "SRV", deadline)
        out = []
        for record in answer:  # at most a 64 KB message's worth: sorted whole, then cut
            target = _name(record.target)
            if target is None or not 1 <= int(record.port) <= 65535:
                continue
            out.append((int(record.priority), int(record.weight), int(record.port), target))
        out.sort(key=lambda r: (r[0], -r[1]))
        return out[:MAX_SRV]

    def addresses(self, host: str, deadline: Deadline) -> list[str]:
        """The host's IPv4 then IPv6 addresses (an IP address stands for itself)."""
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            pass
        found: list[str] = []
        failures: list[LookupFailed] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = self._ask(host, rdtype, deadline)
            except LookupFailed as exc:
                failures.append(exc)
                continue
            for record in list(answer)[:MAX_ADDRESSES]:
                address = str(ipaddress.ip_address(record.address))
                if address not in found:
                    found.append(address)
        if found:
            return found[:MAX_ADDRESSES]
        worst = next((f for f in failures if f.status != "empty"), failures[0])
        if worst.status == "empty":
            raise LookupFailed("empty", f"{host} has no address")
        raise worst
