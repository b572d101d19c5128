"""``discover()``: from an email address to IMAP and SMTP candidates, checked by greeting.

The lookups (MX, the domain's autoconfig at both URLs, the ISPDB, the four SRV
services) run side by side under one share of the deadline; the candidates are then
ranked by source, checked side by side under the rest, and guesses are tried when
nothing else answered. Everything ends by the deadline, whatever the servers do.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import ssl
import time
from collections.abc import Iterable, Sequence
from typing import Callable, Optional

import attrs

from .. import _log
from .._deadline import Deadline
from .._enums import Security
from .._errors import SettingsError
from .._providers import Providers, default_providers
from .._settings import check_address, check_text, check_timeout, normalize_host
from .._tls import verifying_context
from ._dns import LookupFailed, Resolver, check_nameservers
from ._model import (
    DEFAULT_ISPDB_URL,
    SOURCES,
    Candidate,
    Discovery,
    Lookup,
    LookupStatus,
    lookup_status,
)
from ._network import Network
from ._sources import (
    SRV_SERVICES,
    Found,
    autoconfig_urls,
    from_provider,
    from_srv,
    from_url,
    guesses,
    ispdb_url,
    registered_domain,
)
from ._verify import check

LOOKUP_SHARE = 0.6  # of the deadline for the lookups; checking greetings gets the rest
MAX_CHECKED = 8  # candidates checked per protocol
_WORKERS = 8
_GRACE = 2.0  # seconds a bounded job may overrun the deadline before it is left behind


@attrs.frozen(kw_only=True)
class Options:
    """``discover()``'s options, validated."""

    email: str
    domain: str
    nameservers: Optional[tuple[tuple[str, int], ...]]
    context: ssl.SSLContext
    ispdb_url: Optional[str]
    sources: frozenset[str]
    verify: bool
    timeout: float
    providers: Providers
    allow_private: bool
    allow_http: bool

    @classmethod
    def check(
        cls,
        email: object,
        *,
        nameservers: object = None,
        ca_file: object = None,
        ssl_context: object = None,
        ispdb_url: object = DEFAULT_ISPDB_URL,
        sources: object = None,
        verify: object = True,
        timeout: object = 15.0,
        providers: object = None,
        allow_private: object = False,
        allow_http: object = False,
    ) -> Options:
        """Raises ``SettingsError`` naming the bad option."""
        address = check_address("email", email)
        domain = normalize_host("email", address.rpartition("@")[2])
        if ":" in domain or domain.replace(".", "").isdigit():
            raise SettingsError("email", "discovery needs a domain name, not an IP address")
        if ssl_context is not None and ca_file is not None:
            raise SettingsError("ca_file", "give ca_file or ssl_context, not both")
        if ssl_context is not None and not isinstance(ssl_context, ssl.SSLContext):
            raise SettingsError("ssl_context", "must be an ssl.SSLContext")
        if ca_file is not None:
            ca_file = check_text(
                "ca_file", os.fspath(ca_file) if isinstance(ca_file, os.PathLike) else ca_file
            )
        if providers is not None and not isinstance(providers, Providers):
            raise SettingsError("providers", f"must be Providers, not {type(providers).__name__}")
        for name, flag in (
            ("verify", verify),
            ("allow_private", allow_private),
            ("allow_http", allow_http),
        ):
            if not isinstance(flag, bool):
                raise SettingsError(name, "must be True or False")
        return cls(
            email=address,
            domain=domain,
            nameservers=check_nameservers(nameservers),
            context=ssl_context
            if isinstance(ssl_context, ssl.SSLContext)
            else verifying_context(ca_file),
            ispdb_url=_check_ispdb(ispdb_url, bool(allow_http)),
            sources=_check_sources(sources),
            verify=bool(verify),
            timeout=check_timeout("timeout", timeout),
            providers=providers if isinstance(providers, Providers) else default_providers(),
            allow_private=bool(allow_private),
            allow_http=bool(allow_http),
        )


def _check_sources(value: object) -> frozenset[str]:
    if value is None:
        return frozenset(SOURCES)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise SettingsError("sources", f"must be a collection of names from {', '.join(SOURCES)}")
    names = frozenset(value)
    unknown = sorted(str(n) for n in names - set(SOURCES))
    if unknown:
        raise SettingsError("sources", f"unknown {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    return names


def _check_ispdb(value: object, allow_http: bool) -> Optional[str]:
    if value is None:
        return None
    url = check_text("ispdb_url", value)
    if "{domain}" not in url:
        raise SettingsError("ispdb_url", "must contain {domain}, where the domain goes")
    if not (url.startswith("https://") or (allow_http and url.startswith("http://"))):
        raise SettingsError("ispdb_url", "must be an https:// URL (http:// only with allow_http)")
    return url


class _Run:
    """One discovery: the options, the deadline, what was found so far."""

    def __init__(self, options: Options, deadline: Deadline) -> None:
        self.o = options
        self.deadline = deadline
        self.found: dict[str, Found] = {}  # job name -> what it found, in ranking order
        self.mx: list[str] = []
        self.network: Optional[Network] = None
        # The MX hosts, for the ISPDB job that falls back to the MX host's domain.
        self.mx_ready: concurrent.futures.Future[list[str]] = concurrent.futures.Future()

    # -- lookups -------------------------------------------------------------
    def lookups(self) -> None:
        o = self.o
        by_domain = o.providers.match(email=o.email) if "provider" in o.sources else None
        if by_domain is not None:
            self.found["provider"] = from_provider(by_domain, source="provider", origin=o.domain)
        jobs: list[tuple[str, str, Callable[[Deadline], Found]]] = []  # name, source, job
        if {"mx", "ispdb"} & o.sources:
            jobs.append(("mx", "mx", self._mx))
        else:
            self.mx_ready.set_result([])
        if "autoconfig" in o.sources:
            for n, url in enumerate(autoconfig_urls(o.email, o.domain)):
                jobs.append((f"autoconfig{n}", "autoconfig", self._url_job(url, o.domain)))
        if "ispdb" in o.sources and o.ispdb_url is not None:
            jobs.append(("ispdb", "ispdb", self._ispdb))
        if "srv" in o.sources:
            for _protocol, label, _security in SRV_SERVICES:
                jobs.append((f"srv{label}", "srv", self._srv_job(label)))
        if not jobs:
            return
        self._ensure_network()
        share = Deadline(self.deadline.left() * (LOOKUP_SHARE if o.verify else 1.0))
        cancel = self.deadline.on_expiry(share.expire)
        try:
            self._run_jobs(jobs, share)
        finally:
            cancel()
            share.close()

    def _ensure_network(self) -> Network:
        if self.network is None:
            resolver = Resolver(self.o.nameservers)  # ImportError naming the extra
            self.network = Network(
                resolver, domain=self.o.domain, allow_private=self.o.allow_private
            )
        return self.network

    def _run_jobs(
        self, jobs: Sequence[tuple[str, str, Callable[[Deadline], Found]]], share: Deadline
    ) -> None:
        pool = concurrent.futures.ThreadPoolExecutor(
            _WORKERS, thread_name_prefix="mailprobe-discover"
        )
        futures = [(n, src, pool.submit(_guarded, src, job, share)) for n, src, job in jobs]
        left_behind = False
        for name, source, future in futures:
            try:
                self.found[name] = future.result(timeout=share.left() + _GRACE)
            except concurrent.futures.TimeoutError:
                left_behind = True  # every job is bounded by the deadline; this is a guard
                self.found[name] = _one(source, name, "timeout", "still running at the deadline")
        pool.shutdown(wait=not left_behind)

    def _mx(self, deadline: Deadline) -> Found:
        try:
            return self._mx_lookup(deadline)
        finally:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                self.mx_ready.set_result(self.mx)  # the ISPDB job may be waiting

    def _mx_lookup(self, deadline: Deadline) -> Found:
        assert self.network is not None
        target = f"MX {self.o.domain}"
        try:
            self.mx = self.network.resolver.mx(self.o.domain, deadline)
        except LookupFailed as exc:
            return _one("mx", target, lookup_status(exc.status), str(exc))
        self.mx_ready.set_result(self.mx)
        status: LookupStatus = "found" if self.mx else "empty"
        lookups = [Lookup(source="mx", target=target, status=status, detail=", ".join(self.mx))]
        provider = self.o.providers.match_mx(self.mx) if "mx" in self.o.sources else None
        if provider is None:
            return [], [], lookups
        origin = next((f"MX {h}" for h in self.mx if provider.matches_mx(h)), "MX")
        imap, smtp, more = from_provider(provider, source="mx", origin=origin)
        return imap, smtp, lookups + more

    def _url_job(
        self, url: str, domain: str, *, source: str = "autoconfig", policy: bool = True
    ) -> Callable[[Deadline], Found]:
        def job(deadline: Deadline) -> Found:
            return from_url(
                url,
                source=source,
                domain=domain,
                network=self._ensure_network(),
                context=self.o.context,
                deadline=deadline,
                allow_http=self.o.allow_http,
                policy=policy,
            )

        return job

    def _ispdb(self, deadline: Deadline) -> Found:
        """By the address's domain; failing that, by the MX host's registered domain."""
        assert self.o.ispdb_url is not None
        url = ispdb_url(self.o.ispdb_url, self.o.domain)
        # The ISPDB is the app's choice of server, so the private-address policy,
        # which guards against what a domain's own DNS says, does not apply to it.
        imap, smtp, lookups = self._url_job(url, self.o.domain, source="ispdb", policy=False)(
            deadline
        )
        if imap or smtp:
            return imap, smtp, lookups
        try:
            mx = self.mx_ready.result(timeout=deadline.left())
        except concurrent.futures.TimeoutError:
            return imap, smtp, lookups
        if not mx or registered_domain(mx[0]) == registered_domain(self.o.domain):
            return imap, smtp, lookups
        mx_domain = registered_domain(mx[0])
        url = ispdb_url(self.o.ispdb_url, mx_domain)
        more = self._url_job(url, mx_domain, source="ispdb", policy=False)(deadline)
        return more[0], more[1], lookups + more[2]

    def _srv_job(self, label: str) -> Callable[[Deadline], Found]:
        def job(deadline: Deadline) -> Found:
            network = self._ensure_network()
            return from_srv(
                label, domain=self.o.domain, resolver=network.resolver, deadline=deadline
            )

        return job

    # -- candidates ----------------------------------------------------------
    def ranked(self, protocol: str) -> list[Candidate]:
        """Every candidate for ``protocol`` in source order, each server once."""
        out: list[Candidate] = []
        seen: set[tuple[str, str, int, Security]] = set()
        for source in SOURCES:
            for found in self.found.values():
                for candidate in found[0] if protocol == "imap" else found[1]:
                    if candidate.source == source and candidate.key not in seen:
                        seen.add(candidate.key)
                        out.append(candidate)
        return out

    def check_all(self, candidates: list[Candidate]) -> list[Candidate]:
        """``candidates`` checked side by side (the first ``MAX_CHECKED`` per protocol)."""
        network = self._ensure_network()
        todo: list[tuple[int, Candidate]] = []
        out = list(candidates)
        counts = {"imap": 0, "smtp": 0}
        for i, candidate in enumerate(candidates):
            if candidate.verified or candidate.problem is not None:
                continue
            if counts[candidate.protocol] >= MAX_CHECKED:
                out[i] = attrs.evolve(
                    candidate, problem=f"not checked (only the first {MAX_CHECKED} are)"
                )
                continue
            counts[candidate.protocol] += 1
            todo.append((i, candidate))
        if not todo:
            return out
        pool = concurrent.futures.ThreadPoolExecutor(
            _WORKERS, thread_name_prefix="mailprobe-verify"
        )
        futures = [
            (
                i,
                pool.submit(
                    check, c, network=network, context=self.o.context, deadline=self.deadline
                ),
            )
            for i, c in todo
        ]
        left_behind = False
        for i, future in futures:
            try:
                out[i] = future.result(timeout=self.deadline.left() + _GRACE)
            except concurrent.futures.TimeoutError:
                left_behind = True
                out[i] = attrs.evolve(candidates[i], problem="no answer in time")
            except Exception as exc:  # never lose the other candidates to one bug
                out[i] = attrs.evolve(candidates[i], problem=f"unexpected {type(exc).__name__}")
        pool.shutdown(wait=not left_behind)
        return out


def _one(source: str, target: str, status: LookupStatus, detail: str) -> Found:
    return [], [], [Lookup(source=source, target=target, status=status, detail=detail)]


def _guarded(source: str, job: Callable[[Deadline], Found], deadline: Deadline) -> Found:
    try:
        return job(deadline)
    except Exception as exc:  # a bug in one lookup must not sink the others
        _log.log(_log.WARNING, "discovery lookup (%s) failed: %s", source, type(exc).__name__)
        return _one(source, source, "failed", f"unexpected {type(exc).__name__}")


def _order(candidates: list[Candidate]) -> tuple[Candidate, ...]:
    # Stable: within each group the source order stands.
    return tuple(sorted(candidates, key=lambda c: (not c.verified, c.security is Security.NONE)))


def run(options: Options) -> Discovery:
    """Discover with validated options."""
    started = time.monotonic()
    deadline = Deadline(options.timeout)
    try:
        state = _Run(options, deadline)
        state.lookups()
        imap, smtp = state.ranked("imap"), state.ranked("smtp")
        guess_imap, guess_smtp = guesses(options.domain) if "guess" in options.sources else ([], [])
        # Guesses come in when the other sources found nothing for the protocol...
        imap = imap or list(guess_imap)
        smtp = smtp or list(guess_smtp)
        if options.verify:
            checked = state.check_all(imap + smtp)
            imap, smtp = checked[: len(imap)], checked[len(imap) :]
            # ... or when nothing they found answered.
            extra = [
                g
                for found, pool in ((imap, guess_imap), (smtp, guess_smtp))
                if not any(c.verified for c in found)
                for g in pool
                if g.key not in {c.key for c in found}
            ]
            if extra and not deadline.expired:
                more = state.check_all(extra)
                imap += [c for c in more if c.protocol == "imap"]
                smtp += [c for c in more if c.protocol == "smtp"]
        lookups = [lookup for found in state.found.values() for lookup in found[2]]
        provider = next((c.provider for c in (*imap, *smtp) if c.provider), None)
        return Discovery(
            email=options.email,
            domain=options.domain,
            imap=_order(imap),
            smtp=_order(smtp),
            mx=state.mx,
            provider=provider,
            lookups=lookups,
            timed_out=deadline.expired or any(lookup.status == "timeout" for lookup in lookups),
            duration=time.monotonic() - started,
        )
    finally:
        deadline.close()
