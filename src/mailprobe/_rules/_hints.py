"""What to tell a person, per cause, and the one place a built-in diagnosis is made.

Base hints are templates filled from ``Failure.facts()``; a hint naming a fact
that is empty for this failure (``{text}`` when the server said nothing) is left
out rather than shown half-filled. Context adds hints that fit the case: the
provider's own steps, app-password advice, the login-name format, spaces pasted
into a password, and the connection limit a server announced.
"""

from __future__ import annotations

import re
import string
from typing import TYPE_CHECKING, Optional

from .._enums import ErrorCategory
from .._errors import ConnectionLimitError
from .._models import Diagnosis

if TYPE_CHECKING:
    from ._registry import Failure

#: Causes where trying again later, unchanged, may succeed.
TEMPORARY = frozenset(
    {"too_many_connections", "rate_limited", "server_unavailable", "sending_limit_exceeded"}
)

_ALLOWLIST = (
    "If your organisation only lets known IP addresses reach its mail servers, "
    "ask your IT team to add the app's addresses to the allowlist."
)
_TRUST_ANYWAY = (
    'If you know and trust this server, you can turn on "allow untrusted '
    "certificate\": the link stays encrypted, but the server's identity is no "
    "longer checked."
)
_CHECK_PORT = "Check the port and security mode: {proto} normally uses {ports}."
_RETRY = "This is usually temporary: wait a few minutes and run the check again."

HINTS: dict[str, tuple[str, ...]] = {
    "dns_not_found": (
        "The server name {host} does not exist in DNS. Look for a typo; mail servers are "
        "usually named like imap.yourdomain.com, smtp.yourdomain.com or mail.yourdomain.com.",
        "Your email provider's help pages list the exact {proto} server name.",
    ),
    "network_unreachable": (
        "The app could not reach {host} over the network: {text}.",
        _ALLOWLIST,
    ),
    "connection_refused": (
        "{host} answered, but nothing accepts {proto} connections on port {port}.",
        _CHECK_PORT,
        _ALLOWLIST,
    ),
    "timeout": (
        "{host} did not answer in time (while {during}).",
        _CHECK_PORT,
        "A firewall that silently drops connections looks exactly like this. " + _ALLOWLIST,
    ),
    "tls_mode_mismatch": (
        "Port {port} on {host} does not speak the way the security setting {security} expects.",
        "Ports 993 (IMAP) and 465 (SMTP) are encrypted from the first byte: choose TLS. "
        "Ports 143 (IMAP), 587 and 25 (SMTP) start unencrypted and switch over: choose STARTTLS.",
    ),
    "tls_version_unsupported": (
        "{host} only offers TLS versions older than 1.2, which are no longer safe to use.",
        "Ask the provider or your IT team to enable TLS 1.2 or newer on the {proto} server.",
    ),
    "tls_handshake_failed": (
        "The encrypted connection to {host} could not be set up: {text}.",
        _CHECK_PORT,
    ),
    "starttls_unavailable": (
        "The {proto} server on port {port} did not let the connection switch to encryption "
        "(STARTTLS), so the password was not sent.",
        "If this port is encrypted from the start, choose TLS instead; otherwise use the "
        "server's encrypted port: {ports}.",
    ),
    "server_disconnected": (
        "{host} closed the connection unexpectedly.",
        "Servers do this when they block an address, when too many connections are open for "
        "the mailbox, or when the port belongs to another service.",
        _ALLOWLIST,
    ),
    "server_rejected_connection": (
        '{host} turned the connection away before any login: "{text}".',
        _ALLOWLIST,
    ),
    "protocol_mismatch": (
        "A service answers on {host} port {port}, but it does not speak {proto}.",
        _CHECK_PORT,
    ),
    "cert_self_signed": (
        "{host} presents a self-signed certificate, which nobody else vouches for.",
        "Ask the server's administrator to install a certificate from a public certificate "
        "authority (Let's Encrypt certificates are free).",
        _TRUST_ANYWAY,
    ),
    "cert_unknown_ca": (
        "{host}'s certificate was issued by an authority the app does not know, or the "
        "server does not send the intermediate certificates.",
        "Ask the server's administrator to install the full certificate chain from a public "
        "certificate authority.",
        _TRUST_ANYWAY,
    ),
    "cert_expired": (
        "{host}'s certificate has expired.",
        "Ask the server's administrator to renew it; until then mail apps will warn or refuse.",
        _TRUST_ANYWAY,
    ),
    "cert_not_yet_valid": (
        "{host}'s certificate is not valid yet (check the server's clock and the certificate).",
        _TRUST_ANYWAY,
    ),
    "cert_hostname_mismatch": (
        "The certificate on this server is made out to a different name than {host}.",
        "Use the server name that appears in the certificate, usually the one your provider "
        "documents (for example mail.provider.com rather than your own domain).",
        _TRUST_ANYWAY,
    ),
    "cert_untrusted": (
        "{host}'s certificate could not be verified: {text}.",
        _TRUST_ANYWAY,
    ),
    "invalid_credentials": (
        "The {proto} server did not accept the login name {login} with this password.",
        "Type the password again by hand; pasted passwords often carry a stray space.",
        _ALLOWLIST,
    ),
    "oauth_token_invalid": (
        "The {proto} server did not accept the OAuth access token for {login}: it has "
        "expired, was revoked, or belongs to another account.",
        "Refresh the access token (or have the person sign in again) and run the check with "
        "the new token.",
        "The server wants a token with the scope {scope}.",
    ),
    "oauth_scope_missing": (
        "The OAuth access token lacks the permission (scope) the {proto} server needs.",
        "The server wants a token with the scope {scope}.",
        "Ask for the mail scopes when the person signs in (Gmail: https://mail.google.com/; "
        "Microsoft 365: IMAP.AccessAsUser.All and SMTP.Send) and get a new token.",
    ),
    "app_password_required": (
        "The provider does not accept the account password from mail apps here; it wants an "
        "app password (this is usual once two-step verification is on).",
        "Create an app password in the account's security settings and enter it instead of "
        "the account password.",
    ),
    "web_login_required": (
        "The provider blocked this sign-in until the account owner confirms it in a web "
        'browser ("{text}").',
        "Sign in to the webmail from a browser, approve the security prompt or review the "
        "recent-activity warning, then run the check again.",
    ),
    "basic_auth_disabled": (
        "Signing in with a password (basic authentication) is switched off for this mailbox "
        "or organisation; only OAuth sign-in is accepted.",
        'Connect the mailbox with OAuth ("Sign in with Microsoft" or the provider\'s '
        "equivalent), or ask the administrator whether basic authentication can be allowed.",
    ),
    "smtp_auth_disabled": (
        "The password may well be right: authenticated SMTP sending is switched off for this "
        "mailbox or organisation.",
        "Ask the mailbox administrator to enable SMTP AUTH for this mailbox.",
    ),
    "imap_disabled": (
        'IMAP access is switched off for this account ("{text}").',
        "Turn IMAP on in the mailbox's settings, or ask the administrator to allow it.",
    ),
    "too_many_connections": (
        'The server refused because too many connections to this mailbox are open ("{text}").',
        "Close other mail apps or devices that use this mailbox, or wait for idle connections "
        "to time out, then try again.",
    ),
    "account_locked": (
        'The provider has locked, suspended or restricted this account ("{text}").',
        "Sign in to the webmail to see why and to unlock it; the password may need to be reset.",
    ),
    "password_expired": (
        'The password for {login} has expired ("{text}").',
        "Set a new password in the webmail or through the administrator, then enter it here.",
    ),
    "access_denied": (
        'The login worked, but this login may not use the mailbox ("{text}").',
        "Check the login name: a shared mailbox usually needs its owner's or a delegate's "
        "login with explicit permission.",
    ),
    "rate_limited": (
        'The server is refusing sign-ins for now after too many attempts ("{text}").',
        "Wait before trying again; repeated attempts with a wrong password extend the block.",
    ),
    "server_unavailable": (
        'The server reported a temporary problem on its side ("{text}"); this is not about '
        "the password.",
        _RETRY,
    ),
    "plaintext_auth_disabled": (
        "The server does not accept a password on an unencrypted connection, and this one "
        "is not encrypted.",
        "Choose STARTTLS on port {port}, or TLS on the server's encrypted port ({ports}).",
    ),
    "starttls_required": (
        "The server requires the connection to switch to encryption (STARTTLS) before "
        'logging in or sending ("{text}").',
        "Choose STARTTLS on port {port}, or TLS on the server's encrypted port ({ports}).",
    ),
    "auth_mechanism_unsupported": (
        "The server offers no sign-in method that works with a password here ({text}).",
        "The provider may only allow OAuth sign-in for this account, or only after "
        "encryption is switched on.",
    ),
    "missing_capability": (
        "The IMAP server does not support {missing}, which the app needs.",
        "Check that {host} is the IMAP server of this mailbox; otherwise ask the provider "
        "whether the feature can be enabled.",
    ),
    "inbox_unavailable": (
        'Signing in worked, but the INBOX could not be opened: "{text}".',
        "The mailbox may be disabled, migrating or over quota; check it with the provider.",
    ),
    "folders_unavailable": (
        'Signing in worked, but the folder list could not be read: "{text}".',
        "Check the mailbox with the provider or your IT team.",
    ),
    "relay_denied": (
        "The SMTP server refused to deliver to {recipient}: it treats the message as "
        'coming from an outsider ("{text}").',
        "Make sure SMTP authentication is enabled for this mailbox and that {host} is the "
        "server meant for sending with this account.",
    ),
    "sender_not_allowed": (
        'The server does not let {login} send as {email} ("{text}").',
        "Send from the address that belongs to this login, or ask the administrator to "
        "grant send-as permission for {email}.",
    ),
    "sender_rejected": (
        'The server refused {email} as the sender: "{text}".',
        "Check that the email address matches the mailbox the login belongs to.",
    ),
    "recipient_rejected": (
        'The server refused the test recipient {recipient}: "{text}".',
        "The account may not be allowed to send to outside addresses; check with the "
        "provider or your IT team.",
    ),
    "sending_limit_exceeded": (
        'The account has reached its sending limit ("{text}").',
        "Sending works again once the limit resets, usually within a day; if the limit is "
        "too low for your use, ask the provider about a higher plan.",
    ),
    "not_delivered": (
        "The server accepted the test email, but it did not arrive in {email}'s INBOX while "
        "the check waited.",
        "Look in the spam or junk folder and in any filters or forwarding rules that move "
        "or redirect mail.",
        "If the SMTP server belongs to another system than the mailbox (a relay or a "
        "different account), mail sent through it may end up elsewhere; check that both "
        "settings belong to the same account.",
        "Delivery can also simply be slow: run the check again with a longer timeout.",
    ),
    "mailbox_full": (
        'A mailbox involved is over its storage quota ("{text}").',
        "Delete or archive messages, or ask the provider for more space.",
    ),
    "message_rejected_policy": (
        'The server refused the message under its content or spam policy ("{text}").',
        "The test message is plain and small, so the account or its sending address is "
        "probably flagged; check the account's standing with the provider.",
    ),
    "message_rejected": (
        'The server accepted the addresses but refused the message itself: "{text}".',
        "Check the account's sending limits and restrictions with the provider.",
    ),
    "unknown": (
        'The {proto} server said: "{text}".',
        _CHECK_PORT,
        _ALLOWLIST,
    ),
}

_FORMATTER = string.Formatter()
_URL = re.compile(r"https?://[^\s\"'<>)\]]+")
_LIMIT = re.compile(
    r"mail_max_userip_connections=(\d+)|(?:at most|maximum of|limit of|allows?) (\d+)", re.I
)
_APP_PASSWORD_CAUSES = {
    "invalid_credentials",
    "app_password_required",
    "rate_limited",
    "web_login_required",
}
_SETUP_CAUSES = {
    "imap_disabled",
    "smtp_auth_disabled",
    "basic_auth_disabled",
    "invalid_credentials",
}


def _fields(template: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in _FORMATTER.parse(template) if name}


def _context(cause: str, failure: Failure) -> list[str]:
    """Hints that depend on the provider, the login name and what the server said."""
    out: list[str] = []
    provider = failure.provider
    if provider is not None:
        steps = provider.steps.get(cause, ())
        out.extend(steps)
        if cause in _APP_PASSWORD_CAUSES and cause != "app_password_required" and not steps:
            if provider.app_passwords == "always":
                out.append(
                    f"{provider.name} accepts only an app password from mail apps, "
                    "never the account password."
                )
            elif provider.app_passwords == "with_2fa":
                out.append(
                    f"{provider.name} wants an app password instead of the account "
                    "password once two-step verification is on."
                )
    if cause == "invalid_credentials":
        out.extend(_login_name_hints(failure))
    if failure.password_has_spaces and cause in _APP_PASSWORD_CAUSES:
        out.append(
            "The password contains spaces. App passwords are often displayed in groups "
            "separated by spaces; enter it without them."
        )
    if cause == "too_many_connections":
        match = _LIMIT.search(failure.text)
        error = failure.error
        if isinstance(error, ConnectionLimitError):
            out.append(
                f"The server allowed {error.allowed} of the {error.requested} "
                "simultaneous connections the check opened; an app that keeps "
                f"{error.requested} open will be refused too."
            )
        if match:
            count = match.group(1) or match.group(2)
            out.append(
                f"The server allows {count} simultaneous connections for this mailbox "
                "from one address; the app needs fewer than that left free."
            )
    return out


def _login_name_hints(failure: Failure) -> list[str]:
    """Advice on the login name's form: full address, local part, or app password."""
    login, email, provider = failure.login, failure.email, failure.provider
    out = []
    if provider is None:
        out.append(
            "If two-step verification is on for this account, the provider may want "
            "an app password rather than the account password."
        )
    if "@" not in login and login != email:
        out.append(
            f"The login name {login} has no domain part; most providers expect the "
            f"full address ({email})."
        )
    elif provider is not None and provider.login == "local_part":
        out.append(f"{provider.name} expects only the part before the @ as the login name.")
    elif provider is None:
        out.append(
            "Some servers, often self-hosted ones, expect only the part before the @ "
            f"({login.partition('@')[0]}) or a separate username; if yours does, enter "
            "it as the custom username."
        )
    return out


def hints_for(cause: str, failure: Failure) -> tuple[str, ...]:
    """The filled-in hints for ``cause`` (the ``unknown`` ones for an unlisted cause),
    followed by the hints that fit this particular case."""
    facts = failure.facts()
    out = [
        template.format_map(facts)
        for template in HINTS.get(cause, HINTS["unknown"])
        if all(facts.get(name) for name in _fields(template))
    ]
    out[1:1] = _context(cause, failure)  # specific steps right after the explanation
    return tuple(dict.fromkeys(out))


def links_for(cause: str, failure: Failure) -> tuple[str, ...]:
    """Help pages: the provider's, then any the server's reply pointed to."""
    links: list[str] = []
    provider = failure.provider
    if provider is not None:
        if (
            cause in _APP_PASSWORD_CAUSES
            and provider.app_passwords != "never"
            and provider.app_password_url
        ):
            links.append(provider.app_password_url)
        if cause in _SETUP_CAUSES and provider.setup_url:
            links.append(provider.setup_url)
    links.extend(url.rstrip(".,;") for url in _URL.findall(failure.text))
    return tuple(dict.fromkeys(links))[:5]


def diagnose(failure: Failure, cause: str, category: Optional[ErrorCategory] = None) -> Diagnosis:
    """The diagnosis of ``failure`` as ``cause``: category (by stage unless given),
    hints, links, whether it is temporary and the provider recognised."""
    return Diagnosis(
        category=category or ErrorCategory.for_stage(failure.stage),
        cause=cause,
        hints=hints_for(cause, failure),
        links=links_for(cause, failure),
        temporary=cause in TEMPORARY,
        provider=failure.provider.id if failure.provider else None,
    )
