"""Email addresses and host names, validated strictly where they enter the library.

An address is accepted only as an RFC 5321 mailbox, ``Local-part "@" Domain``:

- the local part is a dot-string (RFC 5321 4.1.2 ``Dot-string``: atoms of ``atext``
  joined by single dots), with UTF-8 characters allowed as RFC 6531 allows them (the
  address then needs SMTPUTF8). Quoted local parts are refused: they are legal but
  rare, and their escapes are where header and command injection hides;
- RFC 2047 encoded words (``=?utf-8?q?...?=``) are refused: the ``email`` package
  decodes them while building headers, turning an innocent-looking address into
  ``<``, ``>``, ``,`` or CR/LF in the ``From:`` header;
- no control, format, separator or unassigned character anywhere, no comment, no
  whitespace, at most 64 octets of local part and 254 of address (RFC 5321 4.5.3.1);
- the domain is a host name (IDNA 2008 / UTS-46, see ``normalize_host``) or an
  address literal (``[192.0.2.1]``, ``[IPv6:2001:db8::1]``).

Host names are converted with the ``idna`` package (UTS-46 mapping, IDNA 2008), as
``requests`` and ``httpx`` do: the standard library's ``idna`` codec is IDNA 2003,
which turns ``straße.de`` into ``strasse.de``, another domain.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from typing import TYPE_CHECKING, Optional

import attrs

from ._errors import SettingsError

if TYPE_CHECKING:
    from email.headerregistry import Address

_FORBIDDEN = re.compile(r"[\r\n\x00]")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_ATEXT = frozenset(  # RFC 5322 3.2.3
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
)
_MAX_ADDRESS = 254
_MAX_LOCAL = 64
# Unicode general categories never allowed in an address: controls, format characters
# (bidi overrides, zero-width joiners), surrogates, private use, unassigned, separators.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _check_text(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise SettingsError(field, f"must be a string, not {type(value).__name__}")
    if not value:
        raise SettingsError(field, "must not be empty")
    if _FORBIDDEN.search(value):
        raise SettingsError(field, f"must not contain CR, LF or NUL characters ({value!r})")
    return value


def ascii_host(name: str) -> str:
    """``name`` (no trailing dot) in its ASCII form by UTS-46 / IDNA 2008; raises
    ``ValueError`` when it is not a valid host name."""
    if name.isascii() and "xn--" not in name.lower():
        ascii_name = name.lower()
    elif name.isascii():
        import idna  # noqa: PLC0415  (only for internationalized names)

        ascii_name = name.lower()
        for label in ascii_name.split("."):
            if label.startswith("xn--"):  # an A-label must decode to a valid U-label
                try:
                    idna.decode(label)
                except (idna.IDNAError, UnicodeError) as exc:
                    raise ValueError(str(exc)) from None
    else:
        import idna  # noqa: PLC0415

        try:
            ascii_name = idna.encode(name, uts46=True, transitional=False).decode("ascii")
        except (idna.IDNAError, UnicodeError) as exc:
            raise ValueError(str(exc)) from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("not a valid host name")
    return ascii_name


def normalize_host(field: str, value: object) -> str:
    """An IP address or a DNS name in its ASCII form (UTS-46 / IDNA 2008, lower case);
    ``[::1]`` becomes ``::1``. Raises ``SettingsError`` naming ``field``."""
    host = _check_text(field, value)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if not name or any(ch.isspace() for ch in name):
        raise SettingsError(field, f"{value!r} is not a host name or IP address")
    try:
        return ascii_host(name)
    except ValueError:
        raise SettingsError(field, f"{value!r} is not a valid host name") from None


@attrs.frozen
class Mailbox:
    """A validated RFC 5321 mailbox: ``local`` part and ``domain`` as given, and the
    domain in ASCII (A-labels, or an address literal)."""

    local: str
    domain: str
    ascii_domain: str

    @property
    def needs_smtputf8(self) -> bool:
        """True when the local part has non-ASCII characters (RFC 6531)."""
        return not self.local.isascii()

    @property
    def envelope(self) -> str:
        """``local@ascii-domain``: what goes between ``<`` and ``>`` on the wire."""
        return f"{self.local}@{self.ascii_domain}"

    def header_address(self) -> Address:
        """A structured header address: the ``email`` package never parses the text."""
        from email.headerregistry import Address  # noqa: PLC0415  (rarely needed)

        return Address(username=self.local, domain=self.ascii_domain)

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


def _check_local(field: str, address: str, local: str) -> None:
    if local.startswith('"'):
        raise SettingsError(field, f"{address!r}: quoted local parts are not accepted")
    if "=?" in local:
        raise SettingsError(
            field, f"{address!r}: encoded words (RFC 2047) are not allowed in an address"
        )
    if len(local.encode("utf-8")) > _MAX_LOCAL:
        raise SettingsError(field, f"{address!r}: the local part is longer than 64 octets")
    for atom in local.split("."):
        if not atom:
            raise SettingsError(field, f"{address!r}: empty atom (two dots, or a dot at an end)")
        for ch in atom:
            if ch in _ATEXT:
                continue
            if ch.isascii() or unicodedata.category(ch) in _BAD_CATEGORIES:
                raise SettingsError(
                    field, f"{address!r} is not a bare email address ({ch!r} not allowed)"
                )


def _ascii_domain(field: str, address: str, domain: str) -> str:
    if domain.startswith("[") and domain.endswith("]"):
        literal = domain[1:-1]
        try:
            if literal[:5].upper() == "IPV6:":
                return f"[IPv6:{ipaddress.IPv6Address(literal[5:])}]"
            return f"[{ipaddress.IPv4Address(literal)}]"
        except ValueError:
            raise SettingsError(
                field, f"{address!r}: {domain!r} is not an address literal"
            ) from None
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        pass
    else:
        raise SettingsError(field, f"{address!r}: write an IP address as [{domain}]")
    for ch in domain:
        if ch.isascii() and not (ch.isalnum() or ch in "-._"):
            raise SettingsError(field, f"{address!r} is not a bare email address ({ch!r})")
        if not ch.isascii() and unicodedata.category(ch) in _BAD_CATEGORIES:
            raise SettingsError(field, f"{address!r} is not a bare email address ({ch!r})")
    name = domain[:-1] if domain.endswith(".") else domain
    try:
        return ascii_host(name)
    except ValueError:
        raise SettingsError(field, f"{address!r}: {domain!r} is not a valid domain") from None


def parse_mailbox(field: str, value: object) -> Mailbox:
    """``value`` as a ``Mailbox``; raises ``SettingsError`` naming ``field``."""
    address = _check_text(field, value)
    if len(address.encode("utf-8")) > _MAX_ADDRESS:
        raise SettingsError(field, f"{address!r} is longer than {_MAX_ADDRESS} octets")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise SettingsError(field, f"{address!r} is not an email address (local@domain)")
    _check_local(field, address, local)
    return Mailbox(local=local, domain=domain, ascii_domain=_ascii_domain(field, address, domain))


def check_address(field: str, value: object) -> str:
    """A bare email address (``local@domain``, RFC 5321 mailbox syntax), refusing
    anything that could inject a header or a command. Returns it unchanged."""
    parse_mailbox(field, value)
    assert isinstance(value, str)
    return value


def envelope_address(address: str) -> str:
    """``address`` as the SMTP envelope carries it: the domain in ASCII (A-labels)."""
    return parse_mailbox("address", address).envelope


def mailbox_or_none(address: str) -> Optional[Mailbox]:
    try:
        return parse_mailbox("address", address)
    except SettingsError:
        return None
