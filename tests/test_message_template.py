"""The test email from its template is byte for byte what the email package writes."""

from __future__ import annotations

import email.utils

from hypothesis import given, settings
from hypothesis import strategies as st

from mailprobe._address import parse_mailbox
from mailprobe._errors import SettingsError
from mailprobe._message import _compose, _render, build_test_message

_LOCAL = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64
)
_DOMAIN = st.sampled_from(
    ["example.com", "straße.de", "[192.0.2.1]", "[IPv6:2001:db8::1]", "a" * 60 + ".example"]
)


@settings(max_examples=500, deadline=None)
@given(local=_LOCAL, domain=_DOMAIN)
def test_the_template_writes_what_the_email_package_writes(local: str, domain: str) -> None:
    try:
        mailbox = parse_mailbox("email", f"{local}@{domain}")
    except SettingsError:
        return
    date = email.utils.formatdate(localtime=False)
    message_id = email.utils.make_msgid(idstring="mailprobe", domain=mailbox.ascii_domain)
    rendered = _render(mailbox, date, message_id)
    if rendered is not None:  # else the email package writes it, as before
        assert rendered == _compose(mailbox, date, message_id)


def test_common_addresses_take_the_template() -> None:
    for address in ("alice@example.com", "a.b+tag@mail.example.org", "x@[192.0.2.1]"):
        mailbox = parse_mailbox("email", address)
        assert _render(mailbox, "Mon, 01 Jan 2024 00:00:00 -0000", "<1.2@x>") is not None
    message, message_id = build_test_message("alice@example.com")
    assert f"Message-ID: {message_id}\r\n".encode() in message
    assert message.endswith(b"No action is needed.\r\n")
