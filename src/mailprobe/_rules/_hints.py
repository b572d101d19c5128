"""What to tell a person, per cause. Templates are filled from ``Failure.facts()``.

A hint whose template names a fact that is empty for this failure (say
``{text}`` when the server said nothing) is left out rather than shown half-filled.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._registry import Failure

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
        "Some servers expect a login name other than the email address. If yours does, "
        "enter it as the custom username.",
        "If two-step verification is on for this account, the provider may want an app "
        "password rather than the account password.",
        _ALLOWLIST,
    ),
    "app_password_required": (
        "The provider does not accept the account password from mail apps here; it wants an "
        "app password (this is usual once two-step verification is on).",
        "Create an app password in the account's security settings and enter it instead of "
        "the account password.",
    ),
    "plaintext_auth_disabled": (
        "The server does not accept a password on an unencrypted connection, and this one "
        "is not encrypted.",
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
    "message_rejected": (
        'The server accepted the addresses but refused the message itself: "{text}".',
        "The provider's spam or policy filter may have blocked it; check the account's "
        "sending limits and restrictions.",
    ),
    "unknown": (
        'The {proto} server said: "{text}".',
        _CHECK_PORT,
        _ALLOWLIST,
    ),
}

_FORMATTER = string.Formatter()


def _fields(template: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in _FORMATTER.parse(template) if name}


def hints_for(cause: str, failure: Failure) -> tuple[str, ...]:
    """The filled-in hints for ``cause`` (the ``unknown`` ones for an unlisted cause)."""
    facts = failure.facts()
    out = []
    for template in HINTS.get(cause, HINTS["unknown"]):
        if all(facts.get(name) for name in _fields(template)):
            out.append(template.format_map(facts))
    return tuple(out)
