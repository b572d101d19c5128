"""The test email: small, plainly automatic, with a Message-ID the caller can look for."""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage

from ._address import envelope_address, parse_mailbox

__all__ = ["build_test_message", "envelope_address"]


def build_test_message(sender: str) -> tuple[bytes, str]:
    """The RFC 5322 test message from ``sender`` and its Message-ID.

    The recipient travels only in the envelope (RCPT TO), like a Bcc: no To or
    Cc header names it. The ``From:`` header is built from a structured address
    (local part and ASCII domain), never parsed from text, and checked after
    serialising: it must carry exactly that address.
    """
    mailbox = parse_mailbox("email", sender)
    message_id = email.utils.make_msgid(idstring="mailprobe", domain=mailbox.ascii_domain)
    policy = email.policy.SMTPUTF8 if mailbox.needs_smtputf8 else email.policy.SMTP
    msg = EmailMessage(policy=policy)
    msg["From"] = mailbox.header_address()
    msg["To"] = "undisclosed-recipients:;"
    msg["Subject"] = "Mailbox connection test"
    msg["Date"] = email.utils.formatdate(localtime=False)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies, please
    msg["X-Mailer"] = "mailprobe"
    msg.set_content(
        "This message was sent automatically to check that this mailbox can send email.\n"
        "No action is needed.\n"
    )
    data = msg.as_bytes()
    headers = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    # The email package may quote a local part holding "=" or "?" (still the same
    # address); anything else means the header says something other than the address.
    allowed = {
        f"From: {mailbox.envelope}".encode(),
        f'From: "{mailbox.local}"@{mailbox.ascii_domain}'.encode(),
    }
    if not allowed.intersection(headers):
        raise ValueError("the sender address does not survive header encoding unchanged")
    return data, message_id
