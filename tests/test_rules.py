"""The built-in rules on failures that are not plain server replies (network, TLS,
certificates, capabilities, OAuth challenges), the context rules, and the advice the
diagnoses carry. Server replies are covered by the reply corpus (test_reply_corpus.py)."""

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
I_LOGIN, I_CONNECT, I_VALIDATE = Stage.IMAP_LOGIN, Stage.IMAP_CONNECT, Stage.IMAP_VALIDATE
S_LOGIN, S_CONNECT, SEND = Stage.SMTP_LOGIN, Stage.SMTP_CONNECT, Stage.TEST_EMAIL
SLOT = {
    I_CONNECT: "imap_connect",
    I_LOGIN: "imap_login",
    I_VALIDATE: "imap_examine",
    S_CONNECT: "smtp_connect",
    S_LOGIN: "smtp_login",
    SEND: "smtp_send",
}
GMAIL_I = "imap.gmail.com"
IMAP_PLAIN = ConnectionInfo(
    greeting="* OK Dovecot ready.", capabilities=("IMAP4REV1", "STARTTLS", "LOGINDISABLED")
)
SMTP_PLAIN = ConnectionInfo(
    greeting="220 mx ESMTP Postfix", capabilities=("PIPELINING", "SIZE 10240000", "STARTTLS")
)


class Row(NamedTuple):
    stage: Stage
    error: BaseException
    category: ErrorCategory
    cause: str
    host: Optional[str] = None
    port: Optional[int] = None
    security: Optional[Security] = None
    extra: Optional[dict[str, Any]] = None
    oauth2: bool = False
    username: Optional[str] = None


def challenged(error: ReplyError, challenge: str) -> ReplyError:
    error.challenge = challenge
    return error


def malformed(text: str) -> ProtocolError:
    error = ProtocolError(text)
    error.reason = "malformed"  # type: ignore[attr-defined]
    return error


def named(names: tuple[str, ...]) -> CertificateError:
    error = CertificateError(
        "certificate not trusted: Hostname mismatch", reason="hostname_mismatch"
    )
    error.names = names  # type: ignore[attr-defined]
    return error


ROWS = [
    # Our own refusal to send LOGIN when Dovecot advertised LOGINDISABLED (integration)
    Row(
        I_LOGIN,
        CapabilityError("LOGINDISABLED", missing=("LOGIN",), command="LOGIN"),
        C.IMAP_SETTINGS_INCORRECT,
        "plaintext_auth_disabled",
        security=Security.NONE,
        extra={"imap_connect": IMAP_PLAIN},
    ),
    # Postfix offering AUTH only after STARTTLS (smtpd_tls_auth_only, integration)
    Row(
        S_LOGIN,
        CapabilityError("no AUTH", missing=("AUTH",), command="AUTH"),
        C.SMTP_SETTINGS_INCORRECT,
        "plaintext_auth_disabled",
        security=Security.NONE,
        extra={"smtp_connect": SMTP_PLAIN},
    ),
    Row(
        I_LOGIN,
        CapabilityError("no PLAIN", missing=("AUTH=PLAIN",), command="AUTHENTICATE"),
        C.IMAP_AUTHENTICATION_ERROR,
        "auth_mechanism_unsupported",
    ),
    # OAuth 2.0: Gmail's XOAUTH2 error challenge (issue: jstedfast/MailKit#377)
    Row(
        I_LOGIN,
        challenged(
            ReplyError.imap(
                "NO", "[AUTHENTICATIONFAILED] Invalid credentials (Failure)", command="AUTHENTICATE"
            ),
            '{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}',
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "oauth_token_invalid",
        host=GMAIL_I,
        oauth2=True,
    ),
    # RFC 7628 section 3.2.2 error examples
    Row(
        I_LOGIN,
        challenged(
            ReplyError.imap("NO", "SASL authentication failed", command="AUTHENTICATE"),
            '{"status":"invalid_token","scope":"example_scope"}',
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "oauth_token_invalid",
        oauth2=True,
    ),
    Row(
        I_LOGIN,
        challenged(
            ReplyError.imap("NO", "SASL authentication failed", command="AUTHENTICATE"),
            '{"status":"insufficient_scope","scope":"mail.read mail.send"}',
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "oauth_scope_missing",
        oauth2=True,
    ),
    Row(
        I_LOGIN,
        CapabilityError("no OAuth", missing=("AUTH=OAUTHBEARER",), command="AUTHENTICATE"),
        C.IMAP_AUTHENTICATION_ERROR,
        "auth_mechanism_unsupported",
        oauth2=True,
    ),
    # -- the network ------------------------------------------------------------------
    Row(
        I_CONNECT,
        HostNotFoundError("host name not found"),
        C.IMAP_SETTINGS_INCORRECT,
        "dns_not_found",
    ),
    Row(
        S_CONNECT,
        HostNotFoundError("host name not found"),
        C.SMTP_SETTINGS_INCORRECT,
        "dns_not_found",
    ),
    Row(
        I_CONNECT,
        RefusedError("connection refused"),
        C.IMAP_SETTINGS_INCORRECT,
        "connection_refused",
    ),
    Row(
        S_CONNECT,
        RefusedError("connection refused"),
        C.SMTP_SETTINGS_INCORRECT,
        "connection_refused",
    ),
    Row(
        I_CONNECT,
        NetworkError("network error: No route to host"),
        C.IMAP_SETTINGS_INCORRECT,
        "network_unreachable",
    ),
    Row(I_CONNECT, DeadlineExceeded("connecting"), C.IMAP_SETTINGS_INCORRECT, "timeout"),
    Row(S_LOGIN, DeadlineExceeded("logging in"), C.UNAUTHORIZED, "timeout"),
    Row(
        I_CONNECT,
        DisconnectedError("connection lost"),
        C.IMAP_SETTINGS_INCORRECT,
        "server_disconnected",
    ),
    # -- security modes and TLS -------------------------------------------------------
    # A plain client waiting on an implicit-TLS port, a TLS client on a plain port
    Row(
        I_CONNECT,
        DeadlineExceeded("waiting for the IMAP greeting"),
        C.IMAP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
        port=993,
        security=Security.STARTTLS,
    ),
    Row(
        S_CONNECT,
        DeadlineExceeded("negotiating TLS"),
        C.SMTP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
        port=587,
        security=Security.TLS,
    ),
    Row(
        I_CONNECT,
        TLSError("WRONG_VERSION_NUMBER", reason="wrong_version"),
        C.IMAP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
    ),
    Row(
        S_CONNECT,
        TLSError("UNSUPPORTED_PROTOCOL", reason="protocol_version"),
        C.SMTP_SETTINGS_INCORRECT,
        "tls_version_unsupported",
    ),
    Row(
        S_CONNECT,
        TLSError("SSLV3_ALERT_HANDSHAKE_FAILURE"),
        C.SMTP_SETTINGS_INCORRECT,
        "tls_handshake_failed",
    ),
    Row(I_CONNECT, StartTLSError("no STARTTLS"), C.IMAP_SETTINGS_INCORRECT, "starttls_unavailable"),
    Row(
        S_CONNECT,
        StartTLSError("454 4.7.0 TLS not available", reason="refused"),
        C.SMTP_SETTINGS_INCORRECT,
        "starttls_unavailable",
    ),
    # -- the wrong service or a broken one ----------------------------------------------
    Row(
        I_CONNECT,
        ProtocolError("unexpected response: 'SSH-2.0-OpenSSH_9.2'"),
        C.IMAP_SETTINGS_INCORRECT,
        "protocol_mismatch",
    ),
    Row(
        I_CONNECT,
        ProtocolError("unexpected greeting: '220 smtp.example.com ESMTP Postfix'"),
        C.IMAP_SETTINGS_INCORRECT,
        "protocol_mismatch",
    ),
    Row(
        S_LOGIN, malformed("reply code 2350 is not three digits"), C.UNAUTHORIZED, "protocol_error"
    ),
    Row(I_VALIDATE, ProtocolError("mismatched tag"), C.IMAP_VALIDATION_ERROR, "protocol_error"),
    # -- certificates, at any stage -----------------------------------------------------
    Row(
        I_CONNECT,
        CertificateError("self-signed", reason="self_signed"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_self_signed",
    ),
    Row(
        S_CONNECT,
        CertificateError("expired", reason="expired"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_expired",
    ),
    Row(
        S_CONNECT,
        CertificateError("mismatch", reason="hostname_mismatch"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_hostname_mismatch",
    ),
    Row(
        I_CONNECT,
        CertificateError("unknown", reason="unknown_ca"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_unknown_ca",
    ),
    # -- capabilities ----------------------------------------------------------------------
    Row(
        I_VALIDATE,
        CapabilityError("neither rev1 nor rev2", missing=("IMAP4rev1",), command="CAPABILITY"),
        C.IMAP_VALIDATION_ERROR,
        "missing_capability",
    ),
    Row(
        SEND,
        CapabilityError(
            "a non-ASCII address needs SMTPUTF8", missing=("SMTPUTF8",), command="MAIL"
        ),
        C.TEST_EMAIL_FAILED,
        "smtputf8_unsupported",
    ),
    # -- context: the login differs from the sender ------------------------------------------
    Row(
        SEND,
        ReplyError.smtp(553, "5.7.1 Rejected", command="MAIL"),
        C.TEST_EMAIL_FAILED,
        "sender_not_allowed",
        username="bob",
    ),
    Row(
        SEND,
        ReplyError.smtp(553, "5.7.1 Rejected", command="MAIL"),
        C.TEST_EMAIL_FAILED,
        "sender_rejected",
    ),
]


def run_row(row: Row, **settings_overrides: Any) -> mailprobe.ProbeResult:
    script: dict[str, Any] = dict(row.extra or {})
    script[SLOT[row.stage]] = row.error
    key = "imap" if row.stage.protocol == "imap" else "smtp"
    default_host, default_port = {
        "imap": ("imap.example.com", 993),
        "smtp": ("smtp.example.com", 587),
    }[key]
    server = ServerSettings(
        host=row.host or default_host, port=row.port or default_port, security=row.security
    )
    if row.oauth2:
        settings_overrides = {
            "password": None,
            "oauth2_token": "ya29.test-token",
            **settings_overrides,
        }
    if row.username:
        settings_overrides = {"username": row.username, **settings_overrides}
    settings = scripted_settings(**{key: server, **settings_overrides})
    return mailprobe.probe(
        settings, test_recipient="bcc@app.example", transport=ScriptedTransport(**script)
    )


def diagnosis_of(row: Row, **overrides: Any) -> mailprobe.Diagnosis:
    diagnosis = run_row(row, **overrides).stage(row.stage).diagnosis
    assert diagnosis is not None
    return diagnosis


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r.stage.value}-{r.cause}-{i}" for i, r in enumerate(ROWS)]
)
def test_builtin_rules_on_errors(row: Row) -> None:
    diagnosis = diagnosis_of(row)
    assert (diagnosis.category, diagnosis.cause) == (row.category, row.cause)
    assert diagnosis.title == row.category.label
    assert diagnosis.summary and "{" not in diagnosis.summary
    assert diagnosis.hints and all("{" not in hint for hint in diagnosis.hints)
    assert diagnosis.evidence is not None and diagnosis.evidence.rule_id == diagnosis.rule_id
    assert diagnosis.rule_id in {rule.id for rule in mailprobe.builtin_rules()}


# -- advice that fits the case ------------------------------------------------------------
AUTH_FAILED = Row(
    I_LOGIN,
    ReplyError.imap("NO", "[AUTHENTICATIONFAILED] Authentication failed.", command="LOGIN"),
    C.IMAP_AUTHENTICATION_ERROR,
    "invalid_credentials",
)
GMAIL_FAILED = AUTH_FAILED._replace(host=GMAIL_I)


def test_a_wrong_password_says_to_retype_it_first_and_nothing_about_allowlists() -> None:
    diagnosis = diagnosis_of(AUTH_FAILED)
    assert diagnosis.hints[0].startswith("Type the password again by hand")
    assert len(diagnosis.hints) <= 4
    assert not any("IP" in hint or "allow" in hint.lower() for hint in diagnosis.hints)
    assert diagnosis.summary == (
        "The IMAP server did not accept the password for alice@example.com."
    )


def test_provider_steps_replace_the_generic_ones() -> None:
    diagnosis = diagnosis_of(GMAIL_FAILED)
    assert diagnosis.provider == "gmail"
    # Google takes only app passwords from mail apps: its own step comes first, then
    # retyping (what "type the password again" becomes when an app password is needed).
    assert "Google" in diagnosis.hints[0] and "app password" in diagnosis.hints[0]
    assert any("type it again by hand" in h for h in diagnosis.hints[1:])
    # The generic app-password sentence for unknown providers is gone.
    assert not any("your provider may want an app password" in h for h in diagnosis.hints)
    assert "https://support.google.com/accounts/answer/185833" in diagnosis.links


def test_the_provider_is_recognised_from_the_address_alone() -> None:
    assert diagnosis_of(AUTH_FAILED, email="someone@gmail.com").provider == "gmail"


def test_login_name_form_advice() -> None:
    local = diagnosis_of(AUTH_FAILED, username="alice")
    assert any("full email address (alice@example.com)" in h for h in local.hints)
    full = diagnosis_of(AUTH_FAILED)
    assert any("expect only the part before the @ (alice)" in h for h in full.hints)


def test_spaces_in_an_app_password_are_pointed_out() -> None:
    assert not any("spaces" in h for h in diagnosis_of(GMAIL_FAILED).hints)
    diagnosis = diagnosis_of(GMAIL_FAILED, password="abcd efgh ijkl mnop")
    assert any("contains spaces" in h for h in diagnosis.hints)


def test_the_connection_limit_the_server_announced_is_quoted() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap(
            "NO",
            "[UNAVAILABLE] Maximum number of connections from user+IP exceeded "
            "(mail_max_userip_connections=16)",
            command="LOGIN",
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "too_many_connections",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "too_many_connections"
    assert "already has 16 connections open from the app's network address" in diagnosis.summary
    assert "set up more than once in the app" in diagnosis.hints[1]
    assert diagnosis.temporary


def test_links_in_the_servers_reply_are_offered() -> None:
    row = Row(
        S_LOGIN,
        ReplyError.smtp(
            535,
            "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
            "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
            command="AUTH",
        ),
        C.UNAUTHORIZED,
        "smtp_auth_disabled",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "smtp_auth_disabled"
    assert "https://aka.ms/smtp_auth_disabled" in diagnosis.links
    assert not any("https://" in h for h in (diagnosis.summary, *diagnosis.hints))


@pytest.mark.parametrize(
    ("port", "security", "expected", "other"),
    [
        (587, Security.TLS, "STARTTLS", "465"),
        (993, Security.STARTTLS, "TLS", "143"),
        (2525, Security.TLS, "STARTTLS", "465"),
    ],
)
def test_mode_advice_is_worked_out_from_what_was_typed(
    port: int, security: Security, expected: str, other: str
) -> None:
    stage = S_CONNECT if port != 993 else I_CONNECT
    error: BaseException = (
        TLSError("WRONG_VERSION_NUMBER", reason="wrong_version")
        if security is Security.TLS
        else DeadlineExceeded("waiting for the IMAP greeting")
    )
    diagnosis = diagnosis_of(
        Row(stage, error, C.SMTP_SETTINGS_INCORRECT, "", port=port, security=security)
    )
    assert diagnosis.cause == "tls_mode_mismatch"
    assert f"Port {port} expects {expected}, but the security setting is {security.name}" in (
        diagnosis.summary
    )
    assert f"Choose {expected} as the security setting and keep port {port}." in diagnosis.hints
    # The usual port for the chosen mode is offered only where the port's mode was
    # inferred (a silent usual port), not where the handshake showed it: then the fix
    # is certain and the other port was never tried.
    offered = any(f"use port {other}" in h for h in diagnosis.hints)
    assert offered is isinstance(error, DeadlineExceeded)


def test_a_certificate_name_mismatch_names_the_names() -> None:
    row = Row(S_CONNECT, named(("mail.provider.example", "*.provider.example")), C.UNAUTHORIZED, "")
    diagnosis = diagnosis_of(row)
    # A wildcard is put in words: nobody can type "*.provider.example" as a server name.
    assert "is for mail.provider.example, a name ending in .provider.example," in diagnosis.summary
    assert diagnosis.hints[0] == (
        "Enter mail.provider.example as the SMTP server name "
        "and keep the port and security setting."
    )


def test_swapped_imap_and_smtp_settings_are_recognised() -> None:
    row = Row(
        I_CONNECT, ProtocolError("unexpected greeting: '220 mx.example ESMTP'"), C.UNAUTHORIZED, ""
    )
    diagnosis = diagnosis_of(row)
    assert "the IMAP port is wrong, or the IMAP and SMTP settings are swapped" in (
        diagnosis.summary
    )
    # The port fix first, then the swap, once each.
    assert diagnosis.hints[0] == "Use the IMAP port: 993 with TLS or 143 with STARTTLS."
    assert diagnosis.hints[-1].startswith("If the SMTP settings hold the IMAP server's port")


def test_temporary_is_decided_by_the_situation() -> None:
    connecting = diagnosis_of(Row(I_CONNECT, DeadlineExceeded("connecting"), C.UNAUTHORIZED, ""))
    greeting = diagnosis_of(
        Row(
            I_CONNECT,
            DeadlineExceeded("waiting for the IMAP greeting"),
            C.UNAUTHORIZED,
            "",
            port=1993,
        )
    )
    # A server that does not answer at all may be down: retrying may work as is.
    assert (connecting.cause, connecting.temporary) == ("timeout", True)
    assert any("the server may be down" in h for h in connecting.hints)
    assert (greeting.cause, greeting.temporary) == ("timeout", True)
    assert any("Try again in a few minutes" in h for h in greeting.hints)
    reset = diagnosis_of(Row(I_LOGIN, DisconnectedError("connection lost"), C.UNAUTHORIZED, ""))
    assert reset.temporary and any("Try again" in h for h in reset.hints)


def test_auth_required_after_a_successful_login_says_so() -> None:
    row = Row(
        SEND,
        ReplyError.smtp(530, "5.7.0 Authentication required", command="MAIL"),
        C.UNAUTHORIZED,
        "",
        port=25,
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "auth_required"
    assert diagnosis.summary.startswith(
        "smtp.example.com accepted your sign-in, but then refused to send"
    )
    assert any("Port 25 is often only for mail between servers" in h for h in diagnosis.hints)


def test_tls_demanded_anywhere_is_a_settings_problem() -> None:
    for stage, command in ((S_LOGIN, "AUTH"), (SEND, "MAIL")):
        row = Row(
            stage,
            ReplyError.smtp(530, "5.7.0 Must issue a STARTTLS command first", command=command),
            C.UNAUTHORIZED,
            "",
            security=Security.NONE,
            port=25,
        )
        diagnosis = diagnosis_of(row)
        assert (diagnosis.cause, diagnosis.category) == (
            "starttls_required",
            C.SMTP_SETTINGS_INCORRECT,
        )


def test_starttls_asked_of_the_tls_port_is_a_mode_mismatch_not_a_missing_starttls() -> None:
    for error in (
        StartTLSError("the IMAP server does not offer STARTTLS"),
        ReplyError.imap("BAD", "Unknown command", command="STARTTLS"),
    ):
        row = Row(I_CONNECT, error, C.UNAUTHORIZED, "", port=993, security=Security.STARTTLS)
        diagnosis = diagnosis_of(row)
        assert diagnosis.cause == "tls_mode_mismatch"
        assert diagnosis.summary.startswith(
            "Port 993 expects TLS, but the security setting is STARTTLS"
        )


def test_no_advice_repeats_what_was_typed() -> None:
    # TLS on 993 is the usual pair: whatever failed, no hint may recommend it back.
    row = Row(
        I_CONNECT,
        ReplyError.imap("NO", "TLS already started", command="STARTTLS"),
        C.UNAUTHORIZED,
        "",
    )
    diagnosis = diagnosis_of(
        row, imap=ServerSettings(host="imap.example.com", port=993, security=Security.TLS)
    )
    assert not any(
        "Choose TLS as the security setting and keep port 993" in h for h in diagnosis.hints
    )
    assert "expects TLS, but the security setting is TLS" not in diagnosis.summary


def test_try_again_only_where_retrying_may_work() -> None:
    import itertools

    from . import corpus

    rows = [r for r in itertools.islice(corpus.load(), 0, None) if not r.get("excluded")]
    for row in rows:
        diagnosis = corpus.probe_row(row).stage(Stage(row["stage"])).diagnosis
        assert diagnosis is not None
        says_retry = any(
            h.startswith(("Try again", "Run the check again")) for h in diagnosis.hints
        )
        assert not says_retry or diagnosis.temporary, (row["id"], diagnosis.hints)


# -- advice that uses what the provider documents and what the server said ---------------
ICLOUD_SMTP = ServerSettings(host="smtp.mail.me.com", port=465, security=Security.TLS)
OUTLOOK_SMTP = ServerSettings(host="smtp.office365.com", port=587, security=Security.STARTTLS)


def test_a_refusal_on_the_providers_own_host_names_the_documented_port() -> None:
    row = Row(S_CONNECT, RefusedError("connection refused"), C.UNAUTHORIZED, "")
    diagnosis = diagnosis_of(row, email="alice@icloud.com", smtp=ICLOUD_SMTP)
    assert diagnosis.cause == "connection_refused"
    assert diagnosis.hints[0] == (
        "iCloud Mail documents port 587 with STARTTLS for smtp.mail.me.com: "
        "change the port to 587 and the security setting to STARTTLS."
    )
    # The host is the documented one: nothing asks the person to doubt it.
    assert not any("check the server name" in h for h in diagnosis.hints)


def test_a_silent_drop_on_the_documented_settings_points_at_the_apps_network() -> None:
    for error in (DeadlineExceeded("connecting"), RefusedError("connection refused")):
        row = Row(S_CONNECT, error, C.UNAUTHORIZED, "")
        diagnosis = diagnosis_of(row, email="alice@outlook.com", smtp=OUTLOOK_SMTP)
        said = " ".join((diagnosis.summary, *diagnosis.hints))
        assert "app's support team" in said
        assert "port may be wrong" not in said and "check the server name" not in said
    # The same silence on a self-hosted server keeps the firewall and port advice.
    own = diagnosis_of(Row(S_CONNECT, DeadlineExceeded("connecting"), C.UNAUTHORIZED, ""))
    assert "the port may be wrong" in own.summary


def test_no_greeting_on_a_port_that_fits_its_mode_does_not_blame_the_mode() -> None:
    waiting = DeadlineExceeded("waiting for the SMTP greeting")
    fits = diagnosis_of(
        Row(S_CONNECT, waiting, C.UNAUTHORIZED, "", port=587, security=Security.STARTTLS)
    )
    assert fits.cause == "timeout" and fits.temporary
    assert "security setting" not in fits.summary
    assert any(h.startswith("If it keeps happening") for h in fits.hints)
    misfit = diagnosis_of(
        Row(S_CONNECT, waiting, C.UNAUTHORIZED, "", port=2525, security=Security.TLS)
    )
    assert "security setting may not fit the port" in misfit.summary


@pytest.mark.parametrize(
    ("text", "wait"),
    [
        ("Request is throttled. Suggested Backoff Time: 178755 milliseconds", "about 3 minutes"),
        ("Too many login attempts, please try again in 30 seconds", "30 seconds"),
        ("Rate limit exceeded, retry after 2 hours", "2 hours"),
    ],
)
def test_a_wait_the_server_names_is_the_wait_advised(text: str, wait: str) -> None:
    row = Row(I_VALIDATE, ReplyError.imap("NO", text, command="EXAMINE"), C.UNAUTHORIZED, "")
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "rate_limited" and diagnosis.temporary
    assert diagnosis.hints[0] == f"Wait {wait}, the time the server asked for, then try again."
    assert not any("15 minutes" in h for h in diagnosis.hints)


def test_an_inbox_in_use_is_temporary_and_advises_a_retry() -> None:
    for text in ("Mailbox is locked", "[INUSE] Mailbox in use by another session"):
        row = Row(I_VALIDATE, ReplyError.imap("NO", text, command="EXAMINE"), C.UNAUTHORIZED, "")
        diagnosis = diagnosis_of(row)
        # RFC 5530 INUSE is the server's own "unavailable for now"
        assert diagnosis.cause in {"inbox_unavailable", "server_unavailable"}
        assert diagnosis.temporary
        assert diagnosis.hints[0].startswith("Try again in a few minutes")
        assert not any("storage limit" in h for h in diagnosis.hints)


def test_a_missing_licence_is_for_the_administrator_not_a_wait() -> None:
    row = Row(
        SEND,
        ReplyError.smtp(
            550,
            "5.2.253 Sender throttled due to continuous invalid license errors.",
            command="MAIL",
        ),
        C.UNAUTHORIZED,
        "",
    )
    diagnosis = diagnosis_of(row, email="alice@contoso.com", smtp=OUTLOOK_SMTP)
    assert (diagnosis.cause, diagnosis.temporary) == ("account_locked", False)
    assert "licence" in diagnosis.summary and "waiting will not help" in diagnosis.hints[0]


def test_a_reputation_limit_is_not_called_a_blocklist() -> None:
    row = Row(
        SEND,
        ReplyError.smtp(554, "5.2.0 sc969: IP reputation ratelimit in effect", command="MAIL"),
        C.UNAUTHORIZED,
        "",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "ip_blocked"
    assert "reputation" in diagnosis.summary and "blocklist" not in diagnosis.summary


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        (
            "sorry, your envelope sender is in my badmailfrom list (#5.7.1)",
            "sorry, your envelope sender is in my badmailfrom list",
        ),
        (
            "5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; "
            "Failed to process message due to a permanent exception with message Cannot submit "
            "message. 0.35250:0A00CA84",
            "Failed to process message due to a permanent exception with message Cannot submit "
            "message",
        ),
        ("Internal Error: cannot open file", "Internal Error: cannot open file"),
    ],
)
def test_quoted_server_words_lose_codes_and_program_identifiers(text: str, quoted: str) -> None:
    from mailprobe._rules._words import server_words

    assert server_words(text) == quoted


def test_a_pop3_server_typed_for_imap_is_named_and_its_imap_sibling_offered() -> None:
    greeting = ProtocolError("unexpected greeting: '+OK POP3 ready <1896.697170952@mtview>'")
    row = Row(I_CONNECT, greeting, C.UNAUTHORIZED, "")
    pop = diagnosis_of(
        row, imap=ServerSettings(host="pop.provider.example", port=110, security=Security.NONE)
    )
    assert pop.cause == "protocol_mismatch" and "POP3 server" in pop.summary
    assert pop.hints == (
        "Use the IMAP server instead, usually imap.provider.example, with port 993 and the "
        "security setting TLS.",
    )
    other = diagnosis_of(
        row, imap=ServerSettings(host="mail.provider.example", port=110, security=Security.NONE)
    )
    assert "imap.provider.example" not in " ".join(other.hints)
    assert other.hints[0].startswith("Enter your provider's IMAP server name")


def test_a_server_name_a_letter_or_two_off_gets_a_did_you_mean() -> None:
    row = Row(S_CONNECT, HostNotFoundError("no such host"), C.UNAUTHORIZED, "")
    typo = diagnosis_of(
        row,
        email="alice@mydomain.example",
        smtp=ServerSettings(host="mail.mydomian.example", port=465, security=Security.TLS),
    )
    assert typo.hints[0].startswith("Did you mean mail.mydomain.example?")
    # A name nowhere near the address's domain gets the general advice.
    far = diagnosis_of(
        row,
        email="alice@mydomain.example",
        smtp=ServerSettings(host="smtp.other.example", port=465, security=Security.TLS),
    )
    assert not any(h.startswith("Did you mean") for h in far.hints)


def test_a_server_without_auth_is_probably_not_the_sending_server() -> None:
    refused = ReplyError.smtp(500, "5.5.2 Syntax error, AUTH command unrecognized", command="AUTH")
    diagnosis = diagnosis_of(Row(S_LOGIN, refused, C.UNAUTHORIZED, ""))
    assert diagnosis.cause == "auth_mechanism_unsupported"
    assert "does not take sign-ins at all" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Check that smtp.example.com is your provider's outgoing")


def test_an_ehlo_refusal_is_the_apps_not_the_settings() -> None:
    refused = ReplyError.smtp(
        550, "HELO host must be a FQDN or address literal (RFC 5321 2.3.5)", command="EHLO"
    )
    diagnosis = diagnosis_of(Row(S_CONNECT, refused, C.UNAUTHORIZED, ""))
    assert diagnosis.cause == "protocol_error" and "not your settings" in diagnosis.summary
    assert diagnosis.hints == (
        "Contact the app's support team and pass on the server's message: "
        '"HELO host must be a FQDN or address literal (RFC 5321 2.3.5)".',
    )


def test_a_personal_account_is_not_sent_to_an_administrator() -> None:
    denied = ReplyError.smtp(
        554,
        "5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied",
        command="DATA",
    )
    outlook = ServerSettings(host="smtp-mail.outlook.com", port=587, security=Security.STARTTLS)
    personal = diagnosis_of(
        Row(SEND, denied, C.UNAUTHORIZED, ""), email="alice@outlook.com", smtp=outlook
    )
    assert personal.cause == "sender_not_allowed"
    assert not any("administrator" in h for h in personal.hints)
    assert personal.hints[0].startswith("Sign in to your webmail")
    work = diagnosis_of(
        Row(SEND, denied, C.UNAUTHORIZED, ""), email="alice@contoso.example", smtp=outlook
    )
    assert any("ask your administrator" in h for h in work.hints)


def test_an_unknown_account_name_is_checked_before_the_password() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap("NO", "Lookup failed x76mb603055274wlx", command="LOGIN"),
        C.UNAUTHORIZED,
        "",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "invalid_credentials"
    assert diagnosis.hints[0] == (
        "Check alice@example.com for typos first: the server could not find an account by "
        "that name."
    )


def test_a_receiving_server_typed_as_smtp_names_the_providers_sending_server() -> None:
    refused = ReplyError.smtp(
        554,
        "mx00.emig.gmx.net Nemesis ESMTP Service not available. Bad DNS PTR resource record.",
        command="CONNECT",
    )
    mx = ServerSettings(host="mx00.emig.gmx.net", port=587, security=Security.STARTTLS)
    diagnosis = diagnosis_of(
        Row(S_CONNECT, refused, C.UNAUTHORIZED, ""), email="alice@gmx.net", smtp=mx
    )
    assert diagnosis.cause == "ip_blocked"
    assert "only receives mail" in diagnosis.summary and "not the problem" not in diagnosis.summary
    assert diagnosis.hints[1].startswith("GMX documents mail.gmx.net, port 587 with STARTTLS")
    assert not any("app's support team" in h for h in diagnosis.hints)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("LOGOUT Intrusion prevention active for 50.1.2.3", "banned the app's network address"),
        ("[ALERT] country blocked", "country or region"),
    ],
)
def test_a_ban_on_your_own_server_goes_to_its_administrator(text: str, said: str) -> None:
    row = Row(I_LOGIN, ReplyError.imap("NO", text, command="LOGIN"), C.UNAUTHORIZED, "")
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "ip_blocked" and said in diagnosis.summary
    assert diagnosis.hints[0].startswith("If you or your organisation run this server")
    assert diagnosis.temporary is ("Intrusion" in text)


def test_the_servers_own_instruction_comes_first() -> None:
    said = "Invalid user name or password. Please use full email address as user name."
    row = Row(I_LOGIN, ReplyError.imap("NO", said, command="LOGIN"), C.UNAUTHORIZED, "")
    diagnosis = diagnosis_of(row, username="bob")
    assert diagnosis.hints[0] == (
        "The server asks for the full email address as the login name: "
        "enter alice@example.com instead of bob."
    )


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("SELECT Unsafe Login. Please contact kefu@188.com for help", "Contact the app's support"),
        ("Mailbox has been moved to another server", "Ask your provider or IT team for the"),
    ],
)
def test_an_inbox_refusal_says_what_the_server_said(text: str, first: str) -> None:
    row = Row(I_VALIDATE, ReplyError.imap("NO", text, command="EXAMINE"), C.UNAUTHORIZED, "")
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "inbox_unavailable"
    assert diagnosis.hints[0].startswith(first)
    assert not any("storage limit" in h for h in diagnosis.hints)


def test_the_providers_own_server_is_not_called_the_wrong_server() -> None:
    refused = ReplyError.smtp(502, "5.5.2 Syntax error, command unrecognized.", command="AUTH")
    yandex = ServerSettings(host="smtp.yandex.ru", port=465, security=Security.TLS)
    diagnosis = diagnosis_of(
        Row(S_LOGIN, refused, C.UNAUTHORIZED, ""), email="alice@yandex.ru", smtp=yandex
    )
    said = " ".join((diagnosis.summary, *diagnosis.hints))
    assert "not the server for sending" not in said and "outgoing server" not in said


def test_no_waiting_after_the_documented_port_is_named() -> None:
    wrong_port = ServerSettings(host="smtp.office365.com", port=465, security=Security.TLS)
    diagnosis = diagnosis_of(
        Row(S_CONNECT, DeadlineExceeded("connecting"), C.UNAUTHORIZED, ""),
        email="alice@contoso.example",
        smtp=wrong_port,
    )
    assert diagnosis.hints[0].startswith("Microsoft 365 / Outlook.com documents port 587")
    assert not diagnosis.temporary
    assert not any("try again later" in h for h in diagnosis.hints)


def test_a_page_the_server_names_is_the_step() -> None:
    said = (
        "5.4.6 Unusual sending activity detected. To unblock "
        "<a href=https://mail.zoho.com/UnblockMe>Click here.</a>"
    )
    row = Row(SEND, ReplyError.smtp(550, said, command="MAIL"), C.UNAUTHORIZED, "")
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "account_locked"
    assert any(h.startswith("Open https://mail.zoho.com/UnblockMe,") for h in diagnosis.hints)


def test_a_sign_in_challenge_while_sending_says_sending_is_held() -> None:
    said = "5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Actual verdict is HipNotify"
    row = Row(SEND, ReplyError.smtp(554, said, command="DATA"), C.UNAUTHORIZED, "")
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "web_login_required"
    assert diagnosis.summary.startswith("Signing in worked, but the provider is holding back")


def test_an_untrusted_certificate_on_a_providers_own_server_is_an_interception() -> None:
    for reason in ("self_signed", "unknown_ca", "hostname_mismatch"):
        error = CertificateError("certificate not trusted", reason=reason)
        gmx = ServerSettings(host="imap.gmx.net", port=993, security=Security.TLS)
        diagnosis = diagnosis_of(
            Row(I_CONNECT, error, C.UNAUTHORIZED, ""), email="alice@gmx.net", imap=gmx
        )
        assert "intercepting the connection" in diagnosis.summary
        assert diagnosis.hints[0].startswith("Do not allow untrusted certificates here")
        # Never the advice to trust it anyway, nor to ask GMX for a new certificate.
        said = " ".join(diagnosis.hints)
        assert "allow untrusted" not in said.replace("Do not allow untrusted", "")
        assert "administrator" not in said
    own = diagnosis_of(
        Row(I_CONNECT, CertificateError("x", reason="self_signed"), C.UNAUTHORIZED, "")
    )
    assert "intercepting" not in own.summary


def test_port_25_silence_or_refusal_offers_the_submission_ports() -> None:
    for error in (DeadlineExceeded("connecting"), RefusedError("connection refused")):
        row = Row(S_CONNECT, error, C.UNAUTHORIZED, "", port=25, security=Security.STARTTLS)
        diagnosis = diagnosis_of(row)
        assert diagnosis.hints[0].startswith("Many networks block port 25")
        assert not diagnosis.temporary
        assert not any("try again later" in h for h in diagnosis.hints)


def test_a_local_address_is_explained() -> None:
    local = ServerSettings(host="127.0.0.1", port=1143, security=Security.STARTTLS)
    diagnosis = diagnosis_of(
        Row(I_CONNECT, RefusedError("connection refused"), C.UNAUTHORIZED, ""), imap=local
    )
    assert diagnosis.hints[0].startswith("127.0.0.1 is an address on your own computer")


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("user alice@proton.me not found", "invalid_credentials"),
        ("4.7.1 Connection refused: failure in DNS look-up of 192.0.2.1", "ip_blocked"),
    ],
)
def test_more_wordings_are_read(text: str, cause: str) -> None:
    if cause == "invalid_credentials":
        diagnosis = diagnosis_of(
            Row(I_LOGIN, ReplyError.imap("NO", text, command="LOGIN"), C.UNAUTHORIZED, "")
        )
        assert diagnosis.hints[0].startswith("Check alice@example.com for typos first")
    else:
        diagnosis = diagnosis_of(
            Row(S_CONNECT, ReplyError.smtp(421, text, command="CONNECT"), C.UNAUTHORIZED, "")
        )
        assert "reverse DNS" in diagnosis.summary
    assert diagnosis.cause == cause


def test_a_plain_connection_refused_gets_the_providers_documented_mode() -> None:
    icloud = ServerSettings(host="smtp.mail.me.com", port=587, security=Security.NONE)
    row = Row(
        S_LOGIN,
        CapabilityError("no AUTH", missing=("AUTH",), command="AUTH"),
        C.UNAUTHORIZED,
        "",
        extra={"smtp_connect": SMTP_PLAIN},
    )
    diagnosis = diagnosis_of(row, email="alice@icloud.com", smtp=icloud)
    assert diagnosis.cause == "plaintext_auth_disabled"
    assert diagnosis.hints[0] == (
        "Set the security to STARTTLS with port 587, as iCloud Mail documents for smtp.mail.me.com."
    )


def test_provider_steps_do_not_push_out_the_app_password_hint() -> None:
    webde = ServerSettings(host="imap.web.de", port=993, security=Security.TLS)
    row = Row(
        I_LOGIN, ReplyError.imap("NO", "authentication failed", command="LOGIN"), C.UNAUTHORIZED, ""
    )
    diagnosis = diagnosis_of(row, email="alice@web.de", imap=webde)
    said = " ".join(diagnosis.hints)
    assert "app password" in said and "POP3/IMAP" in said
