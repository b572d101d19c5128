"""Advice classes the tenth hint review left open: a server's own TLS failure, Microsoft's
retired password sign-in per kind of account, Naver and Daum, and personal mailboxes at
ISPs (no administrator to ask)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

import mailprobe
from mailprobe import ErrorCategory as C
from mailprobe import ProtocolError, RefusedError, ReplyError, Security, ServerSettings, Stage
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings
from .test_rules import I_LOGIN, S_CONNECT, S_LOGIN, SEND, Row, diagnosis_of

TLS_FAILED = Row(
    S_CONNECT,
    ReplyError.smtp(454, "4.7.0 TLS initialization failed", command="STARTTLS"),
    C.SMTP_SETTINGS_INCORRECT,
    "tls_handshake_failed",
    host="mail.example.net",
    port=587,
    security=Security.STARTTLS,
)


def test_a_server_reporting_its_own_tls_failure_gets_steps_not_only_contact_support() -> None:
    diagnosis = diagnosis_of(TLS_FAILED)
    assert diagnosis.cause == "tls_handshake_failed"
    assert "server's own setup" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Try port 465 with the security setting TLS")
    assert diagnosis.temporary  # a 4xx reply: the server calls it temporary
    assert any(h.startswith("Try again in a few minutes") for h in diagnosis.hints)
    assert any("mail.example.net reports its own encryption" in h for h in diagnosis.hints)
    assert not any("does not explain it" in h for h in diagnosis.hints)


def test_a_permanent_tls_failure_on_the_tls_port_offers_no_port_and_no_retry() -> None:
    row = TLS_FAILED._replace(
        error=ReplyError.smtp(554, "5.0.0 Handshake error", command="STARTTLS"),
        port=465,
        security=Security.TLS,
    )
    diagnosis = diagnosis_of(row)
    assert not diagnosis.temporary
    assert not any(h.startswith(("Try port", "Try again")) for h in diagnosis.hints)
    assert any("reports its own encryption" in h for h in diagnosis.hints)


M365_SMTP_5_7_3 = Row(
    S_LOGIN,
    ReplyError.smtp(535, "5.7.3 Authentication unsuccessful", command="AUTH"),
    C.UNAUTHORIZED,
    "invalid_credentials",
    host="smtp-mail.outlook.com",
    security=Security.STARTTLS,
)


def test_microsoft_personal_addresses_are_not_told_to_retype_a_password_it_no_longer_takes() -> (
    None
):
    hints = diagnosis_of(M365_SMTP_5_7_3, email="bob@hotmail.com").hints
    assert hints[0].startswith("Microsoft stopped taking passwords")
    assert "Sign in with Microsoft" in hints[0]
    assert not any("administrator" in h for h in hints)
    assert not any(h.startswith(("Type the password", "If two-step")) for h in hints)


def test_microsoft_work_addresses_hear_of_their_organisations_setting_and_keep_retyping() -> None:
    row = M365_SMTP_5_7_3._replace(host="smtp.office365.com")
    hints = diagnosis_of(row, email="bob@contoso.example").hints
    assert hints[0].startswith("If the password is right, your organisation")
    assert any(h.startswith("Type the password again") for h in hints)


def test_password_retired_is_read_from_the_providers_data() -> None:
    # The same reply at a provider whose data retires nothing keeps the password steps.
    provider = mailprobe.default_providers().get("microsoft")
    assert provider is not None and provider.password_retired == ("imap", "smtp@personal")
    plain = mailprobe.Provider(id="p", name="P", domains=["p.example"], hosts=["*.p.example"])
    retired = mailprobe.Provider(
        id="r", name="R", domains=["r.example"], hosts=["*.r.example"], password_retired=["smtp"]
    )
    for provider, retyped in ((plain, True), (retired, False)):
        domain = provider.domains[0]
        settings = scripted_settings(
            email=f"bob@{domain}",
            smtp=ServerSettings(host=f"smtp.{domain}", port=587, security=Security.STARTTLS),
        )
        result = mailprobe.probe(
            settings,
            test_recipient="bcc@app.example",
            transport=ScriptedTransport(smtp_login=M365_SMTP_5_7_3.error),
            providers=mailprobe.Providers([provider]),
        )
        diagnosis = result.stage(Stage.SMTP_LOGIN).diagnosis
        assert diagnosis is not None and diagnosis.provider == provider.id
        assert any(h.startswith("Type the password again") for h in diagnosis.hints) is retyped


NAVER_LOGIN = Row(
    I_LOGIN,
    ReplyError.imap("NO", "[AUTHENTICATIONFAILED] Authentication failed.", command="LOGIN"),
    C.IMAP_AUTHENTICATION_ERROR,
    "invalid_credentials",
    host="imap.naver.com",
)


def test_naver_is_known_and_its_local_part_login_is_not_called_wrong() -> None:
    diagnosis = diagnosis_of(NAVER_LOGIN, email="kim@naver.com", username="kim")
    assert diagnosis.provider == "naver"
    assert "app password" in diagnosis.summary
    assert not any("full email address" in h for h in diagnosis.hints)


def test_daum_has_its_own_step_for_turning_imap_on() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap("NO", "IMAP is disabled. Please enable it in settings.", command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "imap_disabled",
        host="imap.daum.net",
    )
    diagnosis = diagnosis_of(row, email="lee@hanmail.net")
    assert diagnosis.provider == "daum"
    assert diagnosis.hints[0].startswith("In Daum Mail on a computer open Settings")


BLOCKED_AT_GREETING = Row(
    S_CONNECT,
    ReplyError.smtp(554, "5.7.1 Your IP 192.0.2.45 is blocked", command=None),
    C.SMTP_SETTINGS_INCORRECT,
    "ip_blocked",
)


@pytest.mark.parametrize("domain", ["cox.net", "nc.rr.com", "btinternet.com", "orange.fr"])
def test_isp_mailboxes_are_not_asked_to_run_their_own_server(domain: str) -> None:
    hints = diagnosis_of(
        BLOCKED_AT_GREETING._replace(host=f"smtp.{domain}"), email=f"joe@{domain}"
    ).hints
    assert hints and not any("run this server" in h for h in hints)
    wrong = Row(
        S_LOGIN,
        ReplyError.smtp(535, "5.7.8 Authentication failed", command="AUTH"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        host=f"smtp.{domain}",
    )
    hints = diagnosis_of(wrong, email=f"joe@{domain}").hints
    assert any("reset it on your email provider's website" in h for h in hints)
    assert not any("hosting control panel" in h or "self-hosted" in h for h in hints)


def test_a_company_server_still_gets_the_administrators_steps() -> None:
    hints = diagnosis_of(
        BLOCKED_AT_GREETING._replace(host="mail.acme-corp.example"),
        email="joe@acme-corp.example",
    ).hints
    assert hints[0].startswith("If you or your organisation run this server")


def test_the_personal_domains_list_is_data_with_no_duplicates_or_provider_overlap() -> None:
    text = resources.files("mailprobe._rules").joinpath("personal_domains.json").read_text()
    domains = json.loads(text)["domains"]
    assert domains == sorted(set(domains)) and len(domains) > 50
    for provider in mailprobe.default_providers():
        assert not set(provider.domains) & set(domains), provider.id


@pytest.mark.parametrize(
    ("text", "summary_part", "hint_start"),
    [
        (
            "4.7.1 Hourly sending limit reached, please try later",
            "for this hour",
            "Wait about an hour",
        ),
        ("5.4.5 Daily sending quota exceeded", "within 24 hours", "Run the check again tomorrow"),
        (
            "4.7.1 Sending limit exceeded, try again in 40 minutes",
            "in 40 minutes",
            "Wait 40 minutes",
        ),
        (
            "4.7.1 You have exceeded your sending limit",
            "when the provider's limit resets",
            "Wait for the limit",
        ),
    ],
)
def test_a_sending_limits_wait_is_the_one_its_reply_names(
    text: str, summary_part: str, hint_start: str
) -> None:
    row = Row(
        SEND,
        ReplyError.smtp(451 if text.startswith("4") else 550, text, command="MAIL"),
        C.TEST_EMAIL_FAILED,
        "sending_limit_exceeded",
        host="smtp.example.net",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "sending_limit_exceeded"
    assert summary_part in diagnosis.summary
    assert diagnosis.hints[0].startswith(hint_start)
    # No default wait contradicts the one the reply names.
    if "24 hours" not in summary_part:
        assert "24 hours" not in diagnosis.summary


@pytest.mark.parametrize(
    ("imap_host", "smtp_host", "email", "error"),
    [
        (
            "smtp.gmail.com",
            "imap.gmail.com",
            "a@gmail.com",
            ProtocolError("unexpected greeting: '220 smtp.gmail.com ESMTP ready'"),
        ),
        (
            "smtp.acme.example",
            "imap.acme.example",
            "a@acme.example",
            ProtocolError("unexpected greeting: '220 smtp.acme.example ESMTP'"),
        ),
        ("smtp.gmail.com", "imap.gmail.com", "a@gmail.com", RefusedError("refused")),
    ],
)
def test_both_server_names_swapped_are_fixed_in_one_go(
    imap_host: str, smtp_host: str, email: str, error: Exception
) -> None:
    def run(smtp: str) -> mailprobe.Diagnosis:
        settings = scripted_settings(
            email=email,
            imap=ServerSettings(host=imap_host, port=993, security=Security.TLS),
            smtp=ServerSettings(host=smtp, port=465, security=Security.TLS),
        )
        result = mailprobe.probe(
            settings,
            test_recipient="bcc@app.example",
            transport=ScriptedTransport(imap_connect=error),
        )
        diagnosis = result.stage(Stage.IMAP_CONNECT).diagnosis
        assert diagnosis is not None
        return diagnosis

    hints = run(smtp_host).hints
    swapped = [h for h in hints if "the two names are swapped" in h]
    assert swapped == [
        f"The SMTP server is set to {smtp_host}, which is the IMAP server: the two names are "
        f"swapped. Enter {imap_host} as the SMTP server, so both are fixed at once."
    ]
    # Only the IMAP name wrong: nothing is said about the SMTP server.
    assert not any("swapped" in h for h in run(imap_host.replace("smtp.", "mail.", 1)).hints)


def test_a_sending_service_asking_for_its_own_key_is_not_sent_to_app_passwords() -> None:
    row = Row(
        S_LOGIN,
        ReplyError.smtp(
            535,
            "Authentication failed: Basic authentication is not allowed with 2FA enabled. "
            "To fix, see https://sendgrid.com/docs/for-developers/sending-email/authentication/",
            command="AUTH",
        ),
        C.UNAUTHORIZED_APP_PASSWORD_REQUIRED,
        "app_password_required",
        host="smtp.sendgrid.net",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "app_password_required"
    assert "API key" in diagnosis.summary
    # SendGrid's own pair: the word apikey and an API key.
    assert diagnosis.hints[0].startswith("SendGrid takes the word apikey itself")
    assert any(link.startswith("https://sendgrid.com/docs/") for link in diagnosis.links)
    assert not any('"App passwords"' in h for h in diagnosis.hints)
    # A mailbox provider's server keeps the app-password step.
    mailbox = diagnosis_of(row._replace(host="smtp.example.net"))
    assert mailbox.hints[0].startswith("Create an app password")


def test_an_unknown_sending_service_gets_the_generic_credentials_step_with_its_page() -> None:
    row = Row(
        S_LOGIN,
        ReplyError.smtp(
            535, "Authentication failed. See https://help.mandrillapp.com/smtp", command="AUTH"
        ),
        C.UNAUTHORIZED,
        "invalid_credentials",
        host="smtp.mandrillapp.com",
    )
    hints = diagnosis_of(row).hints
    assert hints[0].startswith("Create SMTP credentials (an API key or SMTP token)")
    assert "https://help.mandrillapp.com/smtp" in hints[0]
    assert not any(h.startswith("Type the password again") for h in hints)


def test_a_filter_that_names_its_reason_is_passed_on_not_blamed_on_the_account() -> None:
    named = Row(
        SEND,
        ReplyError.smtp(550, "Rejected due to bad file extension in attachment", command="DATA"),
        C.TEST_EMAIL_FAILED,
        "message_rejected_policy",
    )
    diagnosis = diagnosis_of(named)
    assert "content" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Ask whoever runs the server")
    assert "bad file extension in attachment" in diagnosis.hints[0]
    assert not any("flagged" in h for h in diagnosis.hints)
    # No reason named: the account may well be flagged.
    bare = named._replace(
        error=ReplyError.smtp(554, "5.7.1 Message rejected as spam", command="DATA")
    )
    assert any("flagged" in h for h in diagnosis_of(bare).hints)


def test_a_disabled_mail_domain_is_not_treated_as_one_locked_account() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap("BAD", "LOGIN failure, domain is disable.", command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "account_locked",
        host="imap.example.net",
    )
    diagnosis = diagnosis_of(row, email="ann@shop.example")
    assert diagnosis.cause == "account_locked"
    assert "mail domain of ann@shop.example" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Check the part of the address after the @")
    assert not any("unlock" in h or "reset the password" in h for h in diagnosis.hints)


def test_an_account_used_from_many_places_asks_for_a_new_password_not_a_wait() -> None:
    row = Row(
        SEND,
        ReplyError.smtp(
            554,
            "Your mail account (ann@example.net): Too many messages from different hosts.",
            command="RCPT",
        ),
        C.TEST_EMAIL_FAILED,
        "account_locked",
        host="smtp.example.net",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "account_locked" and not diagnosis.temporary
    assert diagnosis.hints[0].startswith("Change the account's password")
    assert not any(h.startswith("Wait") for h in diagnosis.hints)


def test_secure_prefixed_names_get_their_sibling() -> None:
    row = Row(
        S_CONNECT,
        ProtocolError("unexpected greeting: '* OK IMAP Proxy ready (secureimap.t-online.de)'"),
        C.SMTP_SETTINGS_INCORRECT,
        "protocol_mismatch",
        host="secureimap.t-online.de",
    )
    assert any("securesmtp.t-online.de" in h for h in diagnosis_of(row).hints)
