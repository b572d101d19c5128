"""Benchmarks: mailprobe against the naive stdlib sequence, on the real Dovecot and Postfix
of the integration suite, through a proxy that adds latency like a distant server.

    bash scripts/bench.sh            # or: .venv/bin/python benchmarks/run.py

Prints a Markdown table of the figures (they go into docs/performance.md).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from baseline import naive_probe  # noqa: E402
from tests.mailservers import MailServers, free_port  # noqa: E402

import mailprobe  # noqa: E402

RECIPIENT = "bcc@app.example"
# The least a probe can do on the wire, counted in round trips (TLS 1.3):
# IMAP on 993: TCP, TLS, LOGIN (its OK carries the capabilities), EXAMINE+LIST together.
# SMTP on 587: TCP, EHLO, STARTTLS, TLS, EHLO, AUTH PLAIN with its initial response,
# MAIL+RCPT+DATA together (RFC 2920), the message.
MINIMUM = {"imap": 4, "smtp": 8}


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cpu_per_call(fn: Callable[[], object], runs: int) -> float:
    gc.collect()
    started = time.process_time()
    for _ in range(runs):
        fn()
    return (time.process_time() - started) / runs


def import_time(runs: int = 9) -> float:
    def once(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - started

    bare = statistics.median(once("pass") for _ in range(runs))
    full = statistics.median(once("import mailprobe") for _ in range(runs))
    return full - bare


class Setup:
    def __init__(self, servers: MailServers, delay: float) -> None:
        self.servers = servers
        self.imap_proxy, self.smtp_proxy = free_port(), free_port()
        self.proxy = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "delay_proxy.py"),
                "--delay",
                str(delay),
                f"{self.imap_proxy}:{servers.imaps_port}",
                f"{self.smtp_proxy}:{servers.smtp_port}",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proxy.stdout is not None
        assert self.proxy.stdout.readline().strip() == "ready"

    def close(self) -> None:
        self.proxy.kill()
        self.proxy.wait()

    def settings(self, user: str, proxied: bool) -> mailprobe.InboxSettings:
        account = self.servers.accounts[user]
        imap_port = self.imap_proxy if proxied else self.servers.imaps_port
        smtp_port = self.smtp_proxy if proxied else self.servers.smtp_port
        return mailprobe.InboxSettings(
            email=account.email,
            password=account.password,
            imap=mailprobe.ServerSettings(
                host="127.0.0.1", port=imap_port, security=mailprobe.Security.TLS
            ),
            smtp=mailprobe.ServerSettings(
                host="127.0.0.1", port=smtp_port, security=mailprobe.Security.STARTTLS
            ),
        )

    def probe(self, user: str, proxied: bool) -> mailprobe.ProbeResult:
        result = mailprobe.probe(
            self.settings(user, proxied),
            test_recipient=RECIPIENT,
            ca_file=str(self.servers.ca_file),
            timeout=60,
        )
        assert result.ok, result.to_dict()
        return result

    def naive(self, user: str, proxied: bool) -> None:
        account = self.servers.accounts[user]
        naive_probe(
            host="127.0.0.1",
            imap_port=self.imap_proxy if proxied else self.servers.imaps_port,
            smtp_port=self.smtp_proxy if proxied else self.servers.smtp_port,
            login=account.login,
            password=account.password,
            email=account.email,
            recipient=RECIPIENT,
            ca_file=str(self.servers.ca_file),
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.025, help="one-way delay (s)")
    parser.add_argument("--runs", type=int, default=7, help="runs per wall-time figure")
    parser.add_argument("--inboxes", type=int, default=100, help="inboxes for probe_many")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--per-host", type=int, default=32)
    args = parser.parse_args(argv)

    servers = MailServers.create(extra_users=args.inboxes)
    servers.start()
    setup = Setup(servers, args.delay)
    rows: list[tuple[str, str]] = []
    try:
        setup.probe("alice", True)  # warm up: TLS contexts, imports, server processes
        setup.naive("alice", True)

        ours = median_time(lambda: setup.probe("alice", True), args.runs)
        naive = median_time(lambda: setup.naive("alice", True), args.runs)
        rows.append(
            (
                f"one probe through the proxy ({args.delay * 1000:.0f} ms each way)",
                f"mailprobe {ours:.3f} s, baseline {naive:.3f} s, ratio **{ours / naive:.2f}**",
            )
        )

        result = setup.probe("alice", True)
        for leg, stages in (
            ("imap", mailprobe.Stage.IMAP_CONNECT),
            ("smtp", mailprobe.Stage.SMTP_CONNECT),
        ):
            trips = sum(
                s.details.get("round_trips", 0)
                for s in result.stages
                if s.stage.protocol == stages.protocol
            )
            rows.append(
                (f"round trips, {leg.upper()} leg", f"{trips} (protocol minimum {MINIMUM[leg]})")
            )

        cpu_ours = cpu_per_call(lambda: setup.probe("alice", False), args.runs * 3)
        cpu_naive = cpu_per_call(lambda: setup.naive("alice", False), args.runs * 3)
        rows.append(
            (
                "CPU per probe on loopback",
                f"mailprobe {cpu_ours * 1000:.1f} ms, baseline {cpu_naive * 1000:.1f} ms, "
                f"ratio **{cpu_ours / cpu_naive:.2f}**",
            )
        )

        users = [f"user{n}" for n in range(args.inboxes)]
        started = time.perf_counter()
        for user in users:
            setup.probe(user, True)
        one_by_one = time.perf_counter() - started
        inboxes = [setup.settings(user, True) for user in users]
        started = time.perf_counter()
        results = mailprobe.probe_many(
            inboxes,
            max_workers=args.workers,
            per_host_limit=args.per_host,
            test_recipient=RECIPIENT,
            ca_file=str(servers.ca_file),
            timeout=60,
        )
        batch = time.perf_counter() - started
        failed = [r.to_dict() for r in results if not r.ok]
        assert not failed, failed[:1]
        rows.append(
            (
                f"{args.inboxes} inboxes, probe_many (workers {args.workers}, per host "
                f"{args.per_host}) vs one by one",
                f"{batch:.2f} s vs {one_by_one:.2f} s, speed-up **{one_by_one / batch:.1f}x**",
            )
        )

        rows.append(("import time of mailprobe", f"{import_time() * 1000:.0f} ms"))
    finally:
        setup.close()
        servers.stop()

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores\n")
    print("| measure | result |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
