"""Advice fitted to the provider and the situation: the classes the eighth hint review
found (provider steps per stage, protocol and account; limits per account or per address;
sending services; ports the provider does not offer; swapped names; names a person can
type; escalations to someone who can act)."""

from __future__ import annotations

from mailprobe import DeadlineExceeded, RefusedError, ReplyError, Security
from mailprobe import ErrorCategory as C
from mailprobe._rules._words import server_words

from .test_rules import (
    I_CONNECT,
    I_LOGIN,
    I_VALIDATE,
    S_CONNECT,
    S_LOGIN,
    SEND,
    Row,
    diagnosis_of,
    named,
)

M365_IMAP = "outlook.office365.com"
M365_SMTP = "smtp.office365.com"


def test_microsoft_steps_follow_the_protocol() -> None:
    imap = Row(
        I_LOGIN,
        ReplyError.imap("NO", "LOGIN failed.", command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        host=M365_IMAP,
    )
    hints = diagnosis_of(imap, email="alice@contoso.example").hints
    assert hints[0].startswith("Microsoft no longer accepts a password")
    # an app password is a password too: no hint offers one at Microsoft's IMAP
    assert not any(h.startswith("If two-step verification") for h in hints)
    smtp = Row(
        S_LOGIN,
        ReplyError.smtp(535, "5.7.3 Authentication unsuccessful", command="AUTH"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        host=M365_SMTP,
        security=Security.STARTTLS,
    )
    hints = diagnosis_of(smtp, email="alice@contoso.example").hints
    assert hints[0].startswith("If the password is right, your organisation")
    assert "Authenticated SMTP" in hints[0]


def test_a_blocked_smtp_sign_in_at_microsoft_is_not_called_an_imap_matter() -> None:
    row = Row(
        S_LOGIN,
        ReplyError.smtp(
            535,
            "5.7.139 Authentication unsuccessful, user is locked by your organization's "
            "security defaults policy.",
            command="AUTH",
        ),
        C.UNAUTHORIZED,
        "basic_auth_disabled",
        host=M365_SMTP,
        security=Security.STARTTLS,
    )
    diagnosis = diagnosis_of(row, email="alice@contoso.example")
    assert diagnosis.cause == "basic_auth_disabled"
    assert not any("IMAP" in h for h in diagnosis.hints)
    assert any("security defaults" in h and "administrator" in h for h in diagnosis.hints)


def test_gmails_app_password_step_follows_a_sign_in_block_not_a_sending_rate() -> None:
    login = Row(
        S_LOGIN,
        ReplyError.smtp(454, "4.7.0 Too many login attempts, please try again later.",
                        command="AUTH"),
        C.UNAUTHORIZED,
        "rate_limited",
        host="smtp.gmail.com",
        port=465,
    )
    hints = diagnosis_of(login, email="alice@gmail.com").hints
    assert "app password" in hints[0] and hints[0].startswith("Wait 15 minutes")
    sending = Row(
        SEND,
        ReplyError.smtp(421, "4.7.28 Our system has detected an unusual rate of mail, "
                        "rate limited", command="MAIL"),
        C.TEST_EMAIL_FAILED,
        "rate_limited",
        host="smtp.gmail.com",
        port=465,
    )
    hints = diagnosis_of(sending, email="alice@gmail.com").hints
    assert not any("app password" in h for h in hints)


def test_a_limit_per_account_asks_to_close_other_apps_not_to_call_the_app() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap("NO", "[LIMIT] Too many simultaneous connections", command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "too_many_connections",
        host="imap.example.net",
    )
    diagnosis = diagnosis_of(row)
    assert "network address" not in diagnosis.summary
    assert diagnosis.hints[0].startswith("Close mail apps or devices")


def test_a_limit_per_account_and_address_says_so_with_its_number() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap(
            "NO",
            "[UNAVAILABLE] Maximum number of connections from user+IP exceeded "
            "(mail_max_userip_connections=10)",
            command="LOGIN",
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "too_many_connections",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.summary.startswith("This account already has 10 connections open")
    assert not any(h == "The server allows 10 connections at a time." for h in diagnosis.hints)
    assert not any("limits connections from the app's network address" in h
                   for h in diagnosis.hints)


def test_a_limit_per_address_still_goes_to_the_app() -> None:
    row = Row(
        S_CONNECT,
        ReplyError.smtp(421, "Too many concurrent SMTP connections from this IP address; "
                        "please try again later", command=None),
        C.SMTP_SETTINGS_INCORRECT,
        "too_many_connections",
    )
    diagnosis = diagnosis_of(row)
    assert "network address" in diagnosis.summary
    assert any("app's support team" in h for h in diagnosis.hints)


def test_a_sending_service_login_is_not_treated_as_a_mailbox() -> None:
    row = Row(
        SEND,
        ReplyError.smtp(550, "The from address does not match a verified Sender Identity. "
                        "Mail cannot be sent until this error is resolved.", command="DATA"),
        C.TEST_EMAIL_FAILED,
        "sender_not_allowed",
        host="smtp.sendgrid.net",
        username="apikey",
    )
    diagnosis = diagnosis_of(row, email="alice@mydomain.example")
    assert diagnosis.cause == "sender_not_allowed"
    assert "apikey" not in diagnosis.summary
    assert diagnosis.summary.startswith("The sending service will not send from")
    assert not any("belongs to the login" in h for h in diagnosis.hints)


def test_a_port_mode_mix_up_at_a_known_provider_offers_no_port_it_lacks() -> None:
    row = Row(
        I_CONNECT,
        ReplyError.imap("BAD", "Unknown command STARTTLS", command="STARTTLS"),
        C.IMAP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
    )
    # A TLS port that stays silent when STARTTLS was chosen; at Yahoo there is no
    # alternative port 143.
    silent = row._replace(
        error=DeadlineExceeded("greeting"), host="imap.mail.yahoo.com", port=993,
        security=Security.STARTTLS,
    )
    diagnosis = diagnosis_of(silent, email="alice@yahoo.com")
    assert diagnosis.cause == "tls_mode_mismatch"
    assert diagnosis.hints[0] == "Choose TLS as the security setting and keep port 993."
    assert not any("143" in h for h in diagnosis.hints)
    unknown = diagnosis_of(silent._replace(host="imap.example.net"), email="a@example.net")
    assert any("143" in h for h in unknown.hints)  # no provider: the usual alternative


def test_the_other_protocols_server_is_named_with_the_right_one() -> None:
    row = Row(
        I_CONNECT,
        RefusedError("connection refused"),
        C.IMAP_SETTINGS_INCORRECT,
        "connection_refused",
        host="mail.gmx.net",
        port=993,
    )
    hints = diagnosis_of(row, email="alice@gmx.net").hints
    assert hints[0].startswith("mail.gmx.net is GMX")
    # True whether both fields are swapped or only this one holds the other server's name.
    assert "used only for that; enter imap.gmx.net as the IMAP server" in hints[0]
    assert not any("may not be your IMAP server" in h for h in hints)


def test_a_queue_id_is_not_quoted_and_the_page_the_server_names_is() -> None:
    assert server_words("5.1.0 cNkj1y0022zrrQM01NkjaD policy violation of our rules") == (
        "policy violation of our rules"
    )
    row = Row(
        I_VALIDATE,
        ReplyError.imap("NO", "Mailbox is on hold, see https://help.example.net/kb/42",
                        command="EXAMINE"),
        C.IMAP_VALIDATION_ERROR,
        "inbox_unavailable",
    )
    hints = diagnosis_of(row).hints
    assert any("https://help.example.net/kb/42" in h and "Mailbox is on hold" in h
               for h in hints)


def test_an_unknown_servers_password_refusal_offers_a_reset_and_fits_the_login_form() -> None:
    hosted = Row(
        S_LOGIN,
        ReplyError.smtp(535, "Incorrect authentication data", command="AUTH"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        host="p3plcpnl0749.prod.phx3.secureserver.example",
        port=465,
    )
    hints = diagnosis_of(hosted, email="alice@mybakery.example").hints
    assert hints[0].startswith("Type the password again by hand")
    assert hints[1].startswith("If you are not sure of the password")
    assert not any("part before the @" in h for h in hints)  # a hosting server, not yours
    own = diagnosis_of(hosted._replace(host="mail.mybakery.example"),
                       email="alice@mybakery.example").hints
    assert any("part before the @" in h for h in own)


def test_a_server_that_closes_idle_connections_says_who_can_act() -> None:
    row = Row(
        I_CONNECT,
        ReplyError.imap("BYE", "Connection timed out.", command=None),
        C.IMAP_SETTINGS_INCORRECT,
        "timeout",
    )
    hints = diagnosis_of(row).hints
    assert any("app stays silent" in h for h in hints)


def test_a_certificate_wildcard_is_not_offered_as_a_name_to_type() -> None:
    row = Row(S_CONNECT, named(("*.hostingco.example",)), C.UNAUTHORIZED, "")
    diagnosis = diagnosis_of(row)
    assert "*." not in diagnosis.summary
    assert "a name ending in .hostingco.example" in diagnosis.summary
    assert not any(h.startswith("Enter *.") for h in diagnosis.hints)


def test_a_clear_port_fix_is_not_watered_down_by_fallbacks() -> None:
    row = Row(
        SEND,
        ReplyError.smtp(501, "5.1.8 Use Submission for outgoing SMTP", command="RCPT"),
        C.TEST_EMAIL_FAILED,
        "auth_required",
        port=25,
    )
    hints = diagnosis_of(row).hints
    assert hints[0].startswith("Port 25 is often only for mail between servers")
    assert len(hints) == 2 and hints[1].startswith("If neither port answers")


# -- the ninth review's classes ------------------------------------------------------------
def test_an_authorization_failure_for_ones_own_mailbox_points_at_the_account() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap("NO", "Login failed: authorization failure", command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "access_denied",
        host="mail.mydomain.example",
    )
    diagnosis = diagnosis_of(row, email="alice@mydomain.example")
    assert diagnosis.cause == "access_denied"
    assert "disabled or denied access" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Ask whoever runs mail.mydomain.example")
    assert not any("delegated" in h for h in diagnosis.hints)


def test_a_mailbox_unavailable_after_sign_in_says_so_and_who_runs_the_server() -> None:
    row = Row(
        I_VALIDATE,
        ReplyError.imap("NO", "[UNAVAILABLE] Failed to open mailbox", command="EXAMINE"),
        C.IMAP_VALIDATION_ERROR,
        "server_unavailable",
        host="mail.mydomain.example",
    )
    diagnosis = diagnosis_of(row, email="alice@mydomain.example")
    assert diagnosis.summary.startswith("The sign-in worked, but the server could not open")
    assert not any("status page" in h for h in diagnosis.hints)
    assert any("whoever runs mail.mydomain.example" in h for h in diagnosis.hints)


def test_starttls_not_available_is_not_called_not_understood() -> None:
    row = Row(
        I_CONNECT,
        ReplyError.imap("NO", "TLS not available", command="STARTTLS"),
        C.IMAP_SETTINGS_INCORRECT,
        "starttls_unavailable",
        host="mail.mydomain.example",
        port=143,
        security=Security.STARTTLS,
    )
    diagnosis = diagnosis_of(row, email="alice@mydomain.example")
    assert "cannot switch to encryption" in diagnosis.summary
    assert any(h.startswith("If port 993 fails as well") for h in diagnosis.hints)


def test_a_per_address_limit_on_ones_own_server_names_its_administrator() -> None:
    row = Row(
        I_CONNECT,
        ReplyError.imap("BYE", "too many open connections from your ip or network", command=None),
        C.IMAP_SETTINGS_INCORRECT,
        "too_many_connections",
        host="mail.mydomain.example",
    )
    hints = diagnosis_of(row, email="alice@mydomain.example").hints
    assert any(h.startswith("If you or your organisation run this server") for h in hints)


def test_imap_turned_off_for_a_workspace_domain_goes_to_its_administrator() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap("NO", "[ALERT] IMAP access is disabled for your domain.", command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "imap_disabled",
        host="imap.gmail.com",
    )
    work = diagnosis_of(row, email="alice@mycompany.example").hints
    assert work[0].startswith("Your organisation's Google Workspace administrator")
    personal = diagnosis_of(row, email="alice@gmail.com").hints
    assert personal[0].startswith("IMAP is always on for personal Gmail accounts")


def test_a_sending_service_wants_its_own_credentials_and_owner() -> None:
    refused = Row(
        S_LOGIN,
        ReplyError.smtp(535, "5.7.8 Error: authentication failed:", command="AUTH"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        host="smtp.postmarkapp.com",
    )
    diagnosis = diagnosis_of(refused, email="alice@mydomain.example")
    assert "its own SMTP credentials" in diagnosis.summary
    # Postmark's own pair (the eleventh review): its Server API token as both values.
    assert diagnosis.hints[0].startswith("Postmark takes the Server API token")
    assert not any("hosting control panel" in h or "two-step" in h for h in diagnosis.hints)
    paused = Row(
        SEND,
        ReplyError.smtp(554, "Message rejected: Sending paused for this account. For more "
                        "information, please check the inbox of the email address associated "
                        "with your AWS account.", command="DATA"),
        C.TEST_EMAIL_FAILED,
        "account_locked",
        host="email-smtp.us-east-1.amazonaws.com",
        username="AKIAEXAMPLEKEY",
    )
    diagnosis = diagnosis_of(paused, email="alice@mydomain.example")
    assert diagnosis.cause == "account_locked"
    assert diagnosis.hints[0].startswith("Whoever manages the sending-service account")
    assert not any("webmail" in h or "work or school" in h for h in diagnosis.hints)


def test_an_exact_certificate_name_is_not_followed_by_weaker_alternatives() -> None:
    row = Row(S_CONNECT, named(("imap.gmail.com",)), C.UNAUTHORIZED, "")
    hints = diagnosis_of(row).hints
    assert hints[0].startswith("Enter imap.gmail.com as the SMTP server name")
    assert not any("allow untrusted certificate" in h for h in hints)


def test_a_server_that_stops_answering_later_gets_a_next_step() -> None:
    row = Row(S_LOGIN, DeadlineExceeded("logging in"), C.UNAUTHORIZED, "timeout",
              host="smtp.zoho.com", port=465)
    hints = diagnosis_of(row, email="alice@zoho.com").hints
    assert any(h.startswith("If it keeps happening, check Zoho") for h in hints)


def test_an_unregistered_sending_domain_is_named_instead_of_the_providers_send_as_step() -> None:
    row = Row(
        SEND,
        ReplyError.smtp(
            550,
            "5.7.750 Service unavailable. Client blocked from sending from unregistered domains.",
            command="MAIL",
        ),
        C.TEST_EMAIL_FAILED,
        "sender_not_allowed",
        host="smtp.office365.com",
    )
    diagnosis = diagnosis_of(row, email="alice@contoso.example")
    assert diagnosis.cause == "sender_not_allowed"
    assert "addresses at contoso.example" in diagnosis.summary
    assert "add contoso.example to it and verify it" in diagnosis.hints[0]
    assert not any("Send As" in h for h in diagnosis.hints)  # the domain, not the address
    # The same refusal naming the address keeps Microsoft's own Send As step.
    address = row._replace(
        error=ReplyError.smtp(
            550, "5.7.60 SMTP; Client does not have permissions to send as this sender",
            command="MAIL",
        )
    )
    assert any("Send As" in h for h in diagnosis_of(address, email="alice@contoso.example").hints)
