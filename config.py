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


class Config:
    """Defaults shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'marketplace.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))
    # Uploaded documents live outside static/ under generated names.
    UPLOAD_DIR = Path(os.environ.get("UPLOAD_DIR", INSTANCE_DIR / "uploads"))
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "10")) * 1024 * 1024
    MODEL_DIR = Path(os.environ.get("MODEL_DIR", INSTANCE_DIR / "models"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = 3600 * 12

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "marketplace" / "translations")
    LANGUAGES = ("en", "zh_Hans", "zh_Hant")

    BOOTSTRAP_SERVE_LOCAL = True

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "20 per 10 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 10 minutes")

    # Mail: SMTP when MAIL_SERVER is set, otherwise each message is written to the outbox folder.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "no-reply@greensilkroad.example")
    MAIL_OUTBOX_DIR = Path(os.environ.get("MAIL_OUTBOX_DIR", INSTANCE_DIR / "outbox"))
    PASSWORD_RESET_MAX_AGE = int(os.environ.get("PASSWORD_RESET_MAX_AGE", "3600"))

    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY")
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET")
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE")

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

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
    SERVER_NAME = "localhost"
    SITE_URL = "http://localhost"
    TRUSTED_HOSTS = ["localhost", "127.0.0.1"]
    MFA_REQUIRED_FOR_STAFF = False  # tests that need it turn it on


class ProductionConfig(Config):
    """Production: PostgreSQL and gunicorn behind TLS; refuses to start without a secret key or
    the site's canonical address (SITE_URL), or with MFA for staff turned off."""

    APP_ENV = "production"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


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
