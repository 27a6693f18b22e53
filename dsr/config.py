"""Safe defaults; instance/config.py, then DSR_* environment variables, then tests override them."""

# Required in production: instance/config.py or DSR_SECRET_KEY. `make run` writes one for you.
SECRET_KEY: str | None = None

# Unset means a SQLite file in the instance folder. DATABASE_URL is accepted as an alias.
SQLALCHEMY_DATABASE_URI: str | None = None
# Database errors are logged without the statement's values: those are personal data.
SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
DATABASE_URL: str | None = None

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SECURE = True
PERMANENT_SESSION_LIFETIME = 8 * 60 * 60

WTF_CSRF_TIME_LIMIT = 8 * 60 * 60

# The audit trail's keys (HMAC-SHA256), kept outside the database: AUDIT_KEY_FILE, a file of
# "<id> <secret>" lines (the last one signs new events; keep the older ones to verify theirs),
# and/or AUDIT_KEYS = {id: secret}. Required outside tests; `make run` writes instance/audit.key.
AUDIT_KEY_FILE: str | None = None
AUDIT_KEYS: dict[str, str] = {}
# Every head the trail reaches is appended here after each commit, and `flask audit verify`
# holds the chain against it: put it on another disk or machine than the database (unset:
# instance/audit-witness/heads.log). AUDIT_WITNESS_SYSLOG (udp://HOST:PORT or a socket path
# such as /dev/log) sends each head to a syslog server as well.
AUDIT_WITNESS_FILE: str | None = None
AUDIT_WITNESS_SYSLOG: str | None = None

# Two-step sign-in (TOTP) is required for accounts holding these roles (add "staff" to
# require it of everyone); any account may set it up. Failed sign-ins are also counted per
# account named (whether or not it exists), the windows growing: 5 in 15 minutes, 20 a day.
MFA_REQUIRED_ROLES = ["legal", "admin"]
SIGN_IN_ACCOUNT_RATE_LIMIT = "5 per 15 minutes; 20 per day"

# Argon2id; RFC 9106's second recommended profile. Tests lower these to keep the suite fast.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST = 64 * 1024
ARGON2_PARALLELISM = 4

# The legal clock counts the company's local days (TIMEZONE); public holidays of this country
# (ISO 3166 code, `holidays` package) and its subdivision, if any, are not working days.
HOLIDAY_COUNTRY = "DE"
HOLIDAY_SUBDIVISION: str | None = None
TIMEZONE = "Europe/Berlin"

# Rate limits: where counts are kept (memory:// for one process; redis://... for several) and
# the limit on sign-in attempts per client address. Behind a reverse proxy, set
# PROXY_FIX_X_FOR to the number of proxies so that the client's address is the one counted.
RATELIMIT_STORAGE_URI = "memory://"
SIGN_IN_RATE_LIMIT = "10 per minute; 100 per day"
# While that storage cannot be reached, each process counts in its own memory (the same
# limits, per process) and goes back to the storage once it answers again; an error even
# then lets the request through rather than answering 500. The options are the Redis
# client's: a storage that hangs costs a request one second, not a worker.
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
RATELIMIT_SWALLOW_ERRORS = True
RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 1, "socket_connect_timeout": 1}
PROXY_FIX_X_FOR = 0

# The systems that hold personal data: {name: {"adapter": ..., "settings": {...},
# "register": {...}}}; see README.md, "Sources". Secrets as {"env": "VARIABLE"}.
SOURCES: dict[str, object] = {}
# The controller of the processing register (GDPR Art. 30(1)(a)): {"name", "contact", "dpo"},
# and dsr's own processing of the requests it handles, as a register entry like a source's:
# the entry of the source "dsr" (dsr's own records, a source of every answer), required once
# SOURCES is set. `flask register export` needs both; with DEMO the demo company's are used.
CONTROLLER: dict[str, str] | None = None
DSR_REGISTER: dict[str, object] | None = None
# How long collection waits for one source before recording it as failed (seconds).
SOURCE_TIMEOUT = 60
# The job queue (Huey): its storage, sqlite:///PATH (unset: instance/jobs.sqlite, the
# embedded default), redis://HOST:PORT/DB or postgresql://..., consumed by `flask jobs
# worker`. A job not started JOB_HANDOVER_GRACE_SECONDS after it was handed over, or running
# past JOB_LEASE_SECONDS (its consumer died), is handed over again by the sweep; a job that
# fails is tried JOB_MAX_ATTEMPTS times, after 2, 4, ... minutes. An idle consumer looks for
# work at least every JOBS_POLL_SECONDS on SQLite storage (Redis and PostgreSQL tell it).
JOBS_URL: str | None = None
JOB_HANDOVER_GRACE_SECONDS = 60
JOB_LEASE_SECONDS = 900
JOB_MAX_ATTEMPTS = 3
# Done jobs are forgotten after this many days (failed ones stay, for someone to look at).
JOB_KEEP_DAYS = 7
JOBS_POLL_SECONDS = 0.2
# Periodic jobs that belong to no workflow (workflows declare their own), with crontabs.
PERIODIC_JOBS = {
    "dsr.jobs.sweep": "* * * * *",
    "dsr.notify.deliver_pending": "* * * * *",
    "dsr.retention.purge_due": "23 3 * * *",
    "dsr.retention.sources.count_all_job": "43 3 * * *",
}
# Load third-party adapters from the dsr.adapters entry-point group (tests switch this off).
ADAPTER_ENTRY_POINTS = True
# The demo company (make run): its sources, served by local stand-ins, unless SOURCES is set.
DEMO = False

# E-mail, with Flask-Mail's setting names (DSR_MAIL_SERVER, DSR_MAIL_PORT, ...). With no
# MAIL_SERVER nothing is sent; a demo shows the messages at /dev/mailbox instead.
MAIL_SERVER: str | None = None
MAIL_PORT = 25
MAIL_USERNAME: str | None = None
MAIL_PASSWORD: str | None = None
MAIL_USE_TLS = False
MAIL_USE_SSL = False
MAIL_DEFAULT_SENDER = "CloudToko privacy team <privacy@cloudtoko.example>"

# The company's own e-mail domains: its staff's addresses in a ticket or a chat are not another
# person's, and are kept in a subject's answer (dsr.adapters.redaction).
STAFF_EMAIL_DOMAINS = ["cloudtoko.example"]
MAIL_TIMEOUT = 10
# Send queued mail right after the commit that queued it (a job); the periodic delivery and
# `flask outbox send` catch up.
OUTBOX_DELIVER_AFTER_COMMIT = True
OUTBOX_MAX_ATTEMPTS = 10
# A message claimed by a sender that died is sent by another once this much time has passed.
OUTBOX_SENDING_LEASE_SECONDS = 600
# The address people reach dsr at, for links in e-mails.
PUBLIC_URL = "http://127.0.0.1:5000"

# Public requests: how long a verification link works, how many POSTs one client address may
# send (then 429), and how many e-mails the public forms send one e-mail address (then the
# rest come in one digest when the budget frees: an address is never refused).
VERIFY_LINK_HOURS = 72
REQUEST_RATE_LIMIT = "20 per hour"
REQUEST_RATE_LIMIT_PER_ADDRESS = "3 per hour"
# How many days back a visitor may name the days of their visits: as long as the analytics
# keeps raw visit logs (13 months in the demo), since older visits are no longer held.
VISITS_KEPT_DAYS = 396

# Subjects sign in through a link mailed to their confirmed address: how long the link works,
# how long the session lasts, and for how many days a released report can be read.
SIGN_IN_LINK_MINUTES = 30
SUBJECT_SESSION_MINUTES = 60
REPORT_AVAILABLE_DAYS = 30
# The PDF of an answer lists the newest this many of each kind of activity (with the counts
# per month of all); the page, the JSON and the CSV list every one.
PDF_LISTED = 200

# Retention (`flask retention report`): days each kind of record is kept once its clock
# starts; what each rule deletes and keeps is in dsr/retention. What collection found for an
# access request, which the released answer lists, is kept for REPORT_AVAILABLE_DAYS after
# release (the answer's summary stays).
RETENTION_DAYS = {
    # The address, name and message of a request never confirmed, from when it lapsed.
    "unconfirmed_requests": 30,
    # The address and text of an e-mail, from its delivery (or its refusal for good).
    "mail": 7,
    # A subject's sign-in link records, from when the link was sent.
    "sign_ins": 30,
    # An access or correction request's address, name, message, answer, notes and reasons,
    # from when it ended; its skeleton (reference, type, dates, states) stays.
    "closed_requests": 365,
    # A correction's values, notes and reasons, from when it ended (recipients told, Art. 19).
    "correction_values": 30,
    # Legal's setting: a disclosure record's package, documents and targets, from when it
    # ended, never while a gag order is in force.
    "disclosures": 730,
}

# Corrections: a new e-mail address is written only after this many hours, during which the
# old address can stop it; telephone numbers without a +code are read as numbers of this
# country (ISO 3166 code).
EMAIL_CHANGE_COOLING_OFF_HOURS = 72
PHONE_REGION = "DE"
# How many changes one correction request may propose.
MAX_CHANGES = 10

# Disclosures: approval by someone other than who opened the record (four-eyes rule); the
# documents that may come with a request (kinds by content, size), kept in
# DISCLOSURE_DOCUMENTS (default: instance/disclosure-documents); how far ahead the register
# reminds legal of gag orders about to lapse.
DISCLOSURE_FOUR_EYES = True
DISCLOSURE_DOCUMENT_TYPES = ["application/pdf", "image/png", "image/jpeg"]
DISCLOSURE_DOCUMENT_MAX_BYTES = 10_000_000
DISCLOSURE_DOCUMENTS: str | None = None
GAG_REMINDER_DAYS = 7
# The largest request body accepted (documents included); larger ones get a clear 413.
MAX_CONTENT_LENGTH = 32_000_000

# Rows per page in the staff queue and the API's lists.
PAGE_SIZE = 50

# Policy-change notices: when a version is published, every customer that the identifying
# sources list (their `customers()`) is e-mailed once, at most POLICY_NOTICE_RATE messages a
# minute so that the company's mail server is not flooded.
POLICY_NOTICE_RATE = 60
