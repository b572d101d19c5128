"""Reading certificate facts from DER, whether or not the certificate was verified."""

from __future__ import annotations

import datetime
import ssl

import pytest
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


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def _certificate_with_oid(oid_body: bytes) -> bytes:
    """A certificate-shaped DER whose issuer carries one attribute with ``oid_body``."""
    name = _tlv(0x30, _tlv(0x31, _tlv(0x30, _tlv(0x06, oid_body) + _tlv(0x0C, b"x"))))
    validity = _tlv(0x30, _tlv(0x17, b"300101000000Z") + _tlv(0x17, b"310101000000Z"))
    tbs = _tlv(0x30, _tlv(0x02, b"\x01") + _tlv(0x30, b"") + name + validity + name)
    return _tlv(0x30, tbs)


def test_a_very_long_oid_costs_no_time() -> None:
    import time

    for body in (b"\x2a" + b"\xff" * 60_000 + b"\x01", b"\x2a" + b"\x81\x01" * 30_000):
        der = _certificate_with_oid(body)
        started = time.perf_counter()
        summary = summarize(der)
        assert time.perf_counter() - started < 0.05
        assert "parse_error" in summary and "sha256" in summary


def test_a_normal_oid_still_reads() -> None:
    summary = summarize(_certificate_with_oid(b"\x55\x04\x03"))  # 2.5.4.3 commonName
    assert summary["subject"] == "commonName=x"


def test_an_oversized_certificate_is_only_fingerprinted() -> None:
    from mailprobe._x509 import MAX_CERTIFICATE

    der = _certificate_with_oid(b"\x55\x04\x03") + b"\0" * MAX_CERTIFICATE
    summary = summarize(der)
    assert set(summary) == {"sha256", "parse_error"}


def test_certificate_times_follow_rfc_5280() -> None:
    from mailprobe._x509 import _time

    utc = datetime.timezone.utc
    # UTCTime: 50-99 are 19xx, 00-49 are 20xx (RFC 5280 4.1.2.5.1).
    assert _time(0x17, b"490101000000Z") == datetime.datetime(2049, 1, 1, tzinfo=utc)
    assert _time(0x17, b"500101000000Z") == datetime.datetime(1950, 1, 1, tzinfo=utc)
    assert _time(0x17, b"691231235959Z") == datetime.datetime(1969, 12, 31, 23, 59, 59, tzinfo=utc)
    assert _time(0x18, b"20500615120000Z") == datetime.datetime(2050, 6, 15, 12, tzinfo=utc)
    for tag, bad in [
        (0x17, b"4901010000Z"),  # seconds missing
        (0x17, b"490101000000"),  # no Z
        (0x18, b"2050061512000+Z"),
        (0x17, b"491301000000Z"),  # month 13
        (0x18, b"205006151200000Z"),  # too long
        (0x17, "49\uff101010000\uff10Z".encode()),  # fullwidth digits, not ASCII
    ]:
        with pytest.raises(ValueError, match=r"certificate time|month"):
            _time(tag, bad)
