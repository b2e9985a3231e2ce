"""prolotrack settings: one module, read from the environment with strict parsers.

Every variable is listed in `.env.example`. A bad value stops start-up with a message naming the
variable, instead of running with a guess.
"""

from __future__ import annotations

import datetime as dt
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
    # The job runner (diary reminders): its ORM broker needs no server besides the database.
    "django_q",
    # Sign-in protection (issue 3 item 5): the second factor and the lockout; see the auth block.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "prolotrack.accounts",
    "prolotrack.patients",
    "prolotrack.treatment",
    "prolotrack.demo",
    "prolotrack.audit",
    "prolotrack.ops",
    "prolotrack.diary",
    "prolotrack.outcomes",
    "prolotrack.interop",
    "prolotrack.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Sign-in protection (see the auth block): which device verified the user, then the end of
    # idle, too old or revoked sessions. The second-factor wall and axes come last.
    "django_otp.middleware.OTPMiddleware",
    "prolotrack.web.middleware.SessionLifetimeMiddleware",
    # The signed-in user's clinic: the ORM's scope (ops.scoping) and, on PostgreSQL, row-level
    # security (ops.rls).
    "prolotrack.ops.middleware.ClinicScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "prolotrack.web.middleware.SecurityHeadersMiddleware",
    "prolotrack.web.middleware.CorrelatedErrorMiddleware",
    "prolotrack.patients.break_glass.BreakGlassMiddleware",
    # Sign-in protection: a staff user without a verified second factor reaches only the
    # second-factor pages (checked as the view is chosen, after the CSRF check); axes turns a
    # locked-out sign-in into its page, last as its documentation asks.
    "prolotrack.web.middleware.SecondFactorRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
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

# --- Sign-in protection (RELIABILITY.md T15, T20, T21; issue 3 item 5) -------------------------
# Passwords: at least 12 characters, common and all-numeric ones refused, no upper limit below
# Django's own 4096 (passphrases of 64+ characters and any Unicode are welcome).
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

# The lockout backend refuses a (username, address) pair after too many failures before any
# password is checked; ModelBackend then checks the password.
AUTHENTICATION_BACKENDS = [
    "prolotrack.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# django-axes: 5 failures per (username, address) lock that pair for 15 minutes. Locking per
# pair, not per username, means an attacker elsewhere cannot lock a clinician out of their own
# desk; locking per pair, not per address, means one clinic behind one address is not locked
# out by one colleague's typos. A success clears the pair's failures.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
# Exactly 15 minutes from the fifth failure, however often the locked pair keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The same client address as the audit trail (X-Forwarded-For only from AUDIT_TRUSTED_PROXIES).
AXES_CLIENT_IP_CALLABLE = "prolotrack.audit.services.client_ip"
# Successful sign-ins are in the audit trail already.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# A second, per-address limit on sign-in attempts, whatever the usernames: 20 a minute.
SIGN_IN_RATE_PER_MINUTE = 20

# The second factor (TOTP, django-otp) for every role but patients; see accounts/otp.py.
OTP_TOTP_ISSUER = "prolotrack"
# django-otp's own throttle (1, 2, 4... seconds) is off: after 5 wrong codes in a row the
# device is locked for 15 minutes instead (accounts/otp.py), a plainer rule to explain.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_FAILURE_LIMIT = 5
OTP_LOCK_MINUTES = 15

# Session lifetimes. Staff: signed out after 15 minutes without a request, and 12 hours after
# signing in whatever they do (HIPAA automatic logoff). Patients keep their diary on their own
# phone: no idle limit, signed out PROLOTRACK_PATIENT_SESSION_DAYS after signing in.
STAFF_SESSION_IDLE_MINUTES = 15
STAFF_SESSION_MAX_HOURS = 12
PATIENT_SESSION_DAYS = env_int("PROLOTRACK_PATIENT_SESSION_DAYS", 30, minimum=1, maximum=365)

# Demo only: the second-factor page shows the current code under a "demo only" banner. Set by
# `prolotrack demo` for its own server; refused in production.
DEMO_SHOW_CODES = env_bool("PROLOTRACK_DEMO_SHOW_CODES", False)
if PRODUCTION and DEMO_SHOW_CODES:
    raise ImproperlyConfigured(
        "PROLOTRACK_DEMO_SHOW_CODES must be False when PROLOTRACK_PRODUCTION is True: it shows "
        "every user's second-factor code on the sign-in page"
    )
# --- End of sign-in protection -------------------------------------------------------------------

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
# The stored session's own expiry, a backstop: staff sessions are saved on every request, so it
# slides; the 15-minute idle and 12-hour absolute limits are enforced by
# SessionLifetimeMiddleware. Patients' sessions are given PATIENT_SESSION_DAYS at sign-in.
SESSION_COOKIE_AGE = STAFF_SESSION_MAX_HOURS * 60 * 60

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

# --- Patient diary: email, sign-in links, the job runner -----------------------------------------
# Email goes through Django's backends: the console (printed by the server) unless an SMTP host
# is set. PROLOTRACK_SITE_URL is how emails sent without a request (reminders) link back here.
EMAIL_HOST = os.environ.get("PROLOTRACK_EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("PROLOTRACK_EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = os.environ.get("PROLOTRACK_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PROLOTRACK_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("PROLOTRACK_EMAIL_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("PROLOTRACK_EMAIL_FROM", "prolotrack <noreply@localhost>")
SITE_URL = os.environ.get("PROLOTRACK_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# A patient's one-time sign-in link works once, within this many minutes.
SIGN_IN_LINK_MINUTES = env_int("PROLOTRACK_SIGN_IN_LINK_MINUTES", 30, minimum=5, maximum=1440)
# django-q2 on the ORM broker: `prolotrack qcluster` runs the scheduled jobs (diary reminders).
Q_CLUSTER = {
    "name": "prolotrack",
    "orm": "default",
    "workers": env_int("PROLOTRACK_JOB_WORKERS", 1, minimum=1, maximum=16),
    "timeout": 300,
    "retry": 600,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 200,
    "label": "Jobs",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("PROLOTRACK_LOG_LEVEL", "WARNING")},
}
