"""Production: refuses to start when unsafe."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *
from config.settings.base import DEFAULT_SECRET_KEY, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)

if DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production.")
if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (50+ characters) in production.")
if not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set DJANGO_ALLOWED_HOSTS to the service's host names.")
if SIMPLE_JWT["SIGNING_KEY"] == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured("Set JWT_SIGNING_KEY (or DJANGO_SECRET_KEY) in production.")

# Without a witness, the newest seals can be deleted unnoticed (check audit.W001).
AUDIT_WITNESS_REQUIRED = env.bool("AUDIT_WITNESS_REQUIRED", default=True)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
# Every staff account needs a second factor for the admin (accounts/admin_security.py).
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=True)
SECURE_REFERRER_POLICY = "same-origin"
