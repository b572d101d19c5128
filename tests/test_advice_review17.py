"""Advice classes the sixteenth hint review left open, and held-out round 37's: an INBOX
the server calls reserved is busy, not full; a short reply with a term of the server's own
is passed on, one in common words is not; a server that only receives mail makes no
failure temporary and no wait is advised; a greeting quoted without its "220" or "* "
still shows the settings are swapped; a server taking no mail after the sign-in says the
sign-in worked; an IMAP command refused in the wrong state is the app's."""

from __future__ import annotations

import pytest

from mailprobe import ErrorCategory as C
from mailprobe import ProtocolError, ReplyError
from mailprobe._rules._words import server_words

from .test_rules import I_CONNECT, I_VALIDATE, S_CONNECT, SEND, Row, diagnosis_of


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
