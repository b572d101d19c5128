"""What a person typed into the connection form, validated at construction."""

from __future__ import annotations

import math
import re
from typing import Optional

import attrs

from ._address import check_address as check_address  # noqa: PLC0414 (re-export)
from ._address import normalize_host as normalize_host  # noqa: PLC0414
from ._enums import Security
from ._errors import SettingsError

_FORBIDDEN = re.compile(r"[\r\n\x00]")
_MAX_TIMEOUT = 86400  # a day; socket timeouts and timers overflow long before 1e308


def check_text(field: str, value: object, *, secret: bool = False) -> str:
    """A non-empty string without CR, LF or NUL (which would let it inject commands)."""
    if not isinstance(value, str):
        raise SettingsError(field, f"must be a string, not {type(value).__name__}")
    if not value:
        raise SettingsError(field, "must not be empty")
    if _FORBIDDEN.search(value):
        # Never echo the value: it may be a password.
        shown = "" if secret else f" ({value!r})"
        raise SettingsError(field, f"must not contain CR, LF or NUL characters{shown}")
    return value


def check_port(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(field, f"must be an integer, not {type(value).__name__}")
    if not 1 <= value <= 65535:
        raise SettingsError(field, f"{value} is outside 1-65535")
    return value


def check_timeout(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(field, f"must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise SettingsError(field, f"must be a positive number of seconds, not {value!r}")
    if value > _MAX_TIMEOUT:
        raise SettingsError(field, f"must be at most {_MAX_TIMEOUT} seconds, not {value!r}")
    return float(value)


def _host(value: object) -> str:
    return normalize_host("host", value)


def _port(value: object) -> int:
    return check_port("port", value)


def _email(value: object) -> str:
    return check_address("email", value)


def _username(value: object) -> Optional[str]:
    return None if value is None else check_text("username", value)


def _password(value: object) -> str:
    return check_text("password", value, secret=True)


def _optional_password(value: object) -> Optional[str]:
    return None if value is None else _password(value)


def _token(value: object) -> Optional[str]:
    return None if value is None else check_text("oauth2_token", value, secret=True)


def _security(value: object) -> Optional[Security]:
    if value is None or isinstance(value, Security):
        return value
    try:
        return Security(value)
    except ValueError:
        choices = ", ".join(s.value for s in Security)
        raise SettingsError("security", f"{value!r} is not one of {choices}") from None


@attrs.frozen(kw_only=True)
class ServerSettings:
    """One server: host, port and how the connection is protected.

    ``security`` defaults from the port (993 and 465: TLS; 143, 587 and 25:
    STARTTLS; any other port: TLS). ``username`` and ``password`` override the
    inbox's for this server only. Raises ``SettingsError`` naming the bad field.
    """

    host: str = attrs.field(converter=_host)
    port: int = attrs.field(converter=_port)
    security: Security = attrs.field(default=None, converter=_security)
    username: Optional[str] = attrs.field(default=None, converter=_username)
    password: Optional[str] = attrs.field(default=None, repr=False, converter=_optional_password)

    def __attrs_post_init__(self) -> None:
        if self.security is None:
            object.__setattr__(self, "security", Security.for_port(self.port))


def _server(field: str, value: object) -> ServerSettings:
    if not isinstance(value, ServerSettings):
        raise SettingsError(field, f"must be ServerSettings, not {type(value).__name__}")
    return value


def _imap(value: object) -> ServerSettings:
    return _server("imap", value)


def _smtp(value: object) -> ServerSettings:
    return _server("smtp", value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise SettingsError("allow_untrusted_certificate", "must be True or False")
    return value


@attrs.frozen(kw_only=True)
class InboxSettings:
    """A mailbox to check: its address, password and the two servers.

    ``email`` is the login name unless ``username`` is given, and the sender of
    the test email. Give a ``password``, or an ``oauth2_token`` (an access token
    the app obtained; the servers are then logged in to with OAUTHBEARER or
    XOAUTH2). Neither ever appears in ``repr`` or any output.
    ``allow_untrusted_certificate`` lets the probe go on past an untrusted
    certificate (the result still reports it). Raises ``SettingsError``.
    """

    email: str = attrs.field(converter=_email)
    password: Optional[str] = attrs.field(default=None, repr=False, converter=_optional_password)
    imap: ServerSettings = attrs.field(converter=_imap)
    smtp: ServerSettings = attrs.field(converter=_smtp)
    username: Optional[str] = attrs.field(default=None, converter=_username)
    allow_untrusted_certificate: bool = attrs.field(default=False, converter=_flag)
    oauth2_token: Optional[str] = attrs.field(default=None, repr=False, converter=_token)

    def __attrs_post_init__(self) -> None:
        if self.password is None and self.oauth2_token is None:
            raise SettingsError("password", "give a password or an oauth2_token")

    def uses_oauth2(self, server: ServerSettings) -> bool:
        """True when ``server`` is logged in to with the access token, not a password."""
        return server.password is None and self.oauth2_token is not None

    def login_for(self, server: ServerSettings) -> tuple[str, str]:
        """The (login name, secret) used on ``server``: its own password, else the
        inbox's access token when one is given, else the inbox's password."""
        username = server.username or self.username or self.email
        if server.password is not None:
            return username, server.password
        secret = self.oauth2_token if self.oauth2_token is not None else self.password
        assert secret is not None  # guaranteed by __attrs_post_init__
        return username, secret
