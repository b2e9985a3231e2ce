"""prolotrack settings: one module, read from the environment with strict parsers.

Every variable is listed in `.env.example`. A bad value stops start-up with a message naming the
variable, instead of running with a guess.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import platformdirs
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    """Only the words True and False (any case) are accepted: a typo must not flip a switch."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() == "true":
        return True
    if raw.lower() == "false":
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir() -> Path:
    """The folder for the SQLite file, uploads and generated files (PROLOTRACK_DATA_DIR)."""
    raw = os.environ.get("PROLOTRACK_DATA_DIR")
    path = Path(raw) if raw else Path(platformdirs.user_data_dir("prolotrack", appauthor=False))
    path = path.expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


DATA_DIR = data_dir()


def _secret_key(*, production: bool = False) -> str:
    """PROLOTRACK_SECRET_KEY, or a random key kept in the data folder for a single machine.

    Production mode takes no key from the data folder: a server's key is a managed secret, the
    same for every process that signs sessions, and must not depend on which folder is mounted.
    """
    key = os.environ.get("PROLOTRACK_SECRET_KEY", "")
    if key:
        if len(key) < 50:
            raise ImproperlyConfigured("PROLOTRACK_SECRET_KEY must be at least 50 characters")
        return key
    if production:
        raise ImproperlyConfigured(
            "PROLOTRACK_SECRET_KEY must be set when PROLOTRACK_PRODUCTION is True"
        )
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


# Production mode: served over HTTPS to a network, with every protection that needs HTTPS on
# (RELIABILITY.md T1, T3). Off by default, for the demo and development on one machine.
PRODUCTION = env_bool("PROLOTRACK_PRODUCTION", False)
SECRET_KEY = _secret_key(production=PRODUCTION)
DEBUG = env_bool("PROLOTRACK_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "PROLOTRACK_DEBUG must be False when PROLOTRACK_PRODUCTION is True: debug pages show "
        "settings and stack traces"
    )
ALLOWED_HOSTS = env_list("PROLOTRACK_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "prolotrack.accounts",
    "prolotrack.patients",
    "prolotrack.treatment",
    "prolotrack.demo",
    "prolotrack.audit",
    "prolotrack.ops",
    "prolotrack.diary",
    "prolotrack.outcomes",
    "prolotrack.interop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "prolotrack.web.middleware.SecurityHeadersMiddleware",
    "prolotrack.web.middleware.CorrelatedErrorMiddleware",
]

ROOT_URLCONF = "prolotrack.urls"
WSGI_APPLICATION = "prolotrack.wsgi.application"

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
            ],
        },
    },
]


def _databases() -> dict[str, dict[str, object]]:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        try:
            config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        except ValueError as exc:
            raise ImproperlyConfigured(f"DATABASE_URL is not a database address: {exc}") from None
        if config["ENGINE"] not in (
            "django.db.backends.postgresql",
            "django.db.backends.sqlite3",
        ):
            raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL or SQLite")
    else:
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "prolotrack.sqlite3"),
        }
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers work while one writer commits; synchronous=FULL makes a commit durable
        # across a power cut (RELIABILITY.md T26). Django turns foreign keys on itself; the pragma
        # is repeated so the intent is written down. IMMEDIATE takes the write lock at BEGIN, so
        # two writers queue on busy_timeout instead of failing with "database is locked".
        config["OPTIONS"] = {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
# WhiteNoise expects the folder; `collectstatic` fills it for production serving.
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # In production, `collectstatic` (which `prolotrack serve` runs) writes each file under a
    # name holding a hash of its content, so browsers may cache it for good: a changed file gets
    # a new name.
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production (development, the demo) served straight from the package; `collectstatic`
# is not needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "uploads"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# 12 hours for staff (RELIABILITY.md). Django counts it from the last time the session was
# saved, which is at sign-in unless a view writes to the session. A strict absolute limit and the
# 15-minute idle logoff come with the session-lifecycle change (T15).
SESSION_COOKIE_AGE = 12 * 60 * 60

# A TLS-terminating proxy in front may redirect to HTTPS itself (PROLOTRACK_SSL_REDIRECT=False),
# and may tell Django that the original request was HTTPS (PROLOTRACK_TRUST_PROXY_HEADER=True).
# Trust that header only behind a proxy that sets it on every request: a client could send it.
ssl_redirect = env_bool("PROLOTRACK_SSL_REDIRECT", True)
if env_bool("PROLOTRACK_TRUST_PROXY_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = PRODUCTION and ssl_redirect
if PRODUCTION and not ssl_redirect:
    # The deployment check cannot see the proxy that redirects; its warning would be false.
    SILENCED_SYSTEM_CHECKS = ["security.W008"]
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
# The __Host- prefix makes browsers refuse the cookie unless it is Secure, has Path=/ and no
# Domain, so no other host under the same domain can set or overwrite it (T3). Browsers refuse
# such cookies over plain HTTP, hence production only.
SESSION_COOKIE_NAME = "__Host-sessionid" if PRODUCTION else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if PRODUCTION else "csrftoken"
SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

PAGE_SIZE = env_int("PROLOTRACK_PAGE_SIZE", 25, minimum=5, maximum=500)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PROLOTRACK_LOG_LEVEL", "WARNING")},
}
