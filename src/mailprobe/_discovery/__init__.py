"""Settings discovery: from an email address to IMAP and SMTP settings, checked by greeting."""

#: Mozilla's ISPDB, as Thunderbird asks it; ``{domain}`` is replaced by the domain. Kept
#: here so that ``Prober`` can name it as a default without importing discovery.
DEFAULT_ISPDB_URL = "https://autoconfig.thunderbird.net/v1.1/{domain}"
