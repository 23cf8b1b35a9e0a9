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

VOCABULARIES = {
    "role": ROLES, "org_kind": ORG_KINDS, "hub": HUBS, "verification": VERIFICATION,
    "need_status": NEED_STATUSES, "product_status": PRODUCT_STATUSES, "sector": SECTORS,
    "technology": TECHNOLOGIES, "instrument": INSTRUMENTS, "stage": STAGES,
    "match_status": MATCH_STATUSES,
}

# Without a kind, later vocabularies win on shared keys; pass the kind where that matters.
LABELS: dict = {}
for _table in VOCABULARIES.values():
    LABELS.update(_table)
