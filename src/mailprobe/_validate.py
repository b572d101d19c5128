"""The IMAP validation stage: the protocol version, INBOX, the folders and what is missing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from ._errors import CapabilityError
from ._transports._base import Folder, ImapConnection

_SENT_NAMES = (
    "sent",
    "sent items",
    "sent messages",
    "sent mail",
    "gesendet",
    "gesendete elemente",
    "envoyés",
    "éléments envoyés",
    "enviados",
    "inviata",
)


def validate_imap(
    conn: ImapConnection, required: tuple[str, ...], details: dict[str, Any]
) -> tuple[str, ...]:
    """Check the server and fill ``details``; returns the capabilities in force.

    Raises ``CapabilityError`` when neither IMAP4rev1 nor IMAP4rev2 is spoken or a
    ``required`` capability is missing (after INBOX and the folders were looked at).
    """
    caps = conn.capabilities()
    upper = {c.upper() for c in caps}
    details["capabilities"] = list(caps)
    version = next((v for v in ("IMAP4rev2", "IMAP4rev1") if v.upper() in upper), None)
    if version is None:
        raise CapabilityError(
            "the server speaks neither IMAP4rev1 nor IMAP4rev2",
            missing=("IMAP4rev1",),
            command="CAPABILITY",
        )
    details["imap_version"] = version
    details["inbox"] = dict(conn.examine("INBOX"))
    folders = conn.list_folders()
    details["folder_count"] = len(folders)
    details["folders"] = [f.name for f in folders[:200]]
    details["sent_folder"] = find_sent_folder(folders)
    missing = [c for c in required if c not in upper]
    details["missing_capabilities"] = missing
    if missing:
        raise CapabilityError(
            f"the server does not offer {', '.join(missing)}",
            missing=tuple(missing),
            command="CAPABILITY",
        )
    return caps


def find_sent_folder(folders: Iterable[Folder]) -> Optional[str]:
    """The folder flagged ``\\Sent`` (RFC 6154), else the first with a usual Sent name."""
    folders = list(folders)
    for folder in folders:
        if any(flag.lower() == "\\sent" for flag in folder.flags):
            return folder.name
    for folder in folders:
        leaf = folder.name.rsplit(folder.delimiter, 1)[-1] if folder.delimiter else folder.name
        if leaf.lower() in _SENT_NAMES:
            return folder.name
    return None
