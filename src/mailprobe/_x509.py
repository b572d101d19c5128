"""Just enough X.509 (RFC 5280) DER reading to describe a server's certificate.

The standard library only parses the peer certificate when it was verified; with
``allow_untrusted_certificate`` the probe still reports what the certificate says,
so the few fields needed are read from the DER bytes here.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import ipaddress
from typing import Any, Optional

_NAMES = {
    "2.5.4.3": "commonName",
    "2.5.4.6": "countryName",
    "2.5.4.7": "localityName",
    "2.5.4.8": "stateOrProvinceName",
    "2.5.4.10": "organizationName",
    "2.5.4.11": "organizationalUnitName",
    "1.2.840.113549.1.9.1": "emailAddress",
}
_SAN = "2.5.29.17"
EXPIRY_WARNING_DAYS = 14
#: Certificates larger than this are only fingerprinted (real ones are a few KB; a
#: hostile server's is not read at all).
MAX_CERTIFICATE = 64 * 1024
_MAX_OID = 64  # bytes in one OID (real ones have under 20)
_MAX_ARC = 9  # bytes in one OID arc: up to 63 bits, so no big-integer arithmetic
_MAX_NAMES = 500  # subject alternative names reported


class DERError(ValueError):
    """The bytes are not the DER this reader understands."""


def _read(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, content, next position) of the TLV at ``pos``."""
    if pos + 2 > len(data):
        raise DERError("truncated")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or pos + count > len(data):
            raise DERError("bad length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise DERError("truncated")
    return tag, data[pos : pos + length], pos + length


def _children(content: bytes) -> list[tuple[int, bytes]]:
    out, pos = [], 0
    while pos < len(content):
        tag, value, pos = _read(content, pos)
        out.append((tag, value))
    return out


def _oid(value: bytes) -> str:
    """The dotted form of a DER OID, in time linear in its (bounded) length."""
    if not value or len(value) > _MAX_OID:
        raise DERError("bad OID")
    parts = [value[0] // 40, value[0] % 40]
    number, size = 0, 0
    for byte in value[1:]:
        size += 1
        if size > _MAX_ARC:
            raise DERError("OID arc too long")
        number = (number << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(number)
            number, size = 0, 0
    return ".".join(str(p) for p in parts)


def _text(tag: int, value: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return value.decode("utf-16-be", "replace")
    return value.decode("utf-8" if tag == 0x0C else "latin-1", "replace")


def _name(content: bytes) -> str:
    parts = []
    for _set_tag, rdn in _children(content):
        for _seq_tag, pair in _children(rdn):
            (_oid_tag, oid), (value_tag, value) = _children(pair)[:2]
            key = _NAMES.get(_oid(oid), _oid(oid))
            parts.append(f"{key}={_text(value_tag, value)}")
    return ", ".join(parts)


def _time(tag: int, value: bytes) -> datetime.datetime:
    """UTCTime (YYMMDDHHMMSSZ; 50-99 are 19xx, RFC 5280 4.1.2.5.1) or GeneralizedTime
    (YYYYMMDDHHMMSSZ); ValueError for anything else."""
    digits = 12 if tag == 0x17 else 14
    if len(value) != digits + 1 or value[-1:] != b"Z" or not value[:-1].isdigit():
        raise ValueError(f"not a certificate time: {value[:20]!r}")
    if tag == 0x17:
        year = int(value[:2])
        year += 1900 if year >= 50 else 2000
        rest = value[2:]
    else:
        year, rest = int(value[:4]), value[4:]
    month, day, hour, minute, second = (int(rest[i : i + 2]) for i in range(0, 10, 2))
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.timezone.utc)


def _alt_names(extensions: bytes) -> list[str]:
    names: list[str] = []
    for _tag, extension in _children(extensions):
        fields = _children(extension)
        if _oid(fields[0][1]) != _SAN:
            continue
        _seq_tag, general_names, _end = _read(fields[-1][1], 0)
        for tag, value in _children(general_names):
            if len(names) >= _MAX_NAMES:
                break
            if tag == 0x82:  # dNSName
                names.append(value.decode("ascii", "replace"))
            elif tag == 0x87:  # iPAddress
                names.append(str(ipaddress.ip_address(value)))
    return names


def summarize(der: bytes, *, now: Optional[datetime.datetime] = None) -> dict[str, Any]:
    """Subject, issuer, SANs, validity, days to expiry, SHA-256 and self-signedness.

    Fields that cannot be read are left out; the fingerprint is always there.
    """
    sha256, read, alt_names, error = _parse(der)
    summary: dict[str, Any] = {"sha256": sha256}
    if read is not None:
        subject, issuer, starts, ends, self_signed = read
        moment = now or datetime.datetime.now(datetime.timezone.utc)
        summary.update(
            subject=subject,
            issuer=issuer,
            not_before=starts.isoformat(),
            not_after=ends.isoformat(),
            days_to_expiry=(ends - moment).days,
            self_signed=self_signed,
            subject_alt_names=list(alt_names),
        )
    if error is not None:
        summary["parse_error"] = error
    elif read is not None:
        summary["expires_soon"] = 0 <= summary["days_to_expiry"] <= EXPIRY_WARNING_DAYS
    return summary


_Read = tuple[str, str, datetime.datetime, datetime.datetime, bool]


@functools.lru_cache(maxsize=32)
def _parse(der: bytes) -> tuple[str, Optional[_Read], tuple[str, ...], Optional[str]]:
    """What ``summarize`` reports that does not depend on the time: the fingerprint,
    (subject, issuer, not before, not after, self-signed), the SANs and the parse error.

    Every connection's certificate is still received and verified in its handshake;
    only the reading of the very same bytes is remembered (a few certificates per
    process: one per server probed), since a Prober probes the same servers again
    and again.
    """
    sha256 = hashlib.sha256(der).hexdigest()
    if len(der) > MAX_CERTIFICATE:
        return sha256, None, (), f"the certificate is larger than {MAX_CERTIFICATE} bytes"
    read: Optional[_Read] = None
    alt_names: list[str] = []
    try:
        _tag, certificate, _end = _read(der, 0)
        _tag, tbs, _end = _read(certificate, 0)
        fields = _children(tbs)
        if fields and fields[0][0] == 0xA0:  # explicit version
            fields = fields[1:]
        issuer, validity, subject = fields[2][1], fields[3][1], fields[4][1]
        (nb_tag, not_before), (na_tag, not_after) = _children(validity)[:2]
        starts, ends = _time(nb_tag, not_before), _time(na_tag, not_after)
        read = (_name(subject), _name(issuer), starts, ends, issuer == subject)
        for tag, value in fields[6:]:
            if tag == 0xA3:  # [3] extensions
                alt_names = _alt_names(_read(value, 0)[1])
    except (DERError, IndexError, ValueError, UnicodeDecodeError):
        return sha256, read, tuple(alt_names), "the certificate could not be read"
    return sha256, read, tuple(alt_names), None
