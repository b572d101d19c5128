"""The same check with aioimaplib and aiosmtplib on asyncio, for the benchmarks.

    python aio_job.py MODE [N] CONFIG_JSON       MODE: once | cpu N | batch N

Prints one JSON line: {"seconds": wall time} or {"cpu_per_job": seconds}.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
from email.message import EmailMessage
from typing import Any

import aioimaplib
import aiosmtplib


async def job(config: dict[str, Any], context: ssl.SSLContext, user: list[str]) -> None:
    login, password, email = user

    async def imap_leg() -> None:
        imap = aioimaplib.IMAP4_SSL(
            host=config["host"], port=config["imap_port"], ssl_context=context, timeout=30
        )
        await imap.wait_hello_from_server()
        response = await imap.login(login, password)
        assert response.result == "OK", response
        await imap.list('""', "*")
        await imap.examine("INBOX")
        await imap.logout()

    async def smtp_leg() -> None:
        message = EmailMessage()
        message["From"] = email
        message["Subject"] = "Mailbox connection test"
        message.set_content("This message was sent automatically.\n")
        await aiosmtplib.send(
            message,
            recipients=[config["recipient"]],
            hostname=config["host"],
            port=config["smtp_port"],
            start_tls=True,
            username=login,
            password=password,
            tls_context=context,
            timeout=30,
        )

    await asyncio.gather(imap_leg(), smtp_leg())


async def main(argv: list[str]) -> None:
    mode = argv[0]
    count = int(argv[1]) if len(argv) > 2 else 1
    config = json.loads(argv[-1])
    context = ssl.create_default_context(cafile=config["ca_file"])
    users = config.get("users") or [[config["login"], config["password"], config["email"]]]
    started = time.perf_counter()
    if mode == "once":
        await job(config, context, users[0])
        print(json.dumps({"seconds": time.perf_counter() - started}))
    elif mode == "cpu":
        await job(config, context, users[0])
        before = time.process_time()
        for _ in range(count):
            await job(config, context, users[0])
        print(json.dumps({"cpu_per_job": (time.process_time() - before) / count}))
    elif mode == "batch":
        await asyncio.gather(*(job(config, context, users[i % len(users)]) for i in range(count)))
        print(json.dumps({"seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
