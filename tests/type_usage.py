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
    CapacityDetails,
    CertificateInfo,
    Check,
    CheckResult,
    ConnectDetails,
    ConnectionInfo,
    Deadline,
    DeliveryDetails,
    Diagnosis,
    Endpoint,
    ErrorCategory,
    Failure,
    Folder,
    ImapConnection,
    InboxOptions,
    InboxSettings,
    JSONValue,
    LoginDetails,
    Message,
    ProbeEvent,
    ProbeOptions,
    Prober,
    ProbeResult,
    ProberOptions,
    Provider,
    Providers,
    ReplyError,
    Rule,
    RuleRegistry,
    Security,
    SecurityModeError,
    SendDetails,
    ServerDefaults,
    ServerSettings,
    SmtpConnection,
    Stage,
    StageContext,
    StageDetails,
    StageResult,
    StageStatus,
    SuggestedSettings,
    TLSInfo,
    Transport,
    ValidateDetails,
)
from mailprobe.testing import Call, Replies, ScriptedTransport

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
details: Mapping[str, JSONValue] = stage_result.details  # details still read as a mapping
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


# -- 0.2: a configured Prober, typed details, forms, checks, JSON round trip ------------
def sent_folder_exists(ctx: StageContext) -> None:
    validate = ctx.result(Stage.IMAP_VALIDATE)
    if validate is not None and isinstance(validate.details, ValidateDetails):
        ctx.record(sent_folder=validate.details.sent_folder)
        if validate.details.sent_folder is None:
            raise mailprobe.CapabilityError("no Sent folder", missing=("\\Sent",))
    deadline_left: float = ctx.deadline.left()
    recipient: Optional[str] = ctx.test_recipient
    server: ServerSettings = ctx.server
    conn: ImapConnection = ctx.open_imap(login=False)
    method: str = ctx.login(conn)
    ctx.close(conn)
    ctx.warn(f"{deadline_left} {recipient} {server.host} {method}", message_id="app.note", x="y")
    if ctx.settings.email.endswith(".invalid"):
        ctx.skip("nothing to check")


app_options: ProberOptions = {"timeout": 20.0, "suggest": True, "ca_file": None}
prober = Prober(
    ca_file=None,
    ssl_context=None,
    rules=rules,
    providers=providers,
    transport=transport,
    timeout=20.0,
    sequential=False,
    suggest=True,
    checks=[Check(name="sent_folder", run=sent_folder_exists, after=Stage.IMAP_VALIDATE)],
)
also: Prober = Prober(**app_options)
per_inbox: ProbeOptions = {"test_recipient": "bcc@app.example", "transcript": True}
typed: ProbeResult = prober.probe(
    settings,
    test_recipient="bcc@app.example",
    timeout=10.0,
    required_capabilities=("IDLE",),
    transcript=False,
    confirm_delivery=True,
    capacity=True,
    on_event=on_event,
)
again: ProbeResult = prober.probe(oauth, **per_inbox)
batch_options: InboxOptions = {"capacity": 3}
batch: list[ProbeResult] = prober.probe_many(
    [settings], max_workers=2, per_host_limit=None, on_result=None, **batch_options
)


async def prober_in_asyncio() -> ProbeResult:
    return await prober.aprobe(settings, on_event=on_event)


connect: ConnectDetails = typed.stage(Stage.IMAP_CONNECT).details
tls: Optional[TLSInfo] = connect.tls
certificate: Optional[CertificateInfo] = connect.certificate
if certificate is not None and certificate.days_to_expiry is not None:
    soon: bool = certificate.days_to_expiry < 14
security_used: Optional[Security] = connect.security
login_details: LoginDetails = typed.stage(Stage.SMTP_LOGIN).details
validate_details: ValidateDetails = typed.stage(Stage.IMAP_VALIDATE).details
missing: tuple[str, ...] = validate_details.missing
send_details: SendDetails = typed.stage(Stage.TEST_EMAIL).details
delivery_details: DeliveryDetails = typed.stage(Stage.DELIVERY).details
if delivery_details.latency is not None and delivery_details.latency > 0:
    print(delivery_details.latency)
capacity_details: CapacityDetails = typed.stage(Stage.CAPACITY).details
any_details: StageDetails = typed.stages[0].details
round_trips: Optional[int] = any_details.round_trips

failed: Optional[StageResult] = typed.failed_stage
if (headline := typed.diagnosis) is not None:
    title: str = headline.title
    failed_at: Optional[Stage] = headline.stage
warnings: tuple[str, ...] = typed.warnings
warning_ids: list[str] = [m.id for m in typed.warning_messages]
checks: tuple[CheckResult, ...] = typed.checks
sent_check: CheckResult = typed.check("sent_folder")
check_name: str = sent_check.name
rebuilt: ProbeResult = ProbeResult.from_dict(typed.to_dict())
message: Message = Message(id="warning.custom", params={"a": "b"})

form_settings: InboxSettings = InboxSettings.from_form(
    {
        "email": "a@example.com",
        "password": "pw",
        "imap_host": "imap.example.com",
        "imap_port": "993",
        "smtp_host": "smtp.example.com",
        "smtp_security": "ssl",
    }
)
try:
    InboxSettings.from_form({})
except mailprobe.SettingsError as exc:
    problems: tuple[tuple[str, str], ...] = exc.errors
maybe_security: Optional[Security] = form_settings.imap.security

replayed = ScriptedTransport(
    imap_capabilities=["IMAP4REV1", "IDLE"],
    imap_list=[Folder(name="INBOX")],
    imap_find=Replies(False, True),
    smtp_login=lambda call: "PLAIN" if call.args["username"] else None,
)
mode_error = SecurityModeError("x", tried=Security.STARTTLS, other_mode_answered=Security.TLS)
answered: Security = mode_error.other_mode_answered
