"""Reading certificate facts from DER, whether or not the certificate was verified."""

from __future__ import annotations

import datetime
import ssl

import trustme

from mailprobe._x509 import summarize


def _der(pem: bytes) -> bytes:
    return ssl.PEM_cert_to_DER_cert(pem.decode())


def test_leaf_certificate_fields() -> None:
    ca = trustme.CA(organization_name="Example CA")
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    leaf = ca.issue_cert(
        "mail.example.com",
        "192.0.2.1",
        "2001:db8::1",
        common_name="mail.example.com",
        not_before=now - datetime.timedelta(days=10),
        not_after=now + datetime.timedelta(days=20),
    )
    summary = summarize(_der(leaf.cert_chain_pems[0].bytes()), now=now)
    assert "commonName=mail.example.com" in summary["subject"]
    assert "organizationName=Example CA" in summary["issuer"]
    assert summary["subject_alt_names"] == ["mail.example.com", "192.0.2.1", "2001:db8::1"]
    assert summary["not_after"] == "2030-01-21T00:00:00+00:00"
    assert summary["days_to_expiry"] == 20
    assert summary["self_signed"] is False
    assert summary["expires_soon"] is False
    assert (
        summarize(_der(leaf.cert_chain_pems[0].bytes()), now=now + datetime.timedelta(days=8))[
            "expires_soon"
        ]
        is True
    )


def test_self_signed_and_unreadable() -> None:
    ca = trustme.CA()
    assert summarize(_der(ca.cert_pem.bytes()))["self_signed"] is True
    broken = summarize(b"\x30\x82\xff\xff not a certificate")
    assert set(broken) == {"sha256", "parse_error"}
