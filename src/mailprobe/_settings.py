"""What a person typed into the connection form, validated at construction."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Callable, Optional, TypeVar

import attrs

from ._address import check_address as check_address  # noqa: PLC0414 (re-export)
from ._address import normalize_host as normalize_host  # noqa: PLC0414
from ._enums import Security
from ._errors import SettingsError

_FORBIDDEN = re.compile(r"[\r\n\x00]")
_MAX_TIMEOUT = 86400  # a day; socket timeouts and timers overflow long before 1e308
#: The ports whose security mode is known without asking the server (RFC 8314, RFC 6409).
USUAL_PORTS = frozenset({993, 465, 143, 587, 25})
T = TypeVar("T")


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

    ``security`` defaults from the port when left out (993 and 465: TLS; 143, 587 and
    25: STARTTLS). On any other port it stays None and the probe finds the mode
    itself, without sending credentials (a TLS handshake means TLS, a plain-text
    greeting means STARTTLS); ``Security.NONE`` is only used when asked for.
    ``username`` and ``password`` override the inbox's for this server only.
    Raises ``SettingsError`` naming the bad field.
    """

    host: str = attrs.field(converter=_host)
    port: int = attrs.field(converter=_port)
    security: Optional[Security] = attrs.field(default=None, converter=_security)
    username: Optional[str] = attrs.field(default=None, converter=_username)
    password: Optional[str] = attrs.field(default=None, repr=False, converter=_optional_password)

    def __attrs_post_init__(self) -> None:
        if self.security is None and self.port in USUAL_PORTS:
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

    @classmethod
    def from_form(cls, form: Mapping[str, object]) -> InboxSettings:
        """Read settings the way a web form sends them.

        Takes the flat keys ``email``, ``password``, ``username``, ``oauth2_token``,
        ``imap_host``, ``imap_port``, ``imap_security``, ``imap_username``,
        ``imap_password`` (and the same for ``smtp_``), ``allow_untrusted_certificate``,
        or the nested form ``{"imap": {"host": ..., "port": ...}, ...}``. Ports may be
        strings; a missing port follows the security mode (else 993 for IMAP and 587
        for SMTP); security is read case-insensitively with the names people use
        (``ssl``, ``SSL/TLS``, ``tls``, ``starttls``, ``none``, ``plain``); surrounding
        whitespace is stripped (never from a password or token, which are kept as
        typed); empty fields count as absent; a checkbox's ``"on"`` is True. Other keys
        are ignored.

        Raises one ``SettingsError`` whose ``errors`` lists ``(field, problem)`` for
        every bad field, with full paths (``"imap.port"``).
        """
        return _read_form(form)

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


# -- forms -------------------------------------------------------------------------
_FORM_SECURITY = {
    "tls": Security.TLS,
    "ssl": Security.TLS,
    "ssl/tls": Security.TLS,
    "tls/ssl": Security.TLS,
    "implicit": Security.TLS,
    "implicit tls": Security.TLS,
    "starttls": Security.STARTTLS,
    "start tls": Security.STARTTLS,
    "start_tls": Security.STARTTLS,
    "start-tls": Security.STARTTLS,
    "none": Security.NONE,
    "plain": Security.NONE,
    "plaintext": Security.NONE,
    "unencrypted": Security.NONE,
}
_FORM_AUTO = {"auto", "automatic", "default"}
_TRUE = {"1", "true", "yes", "on", "checked"}
_FALSE = {"0", "false", "no", "off"}
_PORT_TEXT = re.compile(r"[0-9]{1,5}")
_DEFAULT_PORTS = {
    "imap": {None: 993, Security.TLS: 993, Security.STARTTLS: 143, Security.NONE: 143},
    "smtp": {None: 587, Security.TLS: 465, Security.STARTTLS: 587, Security.NONE: 587},
}


class _Form:
    """One form being read: values by full path, and every problem found."""

    def __init__(self, form: Mapping[str, object]) -> None:
        self.values: dict[str, object] = {}
        self.errors: list[tuple[str, str]] = []
        for key, value in form.items():
            if isinstance(key, str) and key in _FLAT:
                self.values[_FLAT[key]] = value
        for server in ("imap", "smtp"):
            nested = form.get(server)
            if isinstance(nested, ServerSettings):
                self.values[server] = nested
            elif isinstance(nested, Mapping):
                for key, value in nested.items():
                    if key in _SERVER_KEYS:
                        self.values[f"{server}.{key}"] = value
            elif nested is not None and not (isinstance(nested, str) and not nested.strip()):
                self.problem(server, "must be a group of server fields")

    def problem(self, path: str, text: str) -> None:
        self.errors.append((path, text))

    def raw(self, path: str, *, strip: bool = True) -> Optional[object]:
        """The value at ``path``; None when absent or empty."""
        value = self.values.get(path)
        if isinstance(value, str):
            text = value.strip() if strip else value
            return text if text.strip() else None
        return value

    def read(self, path: str, convert: Callable[[object], T], *, strip: bool = True) -> Optional[T]:
        value = self.raw(path, strip=strip)
        if value is None:
            return None
        try:
            return convert(value)
        except SettingsError as exc:
            self.problem(path, exc.problem)
            return None


_SERVER_KEYS = ("host", "port", "security", "username", "password")
_FLAT = {
    "email": "email",
    "password": "password",
    "username": "username",
    "oauth2_token": "oauth2_token",
    "allow_untrusted_certificate": "allow_untrusted_certificate",
    **{f"{s}_{k}": f"{s}.{k}" for s in ("imap", "smtp") for k in _SERVER_KEYS},
}


def _form_port(value: object) -> int:
    if isinstance(value, str):
        if not _PORT_TEXT.fullmatch(value):
            raise SettingsError("port", f"must be a whole number from 1 to 65535, not {value!r}")
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError("port", f"must be a whole number, not {type(value).__name__}")
    if not 1 <= value <= 65535:
        raise SettingsError("port", f"must be from 1 to 65535, not {value}")
    return value


def _form_security(value: object) -> Optional[Security]:
    if isinstance(value, Security):
        return value
    if not isinstance(value, str):
        raise SettingsError("security", f"must be a security mode, not {type(value).__name__}")
    name = " ".join(value.lower().split())
    if name in _FORM_AUTO:
        return None
    if name in _FORM_SECURITY:
        return _FORM_SECURITY[name]
    raise SettingsError(
        "security", f"{value[:40]!r} is not a security mode: choose TLS (SSL), STARTTLS or none"
    )


def _form_flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    raise SettingsError("allow_untrusted_certificate", "must be on or off (true or false)")


def _form_server(form: _Form, name: str) -> Optional[ServerSettings]:
    given = form.values.get(name)
    if isinstance(given, ServerSettings):
        return given
    if form.raw(f"{name}.host") is None:
        form.problem(f"{name}.host", "is required")
    host = form.read(f"{name}.host", lambda v: normalize_host(f"{name}.host", v))
    security = form.read(f"{name}.security", _form_security)
    port = form.read(f"{name}.port", _form_port)
    username = form.read(f"{name}.username", lambda v: check_text(f"{name}.username", v))
    password = form.read(
        f"{name}.password", lambda v: check_text("password", v, secret=True), strip=False
    )
    if host is None or any(path.startswith(f"{name}.") for path, _ in form.errors):
        return None
    if port is None:
        port = _DEFAULT_PORTS[name][security]
    return ServerSettings(
        host=host, port=port, security=security, username=username, password=password
    )


def _read_form(form: Mapping[str, object]) -> InboxSettings:
    if not isinstance(form, Mapping):
        raise SettingsError("form", f"must be a mapping of fields, not {type(form).__name__}")
    reader = _Form(form)
    email = reader.read("email", lambda v: check_address("email", v))
    if reader.raw("email") is None:
        reader.problem("email", "is required")
    password = reader.read("password", _password, strip=False)
    token = reader.read("oauth2_token", _token, strip=False)
    username = reader.read("username", lambda v: check_text("username", v))
    allow = reader.read("allow_untrusted_certificate", _form_flag)
    if reader.raw("password", strip=False) is None and reader.raw("oauth2_token") is None:
        reader.problem("password", "is required")
    imap = _form_server(reader, "imap")
    smtp = _form_server(reader, "smtp")
    if reader.errors:
        field, problem = reader.errors[0]
        raise SettingsError(field, problem, errors=reader.errors)
    assert email is not None
    assert imap is not None
    assert smtp is not None
    return InboxSettings(
        email=email,
        password=password,
        oauth2_token=token,
        username=username,
        imap=imap,
        smtp=smtp,
        allow_untrusted_certificate=bool(allow),
    )

