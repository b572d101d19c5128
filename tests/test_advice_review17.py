"""Advice classes the sixteenth hint review left open, and held-out round 37's: an INBOX
the server calls reserved is busy, not full; a short reply with a term of the server's own
is passed on, one in common words is not; a server that only receives mail makes no
failure temporary and no wait is advised; a greeting quoted without its "220" or "* "
still shows the settings are swapped; a server taking no mail after the sign-in says the
sign-in worked; an IMAP command refused in the wrong state is the app's. Then the
seventeenth review's: a sender domain a letter from the server's is called a typo, a
token for another account says so, a setup fault is as temporary as the server says, and
a connection limit invents no wait."""

from __future__ import annotations

import pytest

from mailprobe import ErrorCategory as C
from mailprobe import ProtocolError, ReplyError
from mailprobe._rules._words import server_words

from .test_rules import I_CONNECT, I_LOGIN, I_VALIDATE, S_CONNECT, S_LOGIN, SEND, Row, diagnosis_of


@pytest.mark.parametrize(
    "text", ["Mailbox is currently reserved", "Mailbox is temporarily reserved by another session"]
)
def test_an_inbox_the_server_calls_reserved_is_busy_not_full(text: str) -> None:
    diagnosis = diagnosis_of(
        Row(I_VALIDATE, ReplyError.imap("NO", text, command="SELECT"), C.UNAUTHORIZED, "")
    )
    assert (diagnosis.cause, diagnosis.temporary) == ("inbox_unavailable", True)
    assert "in use by another program" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Try again in a few minutes")
    assert not any("storage limit" in h for h in diagnosis.hints)
    # A mailbox that is simply missing stays permanent and says so.
    missing = diagnosis_of(
        Row(
            I_VALIDATE,
            ReplyError.imap("NO", "Mailbox does not exist", command="SELECT"),
            C.UNAUTHORIZED,
            "",
        )
    )
    assert not missing.temporary


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("qqt failure (#4.3.0)", "qqt failure"),
        ("Relaying denied", "Relaying denied"),
        ("Auth failed", ""),
        ("5.7.1 Message rejected.", ""),
        ("Virus found", ""),
        ("Auth Fail. Check this URL: http://cs.example.net/faq/43.html?page=5#33119", ""),
        (
            "Sender address blocked by the administrator. Please check the following page: "
            "https://example.net/p",
            "Sender address blocked by the administrator",
        ),
    ],
)
def test_short_replies_are_quoted_when_they_name_something_of_the_servers_own(
    text: str, words: str
) -> None:
    assert server_words(text) == words


def test_a_two_word_server_fault_is_passed_on_to_whoever_runs_the_server() -> None:
    diagnosis = diagnosis_of(
        Row(SEND, ReplyError.smtp(451, "qqt failure (#4.3.0)", command="DATA"), C.UNAUTHORIZED, "")
    )
    assert diagnosis.cause == "server_error"
    assert diagnosis.hints[-1].endswith('pass on the server\'s message: "qqt failure".')


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (
            ReplyError.smtp(451, "4.7.1 Greylisted, please try again later", command="RCPT"),
            "greylisted",
        ),
        (
            ReplyError.smtp(
                421,
                "4.7.28 Our system has detected an unusual rate of unsolicited "
                "mail originating from your IP address. Mail sent from your IP address "
                "has been temporarily rate limited.",
                command="MAIL",
            ),
            "rate_limited",
        ),
        (
            ReplyError.smtp(
                450,
                "4.2.1 The user you are trying to contact is receiving mail too quickly",
                command="RCPT",
            ),
            None,
        ),
    ],
)
def test_a_server_that_only_receives_mail_is_no_wait(error: ReplyError, cause: str) -> None:
    diagnosis = diagnosis_of(Row(SEND, error, C.TEST_EMAIL_FAILED, "", host="mx1.example.com"))
    if cause:
        assert diagnosis.cause == cause
    assert not diagnosis.temporary
    assert "only receives mail" in diagnosis.summary
    assert not any(
        h.startswith(("Wait", "Try again", "Run the check again")) for h in diagnosis.hints
    )
    # The same reply from a sending server is waited out.
    sending = diagnosis_of(Row(SEND, error, C.TEST_EMAIL_FAILED, "", host="smtp.example.com"))
    assert sending.temporary


@pytest.mark.parametrize(
    ("stage", "greeting", "summary"),
    [
        (
            S_CONNECT,
            "unexpected greeting: 'OK Coremail System IMap Server Ready'",
            "answers as an incoming (IMAP) server",
        ),
        (
            S_CONNECT,
            "unexpected greeting: '* OK [CAPABILITY IMAP4rev1] ready'",
            "answers as an incoming (IMAP) server",
        ),
        (
            I_CONNECT,
            "unexpected greeting: 'mx.example.net ESMTP Postfix'",
            "the IMAP and SMTP settings are swapped",
        ),
    ],
)
def test_a_greeting_without_its_code_still_shows_the_swap(
    stage: object, greeting: str, summary: str
) -> None:
    diagnosis = diagnosis_of(Row(stage, ProtocolError(greeting), C.UNAUTHORIZED, ""))  # type: ignore[arg-type]
    assert diagnosis.cause == "protocol_mismatch"
    assert summary in diagnosis.summary
    # Words that merely mention the other protocol in a reply of this one do not count.
    plain = diagnosis_of(
        Row(stage, ProtocolError("unexpected greeting: 'garbage on the line'"), C.UNAUTHORIZED, "")  # type: ignore[arg-type]
    )
    assert summary not in plain.summary


def test_a_server_taking_no_mail_after_the_sign_in_says_the_sign_in_worked() -> None:
    diagnosis = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(554, "Refused. Mail is not being accepted.", command="RCPT"),
            C.TEST_EMAIL_FAILED,
            "",
        )
    )
    assert diagnosis.cause == "server_rejected_connection"
    assert diagnosis.summary.startswith("The SMTP server accepted the sign-in but takes no mail")
    assert "before any sign-in" not in diagnosis.summary
    # A refusal naming the recipient stays the recipient's.
    named = diagnosis_of(
        Row(
            SEND,
            ReplyError.smtp(
                554, "Refused. Mail is not being accepted at this address.", command="RCPT"
            ),
            C.TEST_EMAIL_FAILED,
            "",
        )
    )
    assert named.cause == "recipient_rejected"


@pytest.mark.parametrize(
    ("stage", "command", "text"),
    [
        (I_VALIDATE, "SELECT", "must be in AUTHENTICATED or SELECTED state"),
        (I_VALIDATE, "SELECT", "SELECT not allowed now"),
    ],
)
def test_an_imap_command_refused_in_the_wrong_state_is_the_apps(
    stage: object, command: str, text: str
) -> None:
    error = ReplyError.imap("NO", text, command=command)
    diagnosis = diagnosis_of(Row(stage, error, C.UNAUTHORIZED, ""))  # type: ignore[arg-type]
    assert diagnosis.cause == "protocol_error"


# -- the seventeenth review (30 wordings, half in other languages: 277/300) ---------------


def test_a_sender_domain_a_letter_from_the_servers_is_called_a_typo() -> None:
    row = Row(
        SEND,
        ReplyError.smtp(550, "5.1.8 Sender domain not found", command="MAIL"),
        C.TEST_EMAIL_FAILED,
        "sender_domain_invalid",
    )
    typo = diagnosis_of(row, email="alice@exmaple.com")
    assert typo.hints[0] == (
        "Check the email address for a typo: exmaple.com is one or two letters from "
        "example.com, the domain of your server."
    )
    other = diagnosis_of(row, email="alice@faraway.org")
    assert not any("one or two letters" in h for h in other.hints)


def test_a_token_for_another_account_says_so() -> None:
    text = "5.7.8 OAuth token subject bob@example.com does not match user alice@example.com"
    diagnosis = diagnosis_of(
        Row(S_LOGIN, ReplyError.smtp(535, text, command="AUTH"), C.UNAUTHORIZED, "", oauth2=True)
    )
    assert diagnosis.cause == "oauth_token_invalid"
    assert "does not match the account the token belongs to" in diagnosis.summary
    assert diagnosis.hints[0].startswith("Check that the email address entered here")


@pytest.mark.parametrize(("code", "temporary"), [(451, True), (554, False)])
def test_a_setup_fault_is_as_temporary_as_the_server_says(code: int, temporary: bool) -> None:
    text = f"{code // 100}.3.5 Internal configuration problem on this host"
    diagnosis = diagnosis_of(
        Row(S_CONNECT, ReplyError.smtp(code, text, command="EHLO"), C.UNAUTHORIZED, "")
    )
    assert (diagnosis.cause, diagnosis.temporary) == ("server_error", temporary)
    retry = any(h.startswith("Try again") for h in diagnosis.hints)
    assert retry is temporary
    assert ("will not help" in diagnosis.summary) is not temporary


def test_a_connection_limit_invents_no_wait() -> None:
    diagnosis = diagnosis_of(
        Row(
            I_LOGIN,
            ReplyError.imap("NO", "[LIMIT] Too many simultaneous connections", command="LOGIN"),
            C.UNAUTHORIZED,
            "",
        )
    )
    assert diagnosis.cause == "too_many_connections"
    assert not any("minutes" in h for h in diagnosis.hints)
