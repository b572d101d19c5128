"""Advice classes the twelfth hint review found: a refusal of how the app's test email is
written goes to the app, a sender address the server calls malformed, a sign-in token
sent for the wrong user, limits the reply says can be raised, waits the reply never
named, and Gmail's session ids and half links in the quoted words."""

from __future__ import annotations

import pytest

from mailprobe import ErrorCategory as C
from mailprobe import ReplyError
from mailprobe._rules._words import server_words

from .test_rules import S_CONNECT, S_LOGIN, SEND, Row, diagnosis_of


@pytest.mark.parametrize(
    "text",
    [
        "5.2.1 Subject is Mandatory.",
        "5.6.0 The message body is empty",
        "5.0.0 FailedOperation.MissingEmailContent",
        "5.6.0 Missing header X-Campaign-Id",
    ],
)
def test_a_refusal_of_how_the_test_email_is_written_goes_to_the_app(text: str) -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(554, text, command="DATA"),
            C.TEST_EMAIL_FAILED,
            "message_rejected",
        )
    )
    assert diagnosis.cause == "message_rejected"
    assert "your settings are not the cause" in diagnosis.summary
    assert "contact the app's support team" in diagnosis.hints[0].lower()
    assert not any("email provider" in h for h in diagnosis.hints)


def test_a_refused_message_without_format_words_still_goes_to_the_provider() -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(554, "5.7.1 Message refused by the administrator", command="DATA"),
            C.TEST_EMAIL_FAILED,
            "message_rejected",
        )
    )
    assert "app builds that message" not in diagnosis.summary
    assert not any("app's support team" in h for h in diagnosis.hints)


@pytest.mark.parametrize(
    "text", ["5.1.7 Invalid address", "<alice>: sender address must contain a domain"]
)
def test_a_sender_the_server_calls_malformed_is_not_told_to_check_it_belongs(text: str) -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND, ReplyError.smtp(501, text, command="MAIL"), C.TEST_EMAIL_FAILED, "sender_rejected"
        )
    )
    assert diagnosis.cause == "sender_rejected"
    assert "not a valid address" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Check the email address for typos")
    assert not any("belongs to this mailbox" in h for h in diagnosis.hints)
    assert diagnosis.hints[1].startswith("Contact the app's support team")


def test_a_plainly_refused_sender_keeps_the_mailbox_hint() -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(550, "5.7.1 Sender rejected", command="MAIL"),
            C.TEST_EMAIL_FAILED,
            "sender_rejected",
        )
    )
    assert (
        diagnosis.hints[0]
        == "Check that the email address is exactly the one that belongs to this mailbox."
    )


def test_a_token_sent_for_the_wrong_user_says_so_instead_of_expired() -> None:
    row = Row(
        S_LOGIN,
        ReplyError.smtp(
            501,
            "5.5.124 Invalid XOAUTH2 auth data - User address provided is not valid.",
            command="AUTH",
        ),
        C.UNAUTHORIZED,
        "oauth_token_invalid",
        host="smtp.office365.com",
        oauth2=True,
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.cause == "oauth_token_invalid"
    assert "does not match the account the token belongs to" in diagnosis.summary
    assert "expired" not in diagnosis.summary
    assert diagnosis.hints[0].startswith("Check that the email address entered here")
    assert len(diagnosis.hints) == 1
    expired = diagnosis_of(
        row._replace(error=ReplyError.smtp(535, "5.7.3 OAuth token expired", command="AUTH"))
    )
    assert "expired" in expired.summary
    assert expired.hints[0].startswith("Sign in with the provider again")


def test_a_limit_the_reply_says_can_be_raised_asks_for_that_first() -> None:
    text = "Your account reached its email quota limit. Contact support to increase it. #MS42204"
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(450, text, command="DATA"),
            C.TEST_EMAIL_FAILED,
            "sending_limit_exceeded",
        )
    )
    assert diagnosis.cause == "sending_limit_exceeded"
    assert "can be raised" in diagnosis.summary
    assert "24 hours" not in diagnosis.summary
    assert diagnosis.hints[0].startswith("Ask your provider to raise the sending limit")
    assert not any(h.startswith("Wait for the limit") for h in diagnosis.hints)


def test_a_rate_limit_with_no_named_wait_gives_no_invented_duration() -> None:
    diagnosis = diagnosis_of(
        Row(
            S_CONNECT,
            ReplyError.smtp(421, "4.7.0 Too many login attempts, slow down", command="CONNECT"),
            C.SMTP_SETTINGS_INCORRECT,
            "rate_limited",
        )
    )
    assert diagnosis.cause == "rate_limited"
    assert diagnosis.temporary
    joined = " ".join((diagnosis.summary, *diagnosis.hints))
    assert not any(unit in joined for unit in ("minutes", "hours", "30"))
    assert any(h.startswith("Wait") for h in diagnosis.hints)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "5.1.3 The recipient address <x> is not a valid RFC-5321 address. Learn\n"
            "5.1.3 more at\n5.1.3  https://support.google.com/mail/answer/6596 "
            "g1sm1186255pfu.73 - gsmtp",
            "The recipient address <x> is not a valid RFC-5321 address",
        ),
        (
            "5.7.0 Authentication Required. Learn more at https://support.google.com/mail/?p=W "
            "d2e1a72fcca58-6ff0e2b0e25si1234pgc.45 - gsmtp",
            "",  # two words are left, which say nothing the summary does not
        ),
        (
            "5.5.1 Unrecognized command, please retry 4sm74508868qak.11",
            "Unrecognized command, please retry",
        ),
        (
            "Message refused for policy reasons. For more information see http://x.example/p now",
            "Message refused for policy reasons",
        ),
    ],
)
def test_quoted_words_lose_gmail_session_ids_and_whole_learn_more_links(
    text: str, words: str
) -> None:
    assert server_words(text) == words


def test_a_greeting_saying_the_server_is_unreachable_names_something_in_between() -> None:
    diagnosis = diagnosis_of(
        Row(
            S_CONNECT,
            ReplyError.smtp(421, "Cannot connect to SMTP server 192.0.2.7 (192.0.2.7:587)"),
            C.SMTP_SETTINGS_INCORRECT,
            "network_unreachable",
        )
    )
    assert diagnosis.cause == "network_unreachable"
    assert "could not reach the mail server itself" in diagnosis.summary
    assert "smtp.example.com" in diagnosis.summary
