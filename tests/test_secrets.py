"""No password or token in any output: repr, str, to_dict(), exceptions, logs, transcripts."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest

import mailprobe
from mailprobe import (
    CertificateError,
    ConnectionInfo,
    DeadlineExceeded,
    RefusedError,
    ReplyError,
    Security,
    SettingsError,
)
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings
from .dummyserver import Peer, ScriptServer, imap_session, smtp_session

SECRET = "Tr0ub4dor-Secret-Value"
LOGIN = "alice@example.com"
FORMS = [
    SECRET,
    base64.b64encode(SECRET.encode()).decode(),
    base64.b64encode(f"\0{LOGIN}\0{SECRET}".encode()).decode(),
]

SCRIPTED = {
    "pass": {},
    "imap refused echoing the password": {
        "imap_login": ReplyError.imap("BAD", f"Error in LOGIN {LOGIN} {SECRET}", command="LOGIN")
    },
    "smtp refused echoing the PLAIN token": {
        "smtp_login": ReplyError.smtp(535, f"5.7.8 bad token {FORMS[2]}", command="AUTH")
    },
    "greeting echoing the password": {"imap_connect": ConnectionInfo(greeting=f"* OK {SECRET}")},
    "certificate": {"smtp_connect": CertificateError("self-signed", reason="self_signed")},
    "refused": {"imap_connect": RefusedError("refused")},
    "timeout": {"smtp_send": DeadlineExceeded("sending")},
    "unexpected exception quoting the password": {
        "imap_login": UnicodeEncodeError("ascii", SECRET, 0, 1, "boom")
    },
}


def _outputs(result: mailprobe.ProbeResult) -> list[str]:
    return [repr(result), str(result), json.dumps(result.to_dict())] + [
        repr(stage) for stage in result.stages
    ]


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in text


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="mailprobe"):
        yield caplog


def _log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]


@pytest.mark.parametrize("script", list(SCRIPTED.values()), ids=list(SCRIPTED))
def test_scripted_outcomes_leak_nothing(
    script: dict[str, Any], logs: pytest.LogCaptureFixture
) -> None:
    result = mailprobe.probe(
        scripted_settings(password=SECRET),
        transport=ScriptedTransport(**script),
        test_recipient="bcc@app.example",
        transcript=True,
    )
    assert_clean(_outputs(result) + _log_texts(logs))


def test_settings_and_their_errors_leak_nothing() -> None:
    settings = scripted_settings(
        password=SECRET,
        smtp=mailprobe.ServerSettings(host="smtp.example.com", port=587, password=SECRET + "2"),
    )
    assert_clean([repr(settings), str(settings), repr(settings.smtp)])
    with pytest.raises(SettingsError) as info:
        scripted_settings(password=SECRET + "\n")
    assert_clean([str(info.value), repr(info.value)])


def _echoing_imap(peer: Peer) -> None:
    def login(p: Peer, tag: bytes) -> bool:
        p.send(
            tag
            + b" NO [AUTHENTICATIONFAILED] you said: "
            + p.server.received[-200:].replace(b"\r\n", b" ")
            + b"\r\n"
        )
        return True

    imap_session(peer, on={"LOGIN": login})


def _echoing_smtp(peer: Peer) -> None:
    def auth(p: Peer, line: bytes) -> bool:
        p.send(b"535 5.7.8 rejected: " + line + b"\r\n")
        return True

    smtp_session(peer, on={"AUTH": auth})


@pytest.mark.parametrize("scripts", [(_echoing_imap, _echoing_smtp)], ids=["echo"])
def test_servers_echoing_credentials_over_the_wire(
    scripts: tuple[Callable[[Peer], None], Callable[[Peer], None]],
    logs: pytest.LogCaptureFixture,
) -> None:
    imap, smtp = ScriptServer(scripts[0]), ScriptServer(scripts[1])
    try:
        settings = scripted_settings(
            password=SECRET,
            imap=mailprobe.ServerSettings(host="127.0.0.1", port=imap.port, security=Security.NONE),
            smtp=mailprobe.ServerSettings(host="127.0.0.1", port=smtp.port, security=Security.NONE),
        )
        started = time.monotonic()
        result = mailprobe.probe(settings, timeout=5, transcript=True)
        assert time.monotonic() - started < 5
        # The secret really crossed the wire (Security.NONE was chosen) and came back...
        assert SECRET.encode() in imap.received
        assert result.stage(mailprobe.Stage.IMAP_LOGIN).error is not None
        # ...yet no output carries it, in any form.
        assert_clean(_outputs(result) + _log_texts(logs))
        transcript = result.stage(mailprobe.Stage.SMTP_LOGIN).details["transcript"]
        assert any(line.startswith("C: AUTH PLAIN ********") for line in transcript)
    finally:
        imap.close()
        smtp.close()
