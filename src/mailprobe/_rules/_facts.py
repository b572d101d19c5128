"""What a failure tells beyond the error itself: facts for hint texts and named
conditions for rules and hints.

Rules in the data tables and hint entries in the cause catalogue refer to conditions
by name (``"login_differs"``, ``"timeout_greeting"``); this module is the one place
that says what each name means. Facts are the named values filled into message
templates (``{host}``, ``{expected_mode}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Callable, Optional

from .._enums import Security, Stage
from .._errors import (
    CapabilityError,
    CertificateError,
    ConnectionLimitError,
    DeadlineExceeded,
    DeliveryError,
    ProtocolError,
    ReplyError,
    StartTLSError,
    TLSError,
)
from . import _patterns as words
from ._provider_facts import (
    consumer_address,
    mode,
    other_protocol_server,
    provider_app_passwords,
    provider_defaults,
    provider_documented,
    provider_password_retired,
    provider_port_differs,
    provider_settings_typed,
    provider_smtp,
    providers_own_host,
    sibling,
    swapped_both,
)
from ._words import named_wait, near_domain_for, near_name_for, server_words

if TYPE_CHECKING:
    from ._registry import Failure

#: The usual ports per protocol and security mode (RFC 8314 section 3; RFC 6409).
USUAL_PORTS = {
    "imap": {Security.TLS: 993, Security.STARTTLS: 143},
    "smtp": {Security.TLS: 465, Security.STARTTLS: 587},
}
_ALSO_PLAIN = {"smtp": {25}, "imap": set()}  # STARTTLS ports besides the one above

_STEPS = {
    Stage.IMAP_CONNECT: "connecting to the IMAP server",
    Stage.IMAP_LOGIN: "signing in to the IMAP server",
    Stage.IMAP_VALIDATE: "opening the mailbox",
    Stage.SMTP_CONNECT: "connecting to the SMTP server",
    Stage.SMTP_LOGIN: "signing in to the SMTP server",
    Stage.TEST_EMAIL: "sending the test email",
    Stage.DELIVERY: "waiting for the test email to arrive",
    Stage.CAPACITY: "opening several connections at once",
}

STAGE_GROUPS: dict[str, frozenset[Stage]] = {
    "connect": frozenset({Stage.IMAP_CONNECT, Stage.SMTP_CONNECT}),
    "login": frozenset({Stage.IMAP_LOGIN, Stage.SMTP_LOGIN}),
    "validate": frozenset({Stage.IMAP_VALIDATE}),
    "send": frozenset({Stage.TEST_EMAIL}),
    "after_login": frozenset({Stage.IMAP_VALIDATE, Stage.TEST_EMAIL}),
    "capacity": frozenset({Stage.CAPACITY}),
    "delivery": frozenset({Stage.DELIVERY}),
}


def stage_set(names: Iterable[str]) -> frozenset[Stage]:
    """Stages by name or group name (``"login"``: both login stages)."""
    out: set[Stage] = set()
    for name in names:
        out |= STAGE_GROUPS.get(name) or {Stage(name)}
    return frozenset(out)


def expected_security(f: Failure) -> Optional[Security]:
    """The mode the port turned out to speak, when the failure shows it."""
    error = f.error
    answered = getattr(error, "other_mode_answered", None)
    if isinstance(answered, Security):
        return answered
    starttls_failed = isinstance(error, StartTLSError) or (
        isinstance(error, ReplyError) and f.command == "STARTTLS"
    )
    if (
        starttls_failed
        and f.security is Security.STARTTLS
        and f.port == USUAL_PORTS[f.protocol][Security.TLS]
    ):
        return Security.TLS  # STARTTLS asked of the implicit-TLS port
    if (
        isinstance(error, ReplyError)
        and f.command == "STARTTLS"
        and words.ALREADY_TLS.search(f.text)
        and f.port != USUAL_PORTS[f.protocol][Security.STARTTLS]
    ):
        # STARTTLS on a connection that is encrypted from the start. (On the usual
        # STARTTLS port something in between encrypted it: no mode to recommend.)
        return Security.TLS
    if isinstance(error, TLSError) and error.reason == "wrong_version":
        # A TLS handshake met plain text: the port starts unencrypted. (On a port of the
        # other protocol that is its plain-text greeting: the port is wrong, not the mode.)
        if f.port in other_protocol_ports(f):
            return None
        return Security.STARTTLS if f.security is Security.TLS else None
    if isinstance(error, DeadlineExceeded) and (
        "greeting" in error.during or "TLS" in error.during
    ):
        usual = USUAL_PORTS[f.protocol]
        if f.security is not Security.TLS and f.port == usual[Security.TLS]:
            return Security.TLS
        plain_ports = {usual[Security.STARTTLS], *_ALSO_PLAIN[f.protocol]}
        if f.security is Security.TLS and f.port in plain_ports:
            return Security.STARTTLS
    return None


def other_protocol_ports(f: Failure) -> set[int]:
    """The other protocol's usual ports that are none of this protocol's."""
    other = "smtp" if f.protocol == "imap" else "imap"
    own = {*USUAL_PORTS[f.protocol].values(), *_ALSO_PLAIN[f.protocol]}
    return {*USUAL_PORTS[other].values(), *_ALSO_PLAIN[other]} - own


def _certificate_names(f: Failure) -> tuple[str, ...]:
    names = getattr(f.error, "names", None) if isinstance(f.error, CertificateError) else None
    if isinstance(names, (tuple, list)):
        return tuple(str(n) for n in names if isinstance(n, str))[:5]
    return ()


def _names_in_words(names: tuple[str, ...]) -> str:
    """Certificate names as a person can read them: a wildcard ("*.example.net") is
    "a name ending in .example.net", which nobody can type as a server name."""
    return ", ".join(
        f"a name ending in {n[1:]}" if n.startswith("*.") else n for n in names
    )


def _limit(f: Failure) -> str:
    match = re.search(
        r"mail_max_userip_connections=(\d+)|(?:at most|maximum of|limit of|limit is|"
        r"allows?|only) (\d+)(?: simultaneous| concurrent| open)? connections?",
        f.text,
        re.I,
    )
    return (match.group(1) or match.group(2)) if match else ""


def facts(f: Failure) -> dict[str, str]:
    """The values message templates may use; empty strings for unknown values."""
    error = f.error
    usual = USUAL_PORTS[f.protocol]
    expected = expected_security(f)
    names = _certificate_names(f)
    provider = f.provider
    alt_port = usual.get(f.security, usual[Security.TLS])
    provider_server = ""
    if provider is not None:
        defaults = provider.imap if f.protocol == "imap" else provider.smtp
        provider_server = defaults.host if defaults is not None else ""
    local_part, _, domain = f.email.rpartition("@")
    typed = provider_defaults(f)
    return {
        "proto": f.protocol.upper(),
        "host": f.host,
        "port": str(f.port),
        "security": mode(f.security),
        "login": f.login,
        "email": f.email,
        "email_domain": domain,
        "domain_guess": near_domain_for(f.email, (f.host, f.other_host)),
        "local_part": local_part,
        "recipient": f.test_recipient or "",
        "step": _STEPS.get(f.stage, ""),
        "tls_port": str(usual[Security.TLS]),
        "starttls_port": str(usual[Security.STARTTLS]),
        "alt_port": str(alt_port) if alt_port != f.port else "",
        "expected_mode": mode(expected) if expected is not None else "",
        "server_words": server_words(f.text),
        "during": error.during if isinstance(error, DeadlineExceeded) else "",
        "missing": ", ".join(error.missing) if isinstance(error, CapabilityError) else "",
        "tls_reason": error.reason if isinstance(error, TLSError) else "",
        "cert_names": _names_in_words(names),
        "cert_name": next((n for n in names if not n.startswith("*.")), ""),
        "provider": provider.name if provider is not None else "",
        "provider_server": provider_server if provider_server != f.host else "",
        "provider_port": str(typed.port) if typed is not None else "",
        "provider_security": mode(typed.security) if typed is not None else "",
        "limit": _limit(f),
        "requested": str(error.requested) if isinstance(error, ConnectionLimitError) else "",
        "allowed": str(error.allowed) if isinstance(error, ConnectionLimitError) else "",
        "waited": f"{error.waited:.0f}" if isinstance(error, DeliveryError) else "",
        "scope": _challenge_field(f.challenge, "scope"),
        "wait": named_wait(f.text),
        "sibling": sibling(f),
        "other_host": f.other_host,
        "other_proto": "SMTP" if f.protocol == "imap" else "IMAP",
        "provider_smtp": provider_smtp(f),
        "provider_documented": provider_documented(f),
        "server_link": (words.LINK.search(f.text) or [""])[0].rstrip(".,;"),
        "near_name": near_name(f),
    }


def _challenge_field(challenge: Optional[str], key: str) -> str:
    import json  # noqa: PLC0415  (only OAuth failures carry a challenge)

    try:
        value = json.loads(challenge or "").get(key, "")
    except (ValueError, AttributeError):
        return ""
    return str(value)


def _usual_port(f: Failure) -> bool:
    usual = USUAL_PORTS[f.protocol]
    return f.port in usual.values() or f.port in _ALSO_PLAIN[f.protocol]


def _port_fits_security(f: Failure) -> bool:
    usual = USUAL_PORTS[f.protocol]
    if f.security is Security.TLS:
        return f.port == usual[Security.TLS]
    return f.port == usual[Security.STARTTLS] or f.port in _ALSO_PLAIN[f.protocol]


def _greeting_of_other_protocol(f: Failure) -> bool:
    # An SMTP server greets with "220 ...", an IMAP server with "* OK ...": one on the
    # other's port usually means the two servers' settings were swapped.
    said = (f.greeting or "") + " " + (str(f.error) if isinstance(f.error, ProtocolError) else "")
    # A greeting quoted without its "220" or "* " still names its protocol.
    if f.protocol == "imap":
        return bool(re.search(r"(?:^|[\s'\"])220[ -]", said)) or bool(
            re.search(r"\bE?SMTP\b", said) and not re.search(r"\*\s+OK\b|\bIMAP", said, re.I)
        )
    return bool(re.search(r"\*\s+OK\b", said, re.I)) or bool(
        re.search(r"\bIMAP(?:4(?:rev[12])?)?\b", said, re.I) and not re.search(r"\b220[ -]", said)
    )


def _host_receives_mail(f: Failure) -> bool:
    return f.protocol == "smtp" and bool(words.RECEIVING_HOST.search(f.host))


def _reply_temporary(f: Failure) -> bool:
    return isinstance(f.error, ReplyError) and (f.code or 0) // 100 == 4


def _greeting_of_pop3(f: Failure) -> bool:
    # A POP3 server greets with "+OK": the person typed the POP3 server for IMAP.
    said = (f.greeting or "") + " " + (str(f.error) if isinstance(f.error, ProtocolError) else "")
    return f.protocol == "imap" and bool(re.search(r"(?:^|[\s'\"])\+OK\b", said))


def near_name(f: Failure) -> str:
    """A server name a letter or two from the one typed that the address suggests."""
    return near_name_for(f.host, f.email, f.protocol)


def _host_is_local(f: Failure) -> bool:
    """A loopback or private address (or ``localhost``): reachable only near the person."""
    import ipaddress  # noqa: PLC0415  (only a connection failure asks)

    host = f.host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost") or host.endswith(".local"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def _timeout_during(*words: str) -> Callable[[Failure], bool]:
    def check(f: Failure) -> bool:
        return isinstance(f.error, DeadlineExceeded) and any(w in f.error.during for w in words)

    return check


def _is_timeout_later(f: Failure) -> bool:
    if not isinstance(f.error, DeadlineExceeded):
        return False
    return not any(w in f.error.during for w in ("connecting", "resolving", "greeting", "TLS"))


def _login_needs_tls(f: Failure) -> bool:
    # IMAP: LOGINDISABLED (RFC 3501 7.2.1). SMTP: a server that offers STARTTLS but
    # no AUTH until it is used (Postfix smtpd_tls_auth_only, RFC 3207 section 4).
    if not isinstance(f.error, CapabilityError):
        return False
    caps = {c.split(" ", 1)[0].upper() for c in f.capabilities}
    return "LOGINDISABLED" in caps or ("STARTTLS" in caps and "AUTH" in f.error.missing)


def _oauth_status(f: Failure) -> str:
    # RFC 7628 3.2.2: the error challenge is JSON with a "status"; Google sends HTTP-like
    # numbers ("400", "401"), the RFC names ("invalid_token", "insufficient_scope").
    return _challenge_field(f.challenge, "status")


#: The conditions rules and hints may name. Each takes the failure.
PREDICATES: dict[str, Callable[[Failure], bool]] = {
    "provider_known": lambda f: f.provider is not None,
    "no_provider": lambda f: f.provider is None,
    "words_autoban": lambda f: bool(words.AUTOBAN.search(f.text)),
    "words_country": lambda f: bool(words.COUNTRY.search(f.text)),
    "words_full_address": lambda f: bool(words.FULL_ADDRESS.search(f.text)),
    "words_app_identity": lambda f: bool(words.APP_IDENTITY.search(f.text)),
    "words_moved": lambda f: bool(words.MOVED.search(f.text)),
    "inbox_words_plain": lambda f: (
        not (words.APP_IDENTITY.search(f.text) or words.MOVED.search(f.text))
    ),
    "server_link": lambda f: bool(words.LINK.search(f.text)),
    "provider_smtp_known": lambda f: bool(provider_smtp(f)),
    "provider_documented_known": lambda f: bool(provider_documented(f)),
    "words_domain_disabled": lambda f: bool(words.DOMAIN_DISABLED.search(f.text)),
    "words_many_hosts": lambda f: bool(words.MANY_HOSTS.search(f.text)),
    "words_content_reason": lambda f: bool(words.CONTENT_REASON.search(f.text)),
    "words_virus": lambda f: bool(words.VIRUS.search(f.text)),
    "words_too_many": lambda f: bool(words.TOO_MANY.search(f.text)),
    # A connection limit met before any login, or one the server says is per address,
    # is on the app's network address (or the whole server), not on the mailbox.
    "limit_on_address": lambda f: (
        f.stage in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT)
        or bool(words.LIMIT_ON_ADDRESS.search(f.text))
    ),
    # Dovecot's "from user+IP": this account's connections from the app's address.
    "words_tls_not_available": lambda f: bool(words.TLS_NOT_AVAILABLE.search(f.text)),
    "words_user_and_address": lambda f: bool(words.USER_AND_ADDRESS.search(f.text)),
    "words_domain_not_registered": lambda f: bool(words.DOMAIN_NOT_REGISTERED.search(f.text)),
    # mail.example.com for alice@example.com: most likely the organisation's own server.
    "host_in_email_domain": lambda f: (
        f.host.lower().endswith("." + f.email.rpartition("@")[2].lower())
    ),
    "host_is_providers_other": lambda f: bool(other_protocol_server(f)),
    "words_temporary": lambda f: bool(words.TEMPORARY.search(f.text)),
    "words_not_found": lambda f: bool(words.NOT_FOUND.search(f.text)),
    "providers_own_host": providers_own_host,
    "sibling_known": lambda f: bool(sibling(f)),
    "swapped_both": swapped_both,
    "port25_connecting": lambda f: (
        f.protocol == "smtp" and f.port == 25 and _timeout_during("connecting")(f)
    ),
    "host_is_local": _host_is_local,
    "greeting_pop3": _greeting_of_pop3,
    "pop3_sibling_known": lambda f: _greeting_of_pop3(f) and bool(sibling(f)),
    "near_name": lambda f: bool(near_name(f)),
    "no_near_name": lambda f: not near_name(f),
    "domain_guess": lambda f: bool(near_domain_for(f.email, (f.host, f.other_host))),
    "consumer_address": consumer_address,
    "provider_password_retired": provider_password_retired,
    "words_unknown_user": lambda f: bool(words.UNKNOWN_USER.search(f.text)),
    "auth_command_unknown": lambda f: (
        f.protocol == "smtp" and f.command == "AUTH" and f.code in (500, 502)
    ),
    "ehlo_refused": lambda f: f.command in ("EHLO", "HELO")
    and not words.SEQUENCE.search(f.text),
    "greeting_reply": lambda f: f.command in (None, "CONNECT"),
    "provider_host_typed": lambda f: provider_defaults(f) is not None,
    "provider_port_differs": provider_port_differs,
    "provider_settings_typed": provider_settings_typed,
    "provider_app_passwords_always": provider_app_passwords("always"),
    "provider_app_passwords_with_2fa": provider_app_passwords("with_2fa"),
    "provider_login_local_part": lambda f: (
        f.provider is not None and f.provider.login == "local_part" and "@" in f.login
    ),
    "login_differs": lambda f: bool(f.login) and f.login.lower() != f.email.lower(),
    "provider_login_is_local_part": lambda f: (
        f.provider is not None and f.provider.login == "local_part"
    ),
    "login_without_domain": lambda f: bool(f.login) and "@" not in f.login,
    "login_is_email": lambda f: f.login.lower() == f.email.lower(),
    "password_has_spaces": lambda f: f.password_has_spaces,
    "oauth2": lambda f: f.oauth2,
    "security_tls": lambda f: f.security is Security.TLS,
    "security_starttls": lambda f: f.security is Security.STARTTLS,
    "security_none": lambda f: f.security is Security.NONE,
    "encrypted": lambda f: f.security is not Security.NONE,
    "port_of_other_protocol": lambda f: f.port in other_protocol_ports(f),
    "usual_port": _usual_port,
    "unusual_port": lambda f: not _usual_port(f),
    "port_fits_security": _port_fits_security,
    "port_misfits_security": lambda f: not _port_fits_security(f),
    "other_mode_silent": lambda f: getattr(f.error, "other_mode_silent", None) is not None,
    # The security setting may explain a silent port: it does not fit the port, and no
    # second connection in the other mode was met with silence too.
    "mode_suspect": lambda f: not _port_fits_security(f)
    and getattr(f.error, "other_mode_silent", None) is None,
    "port_is_25": lambda f: f.protocol == "smtp" and f.port == 25,
    "expected_mode_known": lambda f: expected_security(f) is not None,
    "server_words": lambda f: bool(server_words(f.text)),
    "greeting_of_other_protocol": _greeting_of_other_protocol,
    "timeout_connecting": _timeout_during("connecting", "resolving"),
    "timeout_greeting": _timeout_during("greeting", "TLS"),
    "timeout_later": _is_timeout_later,
    "starttls_refused_busy": lambda f: (
        (isinstance(f.error, StartTLSError) and f.error.reason == "refused")
        or (f.command == "STARTTLS" and (f.code or 0) // 100 == 4)
    ),
    "starttls_refused_command": lambda f: (
        isinstance(f.error, ReplyError) and f.command == "STARTTLS" and (f.code or 0) // 100 != 4
    ),
    "timeout_reported": lambda f: isinstance(f.error, ReplyError),
    "starttls_not_offered": lambda f: (
        isinstance(f.error, StartTLSError) and f.error.reason != "refused"
    ),
    "after_login": lambda f: f.stage in (Stage.IMAP_VALIDATE, Stage.TEST_EMAIL, Stage.DELIVERY),
    "capacity_stage": lambda f: f.stage is Stage.CAPACITY,
    "validate_stage": lambda f: f.stage is Stage.IMAP_VALIDATE,
    "send_stage": lambda f: f.stage is Stage.TEST_EMAIL,
    "words_blocklist": lambda f: bool(words.BLOCKLIST.search(f.text)),
    "words_reverse_dns": lambda f: bool(words.REVERSE_DNS.search(f.text)),
    "words_reputation": lambda f: bool(words.REPUTATION.search(f.text)),
    "words_in_use": lambda f: f.response_code == "INUSE" or bool(words.IN_USE.search(f.text)),
    "words_licence": lambda f: bool(words.LICENCE.search(f.text)),
    "wait_named": lambda f: bool(named_wait(f.text)),
    "no_wait_named": lambda f: not named_wait(f.text),
    "words_other_block": lambda f: (
        not (words.BLOCKLIST.search(f.text) or words.REVERSE_DNS.search(f.text))
    ),
    "cert_names_known": lambda f: bool(_certificate_names(f)),
    "cert_verified_on_other_service": lambda f: (
        f.host.lower() in {h.lower() for h in f.verified_hosts}
    ),
    "cert_name_known": lambda f: any(not n.startswith("*.") for n in _certificate_names(f)),
    "limit_known": lambda f: bool(_limit(f)),
    "login_needs_tls": _login_needs_tls,
    "oauth_scope_missing": lambda f: _oauth_status(f) in ("403", "insufficient_scope"),
    "offers_logindisabled": lambda f: any(c.upper() == "LOGINDISABLED" for c in f.capabilities),
    "not_permanent_reply": lambda f: not (f.code is not None and f.code >= 500),
    "words_about_client_address": lambda f: bool(words.CLIENT_ADDRESS.search(f.text)),
    "not_transient_reply": lambda f: not (f.code is not None and 400 <= f.code < 500),
    "reply_bad": lambda f: f.status == "BAD",
    "expected_mode_differs": lambda f: (
        (mode := expected_security(f)) is not None and mode is not f.security
    ),
    "expected_mode_unknown": lambda f: expected_security(f) in (None, f.security),
    # Seen, not inferred from a silent usual port: the other mode answered, or the
    # handshake or the reply showed the port's mode.
    "expected_mode_seen": lambda f: (
        expected_security(f) is not None and not isinstance(f.error, DeadlineExceeded)
    ),
    "server_reply": lambda f: isinstance(f.error, ReplyError),
    "no_server_reply": lambda f: not isinstance(f.error, ReplyError),
    "port_is_not_tls_port": lambda f: f.port != USUAL_PORTS[f.protocol][Security.TLS],
    "starttls_on_tls_port": lambda f: (
        f.security is Security.STARTTLS and f.port == USUAL_PORTS[f.protocol][Security.TLS]
    ),
    "login_stage": lambda f: f.stage in (Stage.IMAP_LOGIN, Stage.SMTP_LOGIN),
    "smtp_stage": lambda f: f.protocol == "smtp",
    "oauth_scope_named": lambda f: bool(_challenge_field(f.challenge, "scope")),
    "no_oauth2": lambda f: not f.oauth2,
    "host_receives_mail": _host_receives_mail,
    # A server that only receives mail answered a sending stage: the fix is the server
    # name, so waiting is no answer whatever the reply said.
    "receiving_host_replied": lambda f: (
        _host_receives_mail(f) and isinstance(f.error, ReplyError)
    ),
    "host_not_receives_mail": lambda f: not _host_receives_mail(f),
    "host_not_receiving": lambda f: not words.RECEIVING_HOST.search(f.host),
    "missing_imap_version": lambda f: (
        isinstance(f.error, CapabilityError) and "IMAP4rev1" in f.error.missing
    ),
    "sending_service": lambda f: bool(words.SENDING_SERVICE.search(f.host)),
    "words_not_allowed": lambda f: bool(words.NOT_ALLOWED.search(f.text)),
    "words_about_format": lambda f: bool(words.FORMAT.search(f.text)),
    "words_oauth_user": lambda f: bool(words.OAUTH_USER.search(f.text)),
    # A setup fault the server calls permanent (a 4xx one may be fixed while it waits).
    "words_server_setup_permanent": lambda f: (
        bool(words.SERVER_SETUP.search(f.text)) and not _reply_temporary(f)
    ),
    "words_address_form": lambda f: bool(words.ADDRESS_FORM.search(f.text)),
    "words_raise_limit": lambda f: bool(words.RAISE_LIMIT.search(f.text)),
    "words_failed_attempts": lambda f: bool(words.FAILED_ATTEMPTS.search(f.text)),
    "words_server_setup": lambda f: bool(words.SERVER_SETUP.search(f.text)),
    "words_sequence": lambda f: bool(words.SEQUENCE.search(f.text)),
    "words_per_session": lambda f: bool(words.PER_SESSION.search(f.text)),
    "words_spf_only": lambda f: bool(words.SPF_ONLY.search(f.text))
    and not words.DKIM_DMARC.search(f.text),
    "words_spf_broken": lambda f: bool(words.SPF_BROKEN.search(f.text)),
    "email_not_ascii": lambda f: not f.email.isascii(),
    "email_is_ascii": lambda f: f.email.isascii(),
    "words_hourly": lambda f: bool(words.PERIOD_HOUR.search(f.text))
    and not words.PERIOD_DAY.search(f.text),
    "words_daily": lambda f: bool(words.PERIOD_DAY.search(f.text))
    and not words.PERIOD_HOUR.search(f.text),
    "words_short_rate": lambda f: bool(words.SHORT_RATE.search(f.text)),
    "connect_stage": lambda f: f.stage in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT),
    "imap_stage": lambda f: f.protocol == "imap",
    "words_null_mx": lambda f: bool(
        re.search(r"null MX|accepts? no (?:e-?)?mail|does not accept mail", f.text, re.I)
    ),
    "reply_no": lambda f: f.status == "NO",
    "reply_bye": lambda f: f.status == "BYE",
    "no_server_words": lambda f: not server_words(f.text),
    "reply_temporary": _reply_temporary,
}


def _negated(check: Callable[[Failure], bool]) -> Callable[[Failure], bool]:
    return lambda f: not check(f)


# Every condition may also be named as its opposite: "not_<name>".
PREDICATES.update(
    {
        f"not_{name}": _negated(check)
        for name, check in list(PREDICATES.items())
        if not name.startswith("not_") and f"not_{name}" not in PREDICATES
    }
)
