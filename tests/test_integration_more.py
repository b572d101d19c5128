"""Probes against real Exim 4 (SMTP submission) and Cyrus IMAP 3 on 127.0.0.1.

The same scenarios as tests/test_integration.py runs against Dovecot and Postfix.
A probe has both legs: tests about Cyrus send their SMTP leg to Exim's STARTTLS port
and tests about Exim send their IMAP leg to Cyrus's implicit-TLS port, both with
correct settings, and each test asserts the stages of the server it is about.
"""

from __future__ import annotations

import gc
import os
from typing import Any

import pytest

import mailprobe
from mailprobe import ErrorCategory, Security, Stage, StageStatus

from .conftest import inbox, stage_causes
from .servers_cyrus import CyrusServer
from .servers_exim import EximServer

pytestmark = pytest.mark.integration
TLS, STARTTLS, NONE = Security.TLS, Security.STARTTLS, Security.NONE
RECIPIENT = "bcc@app.example"
IMAP_STAGES = (Stage.IMAP_CONNECT, Stage.IMAP_LOGIN, Stage.IMAP_VALIDATE)
IMAP_SETTINGS = ErrorCategory.IMAP_SETTINGS_INCORRECT
SMTP_SETTINGS = ErrorCategory.SMTP_SETTINGS_INCORRECT


@pytest.fixture
def pair(exim: EximServer, cyrus: CyrusServer) -> tuple[EximServer, CyrusServer]:
    return exim, cyrus


def probe(
    pair: tuple[EximServer, CyrusServer],
    account: str = "alice",
    *,
    imap: tuple[int, Security] | None = None,
    smtp: tuple[int, Security] | None = None,
    options: dict[str, Any] | None = None,
    **overrides: Any,
) -> mailprobe.ProbeResult:
    """Probe with correct settings on both legs unless ``imap``/``smtp`` say otherwise."""
    exim, cyrus = pair
    imap_port, imap_security = imap or (cyrus.imaps_port, TLS)
    smtp_port, smtp_security = smtp or (exim.smtp_port, STARTTLS)
    settings = inbox(
        account,
        imap_port=imap_port,
        imap_security=imap_security,
        smtp_port=smtp_port,
        smtp_security=smtp_security,
        **overrides,
    )
    opts: dict[str, Any] = {"ca_file": str(cyrus.ca_file), "timeout": 15.0}
    opts["test_recipient"] = RECIPIENT
    opts.update(options or {})
    return mailprobe.probe(settings, **opts)


def assert_passed(result: mailprobe.ProbeResult, stages: tuple[Stage, ...]) -> None:
    for stage in stages:
        assert result.stage(stage).status is StageStatus.PASSED, result.to_dict()


def diagnosis_of(result: mailprobe.ProbeResult, stage: Stage) -> mailprobe.Diagnosis:
    diagnosis = result.stage(stage).diagnosis
    assert diagnosis is not None, result.to_dict()
    return diagnosis


# -- correct settings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "security"),
    [("netnews", TLS), ("netnews", STARTTLS), ("unix", TLS), ("unix", STARTTLS)],
)
def test_cyrus_correct_settings_pass_in_both_namespaces(
    pair: tuple[EximServer, CyrusServer], namespace: str, security: Security
) -> None:
    _, cyrus = pair
    ports = {
        ("netnews", TLS): cyrus.imaps_port,
        ("netnews", STARTTLS): cyrus.imap_port,
        ("unix", TLS): cyrus.unix_imaps_port,
        ("unix", STARTTLS): cyrus.unix_imap_port,
    }
    result = probe(pair, imap=(ports[namespace, security], security))

    assert result.ok, result.to_dict()
    connect = result.stage(Stage.IMAP_CONNECT).details
    assert "Cyrus IMAP 3." in connect["greeting"]
    assert connect["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert connect["certificate_trusted"] is True
    assert result.stage(Stage.IMAP_LOGIN).details["method"] == "LOGIN"
    validate = result.stage(Stage.IMAP_VALIDATE).details
    # Cyrus 2 / Debian layout: everything under INBOX, "." between levels. Cyrus 3's
    # defaults: folders beside INBOX, "/" between levels. Both mark Sent \Sent.
    sent = "INBOX.Sent" if namespace == "netnews" else "Sent"
    assert validate["sent_folder"] == sent
    assert {"INBOX", sent} <= set(validate["folders"])


@pytest.mark.parametrize("security", [STARTTLS, TLS])
def test_exim_correct_settings_send_the_test_email(
    pair: tuple[EximServer, CyrusServer], security: Security
) -> None:
    exim, _ = pair
    port = exim.smtp_port if security is STARTTLS else exim.smtps_port
    result = probe(pair, smtp=(port, security), options={"test_recipient": "alice@example.test"})

    assert result.ok, result.to_dict()
    connect = result.stage(Stage.SMTP_CONNECT).details
    assert "Exim 4." in connect["greeting"]
    assert connect["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert connect["certificate_trusted"] is True
    assert {"PLAIN", "LOGIN"} <= set(connect["auth_mechanisms"])  # offered once TLS is up
    email = result.stage(Stage.TEST_EMAIL).details
    assert email["server_reply"].startswith("250")
    # Exim delivered it into alice's maildir: the whole message went through.
    assert exim.wait_for_message("alice", email["message_id"], timeout=10)


# -- credentials ------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [{"password": "not-the-password"}, {"email": "nobody@example.test"}],
    ids=["wrong_password", "unknown_user"],
)
def test_bad_credentials_are_invalid_credentials_on_both(
    pair: tuple[EximServer, CyrusServer], overrides: dict[str, str]
) -> None:
    result = probe(pair, **overrides)

    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.IMAP_AUTHENTICATION_ERROR
    assert result.diagnosis.cause == "invalid_credentials"
    imap_error = result.stage(Stage.IMAP_LOGIN).error
    assert imap_error is not None and imap_error.command == "LOGIN"
    assert imap_error.server_text == "Login failed: authentication failure"  # Cyrus's words
    smtp = diagnosis_of(result, Stage.SMTP_LOGIN)
    assert smtp.category is ErrorCategory.UNAUTHORIZED
    assert smtp.cause == "invalid_credentials"
    smtp_error = result.stage(Stage.SMTP_LOGIN).error
    assert smtp_error is not None and smtp_error.code == 535
    assert smtp_error.server_text == "Incorrect authentication data"  # Exim's words
    causes = stage_causes(result)
    assert causes["imap_validate"] == causes["test_email"] == "skipped"


@pytest.mark.parametrize("account", ["carol", "dave", "bob"])
def test_hard_credentials_log_in_on_both(
    pair: tuple[EximServer, CyrusServer], account: str
) -> None:
    # carol: a UTF-8 password (AUTHENTICATE PLAIN / AUTH PLAIN, RFC 4616); dave: a
    # quote and a backslash; bob: a login name that is not his address.
    result = probe(pair, account)

    assert result.ok, result.to_dict()
    method = result.stage(Stage.IMAP_LOGIN).details["method"]
    assert method == ("AUTHENTICATE PLAIN" if account == "carol" else "LOGIN")
    assert "PLAIN" in result.stage(Stage.SMTP_LOGIN).details["method"]


# -- security mode ----------------------------------------------------------------


def test_tls_on_the_starttls_ports_is_a_mode_mismatch(
    pair: tuple[EximServer, CyrusServer],
) -> None:
    exim, cyrus = pair
    result = probe(pair, imap=(cyrus.imap_port, TLS), smtp=(exim.smtp_port, TLS))

    imap = diagnosis_of(result, Stage.IMAP_CONNECT)
    assert (imap.category, imap.cause) == (IMAP_SETTINGS, "tls_mode_mismatch")
    smtp = diagnosis_of(result, Stage.SMTP_CONNECT)
    assert (smtp.category, smtp.cause) == (SMTP_SETTINGS, "tls_mode_mismatch")


def test_starttls_on_cyrus_implicit_tls_port_is_a_mode_mismatch(
    pair: tuple[EximServer, CyrusServer],
) -> None:
    _, cyrus = pair
    result = probe(pair, imap=(cyrus.imaps_port, STARTTLS), options={"timeout": 4.0})

    imap = diagnosis_of(result, Stage.IMAP_CONNECT)
    assert (imap.category, imap.cause) == (IMAP_SETTINGS, "tls_mode_mismatch")


def test_starttls_on_exim_implicit_tls_port_is_a_mode_mismatch(
    pair: tuple[EximServer, CyrusServer],
) -> None:
    exim, _ = pair
    result = probe(pair, smtp=(exim.smtps_port, STARTTLS), options={"timeout": 4.0})

    smtp = diagnosis_of(result, Stage.SMTP_CONNECT)
    assert (smtp.category, smtp.cause) == (SMTP_SETTINGS, "tls_mode_mismatch")


def test_plaintext_login_is_refused_without_tls(pair: tuple[EximServer, CyrusServer]) -> None:
    # Cyrus (allowplaintext: no) lists LOGINDISABLED and no AUTH= before STARTTLS;
    # Exim advertises AUTH only once TLS is up. The password never leaves.
    exim, cyrus = pair
    result = probe(pair, imap=(cyrus.imap_port, NONE), smtp=(exim.smtp_port, NONE))

    assert result.stage(Stage.IMAP_CONNECT).status is StageStatus.PASSED
    assert result.stage(Stage.SMTP_CONNECT).status is StageStatus.PASSED
    capabilities = result.stage(Stage.IMAP_CONNECT).details["capabilities"]
    assert "LOGINDISABLED" in capabilities
    assert not any(c.startswith("AUTH=") for c in capabilities)
    assert result.stage(Stage.SMTP_CONNECT).details["auth_mechanisms"] == ()
    causes = stage_causes(result)
    assert causes["imap_login"] == "plaintext_auth_disabled"
    assert causes["smtp_login"] == "plaintext_auth_disabled"


def test_plaintext_refused_is_a_settings_error(pair: tuple[EximServer, CyrusServer]) -> None:
    exim, cyrus = pair
    result = probe(pair, imap=(cyrus.imap_port, NONE), smtp=(exim.smtp_port, NONE))

    imap = diagnosis_of(result, Stage.IMAP_LOGIN)
    assert imap.category is ErrorCategory.IMAP_SETTINGS_INCORRECT
    smtp = diagnosis_of(result, Stage.SMTP_LOGIN)
    assert smtp.category is ErrorCategory.SMTP_SETTINGS_INCORRECT
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.IMAP_SETTINGS_INCORRECT


# -- certificates -----------------------------------------------------------------


def test_self_signed_certificate_fails_and_can_be_allowed(
    pair: tuple[EximServer, CyrusServer],
) -> None:
    exim, cyrus = pair
    ports = {"imap": (cyrus.self_signed_port, TLS), "smtp": (exim.self_signed_port, TLS)}
    refused = probe(pair, **ports)  # type: ignore[arg-type]

    for stage in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT):
        diagnosis = diagnosis_of(refused, stage)
        assert diagnosis.category is ErrorCategory.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED
        assert diagnosis.cause == "cert_self_signed"
    assert stage_causes(refused)["imap_login"] == "skipped"

    allowed = probe(pair, allow_untrusted_certificate=True, **ports)  # type: ignore[arg-type]
    assert allowed.ok, allowed.to_dict()
    for stage in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT):
        details = allowed.stage(stage).details
        assert details["certificate_trusted"] is False
        assert details["certificate_problem"] == "self_signed"
        assert details["certificate"]["self_signed"] is True
        assert "127.0.0.1" in details["certificate"]["subject_alt_names"]


def test_a_certificate_trusted_on_imap_points_the_smtp_fix_at_that_service(
    pair: tuple[EximServer, CyrusServer],
) -> None:
    # Cyrus on 127.0.0.1 presents the trusted certificate; Exim's port a self-signed one.
    exim, cyrus = pair
    result = probe(pair, smtp=(exim.self_signed_port, TLS))

    assert result.stage(Stage.IMAP_CONNECT).status is StageStatus.PASSED
    smtp = diagnosis_of(result, Stage.SMTP_CONNECT)
    assert smtp.cause == "cert_self_signed"
    assert smtp.hints[0] == (
        "The IMAP service on 127.0.0.1 already presents a certificate the app trusts: ask"
        " the server's administrator to use that certificate (or one like it) for SMTP on"
        f" port {exim.self_signed_port} as well."
    )
    assert not any("recognised certificate authority" in hint for hint in smtp.hints)
    assert "made for itself" in smtp.summary
    # Without that evidence (both self-signed), the generic fix stays.
    both = probe(pair, imap=(cyrus.self_signed_port, TLS), smtp=(exim.self_signed_port, TLS))
    assert not any("IMAP service" in hint for hint in diagnosis_of(both, Stage.SMTP_CONNECT).hints)


def test_unknown_ca_fails_on_both(pair: tuple[EximServer, CyrusServer]) -> None:
    result = probe(pair, options={"ca_file": None})
    for stage in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT):
        assert diagnosis_of(result, stage).cause == "cert_unknown_ca"


# -- the test email ---------------------------------------------------------------


def test_exim_refuses_a_sender_the_login_does_not_own(
    pair: tuple[EximServer, CyrusServer],
) -> None:
    # bob may not send as alice: Exim's MAIL ACL refuses, in cPanel's words.
    result = probe(pair, "bob", email="alice@example.test")

    assert_passed(result, IMAP_STAGES[:2])
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.TEST_EMAIL_FAILED
    assert result.diagnosis.cause == "sender_not_allowed"
    error = result.stage(Stage.TEST_EMAIL).error
    assert error is not None and error.code == 550 and error.command == "MAIL"
    # A multi-line reply: its lines joined with "\n".
    assert "must match your authenticated email user ( bob )" in " ".join(
        (error.server_text or "").split()
    )


def test_exim_sender_refusal_is_reported_at_mail(pair: tuple[EximServer, CyrusServer]) -> None:
    # What holds today for the same refusal, whatever the cause's name.
    result = probe(pair, "bob", email="alice@example.test")

    assert_passed(result, (*IMAP_STAGES, Stage.SMTP_CONNECT, Stage.SMTP_LOGIN))
    error = result.stage(Stage.TEST_EMAIL).error
    assert error is not None and (error.code, error.command) == (550, "MAIL")
    assert diagnosis_of(result, Stage.TEST_EMAIL).category is ErrorCategory.TEST_EMAIL_FAILED


def test_exim_refuses_an_unknown_local_recipient(pair: tuple[EximServer, CyrusServer]) -> None:
    result = probe(pair, options={"test_recipient": "nobody@example.test"})

    assert_passed(result, (*IMAP_STAGES, Stage.SMTP_CONNECT, Stage.SMTP_LOGIN))
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.TEST_EMAIL_FAILED
    assert result.diagnosis.cause == "recipient_rejected"
    error = result.stage(Stage.TEST_EMAIL).error
    assert error is not None and (error.code, error.command) == (550, "RCPT")
    assert error.server_text == "Unrouteable address"


# -- resources --------------------------------------------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_no_socket_is_left_open(pair: tuple[EximServer, CyrusServer]) -> None:
    exim, cyrus = pair
    scenarios: list[dict[str, Any]] = [
        {},
        {"imap": (cyrus.unix_imap_port, STARTTLS), "smtp": (exim.smtps_port, TLS)},
        {"password": "wrong-one"},
        {"imap": (cyrus.imap_port, TLS), "smtp": (exim.smtp_port, TLS)},
        {"imap": (cyrus.imap_port, NONE), "smtp": (exim.smtp_port, NONE)},
        {"imap": (cyrus.self_signed_port, TLS), "smtp": (exim.self_signed_port, TLS)},
        {"email": "alice@example.test", "account": "bob"},
    ]
    probe(pair)  # warm up lazily created state (TLS contexts, imports)
    gc.collect()
    before = _open_fds()
    for scenario in scenarios:
        account = scenario.pop("account", "alice")
        probe(pair, account, **scenario)
        probe(pair, account, options={"ca_file": None}, **scenario)
    gc.collect()
    assert _open_fds() == before
