"""What the words of a reply point at: the patterns the facts and hints test
(a blocklist, the client's address, an unknown user, a ban, a licence...)."""

from __future__ import annotations

import re

ALREADY_TLS = re.compile(
    r"(?:TLS|SSL) (?:is )?already|already (?:using|in) (?:TLS|SSL)|already .{0,25}STARTTLS", re.I
)
BLOCKLIST = re.compile(
    r"block ?list|black ?list|\bRBL\b|\bDNSBL\b|spamhaus|spamcop|barracuda|sorbs|"
    r"listed (?:in|on|at|by)|\bon our block",
    re.I,
)
# A block is about the app's address only when the words point at the client: its IP,
# host, connection, a DNS blocklist or reverse DNS (not "the account may be blacklisted").
CLIENT_ADDRESS = re.compile(
    r"(?<![a-z])IP(?:s|v[46])?(?![a-z])|\bclient\b|\bhost\b|\bhost ?name\b|\d{1,3}(?:\.\d{1,3}){3}|"
    r"spamhaus|spamcop|barracuda|sorbs|"
    r"\bRBL\b|DNSBL|reverse|\bPTR\b|rDNS|reputation|dynamic|residential|dial-?up|connection|"
    r"your (?:server|network|address|MTA|mail server)|network|\bISP\b|"
    r"internet service provider|country|region|"
    r"blocked using|listed (?:in|on|at)|IP被|黑名单|"
    r"intrusion prevention",
    re.I,
)
# A connection limit the server says is per address (not "too many connections", which
# names no address).
LIMIT_ON_ADDRESS = re.compile(
    r"\bIPs?\b|\bhost\b|\d{1,3}(?:\.\d{1,3}){3}|\bnetwork\b|(?:per|from (?:this|your|one|the same))"
    r" (?:address|IP|host|client)|your (?:server|address|MTA)",
    re.I,
)
USER_AND_ADDRESS = re.compile(
    r"user\s*\+\s*IP|user and IP|(?:user|account|mailbox)\W+(?:from|per)\W+(?:this |your |the )?"
    r"(?:IP|address|host)",
    re.I,
)
# The server says it cannot encrypt at all ("TLS not available", "STARTTLS disabled").
TLS_NOT_AVAILABLE = re.compile(
    r"(?:TLS|SSL|STARTTLS|encryption)\b.{0,20}\bnot (?:available|configured|enabled)|"
    r"(?:TLS|SSL|STARTTLS) (?:is )?disabled",
    re.I,
)
REVERSE_DNS = re.compile(
    r"reverse (?:dns|host ?name|lookup)|\bPTR\b|\brDNS\b|cannot find your (?:reverse )?host"
    r"|x\.7\.25|[45]\.7\.25"
    r"|failure in DNS look-?up|DNS look-?up (?:failure|failed)|forward (?:dns|lookup)|FCrDNS",
    re.I,
)
UNKNOWN_USER = re.compile(
    r"lookup failed|unknown user|no such (?:user|account|mailbox)"
    r"|user (?:\S+ )?(?:is )?(?:not found|unknown)"
    r"|(?:user|account|mailbox) (?:does not|doesn.t) exist|account not found",
    re.I,
)
AUTOBAN = re.compile(
    r"intrusion prevention|fail2ban|auto-?ban|temporar\w* (?:ban|block)|banned for|"
    r"blocked for (?:a while|some time|\d+)",
    re.I,
)
COUNTRY = re.compile(r"\b(?:country|countries|region|geo-?(?:ip|block|location))\b", re.I)
FULL_ADDRESS = re.compile(
    r"(?:use|enter|with) (?:your |the )?(?:full|complete|whole) (?:e-?mail )?address|"
    r"full e-?mail address as (?:the )?user ?name|user ?name must be (?:an?|the|your) e-?mail",
    re.I,
)
APP_IDENTITY = re.compile(
    r"unsafe login|\bID command\b|identify (?:itself|yourself|the client)", re.I
)
MOVED = re.compile(
    r"moved to (?:another|a different|a new) server|\bREFERRAL\b|has (?:been )?(?:moved|migrated)",
    re.I,
)
LINK = re.compile(r"https?://[^\s\"'<>)\]]+", re.I)
REPUTATION = re.compile(r"\breputation\b", re.I)
IN_USE = re.compile(
    r"\b(?:is |are )?(?:locked|in use|being used|(?:currently|temporarily) reserved)\b"
    r"|\block(?:ed)? by another",
    re.I,
)
LICENCE = re.compile(r"\blicen[sc]e", re.I)

SENDING_SERVICE = re.compile(
    r"amazonaws\.com|sendgrid|mailgun|postmarkapp|brevo|sendinblue|sparkpost|mailjet|smtp2go|"
    r"socketlabs|mandrillapp|elasticemail|resend\.com|zeptomail|mailersend|sendpulse|smtp\.com$",
    re.I,
)
# Servers that receive mail for a domain (MX hosts), not submission servers.
RECEIVING_HOST = re.compile(
    r"^(?:mx\d*(?:[a-z]{1,2}\d*)?|aspmx\d*|alt\d+\.aspmx|smtpin\d*|[\w-]*-smtpin|inbound\d*|mail-in\d*|in\d*)[.-]|"
    r"\.mail\.protection\.outlook\.com$|^mx\.|\.mx\.",
    re.I,
)
SHORT_RATE = re.compile(r"per (?:second|minute)|sending rate|too fast|slow down", re.I)
NOT_ALLOWED = re.compile(
    r"not allowed|not permitted|policy|restricted|denied|external|outside", re.I
)
FORMAT = re.compile(
    r"header|RFC ?5322|RFC ?2822|compliant|syntax|format|malformed|line ending|"
    r"\bFrom address|\bSender address|Message-?ID|\bMIME\b|\bsubject\b|\bbody\b|"
    r"(?:e-?mail|message|mail) ?content\b|\bline (?:is )?too long|too long(?:er)? line|"
    r"\bpars(?:e|ing) (?:the )?(?:message|mail|e-?mail)\b",
    re.I,
)
# The period a sending limit counts over, as the reply names it.
PERIOD_HOUR = re.compile(
    r"\bhourly\b|\bper hour\b|\ban hour\b|\bthis hour\b|\b60 minutes\b|/h(?:our)?\b", re.I
)
PERIOD_DAY = re.compile(
    r"\bdaily\b|\bper day\b|\ba day\b|\btoday\b|\b24 ?h(?:ours?|rs?)?\b|/day\b", re.I
)
# The reply names what in the message its filter objects to.
CONTENT_REASON = re.compile(
    r"attach\w*|file (?:type|name|extension)|(?:bad|banned|forbidden|prohibited|blocked) "
    r"(?:file|extension|word|phrase|content|domain|url|link)|extension|in (?:the )?(?:body|subject)"
    r"|\bURLs?\b|\blinks?\b|\bHTML\b|\bimages?\b|\bsubject\b|prohibited domain|\bkeywords?\b",
    re.I,
)
# A whole mail domain switched off, not one account.
DOMAIN_DISABLED = re.compile(
    r"\bdomain\b.{0,20}\b(?:disabled?|suspended|deactivated|locked|inactive|not active)\b|"
    r"\b(?:disabled|suspended|deactivated|inactive) domain\b",
    re.I,
)
# An account seen from many places at once (a leaked password, usually).
MANY_HOSTS = re.compile(
    r"\bfrom (?:too many |many |multiple |\d+ )?different (?:hosts|IPs?|IP addresses|locations|"
    r"countries|networks)\b|\bfrom too many (?:hosts|IPs?|IP addresses|locations|countries|"
    r"networks)\b",
    re.I,
)
TOO_MANY = re.compile(r"\btoo many\b", re.I)
VIRUS = re.compile(r"\bvirus|malware|\binfected\b|trojan|\bworm\b", re.I)
# The server itself calls the refusal passing.
TEMPORARY = re.compile(
    r"\btemporar\w*|\bdeferred\b|try (?:again )?later|retry later|please retry|\bfor now\b", re.I
)
NOT_FOUND = re.compile(
    r"not (?:be )?found|does not exist|doesn.t exist|no such|\bnonexistent\b"
    r"|\bunknown (?:mailbox|folder)",
    re.I,
)
# The sender's domain, not the address, is what the sending service does not know:
# not added to the account or tenant, or not verified there.
DOMAIN_NOT_REGISTERED = re.compile(
    r"(?:unregistered|unverified|unconfigured|unknown|unaccepted) (?:sender |sending |from )?"
    r"domains?|domain (?:\S+ )?(?:is |has )?not (?:been )?(?:registered|verified|configured|"
    r"accepted|added)|not an accepted domain|domain (?:\S+ )?(?:is )?not (?:one of|in) (?:your|the)"
    r" (?:accepted |verified )?domains|\btenant\b[^.]{0,30}?\bnot found\b"
    r"|domain\b.{0,20}?\b(?:must|needs? to|has to|should) be verified",
    re.I,
)
# A sign-in token refused because of the user it was sent for, not the token itself.
OAUTH_USER = re.compile(
    r"\buser(?: ?name| address| id)?\b.{0,30}?\b(?:is )?(?:not valid|invalid|mismatch\w*|"
    r"does not match|doesn.t match|unknown)\b|\baddress (?:provided )?is not valid\b|"
    r"\b(?:subject|owner|account|identity|user)\b.{0,60}?\b(?:does not|doesn.t) match (?:the )?"
    r"(?:user|account|login|sender|address)\b|\b(?:issued|granted) (?:for|to) (?:a )?"
    r"(?:different|another) (?:user|account)\b",
    re.I,
)
# A sender address the server calls malformed rather than refused.
ADDRESS_FORM = re.compile(
    r"\binvalid (?:e-?mail |sender |from |mail ?from )?address\b|"
    r"\baddress (?:is )?(?:invalid|not valid|malformed)\b|must (?:contain|have|include) a domain|"
    r"(?:bad|invalid) address syntax|"
    r"syntax error in (?:the )?(?:sender|address|mail ?from)|"
    r"^\W*(?:[45]\.\d{1,3}\.\d{1,3}\s+)?syntax error\W*$",
    re.I,
)
# A limit the reply says can be raised (by support, a plan or a request).
RAISE_LIMIT = re.compile(
    r"\b(?:contact|ask) (?:our |the )?support\b|\bupgrade\b|\bincrease (?:it|the|your)\b|"
    r"\b(?:higher|paid) plan\b|\brequest (?:a |an )?(?:higher|increase)",
    re.I,
)
# A sign-in block the reply ties to failed attempts rather than traffic.
FAILED_ATTEMPTS = re.compile(
    r"too many (?:\w+ )?(?:auth\w*|log ?-?in|sign-?in|password|credential)\w* ?"
    r"(?:failures|failed|attempts|errors|tries)|too many (?:failed|bad|invalid|wrong|unsuccessful|"
    r"incorrect) (?:auth\w*|log ?-?ins?|sign-?ins?|passwords?|attempts|credentials)|"
    r"(?:auth\w*|log ?-?in) failures",
    re.I,
)
# A server fault the reply ties to the server's own setup rather than a passing state.
SERVER_SETUP = re.compile(
    r"could not determine|\bnot present\b|misconfigur\w*|"
    r"config(?:uration)? (?:error|problem|issue)|not (?:been )?configured|"
    r"no (?:default )?(?:back-?end|server) (?:configured|set|defined)",
    re.I,
)
# A refusal of the order of commands (the app spoke too soon), not of what it said.
SEQUENCE = re.compile(
    r"pipelining|before (?:the )?(?:greeting|banner)|out of sequence|bad sequence|"
    r"talk(?:ed|ing)? too soon|synchroni[sz]ation",
    re.I,
)
# A limit that ends one connection (messages or time per session), not a block.
PER_SESSION = re.compile(
    r"\b(?:for|in|per) (?:this|one|a|each|the) (?:session|connection)\b|"
    r"\b(?:session|connection) (?:has been |was |is )?open (?:for )?too long",
    re.I,
)
# Which sender-authentication check a refusal names: SPF alone, or a broken SPF record.
SPF_ONLY = re.compile(r"\bSPF\b|openspf|sender policy framework", re.I)
DKIM_DMARC = re.compile(r"\bDKIM\b|\bDMARC\b|domainkeys|\bARC\b", re.I)
SPF_BROKEN = re.compile(
    r"(?:invalid|malformed|broken|bad|syntax error in (?:the )?)\s*SPF(?: record)?|"
    r"SPF (?:record )?(?:is )?(?:invalid|malformed|broken)|"
    r"SPF\b.{0,20}\bpermerror|permerror\b.{0,20}\bSPF",
    re.I,
)
