"""The main job: probe an inbox through the scripted transport, no network needed.

Runs one passing probe and several failures scripted with replies real servers
send, and prints the stage report and diagnosis of each.

    python examples/offline_demo.py
"""

from __future__ import annotations

from report import render

import mailprobe
from mailprobe import CertificateError, RefusedError, ReplyError
from mailprobe.testing import ScriptedTransport

SETTINGS = mailprobe.InboxSettings(
    email="alice@example.com",
    password="correct horse battery staple",
    imap=mailprobe.ServerSettings(host="imap.example.com", port=993),
    smtp=mailprobe.ServerSettings(host="smtp.example.com", port=587),
)

SCENARIOS = {
    "Everything works": ScriptedTransport(),
    "Wrong password (Dovecot)": ScriptedTransport(
        imap_login=ReplyError.imap(
            "NO", "[AUTHENTICATIONFAILED] Authentication failed.", command="LOGIN"
        ),
        smtp_login=ReplyError.smtp(535, "5.7.8 Error: authentication failed", command="AUTH"),
    ),
    "Gmail wants an app password": ScriptedTransport(
        imap_login=ReplyError.imap(
            "NO",
            "[ALERT] Application-specific password required: "
            "https://support.google.com/accounts/answer/185833 (Failure)",
            command="LOGIN",
        ),
    ),
    "Self-signed certificate": ScriptedTransport(
        imap_connect=CertificateError(
            "certificate not trusted: self-signed certificate", reason="self_signed"
        ),
    ),
    "Nothing listens on the SMTP port": ScriptedTransport(
        smtp_connect=RefusedError("connection refused"),
    ),
    "Sender address not owned by the login (Postfix)": ScriptedTransport(
        smtp_send=ReplyError.smtp(
            553,
            "5.7.1 <alice@example.com>: Sender address rejected: not owned by user alice",
            command="RCPT",
        ),
    ),
}


def main() -> int:
    for title, transport in SCENARIOS.items():
        # An app builds one Prober; each scenario here has its own scripted transport.
        prober = mailprobe.Prober(transport=transport, timeout=10)
        result = prober.probe(SETTINGS, test_recipient="bcc@app.example")
        print(f"{title}: {'OK' if result.ok else 'FAILED'}")
        print(render(result))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
