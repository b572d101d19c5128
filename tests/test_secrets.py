"""No password or token in any output: repr, str, to_dict(), exceptions, logs, transcripts."""

from __future__ import annotations

import base64
import json
import logging
import quopri
import time
import urllib.parse
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


# -- every form a server could echo (issue 11, class 3) --------------------------------
TRICKY = 'Tr0ub4dor "quoted" \\back Välue'


def _forms(secret: str) -> dict[str, str]:
    raw = secret.encode()
    plain = b"\0" + LOGIN.encode() + b"\0" + raw
    return {
        "as typed": secret,
        "upper case": secret.upper(),
        "lower case": secret.lower(),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "url-encoded": urllib.parse.quote(secret, safe=""),
        "url-encoded plus": urllib.parse.quote_plus(secret),
        "url-encoded lower": urllib.parse.quote(secret, safe="").lower(),
        "quoted-printable": quopri.encodestring(raw, quotetabs=True).decode().replace("=\n", ""),
        "imap-quoted": secret.replace("\\", "\\\\").replace('"', '\\"'),
        "json": json.dumps(secret)[1:-1],
        "base64": base64.b64encode(raw).decode(),
        "base64 unpadded": base64.b64encode(raw).decode().rstrip("="),
        "base64 url-safe": base64.urlsafe_b64encode(raw).decode(),
        "base64 PLAIN": base64.b64encode(plain).decode(),
        "base64 inside a blob": base64.b64encode(b"xy" + raw + b"tail").decode(),
    }


def _leftovers(text: str, secret: str) -> list[str]:
    """Forms of ``secret`` (and 6-character pieces of it) still in ``text``."""
    found = [name for name, form in _forms(secret).items() if form and form in text]
    pieces = {secret[i : i + 6] for i in range(len(secret) - 5)}
    found += [p for p in pieces if p.strip() and p in text]
    return found


@pytest.mark.parametrize("form", list(_forms(TRICKY)))
def test_echoed_secret_is_masked_in_every_encoding(
    form: str, logs: pytest.LogCaptureFixture
) -> None:
    echoed = _forms(TRICKY)[form]

    def smtp(peer: Peer) -> None:
        def auth(p: Peer, line: bytes) -> bool:
            p.send(f"535 5.7.8 ECHO-MARK you sent {echoed} - rejected\r\n".encode())
            return True

        smtp_session(peer, on={"AUTH": auth})

    server = ScriptServer(smtp)
    try:
        settings = scripted_settings(
            password=TRICKY,
            imap=mailprobe.ServerSettings(host="127.0.0.1", port=1, security=Security.NONE),
            smtp=mailprobe.ServerSettings(
                host="127.0.0.1", port=server.port, security=Security.NONE
            ),
        )
        seen: list[str] = []
        rules = mailprobe.default_registry()

        @rules.register(id="test.spy", priority=10_000)
        def spy(failure: mailprobe.Failure) -> None:
            error = failure.error
            seen.extend([failure.text, str(error), repr(error), repr(error.args)])
            seen.extend(repr(e) for e in (error.__cause__, error.__context__) if e)
            assert error.__traceback__ is None
            return None

        result = mailprobe.probe(settings, timeout=5, transcript=True, rules=rules)
    finally:
        server.close()
    login = result.stage(mailprobe.Stage.SMTP_LOGIN)
    assert login.error is not None and login.error.server_text is not None
    # The positive side: the echoed reply reached the result, with the secret masked.
    assert "ECHO-MARK" in login.error.server_text and "********" in login.error.server_text
    assert any("ECHO-MARK" in text and "********" in text for text in seen)
    outputs = _outputs(result) + _log_texts(logs) + seen
    for text in outputs:
        assert not _leftovers(text, TRICKY), (form, text)


def test_a_secret_crossing_the_transcript_cut_leaves_nothing() -> None:
    for offset in (280, 295, 299, 300):

        def smtp(peer: Peer, offset: int = offset) -> None:
            def auth(p: Peer, line: bytes) -> bool:
                p.send(b"535 " + b"x" * (offset - 4) + SECRET.encode() + b" tail\r\n")
                return True

            smtp_session(peer, on={"AUTH": auth})

        server = ScriptServer(smtp)
        try:
            settings = scripted_settings(
                password=SECRET,
                imap=mailprobe.ServerSettings(host="127.0.0.1", port=1, security=Security.NONE),
                smtp=mailprobe.ServerSettings(
                    host="127.0.0.1", port=server.port, security=Security.NONE
                ),
            )
            result = mailprobe.probe(settings, timeout=5, transcript=True)
        finally:
            server.close()
        lines = result.stage(mailprobe.Stage.SMTP_LOGIN).details["transcript"]
        text = "\n".join(lines)
        assert any(line.startswith("S: 535 xxx") for line in lines)
        for size in range(4, len(SECRET) + 1):
            assert SECRET[:size] not in text, (offset, size)


def test_a_password_that_is_a_common_word_leaves_structured_fields_alone() -> None:
    settings = scripted_settings(
        password="example",
        imap=mailprobe.ServerSettings(host="imap.example.com", port=993),
        smtp=mailprobe.ServerSettings(host="smtp.example.com", port=587),
    )
    transport = ScriptedTransport(
        imap_connect=ConnectionInfo(greeting="* OK example.com says: example"),
        smtp_login=ReplyError.smtp(535, "5.7.8 bad password example", command="AUTH"),
    )
    result = mailprobe.probe(settings, transport=transport, test_recipient="bcc@example.org")
    connect = result.stage(mailprobe.Stage.IMAP_CONNECT)
    assert connect.details["host"] == "imap.example.com"
    assert connect.details["greeting"] == "* OK ********.com says: ********"
    login = result.stage(mailprobe.Stage.SMTP_LOGIN)
    assert login.error is not None and login.error.server_text == "5.7.8 bad password ********"
    assert result.stage(mailprobe.Stage.IMAP_LOGIN).details["login"] == "alice@example.com"


def test_masked_error_copies_the_chain_and_keeps_the_original() -> None:
    import imaplib

    from mailprobe._masking import Masker, masked_error

    masker = Masker([SECRET])
    try:
        try:
            try:
                raise UnicodeEncodeError("ascii", SECRET, 0, 1, "no")
            except UnicodeEncodeError:
                raise imaplib.IMAP4.error(b"NO you said " + SECRET.encode()) from None
        except imaplib.IMAP4.error as low:
            error = ReplyError.imap("NO", f"you said {SECRET.upper()}", command="LOGIN")
            error.challenge = json.dumps({"status": SECRET})
            raise error from low
    except ReplyError as exc:
        original = exc
    copy = masked_error(original, masker)
    assert type(copy) is ReplyError and copy is not original
    assert (copy.status, copy.command, copy.response_code) == ("NO", "LOGIN", None)
    assert copy.text == "you said ********" and SECRET not in (copy.challenge or "")
    assert str(copy) == "IMAP LOGIN refused: NO you said ********"
    assert isinstance(copy.__cause__, imaplib.IMAP4.error)
    assert SECRET.encode() not in copy.__cause__.args[0]
    assert copy.__traceback__ is None and copy.__cause__.__traceback__ is None
    # The original is untouched (the result's error detail is built from it, then masked).
    assert SECRET.upper() in original.text and original.__traceback__ is not None
