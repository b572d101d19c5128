"""Probes from a task queue: RQ workers run ``Prober.probe``; results travel back as JSON.

An app that re-checks thousands of inboxes spreads them over worker processes (and
machines) through a queue. The job carries only an inbox id: each worker reads the
credentials from the app's own store, so no password passes through the broker, and
the result comes back as ``ProbeResult.to_dict()`` (JSON), rebuilt with ``from_dict``.

Worker (one Prober per process, built on the first job and reused):

    MAILPROBE_INBOXES=inboxes.json rq worker --url redis://127.0.0.1:6379 \\
        --serializer rq.serializers.JSONSerializer mailprobe

App:

    queue = Queue("mailprobe", connection=Redis(), serializer=JSONSerializer)
    jobs = enqueue_checks(queue, ["inbox-1", "inbox-2"], test_recipient="bcc@app.example")
    results = [result_of(job) for job in jobs]     # once each job is finished
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from typing import Any, Optional

import mailprobe

#: Seconds a job may run: the probe's own deadline plus room for the worker.
PROBE_TIMEOUT = 30.0
JOB_TIMEOUT = int(PROBE_TIMEOUT) + 30

_prober: Optional[mailprobe.Prober] = None
_lock = threading.Lock()


def prober() -> mailprobe.Prober:
    """This worker's Prober: trust store, rules and provider data built once."""
    global _prober  # noqa: PLW0603
    with _lock:
        if _prober is None:
            _prober = mailprobe.Prober(
                ca_file=os.environ.get("MAILPROBE_CA_FILE"), timeout=PROBE_TIMEOUT
            )
        return _prober


def load_settings(inbox_id: str) -> mailprobe.InboxSettings:
    """The app's own credential store; here a JSON file of web-form mappings by id."""
    with open(os.environ["MAILPROBE_INBOXES"], encoding="utf-8") as store:
        forms: dict[str, Any] = json.load(store)
    return mailprobe.InboxSettings.from_form(forms[inbox_id])


def check_inbox(inbox_id: str, test_recipient: Optional[str] = None) -> dict[str, Any]:
    """The job: probe one inbox and return the result as JSON-safe data."""
    result = prober().probe(load_settings(inbox_id), test_recipient=test_recipient)
    return result.to_dict()


# -- the app's side ---------------------------------------------------------------------
def enqueue_checks(queue: Any, inbox_ids: Iterable[str], **options: Any) -> list[Any]:
    """One job per inbox on an RQ ``queue`` (made with ``serializer=JSONSerializer``)."""
    return [
        queue.enqueue(
            "task_queue.check_inbox", args=(inbox_id,), kwargs=options, job_timeout=JOB_TIMEOUT
        )
        for inbox_id in inbox_ids
    ]


def result_of(job: Any) -> mailprobe.ProbeResult:
    """A finished job's probe result, rebuilt from its JSON."""
    return mailprobe.ProbeResult.from_dict(job.return_value())
