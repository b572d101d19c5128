"""Advice classes the thirteenth and fourteenth hint reviews found: a virus verdict goes
first to whoever runs the scanner, a sign-in block after failed attempts asks for the
password first, a server fault in its own setup is not "try again in a few minutes", a
refusal of the order of commands is the app's, a server that asks for encryption on an
encrypted connection has its words passed on, a limit on one connection is run again, a
refused test recipient no longer claims that sending works, and a bare syntax error at
MAIL FROM is the sender address's form."""

from __future__ import annotations

import mailprobe
from mailprobe import ErrorCategory as C
from mailprobe import ReplyError
from mailprobe._rules._words import server_words

from .test_rules import I_LOGIN, S_CONNECT, SEND, Row, diagnosis_of


def test_a_sign_in_block_after_failed_attempts_asks_for_the_password_first() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap("BYE", "Too many authentication failures", command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "rate_limited",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "rate_limited"
    assert "too many failed attempts" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Check the user name and password first")
    assert diagnosis.hints[1].startswith("Wait")
    traffic = diagnosis_of(
        row._replace(error=ReplyError.imap("NO", "[LIMIT] Rate limit hit", command="LOGIN"))
    )
    assert traffic.cause == "rate_limited"
    assert "failed attempts" not in traffic.summary
    assert traffic.hints[0].startswith("Wait")


def test_a_server_fault_in_its_own_setup_is_permanent_and_passed_on() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap("NO", "failed: TLS not present", command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "server_error",
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "server_error"
    assert not diagnosis.temporary
    assert "fault in its own setup" in diagnosis.summary
    assert diagnosis.hints == (
        "Contact your email provider or IT team and pass on the server's message: "
        '"failed: TLS not present".',
    )
    passing = diagnosis_of(
        row._replace(error=ReplyError.imap("NO", "Internal error occurred", command="LOGIN"))
    )
    assert passing.temporary
    assert passing.hints[0].startswith("Try again in a few minutes")


def test_a_refusal_of_the_order_of_commands_is_the_apps_not_its_name() -> None:
    diagnosis = diagnosis_of(
        Row(
            S_CONNECT,
            ReplyError.smtp(503, "5.5.0 Improper use of SMTP command pipelining", command="EHLO"),
            C.SMTP_SETTINGS_INCORRECT,
            "protocol_error",
        )
    )
    assert diagnosis.cause == "protocol_error"
    assert "name the app introduces itself with" not in diagnosis.summary
    assert "problem in the app" in diagnosis.summary
    assert diagnosis.hints == (
        "Contact the app's support team and pass on the server's message: "
        '"Improper use of SMTP command pipelining".',
    )


def test_a_virus_verdict_without_words_still_names_the_scanners_owner() -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(554, "5.7.1 virus found", command="DATA"),
            C.TEST_EMAIL_FAILED,
            "message_rejected_policy",
        )
    )
    assert diagnosis.hints[0] == (
        "Ask your provider or IT team, who run the virus scanner, why it stopped the test email."
    )
    assert diagnosis.hints[1].startswith("If they find nothing wrong on their side")


def test_a_demand_for_encryption_on_an_encrypted_connection_passes_the_words_on() -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(451, "Secure connection required", command="MAIL"),
            C.SMTP_SETTINGS_INCORRECT,
            "starttls_required",
        )
    )
    assert diagnosis.cause == "starttls_required"
    assert diagnosis.hints[-1].endswith('"Secure connection required".')


def test_quoted_words_keep_no_inner_double_quotes_and_smtp_in_a_sentence_is_not_a_banner() -> None:
    assert server_words('5.7.1 clamav: virus found: "Eicar-Signature"') == (
        "clamav: virus found: 'Eicar-Signature'"
    )
    assert server_words("5.5.0 Improper use of SMTP command pipelining") == (
        "Improper use of SMTP command pipelining"
    )
    assert server_words("mx.example.com ESMTP Postfix") == ""


def test_a_limit_on_one_connection_is_run_again_not_waited_out() -> None:
    """From the fourteenth review: a per-session limit ends one connection only."""
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(421, "4.7.0 Too many messages for this session", command="MAIL"),
            C.TEST_EMAIL_FAILED,
            "rate_limited",
        )
    )
    assert diagnosis.cause == "rate_limited"
    assert "limit on a single connection" in diagnosis.summary
    assert diagnosis.hints[0] == "Run the check again: a new connection usually works at once."
    assert diagnosis.hints[1].endswith('"Too many messages for this session".')
    assert not any("lift by themselves" in h for h in diagnosis.hints)


def test_a_refused_test_recipient_no_longer_claims_that_sending_works() -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(550, "5.1.1 No mailbox by that name here", command="RCPT"),
            C.TEST_EMAIL_FAILED,
            "recipient_rejected",
        )
    )
    assert "sending with your settings works" not in diagnosis.summary
    assert "accepted your sign-in and sender address" in diagnosis.summary
    assert diagnosis.hints[0].endswith('"No mailbox by that name here".')


def test_a_bare_syntax_error_at_mail_from_is_the_sender_address_form() -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(501, "Syntax error", command="MAIL"),
            C.TEST_EMAIL_FAILED,
            "sender_rejected",
        )
    )
    assert "not a valid address" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Check the email address for typos")


def test_server_faults_pass_the_servers_words_on_and_links_leave_no_stub() -> None:
    """From the fifteenth review (older rounds): the words go with "contact ..." hints, and
    a removed link leaves no "Please visit [120]"."""
    diagnosis = diagnosis_of(
        Row(
            I_LOGIN,
            ReplyError.imap(
                "NO", "[SERVERBUG] Internal error occurred. [2024-03-05 10:41:17]", command="LOGIN"
            ),
            C.IMAP_AUTHENTICATION_ERROR,
            "server_error",
        )
    )
    assert diagnosis.hints[-1].endswith('pass on the server\'s message: "Internal error occurred".')
    assert (
        server_words(
            "Email not accepted for policy reasons. Please visit https://help.example/x [120]"
        )
        == "Email not accepted for policy reasons"
    )
    assert (
        server_words(
            "IP address is block listed. For explanation visit https://pm.example/case?r=<id>"
        )
        == "IP address is block listed"
    )


def test_a_refusal_naming_spf_alone_asks_for_that_fix_in_plain_words() -> None:
    def spf(text: str) -> mailprobe.Diagnosis:
        return diagnosis_of(
            Row(
                SEND,
                ReplyError.smtp(550, text, command="MAIL"),
                C.TEST_EMAIL_FAILED,
                "sender_authentication_failed",
            )
        )

    missing = spf("5.7.1 [BFD] Sender prohibited by SPF")
    assert "(its SPF record) does not include this server" in missing.summary
    assert "DKIM" not in " ".join((missing.summary, *missing.hints))
    assert missing.hints[-1].endswith('"Sender prohibited by SPF".')
    broken = spf("Invalid SPF record. Inspect your SPF settings, and try again. IB508")
    assert "is broken" in broken.summary
    assert broken.hints[0].startswith("Ask whoever manages example.com to correct")
    dmarc = spf("5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy")
    assert "SPF, DKIM or DMARC" in dmarc.summary


def test_a_relay_refusal_after_sign_in_asks_whether_the_account_may_send_first() -> None:
    """From the sixteenth review: the probe signed in before the test email, so a relay
    refusal is not "not signed in"."""
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(550, "5.7.1 Relaying denied", command="RCPT"),
            C.TEST_EMAIL_FAILED,
            "relay_denied",
        )
    )
    assert diagnosis.summary.startswith("You signed in, but the server would not pass")
    assert "not treat this connection as signed in" not in diagnosis.summary
    assert diagnosis.hints[0].startswith("Ask your provider or IT team whether")


def test_a_repeated_reply_code_and_a_hash_code_leave_the_quoted_words() -> None:
    assert server_words("550 #5.1.0 Address rejected <x@example.com> (state 14).") == (
        "Address rejected <x@example.com> (state 14)"
    )


def test_a_password_refused_on_an_encrypted_connection_passes_the_words_on() -> None:
    diagnosis = diagnosis_of(
        Row(
            I_LOGIN,
            ReplyError.imap(
                "NO",
                "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure connections.",
                command="LOGIN",
            ),
            C.IMAP_SETTINGS_INCORRECT,
            "plaintext_auth_disabled",
        )
    )
    assert diagnosis.cause == "plaintext_auth_disabled"
    assert diagnosis.hints[-1].endswith(
        '"Plaintext authentication disallowed on non-secure connections".'
    )


def test_a_rate_limit_from_a_server_that_only_receives_mail_is_not_waited_out() -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(
                421, "4.7.28 mail sent from your IP has been rate limited", command="MAIL"
            ),
            C.TEST_EMAIL_FAILED,
            "rate_limited",
            host="aspmx.l.google.com",
            port=25,
        )
    )
    assert "only receives mail" in diagnosis.summary
    assert not any(h.startswith("Wait") for h in diagnosis.hints)
