"""Discovery against hostile autoconfig files, HTTP servers and DNS answers: each ends
in a clear result within the deadline, and the other sources still count."""

from __future__ import annotations

import socket
import time

import pytest

import mailprobe
from mailprobe._discovery import _autoconfig as autoconfig
from mailprobe._discovery._http import MAX_BODY

from .discoverylab import (  # noqa: F401  (fixtures are found by name)
    Lab,
    config,
    lab_fixture,
    net_fixture,
    no_system_lookups_fixture,
)
from .netservers import Page

pytestmark = pytest.mark.usefixtures("no_system_lookups")

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<clientConfig><emailProvider><displayName>&lol9;</displayName></emailProvider></clientConfig>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE c [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<clientConfig><emailProvider><incomingServer type="imap"><hostname>&x;</hostname>
</incomingServer></emailProvider></clientConfig>"""
PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE c SYSTEM "https://ispdb.test/evil.dtd"><clientConfig/>"""
DEEP = b"<clientConfig>" + b"<a>" * 20000 + b"</a>" * 20000 + b"</clientConfig>"
WIDE = b"<clientConfig>" + b"<x/>" * 5000 + b"</clientConfig>"
LONG_TEXT = (
    b"<clientConfig><emailProvider><displayName>"
    + b"x" * 5000
    + b"</displayName></emailProvider></clientConfig>"
)
HOSTILE = {
    "billion laughs": (LAUGHS, "DOCTYPE"),
    "external entity": (EXTERNAL, "DOCTYPE"),
    "external DTD": (PARAMETER, "DOCTYPE"),
    "deep nesting": (DEEP, "nested deeper"),
    "too many elements": (WIDE, "more than"),
    "long text": (LONG_TEXT, "characters of text"),
    "broken": (b"<clientConfig><emailProvider>", "not well-formed"),
    "html": (b"<html><body>Welcome to nginx!</body></html>", "not <clientConfig>"),
    "empty": (b"", "not well-formed"),
    "binary": (bytes(range(256)) * 4, "not well-formed"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_documents_are_refused_quickly(name: str) -> None:
    body, why = HOSTILE[name]
    started = time.perf_counter()
    with pytest.raises(autoconfig.ConfigRefused, match=why):
        autoconfig.read_config(body, domain="x.test", source="autoconfig", origin="u")
    assert time.perf_counter() - started < 0.5


def test_usable_entries_are_kept_and_unusable_ones_left_out() -> None:
    body = config(
        "x.test",
        imap=(
            ("imap.%EMAILDOMAIN%", 993, "SSL"),
            ("imap.x.test", 0, "SSL"),  # no such port
            ("imap.x.test", 993, "SSL-ish"),  # unknown socket type
            ("bad host name.x.test", 993, "SSL"),
            ("imap.x.test", 143, "STARTTLS", "%EMAILLOCALPART%"),
            ("imap.x.test", 144, "plain", "admin-%EMAILLOCALPART%"),
        ),
    )
    imap, smtp = autoconfig.read_config(body, domain="x.test", source="ispdb", origin="u")
    assert [(c.host, c.port, c.security.value, c.username) for c in imap] == [
        ("imap.x.test", 993, "tls", "email"),
        ("imap.x.test", 143, "starttls", "local_part"),
        ("imap.x.test", 144, "none", "admin-%EMAILLOCALPART%"),
    ]
    assert smtp == [] and all(c.source == "ispdb" for c in imap)


@pytest.mark.parametrize(
    ("page", "status", "detail"),
    [
        (Page(LAUGHS), "failed", "refused: declares a DOCTYPE"),
        (Page(b"x" * (MAX_BODY + 1)), "failed", f"larger than {MAX_BODY} bytes"),
        (Page(b"<a/>" * MAX_BODY, length="omit"), "failed", f"larger than {MAX_BODY} bytes"),
        (Page(b"", status=500), "failed", "HTTP 500"),
        (Page(b"", status=302), "failed", "redirect without a Location"),
        (Page(b"<clientConfig><emailProvider/></clientConfig>"), "empty", "0 IMAP and 0 SMTP"),
        (Page(b"<clientConfig>", length="50"), "failed", ""),
    ],
)
def test_hostile_http_answers_end_in_a_clear_lookup(
    net: Lab, page: Page, status: str, detail: str
) -> None:
    net.https.pages[("autoconfig.hostile.test", "/mail/config-v1.1.xml")] = page
    net.at_lab("autoconfig.hostile.test")
    found = net.discover("h@hostile.test", sources=["autoconfig"], verify=False, timeout=5)
    lookup = found.lookups[0]
    assert (lookup.status, found.imap) == (status, ())
    assert detail in lookup.detail
    assert found.duration < 4


def test_a_dripping_autoconfig_server_is_cut_off_at_the_deadline(net: Lab) -> None:
    net.autoconfig("hostile.test", b"", drip=0.05)
    net.dns.add("_imaps._tcp.hostile.test", "SRV", "0 0 993 imap.guess.test.")
    net.at_lab("imap.guess.test")
    started = time.monotonic()
    found = net.discover("h@hostile.test", sources=["autoconfig", "srv"], timeout=3)
    elapsed = time.monotonic() - started
    assert elapsed < 3.5, elapsed
    first = next(lookup for lookup in found.lookups if lookup.source == "autoconfig")
    assert first.status == "timeout", first
    assert found.timed_out
    # The SRV lookup finished early, and its server was still checked in the time left.
    assert found.best_imap is not None and found.best_imap.source == "srv"


def test_a_silent_name_server_ends_within_the_deadline(net: Lab) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hole:
        hole.bind(("127.0.0.1", 0))  # bound, never read: queries vanish
        started = time.monotonic()
        found = net.discover("x@guess.test", nameservers=[hole.getsockname()], timeout=2)
        elapsed = time.monotonic() - started
    assert elapsed < 2.5, elapsed
    assert found.timed_out and found.verified == ()
    assert {lookup.status for lookup in found.lookups} == {"timeout"}
    assert all(c.problem == "no answer in time" for c in found.imap)


def test_truncated_answers_are_asked_again_over_tcp(net: Lab) -> None:
    net.dns.add("_imaps._tcp.tc.test", "SRV", "0 0 993 imap.guess.test.")
    net.dns.behaviour["_imaps._tcp.tc.test"] = "truncate"
    net.at_lab("imap.guess.test")
    found = net.discover("x@tc.test", sources=["srv"])
    assert found.best_imap is not None and found.best_imap.host == "imap.guess.test"
    asked = [q for q in net.dns.queries if q[0] == "_imaps._tcp.tc.test"]
    assert [q[2] for q in asked] == ["udp", "tcp"]


def test_cname_loops_end_in_a_clear_problem(net: Lab) -> None:
    net.dns.add("imap.loop.test", "CNAME", "imap2.loop.test.")
    net.dns.add("imap2.loop.test", "CNAME", "imap.loop.test.")
    net.dns.add("loop.test", "CNAME", "loop2.test.")
    net.dns.add("loop2.test", "CNAME", "loop.test.")
    net.dns.add("_imaps._tcp.loop.test", "SRV", "0 0 993 imap.loop.test.")
    found = net.discover("x@loop.test", sources=["srv", "mx"], timeout=5)
    assert found.imap[0].problem is not None and "CNAME chain" in found.imap[0].problem
    mx = next(lookup for lookup in found.lookups if lookup.source == "mx")
    assert mx.status == "failed" and "CNAME chain" in mx.detail
    assert found.duration < 2


def test_huge_answers_are_read_over_tcp_and_capped(net: Lab) -> None:
    records = [f"{i % 7} {i} {1000 + i} h{i}.big.test." for i in range(1500)]
    net.dns.add("_imaps._tcp.big.test", "SRV", *records)
    net.dns.add("big.test", "MX", *(f"{i} mx{i}.big.test." for i in range(1500)))
    started = time.monotonic()
    found = net.discover("x@big.test", sources=["srv", "mx"], verify=False, timeout=8)
    assert time.monotonic() - started < 4
    srv = [c for c in found.imap if c.origin == "_imaps._tcp.big.test"]
    assert len(srv) == 10 and all(c.security.value == "tls" for c in srv)
    # Lowest priority first, heaviest weight first within it.
    assert [c.host for c in srv[:2]] == ["h1498.big.test", "h1491.big.test"]
    assert len(found.mx) == 10 and found.mx[0] == "mx0.big.test"
    assert ("_imaps._tcp.big.test", "SRV", "tcp") in net.dns.queries
    # A host with 249 addresses: the first 8 are kept.
    second = net.address.split(".")[1]
    net.dns.host("imap.many.test", *(f"127.{second}.9.{i}" for i in range(1, 250)))
    net.dns.add("_imap._tcp.many.test", "SRV", "0 0 143 imap.many.test.")
    many = net.discover("x@many.test", sources=["srv"], timeout=3).imap[0]
    assert many.addresses == tuple(f"127.{second}.9.{i}" for i in range(1, 9))
    assert many.problem == "connection refused"


def test_a_dripping_tcp_answer_ends_at_the_deadline(net: Lab) -> None:
    net.dns.add("_imaps._tcp.drip.test", "SRV", "0 0 993 imap.guess.test.")
    net.dns.behaviour["_imaps._tcp.drip.test"] = "drip"
    started = time.monotonic()
    found = net.discover("x@drip.test", sources=["srv"], timeout=2)
    assert time.monotonic() - started < 2.5
    status = {lookup.target: lookup.status for lookup in found.lookups}
    assert status["SRV _imaps._tcp.drip.test"] == "timeout"


def test_servfail_is_a_failed_lookup(net: Lab) -> None:
    net.dns.behaviour["_imaps._tcp.sf.test"] = "servfail"
    found = net.discover("x@sf.test", sources=["srv"], verify=False)
    status = {lookup.target: lookup.status for lookup in found.lookups}
    assert status["SRV _imaps._tcp.sf.test"] == "failed"
    assert status["SRV _imap._tcp.sf.test"] == "empty"


def test_everything_hostile_at_once_still_ends_on_time(net: Lab) -> None:
    net.autoconfig("hostile.test", b"", drip=0.1)
    net.well_known("hostile.test", LAUGHS)
    net.ispdb("hostile.test", b"", drip=0.1)
    net.dns.behaviour.update(
        {
            "hostile.test": "silent",
            "_imaps._tcp.hostile.test": "drip",
            "_submission._tcp.hostile.test": "silent",
        }
    )
    net.dns.add("_imap._tcp.hostile.test", "SRV", "0 0 143 imap.loop.test.")
    net.dns.add("imap.loop.test", "CNAME", "imap.loop.test.")
    started = time.monotonic()
    found = mailprobe.discover(
        "h@hostile.test",
        nameservers=net.dns.nameservers,
        ca_file=net.ca_file,
        ispdb_url="https://ispdb.test/v1.1/{domain}",
        allow_private=True,
        timeout=4,
    )
    elapsed = time.monotonic() - started
    assert elapsed < 4.6, elapsed
    assert found.timed_out and found.verified == ()
    assert found.best_imap is None and found.best_smtp is None
