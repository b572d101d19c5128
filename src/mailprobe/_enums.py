"""The small closed vocabularies of a probe: security modes, stages, statuses, categories."""

from __future__ import annotations

import enum


@enum.unique
class Security(str, enum.Enum):
    """How a connection is protected.

    ``TLS`` is implicit TLS from the first byte (ports 993 and 465), ``STARTTLS``
    upgrades a plain connection before anything secret is sent (ports 143, 587, 25),
    and ``NONE`` never encrypts and is only used when asked for explicitly.
    """

    TLS = "tls"
    STARTTLS = "starttls"
    NONE = "none"

    @classmethod
    def for_port(cls, port: int) -> Security:
        """The mode a mail client would assume for ``port`` when none is given."""
        if port in (143, 587, 25):
            return cls.STARTTLS
        return cls.TLS


@enum.unique
class Stage(str, enum.Enum):
    """The stages of a probe, in the order they are reported.

    The first six always run; ``DELIVERY`` (``confirm_delivery=True``) and
    ``CAPACITY`` (``capacity=N``) only when asked for.
    """

    IMAP_CONNECT = "imap_connect"
    IMAP_LOGIN = "imap_login"
    IMAP_VALIDATE = "imap_validate"
    SMTP_CONNECT = "smtp_connect"
    SMTP_LOGIN = "smtp_login"
    TEST_EMAIL = "test_email"
    DELIVERY = "delivery"
    CAPACITY = "capacity"

    @property
    def protocol(self) -> str:
        """``"imap"`` or ``"smtp"``: the protocol the stage speaks."""
        return _PROTOCOL[self]


_PROTOCOL = {
    Stage.IMAP_CONNECT: "imap",
    Stage.IMAP_LOGIN: "imap",
    Stage.IMAP_VALIDATE: "imap",
    Stage.SMTP_CONNECT: "smtp",
    Stage.SMTP_LOGIN: "smtp",
    Stage.TEST_EMAIL: "smtp",
    Stage.DELIVERY: "imap",
    Stage.CAPACITY: "imap",
}
IMAP_STAGES = (Stage.IMAP_CONNECT, Stage.IMAP_LOGIN, Stage.IMAP_VALIDATE)
SMTP_STAGES = (Stage.SMTP_CONNECT, Stage.SMTP_LOGIN, Stage.TEST_EMAIL)


@enum.unique
class StageStatus(str, enum.Enum):
    """What became of a stage."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@enum.unique
class ErrorCategory(str, enum.Enum):
    """The error names people meet in inbox-connection support guides."""

    IMAP_SETTINGS_INCORRECT = "imap_settings_incorrect"
    IMAP_AUTHENTICATION_ERROR = "imap_authentication_error"
    IMAP_VALIDATION_ERROR = "imap_validation_error"
    SMTP_SETTINGS_INCORRECT = "smtp_settings_incorrect"
    TEST_EMAIL_FAILED = "test_email_failed"
    UNAUTHORIZED = "unauthorized"
    UNAUTHORIZED_APP_PASSWORD_REQUIRED = "unauthorized_app_password_required"  # noqa: S105
    UNAUTHORIZED_SSL_CERT_NOT_TRUSTED = "unauthorized_ssl_cert_not_trusted"

    @property
    def label(self) -> str:
        """The human title shown to a person, e.g. ``"IMAP settings incorrect"``."""
        return _TITLES[self]

    @classmethod
    def for_stage(cls, stage: Stage) -> ErrorCategory:
        """The category a failure at ``stage`` belongs to unless a rule knows better."""
        return _STAGE_CATEGORY[stage]


_TITLES = {
    ErrorCategory.IMAP_SETTINGS_INCORRECT: "IMAP settings incorrect",
    ErrorCategory.IMAP_AUTHENTICATION_ERROR: "IMAP authentication error",
    ErrorCategory.IMAP_VALIDATION_ERROR: "IMAP validation error",
    ErrorCategory.SMTP_SETTINGS_INCORRECT: "SMTP settings incorrect",
    ErrorCategory.TEST_EMAIL_FAILED: "Test email failed",
    ErrorCategory.UNAUTHORIZED: "Unauthorized",
    ErrorCategory.UNAUTHORIZED_APP_PASSWORD_REQUIRED: "Unauthorized (app password required)",
    ErrorCategory.UNAUTHORIZED_SSL_CERT_NOT_TRUSTED: "Unauthorized (SSL certificate not trusted)",
}

_STAGE_CATEGORY = {
    Stage.IMAP_CONNECT: ErrorCategory.IMAP_SETTINGS_INCORRECT,
    Stage.IMAP_LOGIN: ErrorCategory.IMAP_AUTHENTICATION_ERROR,
    Stage.IMAP_VALIDATE: ErrorCategory.IMAP_VALIDATION_ERROR,
    Stage.SMTP_CONNECT: ErrorCategory.SMTP_SETTINGS_INCORRECT,
    Stage.SMTP_LOGIN: ErrorCategory.UNAUTHORIZED,
    Stage.TEST_EMAIL: ErrorCategory.TEST_EMAIL_FAILED,
    Stage.DELIVERY: ErrorCategory.TEST_EMAIL_FAILED,
    # Support guides file a refusal for too many connections under authentication.
    Stage.CAPACITY: ErrorCategory.IMAP_AUTHENTICATION_ERROR,
}
