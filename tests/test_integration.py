"""Probes against real Dovecot (IMAP) and Postfix (SMTP, SASL through Dovecot) on 127.0.0.1."""

from __future__ import annotations

import gc
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import attrs
import pytest

import mailprobe
from mailprobe import ErrorCategory, Security, Stage, StageStatus

from .conftest import inbox, stage_causes
from .mailservers import MailServers, free_port

pytestmark = pytest.mark.integration
TLS, STARTTLS, NONE = Security.TLS, Security.STARTTLS, Security.NONE
RECIPIENT = "bcc@app.example"


def run(servers: MailServers, settings: mailprobe.InboxSettings, **options: object):
    options.setdefault("ca_file", str(servers.ca_file))
    options.setdefault("timeout", 15.0)
    options.setdefault("test_recipient", RECIPIENT)
    return mailprobe.probe(settings, **options)  # type: ignore[arg-type]


def test_passing_probe_sends_the_test_email(servers: MailServers) -> None:
    settings = inbox(
        imap_port=servers.imaps_port,
        imap_security=TLS,
        smtp_port=servers.smtp_port,
        smtp_security=STARTTLS,
    )
    started = time.monotonic()
    result = run(servers, settings)
    elapsed = time.monotonic() - started

    assert result.ok, result.to_dict()
    assert result.diagnosis is None
    assert [s.status for s in result.stages] == [StageStatus.PASSED] * 6
    assert elapsed < 5
    connect = result.stage(Stage.IMAP_CONNECT).details
    assert "Dovecot" in connect["greeting"]
    assert connect["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert connect["certificate_trusted"] is True
    assert connect["peer_address"] == f"127.0.0.1:{servers.imaps_port}"
    assert "127.0.0.1" in connect["certificate"]["subject_alt_names"]
    validate = result.stage(Stage.IMAP_VALIDATE).details
    assert validate["imap_version"] == "IMAP4rev1"
    assert validate["sent_folder"] == "Sent"
    assert "INBOX" in validate["folders"]
    smtp = result.stage(Stage.SMTP_CONNECT).details
    assert "PLAIN" in smtp["auth_mechanisms"]  # offered only after STARTTLS
    email = result.stage(Stage.TEST_EMAIL).details
    assert email["message_id"].startswith("<") and email["message_id"].endswith(">")
    assert email["server_reply"].startswith("250")
    json.dumps(result.to_dict())  # JSON-safe


def test_test_email_is_delivered_with_its_message_id(servers: MailServers) -> None:
    # Send the test email to the inbox itself and find it in its maildir: proves the
    # message really went through Postfix and LMTP into Dovecot.
    settings = inbox(imap_port=servers.imaps_port, smtp_port=servers.smtps_port, smtp_security=TLS)
    result = run(servers, settings, test_recipient="alice@example.test")
    assert result.ok, result.to_dict()
    message_id = result.stage(Stage.TEST_EMAIL).details["message_id"]
    assert servers.wait_for_message("alice", message_id, timeout=10)


def test_wrong_password_is_an_authentication_error_on_both_legs(servers: MailServers) -> None:
    settings = inbox(
        imap_port=servers.imaps_port, smtp_port=servers.smtp_port, password="not-the-password"
    )
    result = run(servers, settings)

    assert not result.ok
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.IMAP_AUTHENTICATION_ERROR
    assert result.diagnosis.cause == "invalid_credentials"
    imap_error = result.stage(Stage.IMAP_LOGIN).error
    assert imap_error is not None and imap_error.response_code == "AUTHENTICATIONFAILED"
    smtp_login = result.stage(Stage.SMTP_LOGIN)
    assert smtp_login.diagnosis is not None
    assert smtp_login.diagnosis.category is ErrorCategory.UNAUTHORIZED
    assert smtp_login.error is not None and smtp_login.error.code == 535
    assert smtp_login.error.enhanced_status == "5.7.8"
    assert stage_causes(result)["imap_validate"] == "skipped"
    assert stage_causes(result)["test_email"] == "skipped"


@pytest.mark.parametrize("account", ["carol", "dave", "bob"])
def test_hard_credentials_log_in(servers: MailServers, account: str) -> None:
    # carol: non-ASCII password (AUTHENTICATE/AUTH PLAIN in UTF-8); dave: a quote
    # and a backslash; bob: a custom username that is not his address.
    settings = inbox(account, imap_port=servers.imaps_port, smtp_port=servers.smtp_port)
    result = run(servers, settings)
    assert result.ok, result.to_dict()
    method = result.stage(Stage.IMAP_LOGIN).details["method"]
    assert method == ("AUTHENTICATE PLAIN" if account == "carol" else "LOGIN")
    assert result.stage(Stage.SMTP_LOGIN).details["method"] == "AUTH PLAIN"
    if account == "bob":
        assert result.stage(Stage.IMAP_LOGIN).details["login"] == "bob"


def test_starttls_on_the_plain_imap_port_and_implicit_tls_smtp(servers: MailServers) -> None:
    settings = inbox(
        imap_port=servers.imap_port,
        imap_security=STARTTLS,
        smtp_port=servers.smtps_port,
        smtp_security=TLS,
    )
    result = run(servers, settings)
    assert result.ok, result.to_dict()
    assert result.stage(Stage.IMAP_CONNECT).details["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert "LOGINDISABLED" not in result.stage(Stage.IMAP_CONNECT).details["capabilities"]


def test_plaintext_login_is_refused_before_starttls(servers: MailServers) -> None:
    # Through the PROXY-protocol forwarder Dovecot sees a remote client and
    # advertises LOGINDISABLED; Postfix offers no AUTH before STARTTLS.
    settings = inbox(
        imap_port=servers.imap_remote_port,
        imap_security=NONE,
        smtp_port=servers.smtp_port,
        smtp_security=NONE,
    )
    result = run(servers, settings)

    assert result.stage(Stage.IMAP_CONNECT).status is StageStatus.PASSED
    assert "LOGINDISABLED" in result.stage(Stage.IMAP_CONNECT).details["capabilities"]
    causes = stage_causes(result)
    assert causes["imap_login"] == "plaintext_auth_disabled"
    assert causes["smtp_login"] == "plaintext_auth_disabled"
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.IMAP_SETTINGS_INCORRECT


def test_untrusted_certificate_fails_and_can_be_allowed(servers: MailServers) -> None:
    settings = inbox(imap_port=servers.imaps_port, smtp_port=servers.smtp_port)
    # Without the fixture CA the trustme certificate chains to an unknown authority.
    result = run(servers, settings, ca_file=None)
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED
    assert result.diagnosis.cause == "cert_unknown_ca"
    assert stage_causes(result)["smtp_connect"] == "cert_unknown_ca"

    allowed = run(
        servers,
        inbox(
            imap_port=servers.imaps_port,
            smtp_port=servers.smtp_port,
            allow_untrusted_certificate=True,
        ),
        ca_file=None,
    )
    assert allowed.ok, allowed.to_dict()
    for stage in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT):
        details = allowed.stage(stage).details
        assert details["certificate_trusted"] is False
        assert details["certificate_problem"] == "unknown_ca"
        assert details["certificate"]["sha256"]


def test_closed_port_is_a_settings_error(servers: MailServers) -> None:
    settings = inbox(imap_port=free_port(), smtp_port=free_port())
    result = run(servers, settings)
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.IMAP_SETTINGS_INCORRECT
    assert result.diagnosis.cause == "connection_refused"
    smtp = result.stage(Stage.SMTP_CONNECT).diagnosis
    assert smtp is not None and smtp.category is ErrorCategory.SMTP_SETTINGS_INCORRECT
    assert result.duration < 2


def test_tls_on_a_plain_port_is_a_mode_mismatch(servers: MailServers) -> None:
    settings = inbox(
        imap_port=servers.imap_port,
        imap_security=TLS,
        smtp_port=servers.smtp_port,
        smtp_security=TLS,
    )
    result = run(servers, settings)
    assert stage_causes(result)["imap_connect"] == "tls_mode_mismatch"
    assert stage_causes(result)["smtp_connect"] == "tls_mode_mismatch"


def test_sender_not_owned_by_the_login_fails_the_test_email(servers: MailServers) -> None:
    # Postfix reject_sender_login_mismatch: bob may not send as alice.
    settings = inbox(
        "bob", imap_port=servers.imaps_port, smtp_port=servers.smtp_port, email="alice@example.test"
    )
    result = run(servers, settings)
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.TEST_EMAIL_FAILED
    assert result.diagnosis.cause == "sender_not_allowed"
    error = result.stage(Stage.TEST_EMAIL).error
    assert error is not None and error.code == 553 and error.command == "RCPT"
    assert "not owned by user bob" in (error.server_text or "")
    # The IMAP leg is independent and still passed.
    assert result.stage(Stage.IMAP_VALIDATE).status is StageStatus.PASSED


def test_required_capability_missing_is_a_validation_error(servers: MailServers) -> None:
    settings = inbox(imap_port=servers.imaps_port, smtp_port=servers.smtp_port)
    result = run(servers, settings, required_capabilities=["IDLE", "X-NOT-A-THING"])
    assert result.diagnosis is not None
    assert result.diagnosis.category is ErrorCategory.IMAP_VALIDATION_ERROR
    assert result.diagnosis.cause == "missing_capability"
    assert result.stage(Stage.IMAP_VALIDATE).details["missing_capabilities"] == ("X-NOT-A-THING",)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_no_socket_is_left_open(servers: MailServers) -> None:
    scenarios = [
        inbox(imap_port=servers.imaps_port, smtp_port=servers.smtp_port),
        inbox(
            imap_port=servers.imap_port,
            imap_security=STARTTLS,
            smtp_port=servers.smtps_port,
            smtp_security=TLS,
        ),
        inbox(imap_port=servers.imaps_port, smtp_port=servers.smtp_port, password="wrong-one"),
        inbox(
            imap_port=servers.imap_port,
            imap_security=TLS,
            smtp_port=servers.smtp_port,
            smtp_security=TLS,
        ),
        inbox(imap_port=free_port(), smtp_port=free_port()),
        inbox(
            "bob",
            imap_port=servers.imaps_port,
            smtp_port=servers.smtp_port,
            email="alice@example.test",
        ),
    ]
    run(servers, scenarios[0])  # warm up lazily created state (TLS contexts, imports)
    gc.collect()
    before = _open_fds()
    for settings in scenarios:
        run(servers, settings)
        run(servers, settings, ca_file=None)  # certificate failures
        run(servers, attrs.evolve(settings, allow_untrusted_certificate=True), ca_file=None)
    gc.collect()
    assert _open_fds() == before


def test_fifty_parallel_probes_match_sequential_ones(servers: MailServers) -> None:
    scenarios = [
        inbox(imap_port=servers.imaps_port, smtp_port=servers.smtp_port),
        inbox(
            "bob",
            imap_port=servers.imap_port,
            imap_security=STARTTLS,
            smtp_port=servers.smtps_port,
            smtp_security=TLS,
        ),
        inbox("carol", imap_port=servers.imaps_port, smtp_port=servers.smtp_port),
        inbox(
            "dave", imap_port=servers.imaps_port, smtp_port=servers.smtps_port, smtp_security=TLS
        ),
        inbox(imap_port=servers.imaps_port, smtp_port=servers.smtp_port, password="wrong-pw"),
        inbox(
            "bob",
            imap_port=servers.imaps_port,
            smtp_port=servers.smtp_port,
            email="alice@example.test",
        ),
    ]
    one_by_one = [stage_causes(run(servers, s)) for s in scenarios]
    assert one_by_one[0] == dict.fromkeys(one_by_one[0], "passed")

    gc.collect()
    before = _open_fds()
    picks = [i % len(scenarios) for i in range(50)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda i: run(servers, scenarios[i], timeout=30), picks))
    for i, result in zip(picks, results):
        assert stage_causes(result) == one_by_one[i]
    gc.collect()
    assert _open_fds() == before


def test_round_trips_are_the_fewest_the_protocols_allow(servers: MailServers) -> None:
    settings = inbox(imap_port=servers.imaps_port, smtp_port=servers.smtp_port)
    result = run(servers, settings, transcript=True)
    assert result.ok, result.to_dict()
    trips = {s.stage.value: s.details["round_trips"] for s in result.stages}
    # TCP + TLS 1.3; the greeting's [CAPABILITY] spares a CAPABILITY command.
    assert trips["imap_connect"] == 2
    assert trips["imap_login"] == 1  # LOGIN; its tagged OK carries the new capabilities
    assert trips["imap_validate"] == 1  # EXAMINE and LIST in one flight
    # TCP, EHLO, STARTTLS, TLS 1.3, EHLO again: all required by RFC 3207.
    assert trips["smtp_connect"] == 5
    assert trips["smtp_login"] == 1  # AUTH PLAIN with its initial response
    assert trips["test_email"] == 2  # MAIL+RCPT+DATA pipelined, then the message
    sent = [
        line for s in result.stages for line in s.details["transcript"] if line.startswith("C: ")
    ]
    assert not any(" CAPABILITY" in line for line in sent)


def test_sasl_ir_for_utf8_credentials(servers: MailServers) -> None:
    result = run(
        servers,
        inbox("carol", imap_port=servers.imaps_port, smtp_port=servers.smtp_port),
        transcript=True,
    )
    assert result.ok
    login = result.stage(Stage.IMAP_LOGIN).details
    assert login["round_trips"] == 1
    assert any("AUTHENTICATE PLAIN ********" in line for line in login["transcript"])


def test_sequential_legs_give_the_same_verdict(servers: MailServers) -> None:
    settings = inbox(
        "bob", imap_port=servers.imaps_port, smtp_port=servers.smtp_port, email="alice@example.test"
    )
    assert stage_causes(run(servers, settings, sequential=True)) == stage_causes(
        run(servers, settings)
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [("expired", "expired"), ("wrong_host", "hostname_mismatch"), ("self_signed", "self_signed")],
)
def test_certificate_findings(servers: MailServers, name: str, reason: str) -> None:
    port = servers.cert_ports[name]
    settings = inbox(imap_port=servers.imaps_port, smtp_port=port, smtp_security=TLS)
    refused = run(servers, settings)
    diagnosis = refused.stage(Stage.SMTP_CONNECT).diagnosis
    assert diagnosis is not None
    assert diagnosis.category is ErrorCategory.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED
    assert diagnosis.cause == f"cert_{reason}"
    if name == "wrong_host":  # the names on the certificate, read without verifying
        assert "wrong.example" in diagnosis.summary
        assert diagnosis.summary_message.params["cert_names"] == "wrong.example"

    allowed = run(servers, attrs.evolve(settings, allow_untrusted_certificate=True))
    details = allowed.stage(Stage.SMTP_CONNECT).details
    assert allowed.stage(Stage.SMTP_CONNECT).status is StageStatus.PASSED
    assert details["certificate_trusted"] is False
    assert details["certificate_problem"] == reason
    certificate = details["certificate"]
    assert len(certificate["sha256"]) == 64
    assert certificate["self_signed"] is (name == "self_signed")
    if name == "expired":
        assert certificate["days_to_expiry"] < 0
    if name == "wrong_host":
        assert certificate["subject_alt_names"] == ("wrong.example",)


def test_a_certificate_about_to_expire_is_trusted_with_a_warning(servers: MailServers) -> None:
    settings = inbox(
        imap_port=servers.imaps_port, smtp_port=servers.cert_ports["expiring"], smtp_security=TLS
    )
    result = run(servers, settings)
    assert result.ok, result.to_dict()
    details = result.stage(Stage.SMTP_CONNECT).details
    assert details["certificate_trusted"] is True
    assert details["certificate"]["days_to_expiry"] == 5
    assert details["certificate"]["expires_soon"] is True
    assert details["warnings"] == ("the server's certificate expires in 5 days",)
    imap_cert = result.stage(Stage.IMAP_CONNECT).details["certificate"]
    assert imap_cert["expires_soon"] is False and "127.0.0.1" in imap_cert["subject_alt_names"]


def test_suggest_finds_the_mode_that_works_without_logging_in(servers: MailServers) -> None:
    # TLS configured on the plain ports: the same ports with STARTTLS work.
    settings = inbox(
        imap_port=servers.imap_port,
        imap_security=TLS,
        smtp_port=servers.smtp_port,
        smtp_security=TLS,
    )
    plain = run(servers, settings)
    assert all(
        plain.stage(s).diagnosis.suggestion is None  # type: ignore[union-attr]
        for s in (Stage.IMAP_CONNECT, Stage.SMTP_CONNECT)
    )
    result = run(servers, settings, suggest=True)
    for stage, port in (
        (Stage.IMAP_CONNECT, servers.imap_port),
        (Stage.SMTP_CONNECT, servers.smtp_port),
    ):
        diagnosis = result.stage(stage).diagnosis
        assert diagnosis is not None and diagnosis.cause == "tls_mode_mismatch"
        assert diagnosis.suggestion == mailprobe.ServerDefaults(
            host="127.0.0.1", port=port, security=STARTTLS
        )
        # Said once, first: the mode to choose on the port that was typed.
        assert diagnosis.hints[0] == (
            f"Choose STARTTLS as the security setting and keep port {port}."
        )
        assert not any("answers on port" in hint for hint in diagnosis.hints)
    assert result.to_dict()["diagnosis"]["suggestion"] == {
        "host": "127.0.0.1",
        "port": servers.imap_port,
        "security": "starttls",
    }


def test_suggest_reports_nothing_when_nothing_answers(servers: MailServers) -> None:
    result = run(
        servers, inbox(imap_port=free_port(), smtp_port=free_port()), suggest=True, timeout=10
    )
    assert result.diagnosis is not None and result.diagnosis.cause == "connection_refused"
    assert result.diagnosis.suggestion is None
    assert result.duration < 5


def test_delivery_is_confirmed_through_postfix_lmtp_and_dovecot(servers: MailServers) -> None:
    settings = inbox(imap_port=servers.imaps_port, smtp_port=servers.smtp_port)
    result = run(servers, settings, confirm_delivery=True)
    assert result.ok, result.to_dict()
    details = result.stage(Stage.DELIVERY).details
    assert details["delivered"] is True
    assert 0 < details["latency"] < 10
    assert result.stage(Stage.TEST_EMAIL).details["recipients"] == (RECIPIENT, "alice@example.test")


def test_mail_forwarded_elsewhere_is_reported_as_not_delivered(servers: MailServers) -> None:
    settings = inbox("eve", imap_port=servers.imaps_port, smtp_port=servers.smtp_port)
    result = run(servers, settings, confirm_delivery=True, timeout=5)
    assert result.stage(Stage.TEST_EMAIL).status is StageStatus.PASSED
    delivery = result.stage(Stage.DELIVERY)
    assert delivery.diagnosis is not None and delivery.diagnosis.cause == "not_delivered"
    assert delivery.diagnosis.category is ErrorCategory.TEST_EMAIL_FAILED
    assert result.duration < 6
    # It went to frank, whom eve's alias points at.
    message_id = result.stage(Stage.TEST_EMAIL).details["message_id"]
    assert servers.wait_for_message("frank", message_id, timeout=5)


def test_capacity_meets_dovecots_per_user_limit(servers: MailServers) -> None:
    # Through the PROXY forwarder Dovecot applies mail_max_userip_connections = 3.
    settings = inbox(
        imap_port=servers.imap_remote_port, imap_security=STARTTLS, smtp_port=servers.smtp_port
    )
    result = run(servers, settings, capacity=5)
    stage = result.stage(Stage.CAPACITY)
    assert stage.status is StageStatus.FAILED, result.to_dict()
    assert (stage.details["requested"], stage.details["allowed"]) == (5, 3)
    assert "mail_max_userip_connections=3" in stage.details["refusal"]
    assert stage.diagnosis is not None and stage.diagnosis.cause == "too_many_connections"
    assert "allows only 3 simultaneous connections" in stage.diagnosis.summary
    within = run(servers, settings, capacity=3)
    assert within.stage(Stage.CAPACITY).status is StageStatus.PASSED
    assert within.stage(Stage.CAPACITY).details["allowed"] == 3
