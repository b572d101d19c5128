"""Opening connections: the probe's trust decisions, the security mode, and settings
that work when the given ones do not.

One mechanism serves three needs, all without sending a credential anywhere the
person did not choose (RFC 8314 section 3 describes the port and mode mix-ups):

- A chosen mode that gets no greeting (or no TLS handshake) within a few seconds: a
  second connection in the other mode, asked only for its greeting, tells whether
  the port speaks that mode. If it does, the stage fails at once with
  ``SecurityModeError`` instead of waiting out the deadline; if not, the chosen mode
  gets the rest of the time (a server may just be slow to greet).
- No mode given on an unusual port: TLS first; a plain-text greeting (or silence,
  then a greeting in plain text) means STARTTLS. The mode found is used and reported.
- ``suggest=True``: the other mode and the usual ports, greeting only.
"""

from __future__ import annotations

import ssl
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

import attrs

from .. import _log
from .._deadline import Deadline
from .._defaults import english_text
from .._enums import Security
from .._errors import (
    CertificateError,
    DeadlineExceeded,
    ProbeError,
    ReplyError,
    SecurityModeError,
    StartTLSError,
    TLSError,
)
from .._models import Diagnosis, Message, ServerDefaults
from .._settings import ServerSettings
from .._tls import unverified_context
from .._transports._base import Endpoint, Transcript, close_quietly

if TYPE_CHECKING:
    from ._context import RunState, StageContext


#: Seconds a connection gets to greet (or finish its TLS handshake) before the other
#: mode is tried on a second connection; at most a third of the time left.
GRACE = 3.0
#: Seconds each candidate of a suggestion gets.
PER_TRY = 5.0
#: Causes of a failed connect that point at the wrong port or security mode.
ELIGIBLE = frozenset(
    {
        "tls_mode_mismatch",
        "timeout",
        "connection_refused",
        "protocol_mismatch",
        "starttls_unavailable",
        "server_disconnected",
        "tls_handshake_failed",
    }
)
#: The usual ports, in the order a mail client tries them (RFC 8314 prefers implicit TLS).
USUAL = {
    "imap": ((993, Security.TLS), (143, Security.STARTTLS)),
    "smtp": ((465, Security.TLS), (587, Security.STARTTLS), (25, Security.STARTTLS)),
}
_OTHER = {
    Security.TLS: Security.STARTTLS,
    Security.STARTTLS: Security.TLS,
    Security.NONE: Security.TLS,  # never suggested: NONE is only used when asked for
}
Opener = Callable[[Endpoint, Deadline], Any]


class GraceDeadline(Deadline):
    """A shorter deadline for one connection attempt, inside the probe's.

    It needs no timer thread of its own: every blocking call of a transport takes
    ``remaining()`` as its socket timeout, so a silent server is given up on when the
    grace ends, and the probe's own timer still aborts everything at the deadline.
    ``release()`` lifts the grace once the connection is up: from then on the
    connection lives by the probe's deadline alone.
    """

    def __init__(self, parent: Deadline, seconds: float) -> None:  # no timer: see above
        self._parent = parent
        self._until: Optional[float] = time.monotonic() + max(seconds, 0.0)

    def release(self) -> None:
        self._until = None

    @property
    def cut(self) -> bool:
        """True when the grace ran out (and was not released)."""
        until = self._until
        return until is not None and time.monotonic() >= until

    @property
    def expired(self) -> bool:
        return self._parent.expired or self.cut

    def left(self) -> float:
        left = self._parent.left()
        until = self._until
        return left if until is None else max(min(left, until - time.monotonic()), 0.0)

    def remaining(self, during: str = "waiting") -> float:
        if self.cut:
            raise DeadlineExceeded(during)
        left = self._parent.remaining(during)
        until = self._until
        return left if until is None else max(min(left, until - time.monotonic()), 0.001)

    def wait(self, seconds: float) -> bool:
        until = self._until
        if until is None:
            return self._parent.wait(seconds)
        self._parent.wait(max(min(seconds, until - time.monotonic()), 0.0))
        return self.expired

    def on_expiry(self, abort: Callable[[], None]) -> Callable[[], None]:
        return self._parent.on_expiry(abort)

    def expire(self) -> None:
        self._until = time.monotonic()  # ends this attempt only, never the probe

    def close(self) -> None:
        pass


def _with(server: ServerSettings, *, security: Security) -> ServerSettings:
    """``server`` in ``security`` mode (without validating it again when it already is)."""
    return server if server.security is security else attrs.evolve(server, security=security)


def grace_for(deadline: Deadline) -> float:
    return min(GRACE, deadline.left() / 3)


def _opener(state: RunState, protocol: str) -> Opener:
    transport = state.config.transport
    return transport.connect_imap if protocol == "imap" else transport.connect_smtp


def _endpoint(
    state: RunState, server: ServerSettings, security: Security, transcript: Optional[Transcript]
) -> Endpoint:
    context = None if security is Security.NONE else state.config.verifying
    return Endpoint(
        host=server.host,
        port=server.port,
        security=security,
        tls_context=context,
        transcript=transcript,
    )


def open_trusted(
    state: RunState,
    protocol: str,
    server: ServerSettings,
    deadline: Deadline,
    transcript: Optional[Transcript],
    *,
    record: Optional[Callable[..., None]] = None,
) -> Any:
    """A connection with the probe's trust decisions: the certificate verified, or, when
    the settings allow an untrusted one, the connection made again without verifying
    (``record`` gets what was wrong). Later connections of the probe to a server whose
    certificate was allowed go unverified at once."""
    security = server.security or Security.TLS
    endpoint = _endpoint(state, server, security, transcript)
    opener = _opener(state, protocol)
    if endpoint.tls_context is not None and protocol in state.untrusted_allowed:
        return opener(attrs.evolve(endpoint, tls_context=unverified_context()), deadline)
    try:
        conn = opener(endpoint, deadline)
    except CertificateError as exc:
        if not state.settings.allow_untrusted_certificate:
            if exc.reason == "hostname_mismatch" and not exc.names:
                exc.names = _certificate_names(opener, endpoint, deadline)
            raise
        # The person allowed it: go on unverified, but say what was wrong.
        if record is not None:
            record(
                certificate_trusted=False,
                certificate_problem=exc.reason,
                certificate_error=str(exc),
            )
        conn = opener(attrs.evolve(endpoint, tls_context=unverified_context()), deadline)
        state.untrusted_allowed.add(protocol)
        return conn
    if endpoint.tls_context is not None and endpoint.tls_context.verify_mode == ssl.CERT_REQUIRED:
        state.verified[protocol] = server.host
    if record is not None and endpoint.tls_context is not None:
        record(certificate_trusted=True)
    return conn


def _certificate_names(opener: Any, endpoint: Endpoint, deadline: Deadline) -> tuple[str, ...]:
    """The names on a certificate refused for its name, so the advice can name them:
    read from one more connection that verifies nothing, sends no credentials and is
    closed at once (empty when that fails too)."""
    try:
        conn = opener(attrs.evolve(endpoint, tls_context=unverified_context()), deadline)
    except ProbeError:
        return ()
    try:
        certificate = (conn.info.tls or {}).get("certificate")
        names = certificate.get("subject_alt_names") if isinstance(certificate, dict) else None
        if not isinstance(names, (list, tuple)):
            return ()
        return tuple(name for name in names if isinstance(name, str))[:5]
    finally:
        close_quietly(conn)


def _note(transcript: Optional[Transcript], text: str) -> None:
    if transcript is not None:
        transcript.note(text)


def _plain_greeting(exc: TLSError) -> bool:
    """A TLS handshake that met a plain-text greeting (OpenSSL: wrong version number)."""
    return type(exc) is TLSError and exc.reason == "wrong_version"


def answers(
    state: RunState,
    protocol: str,
    server: ServerSettings,
    security: Security,
    deadline: Deadline,
    *,
    transcript: Optional[Transcript] = None,
    seconds: Optional[float] = None,
) -> bool:
    """True when ``server``'s port greets in ``security`` mode (a certificate or a
    refusal in that mode counts: the mode is right). Greeting only, no credentials."""
    attempt = GraceDeadline(deadline, grace_for(deadline) if seconds is None else seconds)
    try:
        conn = _opener(state, protocol)(_endpoint(state, server, security, transcript), attempt)
    except (CertificateError, ReplyError):
        return True
    except Exception as exc:  # any other failure rules the mode out
        _log.log(
            _log.DEBUG,
            "%s port %s with %s: %s", protocol, server.port, security.value, type(exc).__name__
        )
        return False
    close_quietly(conn)
    return True


def connect(ctx: StageContext, transcript: Optional[Transcript]) -> Any:
    """The connect stage's connection, in the mode given or, when none was given, the
    mode found; fails fast with ``SecurityModeError`` when the port answers only in
    the other mode."""
    state = ctx._state
    protocol = ctx.stage.protocol
    given = state.given(protocol)
    detect = given.security is None
    first = given.security or Security.TLS
    ctx.record(host=given.host, port=given.port, security=first.value)
    state.resolve(protocol, _with(given, security=first))

    def attempt(security: Security, deadline: Deadline) -> Any:
        server = _with(given, security=security)
        return open_trusted(state, protocol, server, deadline, transcript, record=ctx.record)

    seconds = grace_for(ctx.deadline)
    grace = GraceDeadline(ctx.deadline, seconds)
    try:
        conn = attempt(first, grace)
    except DeadlineExceeded:
        if not grace.cut or ctx.deadline.expired:
            raise
        silent = True
    except (CertificateError, ReplyError):
        if detect:  # the server answered in this mode: it is the one
            _found(ctx, given, first, worked=False)
        raise
    except TLSError as exc:
        if not (detect and _plain_greeting(exc)):
            raise
        silent = False
    else:
        grace.release()
        if detect:
            _found(ctx, given, first)
        return conn

    other = _OTHER[first]
    if detect:
        return _detect(ctx, given, attempt, silent, transcript)
    _note(transcript, f"no answer with {first.value} in {seconds:.1f} s; asking {other.value}")
    if answers(state, protocol, given, other, ctx.deadline, transcript=transcript):
        raise SecurityModeError(
            f"no answer with {first.value.upper()} in {seconds:.1f} s, but port {given.port}"
            f" answers with {other.value.upper()}",
            tried=first,
            other_mode_answered=other,
        )
    _note(transcript, f"no answer with {other.value} either; waiting for {first.value}")
    try:
        return attempt(first, ctx.deadline)
    except DeadlineExceeded as exc:
        exc.other_mode_silent = other  # neither mode answered: not a mode problem
        raise


def _found(
    ctx: StageContext, given: ServerSettings, security: Security, *, worked: bool = True
) -> None:
    """``security`` is the mode the server answers in; when the connection ``worked``,
    say so in the warnings too (the person should save it in the settings)."""
    protocol = ctx.stage.protocol
    ctx._state.resolve(protocol, _with(given, security=security))
    ctx.record(security=security.value, security_detected=True)
    if not worked:
        return
    name = security.value.upper()
    params = {"protocol": protocol.upper(), "port": str(given.port), "security": name}
    ctx.warn(
        english_text("warning.security_detected", **params),
        message_id="warning.security_detected",
        **params,
    )


def _detect(
    ctx: StageContext,
    given: ServerSettings,
    attempt: Callable[[Security, Deadline], Any],
    silent: bool,
    transcript: Optional[Transcript],
) -> Any:
    """TLS did not work out: a plain-text greeting means STARTTLS; after silence,
    STARTTLS gets a grace too, then TLS the rest of the time."""
    starttls = Security.STARTTLS
    if not silent:
        _note(transcript, "the server greets in plain text; trying starttls")
        return _adopt(ctx, given, attempt, starttls, ctx.deadline)
    _note(transcript, "no answer with tls; trying starttls")
    grace = GraceDeadline(ctx.deadline, grace_for(ctx.deadline))
    try:
        conn = _adopt(ctx, given, attempt, starttls, grace)
    except ProbeError:
        if not grace.cut or ctx.deadline.expired:
            raise
    else:
        grace.release()
        return conn
    _note(transcript, "no answer with starttls either; waiting for tls")
    ctx._state.resolve(ctx.stage.protocol, _with(given, security=Security.TLS))
    ctx.record(security=Security.TLS.value)
    try:
        conn = attempt(Security.TLS, ctx.deadline)
    except TLSError as exc:
        if not _plain_greeting(exc):
            raise
        return _adopt(ctx, given, attempt, starttls, ctx.deadline)
    _found(ctx, given, Security.TLS)
    return conn


def _adopt(
    ctx: StageContext,
    given: ServerSettings,
    attempt: Callable[[Security, Deadline], Any],
    security: Security,
    deadline: Deadline,
) -> Any:
    """Connect in ``security``; when the server answers in that mode (even with a
    refusal), it is the mode found."""
    ctx._state.resolve(ctx.stage.protocol, _with(given, security=security))
    ctx.record(security=security.value)
    try:
        conn = attempt(security, deadline)
    except (ReplyError, CertificateError, StartTLSError):
        _found(ctx, given, security, worked=False)
        raise
    _found(ctx, given, security)
    return conn


# -- suggestions ----------------------------------------------------------------------
def candidates(protocol: str, port: int, security: Security) -> list[tuple[int, Security]]:
    """Same port with the other TLS mode first, then the protocol's usual ports."""
    other = Security.STARTTLS if security is Security.TLS else Security.TLS
    ordered = [(port, other), *USUAL[protocol]]
    seen = {(port, security)}
    out = []
    for candidate in ordered:
        if candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out


def find_working(state: RunState, protocol: str, deadline: Deadline) -> Optional[ServerDefaults]:
    """The first candidate that greets properly (a STARTTLS one after its handshake),
    within ``deadline``: greeting only, no credentials."""
    server = state.server(protocol)
    assert server.security is not None
    opener = _opener(state, protocol)
    for port, security in candidates(protocol, server.port, server.security):
        left = deadline.left()
        if left <= 0:
            return None
        attempt = GraceDeadline(deadline, min(left, PER_TRY))
        candidate = attrs.evolve(server, port=port, security=security)
        try:
            conn = opener(_endpoint(state, candidate, security, None), attempt)
        except Exception as exc:  # any failure rules the candidate out
            _log.log(
                _log.DEBUG,
                "%s port %s with %s: %s", protocol, port, security.value, type(exc).__name__
            )
            continue
        close_quietly(conn)
        return ServerDefaults(host=server.host, port=port, security=security)
    return None


def with_suggestion(diagnosis: Diagnosis, found: ServerDefaults) -> Diagnosis:
    """``diagnosis`` with ``found`` as its suggestion, said first among the hints."""
    params = {
        "host": found.host,
        "port": str(found.port),
        "security": found.security.value.upper(),
    }
    messages = diagnosis.hint_messages
    if any(
        m.id == "tls_mode_mismatch.choose"
        and m.params.get("port") == params["port"]
        and m.params.get("expected_mode", "").upper() == params["security"]
        for m in messages
    ):  # the hints already say "choose that mode and keep the port"
        return attrs.evolve(diagnosis, suggestion=found)
    hint = english_text("hint.use_working_settings", **params)
    if len(messages) == len(diagnosis.hints) and messages:
        messages = (Message(id="hint.use_working_settings", params=params), *messages)
    return attrs.evolve(
        diagnosis, suggestion=found, hints=(hint, *diagnosis.hints), hint_messages=messages
    )


def amend_connect(ctx: StageContext, error: BaseException, diagnosis: Diagnosis) -> Diagnosis:
    """After a failed connect: the mode the port answered in, or with ``suggest=True``
    the first port and mode that work, as the diagnosis's suggestion."""
    state = ctx._state
    protocol = ctx.stage.protocol
    server = state.server(protocol)
    answered = getattr(error, "other_mode_answered", None)
    if isinstance(answered, Security):
        found = ServerDefaults(host=server.host, port=server.port, security=answered)
        return with_suggestion(diagnosis, found)
    if not state.config.suggest or diagnosis.cause not in ELIGIBLE:
        return diagnosis
    working = find_working(state, protocol, ctx.deadline)
    return diagnosis if working is None else with_suggestion(diagnosis, working)
