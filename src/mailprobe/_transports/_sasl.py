"""SASL messages for the mechanisms mailprobe sends by hand (RFC 4616, RFC 7628, XOAUTH2)."""

from __future__ import annotations


def plain(username: str, password: str) -> bytes:
    """RFC 4616 PLAIN: empty authorization identity, NUL, user, NUL, password (UTF-8)."""
    return b"\0" + username.encode() + b"\0" + password.encode()


def xoauth2(username: str, token: str) -> bytes:
    """Google's and Microsoft's XOAUTH2: ``user=...^Aauth=Bearer ...^A^A``."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01".encode()


def _saslname(value: str) -> str:
    # RFC 7628 3.1 / RFC 5801: "," and "=" in the authzid are escaped.
    return value.replace("=", "=3D").replace(",", "=2C")


def oauthbearer(username: str, token: str, host: str, port: int) -> bytes:
    """RFC 7628 OAUTHBEARER client response: GS2 header, then key/value pairs."""
    return (
        f"n,a={_saslname(username)},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
    ).encode()


def oauth_mechanism(offered: set[str]) -> str | None:
    """The OAuth mechanism to use among those ``offered``: the standard one first."""
    for mechanism in ("OAUTHBEARER", "XOAUTH2"):
        if mechanism in offered:
            return mechanism
    return None


def oauth_response(mechanism: str, username: str, token: str, host: str, port: int) -> bytes:
    if mechanism == "OAUTHBEARER":
        return oauthbearer(username, token, host, port)
    return xoauth2(username, token)


#: What the client answers an error challenge with: RFC 7628 3.2.3 wants a single
#: %x01 for OAUTHBEARER; XOAUTH2 expects an empty response.
ERROR_ACK = {"OAUTHBEARER": b"\x01", "XOAUTH2": b""}
