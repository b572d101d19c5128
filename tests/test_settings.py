"""Settings are validated at construction with errors that name the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import mailprobe
from mailprobe import InboxSettings, Security, ServerSettings, SettingsError
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings

IMAP = ServerSettings(host="imap.example.com", port=993)


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        (993, Security.TLS),
        (465, Security.TLS),
        (143, Security.STARTTLS),
        (587, Security.STARTTLS),
        (25, Security.STARTTLS),
        (2525, None),  # unusual port: the probe finds the mode
    ],
)
def test_security_follows_the_port_when_omitted(port: int, expected: Security | None) -> None:
    assert ServerSettings(host="mail.example.com", port=port).security is expected


def test_none_is_only_used_when_asked_for() -> None:
    assert (
        ServerSettings(host="h.example", port=143, security=Security.NONE).security is Security.NONE
    )
    assert ServerSettings(host="h.example", port=143, security="none").security is Security.NONE


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"host": "", "port": 993}, "host"),
        ({"host": "imap example.com", "port": 993}, "host"),
        ({"host": "imap.example.com\r\nX", "port": 993}, "host"),
        ({"host": "-bad-.example", "port": 993}, "host"),
        ({"host": 42, "port": 993}, "host"),
        ({"host": "imap.example.com", "port": 0}, "port"),
        ({"host": "imap.example.com", "port": 65536}, "port"),
        ({"host": "imap.example.com", "port": "993"}, "port"),
        ({"host": "imap.example.com", "port": True}, "port"),
        ({"host": "imap.example.com", "port": 993, "security": "ssl"}, "security"),
        ({"host": "imap.example.com", "port": 993, "username": "a\nb"}, "username"),
        ({"host": "imap.example.com", "port": 993, "username": ""}, "username"),
    ],
)
def test_bad_server_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        ServerSettings(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert isinstance(info.value, ValueError)


def test_idn_hosts_become_idna_and_ipv6_literals_lose_brackets() -> None:
    assert ServerSettings(host="Bücher.Example", port=993).host == "xn--bcher-kva.example"
    assert ServerSettings(host="[::1]", port=993).host == "::1"
    assert ServerSettings(host="127.0.0.1", port=993).host == "127.0.0.1"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@b.example\r\nBcc: victim@x.example"}, "email"),
        ({"email": "Alice <alice@example.com>"}, "email"),
        ({"email": "a@b.example, c@d.example"}, "email"),
        ({"password": ""}, "password"),
        ({"password": "pass\r\nword"}, "password"),
        ({"password": "nul\x00byte"}, "password"),
        ({"username": "x\r\nLOGOUT"}, "username"),
        ({"imap": "imap.example.com"}, "imap"),
        ({"allow_untrusted_certificate": "yes"}, "allow_untrusted_certificate"),
    ],
)
def test_bad_inbox_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        scripted_settings(**kwargs)
    assert info.value.field == field


def test_a_bad_password_is_not_echoed_in_the_error() -> None:
    with pytest.raises(SettingsError) as info:
        scripted_settings(password="Sup3rSecret\n")
    assert "Sup3rSecret" not in str(info.value)


def test_password_never_shows_in_repr_or_str() -> None:
    settings = scripted_settings(
        password="inbox-secret-1",
        smtp=ServerSettings(host="smtp.example.com", port=587, password="smtp-secret-2"),
    )
    for text in (repr(settings), str(settings), repr(settings.smtp)):
        assert "inbox-secret-1" not in text and "smtp-secret-2" not in text


def test_server_credentials_fall_back_to_the_inbox() -> None:
    smtp = ServerSettings(
        host="smtp.example.com", port=587, username="relay-user", password="relay-pass"
    )
    settings = scripted_settings(smtp=smtp, username="custom")
    assert settings.login_for(settings.imap) == ("custom", "s3cret-Pa55")
    assert settings.login_for(smtp) == ("relay-user", "relay-pass")
    plain = scripted_settings()
    assert plain.login_for(plain.imap) == ("alice@example.com", "s3cret-Pa55")


def test_settings_are_frozen() -> None:
    settings = scripted_settings()
    with pytest.raises(AttributeError):
        settings.email = "b@example.com"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("timeout", 0),
        ("timeout", -1),
        ("timeout", float("nan")),
        ("timeout", float("inf")),
        ("timeout", 1e308),
        ("timeout", "30"),
        ("test_recipient", "bcc@app.example\r\nX: y"),
        ("test_recipient", "nobody"),
        ("ca_file", "/nonexistent/ca.pem"),
        ("rules", []),
        ("required_capabilities", "IDLE"),
    ],
)
def test_bad_probe_options_raise_at_the_boundary(option: str, value: object) -> None:
    with pytest.raises(SettingsError) as info:
        mailprobe.probe(scripted_settings(), **{option: value})  # type: ignore[arg-type]
    assert info.value.field == option


def test_probe_refuses_something_that_is_not_settings() -> None:
    with pytest.raises(SettingsError):
        mailprobe.probe({"email": "a@b.example"})  # type: ignore[arg-type]


_text = st.text(min_size=0, max_size=40)


@given(
    email=_text,
    password=_text,
    username=st.none() | _text,
    host=_text,
    port=st.integers(min_value=-5, max_value=70000),
)
def test_any_input_is_either_accepted_or_refused_with_a_settings_error(
    email: str, password: str, username: str | None, host: str, port: int
) -> None:
    try:
        server = ServerSettings(host=host, port=port)
        settings = InboxSettings(
            email=email, password=password, username=username, imap=server, smtp=server
        )
    except SettingsError as exc:
        assert exc.field in {"email", "password", "username", "host", "port"}
        if exc.field == "password":  # its message never quotes the value
            assert str(exc) in (
                "password: must not be empty",
                "password: must not contain CR, LF or NUL characters",
            )
        return
    # Accepted values can never carry a line break into a protocol command.
    for value in (settings.email, settings.username or "", settings.imap.host):
        assert not any(ch in value for ch in "\r\n\x00")
    assert 1 <= settings.imap.port <= 65535


_option_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.lists(st.text(max_size=8), max_size=3),
)


@given(timeout=_option_values, recipient=_option_values, required=_option_values)
def test_probe_options_are_validated_or_probe_runs(
    timeout: object, recipient: object, required: object
) -> None:
    try:
        result = mailprobe.probe(
            scripted_settings(),
            timeout=timeout,
            test_recipient=recipient,  # type: ignore[arg-type]
            required_capabilities=required if required is not None else (),  # type: ignore[arg-type]
            transport=ScriptedTransport(),
        )
    except SettingsError as exc:
        assert exc.field in {"timeout", "test_recipient", "required_capabilities"}
        return
    assert len(result.stages) == 6  # a normal probe, whatever it concluded


@given(
    field=st.sampled_from(["email", "username", "test_recipient"]),
    head=st.text(max_size=5),
    bad=st.sampled_from(["\r", "\n", "\x00", "\r\n"]),
    tail=st.text(max_size=5),
)
def test_line_breaks_and_nul_are_refused_everywhere(
    field: str, head: str, bad: str, tail: str
) -> None:
    value = f"{head}a{bad}b{tail}@example.com"

    def attempt() -> object:
        if field == "test_recipient":
            return mailprobe.probe(
                scripted_settings(), test_recipient=value, transport=ScriptedTransport()
            )
        return scripted_settings(**{field: value})

    with pytest.raises(SettingsError) as info:
        attempt()
    assert info.value.field == field


def test_ipv6_literals_and_idn_reach_the_transport() -> None:
    transport = ScriptedTransport()
    settings = scripted_settings(
        imap=ServerSettings(host="[2001:db8::1]", port=993),
        smtp=ServerSettings(host="smtp.bücher.example", port=465),
    )
    assert mailprobe.probe(settings, transport=transport).ok
    imap_call, smtp_call = transport.called("imap_connect")[0], transport.called("smtp_connect")[0]
    assert imap_call.args["host"] == "2001:db8::1"
    assert smtp_call.args["host"] == "smtp.xn--bcher-kva.example"


# -- forms -------------------------------------------------------------------------------
FORM = {
    "email": " alice@example.com ",
    "password": " pass word ",
    "imap_host": " IMAP.Example.com ",
    "imap_port": "993",
    "imap_security": "SSL/TLS",
    "smtp_host": "smtp.example.com",
    "smtp_port": " 587 ",
    "smtp_security": "StartTLS",
    "allow_untrusted_certificate": "on",
    "csrf_token": "ignored",
}


def test_a_form_is_read_the_way_it_is_sent() -> None:
    settings = InboxSettings.from_form(FORM)
    assert settings.email == "alice@example.com"
    assert settings.password == " pass word "  # kept as typed: spaces may be real
    assert (settings.imap.host, settings.imap.port, settings.imap.security) == (
        "imap.example.com",
        993,
        Security.TLS,
    )
    assert (settings.smtp.port, settings.smtp.security) == (587, Security.STARTTLS)
    assert settings.allow_untrusted_certificate is True
    assert settings.username is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ssl", Security.TLS),
        ("SSL/TLS", Security.TLS),
        ("tls", Security.TLS),
        ("STARTTLS", Security.STARTTLS),
        ("start tls", Security.STARTTLS),
        ("none", Security.NONE),
        ("Plain", Security.NONE),
        ("", None),
        ("auto", None),
    ],
)
def test_security_names_people_use(name: str, expected: Security | None) -> None:
    form = {**FORM, "imap_security": name, "imap_port": "2525"}
    assert InboxSettings.from_form(form).imap.security is expected


def test_the_nested_form_and_empty_optional_fields() -> None:
    settings = InboxSettings.from_form(
        {
            "email": "alice@example.com",
            "password": "pw",
            "username": "  ",
            "imap": {"host": "imap.example.com", "port": 143, "security": "", "password": ""},
            "smtp": {"host": "smtp.example.com", "security": "ssl", "username": "relay"},
        }
    )
    assert settings.username is None
    assert (settings.imap.port, settings.imap.security, settings.imap.password) == (
        143,
        Security.STARTTLS,
        None,
    )
    assert (settings.smtp.port, settings.smtp.username) == (465, "relay")  # port from TLS


def test_every_bad_field_is_reported_with_its_full_path() -> None:
    with pytest.raises(SettingsError) as info:
        InboxSettings.from_form(
            {
                "email": "not an address",
                "imap_host": "imap.example.com",
                "imap_port": "99x",
                "smtp": {"host": "", "port": "70000", "security": "quantum"},
                "allow_untrusted_certificate": "maybe",
            }
        )
    fields = [field for field, _ in info.value.errors]
    assert fields == [
        "email",
        "allow_untrusted_certificate",
        "password",
        "imap.port",
        "smtp.host",
        "smtp.security",
        "smtp.port",
    ]
    assert info.value.field == "email" and isinstance(info.value, ValueError)
    messages = dict(info.value.errors)
    assert messages["smtp.host"] == "is required"
    assert "1 to 65535" in messages["imap.port"] and "'99x'" in messages["imap.port"]
    assert "STARTTLS" in messages["smtp.security"]
    assert str(info.value).count(": ") >= len(fields)


def test_a_bad_form_password_is_never_echoed() -> None:
    with pytest.raises(SettingsError) as info:
        InboxSettings.from_form({**FORM, "password": "Sup3rSecret\r\nX"})
    assert info.value.errors == (("password", "must not contain CR, LF or NUL characters"),)
    assert "Sup3rSecret" not in str(info.value)


def test_a_form_that_is_not_a_mapping() -> None:
    with pytest.raises(SettingsError) as info:
        InboxSettings.from_form(["email"])  # type: ignore[arg-type]
    assert info.value.field == "form"


_FORM_KEYS = [
    "email",
    "password",
    "username",
    "oauth2_token",
    "allow_untrusted_certificate",
    *(
        f"{s}_{k}"
        for s in ("imap", "smtp")
        for k in ("host", "port", "security", "username", "password")
    ),
    "imap",
    "smtp",
    "other",
]
_hostile = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-70000, 70000),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from([" 993 ", "ssl", "STARTTLS", "on", "a@b.example", "imap.example.com", "\r\n"]),
    st.binary(max_size=8),
    st.lists(st.text(max_size=5), max_size=2),
    st.dictionaries(
        st.sampled_from(["host", "port", "security", "x"]),
        st.one_of(st.text(max_size=10), st.integers(-5, 70000), st.none()),
        max_size=4,
    ),
)


@hypothesis_settings(max_examples=400, deadline=None)
@given(
    form=st.dictionaries(st.sampled_from(_FORM_KEYS), _hostile, max_size=12),
    secret=st.text(alphabet="QZXJqzxj", min_size=8, max_size=12),
)
def test_any_form_is_read_or_refused_with_every_problem_named(
    form: dict[str, object], secret: str
) -> None:
    with_password = isinstance(form.get("password"), str)
    if with_password:
        form["password"] = f"{form['password']}{secret}"  # recognisable if echoed
    try:
        settings = InboxSettings.from_form(form)
    except SettingsError as exc:
        assert exc.errors and (exc.field, exc.problem) == exc.errors[0]
        paths = {field for field, _ in exc.errors}
        flat = {
            k.replace("_", ".", 1) if k.startswith(("imap_", "smtp_")) else k for k in _FORM_KEYS
        }
        assert paths <= flat - {"other"}, paths
        # The secret may be echoed only where the form also holds it elsewhere (a value
        # hypothesis happened to make equal to it, such as the email).
        elsewhere = any(secret in repr(v) for k, v in form.items() if k != "password")
        assert not with_password or elsewhere or secret not in str(exc)
        return
    for value in (settings.email, settings.imap.host, settings.smtp.host, settings.username or ""):
        assert value == value.strip() and not any(ch in value for ch in "\r\n\x00")
    assert 1 <= settings.imap.port <= 65535 and 1 <= settings.smtp.port <= 65535
