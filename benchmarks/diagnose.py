"""How long the diagnosis takes: the rule tables compiled once per process, then every
reply of the corpus (tests/replies/) classified through the scripted transport.

    .venv/bin/python benchmarks/diagnose.py

Prints the one-off compile time (in a fresh interpreter) and, over the corpus, the
median and 95th percentile time of a failed probe that ends in a diagnosis, next to a
probe the script lets pass (so the difference is the diagnosis). Nothing leaves the
machine: the scripted transport opens no socket.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import corpus  # noqa: E402
from tests.conftest import scripted_settings  # noqa: E402

import mailprobe  # noqa: E402
from mailprobe.testing import ScriptedTransport  # noqa: E402

COMPILE = """
import time
from mailprobe._rules import _table, _advice
t = time.perf_counter()
_table.data_rules(); _table.code_tables(); _advice.causes(); _advice.english()
print(time.perf_counter() - t)
"""


def compile_time(runs: int = 5) -> float:
    times = [
        float(subprocess.run([sys.executable, "-c", COMPILE], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout)
        for _ in range(runs)
    ]
    return statistics.median(times)


def passing_probe() -> None:
    mailprobe.probe(scripted_settings(), test_recipient="bcc@app.example",
                    transport=ScriptedTransport())


def main() -> int:
    rows = [r for r in corpus.load() if not r.get("excluded")]
    for row in rows[:50]:  # warm: tables compiled, caches filled
        corpus.probe_row(row)
    failed: list[float] = []
    for _ in range(3):
        for row in rows:
            start = time.perf_counter()
            corpus.probe_row(row)
            failed.append(time.perf_counter() - start)
    passed: list[float] = []
    for _ in range(len(failed)):
        start = time.perf_counter()
        passing_probe()
        passed.append(time.perf_counter() - start)
    failed.sort()
    passed.sort()
    rules = len(mailprobe.builtin_rules())
    print(f"rules: {rules} built-in (data rows, code tables, computed rules)")
    print(f"tables read and compiled once per process: {compile_time() * 1000:.1f} ms "
          "(median of 5 fresh interpreters, imports excluded)")
    print(f"probe ending in a diagnosis, {len(rows)} replies x 3: "
          f"median {statistics.median(failed) * 1e6:.0f} us, "
          f"p95 {failed[int(len(failed) * 0.95)] * 1e6:.0f} us")
    print(f"probe that passes (no diagnosis): median {statistics.median(passed) * 1e6:.0f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
