"""The default transport: ``imaplib``, ``smtplib`` and ``ssl`` from the standard library."""

from __future__ import annotations

from .._deadline import Deadline
from ._base import Endpoint
from ._imap import ImapConnection
from ._smtp import SmtpConnection


class StdlibTransport:
    """Connects for real. Stateless and thread-safe: one instance serves any number of probes."""

    def connect_imap(self, endpoint: Endpoint, deadline: Deadline) -> ImapConnection:
        return ImapConnection(endpoint, deadline)

    def connect_smtp(self, endpoint: Endpoint, deadline: Deadline) -> SmtpConnection:
        return SmtpConnection(endpoint, deadline)
