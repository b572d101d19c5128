"""TLS contexts and what a handshake tells about the server's certificate.

Contexts are built once per distinct trust store and reused: loading certifi's
bundle costs milliseconds, and ``SSLContext.wrap_socket`` is thread-safe.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any, Optional

from ._errors import SettingsError
from ._x509 import summarize

# OpenSSL X509_V_ERR_* codes (x509_vfy.h) mapped to the reason slugs of CertificateError.
_VERIFY_REASONS = {
    9: "not_yet_valid",  # CERT_NOT_YET_VALID
    10: "expired",  # CERT_HAS_EXPIRED
    18: "self_signed",  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: "self_signed",  # SELF_SIGNED_CERT_IN_CHAIN
    20: "unknown_ca",  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "unknown_ca",  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
    2: "unknown_ca",  # UNABLE_TO_GET_ISSUER_CERT
    62: "hostname_mismatch",  # HOSTNAME_MISMATCH
    64: "hostname_mismatch",  # IP_ADDRESS_MISMATCH
}


def verify_reason(exc: ssl.SSLCertVerificationError) -> str:
    """The ``CertificateError.reason`` slug for a failed verification."""
    reason = _VERIFY_REASONS.get(getattr(exc, "verify_code", -1) or -1)
    if reason:
        return reason
    text = str(getattr(exc, "verify_message", "") or exc).lower()
    for needle, slug in (
        ("expired", "expired"),
        ("not yet valid", "not_yet_valid"),
        ("self-signed", "self_signed"),
        ("self signed", "self_signed"),
        ("hostname mismatch", "hostname_mismatch"),
        ("ip address mismatch", "hostname_mismatch"),
        ("unable to get local issuer", "unknown_ca"),
    ):
        if needle in text:
            return slug
    return "untrusted"


def _harden(context: ssl.SSLContext) -> ssl.SSLContext:
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def certifi_bundle() -> str:
    """The path of certifi's CA bundle.

    Found next to the installed package without importing it: ``certifi.where()``
    goes through ``importlib.resources``, which costs more than the rest of a cold
    probe's set-up. A package that is not a plain directory (a zip) falls back to
    ``certifi.where()``.
    """
    import importlib.util  # noqa: PLC0415
    import os  # noqa: PLC0415

    spec = importlib.util.find_spec("certifi")
    if spec is not None and spec.origin:
        bundle = os.path.join(os.path.dirname(spec.origin), "cacert.pem")
        if os.path.isfile(bundle):
            return bundle
    import certifi  # noqa: PLC0415

    return str(certifi.where())


@functools.lru_cache(maxsize=32)
def verifying_context(ca_file: Optional[str] = None) -> ssl.SSLContext:
    """Chain and host name verified against certifi's bundle plus ``ca_file``."""
    context = ssl.create_default_context(cafile=certifi_bundle())
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise SettingsError(
                "ca_file", f"cannot load a PEM CA bundle from {ca_file!r}: {exc}"
            ) from None
    return _harden(context)


@functools.lru_cache(maxsize=1)
def unverified_context() -> ssl.SSLContext:
    """Encrypts but trusts any certificate: only for ``allow_untrusted_certificate``."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return _harden(context)


def describe(sock: ssl.SSLSocket) -> dict[str, Any]:
    """TLS version, cipher and what the peer certificate says, as JSON-safe data.

    The certificate is read from its DER bytes, so it is described even when it was
    not verified (``allow_untrusted_certificate``).
    """
    cipher = sock.cipher()
    der = sock.getpeercert(binary_form=True)
    return {
        "tls_version": sock.version(),
        "cipher": cipher[0] if cipher else None,
        "certificate": summarize(der) if der else None,
    }
