"""Turning the bytes of a server's reply into text, whatever encoding it used.

Servers are supposed to answer in ASCII (or UTF-8 with SMTPUTF8/UTF8=ACCEPT), but
Chinese providers answer in GBK, older European servers in Latin-1, and a reply cut
at a length limit can end in half a UTF-8 character. Decoding never fails: the text
is only ever read by rules and people.
"""

from __future__ import annotations

import re

_HIGH = 0x80
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _paired_high_bytes(raw: bytes) -> float:
    """The share of non-ASCII bytes that stand next to another non-ASCII byte: close
    to 1 for double-byte encodings (GBK), close to 0 for Latin-1 prose."""
    high = [i for i, b in enumerate(raw) if b >= _HIGH]
    if not high:
        return 0.0
    marked = set(high)
    paired = sum(1 for i in high if i - 1 in marked or i + 1 in marked)
    return paired / len(high)


def decode_reply(raw: bytes) -> str:
    """``raw`` as text: UTF-8 when it is, else GBK (GB 18030) when the bytes look
    double-byte, else Windows-1252 / Latin-1; broken sequences become U+FFFD."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # A UTF-8 reply cut in the middle of a character (a server's line limit).
    for cut in (1, 2, 3):
        tail = raw[-cut:]
        if not (0xC2 <= tail[0] <= 0xF4 and all(0x80 <= b <= 0xBF for b in tail[1:])):
            continue  # not the start of a UTF-8 sequence: a Latin-1 letter, say
        if cut == 1 and not _UTF8_SEQUENCE.search(raw[:-1]):
            continue  # a lone high byte after plain ASCII reads as Latin-1 ("...: ä")
        try:
            return raw[:-cut].decode("utf-8") + "\ufffd"
        except UnicodeDecodeError:
            continue
    if _paired_high_bytes(raw) >= 0.8:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            pass
    # UTF-8 with a stray byte somewhere: it still has well-formed multi-byte sequences.
    if _UTF8_SEQUENCE.search(raw):
        return raw.decode("utf-8", "replace")
    return raw.decode("cp1252", "replace")
