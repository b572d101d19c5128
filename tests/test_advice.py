"""Advice fitted to the situation: the classes a hint review found (sixth review)."""

from __future__ import annotations

import pytest

from mailprobe import ErrorCategory as C
from mailprobe import ProtocolError, ReplyError
from mailprobe._rules._words import server_words

from .test_rules import I_CONNECT, I_LOGIN, I_VALIDATE, S_CONNECT, S_LOGIN, SEND, Row, diagnosis_of


def _greeting(line: str) -> ProtocolError:
    return ProtocolError(f"unexpected greeting: {line!r}")


def test_an_imap_server_typed_as_smtp_names_the_providers_sending_server() -> None:
    row = Row(
        S_CONNECT,
        _greeting("* OK Yandex IMAP4rev1 ready"),
        C.SMTP_SETTINGS_INCORRECT,
        "protocol_mismatch",
        host="imap.yandex.com",
        port=993,
    )
    diagnosis = diagnosis_of(row, email="alice@yandex.com")
    first = diagnosis.hints[0]
    assert first.startswith("imap.yandex.com is an incoming (IMAP) server.")
    assert "smtp.yandex.com, port 465 with TLS" in first
    assert not any(h.startswith("Use the SMTP port") for h in diagnosis.hints)


def test_an_unknown_providers_swapped_server_gets_the_sibling_name_and_port() -> None:
    row = Row(
        I_CONNECT,
        _greeting("220 mx.example.org ESMTP ready"),
        C.IMAP_SETTINGS_INCORRECT,
        "protocol_mismatch",
        host="smtp.example.org",
        port=587,
    )
    first = diagnosis_of(row, email="alice@example.org").hints[0]
    assert "such as imap.example.org, with port 993 and TLS" in first


def test_without_a_name_to_offer_the_port_and_the_swap_are_the_steps() -> None:
    row = Row(
        I_CONNECT,
        _greeting("220 mail.example.org ESMTP ready"),
        C.IMAP_SETTINGS_INCORRECT,
        "protocol_mismatch",
        host="mail.example.org",
        port=587,
    )
    hints = diagnosis_of(row, email="alice@example.org").hints
    assert hints[0] == "Use the IMAP port: 993 with TLS or 143 with STARTTLS."
    assert any("in its own place" in h for h in hints)


@pytest.mark.parametrize(
    ("reply", "temporary"),
    [
        (ReplyError.smtp(421, "4.7.0 Messages from 192.0.2.45 temporarily deferred due to "
                         "unexpected volume", command="MAIL"), True),
        (ReplyError.smtp(550, "5.7.1 Messages from [192.0.2.45] weren't sent: part of their "
                         "network is on our block list", command="MAIL"), False),
    ],
)
def test_a_block_on_the_apps_address_leads_with_the_apps_step(
    reply: ReplyError, temporary: bool
) -> None:
    diagnosis = diagnosis_of(Row(SEND, reply, C.TEST_EMAIL_FAILED, "ip_blocked"))
    assert diagnosis.cause == "ip_blocked" and diagnosis.temporary is temporary
    app = next(i for i, h in enumerate(diagnosis.hints) if "app's support team" in h)
    own = next(i for i, h in enumerate(diagnosis.hints) if h.startswith("If you or your"))
    assert app < own
    assert '"Messages from' in diagnosis.hints[app]  # the server's words, quoted
    if temporary:
        assert "for now" in diagnosis.summary
        assert diagnosis.hints[0].startswith("The server calls this temporary")
    else:
        assert not any("temporary" in h for h in diagnosis.hints)


def test_a_passing_sender_domain_lookup_says_so_and_spares_the_typo_hint() -> None:
    reply = ReplyError.smtp(450, "4.1.8 <alice@example.com>: Sender address rejected: "
                            "Domain not found", command="MAIL")
    diagnosis = diagnosis_of(Row(SEND, reply, C.TEST_EMAIL_FAILED, "sender_domain_invalid"))
    assert diagnosis.temporary is True and "passing problem" in diagnosis.summary
    assert not any("typos" in h for h in diagnosis.hints)  # that address just signed in
    assert any("(the entries that tell other servers" in h for h in diagnosis.hints)
    permanent = ReplyError.smtp(550, "5.1.8 Sender address rejected: Domain not found",
                                command="MAIL")
    other_login = diagnosis_of(
        Row(SEND, permanent, C.TEST_EMAIL_FAILED, "sender_domain_invalid"), username="bob"
    )
    assert other_login.temporary is False
    assert other_login.hints[0].startswith("Check the part of the email address after the @")


def test_a_sender_refused_although_it_signed_in_points_at_the_sending_addresses() -> None:
    reply = ReplyError.smtp(553, "5.7.1 Sender address not allowed for this account",
                            command="MAIL")
    diagnosis = diagnosis_of(Row(SEND, reply, C.TEST_EMAIL_FAILED, "sender_not_allowed"))
    assert diagnosis.summary.startswith("The sign-in as alice@example.com worked")
    assert "send mail as" in diagnosis.hints[0]


def test_a_virus_verdict_on_the_test_email_goes_to_the_scanners_owner_then_the_app() -> None:
    reply = ReplyError.smtp(552, "5.7.1 virus Eicar-Test detected by the scanner",
                            command="DATA")
    diagnosis = diagnosis_of(Row(SEND, reply, C.TEST_EMAIL_FAILED, "message_rejected_policy"))
    assert "virus scanner" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Ask your provider or IT team, who run the virus scanner")
    assert "virus Eicar-Test detected by the scanner" in diagnosis.hints[0]
    assert diagnosis.hints[1].startswith("If they find nothing wrong on their side")
    assert not any("flagged" in h for h in diagnosis.hints)


def test_an_inbox_that_does_not_exist_is_named() -> None:
    reply = ReplyError.imap("BAD", "Folder could not be found.", command="SELECT")
    diagnosis = diagnosis_of(Row(I_VALIDATE, reply, C.IMAP_VALIDATION_ERROR, "inbox_unavailable"))
    assert "found no INBOX" in diagnosis.summary
    assert diagnosis.hints[0].startswith("The account may have no mailbox set up yet")
    assert not any("storage limit" in h for h in diagnosis.hints)


def test_a_step_for_a_problem_that_may_pass_says_if_it_keeps_happening() -> None:
    reply = ReplyError.imap("NO", "[INUSE] Mailbox is locked by another process", command="SELECT")
    diagnosis = diagnosis_of(Row(I_VALIDATE, reply, C.IMAP_VALIDATION_ERROR, "inbox_unavailable"))
    assert diagnosis.temporary is True
    assert diagnosis.hints[0].startswith("Try again in a few minutes")
    assert diagnosis.hints[1].startswith("If it keeps happening, contact your email provider")


def test_a_providers_own_step_comes_before_the_generic_ones() -> None:
    reply = ReplyError.smtp(535, "5.7.0 ...authentication rejected", command="AUTH")
    diagnosis = diagnosis_of(
        Row(S_LOGIN, reply, C.UNAUTHORIZED, "invalid_credentials", host="smtp.comcast.net"),
        email="alice@comcast.net",
    )
    assert "Third Party Access Security" in diagnosis.hints[0]
    assert any(h.startswith("Type the password again by hand") for h in diagnosis.hints[1:])


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("30 Sorry, your message cannot be delivered. This mailbox is disabled (554.30)",
         "Sorry, your message cannot be delivered. This mailbox is disabled"),
        ("SendAsDenied; not allowed to send as x; Failed to process message "
         "[BeginDiagnosticData]Cannot submit message. <data>[EndDiagnosticData]",
         "SendAsDenied; not allowed to send as x; Failed to process message"),
        ("Username and Password not accepted. Learn more at https://support.example/?p=x",
         "Username and Password not accepted"),
        ("The mailbox is unavailable. See our postmaster pages for the many reasons this can "
         "happen and what to do about each of them, in several languages",
         "The mailbox is unavailable"),
    ],
)
def test_quoted_server_words_keep_the_reason_and_drop_the_codes(text: str, quoted: str) -> None:
    assert server_words(text) == quoted


# -- the seventh review -------------------------------------------------------------------
def test_a_receiving_server_typed_for_sending_is_named_first_whatever_it_refused() -> None:
    reply = ReplyError.smtp(550, "5.1.1 <bcc@app.example>: Recipient address rejected",
                            command="RCPT")
    diagnosis = diagnosis_of(
        Row(SEND, reply, C.TEST_EMAIL_FAILED, "recipient_rejected", host="mx.zoho.com", port=25),
        email="alice@zoho.com",
    )
    assert diagnosis.cause == "recipient_rejected"
    assert diagnosis.summary.startswith("mx.zoho.com only receives mail for its own domain")
    assert diagnosis.hints[0].startswith("mx.zoho.com looks like a server that receives mail")
    assert diagnosis.hints[1].startswith("Zoho Mail documents smtp.zoho.com")
    submission = diagnosis_of(Row(SEND, reply, C.TEST_EMAIL_FAILED, "recipient_rejected"))
    assert not any("receives mail" in h for h in submission.hints)


def test_a_command_refused_after_connecting_is_put_down_to_the_app() -> None:
    reply = ReplyError.imap("BAD", "Invalid characters in atom", command="LOGIN")
    diagnosis = diagnosis_of(Row(I_LOGIN, reply, C.IMAP_AUTHENTICATION_ERROR, "protocol_error"))
    assert "most likely a problem in the app" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Contact the app's support team")


@pytest.mark.parametrize(
    ("row", "on_address"),
    [
        (Row(S_CONNECT, ReplyError.smtp(421, "4.7.0 Error: too many connections from "
                                        "192.0.2.7", command="CONNECT"),
             C.SMTP_SETTINGS_INCORRECT, "too_many_connections"), True),
        (Row(I_CONNECT, ReplyError.imap("BYE", "Too many connections, try again later"),
             C.IMAP_SETTINGS_INCORRECT, "too_many_connections"), True),
        (Row(I_LOGIN, ReplyError.imap("NO", "[LIMIT] Too many concurrent sessions for this "
                                      "user", command="LOGIN"),
             C.IMAP_AUTHENTICATION_ERROR, "too_many_connections"), False),
    ],
)
def test_a_connection_limit_before_login_is_on_the_apps_address(row: Row, on_address: bool) -> None:
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "too_many_connections" and diagnosis.temporary is True
    closes = any(h.startswith("Close mail apps") for h in diagnosis.hints)
    assert closes is not on_address
    assert ("app's address" in diagnosis.summary) is on_address


def test_no_app_password_hint_twice_beside_a_providers_own() -> None:
    reply = ReplyError.imap("NO", "[AUTHENTICATIONFAILED] Invalid credentials(Failure)",
                            command="LOGIN")
    diagnosis = diagnosis_of(
        Row(I_LOGIN, reply, C.IMAP_AUTHENTICATION_ERROR, "invalid_credentials",
            host="imappro.zoho.com"),
        email="alice@zohomail.com",
    )
    assert sum("app password" in h.lower() or "application-specific" in h.lower()
               for h in diagnosis.hints) == 1


def test_too_many_failed_sign_ins_also_ask_for_a_wait() -> None:
    reply = ReplyError.smtp(535, "5.7.0 (#AUTH005) Too many bad auth attempts.", command="AUTH")
    diagnosis = diagnosis_of(
        Row(S_LOGIN, reply, C.UNAUTHORIZED_APP_PASSWORD_REQUIRED, "app_password_required",
            host="smtp.mail.yahoo.com"),
        email="alice@yahoo.com",
    )
    assert diagnosis.cause == "app_password_required"
    assert any("wait about an hour" in h for h in diagnosis.hints)
