"""The documented examples run and print what the docs say they print."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .mailservers import ACCOUNTS, MailServers

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_offline_demo_reports_a_pass_and_diagnosed_failures() -> None:
    proc = run_example("offline_demo.py")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Everything works: OK" in out and "=> all checks passed" in out
    for expected in (
        "IMAP authentication error (cause: invalid_credentials",
        "Unauthorized (app password required) (cause: app_password_required",
        "Unauthorized (SSL certificate not trusted) (cause: cert_self_signed",
        "SMTP settings incorrect (cause: connection_refused",
        "Test email failed (cause: sender_not_allowed",
    ):
        assert expected in out
    assert "correct horse battery staple" not in out


def test_custom_rule_example_uses_the_apps_rule() -> None:
    proc = run_example("custom_rule.py")
    assert proc.returncode == 0, proc.stderr
    assert "cause: account_suspended, rule: acme.suspended" in proc.stdout
    assert "https://help.acme.example/suspended" in proc.stdout


@pytest.mark.integration
def test_real_account_example_against_the_local_servers(servers: MailServers) -> None:
    account = ACCOUNTS["alice"]
    env = {
        "MAILPROBE_EMAIL": account.email,
        "MAILPROBE_PASSWORD": account.password,
        "MAILPROBE_IMAP_HOST": "127.0.0.1",
        "MAILPROBE_IMAP_PORT": str(servers.imaps_port),
        "MAILPROBE_IMAP_SECURITY": "tls",
        "MAILPROBE_SMTP_HOST": "127.0.0.1",
        "MAILPROBE_SMTP_PORT": str(servers.smtp_port),
        "MAILPROBE_SMTP_SECURITY": "starttls",
        "MAILPROBE_TEST_RECIPIENT": "bcc@app.example",
        "MAILPROBE_CA_FILE": str(servers.ca_file),
        "MAILPROBE_TIMEOUT": "15",
    }
    proc = run_example("real_account.py", env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "=> all checks passed" in proc.stdout

    proc = run_example(
        "real_account.py", {**env, "MAILPROBE_PASSWORD": "wrong", "MAILPROBE_JSON": "1"}
    )
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["diagnosis"]["cause"] == "invalid_credentials"
    assert "wrong" not in json.dumps(data["stages"])

    proc = run_example("real_account.py", {**env, "MAILPROBE_IMAP_PORT": "0"})
    assert proc.returncode == 2 and "port" in proc.stderr


def test_the_sent_folder_check_example() -> None:
    proc = run_example("sent_folder_check.py")
    assert proc.returncode == 0, proc.stderr
    assert "With a Sent folder: passed, sent_folder='Sent'" in proc.stdout
    assert "Without one: failed, sent_folder=None" in proc.stdout
    assert "=> no_sent_folder:" in proc.stdout
