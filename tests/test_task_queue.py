"""The task-queue recipe (examples/task_queue.py) with a real queue: Redis from Debian
and RQ workers, both started here on 127.0.0.1 and stopped by pid."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .mailservers import ACCOUNTS, MailServers, free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _wait_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 20) -> None:
    import socket

    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if proc.poll() is not None:
            raise RuntimeError(f"exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} did not open")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End exactly this process (by its pid), politely first."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(server):
        pytest.fail("redis-server is not installed (scripts/install-servers.sh installs it)")
    port = free_port()
    directory = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", str(directory), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def worker(
    redis_url: str, servers: MailServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, dict[str, Any]]]:
    """An RQ worker running the recipe's job, with the app's credential store."""
    inboxes: dict[str, dict[str, Any]] = {}
    for name in ("alice", "carol"):
        account = ACCOUNTS[name]
        inboxes[name] = {"email": account.email, "password": account.password}
    wrong = ACCOUNTS["bob"]
    inboxes["bob-wrong"] = {"email": wrong.email, "username": wrong.login, "password": "nope-x"}
    for form in inboxes.values():
        form.update(
            imap={"host": "127.0.0.1", "port": servers.imaps_port, "security": "tls"},
            smtp={"host": "127.0.0.1", "port": servers.smtp_port, "security": "starttls"},
        )
    store = tmp_path_factory.mktemp("store") / "inboxes.json"
    store.write_text(json.dumps(inboxes), encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")]),
        "MAILPROBE_INBOXES": str(store),
        "MAILPROBE_CA_FILE": str(servers.ca_file),
    }
    rq = Path(sys.executable).parent / "rq"
    proc = subprocess.Popen(
        [str(rq), "worker", "--url", redis_url, "--serializer",
         "rq.serializers.JSONSerializer", "mailprobe"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield inboxes
    finally:
        _stop(proc)


def test_a_worker_probes_and_the_result_comes_back_as_json(
    redis_url: str, worker: dict[str, dict[str, Any]]
) -> None:
    from redis import Redis
    from rq import Queue
    from rq.serializers import JSONSerializer

    sys.path.insert(0, str(EXAMPLES))
    try:
        import task_queue
    finally:
        sys.path.remove(str(EXAMPLES))

    connection = Redis.from_url(redis_url)
    try:
        queue = Queue("mailprobe", connection=connection, serializer=JSONSerializer)
        ids = ["alice", "bob-wrong", "carol"]
        jobs = task_queue.enqueue_checks(queue, ids, test_recipient="bcc@app.example")
        ends = time.monotonic() + 90
        while not all(job.is_finished or job.is_failed for job in jobs):
            assert time.monotonic() < ends, [job.get_status() for job in jobs]
            time.sleep(0.1)
            for job in jobs:
                job.refresh()
        assert not any(job.is_failed for job in jobs), [job.exc_info for job in jobs]
        results = {i: task_queue.result_of(job) for i, job in zip(ids, jobs)}
        assert results["alice"].ok and results["carol"].ok
        denied = results["bob-wrong"].diagnosis
        assert denied is not None and denied.cause == "invalid_credentials"
        for job, result in zip(jobs, results.values()):
            assert result.to_dict() == job.return_value()  # the JSON round trip is exact
        # Only inbox ids went through the broker, and no password came back.
        for inbox_id, job in zip(ids, jobs):
            assert tuple(job.args) == (inbox_id,)
            carried = json.dumps([job.args, job.kwargs, job.return_value()])
            for form in worker.values():
                assert form["password"] not in carried
    finally:
        connection.close()
