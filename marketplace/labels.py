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

PRODUCT_STATUSES = {"active": _l("Active"), "paused": _l("Paused"), "closed": _l("Closed")}

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
    "in_negotiation": _l("In negotiation"),
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
    "method_not_applicable": _l(
        "avoided grid electricity is not the right method for this technology; give your own figure"
    ),
    "missing_country": _l("no country is given"),
    "no_grid_factor": _l("there is no IFI grid factor for this country"),
    "missing_capacity": _l("no capacity in MW is given"),
    "invalid_capacity": _l("the capacity is not a positive number"),
    "no_capacity_factor": _l("there is no default capacity factor for this technology"),
    "invalid_capacity_factor": _l("the capacity factor must be between 0 and 100%"),
    "invalid_owner_figure": _l("the owner's figure is negative"),
}

REJECT_REASONS = {
    "sector_mismatch": _l("Sector mismatch"),
    "ticket_size": _l("Ticket size"),
    "tenor": _l("Tenor"),
    "country_risk": _l("Country risk"),
    "currency": _l("Currency"),
    "taxonomy_not_aligned": _l("Taxonomy not aligned"),
    "stage": _l("Project stage"),
    "duplicate": _l("Duplicate"),
    "other": _l("Other (explain in the note)"),
}

MATCH_SOURCES = {
    "ranker": _l("Suggested by the ranker"),
    "interest": _l("Expression of interest"),
    "broker": _l("Added by a broker"),
}

CONSTRAINTS = {
    "currency": _l("currency"),
    "country": _l("country or region"),
    "ticket": _l("ticket size"),
    "tenor": _l("tenor"),
    "instrument": _l("instrument"),
    "stage": _l("project stage"),
    "sector": _l("sector"),
    "taxonomy": _l("taxonomy requirements"),
    "impact": _l("minimum emission reduction"),
}

# Why a pair is never suggested (marketplace.matching.diagnose: the hard terms, and more than
# one near miss at once).
EXCLUSIONS = {
    "country": _l("Country or region outside the mandate"),
    "sector": _l("Sector outside the mandate"),
    "ticket": _l("Amount far outside the ticket range"),
    "currency": _l("Currency that cannot be converted"),
    "tenor": _l("Tenor more than a year outside the range"),
    "several_near_misses": _l("Several terms missed at once"),
}

FEATURES = {
    "currency_ok": _l("currency accepted"),
    "ticket_in_range": _l("amount within the ticket range"),
    "ticket_in_tolerance": _l("amount near the ticket range"),
    "ticket_known": _l("ticket range known"),
    "log_amount_to_min": _l("amount against the smallest ticket"),
    "log_amount_to_max": _l("amount against the largest ticket"),
    "ticket_position": _l("position within the ticket range"),
    "tenor_in_range": _l("tenor within range"),
    "tenor_gap_years": _l("years outside the tenor range"),
    "instrument_match": _l("instrument offered"),
    "instrument_open": _l("any instrument"),
    "need_side_fit": _l("fit seen from the project"),
    "log10_amount_usd": _l("size of the deal"),
    "country_match": _l("country in the mandate"),
    "region_match": _l("region in the mandate"),
    "geo_open": _l("no geographic limit"),
    "sector_match": _l("sector in the mandate"),
    "technology_match": _l("technology in the mandate"),
    "sector_open": _l("any sector"),
    "stage_match": _l("stage accepted"),
    "stage_open": _l("any stage"),
    "taxonomy_share": _l("share of taxonomy requirements met"),
    "impact_ok": _l("emission reduction above the minimum"),
    "log_impact_ratio": _l("emission reduction against the minimum"),
    "log_tco2e_per_musd": _l("tCO2e avoided per million USD"),
    "product_side_fit": _l("fit seen from the investor"),
    "missed_constraints": _l("constraints missed"),
    "rule_score": _l("rule score"),
    "text_cosine": _l("similar descriptions"),
    "tag_cosine": _l("similar tags"),
    "product_acceptance_oof": _l("how often brokers accept this product"),
    "product_log_decisions": _l("decisions seen for this product"),
    "investor_sector_acceptance_oof": _l(
        "how often this investor's deals in the sector are accepted"
    ),
    "track_has_record": _l("investor has a track record"),
    "track_log_deals_country": _l("investor's earlier deals in the country"),
    "track_log_deals_region": _l("investor's earlier deals in the region"),
    "track_log_deals_technology": _l("investor's earlier deals in the technology"),
    "track_log_deals_sector": _l("investor's earlier deals in the sector"),
    "track_recency": _l("how recent the investor's relevant deals are"),
    "track_log_size_ratio": _l("investor's usual deal size against the amount"),
    "track_log_co_financiers": _l("co-financiers also on the platform"),
}

PAYMENT_PURPOSES = {
    "listing_fee": _l("Listing fee"),
    "membership": _l("Investor membership"),
    "success_fee": _l("Success fee"),
}

PAYMENT_STATUSES = {
    "pending": _l("Awaiting payment"),
    "paid": _l("Paid"),
    "failed": _l("Payment failed"),
    "expired": _l("Checkout expired"),
    "refunded": _l("Refunded"),
    "partially_refunded": _l("Partly refunded"),
    "waived": _l("Waived"),
    "canceled": _l("Cancelled"),
    "amount_mismatch": _l("Amount differs from ours: check at Stripe"),
}

JOB_STATES = {
    "pending": _l("Waiting"),
    "enqueued": _l("Queued"),
    "running": _l("Running"),
    "done": _l("Finished"),
    "failed": _l("Failed"),
}

FEE_KINDS = {
    "listing_fee": _l("Listing fee"),
    "membership_monthly": _l("Membership, monthly"),
    "membership_yearly": _l("Membership, yearly"),
}

FEE_STATUSES = {"unpaid": _l("Unpaid"), "paid": _l("Paid"), "waived": _l("Waived")}

MEMBERSHIP_STATUSES = {
    "none": _l("No membership"),
    "active": _l("Active"),
    "past_due": _l("Payment overdue (Stripe is retrying)"),
    "lapsed": _l("Lapsed"),
}

CURRENCIES = {
    "USD": _l("US dollar (USD)"),
    "CNY": _l("Chinese yuan (CNY)"),
    "HKD": _l("Hong Kong dollar (HKD)"),
    "EUR": _l("Euro (EUR)"),
}

# Search pages: facet titles, amount and tenor bands, sort orders, alert frequencies.
FACET_TITLES = {
    "sector": _l("Sector"),
    "country": _l("Country"),
    "region": _l("Region"),
    "instrument": _l("Instrument"),
    "type": _l("Product type"),
    "stage": _l("Stage"),
    "currency": _l("Currency"),
    "amount": _l("Amount (USD)"),
    "ticket": _l("Ticket size (USD)"),
    "tenor": _l("Tenor"),
    "financed_country": _l("Has financed in this country"),
    "financed_technology": _l("Has financed this technology"),
}

BAND_LABELS = {
    "lt10m": _l("Under 10 million"),
    "10m-50m": _l("10 to 50 million"),
    "50m-200m": _l("50 to 200 million"),
    "200m-1b": _l("200 million to 1 billion"),
    "gt1b": _l("Over 1 billion"),
    "le5": _l("Up to 5 years"),
    "6-10": _l("6 to 10 years"),
    "11-15": _l("11 to 15 years"),
    "gt15": _l("Over 15 years"),
}

SORT_LABELS = {
    "newest": _l("Newest first"),
    "amount": _l("Largest amount first"),
    "amount_asc": _l("Smallest amount first"),
    "tco2e": _l("Most tCO2e avoided first"),
    "tco2e_per_usd": _l("Most tCO2e avoided per USD first"),
    "ticket": _l("Largest ticket first"),
    "ticket_asc": _l("Smallest ticket first"),
}

TRACK_SOURCES = {
    "manual": _l("Entered by hand"),
    "import": _l("Imported from a file"),
    "platform": _l("Closed on the platform"),
}

# The columns of a track-record import file.
TRACK_COLUMNS = {
    "country": _l("Country"),
    "sector": _l("Sector"),
    "technology": _l("Technology"),
    "year": _l("Year"),
    "amount_usd": _l("Amount (USD)"),
    "co_financiers": _l("Co-financiers"),
}

FREQUENCIES = {"daily": _l("Daily email"), "weekly": _l("Weekly email"), "never": _l("No email")}

# Which vocabulary above names the keys of a search facet.
FACET_LABEL_KINDS = {
    "sector": "sector",
    "instrument": "instrument",
    "type": "instrument",
    "stage": "stage",
    "currency": "currency",
    "region": "region",
    "financed_technology": "technology",
}

VOCABULARIES = {
    # First, so that the shared keys ("pending", "failed") keep their other meanings in LABELS.
    "job_state": JOB_STATES,
    "role": ROLES,
    "org_kind": ORG_KINDS,
    "hub": HUBS,
    "verification": VERIFICATION,
    "need_status": NEED_STATUSES,
    "product_status": PRODUCT_STATUSES,
    "sector": SECTORS,
    "technology": TECHNOLOGIES,
    "instrument": INSTRUMENTS,
    "stage": STAGES,
    "match_status": MATCH_STATUSES,
    "taxonomy_requirement": TAXONOMY_REQUIREMENTS,
    "capacity_unit": CAPACITY_UNITS,
    "region": REGIONS,
    "exclusion": EXCLUSIONS,
    "impact_method": IMPACT_METHODS,
    "impact_reason": IMPACT_REASONS,
    "currency": CURRENCIES,
    "reject_reason": REJECT_REASONS,
    "payment_purpose": PAYMENT_PURPOSES,
    "payment_status": PAYMENT_STATUSES,
    "fee_kind": FEE_KINDS,
    "fee_status": FEE_STATUSES,
    "membership_status": MEMBERSHIP_STATUSES,
    "match_source": MATCH_SOURCES,
    "constraint": CONSTRAINTS,
    "feature": FEATURES,
    "track_source": TRACK_SOURCES,
    "track_column": TRACK_COLUMNS,
}

# Without a kind, later vocabularies win on shared keys; pass the kind where that matters.
LABELS: dict = {}
for _table in VOCABULARIES.values():
    LABELS.update(_table)
