"""A small, bounded HTTPS GET for autoconfig files.

The host is resolved through discovery's resolver and the private-address policy;
the connection goes to that address with the certificate checked against the host
name; the body is read up to a byte cap; redirects are followed a few times, to
HTTPS only (plain HTTP only with ``allow_http``); and the deadline shuts the socket
down however slowly the server drips. Nothing secret is ever sent: discovery has no
password.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.parse
from typing import Optional

import attrs

from .._deadline import Deadline
from .._errors import DeadlineExceeded, SettingsError
from .._settings import normalize_host
from .._tls import verify_reason
from .._transports._net import Connected, Wire, connect
from ._dns import LookupFailed
from ._network import Network

MAX_BODY = 100_000  # bytes; Thunderbird's config files are a few kilobytes
MAX_REDIRECTS = 3
USER_AGENT = "mailprobe (settings discovery)"


class FetchFailed(Exception):
    """No document. ``status`` is ``"empty"`` (not there), ``"failed"``, ``"timeout"``
    or ``"blocked"`` (not asked, by policy)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


@attrs.frozen
class _Target:
    scheme: str
    host: str
    port: int
    path: str


def _target(url: str, allow_http: bool) -> _Target:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise FetchFailed("blocked", f"{url}: only https URLs are fetched")
    if parts.scheme == "http" and not allow_http:
        raise FetchFailed("blocked", f"{url}: plain HTTP is not used unless allow_http=True")
    try:
        host = normalize_host("url", parts.hostname or "")
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except (SettingsError, ValueError):
        raise FetchFailed("failed", f"{url}: not a usable URL") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.scheme, host, port, path)


def fetch(
    url: str,
    *,
    network: Network,
    context: ssl.SSLContext,
    deadline: Deadline,
    allow_http: bool = False,
    policy: bool = True,
) -> tuple[str, bytes]:
    """``(final URL, body)`` of a 200 answer; raises ``FetchFailed``. ``policy=False``
    exempts the host from the private-address policy (an app-configured server)."""
    for _ in range(MAX_REDIRECTS + 1):
        target = _target(url, allow_http)
        location = _get(target, network=network, context=context, deadline=deadline, policy=policy)
        if isinstance(location, bytes):
            return url, location
        url = urllib.parse.urljoin(url, location)
        policy = True  # wherever a redirect leads, the policy applies
    raise FetchFailed("failed", f"more than {MAX_REDIRECTS} redirects")


def _get(
    target: _Target, *, network: Network, context: ssl.SSLContext, deadline: Deadline, policy: bool
) -> bytes | str:
    """The body of a 200 answer, or the ``Location`` of a redirect."""
    try:
        resolved = network.resolve(target.host, deadline, policy=policy)
    except LookupFailed as exc:
        raise FetchFailed(exc.status, str(exc)) from None
    if not resolved.usable:
        shown = ", ".join(resolved.addresses)
        raise FetchFailed(
            "blocked",
            f"{target.host} resolves to private or loopback addresses only ({shown}); "
            "not contacted (allow_private=False)",
        )
    connected: Optional[Connected] = None
    last = ""
    for address in resolved.usable:
        try:
            connected = connect(address, target.port, deadline)
            break
        except (OSError, DeadlineExceeded) as exc:
            if deadline.expired:
                raise FetchFailed("timeout", f"connecting to {target.host} timed out") from None
            last = f"{address}: {exc}"
    if connected is None:
        raise FetchFailed("failed", f"cannot connect to {target.host} ({last})")
    sock = connected.sock
    wire = Wire(connected)
    cancel = deadline.on_expiry(wire.abort)
    conn: Optional[http.client.HTTPConnection] = None
    try:
        conn = _request(sock, target, context, deadline)
        return _read(conn, target, deadline)
    except FetchFailed:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise FetchFailed(
            "failed", f"{target.host}: certificate not trusted ({verify_reason(exc)})"
        ) from None
    except (OSError, http.client.HTTPException, DeadlineExceeded) as exc:
        if deadline.expired or isinstance(exc, (socket.timeout, DeadlineExceeded)):
            raise FetchFailed("timeout", f"{target.host} did not answer in time") from None
        raise FetchFailed("failed", f"{target.host}: {type(exc).__name__}: {exc}") from None
    finally:
        cancel()
        if conn is not None:
            conn.close()
        sock.close()
        wire.close()


def _request(
    sock: socket.socket, target: _Target, context: ssl.SSLContext, deadline: Deadline
) -> http.client.HTTPConnection:
    sock.settimeout(deadline.remaining("fetching an autoconfig file"))
    conn = http.client.HTTPConnection(target.host, target.port)
    if target.scheme == "https":
        conn.sock = context.wrap_socket(sock, server_hostname=target.host)
    else:
        conn.sock = sock
    default = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default else f"{target.host}:{target.port}"
    conn.putrequest("GET", target.path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", host_header)
    conn.putheader("Accept", "application/xml, text/xml;q=0.9, */*;q=0.1")
    conn.putheader("Accept-Encoding", "identity")
    conn.putheader("User-Agent", USER_AGENT)
    conn.putheader("Connection", "close")
    conn.endheaders()
    return conn


def _read(conn: http.client.HTTPConnection, target: _Target, deadline: Deadline) -> bytes | str:
    response = conn.getresponse()
    where = f"{target.host}{target.path}"
    if response.status in (301, 302, 303, 307, 308):
        location = response.getheader("Location")
        if not location:
            raise FetchFailed("failed", f"{where}: redirect without a Location")
        return location
    if response.status in (404, 410):
        raise FetchFailed("empty", f"{where}: not found (HTTP {response.status})")
    if response.status != 200:
        raise FetchFailed("failed", f"{where}: HTTP {response.status} {response.reason}")
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        raise FetchFailed("failed", f"{where}: larger than {MAX_BODY} bytes ({declared})")
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.read1(min(65536, MAX_BODY + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            raise FetchFailed("failed", f"{where}: larger than {MAX_BODY} bytes")
    if deadline.expired:
        raise FetchFailed("timeout", f"{where}: the deadline passed while reading")
    return b"".join(chunks)
