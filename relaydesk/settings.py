"""Django settings, read from the environment.

Everything an operator sets comes from environment variables:

- ``DATABASE_URL``: ``sqlite:///path`` or ``postgres://user@host:port/db``; default is
  SQLite (WAL mode) in the data directory.
- ``RELAYDESK_DATA_DIR``: where the embedded database, uploaded files and the
  generated demo secret live (default ``./data`` next to the package checkout).
- ``SECRET_KEY``: required when ``RELAYDESK_ENV=production``; otherwise generated
  once and stored in the data directory.
- ``ALLOWED_HOSTS``: comma separated (default ``localhost,127.0.0.1,[::1]``).
- ``DEBUG``: ``1``/``true`` to turn debug on (off by default).
- ``EMAIL_HOST``, ``EMAIL_PORT``, ``EMAIL_HOST_USER``, ``EMAIL_HOST_PASSWORD``,
  ``EMAIL_USE_TLS``, ``RELAYDESK_FROM_EMAIL``, ``RELAYDESK_MAIL_DOMAIN``: outbound SMTP.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:  # pragma: no cover - configuration error
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


RELAYDESK_ENV = os.environ.get("RELAYDESK_ENV", "development")
PRODUCTION = RELAYDESK_ENV == "production"
DATA_DIR = Path(os.environ.get("RELAYDESK_DATA_DIR", BASE_DIR / "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = _env_bool("DEBUG", False)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when RELAYDESK_ENV=production")
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(50)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "ninja",
    "relaydesk.core",
    "relaydesk.sla",
    "relaydesk.tickets",
    "relaydesk.notify",
    "relaydesk.routing",
    "relaydesk.monitoring",
    "relaydesk.kb",
    "relaydesk.staffing",
    "relaydesk.reports",
    "relaydesk.incidents",
    "relaydesk.status",
    "relaydesk.demo",
    "relaydesk.web",
]

MIDDLEWARE = [
    "relaydesk.core.observability.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "relaydesk.urls"
WSGI_APPLICATION = "relaydesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'relaydesk.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", _default_db), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend plus a fair write-lock hand-off between writers (ADR 0012).
    DATABASES["default"]["ENGINE"] = "relaydesk.core.dbbackends.sqlite"
    # Each server thread keeps its connection (WAL allows many); checked before reuse.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work at the same time; IMMEDIATE takes the
        # write lock at BEGIN so two writers queue instead of dead-locking on upgrade.
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
            "PRAGMA foreign_keys=ON;PRAGMA busy_timeout=20000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-relaydesk.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "relaydesk" / "locale"]
LOGIN_URL = "/login/"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("RELAYDESK_MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

TASKS = {
    "default": {
        "BACKEND": os.environ.get("RELAYDESK_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Outbound mail (Django 6.1 "mailers").  EMAIL_BACKEND picks the backend class: SMTP by
# default; "django.core.mail.backends.filebased.EmailBackend" writes files under EMAIL_FILE_PATH.
_MAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
if _MAIL_BACKEND.endswith("smtp.EmailBackend"):
    _MAIL_OPTIONS: dict[str, object] = {
        "host": os.environ.get("EMAIL_HOST", "127.0.0.1"),
        "port": _env_int("EMAIL_PORT", 1025),
        "username": os.environ.get("EMAIL_HOST_USER", "") or None,
        "password": os.environ.get("EMAIL_HOST_PASSWORD", "") or None,
        "use_tls": _env_bool("EMAIL_USE_TLS", False),
        "timeout": 15,
    }
elif _MAIL_BACKEND.endswith("filebased.EmailBackend"):
    _MAIL_OPTIONS = {"file_path": os.environ.get("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))}
else:
    _MAIL_OPTIONS = {}
MAILERS = {"default": {"BACKEND": _MAIL_BACKEND, "OPTIONS": _MAIL_OPTIONS}}
DEFAULT_FROM_EMAIL = os.environ.get("RELAYDESK_FROM_EMAIL", "RelayDesk Support <support@relaydesk.localhost>")
RELAYDESK_MAIL_DOMAIN = os.environ.get("RELAYDESK_MAIL_DOMAIN", "relaydesk.localhost")
RELAYDESK_BASE_URL = os.environ.get("RELAYDESK_BASE_URL", "http://127.0.0.1:8000")
# "reject": mail from an address that is not a known customer is refused (550);
# "accept": it becomes a ticket only when the sender's domain maps to an organisation.
RELAYDESK_INBOUND_UNKNOWN_SENDERS = os.environ.get("RELAYDESK_INBOUND_UNKNOWN_SENDERS", "reject")

# Limits that keep one request from exhausting the server.
DATA_UPLOAD_MAX_MEMORY_SIZE = _env_int("RELAYDESK_MAX_BODY_BYTES", 2 * 1024 * 1024)
RELAYDESK_MAX_JSON_BODY_BYTES = _env_int("RELAYDESK_MAX_JSON_BODY_BYTES", 1024 * 1024)
RELAYDESK_MAX_ATTACHMENT_BYTES = _env_int("RELAYDESK_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
RELAYDESK_ATTACHMENT_TYPES = [
    "text/plain",
    "text/csv",
    "application/json",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "video/mp4",
    "application/octet-stream",
]
RELAYDESK_SWEEP_INTERVAL_S = float(os.environ.get("RELAYDESK_SWEEP_INTERVAL_S", "15"))
RELAYDESK_LOGIN_MAX_FAILURES = _env_int("RELAYDESK_LOGIN_MAX_FAILURES", 10)
RELAYDESK_LOGIN_WINDOW_S = _env_int("RELAYDESK_LOGIN_WINDOW_S", 900)

LOGIN_URL = "/admin/login/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# JSON lines by default (one object per line, for log shippers); RELAYDESK_LOG_FORMAT=plain
# for reading on a terminal.
LOG_FORMAT = os.environ.get("RELAYDESK_LOG_FORMAT", "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "relaydesk.core.observability.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain" if LOG_FORMAT == "plain" else "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# /metrics: a scraper sends this bearer token; without one, only this machine may scrape.
RELAYDESK_METRICS_TOKEN = os.environ.get("RELAYDESK_METRICS_TOKEN", "")

AUTHENTICATION_BACKENDS = ["relaydesk.core.auth_backend.RateLimitedBackend"]
