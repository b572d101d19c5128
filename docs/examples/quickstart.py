"""The quickstart's code (docs/quickstart.md includes it; the test suite type-checks it
with ``mypy --strict`` and runs it offline)."""

from __future__ import annotations

import json

import mailprobe
from mailprobe import InboxSettings, Stage


def show(*parts: object) -> None:
    print(*parts)


# --8<-- [start:prober]
prober = mailprobe.Prober(timeout=30)  # once per app: trust, rules, providers, policies
# --8<-- [end:prober]


def connect_form(form: dict[str, str], prober: mailprobe.Prober = prober) -> str:
    # --8<-- [start:settings]
    try:
        settings = InboxSettings.from_form(form)  # what the web form sent, as strings
    except mailprobe.SettingsError as exc:
        # Every bad field at once, with its full path: ("imap.port", "must be ...").
        return json.dumps({"errors": dict(exc.errors)})
    # --8<-- [end:settings]

    # --8<-- [start:probe]
    result = prober.probe(settings, test_recipient="bcc@yourapp.example")

    if (diagnosis := result.diagnosis) is None:  # None exactly when result.ok
        show("Connected", *result.warnings)  # warnings: say them beside "connected"
    else:
        show(diagnosis.title, diagnosis.summary, *diagnosis.hints)
        show("failed at", diagnosis.stage, "cause", diagnosis.cause, "rule", diagnosis.rule_id)

    connect = result.stage(Stage.IMAP_CONNECT).details  # typed: ConnectDetails
    if connect.certificate is not None and connect.certificate.days_to_expiry is not None:
        show("certificate valid for", connect.certificate.days_to_expiry, "days")

    stored = json.dumps(result.to_dict())  # JSON-safe, no password anywhere
    same = mailprobe.ProbeResult.from_dict(json.loads(stored))  # ...and back
    # --8<-- [end:probe]
    assert same.to_dict() == result.to_dict()
    return stored


# --8<-- [start:events]
def on_event(event: mailprobe.ProbeEvent) -> None:
    if event.kind == "finished" and event.result is not None:
        show(event.stage.value, event.result.status.value)
# --8<-- [end:events]


if __name__ == "__main__":
    from mailprobe.testing import ScriptedTransport

    FORM = {
        "email": "alice@example.com",
        "password": "app-password",
        "imap_host": "imap.example.com",
        "imap_port": "993",
        "smtp_host": "smtp.example.com",
        "smtp_port": "587",
        "smtp_security": "STARTTLS",
    }
    offline = mailprobe.Prober(transport=ScriptedTransport())
    print(connect_form(FORM, offline)[:60])
    print(connect_form({**FORM, "imap_port": "99x", "smtp_host": ""}, offline))
