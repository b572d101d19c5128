"""A server's words as a person may read them, and the wait a server names."""

from __future__ import annotations

import re

# What to drop from a server's words before quoting them to a person: protocol codes,
# tracking tokens and links (links are offered separately).
_LEAD_CODES = re.compile(
    r"^\s*(?:[245]\d\d[ -](?=\s*#?[245]\.))?\s*#?(?:[245]\.\d{1,3}\.\d{1,3}\s*)?"
    r"(?:\[[^\]]{0,80}\]\s*)?(?:\d{1,3}\s+(?=[A-Za-z]))?",
    re.I,
)
# A reply code repeated in brackets at the end ("(554.30)", "(#5.7.1)").
_CODE_IN_BRACKETS = re.compile(r"\(\s*#?\s*[245]\d{0,2}(?:\.\d{1,3}){1,2}\s*\)")
# Diagnostic blocks a server appends ("[BeginDiagnosticData]...[EndDiagnosticData]").
_DIAGNOSTIC = re.compile(r"\[BeginDiagnosticData\].*?(?:\[EndDiagnosticData\]|$)", re.I | re.S)
_INNER_ENHANCED = re.compile(r"(?<![\w.])[245]\.\d{1,3}\.\d{1,3}(?![\w.])")
_URL = re.compile(r"(?:https?://|www\.)[^\s\"'<>)\]]+", re.I)
_TRACE = re.compile(
    r"\b[a-z0-9][a-z0-9.-]{6,}\s*-\s*gsmtp\b|\s-\s?gsmtp\b|"  # Gmail's trailer
    # Gmail's session id without its trailer ("4sm74508868qak.11", "g1sm1186255pfu.73").
    r"\b[a-z0-9-]{0,20}\d{5,}[a-z]{2,4}\.\d{1,3}\b|"
    r"\[(?:[A-Z0-9]{2,}\.){2,}[A-Za-z0-9.:]+\]|"  # Microsoft's [SN1PR...PROD.OUTLOOK.COM]
    r"\b(?:id|session|ref|trace|queue(?:d as)?)[=: ]+[A-Za-z0-9_.:+/-]{8,}|"
    r"\b[0-9A-F]{16,}\b|\b[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}\b|"
    # A queue or message id: 12+ letters and digits with both cases ("cNkj1y0022zrrQM01NkjaD").
    r"(?-i:\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{12,}\b)",
    re.I,
)
_SPACES = re.compile(r"\s+")
# Program identifiers a server pastes in ("STOREDRV.Submission.Exception:SendAsDenied...").
_IDENTIFIER = re.compile(r"(?<!\S)(?=\S*[.:]\S)\S*Exception\S*")
_EMPTY_BRACKETS = re.compile(r"[(\[]\s*[#:;,.]*\s*[)\]]")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]])[.!?](?:\s+|$)")
_LEFTOVER = re.compile(
    r"\b(?:for\s+more\s+(?:information|details|help)|learn\s+more|more\s+information)\b"
    r"(?:\s+(?:at|see|visit|go to)\b|[^.]*?\b(?:at|see|visit|go to)\b)?\s*[.:]?|"
    r"(?:\bfor (?:an? |more |further )?(?:explanation|details),?\s*)?"
    r"\b(?:please )?(?:check|open|read) (?:this|the following) (?:url|link|page)\s*[.:]?|"
    r"\b(?:please )?(?:see|visit|go to|refer to)\s*"
    r"(?:\[[^\]\s]{1,12}\]|<[^>\s]{1,12}>)?\s*(?:[.:]|$)",
    re.I,
)
_BANNER = re.compile(r"\bESMTP\b.{0,40}$|^\S+\s+E?SMTP\b", re.I)
_WORDS_LIMIT = 200
# A word list reads best as words.
_COMMON = frozenset(
    "accepted access account address auth authentication authorization bad blocked busy"  # noqa: SIM905
    " closed command content denied detected disabled error exceeded expired fail failed"
    " failure forbidden found full infected invalid later limit locked login mail mailbox"
    " malware message no not ok password permission please policy quota recipient refused"
    " rejected relay required sender server service sorry spam suspended syntax temporary"
    " timeout try unauthorized unavailable unknown user virus".split()
)
# A wait the server names: "Suggested Backoff Time: 178755 milliseconds", "try again in 5 minutes".
_WAIT = re.compile(
    r"(?:backoff(?: time)?|retry(?: after| in)?|try (?:again )?(?:in|after)|again in|wait(?: for)?"
    r"|(?:blocked|locked|suspended|deferred|throttled) for)\W{0,3}"
    r"(\d{1,9}(?:\.\d+)?)\s*(milliseconds?|ms|seconds?|secs?|s|minutes?|mins?|hours?|hrs?)\b",
    re.I,
)


def _code_unless_section(match: re.Match[str]) -> str:
    # "RFC 5321 2.3.5" names a section, not a status code: keep it.
    before = match.string[max(0, match.start() - 16) : match.start()]
    return match.group(0) if re.search(r"(?:RFC ?\d{3,5}|section|§)\W*$", before, re.I) else ""


def server_words(text: str) -> str:
    """``text`` as a person may read it: codes, tracking tokens and links removed,
    whitespace collapsed, cut at a word boundary."""
    words = _LEAD_CODES.sub("", text.replace("\r", " ").replace("\n", " "))
    words = _DIAGNOSTIC.sub("", words)
    words = _CODE_IN_BRACKETS.sub("", words)
    words = _URL.sub("", words)
    words = _TRACE.sub("", words)
    words = _INNER_ENHANCED.sub(_code_unless_section, words)
    words = _LEFTOVER.sub("", words)
    words = _IDENTIFIER.sub("", words)
    words = _EMPTY_BRACKETS.sub("", words)
    # The words are quoted in double quotes: inner ones become single.
    words = _SPACES.sub(" ", words.replace('"', "'")).strip(" -:;,.")
    if _BANNER.search(words):
        return ""  # a greeting banner ("mx.example.com ESMTP ready") tells the person nothing
    sentences = _SENTENCE_END.split(words, maxsplit=2)
    if len(sentences[0].split()) >= 3:
        # The first sentence carries the reason, the rest is mostly detail; a short
        # second sentence often names the reason itself ("... This mailbox is disabled").
        words = sentences[0]
        if len(sentences) > 1 and len(sentences[1].split()) >= 3 and len(sentences[1]) <= 80:
            words = f"{words}. {sentences[1].rstrip(' .')}"
    if len(words) > _WORDS_LIMIT:
        words = words[:_WORDS_LIMIT].rsplit(" ", 1)[0] + "..."
    # A reply of a word or two in common words ("Rejected", "Auth failed") says nothing the
    # summary does not; two words with a term of the server's own ("qqt failure") name
    # the fault for whoever runs it.
    said = words.split()
    if sum(ch.isalpha() for ch in words) < 8 or len(said) < 2:
        return ""
    if len(said) == 2 and all(w.strip(".,;:!'()").lower() in _COMMON for w in said):
        return ""
    return words


def named_wait(text: str) -> str:
    """The wait a server asks for, in words ("about 3 minutes"); empty when none."""
    match = _WAIT.search(text)
    if match is None:
        return ""
    amount, unit = float(match.group(1)), match.group(2).lower()
    if unit == "ms" or unit.startswith("milli"):
        seconds = amount / 1000
    elif unit.startswith("h"):
        seconds = amount * 3600
    elif unit.startswith("mi"):
        seconds = amount * 60
    else:
        seconds = amount
    if seconds < 1 or seconds > 86400:
        return ""
    minutes = unit.startswith("mi") and not unit.startswith("milli")
    minutes_or_hours = unit.startswith("h") or minutes
    if minutes_or_hours and amount == int(amount):  # as the server said it
        word = "hour" if unit.startswith("h") else "minute"
        return f"{int(amount)} {word}{'' if amount == 1 else 's'}"
    if seconds < 90:
        return f"{round(seconds)} seconds"
    if seconds < 5400:
        return f"about {round(seconds / 60)} minutes"
    return f"about {round(seconds / 3600)} hours"


def _edits(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` when it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
        if min(row) > limit:
            return limit + 1
    return row[-1]


def near_name_for(host: str, email: str, protocol: str) -> str:
    """A server name one or two letters from ``host`` that ``email`` suggests
    (``mail.mydomain.com`` for ``mail.mydomian.com`` and ``alice@mydomain.com``)."""
    domain = email.rpartition("@")[2].lower()
    host = host.lower()
    if not domain or host.endswith("." + domain) or host == domain:
        return ""
    prefix = host.split(".", 1)[0] if "." in host else ""
    names = [f"{prefix}.{domain}"] if prefix else []
    names += [f"{p}.{domain}" for p in ("mail", protocol)]
    for name in dict.fromkeys(names):
        if 0 < _edits(host, name) <= 2:
            return name
    return ""


def near_domain_for(email: str, hosts: tuple[str, ...]) -> str:
    """The domain of one of ``hosts`` that the address's domain is one or two letters
    from (``example.com`` for ``alice@exmaple.com`` and ``smtp.example.com``)."""
    domain = email.rpartition("@")[2].lower()
    if not domain:
        return ""
    for host in hosts:
        labels = host.lower().rstrip(".").split(".")
        for start in range(len(labels) - 1):
            candidate = ".".join(labels[start:])
            if 0 < _edits(domain, candidate) <= 2:
                return candidate
    return ""

