"""probe_many over many inboxes in a fresh process: peak RSS and thread count.

    python benchmarks/scale.py CONFIG_JSON    (run.py passes the servers and accounts)

Prints one JSON line. Results stream through on_result with collect=False.
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time

import mailprobe


def main(config: dict[str, object]) -> None:
    users = config["users"]
    assert isinstance(users, list)
    workers = int(str(config["workers"]))

    def inbox(user: list[str]) -> mailprobe.InboxSettings:
        login, password, email = user
        return mailprobe.InboxSettings(
            email=email,
            username=login if login != email else None,
            password=password,
            imap=mailprobe.ServerSettings(
                host="127.0.0.1", port=int(str(config["imap_port"])), security="tls"
            ),
            smtp=mailprobe.ServerSettings(
                host="127.0.0.1", port=int(str(config["smtp_port"])), security="starttls"
            ),
        )

    prober = mailprobe.Prober(ca_file=str(config["ca_file"]), timeout=120)
    assert prober.probe(inbox(users[0]), test_recipient=str(config["recipient"])).ok
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_threads = [threading.active_count()]
    stop = threading.Event()

    def sample() -> None:  # this sampler is one thread more than the batch uses
        while not stop.wait(0.005):
            peak_threads.append(threading.active_count() - 1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    failed = []
    started = time.perf_counter()
    prober.probe_many(
        (inbox(user) for user in users),
        max_workers=workers,
        per_host_limit=None,
        collect=False,
        on_result=lambda i, r: None if r.ok else failed.append(r.to_dict()),
        test_recipient=str(config["recipient"]),
    )
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    after_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert not failed, failed[:1]
    print(
        json.dumps(
            {
                "inboxes": len(users),
                "seconds": wall,
                "peak_rss_mb": after_kb / 1024,
                "rss_before_mb": before_kb / 1024,
                "peak_threads": max(peak_threads),
            }
        )
    )


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
