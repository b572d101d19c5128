"""``Prober``: what an app configures once, and the module-level conveniences.

The options are written once, as typed dictionaries: ``ProberOptions`` (what belongs to
the app: trust, rules, providers, transport, policies) and ``ProbeOptions`` (what varies
per inbox). ``Prober(**ProberOptions)`` validates and builds everything that can be built
once (TLS contexts, the rule registry, the provider data); ``Prober.probe(settings,
**ProbeOptions)`` validates only the per-inbox options. ``mailprobe.probe()`` takes both
and reuses one default ``Prober`` when no app option is given.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

import attrs

if sys.version_info >= (3, 11):
    from typing import TypedDict, Unpack
else:
    from typing_extensions import TypedDict, Unpack

from ._discovery import DEFAULT_ISPDB_URL
from ._errors import SettingsError
from ._models import ProbeEvent, ProbeResult
from ._runner import Runner
from ._settings import InboxSettings, check_address, check_text, check_timeout
from ._stages._context import Config, Plan
from ._stages._optional import Check
from ._tls import verifying_context
from ._transports._base import Transport
from ._transports._stdlib import StdlibTransport

if TYPE_CHECKING:
    from ._batch import ResultHandler
    from ._discovery._model import DiscoveredProbe, Discovery
    from ._providers import Providers
    from ._rules._registry import RuleRegistry

EventHandler = Callable[[ProbeEvent], None]


class ProberOptions(TypedDict, total=False):
    """What belongs to the app, given once to ``Prober`` (or to ``mailprobe.probe()``).

    ``ca_file`` adds a PEM bundle to the trusted authorities (certifi's by default);
    ``ssl_context`` replaces the verifying context altogether. ``rules`` classifies
    failures (``default_registry()``); ``providers`` is the provider knowledge
    (``default_providers()``); ``transport`` carries the protocol (``StdlibTransport``).
    ``timeout`` is the default deadline of each probe in seconds (30). ``sequential``
    runs the SMTP leg after the IMAP leg, for servers that dislike simultaneous logins.
    ``suggest`` makes a failed connect try the other security mode and the usual ports
    (greetings only, no credentials) and put what works in ``Diagnosis.suggestion``.
    ``checks`` are the app's own ``Check``s, run after the stages they follow.
    """

    ca_file: Optional[Union[str, os.PathLike[str]]]
    ssl_context: Optional[ssl.SSLContext]
    rules: Optional[RuleRegistry]
    providers: Optional[Providers]
    transport: Optional[Transport]
    timeout: float
    sequential: bool
    suggest: bool
    checks: Iterable[Check]


class InboxOptions(TypedDict, total=False):
    """What varies per inbox (``Prober.probe_many`` takes these for the whole batch).

    ``test_recipient`` receives the test email as a blind copy (None skips that
    stage). ``timeout`` overrides the ``Prober``'s deadline for this probe.
    ``required_capabilities`` are IMAP capabilities the app needs. ``transcript=True``
    keeps each stage's masked protocol exchange in its details. ``confirm_delivery=True``
    also sends the test email to the inbox itself and adds a DELIVERY stage that waits
    for it; ``capacity=N`` (True: 5) adds a CAPACITY stage holding N simultaneous IMAP
    logins.
    """

    test_recipient: Optional[str]
    timeout: float
    required_capabilities: Iterable[str]
    transcript: bool
    confirm_delivery: bool
    capacity: Union[bool, int]


class ProbeOptions(InboxOptions, total=False):
    """``InboxOptions`` plus ``on_event``, called in the caller's thread (on the event
    loop for ``aprobe``) when a stage starts and when it ends."""

    on_event: Optional[EventHandler]


class _ProbeCall(ProberOptions, ProbeOptions, total=False):
    """Everything ``mailprobe.probe()`` and ``mailprobe.aprobe()`` take."""


class _BatchCall(ProberOptions, InboxOptions, total=False):
    """Everything ``mailprobe.probe_many()`` takes besides its batch options."""


def _keys(cls: Any) -> frozenset[str]:
    return frozenset(cls.__optional_keys__) | frozenset(cls.__required_keys__)


_PROBER_KEYS = _keys(ProberOptions)
_PROBE_KEYS = _keys(ProbeOptions)
_INBOX_KEYS = _keys(InboxOptions)
_APP_ONLY = _PROBER_KEYS - _PROBE_KEYS  # timeout goes with each probe: the default Prober serves


def _refuse_unknown(where: str, given: Iterable[str], allowed: frozenset[str]) -> None:
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise TypeError(f"{where} got an unexpected keyword argument {unknown[0]!r}")


def _capacity(value: object) -> Optional[int]:
    if value is False or value is None:
        return None
    if value is True:
        return 5  # what a typical inbox connector keeps open
    if isinstance(value, int) and 2 <= value <= 50:
        return value
    raise SettingsError(
        "capacity", f"must be True or a number of connections from 2 to 50, not {value!r}"
    )


def _checks(value: object) -> tuple[Check, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise SettingsError("checks", "must be a collection of mailprobe.Check")
    checks = tuple(value)
    names: set[str] = set()
    for check in checks:
        if not isinstance(check, Check):
            raise SettingsError("checks", f"must hold mailprobe.Check, not {type(check).__name__}")
        if check.name in names:
            raise SettingsError("checks", f"two checks are named {check.name!r}")
        names.add(check.name)
    return checks


def _config(options: ProberOptions) -> Config:
    ca_file, ssl_context = options.get("ca_file"), options.get("ssl_context")
    rules, providers = options.get("rules"), options.get("providers")
    transport = options.get("transport")
    if ssl_context is not None and ca_file is not None:
        raise SettingsError("ca_file", "give ca_file or ssl_context, not both")
    if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
        raise SettingsError("ssl_context", "must be an ssl.SSLContext")
    if ca_file is not None:
        path = os.fspath(ca_file) if isinstance(ca_file, os.PathLike) else ca_file
        ca_file = check_text("ca_file", path)
    if providers is not None:
        from ._providers import Providers  # noqa: PLC0415  (loaded on first use)

        if not isinstance(providers, Providers):
            raise SettingsError("providers", f"must be Providers, not {type(providers).__name__}")
    if rules is not None:
        from ._rules._registry import RuleRegistry  # noqa: PLC0415  (loaded on first use)

        if not isinstance(rules, RuleRegistry):
            raise SettingsError("rules", f"must be a RuleRegistry, not {type(rules).__name__}")
    if transport is not None and not all(
        callable(getattr(transport, m, None)) for m in ("connect_imap", "connect_smtp")
    ):
        raise SettingsError("transport", "must have connect_imap() and connect_smtp()")
    return Config(
        transport=transport if transport is not None else StdlibTransport(),
        verifying=ssl_context or verifying_context(ca_file),
        rules=rules,  # None: the built-in rules, built on the first failure
        providers=providers,  # None: the shipped data, read on first use
        timeout=check_timeout("timeout", options.get("timeout", 30.0)),
        sequential=bool(options.get("sequential", False)),
        suggest=bool(options.get("suggest", False)),
        checks=_checks(options.get("checks", ())),
    )


class Prober:
    """A configured prober: what belongs to the app, given once, reused for every inbox.

    Build one per app (or per trust store) with ``ProberOptions`` (``ca_file``,
    ``ssl_context``, ``rules``, ``providers``, ``transport``, ``timeout``,
    ``sequential``, ``suggest``, ``checks``); it holds the TLS contexts, the rule
    registry and the provider data, and is safe to use from many threads at once.
    Treat the registry and providers given to it as read-only from then on.

    Raises ``SettingsError`` (a ``ValueError``) for invalid options and ``TypeError``
    for unknown ones.
    """

    def __init__(self, **options: Unpack[ProberOptions]) -> None:
        _refuse_unknown("Prober()", options, _PROBER_KEYS)
        self._config = _config(options)

    @property
    def timeout(self) -> float:
        """The default deadline of each probe, in seconds."""
        return self._config.timeout

    def __repr__(self) -> str:
        return f"<Prober timeout={self._config.timeout} checks={len(self._config.checks)}>"

    def _plan(self, options: InboxOptions) -> Plan:
        recipient = options.get("test_recipient")
        if recipient is not None:
            recipient = check_address("test_recipient", recipient)
        required: object = options.get("required_capabilities", ())
        if isinstance(required, (str, bytes)) or not isinstance(required, Iterable):
            raise SettingsError("required_capabilities", "must be a collection of names")
        return Plan(
            test_recipient=recipient,
            required=tuple(check_text("required_capabilities", c).upper() for c in required),
            transcript=bool(options.get("transcript", False)),
            confirm_delivery=bool(options.get("confirm_delivery", False)),
            capacity=_capacity(options.get("capacity", False)),
            timeout=check_timeout("timeout", options.get("timeout", self._config.timeout)),
        )

    def _runner(self, settings: InboxSettings, options: InboxOptions) -> Runner:
        if not isinstance(settings, InboxSettings):
            raise SettingsError("settings", f"must be InboxSettings, not {type(settings).__name__}")
        return Runner(self._config, settings, self._plan(options))

    def probe(self, settings: InboxSettings, /, **options: Unpack[ProbeOptions]) -> ProbeResult:
        """Check ``settings`` stage by stage and explain the first failure.

        Takes ``ProbeOptions``: ``test_recipient``, ``timeout``, ``required_capabilities``,
        ``transcript``, ``confirm_delivery``, ``capacity``, ``on_event``. Server and
        network problems never raise: they are in the result. Raises ``SettingsError``
        (a ``ValueError``) for invalid settings or options.
        """
        _refuse_unknown("Prober.probe()", options, _PROBE_KEYS)
        return self._runner(settings, options).execute(options.get("on_event"))

    def probe_many(
        self,
        settings: Iterable[InboxSettings],
        /,
        *,
        max_workers: int = 8,
        per_host_limit: Optional[int] = 4,
        on_result: Optional[ResultHandler] = None,
        collect: bool = True,
        **options: Unpack[InboxOptions],
    ) -> list[ProbeResult]:
        """Probe many inboxes concurrently; results come back in input order.

        ``max_workers`` probes run at once, and at most ``per_host_limit`` of them talk
        to the same server host (None lifts the limit). Each probe's deadline starts
        when it starts, not while it waits for a slot. ``on_result(index, result)`` is
        called in this thread as each probe finishes. ``collect=False`` keeps no result
        (the list returned is empty): for large batches whose results ``on_result``
        stores, so memory stays flat. ``settings`` is read lazily, a few ahead of the
        workers. ``options`` (``InboxOptions``) apply to every inbox and are validated
        before anything connects; an item that is not ``InboxSettings`` raises
        ``SettingsError`` naming its index (``settings[3]``).
        """
        _refuse_unknown("Prober.probe_many()", options, _INBOX_KEYS)
        from ._batch import run_many  # noqa: PLC0415 - batches only

        make = self._batch_maker(options, max_workers, per_host_limit)
        return run_many(
            settings,
            make,
            max_workers=max_workers,
            per_host_limit=per_host_limit,
            on_result=on_result,
            collect=bool(collect),
        )

    def probe_iter(
        self,
        settings: Iterable[InboxSettings],
        /,
        *,
        max_workers: int = 8,
        per_host_limit: Optional[int] = 4,
        **options: Unpack[InboxOptions],
    ) -> Iterator[tuple[int, ProbeResult]]:
        """``probe_many`` as an iterator: ``(index, result)`` pairs in the order the
        probes finish, nothing kept once you have taken it. Options are validated at
        once; probing starts with the first ``next()``. Leaving the loop early (``break``,
        an exception, closing the iterator) cancels the probes under way and waits for
        them to stop.
        """
        _refuse_unknown("Prober.probe_iter()", options, _INBOX_KEYS)
        from ._batch import Batch, iterate  # noqa: PLC0415 - batches only

        make = self._batch_maker(options, max_workers, per_host_limit)
        batch = Batch(settings, make, max_workers=max_workers, per_host_limit=per_host_limit)
        return iterate(batch)

    def _batch_maker(
        self, options: InboxOptions, max_workers: object, per_host_limit: object
    ) -> Callable[[InboxSettings], Runner]:
        from ._batch import positive  # noqa: PLC0415 - batches only

        positive("max_workers", max_workers)
        if per_host_limit is not None:
            positive("per_host_limit", per_host_limit)
        plan = self._plan(options)
        config = self._config
        return lambda item: Runner(config, item, plan)

    async def aprobe(
        self, settings: InboxSettings, /, **options: Unpack[ProbeOptions]
    ) -> ProbeResult:
        """``probe()`` for asyncio apps: runs in a worker thread, never blocking the loop;
        ``on_event`` is called on the event loop. Cancelling the task ends the probe's
        deadline, so it stops at once. Invalid options raise before anything runs."""
        _refuse_unknown("Prober.aprobe()", options, _PROBE_KEYS)
        from ._batch import run_async  # noqa: PLC0415 - asyncio only

        return await run_async(self._runner(settings, options), options.get("on_event"))

    def discover(
        self,
        email: str,
        /,
        *,
        nameservers: Optional[Sequence[tuple[str, int]]] = None,
        ispdb_url: Optional[str] = DEFAULT_ISPDB_URL,
        sources: Optional[Iterable[str]] = None,
        verify: bool = True,
        timeout: float = 15.0,
        allow_private: bool = False,
        allow_http: bool = False,
    ) -> Discovery:
        """``mailprobe.discover()`` with this prober's trust and provider data (see
        [discovery](discovery.md)); needs ``mailprobe[discovery]``."""
        from ._discovery._api import discover  # noqa: PLC0415  (imported on first use)

        return discover(
            email,
            nameservers=nameservers,
            ssl_context=self._config.verifying,
            ispdb_url=ispdb_url,
            sources=sources,
            verify=verify,
            timeout=timeout,
            providers=self._config.provider_data(),
            allow_private=allow_private,
            allow_http=allow_http,
        )

    def probe_discovered(
        self,
        email: str,
        password: Optional[str] = None,
        /,
        *,
        oauth2_token: Optional[str] = None,
        test_recipient: Optional[str] = None,
        timeout: Optional[float] = None,
        discovery_timeout: float = 15.0,
        nameservers: Optional[Sequence[tuple[str, int]]] = None,
        ispdb_url: Optional[str] = DEFAULT_ISPDB_URL,
        sources: Optional[Iterable[str]] = None,
        allow_private: bool = False,
        allow_http: bool = False,
    ) -> DiscoveredProbe:
        """Discover ``email``'s settings, then probe the best verified candidates with
        this prober's options (``mailprobe.probe_discovered()``). The password goes only
        to servers that greeted during discovery, at the addresses discovery checked."""
        from ._discovery._api import probe_discovered  # noqa: PLC0415

        plan = self._plan(
            {"test_recipient": test_recipient, "timeout": timeout or self._config.timeout}
        )

        def call(settings: InboxSettings, transport: Transport) -> ProbeResult:
            config = attrs.evolve(self._config, transport=transport)
            return Runner(config, settings, plan).execute(None)

        return probe_discovered(
            email,
            password,
            oauth2_token=oauth2_token,
            test_recipient=test_recipient,
            timeout=plan.timeout,
            discovery_timeout=discovery_timeout,
            nameservers=nameservers,
            ssl_context=self._config.verifying,
            ispdb_url=ispdb_url,
            sources=sources,
            providers=self._config.provider_data(),
            allow_private=allow_private,
            allow_http=allow_http,
            probe=call,
        )


_default: Optional[Prober] = None
_default_lock = threading.Lock()
#: One-off Probers of the module functions, by their app options (values by identity:
#: the Prober would hold the very same objects), so that ``probe(s, ca_file=...)`` in a
#: loop does not build its rules and TLS context again on every call.
_others: dict[tuple[tuple[str, Any], ...], Prober] = {}
_MAX_OTHERS = 8


def _key(app: dict[str, Any]) -> Optional[tuple[tuple[str, Any], ...]]:
    items: list[tuple[str, Any]] = []
    for name, value in sorted(app.items()):
        if isinstance(value, (str, int, float, bool)):
            items.append((name, (type(value), value)))
        elif name in ("rules", "providers", "transport", "ssl_context"):
            items.append((name, (object, id(value))))  # the Prober holds it: the id stays its
        else:
            return None  # checks, paths...: built afresh
    return tuple(items)


def _prober_for(options: dict[str, Any]) -> Prober:
    """The default ``Prober`` when the app options are all left at their defaults,
    else a ``Prober`` with them (the same one again for the same options)."""
    global _default  # noqa: PLW0603
    app = {
        key: value
        for key, value in options.items()
        if key in _APP_ONLY and value is not None and value is not False
        and not (key == "checks" and value == ())
    }
    if app:
        key = _key(app)
        if key is None:
            return Prober(**app)
        with _default_lock:
            found = _others.get(key)
        if found is None:
            found = Prober(**app)  # raises for bad options: nothing is kept then
            with _default_lock:
                if len(_others) >= _MAX_OTHERS:
                    _others.pop(next(iter(_others)))
                found = _others.setdefault(key, found)
        return found
    with _default_lock:
        if _default is None:
            _default = Prober()
        return _default


def _split(where: str, options: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    _refuse_unknown(where, options, _PROBER_KEYS | allowed)
    return {key: value for key, value in options.items() if key in allowed}


def probe(settings: InboxSettings, /, **options: Unpack[_ProbeCall]) -> ProbeResult:
    """Check ``settings`` stage by stage and explain the first failure.

    A convenience over ``Prober``: takes the app's ``ProberOptions`` (``ca_file``,
    ``ssl_context``, ``rules``, ``providers``, ``transport``, ``timeout``,
    ``sequential``, ``suggest``, ``checks``) and the per-inbox ``ProbeOptions``
    (``test_recipient``, ``timeout``, ``required_capabilities``, ``transcript``,
    ``confirm_delivery``, ``capacity``, ``on_event``) in one call. ``timeout`` is one
    deadline for the whole probe. Server and network problems never raise: they are in
    the result. Raises ``SettingsError`` (a ``ValueError``) for invalid options.
    """
    per_probe = _split("probe()", dict(options), _PROBE_KEYS)
    return _prober_for(dict(options)).probe(settings, **per_probe)


def probe_many(
    settings: Iterable[InboxSettings],
    /,
    *,
    max_workers: int = 8,
    per_host_limit: Optional[int] = 4,
    on_result: Optional[ResultHandler] = None,
    collect: bool = True,
    **options: Unpack[_BatchCall],
) -> list[ProbeResult]:
    """Probe many inboxes concurrently; results come back in input order.

    A convenience over ``Prober.probe_many``: the app's ``ProberOptions`` and the
    batch's ``InboxOptions`` in one call (``on_event`` is not taken: use
    ``on_result``; ``collect=False`` keeps no result, see ``Prober.probe_many``).
    Invalid options raise ``SettingsError`` before anything connects.
    """
    per_inbox = _split("probe_many()", dict(options), _INBOX_KEYS)
    return _prober_for(dict(options)).probe_many(
        settings,
        max_workers=max_workers,
        per_host_limit=per_host_limit,
        on_result=on_result,
        collect=collect,
        **per_inbox,
    )


async def aprobe(settings: InboxSettings, /, **options: Unpack[_ProbeCall]) -> ProbeResult:
    """``probe()`` for asyncio apps: runs in a worker thread, never blocking the loop.

    Takes ``probe()``'s keyword arguments; ``on_event`` is called on the event loop.
    Cancelling the task ends the probe's deadline, so its connections close at once.
    """
    per_probe = _split("aprobe()", dict(options), _PROBE_KEYS)
    return await _prober_for(dict(options)).aprobe(settings, **per_probe)
