"""The test email: small, plainly automatic, with a Message-ID the caller can look for."""

from __future__ import annotations

import email.policy
import email.utils
from email.message import EmailMessage


def envelope_address(address: str) -> str:
    """``address`` with its domain in ASCII (IDNA) form, as the SMTP envelope needs it."""
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def build_test_message(sender: str) -> tuple[bytes, str]:
    """The RFC 5322 test message from ``sender`` and its Message-ID.

    The recipient travels only in the envelope (RCPT TO), like a Bcc: no To or
    Cc header names it. Addresses were validated when the settings were made,
    so no header can carry a CR or LF.
    """
    domain = envelope_address(sender).rpartition("@")[2]
    message_id = email.utils.make_msgid(idstring="mailprobe", domain=domain)
    msg = EmailMessage(policy=email.policy.SMTPUTF8 if not sender.isascii() else email.policy.SMTP)
    msg["From"] = sender
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
    return msg.as_bytes(), message_id
