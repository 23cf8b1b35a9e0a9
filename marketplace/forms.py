"""Form pieces shared by several blueprints: multi-checkbox fields and vocabulary choices."""
from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace import labels
from marketplace.i18n import country_name
from marketplace.reference import catalog, sectors


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes; each option gets its own label."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def choices(vocabulary: dict, keys=None) -> list[tuple[str, str]]:
    keys = keys if keys is not None else vocabulary.keys()
    return [(key, vocabulary[key]) for key in keys]


def bri_country_choices() -> list[tuple]:
    """Belt-and-Road countries by name in the reader's language; exited ones are marked."""
    options = []
    for iso2, country in catalog.countries().items():
        name = country_name(iso2)
        if country.is_exited:
            name = _l("%(name)s (left the initiative %(year)d)", name=name,
                      year=country.exited.year)
        options.append((iso2, name))
    return sorted(options, key=lambda pair: str(pair[1]))


def not_exited(form, field) -> None:
    """Refuse countries that have left the Belt and Road Initiative."""
    values = field.data if isinstance(field.data, list) else [field.data]
    for iso2 in values:
        country = catalog.countries().get(iso2 or "")
        if country is not None and country.is_exited:
            raise ValidationError(_l("%(name)s has left the Belt and Road Initiative.",
                                     name=country_name(iso2)))


def sector_choices():
    return choices(labels.SECTORS, sectors.SECTORS)


def technology_choices():
    return choices(labels.TECHNOLOGIES, sectors.TECHNOLOGIES.keys())


def instrument_choices():
    return choices(labels.INSTRUMENTS, sectors.INSTRUMENTS)


def stage_choices():
    return choices(labels.STAGES, sectors.STAGES)


def currency_choices():
    return choices(labels.CURRENCIES, sectors.CURRENCIES)


def region_choices():
    return choices(labels.REGIONS, catalog.regions())


def taxonomy_requirement_choices():
    return choices(labels.TAXONOMY_REQUIREMENTS, sectors.TAXONOMY_REQUIREMENTS)


def taxonomy_activity_choices() -> list[tuple[str, str]]:
    """The EU activities our technologies map to, with their NACE codes (source wording)."""
    refs = {ref for tech in sectors.TECHNOLOGIES.values() for ref in tech.eu_activity_refs}
    activities = catalog.taxonomy_activities()
    options = [("", _l("Not yet assessed"))]
    for ref in sorted(refs, key=lambda r: tuple(int(p) for p in r.split("."))):
        activity = activities[ref]
        nace = ", ".join(activity.nace_codes) or _l("no NACE code")
        options.append((ref, f"{ref} {activity.name} (NACE {nace})"))
    return options
