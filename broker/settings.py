"""Settings of the OpenCMK Configuration Broker, read from the environment.

With nothing set, the broker runs on embedded defaults: a SQLite file under ``.local/``, a
local-memory cache, Celery tasks run eagerly, e-mail printed to the console. ``DATABASE_URL``
selects PostgreSQL, ``REDIS_URL`` selects Redis for the cache, rate limits and Celery.
The README's configuration table lists every variable.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy

from broker.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(env_str("OPENCMK_LOCAL_DIR", str(BASE_DIR / ".local")))

# "embedded" (the default: the README's run command, localhost only, insecure conveniences allowed)
# or "production" (every secret must come from the environment, secure cookies, HSTS).
OPENCMK_ENV = env_str("OPENCMK_ENV", "embedded")
if OPENCMK_ENV not in {"embedded", "production"}:
    raise ImproperlyConfigured(
        f"OPENCMK_ENV must be 'embedded' or 'production', got {OPENCMK_ENV!r}."
    )
EMBEDDED = OPENCMK_ENV == "embedded"
DEBUG = env_bool("DJANGO_DEBUG", default=False)

# Public on purpose (embedded runs only); refused in production just below.
_DEV_SECRET = "opencmk-embedded-development-key-not-for-production-use-0123456789"  # noqa: S105
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEV_SECRET if (DEBUG or EMBEDDED) else None)
if not (DEBUG or EMBEDDED) and (len(SECRET_KEY) < 50 or SECRET_KEY == _DEV_SECRET):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 random characters.")
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# Public base URL used in e-mailed links (invitations, verification).
SITE_URL = env_str("OPENCMK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "rest_framework",
    "drf_spectacular",
    "csp",
    "accounts",
    "audit",
    "vendors",
    "tenants",
    "keyring",
    "kms_configs",
    "apikeys",
    "drf_spectacular_sidecar",  # Swagger UI served by the broker itself, no CDN
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "audit.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "broker.security.reporting.ReportingEndpointsMiddleware",  # after CSP: sees its header
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
]

ROOT_URLCONF = "broker.urls"
WSGI_APPLICATION = "broker.wsgi.application"
ASGI_APPLICATION = "broker.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "broker.context_processors.organisations",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_database_url = env_str("DATABASE_URL", "")
if _database_url:
    DATABASES = {"default": database_from_url(_database_url)}
else:
    LOCAL_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": LOCAL_DIR / "broker.sqlite3"}
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, Celery ----------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
# Without a broker, tasks run in the calling process (embedded defaults).
_TESTING = env_bool("OPENCMK_TESTING", default=False)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Audit checkpoints (ACCEPTANCE L-06, docs/audit.md) -------------------------------------------
# Each chain that advanced gets a signed checkpoint every ..._SECONDS (Celery beat) and after every
# ..._EVENTS events; stored in the database and written once into ..._DIR (empty: database only).
OPENCMK_AUDIT_CHECKPOINT_SECONDS = env_int(
    "OPENCMK_AUDIT_CHECKPOINT_SECONDS", 300, minimum=10, maximum=86400
)
OPENCMK_AUDIT_CHECKPOINT_EVENTS = env_int("OPENCMK_AUDIT_CHECKPOINT_EVENTS", 1000, minimum=1)
OPENCMK_AUDIT_CHECKPOINT_DIR = env_str(
    "OPENCMK_AUDIT_CHECKPOINT_DIR", str(LOCAL_DIR / "audit-checkpoints")
)
CELERY_BEAT_SCHEDULE = {
    "audit-checkpoints": {
        "task": "audit.tasks.publish_checkpoints",
        "schedule": float(OPENCMK_AUDIT_CHECKPOINT_SECONDS),
    },
}

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "OpenCMK <no-reply@localhost>")
# Only read by the file-based backend (django.core.mail.backends.filebased.EmailBackend).
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(LOCAL_DIR / "mail"))

# --- Organisations --------------------------------------------------------------------------------
OPENCMK_INVITATION_DAYS = env_int("OPENCMK_INVITATION_DAYS", 7, minimum=1, maximum=90)
# Browser-held keys: Argon2id cost of new passphrase blobs ("moderate" or "interactive") and how
# long an unlocked key may sit idle in a page before it is wiped.
OPENCMK_KEY_ARGON2_LEVEL = env_str("OPENCMK_KEY_ARGON2_LEVEL", "moderate")
if OPENCMK_KEY_ARGON2_LEVEL not in {"moderate", "interactive"}:
    raise ImproperlyConfigured("OPENCMK_KEY_ARGON2_LEVEL must be 'moderate' or 'interactive'.")
OPENCMK_KEY_IDLE_SECONDS = env_int("OPENCMK_KEY_IDLE_SECONDS", 600, minimum=30, maximum=86400)
# REST API throttles (DRF rate strings), counted in the shared cache.
OPENCMK_API_RATE_PER_KEY = env_str("OPENCMK_API_RATE_PER_KEY", "600/min")
OPENCMK_API_RATE_PER_IP = env_str("OPENCMK_API_RATE_PER_IP", "1200/min")

# --- Accounts (django-allauth) -------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
# Adding or changing an e-mail address asks for the password again: verified addresses
# decide who may accept an invitation.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("OPENCMK_REAUTH_SECONDS", 300, minimum=30)
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# Counted in the shared cache (Redis in production), so limits hold across workers.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/key,20/5m/ip",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
}
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
# Ending a session (logout elsewhere, admin kill) is an audited action (ACCEPTANCE L-01, S-04).
USERSESSIONS_ADAPTER = "audit.adapters.AuditedUserSessionsAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_PERIOD = 30
MFA_TOTP_TOLERANCE = 1
MFA_TOTP_ISSUER = "OpenCMK"
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or EMBEDDED
# Key that encrypts TOTP secrets and recovery-code seeds at rest: 32 bytes, base64.
_mfa_key = env_str("OPENCMK_MFA_KEY", "")
if not _mfa_key and not (DEBUG or EMBEDDED):
    raise ImproperlyConfigured(
        "OPENCMK_MFA_KEY (32 random bytes, base64) is required in production."
    )
MFA_ENCRYPTION_KEY = (
    base64.b64decode(_mfa_key, validate=True)
    if _mfa_key
    else hashlib.sha256(b"opencmk-mfa-dev-key:" + SECRET_KEY.encode()).digest()
)
if len(MFA_ENCRYPTION_KEY) != 32:
    raise ImproperlyConfigured("OPENCMK_MFA_KEY must decode to exactly 32 bytes.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sessions, cookies, security headers --------------------------------------------------------
_secure = not (DEBUG or EMBEDDED) or env_bool("OPENCMK_SECURE_COOKIES", default=False)
SESSION_COOKIE_NAME = "__Host-sessionid" if _secure else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if _secure else "csrftoken"
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 12 * 3600  # absolute lifetime (S-03)
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=_secure)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000 if _secure else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _secure
SECURE_HSTS_PRELOAD = _secure
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("OPENCMK_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Strict CSP on every page (H-03/H-04): no inline script or style, scripts from our origin only.
# 'wasm-unsafe-eval' is needed only where libsodium runs; pages that load it opt in (keyring).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "manifest-src": [SELF],
        # Violations go to the group that Reporting-Endpoints names (broker.security.reporting);
        # report-uri is for engines without the Reporting API (Chromium ignores it then).
        "report-to": ["csp"],
        "report-uri": [reverse_lazy("security:csp_report")],
    }
}
OPENCMK_CSP_REPORTS_PER_MINUTE = env_int("OPENCMK_CSP_REPORTS_PER_MINUTE", 120, minimum=1)

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Tests and the embedded run serve straight from the finders; no collectstatic needed there.
WHITENOISE_USE_FINDERS = DEBUG or EMBEDDED or _TESTING
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            # Hashed names (cacheable forever) need collectstatic's manifest: production only.
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if WHITENOISE_USE_FINDERS
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
if WHITENOISE_USE_FINDERS:
    # whitenoise warns (an error under pytest) when STATIC_ROOT is missing before collectstatic.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- REST framework ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpenCMK Configuration Broker API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("OPENCMK_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
