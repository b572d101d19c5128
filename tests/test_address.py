"""Addresses and host names are validated strictly at the boundary (issue 11 class 4,
issue 12 defect 3): RFC 5321 mailboxes, IDNA 2008 host names, SMTPUTF8 when needed."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mailprobe
from mailprobe import Security, SettingsError, Stage, StageStatus
from mailprobe._address import check_address, envelope_address, normalize_host, parse_mailbox
from mailprobe._message import build_test_message

from .conftest import scripted_settings
from .dummyserver import ScriptServer, smtp_mailbox


@pytest.mark.parametrize(
    "address",
    [
        "=?utf-8?q?evil=0D=0ABcc=3A_x=40y.example?=@example.com",  # encoded word
        "=?utf-8?b?PGV2aWw+?=@example.com",
        "alice(comment)@example.com",
        "alice@(comment)example.com",
        '"alice"@example.com',
        '"a\\"b"@example.com',
        '"alice@evil.example"@example.com',
        "alice@example.com>",
        "<alice@example.com>",
        "Alice <alice@example.com>",
        "alice@example.com, bob@example.com",
        "alice;bob@example.com",
        "alice\x07@example.com",
        "alice\x7f@example.com",
        "alice\u200b@example.com",  # zero-width space (format character)
        "alice\u202e@example.com",  # right-to-left override
        "ali ce@example.com",
        "alice\t@example.com",
        ".alice@example.com",
        "alice.@example.com",
        "al..ice@example.com",
        "alice@",
        "@example.com",
        "alice",
        "alice@exa mple.com",
        "alice@example..com",
        "alice@-example.com",
        "alice@192.0.2.1",  # an IP address needs brackets
        "alice@[not-an-ip]",
        "a" * 65 + "@example.com",
        "alice@" + "a" * 250 + ".com",
    ],
)
def test_dangerous_or_invalid_addresses_are_refused(address: str) -> None:
    with pytest.raises(SettingsError) as info:
        check_address("email", address)
    assert info.value.field == "email"
    with pytest.raises(SettingsError):
        scripted_settings(email=address)


@pytest.mark.parametrize(
    ("address", "envelope"),
    [
        ("alice@example.com", "alice@example.com"),
        ("o'brien+tag@example.com", "o'brien+tag@example.com"),
        ("a=b?c@example.com", "a=b?c@example.com"),
        ("jörg@straße.de", "jörg@xn--strae-oqa.de"),
        ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
        ("alice@[192.0.2.1]", "alice@[192.0.2.1]"),
        ("alice@[IPv6:2001:db8::1]", "alice@[IPv6:2001:db8::1]"),
        ("alice@Example.COM.", "alice@example.com"),
    ],
)
def test_valid_addresses_and_their_envelope(address: str, envelope: str) -> None:
    assert check_address("email", address) == address
    assert envelope_address(address) == envelope


@pytest.mark.parametrize(
    ("host", "ascii"),
    [
        ("mail.straße.de", "mail.xn--strae-oqa.de"),  # IDNA 2003 would say mail.strasse.de
        ("MAIL.Example.com", "mail.example.com"),
        ("ÉCOLE.example", "xn--cole-9oa.example"),  # UTS-46 maps case first
        ("faß.de", "xn--fa-hia.de"),
        ("[::1]", "::1"),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_host_names_use_idna_2008(host: str, ascii: str) -> None:
    assert normalize_host("host", host) == ascii
    assert mailprobe.ServerSettings(host=host, port=993).host == ascii


@pytest.mark.parametrize("host", ["exa mple.com", "a..b", "xn--zz.example", "\u200b.example"])
def test_bad_host_names_are_refused(host: str) -> None:
    with pytest.raises(SettingsError):
        normalize_host("host", host)


def _headers(message: bytes) -> list[bytes]:
    return message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


_ATOM = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0, max_codepoint=0x2FFF),
    min_size=1,
    max_size=20,
)


@settings(max_examples=400, deadline=None)
@given(local=_ATOM, domain=st.sampled_from(["example.com", "straße.de", "[192.0.2.1]"]))
def test_whatever_is_accepted_builds_one_clean_header_and_envelope(local: str, domain: str) -> None:
    address = f"{local}@{domain}"
    try:
        mailbox = parse_mailbox("email", address)
    except SettingsError:
        return
    assert not any(ch in mailbox.envelope for ch in '<>\r\n\0 ,;()"\\')
    message, _message_id = build_test_message(address)
    headers = _headers(message)
    from_lines = [h for h in headers if h.lower().startswith(b"from:")]
    assert len(from_lines) == 1
    parsed = email.message_from_string(message.decode("utf-8"), policy=email.policy.SMTPUTF8)
    (sender,) = parsed["From"].addresses
    assert (sender.username, sender.domain) == (mailbox.local, mailbox.ascii_domain)
    # RFC 6532 allows UTF-8 local parts; the email package notes them, nothing else.
    defects = [d for d in parsed["From"].defects if "non-ASCII" not in str(d)]
    assert not defects
    assert parsed["Bcc"] is None and parsed["Cc"] is None


# -- SMTPUTF8 on the wire ------------------------------------------------------------
@pytest.fixture
def smtp_server() -> Iterator[Callable[..., ScriptServer]]:
    servers: list[ScriptServer] = []

    def start(extensions: tuple[str, ...]) -> ScriptServer:
        server = ScriptServer(lambda peer: smtp_mailbox(peer, extensions=extensions))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _probe(server: ScriptServer, email_address: str) -> mailprobe.ProbeResult:
    settings_ = scripted_settings(
        email=email_address,
        imap=mailprobe.ServerSettings(host="127.0.0.1", port=1, security=Security.NONE),
        smtp=mailprobe.ServerSettings(host="127.0.0.1", port=server.port, security=Security.NONE),
    )
    return mailprobe.probe(settings_, timeout=5, test_recipient="bcc@例子.广告")


def test_a_utf8_local_part_requests_smtputf8_when_offered(
    smtp_server: Callable[..., ScriptServer],
) -> None:
    server = smtp_server(("PIPELINING", "SMTPUTF8", "8BITMIME", "AUTH PLAIN"))
    result = _probe(server, "jörg@straße.de")
    assert result.stage(Stage.TEST_EMAIL).status is StageStatus.PASSED, result.to_dict()
    received = server.received
    assert "MAIL FROM:<jörg@xn--strae-oqa.de> SMTPUTF8".encode() in received
    assert b"RCPT TO:<bcc@xn--fsqu00a.xn--4rr70v>\r\n" in received
    assert "From: jörg@xn--strae-oqa.de\r\n".encode() in received


def test_a_utf8_local_part_without_smtputf8_is_a_clear_capability_error(
    smtp_server: Callable[..., ScriptServer],
) -> None:
    server = smtp_server(("PIPELINING", "AUTH PLAIN"))
    result = _probe(server, "jörg@straße.de")
    sent = result.stage(Stage.TEST_EMAIL)
    assert sent.status is StageStatus.FAILED
    assert sent.error is not None and sent.error.type == "CapabilityError"
    assert "SMTPUTF8" in sent.error.message
    assert b"MAIL FROM" not in server.received


def test_an_ascii_local_part_with_an_idn_domain_needs_no_smtputf8(
    smtp_server: Callable[..., ScriptServer],
) -> None:
    server = smtp_server(("AUTH PLAIN",))  # no PIPELINING: one command at a time
    result = _probe(server, "joerg@straße.de")
    assert result.stage(Stage.TEST_EMAIL).status is StageStatus.PASSED, result.to_dict()
    assert b"MAIL FROM:<joerg@xn--strae-oqa.de>\r\n" in server.received


def test_the_envelope_is_refused_before_the_wire_when_a_caller_bypasses_settings() -> None:
    from mailprobe._address import parse_mailbox as parse

    for bad in ("a>b@example.com", "a@example.com> NOTIFY=NEVER", "a@b\r\nRSET"):
        with pytest.raises(SettingsError):
            parse("recipient", bad)
