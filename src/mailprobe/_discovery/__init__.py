"""Settings discovery: from an email address to IMAP and SMTP settings, checked by greeting."""
