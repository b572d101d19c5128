"""OAuth 2.0 logins: the exact SASL bytes (RFC 7628 OAUTHBEARER, Google/Microsoft
XOAUTH2) and the decoding of a server's JSON error challenge, against scripted servers."""

from __future__ import annotations

import base64
import json
import ssl
from collections.abc import Iterator
from typing import Callable

import pytest

import mailprobe
from mailprobe import ErrorCategory, InboxSettings, Security, ServerSettings, SettingsError, Stage

from .dummyserver import Peer, ScriptServer, imap_session, smtp_session

TOKEN = "ya29.a0-Example-Access-Token"
USER = "alice@example.com"
ERROR = {"status": "401", "schemes": "bearer", "scope": "https://mail.google.com/"}


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def imap_oauth(mechanism: str, received: list[bytes], fail: bool) -> Callable[[Peer], None]:
    def authenticate(peer: Peer, tag: bytes) -> bool:
        peer.send(b"+ \r\n")
        line = peer.readline()
        assert line is not None
        received.append(base64.b64decode(line))
        if not fail:
            peer.send(tag + b" OK [CAPABILITY IMAP4rev1] Logged in\r\n")
            return True
        peer.send(b"+ " + _b64(json.dumps(ERROR).encode()) + b"\r\n")
        ack = peer.readline()
        assert ack is not None
        received.append(base64.b64decode(ack))
        peer.send(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n")
        return True

    def examine(peer: Peer, tag: bytes) -> bool:
        peer.send(b"* 0 EXISTS\r\n" + tag + b" OK [READ-ONLY] done\r\n")
        return True

    def listing(peer: Peer, tag: bytes) -> bool:
        peer.send(b'* LIST (\\HasNoChildren) "/" INBOX\r\n' + tag + b" OK done\r\n")
        return True

    caps = f"IMAP4rev1 AUTH={mechanism}"
    return lambda peer: imap_session(
        peer,
        capabilities=caps,
        on={"AUTHENTICATE": authenticate, "EXAMINE": examine, "LIST": listing},
    )


def smtp_oauth(mechanism: str, received: list[bytes], fail: bool) -> Callable[[Peer], None]:
    def auth(peer: Peer, line: bytes) -> bool:
        received.append(base64.b64decode(line.split(b" ")[2]))
        if not fail:
            peer.send(b"235 2.7.0 Accepted\r\n")
            return True
        peer.send(b"334 " + _b64(json.dumps(ERROR).encode()) + b"\r\n")
        ack = peer.readline()
        assert ack is not None
        received.append(base64.b64decode(ack))
        peer.send(b"535-5.7.8 Username and Password not accepted.\r\n535 5.7.8 Learn more\r\n")
        return True

    return lambda peer: smtp_session(
        peer, extensions=(f"AUTH PLAIN LOGIN {mechanism}",), on={"AUTH": auth}
    )


@pytest.fixture
def servers(tls: tuple[ssl.SSLContext, str]) -> Iterator[Callable[..., ScriptServer]]:
    started: list[ScriptServer] = []

    def start(script: Callable[[Peer], None]) -> ScriptServer:
        server = ScriptServer(script, tls_context=tls[0], implicit_tls=True)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def _settings(imap: ScriptServer, smtp: ScriptServer) -> InboxSettings:
    return InboxSettings(
        email=USER,
        oauth2_token=TOKEN,
        imap=ServerSettings(host="127.0.0.1", port=imap.port, security=Security.TLS),
        smtp=ServerSettings(host="127.0.0.1", port=smtp.port, security=Security.TLS),
    )


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_oauth_login_sends_the_exact_sasl_bytes(
    servers: Callable[..., ScriptServer], tls: tuple[ssl.SSLContext, str], mechanism: str
) -> None:
    imap_seen: list[bytes] = []
    smtp_seen: list[bytes] = []
    imap = servers(imap_oauth(mechanism, imap_seen, fail=False))
    smtp = servers(smtp_oauth(mechanism, smtp_seen, fail=False))
    result = mailprobe.probe(_settings(imap, smtp), ca_file=tls[1], timeout=5, transcript=True)
    assert result.ok, result.to_dict()
    assert result.stage(Stage.IMAP_LOGIN).details["method"] == f"AUTHENTICATE {mechanism}"
    assert result.stage(Stage.SMTP_LOGIN).details["method"] == f"AUTH {mechanism}"
    if mechanism == "XOAUTH2":
        expected = f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01".encode()
        assert imap_seen == [expected] and smtp_seen == [expected]
    else:  # RFC 7628 section 3.1: gs2-header, host, port, auth
        for seen, port in ((imap_seen, imap.port), (smtp_seen, smtp.port)):
            assert seen == [
                f"n,a={USER},\x01host=127.0.0.1\x01port={port}\x01"
                f"auth=Bearer {TOKEN}\x01\x01".encode()
            ]
    dumped = json.dumps(result.to_dict())
    assert TOKEN not in dumped and TOKEN not in repr(result)


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_the_error_challenge_is_decoded_into_the_diagnosis(
    servers: Callable[..., ScriptServer], tls: tuple[ssl.SSLContext, str], mechanism: str
) -> None:
    imap_seen: list[bytes] = []
    smtp_seen: list[bytes] = []
    imap = servers(imap_oauth(mechanism, imap_seen, fail=True))
    smtp = servers(smtp_oauth(mechanism, smtp_seen, fail=True))
    result = mailprobe.probe(_settings(imap, smtp), ca_file=tls[1], timeout=5)
    # After the challenge the client acknowledges: %x01 for OAUTHBEARER (RFC 7628
    # 3.2.3), an empty response for XOAUTH2.
    ack = b"\x01" if mechanism == "OAUTHBEARER" else b""
    assert imap_seen[1:] == [ack] and smtp_seen[1:] == [ack]
    for stage, category in (
        (Stage.IMAP_LOGIN, ErrorCategory.IMAP_AUTHENTICATION_ERROR),
        (Stage.SMTP_LOGIN, ErrorCategory.UNAUTHORIZED),
    ):
        stage_result = result.stage(stage)
        assert stage_result.error is not None
        assert json.loads(stage_result.error.challenge or "") == ERROR
        diagnosis = stage_result.diagnosis
        assert diagnosis is not None
        assert (diagnosis.category, diagnosis.cause) == (category, "oauth_token_invalid")
        assert any("allow the app access to your mail" in hint for hint in diagnosis.hints)
    assert TOKEN not in json.dumps(result.to_dict())


def test_a_server_without_oauth_gets_no_token(
    servers: Callable[..., ScriptServer], tls: tuple[ssl.SSLContext, str]
) -> None:
    imap = servers(lambda peer: imap_session(peer, capabilities="IMAP4rev1 AUTH=PLAIN"))
    smtp = servers(lambda peer: smtp_session(peer, extensions=("AUTH PLAIN LOGIN",)))
    result = mailprobe.probe(_settings(imap, smtp), ca_file=tls[1], timeout=5)
    for stage in (Stage.IMAP_LOGIN, Stage.SMTP_LOGIN):
        diagnosis = result.stage(stage).diagnosis
        assert diagnosis is not None and diagnosis.cause == "auth_mechanism_unsupported"
    assert TOKEN.encode() not in imap.received + smtp.received


def test_settings_need_a_password_or_a_token_and_hide_both() -> None:
    server = ServerSettings(host="imap.example.com", port=993)
    with pytest.raises(SettingsError) as info:
        InboxSettings(email=USER, imap=server, smtp=server)
    assert info.value.field == "password"
    settings = InboxSettings(email=USER, oauth2_token=TOKEN, imap=server, smtp=server)
    assert TOKEN not in repr(settings)
    assert settings.uses_oauth2(server)
    assert settings.login_for(server) == (USER, TOKEN)
    with_password = ServerSettings(host="smtp.example.com", port=587, password="relay-pw")
    assert not settings.uses_oauth2(with_password)
