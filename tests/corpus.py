"""The reply corpus: real server replies from public sources (tests/replies/*.jsonl).

Each row names the stage and command where a probe meets the reply, the reply itself
(SMTP code and text, or IMAP status and text; raw bytes in base64 for replies that
are not UTF-8), the provider's server name when it belongs to one, the expected
category and cause (``also``: other causes accepted for a reply that names several;
``also_category``: the categories those causes bring),
and the public source it was copied from; ``excluded`` rows say why the probe can never
meet them. A file named ``holdout.jsonl`` is a slice collected apart and kept out of
rule writing: ``load()`` leaves it out, ``load(holdout=True)`` reads only it
(scripts/measure_heldout.py).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import mailprobe
from mailprobe import (
    ConnectionInfo,
    ProbeError,
    ProtocolError,
    ReplyError,
    Security,
    ServerSettings,
    SettingsError,
    Stage,
)
from mailprobe._decode import decode_reply
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings

HERE = Path(__file__).resolve().parent / "replies"
HOLDOUT = "holdout.jsonl"
_SLOTS = {
    "imap_connect": "imap_connect",
    "imap_login": "imap_login",
    "smtp_connect": "smtp_connect",
    "smtp_login": "smtp_login",
    "test_email": "smtp_send",
}
_SECURITY = {
    "tls": Security.TLS,
    "ssl": Security.TLS,
    "ssl/tls": Security.TLS,
    "starttls": Security.STARTTLS,
    "none": Security.NONE,
    "plain": Security.NONE,
}
_CLIENT_IP = re.compile(
    r"<(?:client_|remote_|sending_|sender_|your_)?ip(?:_address)?>|\{IP\}", re.I
)
_VALIDATE_SLOTS = {"CAPABILITY": "imap_capabilities", "LIST": "imap_list"}


def load(*, holdout: bool = False) -> list[dict[str, Any]]:
    """The corpus rows (the held-out set only when ``holdout``)."""
    rows: list[dict[str, Any]] = []
    for path in sorted(HERE.glob("*.jsonl")):
        if (path.name == HOLDOUT) != holdout:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                row["file"] = path.name
                rows.append(row)
    return rows


def reply_text(row: dict[str, Any]) -> str:
    """The reply's text as the transport would decode it."""
    if "text_b64" in row:
        return decode_reply(base64.b64decode(row["text_b64"]))
    # Collectors wrote <client_ip> (or <ip>) where the server names the connecting address; a
    # real reply has an address there (one from the documentation range, RFC 5737).
    text: str = _CLIENT_IP.sub("192.0.2.45", row["text"])
    return text


def reply_error(row: dict[str, Any]) -> ProbeError:
    """What the transport raises for the row: a refusal, or for a row whose whole line
    is in ``text`` (another protocol answered) the protocol error."""
    protocol = Stage(row["stage"]).protocol
    other = "code" if protocol == "imap" else "status"  # the other protocol's reply
    if ("code" not in row and "status" not in row) or other in row:
        line = f"{row.get('code', row.get('status', ''))} {reply_text(row)}".strip()
        return ProtocolError(f"unexpected greeting: {line[:200]!r}")
    command: Optional[str] = row["command"]
    if command == "CONNECT" and row["stage"] == "imap_connect":
        command = None
    if command == ".":  # the transport reports the reply to the end of data as DATA's
        command = "DATA"
    if "code" in row:
        return ReplyError.smtp(int(row["code"]), reply_text(row), command=command)
    return ReplyError.imap(row["status"], reply_text(row), command=command)


def slot(row: dict[str, Any]) -> str:
    if row["stage"] == "imap_validate":
        return _VALIDATE_SLOTS.get(row["command"], "imap_examine")
    return _SLOTS[row["stage"]]


def probe_row(row: dict[str, Any]) -> mailprobe.ProbeResult:
    """Probe through the scripted transport with the row's reply where it belongs."""
    stage = Stage(row["stage"])
    protocol = stage.protocol
    context = row.get("context") or {}
    default_host, default_port = {
        "imap": ("imap.example.com", 993),
        "smtp": ("smtp.example.com", 587),
    }[protocol]
    security = _SECURITY.get(str(context.get("security", "")).lower())
    if row.get("command") == "STARTTLS" and "security" not in context:
        # A reply to STARTTLS means STARTTLS was chosen, on the usual port for it.
        security = Security.STARTTLS
        default_port = {"imap": 143, "smtp": 587}[protocol]
    if security is not None and "port" not in context:
        # The usual port for the mode the row names (STARTTLS is not asked of 993/465).
        default_port = {
            ("imap", Security.TLS): 993, ("imap", Security.STARTTLS): 143,
            ("smtp", Security.TLS): 465, ("smtp", Security.STARTTLS): 587,
        }.get((protocol, security), default_port)
    host = row.get("host") or default_host
    try:
        server = ServerSettings(
            host=host, port=int(context.get("port", default_port)), security=security
        )
    except SettingsError:  # a placeholder such as "<tenant>.mail.protection.outlook.com"
        server = ServerSettings(
            host=default_host, port=int(context.get("port", default_port)), security=security
        )
    overrides: dict[str, Any] = {protocol: server}
    if context.get("email"):  # a placeholder such as "<user>@ya.ru" stands for a name
        overrides["email"] = re.sub(r"<[^<>@]*>", "user", context["email"])
    if context.get("login"):
        overrides["username"] = context["login"]
    if context.get("oauth2") or context.get("auth") in ("XOAUTH2", "OAUTHBEARER"):
        overrides.update(password=None, oauth2_token="ya29.corpus-token")
    settings = scripted_settings(**overrides)
    script: dict[str, Any] = {slot(row): reply_error(row)}
    if context.get("capabilities"):
        script[f"{protocol}_connect"] = ConnectionInfo(
            greeting="", capabilities=tuple(context["capabilities"])
        )
    transport = ScriptedTransport(**script)
    return mailprobe.probe(settings, test_recipient="bcc@app.example", transport=transport)


def outcomes(rows: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """(row, category, cause) for each row as the rules diagnose it."""
    for row in rows:
        if row.get("excluded"):
            continue
        diagnosis = probe_row(row).stage(Stage(row["stage"])).diagnosis
        assert diagnosis is not None, row["id"]
        assert diagnosis.summary and diagnosis.hints, row["id"]
        yield row, diagnosis.category.value, diagnosis.cause
