"""An app's own check through the same door the built-in stages use: the mailbox must
have a Sent folder, because the app files the mail it sends there.

    python examples/sent_folder_check.py

Runs offline (scripted transport): one mailbox with a Sent folder, one without.
"""

from __future__ import annotations

from typing import Optional

import mailprobe
from mailprobe import Diagnosis, ErrorCategory, Failure, Stage, StageContext
from mailprobe.testing import ScriptedTransport


class NoSentFolder(mailprobe.ProbeError):
    """The mailbox has no folder to file sent mail in."""


def sent_folder_exists(ctx: StageContext) -> None:
    """Runs after IMAP validation passed; reads what it found, records, fails by raising."""
    validate = ctx.result(Stage.IMAP_VALIDATE)  # it passed: the check runs after it
    details = validate.details if validate is not None else None
    if not isinstance(details, mailprobe.ValidateDetails):
        ctx.skip("no validation details to read")
    sent = details.sent_folder
    ctx.record(sent_folder=sent)
    if sent is None:
        raise NoSentFolder("the mailbox has no Sent folder")


rules = mailprobe.default_registry()


@rules.register(id="app.no_sent_folder", priority=50, stages=[Stage.IMAP_VALIDATE])
def no_sent_folder(failure: Failure) -> Optional[Diagnosis]:
    if not isinstance(failure.error, NoSentFolder):
        return None
    return Diagnosis(
        category=ErrorCategory.IMAP_VALIDATION_ERROR,
        cause="no_sent_folder",
        summary="This mailbox has no Sent folder; create one in your webmail and try again.",
        hints=("Create a folder named Sent in your webmail, then run the check again.",),
    )


SENT_FOLDER = mailprobe.Check(name="sent_folder", run=sent_folder_exists)


def main() -> int:
    settings = mailprobe.InboxSettings(
        email="alice@example.com",
        password="app-password",
        imap=mailprobe.ServerSettings(host="imap.example.com", port=993),
        smtp=mailprobe.ServerSettings(host="smtp.example.com", port=587),
    )
    no_sent = (mailprobe.Folder(name="INBOX"), mailprobe.Folder(name="Archive"))
    for title, transport in (
        ("With a Sent folder", ScriptedTransport()),
        ("Without one", ScriptedTransport(imap_list=no_sent)),
    ):
        prober = mailprobe.Prober(transport=transport, rules=rules, checks=[SENT_FOLDER])
        result = prober.probe(settings)
        check = result.check("sent_folder")
        print(f"{title}: {check.status.value}, sent_folder={check.details['sent_folder']!r}")
        if (diagnosis := result.diagnosis) is not None:
            print(f"  => {diagnosis.cause}: {diagnosis.summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
