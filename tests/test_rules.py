"""Every built-in rule, driven through probe() and the scripted transport with replies
as real servers send them. The comment on each row says where the reply comes from."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import pytest

import mailprobe
from mailprobe import (
    CapabilityError,
    CertificateError,
    ConnectionInfo,
    DeadlineExceeded,
    DisconnectedError,
    ErrorCategory,
    HostNotFoundError,
    NetworkError,
    ProtocolError,
    RefusedError,
    ReplyError,
    Security,
    ServerSettings,
    Stage,
    StartTLSError,
    TLSError,
)
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings

C = ErrorCategory
SLOT = {
    Stage.IMAP_CONNECT: "imap_connect",
    Stage.IMAP_LOGIN: "imap_login",
    Stage.IMAP_VALIDATE: "imap_examine",
    Stage.SMTP_CONNECT: "smtp_connect",
    Stage.SMTP_LOGIN: "smtp_login",
    Stage.TEST_EMAIL: "smtp_send",
}


class Row(NamedTuple):
    stage: Stage
    error: BaseException
    category: ErrorCategory
    cause: str
    rule: str
    port: Optional[int] = None
    security: Optional[Security] = None
    extra: Optional[dict[str, Any]] = None
    slot: Optional[str] = None


def imap_no(text: str, command: str = "LOGIN") -> ReplyError:
    return ReplyError.imap("NO", text, command=command)


def smtp(code: int, text: str, command: str = "AUTH") -> ReplyError:
    return ReplyError.smtp(code, text, command=command)


IMAP_PLAIN = ConnectionInfo(
    greeting="* OK Dovecot ready.", capabilities=("IMAP4REV1", "STARTTLS", "LOGINDISABLED")
)
SMTP_PLAIN = ConnectionInfo(
    greeting="220 mx ESMTP Postfix", capabilities=("PIPELINING", "SIZE 10240000", "STARTTLS")
)

ROWS = [
    # -- IMAP login -----------------------------------------------------------
    # Dovecot 2.3 (seen in this suite's integration tests)
    Row(
        Stage.IMAP_LOGIN,
        imap_no("[AUTHENTICATIONFAILED] Authentication failed."),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Gmail IMAP, wrong password
    Row(
        Stage.IMAP_LOGIN,
        imap_no("[AUTHENTICATIONFAILED] Invalid credentials (Failure)"),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Microsoft Exchange / Outlook.com IMAP
    Row(
        Stage.IMAP_LOGIN,
        imap_no("LOGIN failed."),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    Row(
        Stage.IMAP_LOGIN,
        imap_no("AUTHENTICATE failed.", command="AUTHENTICATE"),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Cyrus IMAPd
    Row(
        Stage.IMAP_LOGIN,
        imap_no("Login failed: authentication failure"),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Gmail IMAP with 2-Step Verification on
    Row(
        Stage.IMAP_LOGIN,
        imap_no(
            "[ALERT] Application-specific password required: "
            "https://support.google.com/accounts/answer/185833 (Failure)"
        ),
        C.UNAUTHORIZED_APP_PASSWORD_REQUIRED,
        "app_password_required",
        "auth.app_password",
    ),
    # Dovecot, plaintext LOGIN on an unencrypted remote connection
    Row(
        Stage.IMAP_LOGIN,
        imap_no(
            "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure "
            "(SSL/TLS) connections."
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "plaintext_auth_disabled",
        "auth.plaintext_disabled",
    ),
    # Our own refusal to send LOGIN when the server advertised LOGINDISABLED
    Row(
        Stage.IMAP_LOGIN,
        CapabilityError("LOGINDISABLED", missing=("LOGIN",), command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "plaintext_auth_disabled",
        "auth.plaintext_disabled",
        security=Security.NONE,
        extra={"imap_connect": IMAP_PLAIN},
    ),
    Row(
        Stage.IMAP_LOGIN,
        CapabilityError("no PLAIN", missing=("AUTH=PLAIN",), command="AUTHENTICATE"),
        C.IMAP_AUTHENTICATION_ERROR,
        "auth_mechanism_unsupported",
        "auth.mechanism",
    ),
    # -- SMTP login -----------------------------------------------------------
    # Gmail SMTP, wrong password (multi-line reply joined by smtplib)
    Row(
        Stage.SMTP_LOGIN,
        smtp(
            535,
            "5.7.8 Username and Password not accepted. For more information, go to\n"
            "5.7.8  https://support.google.com/mail/?p=BadCredentials",
        ),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Postfix with Dovecot SASL (seen in this suite's integration tests)
    Row(
        Stage.SMTP_LOGIN,
        smtp(535, "5.7.8 Error: authentication failed: (reason unavailable)"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Exchange Online
    Row(
        Stage.SMTP_LOGIN,
        smtp(535, "5.7.3 Authentication unsuccessful"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Exim
    Row(
        Stage.SMTP_LOGIN,
        smtp(535, "Incorrect authentication data"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Gmail SMTP with 2-Step Verification on
    Row(
        Stage.SMTP_LOGIN,
        smtp(
            534,
            "5.7.9 Application-specific password required. Learn more at\n"
            "5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor",
        ),
        C.UNAUTHORIZED_APP_PASSWORD_REQUIRED,
        "app_password_required",
        "auth.app_password",
    ),
    # Postfix smtpd_tls_auth_only before STARTTLS
    Row(
        Stage.SMTP_LOGIN,
        smtp(530, "5.7.0 Must issue a STARTTLS command first"),
        C.UNAUTHORIZED,
        "plaintext_auth_disabled",
        "auth.plaintext_disabled",
    ),
    # Exchange: encryption needed for the mechanism (RFC 4954 538)
    Row(
        Stage.SMTP_LOGIN,
        smtp(538, "5.7.11 Encryption required for requested authentication mechanism"),
        C.UNAUTHORIZED,
        "plaintext_auth_disabled",
        "auth.plaintext_disabled",
    ),
    # No AUTH offered on a plain connection to a server that offers STARTTLS
    Row(
        Stage.SMTP_LOGIN,
        CapabilityError("no AUTH", missing=("AUTH",), command="AUTH"),
        C.UNAUTHORIZED,
        "plaintext_auth_disabled",
        "auth.plaintext_disabled",
        security=Security.NONE,
        extra={"smtp_connect": SMTP_PLAIN},
    ),
    # Exchange: mechanism not supported
    Row(
        Stage.SMTP_LOGIN,
        smtp(504, "5.7.4 Unrecognized authentication type"),
        C.UNAUTHORIZED,
        "auth_mechanism_unsupported",
        "auth.mechanism",
    ),
    # -- test email -----------------------------------------------------------
    # Postfix reject_unauth_destination
    Row(
        Stage.TEST_EMAIL,
        smtp(554, "5.7.1 <bcc@app.example>: Relay access denied", "RCPT"),
        C.TEST_EMAIL_FAILED,
        "relay_denied",
        "send.relay_denied",
    ),
    # Exim
    Row(
        Stage.TEST_EMAIL,
        smtp(550, "relay not permitted", "RCPT"),
        C.TEST_EMAIL_FAILED,
        "relay_denied",
        "send.relay_denied",
    ),
    # Exchange
    Row(
        Stage.TEST_EMAIL,
        smtp(550, "5.7.54 SMTP; Unable to relay recipient in non-accepted domain", "RCPT"),
        C.TEST_EMAIL_FAILED,
        "relay_denied",
        "send.relay_denied",
    ),
    # Postfix reject_sender_login_mismatch (seen in this suite's integration tests)
    Row(
        Stage.TEST_EMAIL,
        smtp(
            553,
            "5.7.1 <alice@example.test>: Sender address rejected: not owned by user bob",
            "RCPT",
        ),
        C.TEST_EMAIL_FAILED,
        "sender_not_allowed",
        "send.sender_not_allowed",
    ),
    # Exchange Online send-as
    Row(
        Stage.TEST_EMAIL,
        smtp(550, "5.7.60 SMTP; Client does not have permissions to send as this sender", "MAIL"),
        C.TEST_EMAIL_FAILED,
        "sender_not_allowed",
        "send.sender_not_allowed",
    ),
    # Postfix unknown local recipient
    Row(
        Stage.TEST_EMAIL,
        smtp(
            550,
            "5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in "
            "virtual mailbox table",
            "RCPT",
        ),
        C.TEST_EMAIL_FAILED,
        "recipient_rejected",
        "send.recipient_rejected",
    ),
    # Postfix reject_unknown_sender_domain
    Row(
        Stage.TEST_EMAIL,
        smtp(
            553, "5.1.8 <alice@nowhere.invalid>: Sender address rejected: Domain not found", "MAIL"
        ),
        C.TEST_EMAIL_FAILED,
        "sender_rejected",
        "send.sender_rejected",
    ),
    # Amazon SES, unverified sender, refused after DATA
    Row(
        Stage.TEST_EMAIL,
        smtp(
            554,
            "Message rejected: Email address is not verified. The following identities "
            "failed the check in region US-EAST-1: alice@example.com",
            "DATA",
        ),
        C.TEST_EMAIL_FAILED,
        "message_rejected",
        "send.message_rejected",
    ),
    # -- connecting -----------------------------------------------------------
    Row(
        Stage.IMAP_CONNECT,
        HostNotFoundError("host name not found"),
        C.IMAP_SETTINGS_INCORRECT,
        "dns_not_found",
        "net.dns",
    ),
    Row(
        Stage.SMTP_CONNECT,
        HostNotFoundError("host name not found"),
        C.SMTP_SETTINGS_INCORRECT,
        "dns_not_found",
        "net.dns",
    ),
    Row(
        Stage.IMAP_CONNECT,
        RefusedError("connection refused"),
        C.IMAP_SETTINGS_INCORRECT,
        "connection_refused",
        "net.refused",
    ),
    Row(
        Stage.SMTP_CONNECT,
        RefusedError("connection refused"),
        C.SMTP_SETTINGS_INCORRECT,
        "connection_refused",
        "net.refused",
    ),
    Row(
        Stage.IMAP_CONNECT,
        NetworkError("network error: No route to host"),
        C.IMAP_SETTINGS_INCORRECT,
        "network_unreachable",
        "net.unreachable",
    ),
    Row(
        Stage.IMAP_CONNECT,
        DeadlineExceeded("connecting"),
        C.IMAP_SETTINGS_INCORRECT,
        "timeout",
        "net.timeout",
    ),
    Row(Stage.SMTP_LOGIN, DeadlineExceeded("logging in"), C.UNAUTHORIZED, "timeout", "net.timeout"),
    # A plain client waiting for a greeting on the implicit-TLS port (RFC 8314)
    Row(
        Stage.IMAP_CONNECT,
        DeadlineExceeded("waiting for the IMAP greeting"),
        C.IMAP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
        "tls.mode_mismatch",
        port=993,
        security=Security.STARTTLS,
    ),
    Row(
        Stage.SMTP_CONNECT,
        DeadlineExceeded("negotiating TLS"),
        C.SMTP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
        "tls.mode_mismatch",
        port=587,
        security=Security.TLS,
    ),
    # OpenSSL reading "* OK" or "220" as a TLS record
    Row(
        Stage.IMAP_CONNECT,
        TLSError("WRONG_VERSION_NUMBER", reason="wrong_version"),
        C.IMAP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
        "tls.mode_mismatch",
    ),
    Row(
        Stage.SMTP_CONNECT,
        TLSError("UNSUPPORTED_PROTOCOL", reason="protocol_version"),
        C.SMTP_SETTINGS_INCORRECT,
        "tls_version_unsupported",
        "tls.version",
    ),
    Row(
        Stage.SMTP_CONNECT,
        TLSError("SSLV3_ALERT_HANDSHAKE_FAILURE"),
        C.SMTP_SETTINGS_INCORRECT,
        "tls_handshake_failed",
        "tls.handshake",
    ),
    Row(
        Stage.IMAP_CONNECT,
        StartTLSError("no STARTTLS"),
        C.IMAP_SETTINGS_INCORRECT,
        "starttls_unavailable",
        "tls.starttls",
    ),
    Row(
        Stage.SMTP_CONNECT,
        StartTLSError("454 4.7.0 TLS not available", reason="refused"),
        C.SMTP_SETTINGS_INCORRECT,
        "starttls_unavailable",
        "tls.starttls",
    ),
    Row(
        Stage.IMAP_CONNECT,
        DisconnectedError("connection lost"),
        C.IMAP_SETTINGS_INCORRECT,
        "server_disconnected",
        "net.disconnected",
    ),
    # Greeting refusals: Postfix postscreen, and an IMAP BYE greeting (wording illustrative)
    Row(
        Stage.SMTP_CONNECT,
        smtp(
            554,
            "5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
            "CONNECT",
        ),
        C.SMTP_SETTINGS_INCORRECT,
        "server_rejected_connection",
        "connect.rejected",
    ),
    Row(
        Stage.IMAP_CONNECT,
        ReplyError.imap("BYE", "Too many connections", command=None),
        C.IMAP_SETTINGS_INCORRECT,
        "server_rejected_connection",
        "connect.rejected",
    ),
    Row(
        Stage.IMAP_CONNECT,
        ProtocolError("unexpected response: 'SSH-2.0-OpenSSH_9.2'"),
        C.IMAP_SETTINGS_INCORRECT,
        "protocol_mismatch",
        "protocol.mismatch",
    ),
    # -- certificates, at any stage -------------------------------------------
    Row(
        Stage.IMAP_CONNECT,
        CertificateError("self-signed", reason="self_signed"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_self_signed",
        "tls.certificate",
    ),
    Row(
        Stage.SMTP_CONNECT,
        CertificateError("expired", reason="expired"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_expired",
        "tls.certificate",
    ),
    Row(
        Stage.SMTP_CONNECT,
        CertificateError("mismatch", reason="hostname_mismatch"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_hostname_mismatch",
        "tls.certificate",
    ),
    Row(
        Stage.IMAP_CONNECT,
        CertificateError("unknown", reason="unknown_ca"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_unknown_ca",
        "tls.certificate",
    ),
    # -- IMAP validation ------------------------------------------------------
    Row(
        Stage.IMAP_VALIDATE,
        imap_no("[NONEXISTENT] Mailbox doesn't exist: INBOX", "EXAMINE"),
        C.IMAP_VALIDATION_ERROR,
        "inbox_unavailable",
        "validate.inbox",
    ),
    # A server refusing LIST (wording illustrative)
    Row(
        Stage.IMAP_VALIDATE,
        imap_no("Unable to read folder list", "LIST"),
        C.IMAP_VALIDATION_ERROR,
        "folders_unavailable",
        "validate.list",
        slot="imap_list",
    ),
    Row(
        Stage.IMAP_VALIDATE,
        CapabilityError("neither rev1 nor rev2", missing=("IMAP4rev1",), command="CAPABILITY"),
        C.IMAP_VALIDATION_ERROR,
        "missing_capability",
        "validate.capability",
    ),
    # -- nothing matches: the fallback ---------------------------------------
    Row(
        Stage.TEST_EMAIL,
        smtp(451, "4.3.0 Temporary lookup failure", "QUIT"),
        C.TEST_EMAIL_FAILED,
        "unknown",
        "fallback.test_email",
    ),
]


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r.stage.value}-{r.cause}-{i}" for i, r in enumerate(ROWS)]
)
def test_builtin_rule_table(row: Row) -> None:
    script: dict[str, Any] = dict(row.extra or {})
    script[row.slot or SLOT[row.stage]] = row.error
    server_kwargs: dict[str, Any] = {}
    if row.port is not None:
        server_kwargs["port"] = row.port
    if row.security is not None:
        server_kwargs["security"] = row.security
    key = "imap" if row.stage.protocol == "imap" else "smtp"
    base = {"imap": ("imap.example.com", 993), "smtp": ("smtp.example.com", 587)}[key]
    server = ServerSettings(host=base[0], port=server_kwargs.pop("port", base[1]), **server_kwargs)
    settings = scripted_settings(**{key: server})

    result = mailprobe.probe(
        settings, test_recipient="bcc@app.example", transport=ScriptedTransport(**script)
    )

    stage = result.stage(row.stage)
    assert stage.diagnosis is not None, result.to_dict()
    assert stage.diagnosis.category is row.category
    assert stage.diagnosis.cause == row.cause
    assert stage.diagnosis.rule_id == row.rule
    assert stage.diagnosis.title == row.category.label
    assert stage.diagnosis.hints, "every diagnosis carries at least one step"
    assert all("{" not in hint for hint in stage.diagnosis.hints)
    assert result.diagnosis == stage.diagnosis


def test_every_builtin_rule_has_a_table_row() -> None:
    covered = {row.rule for row in ROWS}
    assert {rule.id for rule in mailprobe.builtin_rules()} <= covered


def test_every_builtin_cause_has_its_own_hints() -> None:
    from mailprobe._rules._hints import HINTS

    assert {row.cause for row in ROWS} <= set(HINTS)
