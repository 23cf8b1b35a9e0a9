"""Loading the reference tables from marketplace/reference/data (idempotent)."""

from sqlalchemy import delete, func, select

from marketplace.extensions import db
from marketplace.models import Country, GridFactor, TaxonomyActivity
from marketplace.reference import catalog


def load_reference_data() -> dict[str, int]:
    """Insert or update countries, taxonomy activities and grid factors; one transaction."""
    for item in catalog.countries().values():
        db.session.merge(
            Country(
                iso2=item.iso2,
                iso3=item.iso3,
                name=item.name,
                wb_region=item.wb_region,
                income_group=item.income_group,
                joined_on=item.joined,
                exited_on=item.exited,
                note=item.note,
                source=item.source,
            )
        )
    for item in catalog.taxonomy_activities().values():
        db.session.merge(
            TaxonomyActivity(
                ref=item.eu_activity_ref,
                name=item.name,
                eu_sector=item.eu_sector,
                nace_codes=list(item.nace_codes),
                contribution_type=item.contribution_type,
                source=item.source,
            )
        )
    # Grid factors have no natural key for every row (some territories lack a code): replace.
    db.session.execute(delete(GridFactor))
    db.session.add_all(
        GridFactor(
            territory=item.territory,
            iso2=item.iso2,
            cm_firm=item.cm_firm,
            cm_intermittent=item.cm_intermittent,
            cm_energy_efficiency=item.cm_energy_efficiency,
            cm_electricity_consumption=item.cm_electricity_consumption,
            operating_margin=item.om,
            note=item.note,
            source=item.source,
        )
        for item in catalog.grid_factor_rows()
    )
    db.session.commit()
    return reference_counts()


def reference_counts() -> dict[str, int]:
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Country, TaxonomyActivity, GridFactor)
    }
