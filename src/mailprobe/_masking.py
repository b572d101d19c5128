"""Keeping secrets out of results: every form a password or token travels in, masked.

Transports mask credentials where they send them; this is the second net for what a
server or an error echoes back.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from ._settings import InboxSettings, ServerSettings
from ._transports import _sasl as sasl

MASK = "********"
T = TypeVar("T")


def secret_forms(settings: InboxSettings, server: ServerSettings) -> list[str]:
    """The password or token used on ``server``, and their base64 forms in SASL."""
    login, secret = settings.login_for(server)
    forms = {s for s in (secret, settings.password, settings.oauth2_token) if s}
    raw = [
        secret.encode(),
        sasl.plain(login, secret),
        sasl.xoauth2(login, secret),
        sasl.oauthbearer(login, secret, server.host, server.port),
    ]
    forms |= {base64.b64encode(r).decode() for r in raw}
    return sorted(forms, key=len, reverse=True)  # longest first: no partial leftovers


def mask_text(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def scrub(value: T, secrets: list[str]) -> T:
    """A copy of ``value`` (strings, mappings, tuples, attrs objects) with secrets masked."""

    def clean(item: Any) -> Any:
        if isinstance(item, enum.Enum):
            return item
        if isinstance(item, str):
            return mask_text(item, secrets)
        if isinstance(item, Mapping):
            return {k: clean(v) for k, v in item.items()}
        if isinstance(item, tuple):
            return tuple(clean(v) for v in item)
        if attrs.has(type(item)):
            fields = attrs.fields(type(item))
            return attrs.evolve(
                item, **{f.name: clean(getattr(item, f.name)) for f in fields if f.init}
            )
        return item

    cleaned: T = clean(value)
    return cleaned
