"""Sentences a person reads about a match, in their language: the ranker's reasons and chances.

The matching engine explains a pair with codes and plain parameters (marketplace/matching/
reasons.py); this module turns each into one sentence. An unknown code yields None (skipped).
"""

from decimal import Decimal

from babel.numbers import format_compact_currency, format_percent
from flask_babel import gettext as _
from flask_babel import ngettext

from marketplace.i18n import country_name, current_locale, label


def chance(probability: float | None) -> str:
    """A calibrated chance of acceptance as a whole percentage ("73%"), "—" when unknown."""
    if probability is None:
        return "—"
    return format_percent(round(float(probability), 2), locale=current_locale())


def _usd(amount) -> str:
    if amount is None:
        return "—"
    value = Decimal(str(round(float(amount))))
    return format_compact_currency(value, "USD", locale=current_locale(), fraction_digits=1)


def _years(value) -> str:
    return "—" if value is None else f"{float(value):g}"


def _labels(keys, kind: str) -> str:
    return ", ".join(str(label(key, kind)) for key in keys or ()) or "—"


def _place(reason: dict) -> str | None:
    if reason.get("where") == "country":
        return country_name(reason.get("place"))
    if reason.get("where") == "region":
        return str(label(reason.get("place"), "region"))
    return None


def _track_record(reason: dict) -> str:
    kind = reason.get("kind")
    what = str(label(reason.get(kind), kind)) if kind else _("green")
    num, place, year = reason.get("count", 0), _place(reason), reason.get("since")
    if place and year:
        return ngettext(
            "Has financed %(num)d %(what)s project in %(place)s since %(year)s.",
            "Has financed %(num)d %(what)s projects in %(place)s since %(year)s.",
            num,
            what=what,
            place=place,
            year=year,
        )
    if place:
        return ngettext(
            "Has financed %(num)d %(what)s project in %(place)s.",
            "Has financed %(num)d %(what)s projects in %(place)s.",
            num,
            what=what,
            place=place,
        )
    return ngettext(
        "Has financed %(num)d %(what)s project before.",
        "Has financed %(num)d %(what)s projects before.",
        num,
        what=what,
    )


def _near_miss(code: str, r: dict) -> str | None:
    if code == "ticket_outside":
        values = {
            "amount": _usd(r.get("amount_usd")),
            "low": _usd(r.get("min_usd")),
            "high": _usd(r.get("max_usd")),
        }
        if r.get("above"):
            return _(
                "The amount (%(amount)s) is a little above the ticket range (%(low)s–%(high)s).",
                **values,
            )
        return _(
            "The amount (%(amount)s) is a little below the ticket range (%(low)s–%(high)s).",
            **values,
        )
    if code == "tenor_outside":
        return _(
            "A tenor of %(tenor)s years is just outside the product's %(low)s–%(high)s years.",
            tenor=_years(r.get("tenor")),
            low=_years(r.get("min")),
            high=_years(r.get("max")),
        )
    if code == "instrument_differs":
        return _(
            "Needs %(wanted)s; the product is %(offered)s.",
            wanted=_labels(r.get("wanted"), "instrument"),
            offered=_labels(r.get("offered"), "instrument"),
        )
    if code == "stage_differs":
        return _(
            "The project is at the %(stage)s stage; the product finances %(stages)s.",
            stage=label(r.get("stage"), "stage"),
            stages=_labels(r.get("stages"), "stage"),
        )
    if code == "impact_below":
        return _(
            "Expected %(tco2e)s tCO2e a year, below the product's minimum of %(minimum)s.",
            tco2e=_years(r.get("tco2e")),
            minimum=_years(r.get("minimum")),
        )
    if code == "taxonomy_missing":
        return _(
            "Does not claim %(requirements)s yet.",
            requirements=_labels(r.get("requirements"), "taxonomy_requirement"),
        )
    return None


def _fit(code: str, r: dict) -> str | None:
    sentences = {
        "ticket_fits": lambda: _("The amount fits the ticket range."),
        "country_in_mandate": lambda: _(
            "The mandate covers %(country)s.", country=country_name(r.get("country"))
        ),
        "region_in_mandate": lambda: _(
            "The mandate covers %(region)s.", region=label(r.get("region"), "region")
        ),
        "technology_in_mandate": lambda: _(
            "The mandate names %(technology)s.", technology=label(r.get("technology"), "technology")
        ),
        "sector_in_mandate": lambda: _(
            "The mandate covers %(sector)s.", sector=label(r.get("sector"), "sector")
        ),
        "tenor_fits": lambda: _("A %(tenor)s-year tenor fits.", tenor=_years(r.get("tenor"))),
        "instrument_fits": lambda: _(
            "Offers the %(instrument)s asked for.",
            instrument=label(r.get("instrument"), "instrument"),
        ),
        "taxonomy_met": lambda: _("Meets the product's taxonomy requirements."),
        "impact_fits": lambda: _("The expected emission reduction meets the product's minimum."),
    }
    make = sentences.get(code)
    return make() if make else None


def reason_text(reason: dict) -> str | None:
    """One reason of a match as a sentence in the reader's language."""
    code = reason.get("code") if isinstance(reason, dict) else None
    if code == "track_record":
        return _track_record(reason)
    return _near_miss(code, reason) or _fit(code, reason)


def register(app) -> None:
    """Make the helpers available to templates."""
    app.jinja_env.globals.update(reason_text=reason_text)
    app.jinja_env.filters["chance"] = chance
