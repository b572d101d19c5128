"""Reading Thunderbird's autoconfig format (config-v1.1.xml) safely.

The file comes from a server anyone may run, so it is parsed with expat directly
and refused outright when it declares a DOCTYPE or any entity: no internal subset
means no entity expansion (billion laughs) and no external entities. The byte size
is capped before parsing (``_http.MAX_BODY``), and so are the depth, the number of
elements and the text per element.
"""

from __future__ import annotations

from typing import Any, Optional, cast
from xml.parsers import expat

import attrs

from .._enums import Security
from .._errors import SettingsError
from .._settings import check_text, normalize_host
from ._model import Candidate

MAX_DEPTH = 12
MAX_ELEMENTS = 2000
MAX_TEXT = 1024  # characters of text per element
MAX_SERVERS = 10  # per protocol

_SOCKET_TYPES = {"SSL": Security.TLS, "STARTTLS": Security.STARTTLS, "PLAIN": Security.NONE}
_USERNAMES = {
    "%EMAILADDRESS%": "email",
    "%EMAILLOCALPART%@%EMAILDOMAIN%": "email",
    "%EMAILLOCALPART%": "local_part",
}


class ConfigRefused(ValueError):
    """The document is not a usable autoconfig file; the message says why."""


@attrs.define
class Element:
    tag: str
    attributes: dict[str, str]
    children: list[Element] = attrs.Factory(list)
    text: str = ""

    def find(self, tag: str) -> Optional[Element]:
        return next((c for c in self.children if c.tag == tag), None)

    def all(self, tag: str) -> list[Element]:
        return [c for c in self.children if c.tag == tag]

    def value(self, tag: str) -> str:
        found = self.find(tag)
        return found.text.strip() if found is not None else ""


def parse(data: bytes) -> Element:
    """The document's root element; raises ``ConfigRefused``."""
    stack: list[Element] = []
    root: list[Element] = []
    count = 0

    def refuse(*_args: Any) -> None:
        raise ConfigRefused("declares a DOCTYPE or entities, which are refused")

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise ConfigRefused(f"more than {MAX_ELEMENTS} elements")
        if len(stack) >= MAX_DEPTH:
            raise ConfigRefused(f"nested deeper than {MAX_DEPTH} levels")
        element = Element(tag, dict(attributes))
        if stack:
            stack[-1].children.append(element)
        else:
            root.append(element)
        stack.append(element)

    def end(_tag: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack and len(stack[-1].text) + len(data) <= MAX_TEXT:
            stack[-1].text += data
        elif stack and data.strip():
            raise ConfigRefused(f"an element holds more than {MAX_TEXT} characters of text")

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = cast(Any, refuse)
    parser.EntityDeclHandler = cast(Any, refuse)
    parser.UnparsedEntityDeclHandler = cast(Any, refuse)
    parser.ExternalEntityRefHandler = cast(Any, refuse)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ConfigRefused(f"not well-formed XML ({expat.ErrorString(exc.code)})") from None
    if not root:
        raise ConfigRefused("empty document")
    return root[0]


def _username(raw: str) -> Optional[str]:
    if not raw:
        return "email"
    if raw in _USERNAMES:
        return _USERNAMES[raw]
    try:
        return check_text("username", raw) if len(raw) <= 256 else None
    except SettingsError:
        return None


def _server(
    element: Element, protocol: str, *, domain: str, source: str, origin: str
) -> Optional[Candidate]:
    """One ``incomingServer``/``outgoingServer`` as a candidate, or None if unusable."""
    security = _SOCKET_TYPES.get(element.value("socketType").upper())
    username = _username(element.value("username"))
    port = element.value("port")
    if security is None or username is None or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    try:
        host = normalize_host(
            "hostname", element.value("hostname").replace("%EMAILDOMAIN%", domain)
        )
    except SettingsError:
        return None
    auth = tuple(a.text.strip() for a in element.all("authentication") if a.text.strip())
    return Candidate(
        protocol="imap" if protocol == "imap" else "smtp",
        host=host,
        port=int(port),
        security=security,
        username=username,
        source=source,
        origin=origin,
        auth=auth[:8],
    )


def read_config(
    data: bytes, *, domain: str, source: str, origin: str
) -> tuple[list[Candidate], list[Candidate]]:
    """The IMAP and SMTP servers a config-v1.1 document names, in its order; raises
    ``ConfigRefused`` for a document that is not one."""
    root = parse(data)
    if root.tag != "clientConfig":
        raise ConfigRefused(f"the root element is <{root.tag[:40]}>, not <clientConfig>")
    imap: list[Candidate] = []
    smtp: list[Candidate] = []
    for provider in root.all("emailProvider"):
        for element in provider.all("incomingServer"):
            if element.attributes.get("type") == "imap" and len(imap) < MAX_SERVERS:
                found = _server(element, "imap", domain=domain, source=source, origin=origin)
                if found is not None:
                    imap.append(found)
        for element in provider.all("outgoingServer"):
            if element.attributes.get("type") == "smtp" and len(smtp) < MAX_SERVERS:
                found = _server(element, "smtp", domain=domain, source=source, origin=origin)
                if found is not None:
                    smtp.append(found)
    return imap, smtp
