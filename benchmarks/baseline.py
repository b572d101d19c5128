"""The naive way to check an inbox: imaplib then smtplib, one step after another.

This is what a connection check usually looks like when written directly against the
standard library: a fresh default TLS context per connection, CAPABILITY asked again
after login, LIST and EXAMINE one at a time, LOGOUT and QUIT waited for, MAIL, RCPT
and DATA each waiting for its reply.
"""

from __future__ import annotations

import imaplib
import smtplib
import ssl
from email.message import EmailMessage

import certifi


def _context(ca_file: str, with_certifi: bool) -> ssl.SSLContext:
    if not with_certifi:  # the same small CA file mailprobe is given, nothing else
        return ssl.create_default_context(cafile=ca_file)
    context = ssl.create_default_context(cafile=certifi.where())
    context.load_verify_locations(cafile=ca_file)
    return context


def naive_probe(
    *,
    host: str,
    imap_port: int,
    smtp_port: int,
    login: str,
    password: str,
    email: str,
    recipient: str,
    ca_file: str,
    with_certifi: bool = False,
    timeout: float = 30.0,
) -> None:
    """One check; ``with_certifi`` trusts certifi's bundle too, loaded per connection
    as ``ssl.create_default_context(cafile=certifi.where())`` does."""
    context = _context(ca_file, with_certifi)
    imap = imaplib.IMAP4_SSL(host, imap_port, ssl_context=context, timeout=timeout)
    try:
        imap.login(login, password)
        imap.capability()
        imap.list()
        imap.select("INBOX", readonly=True)
    finally:
        imap.logout()

    smtp = smtplib.SMTP(host, smtp_port, timeout=timeout, local_hostname="localhost")
    try:
        smtp.ehlo()
        smtp.starttls(context=_context(ca_file, with_certifi))
        smtp.ehlo()
        smtp.login(login, password)
        message = EmailMessage()
        message["From"] = email
        message["Subject"] = "Mailbox connection test"
        message.set_content("This message was sent automatically.\n")
        smtp.mail(email)
        smtp.rcpt(recipient)
        smtp.data(message.as_bytes())
    finally:
        smtp.quit()
