"""Green Silk Road Marketplace: the application factory, which only wires things together.

The register_* functions import what they wire inside their bodies, so that importing a pure
subpackage (`marketplace.matching` for benchmarks and `flask ranker evaluate`) does not load the
blueprints, Flask-SQLAlchemy or the services. These are the package's only function-level imports.
"""

from pathlib import Path

from flask import Flask

from config import config_for


def create_app(config_name: str | None = None, **overrides) -> Flask:
    """Build the app for APP_ENV (or config_name); keyword overrides win over the config class."""
    app = Flask(__name__, template_folder="../templates", instance_relative_config=False)
    app.json.ensure_ascii = False  # JSON (the API's) carries Chinese as UTF-8, not \u escapes
    app.config.from_object(config_for(config_name))
    app.config.update(overrides)
    check_config(app)
    register_logging(app)
    register_extensions(app)
    register_jobs(app)
    register_url_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security(app)
    register_page_cache(app)
    register_commands(app)
    return app


def check_config(app: Flask) -> None:
    """Fail fast on settings that would make the site unsafe."""
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY must be set (see README: Configuration)")
    if not app.config.get("SITE_URL"):
        raise RuntimeError("SITE_URL must be set: e-mailed links are built on it (README)")
    if app.config.get("RATELIMIT_SHARED_STORAGE_REQUIRED") and app.config.get(
        "RATELIMIT_STORAGE_URI", "memory://"
    ).startswith("memory://"):
        raise RuntimeError(
            "RATELIMIT_STORAGE_URI must be a shared store such as redis://: in-memory sign-in "
            "counters are per process and let guesses through in parallel (README)"
        )
    if app.config.get("APP_ENV") == "production" and not app.config.get("MFA_REQUIRED_FOR_STAFF"):
        raise RuntimeError("MFA_REQUIRED_FOR_STAFF must be on in production (README: MFA)")


def register_logging(app: Flask) -> None:
    from marketplace.logs import configure_logging

    configure_logging(app)


def register_extensions(app: Flask) -> None:
    from marketplace import page_cache  # noqa: F401  (registers the invalidation on writes)
    from marketplace.extensions import (
        babel,
        bootstrap,
        cache,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
    )
    from marketplace.i18n import select_locale
    from marketplace.security import configure_login
    from marketplace.services.listings import changes  # noqa: F401  (registers the revision stamping)

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(Path(app.root_path).parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    bootstrap.init_app(app)
    cache.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    configure_login(login_manager)


def register_jobs(app: Flask) -> None:
    from marketplace import jobs

    jobs.init_app(app)


def register_url_converters(app: Flask) -> None:
    from marketplace.security import register_url_converters as register

    register(app)


def register_blueprints(app: Flask) -> None:
    from marketplace.admin import bp as admin_bp
    from marketplace.api import bp as api_bp
    from marketplace.auth import bp as auth_bp
    from marketplace.billing import bp as billing_bp
    from marketplace.brokers import bp as brokers_bp
    from marketplace.deals import bp as deals_bp
    from marketplace.extensions import csrf
    from marketplace.investors import bp as investors_bp
    from marketplace.owners import bp as owners_bp
    from marketplace.public import bp as public_bp
    from marketplace.search import bp as search_bp
    from marketplace.stripe_webhook import bp as stripe_webhook_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(owners_bp, url_prefix="/owner")
    app.register_blueprint(investors_bp, url_prefix="/investor")
    app.register_blueprint(brokers_bp, url_prefix="/broker")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(billing_bp, url_prefix="/billing")
    app.register_blueprint(stripe_webhook_bp)
    app.register_blueprint(deals_bp, url_prefix="/deals")
    app.register_blueprint(search_bp, url_prefix="/search")
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer keys, never cookies: a browser cannot send one cross-site


def register_errorhandlers(app: Flask) -> None:
    from marketplace.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from marketplace import phrasing
    from marketplace.i18n import register_template_helpers as register_i18n
    from marketplace.links import external_url
    from marketplace.security import current_location

    register_i18n(app)
    phrasing.register(app)
    app.jinja_env.globals.update(external_url=external_url, current_location=current_location)


def register_security(app: Flask) -> None:
    from marketplace.security import (
        register_proxy_fix,
        register_request_checks,
        register_security_headers,
        register_session_lifetimes,
    )

    register_security_headers(app)
    register_request_checks(app)
    register_session_lifetimes(app)
    register_proxy_fix(app)


def register_page_cache(app: Flask) -> None:
    from marketplace import page_cache

    page_cache.register(app)


def register_commands(app: Flask) -> None:
    from marketplace.commands.alerts import alerts_cli
    from marketplace.commands.demo import seed_demo
    from marketplace.commands.jobs import jobs_cli
    from marketplace.commands.listings import listings_cli
    from marketplace.commands.ranker import ranker_cli
    from marketplace.commands.reference import reference_cli
    from marketplace.commands.users import users_cli

    commands = (seed_demo, users_cli, reference_cli, listings_cli, alerts_cli, ranker_cli, jobs_cli)
    for command in commands:
        app.cli.add_command(command)
