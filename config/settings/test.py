"""Tests: PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set (CI), else SQLite
and local memory. Fast password hashing, in-memory e-mail, eager Celery by default."""

from config.settings.base import *
from config.settings.base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOG_FORMAT = env.str("LOG_FORMAT", default="console")
LOGGING["handlers"]["default"]["formatter"] = LOG_FORMAT
LOGGING["root"]["level"] = env.str("LOG_LEVEL", default="WARNING")
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Tasks run in-process unless a test starts a real worker (it sets the broker itself).
CELERY_BROKER_URL = env.str("TEST_CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("TEST_CELERY_EAGER", default=True)
HEALTH_CHECK_BROKER = False
# The production poll interval: a warm request must make no query for it either way.
if REDIS_URL:
    CACHES["default"]["KEY_PREFIX"] = "pharma-test"

# Test-only database backends whose flush can empty the append-only audit tables
# (the production triggers are unchanged; see tests/dbbackends).
DATABASES["default"]["ENGINE"] = {
    "core.dbbackend": "tests.dbbackends.postgresql",
    "django.db.backends.sqlite3": "tests.dbbackends.sqlite3",
}.get(DATABASES["default"]["ENGINE"], DATABASES["default"]["ENGINE"])
AUDIT_ACCESS_FLUSH_SECONDS = 0.0

# Numbers the SSCCs of sites without a GS1 company prefix of their own.
GS1_COMPANY_PREFIX = "4012345"

# Webhook receivers in tests listen on plain http at 127.0.0.1 (started by the tests).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=True)
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=["127.0.0.1"])
