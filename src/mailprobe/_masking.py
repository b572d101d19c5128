"""Keeping secrets out of results: every form a password or token travels in, masked.

Transports mask credentials where they send them; this is the second net for what a
server or an error echoes back. A server may echo a secret in any encoding it likes, so
a ``Masker`` looks for each secret as typed (in any letter case), in hex, URL-encoded,
quoted-printable, as an IMAP or JSON quoted string, and in base64 (standard and
URL-safe, padded or not, alone or inside a longer base64 blob such as a SASL PLAIN
message).

Only free text is masked: server replies, transcripts, messages and hints. Structured
fields (host names, logins, folder names, capabilities) are left alone, so a password
that happens to be a common word does not blot out ``imap.example.com``.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, Optional, TypeVar

import attrs

from ._transports import _sasl as sasl

MASK = "********"
T = TypeVar("T")
E = TypeVar("E", bound=BaseException)

#: Field and key names whose strings are free text (searched for secrets); anything
#: below such a name is masked too. Every other string is structured and left alone.
FREE_TEXT = frozenset(
    {
        "message",
        "server_text",
        "challenge",
        "hints",
        "links",
        "summary",
        "params",
        "matched",
        "greeting",
        "transcript",
        "server_reply",
        "certificate_error",
        "refusal",
        "warnings",
        "text",
        "reason",
    }
)
_MIN_BASE64_CORE = 6  # shorter fragments of a base64 encoding would mask innocent text


def _base64_cores(data: bytes) -> set[str]:
    """Substrings that any base64 encoding of a byte string containing ``data`` holds,
    whatever ``data``'s offset (one per alignment modulo 3, both alphabets)."""
    cores: set[str] = set()
    for shift in range(3):
        start = -(-8 * shift // 6)  # first character made of ``data``'s bits only
        end = (8 * shift + 8 * len(data)) // 6
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            core = encode(b"\0" * shift + data).decode("ascii")[start:end]
            if len(core) >= _MIN_BASE64_CORE:
                cores.add(core)
    return cores


def _text_forms(secret: str) -> set[str]:
    """The forms of ``secret`` matched without regard to letter case."""
    # Imported with the first forms (a probe's first masked text), not at import.
    import json  # noqa: PLC0415
    import quopri  # noqa: PLC0415
    import urllib.parse  # noqa: PLC0415

    raw = secret.encode("utf-8")
    qp = quopri.encodestring(raw, quotetabs=True).decode("ascii")
    return {
        secret,
        raw.hex(),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe=""),
        qp.replace("=\n", ""),  # soft line breaks undone
        secret.replace("\\", "\\\\").replace('"', '\\"'),  # IMAP quoted (RFC 3501 4.3)
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }


def _binary_forms(raw: bytes) -> set[str]:
    """Case-sensitive base64 forms of ``raw``: whole (padded or not) and as cores."""
    forms = _base64_cores(raw)
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms |= {whole, whole.rstrip("=")}
    return forms


def _alternation(forms: Iterable[str], flags: int) -> Optional[re.Pattern[str]]:
    ordered = sorted({f for f in forms if f}, key=len, reverse=True)  # longest first
    if not ordered:
        return None
    return re.compile("|".join(re.escape(f) for f in ordered), flags)


# ``re.IGNORECASE`` matches two characters when their simple lower cases are equal, and
# also i with dotless i (re/_casefix.py); casefolding both sides, with the two Turkish
# i's taken as i first, gives a quick test that finds every text the pattern would
# (checked for every code point in tests/test_secrets.py).
_TURKISH_I = {0x130: "i", 0x131: "i"}


def fold(text: str) -> str:
    """``text`` folded so that a case-insensitive match implies a substring match."""
    return text.translate(_TURKISH_I).casefold()


class _Forms:
    """The forms of a masker's secrets, and the patterns that replace them."""

    def __init__(self, secrets: Iterable[str], tokens: Iterable[bytes]) -> None:
        text: set[str] = set()
        binary: set[str] = set()
        for secret in secrets:
            text |= _text_forms(secret)
            binary |= _binary_forms(secret.encode("utf-8"))
        for token in tokens:
            binary |= _binary_forms(token)
        self.text = tuple(text)
        self.binary = tuple(f for f in binary if f)
        self.folded = tuple({fold(f) for f in text if f})
        self._patterns: Optional[tuple[Optional[re.Pattern[str]], ...]] = None

    def found_in(self, text: str) -> bool:
        """False only when no form can occur in ``text`` (the patterns need not run)."""
        if any(form in text for form in self.binary):
            return True
        folded = fold(text)
        return any(form in folded for form in self.folded)

    def patterns(self) -> tuple[Optional[re.Pattern[str]], ...]:
        patterns = self._patterns
        if patterns is None:  # compiled once, when a secret first shows up
            patterns = (_alternation(self.text, re.IGNORECASE), _alternation(self.binary, 0))
            self._patterns = patterns
        return patterns


class Masker:
    """Masks every form of the given secrets in a text. Immutable and thread-safe.

    ``tokens`` are further byte strings that carry a secret (SASL messages); their
    base64 forms are masked as well. The forms are worked out when the first text is
    masked, and the patterns compiled only once a text holds one of them: most texts
    (a greeting, a server's final reply) hold none.
    """

    def __init__(self, secrets: Iterable[str], tokens: Iterable[bytes] = ()) -> None:
        self._secrets = tuple(s for s in secrets if s)
        self._tokens = tuple(tokens)
        self._forms: Optional[_Forms] = None
        self.empty = not self._secrets

    def __repr__(self) -> str:  # never show the forms: they are the secrets
        return f"<Masker {'empty' if self.empty else 'armed'}>"

    def mask(self, text: str) -> str:
        """``text`` with every occurrence of a secret replaced by ``********``."""
        forms = self._forms
        if forms is None:
            forms = self._forms = _Forms(self._secrets, self._tokens)
        if not text or not forms.found_in(text):
            return text
        for pattern in forms.patterns():
            if pattern is not None:
                text = pattern.sub(MASK, text)
        return text

    def mask_bytes(self, data: bytes) -> bytes:
        """The same for bytes (decoded as UTF-8, undecodable bytes kept)."""
        text = data.decode("utf-8", "surrogateescape")
        masked = self.mask(text)
        return data if masked == text else masked.encode("utf-8", "surrogateescape")

    def contains(self, text: str) -> bool:
        return self.mask(text) != text


def login_masker(login: str, secret: str, host: str = "", port: int = 0) -> Masker:
    """The masker for one login: the secret and the SASL messages that carry it."""
    tokens = [
        sasl.plain(login, secret),
        sasl.xoauth2(login, secret),
        sasl.oauthbearer(login, secret, host, port),
    ]
    return Masker([secret], tokens)


def secret_forms(settings: Any, server: Any) -> Masker:
    """The masker for ``settings`` used on ``server``: the password or token used there,
    the inbox's password and token, and the SASL messages carrying them."""
    login, secret = settings.login_for(server)
    secrets = {s for s in (secret, settings.password, settings.oauth2_token) if s}
    tokens = [
        sasl.plain(login, secret),
        sasl.xoauth2(login, secret),
        sasl.oauthbearer(login, secret, server.host, server.port),
    ]
    return Masker(sorted(secrets), tokens)


def mask_text(text: str, secrets: Masker) -> str:
    return secrets.mask(text)


def _mask_any(value: Any, masker: Masker) -> Any:
    """Every string in ``value`` (strings, bytes, tuples, lists, mappings) masked."""
    if isinstance(value, str):
        return masker.mask(value)
    if isinstance(value, (bytes, bytearray)):
        return masker.mask_bytes(bytes(value))
    if isinstance(value, tuple):
        return tuple(_mask_any(v, masker) for v in value)
    if isinstance(value, list):
        return [_mask_any(v, masker) for v in value]
    if isinstance(value, Mapping):
        return {k: _mask_any(v, masker) for k, v in value.items()}
    return value


_PLAIN = frozenset({int, float, bool, type(None)})  # values that hold no text


def scrub(value: T, secrets: Masker) -> T:
    """A copy of ``value`` (mappings, tuples, attrs objects) with secrets masked in its
    free-text fields (see ``FREE_TEXT``); structured fields are kept as they are."""

    def clean(item: Any, free: bool) -> Any:
        kind = type(item)
        # The usual types first, by exact type (a str enum is not exactly str, so it
        # still takes the general path below, where it is kept as it is).
        if kind is str:
            return secrets.mask(item) if free else item
        if kind in _PLAIN:
            return item
        if kind is dict:
            return {k: clean(v, free or k in FREE_TEXT) for k, v in item.items()}
        if kind is list or kind is tuple:
            return kind(clean(v, free) for v in item)
        if isinstance(item, enum.Enum):
            return item
        if isinstance(item, str):
            return secrets.mask(item) if free else item
        if isinstance(item, Mapping):
            return {k: clean(v, free or k in FREE_TEXT) for k, v in item.items()}
        if isinstance(item, (tuple, list)):
            return type(item)(clean(v, free) for v in item)
        if attrs.has(type(item)):
            fields = attrs.fields(type(item))
            changes = {
                f.name: clean(getattr(item, f.name), free or f.name in FREE_TEXT)
                for f in fields
                if f.init
            }
            return attrs.evolve(item, **changes)
        return item

    cleaned: T = clean(value, False)
    return cleaned


def _copy_exception(exc: BaseException, masker: Masker, memo: dict[int, BaseException]) -> Any:
    known = memo.get(id(exc))
    if known is not None:
        return known
    cls = type(exc)
    args = _mask_any(exc.args, masker)
    copy: BaseException
    try:
        copy = cls.__new__(cls, *args)
    except Exception:
        copy = cls.__new__(cls)
    copy.args = args
    memo[id(exc)] = copy
    state = getattr(exc, "__dict__", None)
    if state:
        with contextlib.suppress(AttributeError, TypeError):
            copy.__dict__.update({k: _mask_any(v, masker) for k, v in state.items()})
    if isinstance(exc, UnicodeError):
        # Their fields live in C slots that __new__ leaves unset: build them from the
        # masked arguments (a plain ValueError when those do not fit any more).
        try:
            copy = cls(*args)
        except Exception:
            copy = ValueError(*args)
        memo[id(exc)] = copy
    copy.__cause__ = _copy_exception(exc.__cause__, masker, memo) if exc.__cause__ else None
    copy.__context__ = (
        _copy_exception(exc.__context__, masker, memo) if exc.__context__ else None
    )
    copy.__suppress_context__ = exc.__suppress_context__
    copy.__traceback__ = None  # frames hold locals: the password among them
    return copy


def masked_error(exc: E, secrets: Masker) -> E:
    """A copy of ``exc`` for rules to look at: its message, arguments and attributes
    (``text``, ``challenge``...) masked, the same for the exceptions chained as
    ``__cause__`` and ``__context__``, and no traceback (its frames hold the password).
    The copy has the same class and attributes, so rules match it as the original."""
    copy: E = _copy_exception(exc, secrets, {})
    return copy
