"""Every built-in rule, driven through probe() and the scripted transport with replies
as real servers send them. The comment on each row says where the reply was seen:
"integration" means this suite's own Dovecot/Postfix; "issue" names a public issue
tracker thread that quotes the server's words; "RFC" the example in the RFC."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

import pytest

import mailprobe
from mailprobe import (
    CapabilityError,
    CertificateError,
    ConnectionInfo,
    DeadlineExceeded,
    DisconnectedError,
    ErrorCategory,
    HostNotFoundError,
    NetworkError,
    ProtocolError,
    RefusedError,
    ReplyError,
    Security,
    ServerSettings,
    Stage,
    StartTLSError,
    TLSError,
)
from mailprobe.testing import ScriptedTransport

from .conftest import scripted_settings

C = ErrorCategory
I_LOGIN, I_CONNECT, I_VALIDATE = Stage.IMAP_LOGIN, Stage.IMAP_CONNECT, Stage.IMAP_VALIDATE
S_LOGIN, S_CONNECT, SEND = Stage.SMTP_LOGIN, Stage.SMTP_CONNECT, Stage.TEST_EMAIL
SLOT = {
    I_CONNECT: "imap_connect",
    I_LOGIN: "imap_login",
    I_VALIDATE: "imap_examine",
    S_CONNECT: "smtp_connect",
    S_LOGIN: "smtp_login",
    SEND: "smtp_send",
}


class Row(NamedTuple):
    stage: Stage
    error: BaseException
    category: ErrorCategory
    cause: str
    rule: str
    host: Optional[str] = None  # a provider's server name, to exercise provider advice
    provider: Optional[str] = None
    port: Optional[int] = None
    security: Optional[Security] = None
    extra: Optional[dict[str, Any]] = None
    slot: Optional[str] = None
    oauth2: bool = False  # the inbox logs in with an access token


def imap_no(text: str, command: str = "LOGIN") -> ReplyError:
    return ReplyError.imap("NO", text, command=command)


def imap_bad(text: str, command: str) -> ReplyError:
    return ReplyError.imap("BAD", text, command=command)


def smtp(code: int, text: str, command: str = "AUTH") -> ReplyError:
    return ReplyError.smtp(code, text, command=command)


def challenged(error: ReplyError, challenge: str) -> ReplyError:
    error.challenge = challenge
    return error


GMAIL_I, GMAIL_S = "imap.gmail.com", "smtp.gmail.com"
MS_I, MS_S = "outlook.office365.com", "smtp.office365.com"
IMAP_PLAIN = ConnectionInfo(
    greeting="* OK Dovecot ready.", capabilities=("IMAP4REV1", "STARTTLS", "LOGINDISABLED")
)
SMTP_PLAIN = ConnectionInfo(
    greeting="220 mx ESMTP Postfix", capabilities=("PIPELINING", "SIZE 10240000", "STARTTLS")
)
UNKNOWN = "unknown"

ROWS = [
    # == IMAP login ========================================================================
    # Dovecot 2.3 (integration)
    Row(
        I_LOGIN,
        imap_no("[AUTHENTICATIONFAILED] Authentication failed."),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Gmail (issue: jstedfast/MailKit#377, ayatana-webmail#30)
    Row(
        I_LOGIN,
        imap_no("[AUTHENTICATIONFAILED] Invalid credentials (Failure)"),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
        host=GMAIL_I,
        provider="gmail",
    ),
    # Exchange / Outlook.com (issue: Foundry376/Mailspring#885, rustmailer/bichon#128)
    Row(
        I_LOGIN,
        imap_no("LOGIN failed."),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
        host=MS_I,
        provider="microsoft",
    ),
    Row(
        I_LOGIN,
        imap_no("AUTHENTICATE failed.", command="AUTHENTICATE"),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
        host=MS_I,
        provider="microsoft",
    ),
    # Cyrus IMAPd (SASL's "authentication failure")
    Row(
        I_LOGIN,
        imap_no("Login failed: authentication failure"),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Courier-IMAP
    Row(
        I_LOGIN,
        imap_no("Login failed."),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Yandex: one answer for a wrong password and IMAP switched off (issue:
    # Foundry376/Mailspring#2111)
    Row(
        I_LOGIN,
        imap_no(
            "[AUTHENTICATIONFAILED] LOGIN invalid credentials or IMAP is "
            "disabled sc=cYXlpv732Cg1_010534_2-1e59ad28a72c"
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
        host="imap.yandex.com",
        provider="yandex",
    ),
    # Zoho (issue: Foundry376/Mailspring#1334)
    Row(
        I_LOGIN,
        imap_no("[AUTHENTICATIONFAILED] Invalid credentials(Failure)"),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
        host="imap.zoho.com",
        provider="zoho",
    ),
    # iCloud (issue: lefcha/imapfilter#125)
    Row(
        I_LOGIN,
        imap_no("[AUTHENTICATIONFAILED] Authentication failed"),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
        host="imap.mail.me.com",
        provider="icloud",
    ),
    # Fastmail (issue: Foundry376/Mailspring#2217)
    Row(
        I_LOGIN,
        imap_no("Incorrect username or password."),
        C.IMAP_AUTHENTICATION_ERROR,
        "invalid_credentials",
        "auth.invalid_credentials",
        host="imap.fastmail.com",
        provider="fastmail",
    ),
    # Gmail, 2-Step Verification on (issue: imapsync/imapsync#175, mutt-wizard#831)
    Row(
        I_LOGIN,
        imap_no(
            "[ALERT] Application-specific password required: "
            "https://support.google.com/accounts/answer/185833 (Failure)"
        ),
        C.UNAUTHORIZED_APP_PASSWORD_REQUIRED,
        "app_password_required",
        "auth.app_password",
        host=GMAIL_I,
        provider="gmail",
    ),
    # Mail.ru (issue: thunderbird/thunderbird-android#9069), spelling as sent
    Row(
        I_LOGIN,
        imap_no(
            "[AUTHENTICATIONFAILED] NEOBHODIM parol prilozheniya "
            "https://help.mail.ru/mail/security/protection/external / "
            "Aplication password is REQUIRED"
        ),
        C.UNAUTHORIZED_APP_PASSWORD_REQUIRED,
        "app_password_required",
        "auth.app_password",
        host="imap.mail.ru",
        provider="mailru",
    ),
    # Gmail blocking a sign-in (issue: barbushin/php-imap#87, mailcow#4277)
    Row(
        I_LOGIN,
        imap_no(
            "[ALERT] Please log in via your web browser: "
            "https://support.google.com/mail/accounts/answer/78754 (Failure)"
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "web_login_required",
        "auth.web_login",
        host=GMAIL_I,
        provider="gmail",
    ),
    # Gmail WEBALERT response code (issue: smiley22/S22.Imap#116, MailKit#1214)
    Row(
        I_LOGIN,
        imap_no(
            "[WEBALERT https://accounts.google.com/signin/continue?sarp=1] Web login required."
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "web_login_required",
        "auth.web_login",
        host=GMAIL_I,
        provider="gmail",
    ),
    # Gmail with IMAP switched off in settings
    Row(
        I_LOGIN,
        imap_no(
            "[ALERT] Your account is not enabled for IMAP use. Please visit "
            "your Gmail settings page and enable your account for IMAP access. "
            "(Failure)"
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "imap_disabled",
        "auth.imap_disabled",
        host=GMAIL_I,
        provider="gmail",
    ),
    # Gmail's 15-connection limit (issue: zone-eu/wildduck#35, MailKit#377)
    Row(
        I_LOGIN,
        imap_no("[ALERT] Too many simultaneous connections. (Failure)"),
        C.IMAP_AUTHENTICATION_ERROR,
        "too_many_connections",
        "limits.connections",
        host=GMAIL_I,
        provider="gmail",
    ),
    # Dovecot per user+IP limit (issue: mscdex/node-imap#606)
    Row(
        I_LOGIN,
        imap_no(
            "[UNAVAILABLE] Maximum number of connections from user+IP exceeded "
            "(mail_max_userip_connections=16)"
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "too_many_connections",
        "limits.connections",
    ),
    # Dovecot when its auth backend is down
    Row(
        I_LOGIN,
        imap_no("[UNAVAILABLE] Temporary authentication failure."),
        C.IMAP_AUTHENTICATION_ERROR,
        "server_unavailable",
        "server.unavailable",
    ),
    # Yandex suspecting a break-in (issue: mscdex/node-imap#782)
    Row(
        I_LOGIN,
        imap_no(
            "Access to your account has been temporarily restricted as Yandex "
            "suspects it may have been hacked."
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "account_locked",
        "auth.account_locked",
        host="imap.yandex.ru",
        provider="yandex",
    ),
    # RFC 5530 section 3, EXPIRED and AUTHORIZATIONFAILED examples
    Row(
        I_LOGIN,
        imap_no("[EXPIRED] That password isn't valid any more"),
        C.IMAP_AUTHENTICATION_ERROR,
        "password_expired",
        "auth.password_expired",
    ),
    Row(
        I_LOGIN,
        imap_no("[AUTHORIZATIONFAILED] No such authorization-ID"),
        C.IMAP_AUTHENTICATION_ERROR,
        "access_denied",
        "auth.access_denied",
    ),
    # RFC 5530 LIMIT
    Row(
        I_LOGIN,
        imap_no("[LIMIT] At most 10 logins per minute"),
        C.IMAP_AUTHENTICATION_ERROR,
        "rate_limited",
        "limits.rate",
    ),
    # Dovecot, plaintext LOGIN on an unencrypted remote connection
    Row(
        I_LOGIN,
        imap_no(
            "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure "
            "(SSL/TLS) connections."
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "plaintext_auth_disabled",
        "auth.plaintext_disabled",
    ),
    # Our own refusal to send LOGIN when Dovecot advertised LOGINDISABLED (integration)
    Row(
        I_LOGIN,
        CapabilityError("LOGINDISABLED", missing=("LOGIN",), command="LOGIN"),
        C.IMAP_AUTHENTICATION_ERROR,
        "plaintext_auth_disabled",
        "auth.plaintext_disabled",
        security=Security.NONE,
        extra={"imap_connect": IMAP_PLAIN},
    ),
    Row(
        I_LOGIN,
        CapabilityError("no PLAIN", missing=("AUTH=PLAIN",), command="AUTHENTICATE"),
        C.IMAP_AUTHENTICATION_ERROR,
        "auth_mechanism_unsupported",
        "auth.mechanism",
    ),
    # OAuth 2.0: Gmail's XOAUTH2 error challenge (issue: jstedfast/MailKit#377)
    Row(
        I_LOGIN,
        challenged(
            imap_no("[AUTHENTICATIONFAILED] Invalid credentials (Failure)", command="AUTHENTICATE"),
            '{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}',
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "oauth_token_invalid",
        "auth.oauth",
        host=GMAIL_I,
        provider="gmail",
        oauth2=True,
    ),
    # RFC 7628 section 3.2.2 error example
    Row(
        I_LOGIN,
        challenged(
            imap_no("SASL authentication failed", command="AUTHENTICATE"),
            '{"status":"invalid_token","scope":"example_scope",'
            '"openid-configuration":"https://example.com/.well-known/'
            'openid-configuration"}',
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "oauth_token_invalid",
        "auth.oauth",
        oauth2=True,
    ),
    Row(
        I_LOGIN,
        challenged(
            imap_no("SASL authentication failed", command="AUTHENTICATE"),
            '{"status":"insufficient_scope","scope":"mail.read mail.send"}',
        ),
        C.IMAP_AUTHENTICATION_ERROR,
        "oauth_scope_missing",
        "auth.oauth",
        oauth2=True,
    ),
    # Exchange Online refusing a token, no challenge (issue: MailKit#1494)
    Row(
        I_LOGIN,
        imap_no("AUTHENTICATE failed.", command="AUTHENTICATE"),
        C.IMAP_AUTHENTICATION_ERROR,
        "oauth_token_invalid",
        "auth.oauth",
        host=MS_I,
        provider="microsoft",
        oauth2=True,
    ),
    Row(
        I_LOGIN,
        CapabilityError("no OAuth", missing=("AUTH=OAUTHBEARER",), command="AUTHENTICATE"),
        C.IMAP_AUTHENTICATION_ERROR,
        "auth_mechanism_unsupported",
        "auth.oauth",
        oauth2=True,
    ),
    # == SMTP login ========================================================================
    # Gmail's XOAUTH2 error challenge as its developer documentation shows it
    Row(
        S_LOGIN,
        challenged(
            smtp(535, "5.7.8 Username and Password not accepted."),
            '{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}',
        ),
        C.UNAUTHORIZED,
        "oauth_token_invalid",
        "auth.oauth",
        host=GMAIL_S,
        provider="gmail",
        oauth2=True,
    ),
    # Gmail (multi-line reply joined by smtplib)
    Row(
        S_LOGIN,
        smtp(
            535,
            "5.7.8 Username and Password not accepted. For more information, go to\n"
            "5.7.8  https://support.google.com/mail/?p=BadCredentials",
        ),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
        host=GMAIL_S,
        provider="gmail",
    ),
    # Postfix with Dovecot SASL (integration)
    Row(
        S_LOGIN,
        smtp(535, "5.7.8 Error: authentication failed: (reason unavailable)"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Exchange Online (issue: jstedfast/MailKit#700)
    Row(
        S_LOGIN,
        smtp(535, "5.7.3 Authentication unsuccessful"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
        host=MS_S,
        provider="microsoft",
    ),
    # Exim
    Row(
        S_LOGIN,
        smtp(535, "Incorrect authentication data"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
    ),
    # Zoho (issue: nodemailer/nodemailer#456)
    Row(
        S_LOGIN,
        smtp(535, "Authentication Failed"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
        host="smtp.zoho.com",
        provider="zoho",
    ),
    # Mail.ru (issue: muquit/mailsend#74)
    Row(
        S_LOGIN,
        smtp(535, "Incorrect authentication data: authentication failed"),
        C.UNAUTHORIZED,
        "invalid_credentials",
        "auth.invalid_credentials",
        host="smtp.mail.ru",
        provider="mailru",
    ),
    # Gmail with 2-Step Verification on
    Row(
        S_LOGIN,
        smtp(
            534,
            "5.7.9 Application-specific password required. Learn more at\n"
            "5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor",
        ),
        C.UNAUTHORIZED_APP_PASSWORD_REQUIRED,
        "app_password_required",
        "auth.app_password",
        host=GMAIL_S,
        provider="gmail",
    ),
    # QQ Mail (issue: louislam/uptime-kuma#3434, YMFE/yapi#2219)
    Row(
        S_LOGIN,
        smtp(
            535,
            "Login Fail. Please enter your authorization code to login. More "
            "information in http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=28&&no=1001256",
        ),
        C.UNAUTHORIZED_APP_PASSWORD_REQUIRED,
        "app_password_required",
        "auth.app_password",
        host="smtp.qq.com",
        provider="qq",
    ),
    # Microsoft 365, tenant without SMTP AUTH (issue: nodemailer#1484, email-oauth2-proxy#193)
    Row(
        S_LOGIN,
        smtp(
            535,
            "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
            "for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. "
            "[MN2PR05CA0004.namprd05.prod.outlook.com]",
        ),
        C.UNAUTHORIZED,
        "smtp_auth_disabled",
        "auth.smtp_disabled",
        host=MS_S,
        provider="microsoft",
    ),
    # Microsoft 365 / Outlook.com without basic auth (issue: rpremraj/mailR#107,
    # nodemailer#1714)
    Row(
        S_LOGIN,
        smtp(
            535,
            "5.7.139 Authentication unsuccessful, basic authentication is disabled. "
            "[BM1P287CA0015.INDP287.PROD.OUTLOOK.COM]",
        ),
        C.UNAUTHORIZED,
        "basic_auth_disabled",
        "auth.basic_disabled",
        host=MS_S,
        provider="microsoft",
    ),
    Row(
        S_LOGIN,
        smtp(
            535,
            "5.7.139 Authentication unsuccessful, user is locked by your organization's "
            "security defaults policy. Contact your administrator.",
        ),
        C.UNAUTHORIZED,
        "basic_auth_disabled",
        "auth.basic_disabled",
        host=MS_S,
        provider="microsoft",
    ),
    # Yahoo, which answers this way to the account password (issue: PHPMailer#2034,
    # nodemailer#1112)
    Row(
        S_LOGIN,
        smtp(535, "5.7.0 (#AUTH005) Too many bad auth attempts."),
        C.UNAUTHORIZED,
        "rate_limited",
        "limits.rate",
        host="smtp.mail.yahoo.com",
        provider="yahoo",
    ),
    # Gmail throttling sign-ins (issue: geoffsmith82/GmailAuthSMTP#12, warmbly#620)
    Row(
        S_LOGIN,
        smtp(
            454,
            "4.7.0 Too many login attempts, please try again later. "
            "b9-20020adfe309000000b0020d0c9c95d3sm2119253wrj.77 - gsmtp",
        ),
        C.UNAUTHORIZED,
        "rate_limited",
        "limits.rate",
        host=GMAIL_S,
        provider="gmail",
    ),
    # Postfix when its SASL backend fails
    Row(
        S_LOGIN,
        smtp(
            454, "4.7.0 Temporary authentication failure: Connection lost to authentication server"
        ),
        C.UNAUTHORIZED,
        "server_unavailable",
        "server.unavailable",
    ),
    # Postfix smtpd_tls_auth_only before STARTTLS
    Row(
        S_LOGIN,
        smtp(530, "5.7.0 Must issue a STARTTLS command first"),
        C.UNAUTHORIZED,
        "starttls_required",
        "auth.starttls_required",
    ),
    # Yandex (issue: PHPMailer/PHPMailer#283)
    Row(
        S_LOGIN,
        smtp(
            530,
            "5.7.7 Email sending without SSL/TLS encryption is not allowed. Please see: "
            "http://help.yandex.ru/mail/mail-clients/ssl.xml",
        ),
        C.UNAUTHORIZED,
        "starttls_required",
        "auth.starttls_required",
        host="smtp.yandex.ru",
        provider="yandex",
    ),
    # Exchange: encryption needed for the mechanism (RFC 4954 538)
    Row(
        S_LOGIN,
        smtp(538, "5.7.11 Encryption required for requested authentication mechanism"),
        C.UNAUTHORIZED,
        "plaintext_auth_disabled",
        "auth.plaintext_disabled",
    ),
    # No AUTH offered on a plain connection to a server that offers STARTTLS (integration)
    Row(
        S_LOGIN,
        CapabilityError("no AUTH", missing=("AUTH",), command="AUTH"),
        C.UNAUTHORIZED,
        "plaintext_auth_disabled",
        "auth.plaintext_disabled",
        security=Security.NONE,
        extra={"smtp_connect": SMTP_PLAIN},
    ),
    # Exchange: mechanism not supported
    Row(
        S_LOGIN,
        smtp(504, "5.7.4 Unrecognized authentication type"),
        C.UNAUTHORIZED,
        "auth_mechanism_unsupported",
        "auth.mechanism",
    ),
    # == test email ========================================================================
    # Postfix reject_unauth_destination
    Row(
        SEND,
        smtp(554, "5.7.1 <bcc@app.example>: Relay access denied", "RCPT"),
        C.TEST_EMAIL_FAILED,
        "relay_denied",
        "send.relay_denied",
    ),
    # Exim
    Row(
        SEND,
        smtp(550, "relay not permitted", "RCPT"),
        C.TEST_EMAIL_FAILED,
        "relay_denied",
        "send.relay_denied",
    ),
    # Exchange
    Row(
        SEND,
        smtp(550, "5.7.54 SMTP; Unable to relay recipient in non-accepted domain", "RCPT"),
        C.TEST_EMAIL_FAILED,
        "relay_denied",
        "send.relay_denied",
    ),
    # Postfix reject_sender_login_mismatch (integration)
    Row(
        SEND,
        smtp(
            553,
            "5.7.1 <alice@example.test>: Sender address rejected: not owned by user bob",
            "RCPT",
        ),
        C.TEST_EMAIL_FAILED,
        "sender_not_allowed",
        "send.sender_not_allowed",
    ),
    # Exchange Online send-as
    Row(
        SEND,
        smtp(550, "5.7.60 SMTP; Client does not have permissions to send as this sender", "MAIL"),
        C.TEST_EMAIL_FAILED,
        "sender_not_allowed",
        "send.sender_not_allowed",
        host=MS_S,
        provider="microsoft",
    ),
    # Outlook.com / Exchange Online (issue: rss2email#147, MicrosoftDocs/OfficeDocs-Support#1187)
    Row(
        SEND,
        smtp(
            554,
            "5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException."
            "MapiExceptionSendAsDenied; Failed to process message due to a permanent "
            "exception with message Cannot submit message.",
            "DATA",
        ),
        C.TEST_EMAIL_FAILED,
        "sender_not_allowed",
        "send.sender_not_allowed",
        host="smtp-mail.outlook.com",
        provider="microsoft",
    ),
    # Amazon SES, unverified sender
    Row(
        SEND,
        smtp(
            554,
            "Message rejected: Email address is not verified. The following identities "
            "failed the check in region US-EAST-1: alice@example.com",
            "DATA",
        ),
        C.TEST_EMAIL_FAILED,
        "sender_not_allowed",
        "send.sender_not_allowed",
    ),
    # Gmail daily limit (issue: gen-smtp/gen_smtp#140, iiuni/projektzapisy#960)
    Row(
        SEND,
        smtp(550, "5.4.5 Daily user sending quota exceeded. o65sm25351206pga.71 - gsmtp", "DATA"),
        C.TEST_EMAIL_FAILED,
        "sending_limit_exceeded",
        "send.limit",
        host=GMAIL_S,
        provider="gmail",
    ),
    # Gmail, newer wording (issue: woowacourse-teams/2025-ah-madda#635)
    Row(
        SEND,
        smtp(
            550,
            "5.4.5 Daily user sending limit exceeded. For more information on "
            "Gmail\n5.4.5 sending limits go to\n5.4.5  "
            "https://support.google.com/a/answer/166852 d2e1a72fcca58 - gsmtp",
            "MAIL",
        ),
        C.TEST_EMAIL_FAILED,
        "sending_limit_exceeded",
        "send.limit",
        host=GMAIL_S,
        provider="gmail",
    ),
    # Exchange Online submission quota (issue: MicrosoftDocs/OfficeDocs-Support#1150)
    Row(
        SEND,
        smtp(554, "5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException", "DATA"),
        C.TEST_EMAIL_FAILED,
        "sending_limit_exceeded",
        "send.limit",
        host=MS_S,
        provider="microsoft",
    ),
    # A hosting relay quota (issue: WWBN/AVideo#7527)
    Row(
        SEND,
        smtp(
            552,
            "Message would take you over your relay quota of 500 Current quota used: 487",
            "DATA",
        ),
        C.TEST_EMAIL_FAILED,
        "sending_limit_exceeded",
        "send.limit",
    ),
    # Postfix delivering into a full Dovecot mailbox over LMTP
    Row(
        SEND,
        smtp(552, "5.2.2 <bcc@app.example>: Mailbox full", "RCPT"),
        C.TEST_EMAIL_FAILED,
        "mailbox_full",
        "send.mailbox_full",
    ),
    # Gmail recipient over quota
    Row(
        SEND,
        smtp(552, "5.2.2 The email account that you tried to reach is over quota.", "RCPT"),
        C.TEST_EMAIL_FAILED,
        "mailbox_full",
        "send.mailbox_full",
        host=GMAIL_S,
        provider="gmail",
    ),
    # Gmail spam filter
    Row(
        SEND,
        smtp(
            550,
            "5.7.1 Our system has detected that this message is likely "
            "unsolicited mail. To reduce the amount of spam sent to Gmail, this "
            "message has been blocked.",
            "DATA",
        ),
        C.TEST_EMAIL_FAILED,
        "message_rejected_policy",
        "send.policy",
        host=GMAIL_S,
        provider="gmail",
    ),
    # Postfix unknown local recipient
    Row(
        SEND,
        smtp(
            550,
            "5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in "
            "virtual mailbox table",
            "RCPT",
        ),
        C.TEST_EMAIL_FAILED,
        "recipient_rejected",
        "send.recipient_rejected",
    ),
    # Postfix reject_unknown_sender_domain
    Row(
        SEND,
        smtp(
            553, "5.1.8 <alice@nowhere.invalid>: Sender address rejected: Domain not found", "MAIL"
        ),
        C.TEST_EMAIL_FAILED,
        "sender_rejected",
        "send.sender_rejected",
    ),
    # A size refusal after DATA
    Row(
        SEND,
        smtp(552, "5.3.4 Message size exceeds fixed limit", "DATA"),
        C.TEST_EMAIL_FAILED,
        "message_rejected",
        "send.message_rejected",
    ),
    # Postfix, transient lookup failure
    Row(
        SEND,
        smtp(451, "4.3.0 <bcc@app.example>: Temporary lookup failure", "RCPT"),
        C.TEST_EMAIL_FAILED,
        "server_unavailable",
        "smtp.transient",
    ),
    # == connecting ========================================================================
    Row(
        I_CONNECT,
        HostNotFoundError("host name not found"),
        C.IMAP_SETTINGS_INCORRECT,
        "dns_not_found",
        "net.dns",
    ),
    Row(
        S_CONNECT,
        HostNotFoundError("host name not found"),
        C.SMTP_SETTINGS_INCORRECT,
        "dns_not_found",
        "net.dns",
    ),
    Row(
        I_CONNECT,
        RefusedError("connection refused"),
        C.IMAP_SETTINGS_INCORRECT,
        "connection_refused",
        "net.refused",
    ),
    Row(
        S_CONNECT,
        RefusedError("connection refused"),
        C.SMTP_SETTINGS_INCORRECT,
        "connection_refused",
        "net.refused",
    ),
    Row(
        I_CONNECT,
        NetworkError("network error: No route to host"),
        C.IMAP_SETTINGS_INCORRECT,
        "network_unreachable",
        "net.unreachable",
    ),
    Row(
        I_CONNECT,
        DeadlineExceeded("connecting"),
        C.IMAP_SETTINGS_INCORRECT,
        "timeout",
        "net.timeout",
    ),
    Row(S_LOGIN, DeadlineExceeded("logging in"), C.UNAUTHORIZED, "timeout", "net.timeout"),
    # A plain client waiting for a greeting on the implicit-TLS port (RFC 8314)
    Row(
        I_CONNECT,
        DeadlineExceeded("waiting for the IMAP greeting"),
        C.IMAP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
        "tls.mode_mismatch",
        port=993,
        security=Security.STARTTLS,
    ),
    Row(
        S_CONNECT,
        DeadlineExceeded("negotiating TLS"),
        C.SMTP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
        "tls.mode_mismatch",
        port=587,
        security=Security.TLS,
    ),
    # OpenSSL reading "* OK" or "220" as a TLS record (integration)
    Row(
        I_CONNECT,
        TLSError("WRONG_VERSION_NUMBER", reason="wrong_version"),
        C.IMAP_SETTINGS_INCORRECT,
        "tls_mode_mismatch",
        "tls.mode_mismatch",
    ),
    Row(
        S_CONNECT,
        TLSError("UNSUPPORTED_PROTOCOL", reason="protocol_version"),
        C.SMTP_SETTINGS_INCORRECT,
        "tls_version_unsupported",
        "tls.version",
    ),
    Row(
        S_CONNECT,
        TLSError("SSLV3_ALERT_HANDSHAKE_FAILURE"),
        C.SMTP_SETTINGS_INCORRECT,
        "tls_handshake_failed",
        "tls.handshake",
    ),
    Row(
        I_CONNECT,
        StartTLSError("no STARTTLS"),
        C.IMAP_SETTINGS_INCORRECT,
        "starttls_unavailable",
        "tls.starttls",
    ),
    Row(
        S_CONNECT,
        StartTLSError("454 4.7.0 TLS not available", reason="refused"),
        C.SMTP_SETTINGS_INCORRECT,
        "starttls_unavailable",
        "tls.starttls",
    ),
    Row(
        I_CONNECT,
        DisconnectedError("connection lost"),
        C.IMAP_SETTINGS_INCORRECT,
        "server_disconnected",
        "net.disconnected",
    ),
    # Postfix postscreen turning a listed address away
    Row(
        S_CONNECT,
        smtp(
            554,
            "5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
            "CONNECT",
        ),
        C.SMTP_SETTINGS_INCORRECT,
        "server_rejected_connection",
        "connect.rejected",
    ),
    # Exchange on-premises while a service restarts
    Row(
        S_CONNECT,
        smtp(421, "4.3.2 Service not available, closing transmission channel", "CONNECT"),
        C.SMTP_SETTINGS_INCORRECT,
        "server_unavailable",
        "smtp.transient",
    ),
    # An IMAP server refusing at the greeting (wording illustrative)
    Row(
        I_CONNECT,
        ReplyError.imap("BYE", "Too many connections from your address"),
        C.IMAP_SETTINGS_INCORRECT,
        "too_many_connections",
        "limits.connections",
    ),
    Row(
        I_CONNECT,
        ReplyError.imap("BYE", "Server shutting down"),
        C.IMAP_SETTINGS_INCORRECT,
        "server_rejected_connection",
        "connect.rejected",
    ),
    Row(
        I_CONNECT,
        ProtocolError("unexpected response: 'SSH-2.0-OpenSSH_9.2'"),
        C.IMAP_SETTINGS_INCORRECT,
        "protocol_mismatch",
        "protocol.mismatch",
    ),
    # == certificates, at any stage ========================================================
    Row(
        I_CONNECT,
        CertificateError("self-signed", reason="self_signed"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_self_signed",
        "tls.certificate",
    ),
    Row(
        S_CONNECT,
        CertificateError("expired", reason="expired"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_expired",
        "tls.certificate",
    ),
    Row(
        S_CONNECT,
        CertificateError("mismatch", reason="hostname_mismatch"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_hostname_mismatch",
        "tls.certificate",
    ),
    Row(
        I_CONNECT,
        CertificateError("unknown", reason="unknown_ca"),
        C.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED,
        "cert_unknown_ca",
        "tls.certificate",
    ),
    # == IMAP validation ===================================================================
    Row(
        I_VALIDATE,
        imap_no("[NONEXISTENT] Mailbox doesn't exist: INBOX", "EXAMINE"),
        C.IMAP_VALIDATION_ERROR,
        "inbox_unavailable",
        "validate.inbox",
    ),
    # NetEase 163 without an IMAP ID command (issue: rustmailer/bichon#25)
    Row(
        I_VALIDATE,
        imap_no("Unsafe Login. Please contact kefu@188.com for help", "EXAMINE"),
        C.IMAP_VALIDATION_ERROR,
        "inbox_unavailable",
        "validate.inbox",
        host="imap.163.com",
        provider="netease",
    ),
    # Exchange Online after login (issue: getmail6/getmail6#214, imapsync#411)
    Row(
        I_VALIDATE,
        imap_bad("User is authenticated but not connected.", "EXAMINE"),
        C.IMAP_VALIDATION_ERROR,
        "imap_disabled",
        "auth.imap_disabled",
        host=MS_I,
        provider="microsoft",
    ),
    # RFC 5530 OVERQUOTA
    Row(
        I_VALIDATE,
        imap_no("[OVERQUOTA] Mailbox is over its storage quota", "EXAMINE"),
        C.IMAP_VALIDATION_ERROR,
        "mailbox_full",
        "send.mailbox_full",
    ),
    # A server refusing LIST (wording illustrative)
    Row(
        I_VALIDATE,
        imap_no("Unable to read folder list", "LIST"),
        C.IMAP_VALIDATION_ERROR,
        "folders_unavailable",
        "validate.list",
        slot="imap_list",
    ),
    Row(
        I_VALIDATE,
        CapabilityError("neither rev1 nor rev2", missing=("IMAP4rev1",), command="CAPABILITY"),
        C.IMAP_VALIDATION_ERROR,
        "missing_capability",
        "validate.capability",
    ),
    # == nothing matches: the fallback ======================================================
    Row(
        SEND,
        smtp(502, "5.5.1 Unrecognized command", "QUIT"),
        C.TEST_EMAIL_FAILED,
        UNKNOWN,
        "fallback.test_email",
    ),
]


def run_row(row: Row, **settings_overrides: Any) -> mailprobe.ProbeResult:
    script: dict[str, Any] = dict(row.extra or {})
    script[row.slot or SLOT[row.stage]] = row.error
    key = "imap" if row.stage.protocol == "imap" else "smtp"
    default_host, default_port = {
        "imap": ("imap.example.com", 993),
        "smtp": ("smtp.example.com", 587),
    }[key]
    server = ServerSettings(
        host=row.host or default_host, port=row.port or default_port, security=row.security
    )
    if row.oauth2:
        settings_overrides = {
            "password": None,
            "oauth2_token": "ya29.test-token",
            **settings_overrides,
        }
    settings = scripted_settings(**{key: server, **settings_overrides})
    return mailprobe.probe(
        settings, test_recipient="bcc@app.example", transport=ScriptedTransport(**script)
    )


@pytest.mark.parametrize(
    "row", ROWS, ids=[f"{r.stage.value}-{r.cause}-{i}" for i, r in enumerate(ROWS)]
)
def test_builtin_rule_table(row: Row) -> None:
    result = run_row(row)
    stage = result.stage(row.stage)
    diagnosis = stage.diagnosis
    assert diagnosis is not None, result.to_dict()
    assert (diagnosis.category, diagnosis.cause, diagnosis.rule_id) == (
        row.category,
        row.cause,
        row.rule,
    )
    assert diagnosis.title == row.category.label
    assert diagnosis.provider == row.provider
    assert diagnosis.hints, "every diagnosis carries at least one step"
    assert all("{" not in hint for hint in diagnosis.hints)
    assert diagnosis.temporary is (
        row.cause
        in {"too_many_connections", "rate_limited", "server_unavailable", "sending_limit_exceeded"}
    )
    assert result.diagnosis == diagnosis


def test_the_table_is_broad() -> None:
    assert len(ROWS) >= 80
    assert len({r.provider for r in ROWS if r.provider}) >= 10
    # The two optional stages' own rules are driven end to end in test_optional_stages.py.
    elsewhere = {"limits.capacity", "delivery.missing"}
    assert {rule.id for rule in mailprobe.builtin_rules()} <= {row.rule for row in ROWS} | elsewhere


def test_every_cause_has_its_own_hints() -> None:
    from mailprobe._rules._hints import HINTS

    assert {row.cause for row in ROWS} <= set(HINTS)


# -- hints that fit the case -----------------------------------------------------------
def _diagnosis(row: Row, **overrides: Any) -> mailprobe.Diagnosis:
    diagnosis = run_row(row, **overrides).stage(row.stage).diagnosis
    assert diagnosis is not None
    return diagnosis


GENERIC_GMAIL = Row(
    I_LOGIN,
    imap_no("[AUTHENTICATIONFAILED] Invalid credentials (Failure)"),
    C.IMAP_AUTHENTICATION_ERROR,
    "invalid_credentials",
    "auth.invalid_credentials",
    host=GMAIL_I,
    provider="gmail",
)


def test_a_generic_refusal_at_an_app_password_provider_says_so() -> None:
    diagnosis = _diagnosis(GENERIC_GMAIL)
    assert any("app password" in h for h in diagnosis.hints[1:3])
    assert "https://support.google.com/accounts/answer/185833" in diagnosis.links


def test_the_provider_is_recognised_from_the_address_alone() -> None:
    row = GENERIC_GMAIL._replace(host=None)
    diagnosis = _diagnosis(row, email="someone@gmail.com")
    assert diagnosis.provider == "gmail"


def test_local_part_login_gets_the_full_address_suggested() -> None:
    diagnosis = _diagnosis(ROWS[0], username="alice")
    assert any("full address (alice@example.com)" in h for h in diagnosis.hints)


def test_full_address_login_at_an_unknown_server_gets_the_local_part_suggested() -> None:
    diagnosis = _diagnosis(ROWS[0])
    assert any("part before the @ (alice)" in h for h in diagnosis.hints)


def test_spaces_in_an_app_password_are_pointed_out() -> None:
    assert not any("spaces" in h for h in _diagnosis(GENERIC_GMAIL).hints)
    diagnosis = _diagnosis(GENERIC_GMAIL, password="abcd efgh ijkl mnop")
    assert any("contains spaces" in h for h in diagnosis.hints)


def test_the_connection_limit_the_server_announced_is_quoted() -> None:
    dovecot = next(r for r in ROWS if "mail_max_userip_connections=16" in str(r.error))
    diagnosis = _diagnosis(dovecot)
    assert any("allows 16 simultaneous connections" in h for h in diagnosis.hints)
    assert diagnosis.temporary


def test_links_in_the_servers_reply_are_offered() -> None:
    row = next(r for r in ROWS if "smtp_auth_disabled" in str(r.error))
    diagnosis = _diagnosis(row)
    assert "https://aka.ms/smtp_auth_disabled" in diagnosis.links


def test_apps_can_add_and_override_providers() -> None:
    providers = mailprobe.default_providers()
    providers.add(
        mailprobe.Provider(
            id="acme",
            name="Acme Mail",
            domains=("acme.example",),
            hosts=("*.acme.example",),
            app_passwords="always",
            app_password_url="https://help.acme.example/app-passwords",
            steps={"invalid_credentials": ("Acme needs the app password from its portal.",)},
        )
    )
    gmail = providers.get("gmail")
    assert gmail is not None
    providers.add(
        mailprobe.Provider(id="gmail", name="Our Gmail", domains=gmail.domains, hosts=gmail.hosts),
        replace=True,
    )
    row = GENERIC_GMAIL._replace(host="imap.acme.example")
    result = mailprobe.probe(
        scripted_settings(imap=ServerSettings(host="imap.acme.example", port=993)),
        providers=providers,
        transport=ScriptedTransport(imap_login=row.error),
    )
    diagnosis = result.diagnosis
    assert diagnosis is not None and diagnosis.provider == "acme"
    assert "Acme needs the app password from its portal." in diagnosis.hints
    assert "https://help.acme.example/app-passwords" in diagnosis.links
    overridden = mailprobe.probe(
        scripted_settings(imap=ServerSettings(host=GMAIL_I, port=993)),
        providers=providers,
        transport=ScriptedTransport(imap_login=row.error),
    ).diagnosis
    assert overridden is not None and overridden.provider == "gmail"
    assert not any("Google" in h for h in overridden.hints)  # the shipped steps are replaced
    assert mailprobe.default_providers().get("acme") is None  # no global state changed
