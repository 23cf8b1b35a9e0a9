"""Settings, read from the environment: one class per way of running the site."""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent


def _env_list(name: str) -> list[str] | None:
    value = os.environ.get(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def _hosts_of(site_url: str | None, *others: str) -> list[str]:
    """The host of the canonical address, plus others (a port never counts)."""
    host = urlsplit(site_url).hostname if site_url else None
    return sorted({h for h in (host, *others) if h})


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def engine_options(url: str, environ=os.environ) -> dict:
    """SQLAlchemy engine options: a liveness check on every checkout (a restarted PostgreSQL
    costs one failed request, not one per pooled connection) and, on PostgreSQL, the pool's size
    and timeouts. SQLite keeps Flask-SQLAlchemy's own pool (StaticPool in memory, which has no
    size). Sizes are per process: docs/deploy.md adds them up against max_connections.

    Options that only a PostgreSQL driver takes (connect_timeout) belong in DATABASE_URL: a test
    that points the PostgreSQL settings at a SQLite file would pass them to sqlite3."""
    options: dict = {"pool_pre_ping": True}
    if not url.startswith("postgresql"):
        return options
    # A gunicorn worker uses one connection per busy thread: size the pool to its threads.
    threads = environ.get("GUNICORN_THREADS") or "4"
    return options | {
        "pool_size": int(environ.get("DB_POOL_SIZE") or threads),
        "max_overflow": int(environ.get("DB_MAX_OVERFLOW") or "2"),
        # Seconds a request waits for a free connection before failing (well under gunicorn's
        # timeout), and the age after which a connection is replaced (idle ones get cut by
        # firewalls and poolers).
        "pool_timeout": int(environ.get("DB_POOL_TIMEOUT") or "10"),
        "pool_recycle": int(environ.get("DB_POOL_RECYCLE") or "1800"),
    }


class Config:
    """Defaults shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'marketplace.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))
    # Uploaded documents live outside static/ under generated names.
    UPLOAD_DIR = Path(os.environ.get("UPLOAD_DIR", INSTANCE_DIR / "uploads"))
    # The largest file accepted (checked on the file itself); the request carrying it may be 1 MB
    # larger, for the multipart envelope: boundaries, part headers, the CSRF token, a message.
    MAX_UPLOAD_MB = int(os.environ.get("MAX_UPLOAD_MB", "10"))
    MAX_CONTENT_LENGTH = (MAX_UPLOAD_MB + 1) * 1024 * 1024
    MODEL_DIR = Path(os.environ.get("MODEL_DIR", INSTANCE_DIR / "models"))
    # Good suggestions kept per need and per product (near misses: as many again, shown apart).
    MATCH_SUGGESTIONS_K = max(1, int(os.environ.get("MATCH_SUGGESTIONS_K", "5")))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Signed-in sessions end after this long without a request (staff: brokers and admins) and,
    # however active, this long after signing in. Seconds; checked on every request.
    SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(12 * 3600)))
    SESSION_IDLE_TIMEOUT_STAFF = int(os.environ.get("SESSION_IDLE_TIMEOUT_STAFF", str(30 * 60)))
    SESSION_ABSOLUTE_LIFETIME = int(os.environ.get("SESSION_ABSOLUTE_LIFETIME", str(7 * 86400)))
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = 3600 * 12

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "marketplace" / "translations")
    LANGUAGES = ("en", "zh_Hans", "zh_Hant")

    BOOTSTRAP_SERVE_LOCAL = True

    # Redis: the job queue (Celery), and the shared store of the limiter and cache when they use it.
    # Unset: background jobs run in the process that committed them (`make run`, the tests).
    REDIS_URL = os.environ.get("REDIS_URL")

    # Rate-limit and sign-in counters; memory:// is per process, so production requires Redis.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_SHARED_STORAGE_REQUIRED = False
    RATELIMIT_HEADERS_ENABLED = True
    # Redis unreachable: every limit keeps counting in each process's memory (guessing stays
    # bounded by processes x limit) and Redis is tried again with back-off; never a 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Empty on purpose: fallback limits would replace each route's own, the sign-in limits too.
    RATELIMIT_IN_MEMORY_FALLBACK: list[str] = []
    RATELIMIT_SWALLOW_ERRORS = True
    # A Redis that does not answer costs a sign-in at most a second, not a hung worker.
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "20 per 10 minutes")
    # Requests per API key (per client address without a key), RateLimit-* headers on each answer.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    # Failed sign-ins per (account, client address): free ones, then a doubling back-off (seconds).
    LOGIN_FREE_FAILURES = int(os.environ.get("LOGIN_FREE_FAILURES", "5"))
    LOGIN_FAILURE_WINDOW = int(os.environ.get("LOGIN_FAILURE_WINDOW", "3600"))
    LOGIN_BACKOFF_BASE = int(os.environ.get("LOGIN_BACKOFF_BASE", "30"))
    LOGIN_BACKOFF_MAX = int(os.environ.get("LOGIN_BACKOFF_MAX", "900"))
    # Registrations and confirmation e-mails asked for from one client address.
    REGISTER_LIMIT_PER_IP = os.environ.get("REGISTER_LIMIT_PER_IP", "5 per hour")

    # Mail: SMTP when MAIL_SERVER is set, otherwise each message is written to the outbox folder.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "no-reply@greensilkroad.example")
    MAIL_OUTBOX_DIR = Path(os.environ.get("MAIL_OUTBOX_DIR", INSTANCE_DIR / "outbox"))
    PASSWORD_RESET_MAX_AGE = int(os.environ.get("PASSWORD_RESET_MAX_AGE", "3600"))
    EMAIL_CONFIRMATION_MAX_AGE = int(os.environ.get("EMAIL_CONFIRMATION_MAX_AGE", str(3 * 86400)))

    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE")
    # Seconds to wait for one answer from Stripe, and how often to try again (same idempotency
    # key) after a timeout or a 5xx: a page waits at most about (retries + 1) x timeout.
    STRIPE_TIMEOUT_SECONDS = float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "10"))
    STRIPE_MAX_NETWORK_RETRIES = int(os.environ.get("STRIPE_MAX_NETWORK_RETRIES", "1"))

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    # Page fragments everyone sees alike (marketplace/page_cache.py): in Redis when REDIS_URL is
    # set, shared by every worker and machine; otherwise in each process's memory. Writes
    # invalidate them at once; the time-to-live bounds what another process may lag behind.
    CACHE_TYPE = "RedisCache" if REDIS_URL else "SimpleCache"
    CACHE_REDIS_URL = REDIS_URL
    CACHE_KEY_PREFIX = "gsr-cache:"
    CACHE_DEFAULT_TIMEOUT = int(os.environ.get("CACHE_DEFAULT_TIMEOUT", "60"))

    # The site's canonical address: every absolute link (e-mails) is built on it, never on the
    # request's Host header. Requests for any other host get a 400 (Flask's TRUSTED_HOSTS).
    SITE_URL = os.environ.get("SITE_URL")
    TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS") or (_hosts_of(SITE_URL) if SITE_URL else None)
    # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host/-Port (0: trust none).
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))

    # Brokers and admins must sign in with a second factor (TOTP); owners and investors may.
    MFA_REQUIRED_FOR_STAFF = _env_bool("MFA_REQUIRED_FOR_STAFF", True)
    # The name the authenticator app shows next to the account.
    MFA_ISSUER = os.environ.get("MFA_ISSUER", "Green Silk Road Marketplace")
    # Code attempts per account (the password was right: only its holder is slowed down).
    MFA_LIMIT_PER_ACCOUNT = os.environ.get("MFA_LIMIT_PER_ACCOUNT", "5 per 10 minutes")


class DevelopmentConfig(Config):
    """Local development: the embedded SQLite database and the mail outbox."""

    APP_ENV = "development"
    DEBUG = False
    SECRET_KEY = Config.SECRET_KEY or "dev-only-not-secret-change-me"
    SITE_URL = Config.SITE_URL or "http://127.0.0.1:5000"
    TRUSTED_HOSTS = _env_list("TRUSTED_HOSTS") or _hosts_of(SITE_URL, "127.0.0.1", "localhost")
    # The demo log-ins of `make run` work with their password alone; the sign-in page says so.
    MFA_REQUIRED_FOR_STAFF = _env_bool("MFA_REQUIRED_FOR_STAFF", False)


class TestingConfig(Config):
    """The test suite: a throwaway database given by TEST_DATABASE_URL. CSRF stays on."""

    APP_ENV = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    SERVER_NAME = "localhost"
    SITE_URL = "http://localhost"
    TRUSTED_HOSTS = ["localhost", "127.0.0.1"]
    MFA_REQUIRED_FOR_STAFF = False  # tests that need it turn it on
    CACHE_TYPE = "SimpleCache"  # this app's own memory, emptied after every test (conftest)


class ProductionConfig(Config):
    """Production: PostgreSQL and gunicorn behind TLS; refuses to start without a secret key, the
    site's canonical address (SITE_URL) or a shared store for the sign-in counters (Redis), or
    with MFA for staff turned off."""

    APP_ENV = "production"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"
    RATELIMIT_SHARED_STORAGE_REQUIRED = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None = None) -> type[Config]:
    """Pick the settings class named by APP_ENV (development unless said otherwise)."""
    name = name or os.environ.get("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None
