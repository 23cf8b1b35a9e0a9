"""Language choice, translated labels for stored keys, and locale-aware formatting."""

from decimal import Decimal

from babel import Locale
from babel.numbers import format_compact_currency, format_currency, format_decimal
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from marketplace import labels
from marketplace.reference import catalog

LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文", "zh_Hant": "繁體中文"}

# Accept-Language tags that mean traditional Chinese; any other zh tag means simplified.
_TRADITIONAL_TAGS = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")


def locale_from_header(tag: str) -> str | None:
    """Map one Accept-Language tag to a supported locale, or None."""
    tag = tag.lower().replace("_", "-")
    if tag.startswith("zh"):
        return "zh_Hant" if tag.startswith(_TRADITIONAL_TAGS) else "zh_Hans"
    if tag.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    """The signed-in user's choice, else this browser's, else the Accept-Language header."""
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    for tag, _quality in request.accept_languages:
        locale = locale_from_header(tag)
        if locale:
            return locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    return str(get_locale() or "en")


def money(amount: Decimal | None, currency: str | None) -> str:
    """An amount with its currency, formatted for the reader's locale."""
    if amount is None or not currency:
        return "—"
    return format_currency(amount, currency, locale=current_locale())


def money_compact(amount: Decimal | None, currency: str | None) -> str:
    """A large amount in short form for the reader's locale ($1.2B, US$12亿)."""
    if amount is None or not currency:
        return "—"
    return format_compact_currency(amount, currency, locale=current_locale(), fraction_digits=1)


def number(value, digits: int = 0) -> str:
    if value is None:
        return "—"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=current_locale())


def country_name(iso2: str | None) -> str:
    """A country's name in the reader's language (CLDR), falling back to the BRI list's name."""
    if not iso2:
        return "—"
    name = Locale.parse(current_locale()).territories.get(iso2.upper())
    if name:
        return name
    country = catalog.countries().get(iso2.upper())
    return country.name if country else iso2


def register_template_helpers(app: Flask) -> None:
    """Filters and globals the templates use."""
    app.jinja_env.filters["money"] = lambda amount, currency: money(amount, currency)
    app.jinja_env.filters["money_compact"] = lambda amount, currency: money_compact(
        amount, currency
    )
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["date"] = lambda value: format_date(value) if value else "—"
    app.jinja_env.filters["datetime"] = lambda value: format_datetime(value) if value else "—"
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["country"] = country_name
    app.jinja_env.globals.update(
        LANGUAGE_NAMES=LANGUAGE_NAMES, current_locale=current_locale, label=label
    )
    app.jinja_env.globals.update(
        facet_title=labels.FACET_TITLES.get,
        facet_value_label=facet_value_label,
        sort_label=labels.SORT_LABELS.get,
        frequency_label=labels.FREQUENCIES.get,
    )


def label(value, kind: str | None = None) -> str:
    """The translated label of a stored key (status, role, sector…); the key itself if unknown.

    `kind` picks one vocabulary where the same key means different things (e.g. "rejected").
    """
    if value is None:
        return "—"
    key = getattr(value, "value", value)
    text = (labels.VOCABULARIES[kind] if kind else labels.LABELS).get(key)
    return str(text) if text is not None else str(key)


def facet_value_label(facet: str, key: str) -> str:
    """What a facet value is called in the reader's language."""
    if facet in ("country", "financed_country"):
        return country_name(key)
    if key in labels.BAND_LABELS and facet in ("amount", "ticket", "tenor"):
        return str(labels.BAND_LABELS[key])
    return label(key, labels.FACET_LABEL_KINDS.get(facet))


__all__ = ["LANGUAGE_NAMES", "label", "money", "number", "select_locale", "_l"]
