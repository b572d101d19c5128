"""Finding the port and security mode that work, when the ones given do not.

Only a greeting (and, for STARTTLS, a finished TLS handshake) is asked of each
candidate: no credential is ever sent to an alternative the person did not choose.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any, Callable, Optional

from ._deadline import Deadline
from ._enums import Security
from ._errors import ProbeError
from ._models import ServerDefaults
from ._settings import ServerSettings
from ._transports._base import Endpoint, close_quietly

logger = logging.getLogger("mailprobe")

#: Causes of a failed connect that suggest the wrong port or security mode.
ELIGIBLE = frozenset(
    {
        "tls_mode_mismatch",
        "timeout",
        "connection_refused",
        "protocol_mismatch",
        "starttls_unavailable",
        "server_disconnected",
        "tls_handshake_failed",
    }
)
#: The usual ports, in the order a mail client tries them (RFC 8314 prefers implicit TLS).
USUAL = {
    "imap": ((993, Security.TLS), (143, Security.STARTTLS)),
    "smtp": ((465, Security.TLS), (587, Security.STARTTLS), (25, Security.STARTTLS)),
}
_PER_TRY = 5.0  # seconds: a candidate that says nothing in that time is not the one


def candidates(protocol: str, port: int, security: Security) -> list[tuple[int, Security]]:
    """Same port with the other TLS mode first, then the protocol's usual ports."""
    other = Security.STARTTLS if security is Security.TLS else Security.TLS
    ordered = [(port, other), *USUAL[protocol]]
    seen = {(port, security)}
    out = []
    for candidate in ordered:
        if candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out


def find_working(
    server: ServerSettings,
    *,
    protocol: str,
    opener: Callable[[Endpoint, Deadline], Any],
    context: ssl.SSLContext,
    deadline: Deadline,
) -> Optional[ServerDefaults]:
    """The first candidate for ``server`` that greets properly, within ``deadline``."""
    for port, security in candidates(protocol, server.port, server.security):
        try:
            left = deadline.remaining("looking for working settings")
        except ProbeError:
            return None
        attempt = Deadline(min(left, _PER_TRY))
        endpoint = Endpoint(host=server.host, port=port, security=security, tls_context=context)
        try:
            conn = opener(endpoint, attempt)
        except Exception as exc:  # any failure rules the candidate out
            logger.debug(
                "%s port %s with %s: %s", protocol, port, security.value, type(exc).__name__
            )
            continue
        finally:
            attempt.close()
        close_quietly(conn)
        return ServerDefaults(host=server.host, port=port, security=security)
    return None
