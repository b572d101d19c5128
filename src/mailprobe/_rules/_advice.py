"""What to tell a person: the cause catalogue, the message texts and the one place a
built-in diagnosis is made.

``causes.json`` says, per cause, its default category, whether it is temporary
(with the situations that change that), the summary sentence and the ordered hints,
each a message id with the conditions under which it applies. ``messages_en.json``
holds the English texts by message id; ``Catalogue`` renders ids into any language
an app supplies. A message whose template names a value that is empty for this
failure (``{server_words}`` when the server said nothing useful) is left out rather
than shown half-filled.
"""

from __future__ import annotations

import functools
import json
import re
import string
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Optional

import attrs

from .._enums import ErrorCategory, Stage
from .._models import Diagnosis, Evidence, Message
from ._facts import PREDICATES, facts, stage_set

if TYPE_CHECKING:
    from ._registry import Failure

_FORMATTER = string.Formatter()
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")
_SETTINGS = {
    "imap": ErrorCategory.IMAP_SETTINGS_INCORRECT,
    "smtp": ErrorCategory.SMTP_SETTINGS_INCORRECT,
}


def _read(name: str) -> Any:
    from importlib import resources  # noqa: PLC0415  (slow to import; needed once)

    text = resources.files("mailprobe._rules").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def fields(template: str) -> tuple[str, ...]:
    """The named values a template uses, in order."""
    return tuple(name for _lit, name, _spec, _conv in _FORMATTER.parse(template) if name)


@attrs.frozen
class Choice:
    """A message id and the conditions (predicate names) under which it applies."""

    id: str
    when: tuple[str, ...] = ()
    keep: bool = False  # kept even when the provider has its own steps for the cause
    # The server's words say exactly what is wrong: when it applies, the provider's
    # general steps for the cause are left out.
    exact: bool = False
    # Waiting or running the check again is the step: shown only where the failure is
    # temporary (a settings fix that waiting cannot bring makes it permanent).
    wait: bool = False

    def applies(self, failure: Failure) -> bool:
        return all(PREDICATES[name](failure) for name in self.when)


@attrs.frozen
class Cause:
    """One cause of the vocabulary: its default category (``"stage"``: the failed
    stage's; ``"settings"``: the protocol's settings category; or a fixed category),
    whether it is temporary and in which situations that flips, its summary candidates
    (the first that applies wins) and its hints, and which provider links fit it."""

    id: str
    category: str
    temporary: bool
    summary: tuple[Choice, ...]
    hints: tuple[Choice, ...]
    temporary_if: tuple[str, ...] = ()
    permanent_if: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    stages: Optional[frozenset[Stage]] = None  # where the cause can happen (None: anywhere)

    def fits(self, stage: Stage) -> bool:
        return self.stages is None or stage in self.stages

    def category_for(self, stage: Stage) -> ErrorCategory:
        if self.category == "stage":
            return ErrorCategory.for_stage(stage)
        if self.category == "settings":
            return _SETTINGS[stage.protocol]
        return ErrorCategory(self.category)

    def is_temporary(self, failure: Failure) -> bool:
        if any(PREDICATES[name](failure) for name in self.permanent_if):
            return False
        if any(PREDICATES[name](failure) for name in self.temporary_if):
            return True
        return self.temporary


def _choices(items: Iterable[Mapping[str, Any]]) -> tuple[Choice, ...]:
    return tuple(
        Choice(
            id=i["id"],
            when=tuple(i.get("if", ())),
            keep=bool(i.get("keep", False)),
            exact=bool(i.get("exact", False)),
            wait=bool(i.get("wait", False)) or str(i["id"]).startswith("shared.retry"),
        )
        for i in items
    )


@functools.lru_cache(maxsize=1)
def causes() -> Mapping[str, Cause]:
    """The cause vocabulary, read once per process."""
    read = _read("causes.json")
    data = read["causes"]
    # Choices that come before every cause's own (a receiving server typed for sending
    # is the first thing to fix, whatever it then refused).
    first = read.get("every_cause", {})
    return {
        name: Cause(
            id=name,
            category=entry["category"],
            temporary=bool(entry["temporary"]),
            summary=_choices([*first.get("summary", ()), *entry["summary"]]),
            hints=_choices([*first.get("hints", ()), *entry["hints"]]),
            temporary_if=tuple(entry.get("temporary_if", ())),
            permanent_if=(*first.get("permanent_if", ()), *entry.get("permanent_if", ())),
            links=tuple(entry.get("links", ())),
            stages=stage_set(entry["stages"]) if "stages" in entry else None,
        )
        for name, entry in data.items()
    }


@functools.lru_cache(maxsize=1)
def english() -> Mapping[str, str]:
    """The built-in English message texts by id."""
    messages: dict[str, str] = _read("messages_en.json")["messages"]
    return messages


def english_text(message_id: str, **params: str) -> str:
    """The built-in English text of ``message_id`` filled with ``params``."""
    return english()[message_id].format_map(params)


class Catalogue:
    """Message texts by id, for showing diagnoses in another language.

    Give the translations you have (``{"invalid_credentials.summary": "..."}``, with
    the same ``{named}`` values as the English text); ids you leave out keep their
    English text. ``translate(diagnosis)`` returns the diagnosis with its summary and
    hints rendered from this catalogue.
    """

    def __init__(self, messages: Mapping[str, str] = {}) -> None:
        bad = [k for k, v in messages.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise TypeError("a catalogue maps message ids (str) to texts (str)")
        self._messages = dict(messages)

    @classmethod
    def english(cls) -> Catalogue:
        """The built-in English texts (a copy: a starting point for a translation)."""
        return cls(english())

    def ids(self) -> tuple[str, ...]:
        """Every message id the built-in catalogue knows, sorted."""
        return tuple(sorted(english()))

    def template(self, message_id: str) -> Optional[str]:
        """The text for ``message_id``: this catalogue's, else the built-in English."""
        return self._messages.get(message_id) or english().get(message_id)

    def render(self, message: Message) -> Optional[str]:
        """``message`` filled in; None when the id is unknown or a value is missing."""
        template = self.template(message.id)
        if template is None:
            return None
        try:
            return template.format_map(dict(message.params))
        except (KeyError, ValueError, IndexError):
            return None

    def translate(self, diagnosis: Diagnosis) -> Diagnosis:
        """``diagnosis`` with its summary and hints rendered from this catalogue; a text
        without a message (an app rule's own) or without a translation stays as it is."""
        summary = diagnosis.summary
        if diagnosis.summary_message is not None:
            summary = self.render(diagnosis.summary_message) or summary
        hints = tuple(diagnosis.hints)
        if len(diagnosis.hint_messages) == len(hints):
            hints = tuple(self.render(m) or old for m, old in zip(diagnosis.hint_messages, hints))
        return attrs.evolve(diagnosis, summary=summary, hints=hints)


def _message(message_id: str, values: Mapping[str, str]) -> Optional[tuple[Message, str]]:
    """The message with the values its English template needs, and the English text;
    None when one of those values is empty."""
    template = english().get(message_id)
    if template is None:
        return None
    names = fields(template)
    if not all(values.get(name) for name in names):
        return None
    params = {name: values[name] for name in names}
    return Message(id=message_id, params=params), template.format_map(params)


def _provider_steps(cause: str, failure: Failure) -> list[tuple[Message, str]]:
    """The provider's own steps for ``cause``: those written for this stage
    (``"cause@smtp_login"``), else for this protocol and kind of address
    (``"cause@smtp@personal"``), else for this protocol (``"cause@imap"``), else for a
    personal or a work address (``"cause@personal"``, ``"cause@work"``), else for any."""
    provider = failure.provider
    if provider is None:
        return []
    account = "personal" if PREDICATES["consumer_address"](failure) else "work"
    keys = (
        f"{cause}@{failure.stage.value}",
        f"{cause}@{failure.protocol}@{account}",
        f"{cause}@{failure.protocol}",
        f"{cause}@{account}",
    )
    for key in (*keys, cause):
        steps = provider.steps.get(key)
        if steps:
            return [
                (Message(id=f"provider.{provider.id}.{key}.{n}"), text)
                for n, text in enumerate(steps, start=1)
            ]
    return []


_APP_PASSWORD = re.compile(r"app(?:lication)?[- ](?:specific )?password", re.I)


def _hints(
    cause: Cause, failure: Failure, values: Mapping[str, str], temporary: bool
) -> list[tuple[Message, str]]:
    exact = any(c.exact and c.applies(failure) for c in cause.hints)
    steps = [] if exact else _provider_steps(cause.id, failure)
    replace = bool(steps)
    # A kept app-password hint says nothing the provider's own steps already say.
    steps_cover_app_passwords = any(_APP_PASSWORD.search(text) for _m, text in steps)
    out: list[tuple[Message, str]] = []
    for choice in cause.hints:
        if not choice.applies(failure):
            continue
        # The provider's own steps come first, where the first generic hint stood; the
        # generic ones they cover are left out, those marked "keep" follow them.
        out.extend(steps)
        steps = []
        if replace and not choice.keep:
            continue
        if steps_cover_app_passwords and "app_password" in choice.id:
            continue
        if choice.wait and not temporary:
            continue  # "try again" only where retrying may work
        # Where the problem may pass, a step to take "if it keeps happening" says so; a
        # step that passes on the server's words also passes on the page it names.
        made = _message(f"{choice.id}.persist", values) if temporary else None
        made = made or _message(f"{choice.id}.link", values) or _message(choice.id, values)
        if made is not None:
            out.append(made)
    out.extend(steps)  # no generic hint applied: the provider's steps alone
    if not out:  # every diagnosis gives at least one step
        made = _message("shared.contact_support", values)
        if made is not None:
            out.append(made)
    seen: set[str] = set()
    unique = []
    for message, text in out:
        if text not in seen:
            seen.add(text)
            unique.append((message, text))
    return unique


def _summary(cause: Cause, failure: Failure, values: Mapping[str, str]) -> tuple[Message, str]:
    for choice in cause.summary:
        if choice.applies(failure):
            made = _message(choice.id, values)
            if made is not None:
                return made
    return Message(id="generic.summary", params={}), english()["generic.summary"]


def _links(cause: Cause, failure: Failure) -> tuple[str, ...]:
    links: list[str] = []
    provider = failure.provider
    if provider is not None:
        if (
            "app_password" in cause.links
            and provider.app_passwords != "never"
            and provider.app_password_url
        ):
            links.append(provider.app_password_url)
        if "setup" in cause.links and provider.setup_url:
            links.append(provider.setup_url)
    links.extend(url.rstrip(".,;") for url in _URL.findall(failure.text))
    unique: dict[str, str] = {}
    for link in links:  # one link per page, whether http or https
        unique.setdefault(link.split("://", 1)[-1].rstrip("/"), link)
    return tuple(unique.values())[:5]


def diagnose(
    failure: Failure,
    cause: str,
    category: Optional[str] = None,
    *,
    evidence: Optional[tuple[str, Mapping[str, str], str]] = None,
) -> Diagnosis:
    """The diagnosis of ``failure`` as ``cause``: category (the cause's default unless
    given: ``"settings"`` or a category value), summary, hints, links, whether it is
    temporary here, the provider and what decided (rule id, what matched, source)."""
    known = causes()
    entry = known.get(cause) or known["unknown"]
    values = facts(failure)
    if category is None:
        chosen = entry.category_for(failure.stage)
    elif category == "settings":
        chosen = _SETTINGS[failure.protocol]
    else:
        chosen = ErrorCategory(category)
    summary_message, summary = _summary(entry, failure, values)
    temporary = entry.is_temporary(failure)
    hints = _hints(entry, failure, values, temporary)
    return Diagnosis(
        category=chosen,
        cause=cause,
        summary=summary,
        summary_message=summary_message,
        hints=tuple(text for _m, text in hints),
        hint_messages=tuple(m for m, _t in hints),
        links=_links(entry, failure),
        temporary=temporary,
        provider=failure.provider.id if failure.provider else None,
        evidence=(
            Evidence(rule_id=evidence[0], matched=evidence[1], source=evidence[2])
            if evidence is not None
            else None
        ),
    )
