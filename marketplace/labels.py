"""Translated labels for every stored key shown to people (one word for one idea)."""
from flask_babel import lazy_gettext as _l

ROLES = {
    "owner": _l("Project owner"),
    "investor": _l("Investor"),
    "broker": _l("Broker"),
    "admin": _l("Administrator"),
}

ORG_KINDS = {
    "sponsor": _l("Project sponsor"),
    "investor": _l("Investor institution"),
    "broker_firm": _l("Broker firm"),
}

HUBS = {"beijing": _l("Beijing"), "hong_kong": _l("Hong Kong"), "other": _l("Other")}

VERIFICATION = {
    "unverified": _l("Unverified"),
    "pending": _l("Verification pending"),
    "verified": _l("Verified"),
    "rejected": _l("Verification rejected"),
}

NEED_STATUSES = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "published": _l("Published"),
    "in_negotiation": _l("In negotiation"),
    "financed": _l("Financed"),
    "withdrawn": _l("Withdrawn"),
    "expired": _l("Expired"),
}

PRODUCT_STATUSES = {
    "active": _l("Active"),
    "paused": _l("Paused"),
    "closed": _l("Closed"),
}

SECTORS = {
    "solar": _l("Solar"),
    "wind": _l("Wind"),
    "hydro": _l("Hydropower"),
    "hydrogen": _l("Green hydrogen"),
    "storage": _l("Energy storage"),
    "ccus": _l("Carbon capture (CCUS)"),
    "transport": _l("Clean transport"),
    "buildings": _l("Green buildings"),
    "water": _l("Water"),
}

TECHNOLOGIES = {
    "solar_pv": _l("Solar PV"),
    "csp": _l("Concentrated solar power"),
    "onshore_wind": _l("Onshore wind"),
    "offshore_wind": _l("Offshore wind"),
    "hydropower": _l("Hydropower plant"),
    "green_hydrogen": _l("Green hydrogen production"),
    "battery_storage": _l("Battery storage"),
    "ccus": _l("Carbon capture, use and storage"),
    "e_mobility": _l("E-mobility"),
    "rail": _l("Rail"),
    "green_buildings": _l("Green building"),
    "water_management": _l("Water supply and treatment"),
}

INSTRUMENTS = {
    "green_loan": _l("Green loan"),
    "green_bond": _l("Green bond"),
    "sustainability_linked_loan": _l("Sustainability-linked loan"),
    "project_equity": _l("Project equity"),
    "mezzanine": _l("Mezzanine"),
    "guarantee": _l("Guarantee"),
    "carbon_credit_offtake": _l("Carbon-credit offtake"),
    "blended_facility": _l("Blended facility"),
}

STAGES = {
    "concept": _l("Concept"),
    "feasibility": _l("Feasibility"),
    "permitting": _l("Permitting"),
    "financing": _l("Financing"),
    "construction": _l("Construction"),
    "operation": _l("Operation"),
}

MATCH_STATUSES = {
    "suggested": _l("Suggested"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "introduced": _l("Introduced"),
    "term_sheet": _l("Term sheet"),
    "closed_won": _l("Closed won"),
    "closed_lost": _l("Closed lost"),
}

TAXONOMY_REQUIREMENTS = {
    "icma_gbp_aligned": _l("Aligned with the ICMA Green Bond Principles"),
    "lma_glp_aligned": _l("Aligned with the Green Loan Principles"),
    "lma_sllp_aligned": _l("Aligned with the Sustainability-Linked Loan Principles"),
    "eu_taxonomy_aligned": _l("Aligned with the EU Taxonomy"),
    "common_ground_taxonomy_aligned": _l("Aligned with the EU–China Common Ground Taxonomy"),
    "china_catalogue_aligned": _l("In China's Green Bond Endorsed Projects Catalogue"),
    "second_party_opinion": _l("Second-party opinion obtained"),
    "annual_impact_report": _l("Annual impact report committed"),
}

CAPACITY_UNITS = {
    "MW": _l("MW (electric)"),
    "MWh": _l("MWh (storage)"),
    "t_h2_per_year": _l("tonnes of hydrogen per year"),
    "km": _l("km of line"),
    "vehicles": _l("vehicles"),
    "m2": _l("m² of floor area"),
    "m3_per_day": _l("m³ of water per day"),
    "t_co2_per_year": _l("tCO2 captured per year"),
}

REGIONS = {
    "East Asia & Pacific": _l("East Asia & Pacific"),
    "Europe & Central Asia": _l("Europe & Central Asia"),
    "Latin America & Caribbean": _l("Latin America & Caribbean"),
    "Middle East & North Africa": _l("Middle East & North Africa"),
    "South Asia": _l("South Asia"),
    "Sub-Saharan Africa": _l("Sub-Saharan Africa"),
}

IMPACT_METHODS = {
    "owner_figure": _l("The project owner's own figure"),
    "ifi_grid_factor": _l("IFI harmonised grid-factor method"),
    "not_available": _l("Not available"),
}

IMPACT_REASONS = {
    "unknown_technology": _l("the technology is not one the method covers"),
    "method_not_applicable": _l("avoided grid electricity is not the right method for this "
                                "technology; give your own figure"),
    "missing_country": _l("no country is given"),
    "no_grid_factor": _l("there is no IFI grid factor for this country"),
    "missing_capacity": _l("no capacity in MW is given"),
    "invalid_capacity": _l("the capacity is not a positive number"),
    "no_capacity_factor": _l("there is no default capacity factor for this technology"),
    "invalid_capacity_factor": _l("the capacity factor must be between 0 and 100%"),
    "invalid_owner_figure": _l("the owner's figure is negative"),
}

CURRENCIES = {
    "USD": _l("US dollar (USD)"),
    "CNY": _l("Chinese yuan (CNY)"),
    "HKD": _l("Hong Kong dollar (HKD)"),
    "EUR": _l("Euro (EUR)"),
}

VOCABULARIES = {
    "role": ROLES, "org_kind": ORG_KINDS, "hub": HUBS, "verification": VERIFICATION,
    "need_status": NEED_STATUSES, "product_status": PRODUCT_STATUSES, "sector": SECTORS,
    "technology": TECHNOLOGIES, "instrument": INSTRUMENTS, "stage": STAGES,
    "match_status": MATCH_STATUSES, "taxonomy_requirement": TAXONOMY_REQUIREMENTS,
    "capacity_unit": CAPACITY_UNITS, "region": REGIONS, "impact_method": IMPACT_METHODS,
    "impact_reason": IMPACT_REASONS, "currency": CURRENCIES,
}

# Without a kind, later vocabularies win on shared keys; pass the kind where that matters.
LABELS: dict = {}
for _table in VOCABULARIES.values():
    LABELS.update(_table)
