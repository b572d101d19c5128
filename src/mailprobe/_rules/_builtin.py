"""The built-in rules, written as data: a matcher, a cause and (sometimes) a category.

Matchers are small and composable (``when(...)``); every rule here is covered by
table tests of real server replies in ``tests/test_rules.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Callable, Optional, Union

import attrs

from .._enums import ErrorCategory, Security, Stage
from .._errors import (
    CapabilityError,
    CertificateError,
    ConnectionLimitError,
    DeadlineExceeded,
    DeliveryError,
    DisconnectedError,
    HostNotFoundError,
    NetworkError,
    ProtocolError,
    RefusedError,
    ReplyError,
    StartTLSError,
    TLSError,
)
from .._models import Diagnosis
from ._hints import diagnose
from ._registry import Failure, Rule, RuleRegistry

Matcher = Callable[[Failure], bool]

CONNECT = frozenset({Stage.IMAP_CONNECT, Stage.SMTP_CONNECT})
LOGIN = frozenset({Stage.IMAP_LOGIN, Stage.SMTP_LOGIN})
VALIDATE = frozenset({Stage.IMAP_VALIDATE})
SEND = frozenset({Stage.TEST_EMAIL})


def when(
    *,
    errors: tuple[type[BaseException], ...] = (),
    codes: Iterable[int] = (),
    enhanced: Iterable[str] = (),
    response_codes: Iterable[str] = (),
    commands: Iterable[str] = (),
    text: Optional[str] = None,
    test: Optional[Matcher] = None,
) -> Matcher:
    """A matcher true when every given criterion holds (criteria left out always hold).

    ``text`` is a case-insensitive regular expression searched in the server's words.
    """
    code_set, enhanced_set = frozenset(codes), frozenset(enhanced)
    response_set, command_set = frozenset(response_codes), frozenset(commands)
    pattern = re.compile(text, re.I) if text else None

    def match(f: Failure) -> bool:
        return (
            (not errors or isinstance(f.error, errors))
            and (not code_set or f.code in code_set)
            and (not enhanced_set or f.enhanced_status in enhanced_set)
            and (not response_set or f.response_code in response_set)
            and (not command_set or f.command in command_set)
            and (pattern is None or bool(pattern.search(f.text)))
            and (test is None or test(f))
        )

    return match


def any_of(*matchers: Matcher) -> Matcher:
    """A matcher true when one of ``matchers`` is."""
    return lambda f: any(m(f) for m in matchers)


Cause = Union[str, Callable[[Failure], str]]


@attrs.frozen
class _Spec:
    id: str
    priority: int
    match: Matcher
    cause: Cause
    stages: Optional[frozenset[Stage]] = None
    category: Optional[ErrorCategory] = None
    #: Every cause a computed ``cause`` can give (for the generated catalogue).
    outcomes: tuple[str, ...] = ()

    @property
    def causes(self) -> tuple[str, ...]:
        return self.outcomes if callable(self.cause) else (self.cause,)

    def check(self, failure: Failure) -> Optional[Diagnosis]:
        if not self.match(failure):
            return None
        cause = self.cause(failure) if callable(self.cause) else self.cause
        return diagnose(failure, cause, self.category)

    def rule(self) -> Rule:
        return Rule(id=self.id, check=self.check, priority=self.priority, stages=self.stages)


def _oauth_cause(f: Failure) -> str:
    # RFC 7628 3.2.2: the error challenge is JSON with a "status"; Google sends HTTP-like
    # numbers ("400", "401"), the RFC names ("invalid_token", "insufficient_scope").
    if isinstance(f.error, CapabilityError):
        return "auth_mechanism_unsupported"
    try:
        status = str(json.loads(f.challenge or "{}").get("status", ""))
    except (ValueError, AttributeError):
        status = ""
    if status in ("403", "insufficient_scope"):
        return "oauth_scope_missing"
    return "oauth_token_invalid"


def _cert_cause(f: Failure) -> str:
    reason = f.error.reason if isinstance(f.error, CertificateError) else "untrusted"
    return f"cert_{reason}"


_TLS_PORTS = {993, 465}
_PLAIN_PORTS = {143, 587, 25}


def _silent_mode_mismatch(f: Failure) -> bool:
    # A plain client waits for a greeting a TLS port never sends, and a TLS client
    # waits for a handshake a plain port never answers (RFC 8314 section 3).
    if not isinstance(f.error, DeadlineExceeded):
        return False
    if "greeting" not in f.error.during and "TLS" not in f.error.during:
        return False
    if f.security is Security.TLS:
        return f.port in _PLAIN_PORTS
    return f.port in _TLS_PORTS


def _login_needs_tls(f: Failure) -> bool:
    # IMAP: LOGINDISABLED (RFC 3501 7.2.1). SMTP: a server that offers STARTTLS but
    # no AUTH until it is used (Postfix smtpd_tls_auth_only, RFC 3207 section 4).
    if not isinstance(f.error, CapabilityError):
        return False
    caps = {c.split(" ", 1)[0].upper() for c in f.capabilities}
    return "LOGINDISABLED" in caps or ("STARTTLS" in caps and "AUTH" in f.error.missing)


ANY_LOGIN = LOGIN | VALIDATE  # some refusals only surface on the first command after login
SMTP_ANY = frozenset({Stage.SMTP_CONNECT, Stage.SMTP_LOGIN, Stage.TEST_EMAIL})
APP_PASSWORD = ErrorCategory.UNAUTHORIZED_APP_PASSWORD_REQUIRED
CERTIFICATE = ErrorCategory.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED

_SPECS = (
    # -- certificates and app passwords: their own categories, at any stage -----------
    _Spec(
        "tls.certificate",
        100,
        when(errors=(CertificateError,)),
        _cert_cause,
        category=CERTIFICATE,
        outcomes=tuple(
            f"cert_{r}"
            for r in (
                "self_signed",
                "unknown_ca",
                "expired",
                "not_yet_valid",
                "hostname_mismatch",
                "untrusted",
            )
        ),
    ),
    # Gmail "534-5.7.9 Application-specific password required", QQ "Please enter your
    # authorization code", Mail.ru "Aplication password is REQUIRED" (sic).
    _Spec(
        "auth.app_password",
        90,
        any_of(
            when(
                text=r"ap+lication[- ]specific password|ap+lication password|"
                r"app[- ]password|InvalidSecondFactor|authori[sz]ation code|授权码"
            ),
            when(codes=(534,), enhanced=("5.7.9",)),
        ),
        "app_password_required",
        category=APP_PASSWORD,
    ),
    # -- OAuth 2.0 logins: the token, not a password, was refused -------------------------
    _Spec(
        "auth.oauth",
        89,
        when(errors=(ReplyError, CapabilityError), test=lambda f: f.oauth2),
        _oauth_cause,
        stages=ANY_LOGIN,
        outcomes=("oauth_token_invalid", "oauth_scope_missing", "auth_mechanism_unsupported"),
    ),
    # -- refusals that are not about the password ------------------------------------
    _Spec(
        "auth.web_login",
        88,
        any_of(
            when(response_codes=("WEBALERT",)),
            when(text=r"log ?in via your web browser|web login required"),
        ),
        "web_login_required",
        stages=ANY_LOGIN,
    ),
    _Spec(
        "auth.smtp_disabled",
        87,
        when(
            text=r"SmtpClientAuthentication is disabled|smtp_auth_disabled|"
            r"SMTP AUTH(entication)? is disabled"
        ),
        "smtp_auth_disabled",
        stages=frozenset({Stage.SMTP_LOGIN}),
    ),
    _Spec(
        "auth.basic_disabled",
        87,
        when(
            text=r"basic auth\w* is disabled|basic auth\w* (has been )?(turned off|blocked)|"
            r"security defaults policy"
        ),
        "basic_auth_disabled",
        stages=ANY_LOGIN,
    ),
    # Gmail "[ALERT] Your account is not enabled for IMAP use"; Exchange Online answers
    # the first command after login with "BAD User is authenticated but not connected".
    _Spec(
        "auth.imap_disabled",
        86,
        when(
            text=r"not enabled for IMAP|IMAP (access )?(is )?(not enabled|disabled for)|"
            r"authenticated but not connected"
        ),
        "imap_disabled",
        stages=ANY_LOGIN,
    ),
    # The CAPACITY stage's own finding, whatever words the refusal used.
    _Spec("limits.capacity", 86, when(errors=(ConnectionLimitError,)), "too_many_connections"),
    _Spec("delivery.missing", 86, when(errors=(DeliveryError,)), "not_delivered"),
    # Gmail "[ALERT] Too many simultaneous connections"; Dovecot "[UNAVAILABLE] Maximum
    # number of connections from user+IP exceeded (mail_max_userip_connections=10)".
    _Spec(
        "limits.connections",
        85,
        when(
            text=r"too many (simultaneous |concurrent |open )?connections|"
            r"maximum number of connections|connection limit"
        ),
        "too_many_connections",
    ),
    _Spec(
        "tls.mode_mismatch",
        84,
        any_of(
            when(
                errors=(TLSError,), test=lambda f: getattr(f.error, "reason", "") == "wrong_version"
            ),
            _silent_mode_mismatch,
        ),
        "tls_mode_mismatch",
        stages=CONNECT,
    ),
    # Yahoo "535 5.7.0 (#AUTH005) Too many bad auth attempts"; Gmail "454 4.7.0 Too many
    # login attempts, please try again later"; RFC 5530 LIMIT.
    _Spec(
        "limits.rate",
        83,
        any_of(
            when(
                text=r"too many (bad |failed |invalid )?(auth\w*|login\w*|sign.?in)"
                r" attempts|AUTH005|rate.?limit"
            ),
            when(response_codes=("LIMIT",)),
        ),
        "rate_limited",
        stages=ANY_LOGIN | CONNECT,
    ),
    _Spec(
        "auth.account_locked",
        82,
        when(
            text=r"account (is |has been )?(temporarily )?(locked|disabled|suspended|"
            r"blocked|restricted)|access to your account has been (temporarily )?restricted|"
            r"user is locked"
        ),
        "account_locked",
        stages=ANY_LOGIN,
    ),
    _Spec(
        "auth.password_expired",
        82,
        any_of(when(response_codes=("EXPIRED",)), when(text=r"password (has )?expired")),
        "password_expired",
        stages=ANY_LOGIN,
    ),
    _Spec(
        "auth.access_denied",
        81,
        when(response_codes=("AUTHORIZATIONFAILED",)),
        "access_denied",
        stages=ANY_LOGIN,
    ),
    _Spec("net.timeout", 80, when(errors=(DeadlineExceeded,)), "timeout"),
    # RFC 5530 UNAVAILABLE / INUSE, Dovecot "Temporary authentication failure", and any
    # SMTP 4xx reply (RFC 5321 4.2.1: transient) that no finer rule explained.
    _Spec(
        "server.unavailable",
        70,
        any_of(
            when(response_codes=("UNAVAILABLE", "INUSE", "SERVERBUG")),
            when(text=r"temporary authentication failure|temporarily unavailable"),
        ),
        "server_unavailable",
    ),
    # -- encryption demanded ------------------------------------------------------------
    _Spec(
        "auth.starttls_required",
        62,
        when(
            text=r"must issue a STARTTLS|STARTTLS first|without SSL/TLS encryption is not "
            r"allowed"
        ),
        "starttls_required",
        stages=LOGIN | SEND,
    ),
    _Spec(
        "auth.plaintext_disabled",
        60,
        any_of(
            _login_needs_tls,
            when(response_codes=("PRIVACYREQUIRED",)),
            when(codes=(538,)),
            when(enhanced=("5.7.11",)),
            when(text=r"plaintext auth\w* (disallowed|disabled|not allowed)"),
        ),
        "plaintext_auth_disabled",
        stages=LOGIN,
    ),
    # -- sending ------------------------------------------------------------------------
    # Gmail "550 5.4.5 Daily user sending quota exceeded"; Exchange Online "554 5.2.0
    # STOREDRV.Submission.Exception:SubmissionQuotaExceededException".
    _Spec(
        "send.limit",
        65,
        any_of(
            when(
                text=r"sending (quota|limit)|SubmissionQuotaExceeded|"
                r"exceeded (its|the|your) (24.hour|daily|hourly) (sending )?limit|"
                r"messages per (day|hour)|relay quota"
            ),
            when(enhanced=("5.4.5",)),
        ),
        "sending_limit_exceeded",
        stages=SEND,
    ),
    _Spec(
        "send.relay_denied",
        60,
        when(
            errors=(ReplyError,),
            text=r"relay(ing)? (access )?(denied|not permitted)|"
            r"unable to relay|not permitted to relay",
        ),
        "relay_denied",
        stages=SEND,
    ),
    # Postfix reject_sender_login_mismatch "553 5.7.1 <x>: Sender address rejected: not
    # owned by user y"; Exchange "SendAsDeniedException", "5.7.60 ... send as this
    # sender"; Amazon SES "Email address is not verified".
    _Spec(
        "send.sender_not_allowed",
        60,
        any_of(
            when(
                errors=(ReplyError,),
                text=r"not owned by (auth )?user|SendAsDenied|"
                r"not allowed to send (as|on behalf)|permissions? to send as|"
                r"address is not verified",
            ),
            when(enhanced=("5.7.60",)),
        ),
        "sender_not_allowed",
        stages=SEND,
    ),
    _Spec(
        "send.mailbox_full",
        58,
        any_of(
            when(enhanced=("5.2.2", "4.2.2")),
            when(response_codes=("OVERQUOTA",)),
            when(text=r"mailbox (is )?full|over (its |the )?quota|quota exceeded"),
        ),
        "mailbox_full",
        stages=SEND | VALIDATE,
    ),
    _Spec(
        "send.policy",
        55,
        when(
            errors=(ReplyError,),
            commands=("DATA",),
            test=lambda f: (
                (f.enhanced_status or "").startswith("5.7.")
                or bool(
                    re.search(r"spam|policy|blocked|unsolicited|block list|blacklist", f.text, re.I)
                )
            ),
        ),
        "message_rejected_policy",
        stages=SEND,
    ),
    # -- credentials ----------------------------------------------------------------
    _Spec(
        "auth.invalid_credentials",
        50,
        any_of(
            when(response_codes=("AUTHENTICATIONFAILED",)),
            when(
                errors=(ReplyError,),
                commands=("LOGIN", "AUTHENTICATE"),
                test=lambda f: f.status == "NO",
            ),
            when(codes=(535,)),
            when(enhanced=("5.7.8",)),
        ),
        "invalid_credentials",
        stages=LOGIN,
    ),
    _Spec(
        "auth.mechanism",
        40,
        any_of(when(errors=(CapabilityError,)), when(codes=(504,))),
        "auth_mechanism_unsupported",
        stages=LOGIN,
    ),
    # -- IMAP validation --------------------------------------------------------------
    _Spec(
        "validate.capability",
        40,
        when(errors=(CapabilityError,)),
        "missing_capability",
        stages=VALIDATE,
    ),
    _Spec(
        "validate.inbox",
        40,
        when(errors=(ReplyError,), commands=("EXAMINE", "SELECT")),
        "inbox_unavailable",
        stages=VALIDATE,
    ),
    _Spec(
        "validate.list",
        40,
        when(errors=(ReplyError,), commands=("LIST",)),
        "folders_unavailable",
        stages=VALIDATE,
    ),
    # -- what the test email's envelope and data met --------------------------------------
    _Spec(
        "send.recipient_rejected",
        40,
        when(errors=(ReplyError,), commands=("RCPT",), test=lambda f: (f.code or 0) >= 500),
        "recipient_rejected",
        stages=SEND,
    ),
    _Spec(
        "send.sender_rejected",
        40,
        when(errors=(ReplyError,), commands=("MAIL",), test=lambda f: (f.code or 0) >= 500),
        "sender_rejected",
        stages=SEND,
    ),
    _Spec(
        "send.message_rejected",
        40,
        when(errors=(ReplyError,), commands=("DATA",), test=lambda f: (f.code or 0) >= 500),
        "message_rejected",
        stages=SEND,
    ),
    _Spec(
        "smtp.transient",
        35,
        when(errors=(ReplyError,), test=lambda f: 400 <= (f.code or 0) < 500),
        "server_unavailable",
        stages=SMTP_ANY,
    ),
    # -- connecting ---------------------------------------------------------------------
    _Spec(
        "connect.rejected",
        30,
        when(errors=(ReplyError,)),
        "server_rejected_connection",
        stages=CONNECT,
    ),
    _Spec("net.dns", 30, when(errors=(HostNotFoundError,)), "dns_not_found"),
    _Spec("net.refused", 30, when(errors=(RefusedError,)), "connection_refused"),
    _Spec("net.disconnected", 30, when(errors=(DisconnectedError,)), "server_disconnected"),
    _Spec("tls.starttls", 30, when(errors=(StartTLSError,)), "starttls_unavailable"),
    _Spec(
        "tls.version",
        30,
        when(
            errors=(TLSError,), test=lambda f: getattr(f.error, "reason", "") == "protocol_version"
        ),
        "tls_version_unsupported",
    ),
    _Spec("net.unreachable", 20, when(errors=(NetworkError,)), "network_unreachable"),
    _Spec("tls.handshake", 20, when(errors=(TLSError,)), "tls_handshake_failed"),
    _Spec(
        "protocol.mismatch", 20, when(errors=(ProtocolError,)), "protocol_mismatch", stages=CONNECT
    ),
)


def builtin_rules() -> tuple[Rule, ...]:
    """The built-in rules, freshly made."""
    return tuple(spec.rule() for spec in _SPECS)


def default_registry() -> RuleRegistry:
    """A new registry holding the built-in rules; add your own to it or to a ``copy()``."""
    return RuleRegistry(builtin_rules())
