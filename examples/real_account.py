"""Probe a real account whose settings come from environment variables.

    MAILPROBE_EMAIL=alice@example.com MAILPROBE_PASSWORD=... \\
    MAILPROBE_IMAP_HOST=imap.example.com MAILPROBE_SMTP_HOST=smtp.example.com \\
    python examples/real_account.py

Optional: MAILPROBE_USERNAME, MAILPROBE_IMAP_PORT (993), MAILPROBE_IMAP_SECURITY,
MAILPROBE_SMTP_PORT (587), MAILPROBE_SMTP_SECURITY, MAILPROBE_TEST_RECIPIENT,
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
    try:
        settings = mailprobe.InboxSettings(
            email=_env("EMAIL"),
            password=_env("PASSWORD"),
            username=_env("USERNAME"),
            imap=mailprobe.ServerSettings(
                host=_env("IMAP_HOST"),
                port=int(_env("IMAP_PORT", "993") or 993),
                security=_env("IMAP_SECURITY"),
            ),
            smtp=mailprobe.ServerSettings(
                host=_env("SMTP_HOST"),
                port=int(_env("SMTP_PORT", "587") or 587),
                security=_env("SMTP_SECURITY"),
            ),
            allow_untrusted_certificate=_env("ALLOW_UNTRUSTED") == "1",
        )
        result = mailprobe.probe(
            settings,
            test_recipient=_env("TEST_RECIPIENT"),
            timeout=float(_env("TIMEOUT", "30") or 30),
            ca_file=_env("CA_FILE"),
        )
    except mailprobe.SettingsError as exc:
        print(f"bad setting: {exc}", file=sys.stderr)
        return 2
    if _env("JSON") == "1":
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(render(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
