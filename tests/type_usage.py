"""Every public call shape, for ``mypy --strict`` (this file is checked, never run).

If a change to the public API breaks an app's typed code, it breaks this file first.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import Optional

import mailprobe
from mailprobe import (
    ConnectionInfo,
    Deadline,
    Diagnosis,
    Endpoint,
    ErrorCategory,
    Failure,
    Folder,
    ImapConnection,
    InboxSettings,
    JSONValue,
    ProbeEvent,
    ProbeResult,
    Provider,
    Providers,
    ReplyError,
    Rule,
    RuleRegistry,
    Security,
    ServerDefaults,
    ServerSettings,
    SmtpConnection,
    Stage,
    StageResult,
    StageStatus,
    SuggestedSettings,
    Transport,
)
from mailprobe.testing import Call, ScriptedTransport

imap = ServerSettings(host="imap.example.com", port=993, security=Security.TLS)
smtp = ServerSettings(
    host="smtp.example.com", port=587, security="starttls", username="relay", password="pw"
)
settings = InboxSettings(
    email="a@example.com",
    password="pw",
    username=None,
    imap=imap,
    smtp=smtp,
    allow_untrusted_certificate=False,
)
oauth = InboxSettings(email="a@example.com", oauth2_token="tok", imap=imap, smtp=smtp)
login: tuple[str, str] = settings.login_for(smtp)
uses: bool = oauth.uses_oauth2(imap)


def on_event(event: ProbeEvent) -> None:
    stage: Stage = event.stage
    result: Optional[StageResult] = event.result
    print(stage, event.kind, result)


rules: RuleRegistry = mailprobe.default_registry().copy()


@rules.register(id="app.rule", priority=10, stages=[Stage.IMAP_LOGIN])
def app_rule(failure: Failure) -> Optional[Diagnosis]:
    code: Optional[int] = failure.code
    text: str = failure.text
    provider: Optional[Provider] = failure.provider
    if code == 535 or "x" in text or provider is not None:
        return Diagnosis(category=ErrorCategory.UNAUTHORIZED, cause="x", hints=("h",))
    return None


rules.add(Rule(id="other", check=lambda f: None, priority=1), replace=True)
rules.register(lambda f: None, id="third")
removed: Rule = rules.remove("third")
ordered: tuple[Rule, ...] = rules.rules
matcher = mailprobe.any_of(mailprobe.when(codes=[535]), mailprobe.when(text=r"quota"))
matched: bool = matcher(
    Failure(
        stage=Stage.SMTP_LOGIN,
        error=ReplyError.smtp(535, "no"),
        host="h",
        port=587,
        security=Security.STARTTLS,
    )
)

providers: Providers = mailprobe.default_providers()
providers.add(
    Provider(
        id="acme",
        name="Acme",
        domains=("acme.example",),
        imap=ServerDefaults(host="imap.acme.example", port=993, security="tls"),
        app_passwords="always",
    ),
    replace=True,
)
suggested: Optional[SuggestedSettings] = mailprobe.suggest_settings(
    "a@gmail.com", providers=providers
)
transport: Transport = ScriptedTransport(
    imap_login=ReplyError.imap("NO", "x", command="LOGIN"), delay=0.0
)
calls: list[Call] = ScriptedTransport().called("smtp_send")

result: ProbeResult = mailprobe.probe(
    settings,
    test_recipient="bcc@app.example",
    timeout=30.0,
    ca_file=None,
    ssl_context=ssl.create_default_context(),
    rules=rules,
    transport=transport,
    on_event=on_event,
    required_capabilities=["IDLE"],
    transcript=True,
    providers=providers,
    sequential=False,
    suggest=True,
    confirm_delivery=True,
    capacity=5,
)
ok: bool = result.ok
diagnosis: Optional[Diagnosis] = result.diagnosis
if diagnosis is not None:
    hints: tuple[str, ...] = diagnosis.hints
    temporary: bool = diagnosis.temporary
    suggestion: Optional[ServerDefaults] = diagnosis.suggestion
stage_result: StageResult = result.stage(Stage.SMTP_LOGIN)
status: StageStatus = stage_result.status
details: Mapping[str, JSONValue] = stage_result.details
as_dict: dict[str, object] = result.to_dict()

many: list[ProbeResult] = mailprobe.probe_many(
    [settings, oauth],
    max_workers=4,
    per_host_limit=2,
    on_result=lambda index, res: print(index, res.ok),
    timeout=10.0,
)


async def in_asyncio() -> ProbeResult:
    return await mailprobe.aprobe(settings, timeout=10.0, on_event=on_event)


asyncio_result: ProbeResult = asyncio.run(in_asyncio())


class MyTransport:
    """A custom transport only has to match the protocols structurally."""

    def connect_imap(self, endpoint: Endpoint, deadline: Deadline) -> ImapConnection:
        left: float = deadline.remaining("connecting")
        cancel = deadline.on_expiry(lambda: None)
        cancel()
        raise mailprobe.RefusedError(f"{endpoint.host}:{endpoint.port} after {left}")

    def connect_smtp(self, endpoint: Endpoint, deadline: Deadline) -> SmtpConnection:
        raise mailprobe.DeadlineExceeded("connecting")


custom: Transport = MyTransport()
info = ConnectionInfo(greeting="* OK", capabilities=("IMAP4REV1",))
folder = Folder(name="Sent", flags=("\\Sent",), delimiter="/")
