# Copy to instance/config.py (git-ignored) and adjust. `make run` does this for you with a
# fresh SECRET_KEY. Every key can also be set as an environment variable with a DSR_ prefix,
# e.g. DSR_SQLALCHEMY_DATABASE_URI=postgresql+psycopg://dsr@localhost/dsr.

# A long random string, kept secret: python -c 'import secrets; print(secrets.token_hex(32))'
SECRET_KEY = ""

# The audit trail's key, in a file outside the database (and its backups): one line
# "<id> <secret>"; to rotate, add a line below and keep the old one. `make run` writes one.
# Each head the trail reaches is also appended to AUDIT_WITNESS_FILE (default
# instance/audit-witness/heads.log): keep it on another disk or machine than the database.
AUDIT_KEY_FILE = ""
# AUDIT_WITNESS_FILE = "/var/log/dsr/audit-heads.log"
# AUDIT_WITNESS_SYSLOG = "udp://syslog.internal:514"

# SQLite in this folder by default; PostgreSQL at scale:
# SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://dsr:secret@localhost/dsr"

# The job queue that `flask jobs worker` consumes: instance/jobs.sqlite by default; Redis (or
# PostgreSQL) for consumers on several machines. Rate limits too, with several processes:
# JOBS_URL = "redis://localhost:6379/1"
# RATELIMIT_STORAGE_URI = "redis://localhost:6379/0"

# Behind HTTPS keep these True (the default). Only for http://127.0.0.1 during a local trial:
SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True

# The demo company's sources (local stand-ins of WHMCS, Matomo and Kayako); `make run` sets
# this. In production leave it False and describe your own SOURCES (see README.md).
DEMO = False

# Working days for the legal clock: ISO country code and optional subdivision.
HOLIDAY_COUNTRY = "DE"
