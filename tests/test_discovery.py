"""Settings discovery against a local name server, HTTPS autoconfig/ISPDB servers,
greeters on the usual ports and the real Dovecot and Postfix fixtures.

Every host name here is made up and answered by the lab's name server only; a
tripwire fails any test whose code asks the system resolver for one.
"""

from __future__ import annotations

import json
import sys

import pytest

import mailprobe
from mailprobe import Security, SettingsError

from .discoverylab import (  # noqa: F401  (fixtures are found by name)
    Lab,
    both_cas_fixture,
    config,
    lab_fixture,
    net_fixture,
    no_system_lookups_fixture,
)
from .mailservers import ACCOUNTS, MailServers
from .netservers import Page

pytestmark = pytest.mark.usefixtures("no_system_lookups")
TLS, STARTTLS, NONE = Security.TLS, Security.STARTTLS, Security.NONE


def hosts(candidates: tuple[mailprobe.Candidate, ...]) -> list[tuple[str, int, Security, str]]:
    return [(c.host, c.port, c.security, c.source) for c in candidates]


GREETING_ONLY = {b"CAPABILITY", b"STARTTLS", b"LOGOUT", b"EHLO", b"QUIT"}


def assert_no_login(lab: Lab) -> None:
    """The greeters were sent greeting-stage commands only, and no password."""
    received = lab.received()
    assert received, "the greeters were never contacted"
    for line in received.splitlines():
        words = line.upper().split()
        # SMTP lines start with the command, IMAP lines with a tag.
        command = words[0] if words[0] in GREETING_ONLY or len(words) == 1 else words[1]
        assert command in GREETING_ONLY, line
    for account in ACCOUNTS.values():
        assert account.password.encode() not in received


# -- each source finds the settings ---------------------------------------------


def test_the_domains_autoconfig_file(net: Lab) -> None:
    net.autoconfig(
        "example.test",
        config(
            "example.test",
            imap=(("imap.%EMAILDOMAIN%", 993, "SSL"),),
            smtp=(("smtp.example.test", 587, "STARTTLS", "%EMAILLOCALPART%"),),
        ),
    )
    net.at_lab("imap.example.test", "smtp.example.test")
    found = net.discover("alice@example.test", sources=["autoconfig"])

    assert hosts(found.imap) == [("imap.example.test", 993, TLS, "autoconfig")]
    assert hosts(found.smtp) == [("smtp.example.test", 587, STARTTLS, "autoconfig")]
    imap, smtp = found.imap[0], found.smtp[0]
    assert imap.verified and smtp.verified
    assert found.verified == (imap, smtp)
    assert found.best_imap == imap and found.best_smtp == smtp
    assert imap.greeting is not None and "greeter ready" in imap.greeting
    assert (
        imap.origin
        == "https://autoconfig.example.test/mail/config-v1.1.xml?emailaddress=alice%40example.test"
    )
    assert imap.auth == ("password-cleartext",)
    assert imap.addresses == (net.address,)
    assert smtp.username == "local_part" and smtp.login_for("alice@example.test") == "alice"
    # Thunderbird's request: the address rides along to the domain's own server.
    assert (
        "autoconfig.example.test",
        "/mail/config-v1.1.xml?emailaddress=alice%40example.test",
    ) in net.https.requests
    assert_no_login(net)


def test_the_well_known_url_when_there_is_no_autoconfig_host(net: Lab) -> None:
    net.well_known("wk.test", config("wk.test", imap=(("imap.guess.test", 143, "STARTTLS"),)))
    net.at_lab("imap.guess.test")
    found = net.discover("pat@wk.test", sources=["autoconfig"])
    assert hosts(found.imap) == [("imap.guess.test", 143, STARTTLS, "autoconfig")]
    assert found.imap[0].verified
    statuses = {lookup.target.split("/")[2]: lookup.status for lookup in found.lookups}
    assert statuses == {"autoconfig.wk.test": "empty", "wk.test": "found"}


def test_the_ispdb_by_domain(net: Lab) -> None:
    net.ispdb(
        "isp.test",
        config(
            "isp.test", imap=(("imap.isp.test", 993, "SSL"),), smtp=(("smtp.isp.test", 465, "SSL"),)
        ),
    )
    net.at_lab("imap.isp.test", "smtp.isp.test")
    found = net.discover("kim@isp.test", sources=["ispdb"])
    assert hosts(found.imap) == [("imap.isp.test", 993, TLS, "ispdb")]
    assert hosts(found.smtp) == [("smtp.isp.test", 465, TLS, "ispdb")]
    assert all(c.verified for c in (*found.imap, *found.smtp))
    assert net.https.requests == [("ispdb.test", "/v1.1/isp.test")]  # the domain, no address


def test_the_ispdb_by_the_mx_hosts_registered_domain(net: Lab) -> None:
    net.dns.add("client.test", "MX", "10 mx2.eu.bighost.test.", "5 mx1.eu.bighost.test.")
    net.ispdb(
        "bighost.test",
        config(
            "bighost.test",
            imap=(("imap.bighost.test", 993, "SSL"),),
            smtp=(("smtp.bighost.test", 587, "STARTTLS"),),
        ),
    )
    net.at_lab("imap.bighost.test", "smtp.bighost.test")
    found = net.discover("lee@client.test", sources=["ispdb"])
    assert found.mx == ("mx1.eu.bighost.test", "mx2.eu.bighost.test")  # by preference
    assert hosts(found.imap) == [("imap.bighost.test", 993, TLS, "ispdb")]
    assert found.best_smtp is not None and found.best_smtp.host == "smtp.bighost.test"
    assert net.https.requests == [
        ("ispdb.test", "/v1.1/client.test"),
        ("ispdb.test", "/v1.1/bighost.test"),
    ]


def test_srv_records_with_implicit_tls_first(net: Lab) -> None:
    # RFC 8314: _imaps beats _imap even at a worse priority; RFC 2782: "." means none.
    net.dns.add("_imap._tcp.srv.test", "SRV", "0 0 143 imap.guess.test.")
    net.dns.add(
        "_imaps._tcp.srv.test", "SRV", "20 0 993 imap.guess.test.", "10 0 993 imap.other.test."
    )
    net.dns.add("_submission._tcp.srv.test", "SRV", "0 0 587 smtp.guess.test.")
    net.dns.add("_submissions._tcp.srv.test", "SRV", "0 0 0 .")
    net.at_lab("imap.guess.test", "smtp.guess.test")  # imap.other.test has no address
    found = net.discover("sam@srv.test", sources=["srv"])
    assert hosts(found.imap) == [
        ("imap.guess.test", 993, TLS, "srv"),
        ("imap.guess.test", 143, STARTTLS, "srv"),
        ("imap.other.test", 993, TLS, "srv"),  # not verified: ranked after those that were
    ]
    assert [c.verified for c in found.imap] == [True, True, False]
    assert found.imap[2].problem is not None and "not found" in found.imap[2].problem
    assert hosts(found.smtp) == [("smtp.guess.test", 587, STARTTLS, "srv")]
    assert found.imap[0].origin == "_imaps._tcp.srv.test"


def test_provider_by_mx_host_for_a_custom_domain(net: Lab) -> None:
    providers = mailprobe.default_providers()
    providers.add(
        mailprobe.Provider(
            id="mailhost",
            name="Mailhost",
            mx=("mx*.mailhost.test",),
            imap=mailprobe.ServerDefaults(host="imap.mailhost.test", port=993, security="tls"),
            smtp=mailprobe.ServerDefaults(host="smtp.mailhost.test", port=465, security="tls"),
        )
    )
    net.dns.add("hosted.test", "MX", "10 mx1.mailhost.test.")
    net.at_lab("imap.mailhost.test", "smtp.mailhost.test")
    found = net.discover("ann@hosted.test", sources=["mx"], providers=providers)
    assert found.provider == "mailhost"
    assert hosts(found.imap) == [("imap.mailhost.test", 993, TLS, "mx")]
    assert found.imap[0].provider == "mailhost" and found.imap[0].origin == "MX mx1.mailhost.test"
    assert found.best_imap is not None and found.best_smtp is not None


def test_shipped_mx_patterns_recognise_google_workspace(net: Lab) -> None:
    net.dns.add("shop.test", "MX", "1 aspmx.l.google.com.", "5 alt1.aspmx.l.google.com.")
    found = net.discover("o@shop.test", sources=["mx"], verify=False)
    assert found.provider == "gmail"
    assert hosts(found.imap) == [("imap.gmail.com", 993, TLS, "mx")]
    assert hosts(found.smtp) == [("smtp.gmail.com", 465, TLS, "mx")]
    assert not found.imap[0].verified and found.imap[0].problem is None
    assert not net.dns.asked("imap.gmail.com")  # verify=False: nothing resolved or contacted


def test_provider_by_domain_needs_no_network(net: Lab) -> None:
    found = mailprobe.discover("a@gmail.com", sources=["provider"], verify=False)
    assert hosts(found.imap) == [("imap.gmail.com", 993, TLS, "provider")]
    assert found.lookups[0].status == "found" and net.dns.queries == []


def test_guesses_when_nothing_else_is_known(net: Lab) -> None:
    net.at_lab("imap.guess.test", "smtp.guess.test")  # mail.guess.test does not exist
    found = net.discover("gus@guess.test")
    assert [(c.host, c.port, c.verified) for c in found.imap] == [
        ("imap.guess.test", 993, True),
        ("imap.guess.test", 143, True),
        ("mail.guess.test", 993, False),
        ("mail.guess.test", 143, False),
    ]
    assert [(c.host, c.port) for c in found.smtp if c.verified] == [
        ("smtp.guess.test", 465),
        ("smtp.guess.test", 587),
    ]
    assert all(c.source == "guess" for c in (*found.imap, *found.smtp))
    assert found.best_imap is not None and found.best_imap.port == 993  # RFC 8314
    assert_no_login(net)


def test_guesses_after_the_known_servers_do_not_answer(net: Lab) -> None:
    net.autoconfig("example.test", config("example.test", imap=(("imap.gone.test", 993, "SSL"),)))
    net.at_lab("imap.example.test", "smtp.example.test")
    found = net.discover("alice@example.test", sources=["autoconfig", "guess"])
    assert [(c.host, c.source, c.verified) for c in found.imap[:2]] == [
        ("imap.example.test", "guess", True),
        ("imap.example.test", "guess", True),
    ]
    assert ("imap.gone.test", "autoconfig", False) in [
        (c.host, c.source, c.verified) for c in found.imap
    ]
    assert found.smtp[0].source == "guess"  # autoconfig named no SMTP server: guessed at once


def test_sources_rank_in_order_and_each_server_appears_once(net: Lab) -> None:
    net.autoconfig(
        "example.test",
        config(
            "example.test",
            imap=(("imap.example.test", 993, "SSL"), ("imap.example.test", 143, "plain")),
            smtp=(("smtp.example.test", 465, "SSL"),),
        ),
    )
    net.dns.add("_imaps._tcp.example.test", "SRV", "0 0 993 imap.example.test.")
    net.dns.add("_imap._tcp.example.test", "SRV", "0 0 143 imap.example.test.")
    net.at_lab("imap.example.test", "smtp.example.test")
    found = net.discover("alice@example.test", sources=["autoconfig", "srv"])
    # Plaintext 143 from autoconfig is kept but last; SRV's STARTTLS 143 is its own server.
    assert hosts(found.imap) == [
        ("imap.example.test", 993, TLS, "autoconfig"),
        ("imap.example.test", 143, STARTTLS, "srv"),
        ("imap.example.test", 143, NONE, "autoconfig"),
    ]
    assert found.best_imap is not None and found.best_imap.security is TLS


def test_only_the_chosen_sources_are_asked(net: Lab) -> None:
    net.at_lab("imap.guess.test")
    found = net.discover("gus@guess.test", sources=["srv"], verify=False)
    assert found.imap == () and found.smtp == ()
    assert net.https.requests == []
    assert not net.dns.asked("guess.test", "MX") and not net.dns.asked("imap.guess.test")
    assert {q[0] for q in net.dns.queries} == {
        "_imaps._tcp.guess.test",
        "_imap._tcp.guess.test",
        "_submissions._tcp.guess.test",
        "_submission._tcp.guess.test",
    }
    net.discover("gus@guess.test", sources=["ispdb"], ispdb_url=None, verify=False)
    assert net.https.requests == []


# -- policy: private addresses, plain HTTP, certificates --------------------------


def test_private_addresses_of_a_public_domain_are_flagged_not_followed(net: Lab) -> None:
    net.autoconfig(
        "example.test", config("example.test", imap=(("imap.example.test", 993, "SSL"),))
    )
    net.dns.add("_imaps._tcp.example.test", "SRV", "0 0 993 imap.guess.test.")
    net.at_lab("imap.guess.test", "imap.example.test")
    found = net.discover("alice@example.test", sources=["autoconfig", "srv"], allow_private=False)
    autoconfig = [lookup for lookup in found.lookups if lookup.source == "autoconfig"]
    assert autoconfig[0].status == "blocked" and "allow_private" in autoconfig[0].detail
    assert net.https.requests == []  # the autoconfig host on loopback was never asked
    (imap,) = found.imap
    assert imap.private and not imap.verified and imap.addresses == ()
    assert imap.problem is not None and net.address in imap.problem
    assert net.connections() == 0

    allowed = net.discover("alice@example.test", sources=["autoconfig", "srv"], allow_private=True)
    assert [(c.source, c.private, c.verified) for c in allowed.imap] == [
        ("autoconfig", True, True),  # contacted, and still reported
        ("srv", True, True),
    ]


def test_internal_domains_may_use_private_addresses(net: Lab) -> None:
    net.autoconfig(
        "corp.internal", config("corp.internal", imap=(("imap.corp.internal", 993, "SSL"),))
    )
    net.at_lab("imap.corp.internal")
    found = net.discover("it@corp.internal", sources=["autoconfig"], allow_private=False)
    assert [(c.private, c.verified) for c in found.imap] == [(False, True)]


def test_the_ispdb_is_the_apps_choice_and_exempt_from_the_policy(net: Lab) -> None:
    net.ispdb("isp.test", config("isp.test", imap=(("imap.isp.test", 993, "SSL"),)))
    net.at_lab("imap.isp.test")
    found = net.discover("kim@isp.test", sources=["ispdb"], allow_private=False)
    assert found.lookups[-1].status == "found"
    assert [(c.private, c.verified) for c in found.imap] == [(True, False)]


def test_plain_http_only_when_allowed(net: Lab) -> None:
    body = config("isp.test", imap=(("imap.isp.test", 993, "SSL"),))
    net.http.pages[("ispdb.test", "/v1.1/isp.test")] = Page(body)
    with pytest.raises(SettingsError, match="ispdb_url"):
        net.discover("kim@isp.test", ispdb_url="http://ispdb.test/v1.1/{domain}")
    found = net.discover(
        "kim@isp.test",
        sources=["ispdb"],
        verify=False,
        allow_http=True,
        ispdb_url="http://ispdb.test/v1.1/{domain}",
    )
    assert hosts(found.imap) == [("imap.isp.test", 993, TLS, "ispdb")]
    # A domain's HTTPS autoconfig that redirects to plain HTTP is not followed by default.
    net.autoconfig(
        "moved.test", b"", status=301, headers=(("Location", "http://moved.test/c.xml"),)
    )
    net.http.pages[("moved.test", "/c.xml")] = Page(
        config("moved.test", imap=(("imap.isp.test", 993, "SSL"),))
    )
    net.at_lab("moved.test")
    blocked = net.discover("m@moved.test", sources=["autoconfig"], verify=False)
    assert blocked.imap == () and blocked.lookups[0].status == "blocked"
    assert net.http.requests == [("ispdb.test", "/v1.1/isp.test")]
    followed = net.discover("m@moved.test", sources=["autoconfig"], verify=False, allow_http=True)
    assert hosts(followed.imap) == [("imap.isp.test", 993, TLS, "autoconfig")]
    assert followed.imap[0].origin == "http://moved.test/c.xml"


def test_https_redirects_are_followed_a_few_times(net: Lab) -> None:
    target = "https://example.test/.well-known/autoconfig/mail/config-v1.1.xml"
    net.autoconfig("moved.test", b"", status=302, headers=(("Location", target),))
    net.well_known("example.test", config("moved.test", imap=(("imap.guess.test", 993, "SSL"),)))
    net.https.pages[("autoconfig.srv.test", "/mail/config-v1.1.xml")] = Page(b"")
    loop = "https://autoconfig.srv.test/mail/config-v1.1.xml"
    net.autoconfig("srv.test", b"", status=307, headers=(("Location", loop),))
    found = net.discover("m@moved.test", sources=["autoconfig"], verify=False)
    assert hosts(found.imap) == [("imap.guess.test", 993, TLS, "autoconfig")]
    looped = net.discover("m@srv.test", sources=["autoconfig"], verify=False)
    assert "redirects" in looped.lookups[0].detail


def test_untrusted_certificates_end_lookups_and_candidates(net: Lab) -> None:
    net.autoconfig("example.test", config("example.test", imap=(("imap.guess.test", 993, "SSL"),)))
    net.dns.add("_imaps._tcp.srv.test", "SRV", "0 0 993 imap.guess.test.")
    net.at_lab("imap.guess.test")
    found = net.discover("alice@example.test", sources=["autoconfig"], ca_file=None)
    assert found.lookups[0].status == "failed"
    assert "certificate not trusted (unknown_ca)" in found.lookups[0].detail
    srv = net.discover("sam@srv.test", sources=["srv"], ca_file=None)
    assert srv.imap[0].problem is not None and srv.imap[0].problem.startswith(
        "certificate not trusted (unknown_ca)"
    )


def test_a_dead_first_address_falls_back_to_the_next(net: Lab) -> None:
    head, _, last = net.address.rpartition(".")
    dead = f"{head}.{(int(last) % 250) + 2}"  # nothing listens there
    net.dns.host("imap.v6.test", dead, net.address, "::1")
    net.dns.add("_imaps._tcp.v6.test", "SRV", "0 0 993 imap.v6.test.")
    found = net.discover("x@v6.test", sources=["srv"])
    assert found.imap[0].verified
    assert found.imap[0].addresses == (dead, net.address, "::1")


# -- probe_discovered --------------------------------------------------------------


@pytest.mark.integration
def test_probe_discovered_end_to_end(net: Lab, servers: MailServers, both_cas: str) -> None:
    net.dns.host("mx.example.test", "127.0.0.1")
    net.autoconfig(
        "example.test",
        config(
            "example.test",
            imap=(("mx.example.test", servers.imaps_port, "SSL"), ("imap.guess.test", 993, "SSL")),
            smtp=(("mx.example.test", servers.smtp_port, "STARTTLS"),),
        ),
    )
    net.at_lab("imap.guess.test")
    alice = ACCOUNTS["alice"]
    outcome = mailprobe.probe_discovered(
        alice.email,
        alice.password,
        nameservers=net.dns.nameservers,
        ca_file=both_cas,
        ispdb_url=None,
        sources=["autoconfig"],
        allow_private=True,
        test_recipient="frank@example.test",
    )
    assert outcome.ok, outcome.to_dict()
    assert outcome.settings_from == {"imap": "autoconfig", "smtp": "autoconfig"}
    assert outcome.imap is not None and outcome.imap.port == servers.imaps_port
    assert [c.verified for c in outcome.discovery.imap] == [True, True]
    result = outcome.result
    assert result is not None
    connect = result.stage(mailprobe.Stage.IMAP_CONNECT).details
    assert connect["host"] == "mx.example.test"  # the name, not the address
    assert connect["peer_address"] == f"127.0.0.1:{servers.imaps_port}"
    # The greeter was a verified candidate too, but only the best one got the password.
    assert net.greeters[993].connections == 1
    assert_no_login(net)
    text = json.dumps(outcome.to_dict()) + repr(outcome)
    assert alice.password not in text


@pytest.mark.integration
def test_probe_discovered_through_srv_with_a_login_name(
    net: Lab, servers: MailServers, both_cas: str
) -> None:
    net.dns.host("mx.example.test", "127.0.0.1")
    net.dns.add("_imaps._tcp.example.test", "SRV", f"0 0 {servers.imaps_port} mx.example.test.")
    net.dns.add(
        "_submissions._tcp.example.test", "SRV", f"0 0 {servers.smtps_port} mx.example.test."
    )
    alice = ACCOUNTS["alice"]
    outcome = mailprobe.probe_discovered(
        alice.email,
        alice.password,
        nameservers=net.dns.nameservers,
        ca_file=both_cas,
        sources=["srv"],
        allow_private=True,
    )
    assert outcome.ok, outcome.to_dict()
    assert outcome.settings_from == {"imap": "srv", "smtp": "srv"}
    assert outcome.smtp is not None and outcome.smtp.security is TLS


@pytest.mark.integration
def test_a_prober_discovers_and_probes_with_its_own_trust_and_rules(
    net: Lab, servers: MailServers, both_cas: str
) -> None:
    net.dns.host("mx.example.test", "127.0.0.1")
    net.dns.add("_imaps._tcp.example.test", "SRV", f"0 0 {servers.imaps_port} mx.example.test.")
    net.dns.add("_submission._tcp.example.test", "SRV", f"0 0 {servers.smtp_port} mx.example.test.")
    rules = mailprobe.default_registry()
    rules.register(
        lambda f: mailprobe.Diagnosis(
            category=mailprobe.ErrorCategory.IMAP_AUTHENTICATION_ERROR, cause="acme_password"
        ),
        id="acme.password",
        priority=1000,
        stages=[mailprobe.Stage.IMAP_LOGIN],
    )
    prober = mailprobe.Prober(ca_file=both_cas, rules=rules)
    found = prober.discover(
        "alice@example.test", nameservers=net.dns.nameservers, sources=["srv"], allow_private=True
    )
    assert [c.verified for c in found.imap] == [True]  # the prober's CA file verified it
    outcome = prober.probe_discovered(
        "alice@example.test",
        "wrong-password",
        nameservers=net.dns.nameservers,
        sources=["srv"],
        allow_private=True,
    )
    assert outcome.result is not None and outcome.result.diagnosis is not None
    assert outcome.result.diagnosis.cause == "acme_password"  # the prober's own rules


@pytest.mark.integration
def test_probe_discovered_reports_a_wrong_password(
    net: Lab, servers: MailServers, both_cas: str
) -> None:
    net.dns.host("mx.example.test", "127.0.0.1")
    net.dns.add("_imaps._tcp.example.test", "SRV", f"0 0 {servers.imaps_port} mx.example.test.")
    net.dns.add("_submission._tcp.example.test", "SRV", f"0 0 {servers.smtp_port} mx.example.test.")
    outcome = mailprobe.probe_discovered(
        "alice@example.test",
        "wrong-password",
        nameservers=net.dns.nameservers,
        ca_file=both_cas,
        sources=["srv"],
        allow_private=True,
    )
    assert not outcome.ok and outcome.result is not None
    diagnosis = outcome.result.diagnosis
    assert diagnosis is not None and diagnosis.cause == "invalid_credentials"


def test_probe_discovered_without_a_verified_server_runs_no_probe(net: Lab) -> None:
    net.at_lab("imap.guess.test")  # IMAP answers, nothing for SMTP
    calls: list[object] = []

    def never(settings: mailprobe.InboxSettings, _t: mailprobe.Transport) -> mailprobe.ProbeResult:
        calls.append(settings)
        raise AssertionError("no probe without verified servers")

    outcome = mailprobe.probe_discovered(
        "gus@guess.test",
        "pw",
        nameservers=net.dns.nameservers,
        ca_file=net.ca_file,
        ispdb_url=None,
        allow_private=True,
        probe=never,
    )
    assert outcome.result is None and not outcome.ok and calls == []
    assert outcome.problem == "no SMTP server answered during discovery; nothing probed"
    assert outcome.imap is not None and outcome.smtp is None


def test_probe_discovered_hands_settings_and_a_pinned_transport_to_the_probe(net: Lab) -> None:
    net.at_lab("imap.guess.test", "smtp.guess.test")
    seen: list[tuple[mailprobe.InboxSettings, object]] = []

    def fake(
        settings: mailprobe.InboxSettings, transport: mailprobe.Transport
    ) -> mailprobe.ProbeResult:
        seen.append((settings, transport))
        return mailprobe.ProbeResult(stages=())

    outcome = mailprobe.probe_discovered(
        "gus@guess.test",
        "pw",
        nameservers=net.dns.nameservers,
        ca_file=net.ca_file,
        ispdb_url=None,
        allow_private=True,
        probe=fake,
    )
    ((settings, transport),) = seen
    assert (settings.imap.host, settings.imap.port, settings.smtp.port) == (
        "imap.guess.test",
        993,
        465,
    )
    assert settings.password == "pw" and outcome.ok
    assert type(transport).__name__ == "PinnedTransport"


# -- options and values ------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"sources": "srv"}, "sources"),
        ({"sources": ["srv", "dns"]}, "sources"),
        ({"ispdb_url": "https://ispdb.example/v1.1/"}, "ispdb_url"),
        ({"ispdb_url": "ftp://x/{domain}"}, "ispdb_url"),
        ({"nameservers": [("ns.example", 53)]}, "nameservers"),
        ({"nameservers": [("127.0.0.1", 0)]}, "nameservers"),
        ({"nameservers": ["127.0.0.1"]}, "nameservers"),
        ({"nameservers": []}, "nameservers"),
        ({"timeout": 0}, "timeout"),
        ({"verify": "yes"}, "verify"),
        ({"allow_private": 1}, "allow_private"),
        ({"ca_file": "x.pem", "ssl_context": object()}, "ca_file"),
        ({"providers": {}}, "providers"),
    ],
)
def test_bad_options_raise_settings_error(options: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        mailprobe.discover("a@example.test", **options)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize("email", ["not-an-address", "a@[127.0.0.1]", "a@b c.test", "a\r\n@x.test"])
def test_bad_addresses_raise_settings_error(email: str) -> None:
    with pytest.raises(SettingsError):
        mailprobe.discover(email)


def test_probe_discovered_checks_its_own_options_first(net: Lab) -> None:
    for args, kwargs in [
        ((), {}),
        (("pw\r\n",), {}),
        (("pw",), {"test_recipient": "x"}),
        (("pw",), {"timeout": -1}),
    ]:
        with pytest.raises(SettingsError):
            mailprobe.probe_discovered("a@x.test", *args, nameservers=net.dns.nameservers, **kwargs)  # type: ignore[arg-type]
    assert net.dns.queries == []


def test_missing_dnspython_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "dns" or m.startswith("dns.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "dns", None)
    with pytest.raises(ImportError, match=r"pip install 'mailprobe\[discovery\]'"):
        mailprobe.discover("a@example.test", nameservers=[("127.0.0.1", 53)])
    # Provider data alone needs no DNS.
    assert mailprobe.discover("a@gmail.com", sources=["provider"], verify=False).imap


def test_candidates_and_discoveries_are_json_safe_values(net: Lab) -> None:
    net.at_lab("imap.guess.test", "smtp.guess.test")
    found = net.discover("gus@guess.test")
    data = json.loads(json.dumps(found.to_dict()))
    assert data["imap"][0]["security"] == "tls" and data["imap"][0]["verified"] is True
    assert {lookup["status"] for lookup in data["lookups"]} == {"empty"}
    assert data["domain"] == "guess.test" and len(data["lookups"]) == 8
    settings = found.inbox_settings("pw")
    assert settings is not None and settings.imap.host == "imap.guess.test"
    assert found.imap[0].server_settings("gus@guess.test").username is None
    odd = mailprobe.Candidate(
        protocol="imap",
        host="h.test",
        port=993,
        security="tls",
        username="%EMAILLOCALPART%.%EMAILDOMAIN%",
        source="autoconfig",
    )
    assert odd.login_for("gus@guess.test") == "gus.guess.test"
    assert odd.server_settings("gus@guess.test").username == "gus.guess.test"
