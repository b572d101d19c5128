"""Extend the diagnosis with a rule of your own, for a provider your app knows.

Acme Mail answers a suspended account with "NO [ACME-SUSPENDED] ..."; the
built-in rules would call that a generic authentication error. The app's rule
turns it into a precise cause and its own support link.

    python examples/custom_rule.py
"""

from __future__ import annotations

from typing import Optional

from report import render

import mailprobe
from mailprobe import Diagnosis, ErrorCategory, Failure, ReplyError, Stage
from mailprobe.testing import ScriptedTransport

rules = mailprobe.default_registry()


@rules.register(id="acme.suspended", priority=100, stages=[Stage.IMAP_LOGIN])
def acme_suspended(failure: Failure) -> Optional[Diagnosis]:
    if failure.response_code != "ACME-SUSPENDED":
        return None
    return Diagnosis(
        category=ErrorCategory.IMAP_AUTHENTICATION_ERROR,
        cause="account_suspended",
        hints=(
            "Acme Mail has suspended this mailbox; the password is not the problem.",
            "Ask the account owner to reactivate it in the Acme admin console.",
        ),
        links=("https://help.acme.example/suspended",),
    )


def main() -> int:
    settings = mailprobe.InboxSettings(
        email="ops@acme.example",
        password="hunter2-but-longer",
        imap=mailprobe.ServerSettings(host="imap.acme.example", port=993),
        smtp=mailprobe.ServerSettings(host="smtp.acme.example", port=465),
    )
    transport = ScriptedTransport(
        imap_login=ReplyError.imap("NO", "[ACME-SUSPENDED] Account suspended", command="LOGIN"),
    )
    result = mailprobe.probe(settings, rules=rules, transport=transport)
    print(render(result))
    assert result.diagnosis is not None
    print(f"  links: {', '.join(result.diagnosis.links)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
