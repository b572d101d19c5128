"""Advice classes from the tenth hint review: the evidence the probe has decides."""

from __future__ import annotations

import mailprobe
from mailprobe import ErrorCategory as C
from mailprobe import ReplyError, Security, Stage, TLSError

from .conftest import scripted_settings
from .test_modes import OneModePort
from .test_rules import I_CONNECT, I_LOGIN, Row, diagnosis_of


def test_microsoft_server_unavailable_at_a_password_sign_in_is_the_retired_sign_in() -> None:
    row = Row(
        I_LOGIN,
        ReplyError.imap("NO", "Server Unavailable. 15", command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "basic_auth_disabled",
        host="outlook.office365.com",
    )
    diagnosis = diagnosis_of(row, email="alice@contoso.example")
    assert diagnosis.cause == "basic_auth_disabled"
    assert diagnosis.temporary is False
    assert "Sign in with Microsoft" in diagnosis.hints[0]
    assert not any("Try again" in h for h in diagnosis.hints)
    # Elsewhere the same words are a server that is down for now.
    elsewhere = diagnosis_of(row._replace(host="imap.example.net"), email="alice@example.net")
    assert elsewhere.cause == "server_unavailable" and elsewhere.temporary


def test_a_port_of_the_other_protocol_is_named_instead_of_a_mode_change() -> None:
    # IMAP typed on 587 with TLS: the handshake meets the SMTP server's plain greeting.
    row = Row(
        I_CONNECT,
        TLSError("WRONG_VERSION_NUMBER", reason="wrong_version"),
        C.IMAP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
        port=587,
        security=Security.TLS,
    )
    diagnosis = diagnosis_of(row)
    assert diagnosis.summary.startswith("Port 587 is a port for SMTP, not for IMAP")
    assert diagnosis.hints[0].startswith("Change the IMAP port to 993")
    assert not any("keep port 587" in h for h in diagnosis.hints)
    # On an IMAP port the same handshake still means "choose STARTTLS".
    usual = diagnosis_of(row._replace(port=143))
    assert usual.hints[0] == "Choose STARTTLS as the security setting and keep port 143."


def test_a_port_of_the_other_protocol_wins_over_a_mode_that_answered() -> None:
    settings = scripted_settings(
        imap=mailprobe.ServerSettings(host="mail.mydomain.com", port=587, security=Security.TLS)
    )
    result = mailprobe.probe(settings, transport=OneModePort(Security.STARTTLS), timeout=4)
    diagnosis = result.stage(Stage.IMAP_CONNECT).diagnosis
    assert diagnosis is not None and diagnosis.cause == "tls_mode_mismatch"
    assert "port for SMTP" in diagnosis.summary
    assert not any("keep port 587" in h for h in diagnosis.hints)
