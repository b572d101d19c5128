"""Probe a real account whose settings come from environment variables.

    MAILPROBE_EMAIL=alice@example.com MAILPROBE_PASSWORD=... \\
    MAILPROBE_IMAP_HOST=imap.example.com MAILPROBE_SMTP_HOST=smtp.example.com \\
    python examples/real_account.py

Optional: MAILPROBE_USERNAME, MAILPROBE_IMAP_PORT (993), MAILPROBE_IMAP_SECURITY (names
as people write them: ssl, tls, starttls, none), MAILPROBE_SMTP_PORT (587),
MAILPROBE_SMTP_SECURITY, MAILPROBE_TEST_RECIPIENT,
MAILPROBE_CA_FILE, MAILPROBE_ALLOW_UNTRUSTED=1, MAILPROBE_TIMEOUT (30), MAILPROBE_JSON=1.
Exits 0 when every stage passed, 1 when one failed, 2 on bad settings.
"""

from __future__ import annotations

import json
import os
import sys

from report import render

import mailprobe


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"MAILPROBE_{name}")
    return value if value not in (None, "") else default


def main() -> int:
    # The environment is read like a connection form: strings, empty means absent.
    form = {
        field: os.environ.get(f"MAILPROBE_{field.upper()}", "")
        for field in (
            "email",
            "password",
            "username",
            "imap_host",
            "imap_port",
            "imap_security",
            "smtp_host",
            "smtp_port",
            "smtp_security",
        )
    }
    form["allow_untrusted_certificate"] = _env("ALLOW_UNTRUSTED") or "0"
    try:
        settings = mailprobe.InboxSettings.from_form(form)
        prober = mailprobe.Prober(
            ca_file=_env("CA_FILE"), timeout=float(_env("TIMEOUT", "30") or 30)
        )
        result = prober.probe(settings, test_recipient=_env("TEST_RECIPIENT"))
    except mailprobe.SettingsError as exc:
        for field, problem in exc.errors:
            print(f"bad setting: {field}: {problem}", file=sys.stderr)
        return 2
    if _env("JSON") == "1":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(render(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
