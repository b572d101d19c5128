"""Benchmarks: mailprobe against the naive stdlib script and against its peers, on the
real Dovecot and Postfix of the integration suite, through a proxy that adds latency.

    bash scripts/bench.sh            # or: .venv/bin/python benchmarks/run.py [--rounds 3]

Every figure is a ratio of two measurements taken in the same round against the same
servers; a round measures them all, and the table gives the median of the rounds with
their spread (min-max). Peers: ImapFlow + Nodemailer on Node.js (benchmarks/peers/node,
``npm install`` there) and aioimaplib + aiosmtplib on asyncio (the ``bench`` extra).
Prints a Markdown table (it goes into docs/performance.md).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from baseline import naive_probe  # noqa: E402
from tests.mailservers import MailServers, free_port  # noqa: E402

import mailprobe  # noqa: E402

RECIPIENT = "bcc@app.example"
NODE_DIR = BENCH / "peers" / "node"
COLD = """
import sys, json, mailprobe
c = json.loads(sys.argv[1])
s = mailprobe.InboxSettings(email=c["email"], password=c["password"],
    imap=mailprobe.ServerSettings(host=c["host"], port=c["imap_port"], security="tls"),
    smtp=mailprobe.ServerSettings(host=c["host"], port=c["smtp_port"], security="starttls"))
assert mailprobe.probe(s, test_recipient=c["recipient"], ca_file=c["ca_file"]).ok
"""
# The same job trusting what the peers' jobs trust, the CA file alone (mailprobe's
# default, as in COLD, trusts certifi's bundle besides the CA file it is given).
COLD_SAME_TRUST = COLD.replace(
    'ca_file=c["ca_file"]',
    'ssl_context=__import__("ssl").create_default_context(cafile=c["ca_file"])',
)
assert COLD_SAME_TRUST != COLD


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cpu_per_call(fn: Callable[[], object], runs: int) -> float:
    fn()
    gc.collect()
    started = time.process_time()
    for _ in range(runs):
        fn()
    return (time.process_time() - started) / runs


# New processes read compiled bytecode, as they do after ``pip install`` (which compiles
# every module of a wheel; the standard library ships compiled). The development venv
# installs mailprobe editable, and with PYTHONDONTWRITEBYTECODE set (as on the
# development machine) every start would compile mailprobe's sources again; the
# "no bytecode" import row measures that case too.
PYCACHE = Path(tempfile.mkdtemp(prefix="mailprobe-bench-pycache-"))
COMPILED = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPYCACHEPREFIX": str(PYCACHE),
}
UNCOMPILED = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"},
    "PYTHONDONTWRITEBYTECODE": "1",
}
IMPORTS = {
    "ours": "import mailprobe",
    "from": "from mailprobe import probe, InboxSettings, ServerSettings",
    "trio": "import imaplib, smtplib, ssl",
}


def wall(command: list[str], env: Optional[dict[str, str]] = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env or COMPILED)
    return time.perf_counter() - started


def import_times(env: dict[str, str], runs: int = 9) -> dict[str, float]:
    """Milliseconds of each statement of ``IMPORTS`` in a fresh interpreter, less an
    empty one; the statements take turns, so load on the machine hits them alike."""
    python = [sys.executable, "-c"]
    wall([*python, "; ".join(IMPORTS.values())], env)  # bytecode written (if it is) once
    times: dict[str, list[float]] = {"bare": [], **{key: [] for key in IMPORTS}}
    for _ in range(runs):
        times["bare"].append(wall([*python, "pass"], env))
        for key, statement in IMPORTS.items():
            times[key].append(wall([*python, statement], env))
    bare = statistics.median(times["bare"])
    return {key: (statistics.median(times[key]) - bare) * 1000 for key in IMPORTS}


class Setup:
    def __init__(self, servers: MailServers, delay: float) -> None:
        self.servers = servers
        self.imap_proxy, self.smtp_proxy = free_port(), free_port()
        self.proxy = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "delay_proxy.py"),
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
        self.prober = mailprobe.Prober(ca_file=str(servers.ca_file), timeout=120)

    def close(self) -> None:
        self.proxy.kill()
        self.proxy.wait()

    def ports(self, proxied: bool) -> tuple[int, int]:
        if proxied:
            return self.imap_proxy, self.smtp_proxy
        return self.servers.imaps_port, self.servers.smtp_port

    def settings(self, user: str, proxied: bool) -> mailprobe.InboxSettings:
        account = self.servers.accounts[user]
        imap_port, smtp_port = self.ports(proxied)
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
        result = self.prober.probe(self.settings(user, proxied), test_recipient=RECIPIENT)
        assert result.ok, result.to_dict()
        return result

    def naive(self, user: str, proxied: bool, *, with_certifi: bool = False) -> None:
        account = self.servers.accounts[user]
        imap_port, smtp_port = self.ports(proxied)
        naive_probe(
            host="127.0.0.1",
            imap_port=imap_port,
            smtp_port=smtp_port,
            login=account.login,
            password=account.password,
            email=account.email,
            recipient=RECIPIENT,
            ca_file=str(self.servers.ca_file),
            with_certifi=with_certifi,
        )

    def config(self, proxied: bool, users: Optional[list[str]] = None) -> str:
        imap_port, smtp_port = self.ports(proxied)
        alice = self.servers.accounts["alice"]
        accounts = [self.servers.accounts[u] for u in users or []]
        return json.dumps(
            {
                "host": "127.0.0.1",
                "imap_port": imap_port,
                "smtp_port": smtp_port,
                "login": alice.login,
                "password": alice.password,
                "email": alice.email,
                "recipient": RECIPIENT,
                "ca_file": str(self.servers.ca_file),
                "users": [[a.login, a.password, a.email] for a in accounts],
            }
        )


def peer(command: list[str]) -> dict[str, float]:
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def peers() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    node = shutil.which("node")
    if node and (NODE_DIR / "node_modules" / "imapflow").exists():
        found["ImapFlow + Nodemailer"] = [node, str(NODE_DIR / "job.mjs")]
    import importlib.util  # noqa: PLC0415

    if all(importlib.util.find_spec(m) for m in ("aioimaplib", "aiosmtplib")):
        found["aioimaplib + aiosmtplib"] = [sys.executable, str(BENCH / "peers" / "aio_job.py")]
    return found


def one_round(setup: Setup, args: argparse.Namespace) -> dict[str, float]:
    f: dict[str, float] = {}
    runs = args.runs
    # Latency: one probe through the proxy.
    f["latency ours s"] = median_time(lambda: setup.probe("alice", True), runs)
    f["latency naive s"] = median_time(lambda: setup.naive("alice", True), runs)
    # CPU per probe on loopback (this process: every thread's CPU counts).
    f["cpu ours ms"] = 1000 * cpu_per_call(lambda: setup.probe("alice", False), runs * 4)
    f["cpu naive ms"] = 1000 * cpu_per_call(lambda: setup.naive("alice", False), runs * 4)
    f["cpu naive certifi ms"] = 1000 * cpu_per_call(
        lambda: setup.naive("alice", False, with_certifi=True), runs * 4
    )
    # A batch through the proxy against the same probes one by one.
    users = [f"user{n}" for n in range(args.batch)]
    started = time.perf_counter()
    for user in users:
        setup.probe(user, True)
    f["one by one s"] = time.perf_counter() - started
    inboxes = [setup.settings(user, True) for user in users]
    started = time.perf_counter()
    results = setup.prober.probe_many(
        inboxes, max_workers=args.workers, per_host_limit=args.per_host, test_recipient=RECIPIENT
    )
    f["batch ours s"] = time.perf_counter() - started
    assert all(r.ok for r in results), [r.to_dict() for r in results if not r.ok][:1]
    for key, ms in import_times(COMPILED).items():
        f[f"import {key} ms"] = ms
    for key, ms in import_times(UNCOMPILED).items():
        f[f"import {key} nobytecode ms"] = ms
    wall([sys.executable, "-c", COLD, setup.config(False)])  # bytecode written once
    cold: dict[str, list[float]] = {"cold ours s": [], "cold ours-same-trust s": []}
    for _ in range(7):  # taking turns, so load on the machine hits both alike
        cold["cold ours s"].append(wall([sys.executable, "-c", COLD, setup.config(False)]))
        cold["cold ours-same-trust s"].append(
            wall([sys.executable, "-c", COLD_SAME_TRUST, setup.config(False)])
        )
    for key, times in cold.items():
        f[key] = statistics.median(times)
    for name, command in peers().items():
        f[f"latency {name} s"] = statistics.median(
            peer([*command, "once", setup.config(True)])["seconds"] for _ in range(runs)
        )
        f[f"cpu {name} ms"] = 1000 * peer([*command, "cpu", str(runs * 4), setup.config(False)])[
            "cpu_per_job"
        ]
        f[f"batch {name} s"] = peer(
            [*command, "batch", str(args.batch), setup.config(True, users)]
        )["seconds"]
        wall([*command, "once", setup.config(False)])  # bytecode written once
        f[f"cold {name} s"] = statistics.median(
            wall([*command, "once", setup.config(False)]) for _ in range(7)
        )
    return f


def scale(setup: Setup, args: argparse.Namespace) -> dict[str, float]:
    users = [f"user{n}" for n in range(args.inboxes)]
    config = json.loads(setup.config(False, users))
    config["workers"] = args.workers
    out = subprocess.run(
        [sys.executable, str(BENCH / "scale.py"), json.dumps(config)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def spread(values: list[float], fmt: str) -> str:
    middle = statistics.median(values)
    if len(values) < 2:
        return format(middle, fmt)
    return f"{format(middle, fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def table(rounds: list[dict[str, float]], scales: list[dict[str, float]], args: Any) -> None:
    def ratio(a: str, b: str) -> list[float]:
        return [r[a] / r[b] for r in rounds]

    def col(key: str) -> list[float]:
        return [r[key] for r in rounds]

    rows = [
        ("CPU per probe on loopback vs the naive script, same CA file (target <= 0.5)",
         f"**{spread(ratio('cpu ours ms', 'cpu naive ms'), '.2f')}**; mailprobe "
         f"{spread(col('cpu ours ms'), '.2f')} ms, naive {spread(col('cpu naive ms'), '.2f')} ms"),
        ("CPU per probe vs the naive script loading certifi's bundle per connection",
         f"**{spread(ratio('cpu ours ms', 'cpu naive certifi ms'), '.2f')}**; naive "
         f"{spread(col('cpu naive certifi ms'), '.2f')} ms"),
        (f"latency through the proxy ({args.delay * 1000:.0f} ms each way; target <= 0.45)",
         f"**{spread(ratio('latency ours s', 'latency naive s'), '.2f')}**; mailprobe "
         f"{spread(col('latency ours s'), '.3f')} s, "
         f"naive {spread(col('latency naive s'), '.3f')} s"),
        (f"{args.batch} probes, {args.workers} workers, per host {args.per_host}, through the "
         "proxy, speed-up over one by one (target >= 16)",
         f"**{spread(ratio('one by one s', 'batch ours s'), '.1f')}x**; "
         f"{spread(col('batch ours s'), '.2f')} s vs {spread(col('one by one s'), '.2f')} s"),
        ("import mailprobe vs import imaplib, smtplib, ssl (target <= 1.5)",
         f"**{spread(ratio('import ours ms', 'import trio ms'), '.2f')}**; "
         f"{spread(col('import ours ms'), '.0f')} ms vs {spread(col('import trio ms'), '.0f')} ms"),
        ("from mailprobe import probe, InboxSettings, ServerSettings vs the trio",
         f"**{spread(ratio('import from ms', 'import trio ms'), '.2f')}**; "
         f"{spread(col('import from ms'), '.0f')} ms"),
        ("... both without bytecode (sources compiled at every start, as an editable install "
         "under PYTHONDONTWRITEBYTECODE)",
         f"**{spread(ratio('import ours nobytecode ms', 'import trio nobytecode ms'), '.2f')}** "
         f"and **{spread(ratio('import from nobytecode ms', 'import trio nobytecode ms'), '.2f')}"
         f"**; {spread(col('import ours nobytecode ms'), '.0f')} ms and "
         f"{spread(col('import from nobytecode ms'), '.0f')} ms vs "
         f"{spread(col('import trio nobytecode ms'), '.0f')} ms"),
    ]
    for name in peers():
        for what, key, fmt, unit in (
            ("latency (one job through the proxy)", "latency {} s", ".3f", "s"),
            ("CPU per job on loopback", "cpu {} ms", ".2f", "ms"),
            (f"batch wall time ({args.batch} jobs at once, through the proxy)", "batch {} s",
             ".2f", "s"),
            ("cold start (new process, one job on loopback)", "cold {} s", ".3f", "s"),
        ):
            ours_key = key.format("ours")
            theirs_key = key.format(name)
            rows.append(
                (f"{name}: {what}, theirs / mailprobe (> 1: mailprobe ahead)",
                 f"**{spread(ratio(theirs_key, ours_key), '.2f')}**; {name} "
                 f"{spread(col(theirs_key), fmt)} {unit}, mailprobe {spread(col(ours_key), fmt)} "
                 f"{unit}"),
            )
    for name in peers():
        theirs_key = f"cold {name} s"
        rows.append(
            (f"{name}: cold start with the peer's trust (the CA file alone, as `ssl_context`; "
             "mailprobe's default adds certifi's bundle), theirs / mailprobe",
             f"**{spread(ratio(theirs_key, 'cold ours-same-trust s'), '.2f')}**; mailprobe "
             f"{spread(col('cold ours-same-trust s'), '.3f')} s"),
        )
    if scales:
        inboxes = scales[0]["inboxes"]
        per = [(s["peak_rss_mb"] - s["rss_before_mb"]) * 1024 / inboxes for s in scales]
        rows += [
            (f"probe_many over {inboxes:.0f} inboxes on loopback ({args.workers} workers, "
             "collect=False): peak RSS of the process",
             f"{spread([s['peak_rss_mb'] for s in scales], '.0f')} MB (before the batch "
             f"{spread([s['rss_before_mb'] for s in scales], '.0f')} MB); "
             f"{spread(per, '.1f')} KB per inbox; "
             f"{spread([s['seconds'] for s in scales], '.1f')} s"),
            ("... peak thread count of the process",
             f"{spread([s['peak_threads'] for s in scales], '.0f')} "
             f"(2 x {args.workers} leg workers, the deadline clock, the main thread)"),
        ]
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {len(rounds)} rounds\n")
    print("| measure | result: median of the rounds (min-max) |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.025, help="one-way delay (s)")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure in a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=40, help="probes in the batch figure")
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--per-host", type=int, default=32)
    parser.add_argument("--inboxes", type=int, default=1000, help="inboxes in the scale run")
    args = parser.parse_args(argv)

    servers = MailServers.create(extra_users=max(args.batch, args.inboxes))
    servers.start()
    setup = Setup(servers, args.delay)
    rounds: list[dict[str, float]] = []
    scales: list[dict[str, float]] = []
    try:
        setup.probe("alice", True)  # warm up: TLS contexts, imports, server processes
        setup.naive("alice", True)
        for number in range(args.rounds):
            print(f"round {number + 1} of {args.rounds}...", file=sys.stderr)
            rounds.append(one_round(setup, args))
            if args.inboxes:
                scales.append(scale(setup, args))
    finally:
        setup.close()
        servers.stop()
        shutil.rmtree(PYCACHE, ignore_errors=True)
    table(rounds, scales, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
