"""The test email: small, plainly automatic, with a Message-ID the caller can look for."""

from __future__ import annotations

import email.utils
from typing import Optional

from ._address import Mailbox, envelope_address, parse_mailbox

__all__ = ["build_test_message", "envelope_address"]

_SUBJECT = "Mailbox connection test"
_BODY = (
    "This message was sent automatically to check that this mailbox can send email.\n"
    "No action is needed.\n"
)
# What the email package's SMTP policy writes for the message below, filled in by
# ``_render``: one template instead of its header machinery for every probe.
_HEADERS = (
    ("From", "{sender}"),
    ("To", "undisclosed-recipients:;"),
    ("Subject", _SUBJECT),
    ("Date", "{date}"),
    ("Message-ID", "{message_id}"),
    ("Auto-Submitted", "auto-generated"),  # RFC 3834: no auto-replies, please
    ("X-Mailer", "mailprobe"),
    ("Content-Type", 'text/plain; charset="utf-8"'),
    ("Content-Transfer-Encoding", "7bit"),
    ("MIME-Version", "1.0"),
)
_TEMPLATE = "".join(f"{name}: {value}\r\n" for name, value in _HEADERS)
_TEMPLATE_BODY = "\r\n" + _BODY.replace("\n", "\r\n")
_MAX_LINE = 78  # RFC 5322 2.1.1: the policy folds a header line longer than this


def _render(mailbox: Mailbox, date: str, message_id: str) -> Optional[bytes]:
    """The message from the template, when every header fits on one line (else the
    email package decides how to fold it). Only ASCII addresses take this way."""
    sender = mailbox.envelope
    if not sender.isascii():
        return None
    if max(len(sender), len(message_id)) + len("Message-ID: ") > _MAX_LINE:
        return None
    headers = _TEMPLATE.format(sender=sender, date=date, message_id=message_id)
    return (headers + _TEMPLATE_BODY).encode("ascii")


def _compose(mailbox: Mailbox, date: str, message_id: str) -> bytes:
    """The message as the email package writes it (folding, SMTPUTF8)."""
    import email.policy  # noqa: PLC0415  (only for long or non-ASCII addresses)
    from email.message import EmailMessage  # noqa: PLC0415

    policy = email.policy.SMTPUTF8 if mailbox.needs_smtputf8 else email.policy.SMTP
    msg = EmailMessage(policy=policy)
    msg["From"] = mailbox.header_address()
    msg["To"] = "undisclosed-recipients:;"
    msg["Subject"] = _SUBJECT
    msg["Date"] = date
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Mailer"] = "mailprobe"
    msg.set_content(_BODY)
    return msg.as_bytes()


def build_test_message(sender: str) -> tuple[bytes, str]:
    """The RFC 5322 test message from ``sender`` and its Message-ID.

    The recipient travels only in the envelope (RCPT TO), like a Bcc: no To or
    Cc header names it. The ``From:`` header is built from a structured address
    (local part and ASCII domain), never parsed from text, and checked after
    serialising: it must carry exactly that address.
    """
    mailbox = parse_mailbox("email", sender)
    message_id = email.utils.make_msgid(idstring="mailprobe", domain=mailbox.ascii_domain)
    date = email.utils.formatdate(localtime=False)
    data = _render(mailbox, date, message_id) or _compose(mailbox, date, message_id)
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
