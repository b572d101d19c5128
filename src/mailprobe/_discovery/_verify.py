"""Checking a candidate with its greeting only.

A candidate is resolved through discovery's resolver, held to the private-address
policy, and connected to at those addresses: TLS handshake (implicit or after
STARTTLS) with the certificate checked against the host name, the greeting, EHLO
for SMTP, then LOGOUT or QUIT. No login command and no credential is ever sent.
"""

from __future__ import annotations

import ssl
from typing import Any, Callable

import attrs

from .._deadline import Deadline
from .._enums import Security
from .._errors import (
    CertificateError,
    DeadlineExceeded,
    HostNotFoundError,
    ProbeError,
    RefusedError,
)
from .._transports._base import Endpoint, close_quietly
from ._dns import LookupFailed
from ._model import Candidate
from ._network import Network, PinnedTransport

PER_ATTEMPT = 5.0  # seconds: a server that has not greeted by then is not the one
_MAX_GREETING = 200


def describe(exc: BaseException) -> str:
    """Why a candidate did not greet as expected, in words."""
    if isinstance(exc, CertificateError):
        return f"certificate not trusted ({exc.reason}): {exc}"
    if isinstance(exc, DeadlineExceeded):
        return "no answer in time"
    if isinstance(exc, RefusedError):
        return "connection refused"
    if isinstance(exc, HostNotFoundError):
        return f"host not found: {exc}"
    if isinstance(exc, ProbeError):
        return f"{type(exc).__name__}: {exc}"
    return f"unexpected {type(exc).__name__}"


def check(
    candidate: Candidate, *, network: Network, context: ssl.SSLContext, deadline: Deadline
) -> Candidate:
    """``candidate`` with ``addresses``, ``private`` and either ``verified`` or
    ``problem`` filled in."""
    try:
        resolved = network.resolve(candidate.host, deadline)
    except LookupFailed as exc:
        problem = "no answer in time" if exc.status == "timeout" else f"host not found: {exc}"
        return attrs.evolve(candidate, problem=problem)
    candidate = attrs.evolve(candidate, addresses=resolved.usable, private=resolved.private)
    if not resolved.usable:
        shown = ", ".join(resolved.addresses)
        return attrs.evolve(
            candidate,
            problem=f"resolves to a private or loopback address ({shown}) although the domain "
            "is public; not contacted (allow_private=False)",
        )
    transport = PinnedTransport({candidate.host: resolved.usable})
    opener: Callable[[Endpoint, Deadline], Any] = (
        transport.connect_imap if candidate.protocol == "imap" else transport.connect_smtp
    )
    endpoint = Endpoint(
        host=candidate.host,
        port=candidate.port,
        security=candidate.security,
        tls_context=None if candidate.security is Security.NONE else context,
    )
    left = deadline.left()
    if left <= 0:
        return attrs.evolve(candidate, problem="not checked: the deadline passed")
    attempt = Deadline(min(left, PER_ATTEMPT))
    cancel = deadline.on_expiry(attempt.expire)
    try:
        conn = opener(endpoint, attempt)
        try:
            greeting = str(conn.info.greeting)[:_MAX_GREETING]
        finally:
            close_quietly(conn)  # LOGOUT or QUIT, still under the attempt's deadline
    except Exception as exc:
        return attrs.evolve(candidate, problem=describe(exc))
    finally:
        cancel()
        attempt.close()
    return attrs.evolve(candidate, verified=True, greeting=greeting)
