"""The in-process facet index against the database: same answers, and it follows every write.

Runs on SQLite and PostgreSQL; the concurrent-commit test needs PostgreSQL (SQLite has one
writer at a time).
"""

import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from marketplace.extensions import db
from marketplace.models import Document, FinancingNeed, NeedSearchText, NeedStatus, Role, utcnow
from marketplace.services.demo import demo
from marketplace.services.search import search, search_index
from marketplace.services.search.search_bands import AMOUNT_BANDS, TENOR_BANDS
from tests.factories import make_need, make_user

SECTORS = ("solar", "wind", "hydro", "storage")
COUNTRIES = ("PK", "KZ", "VN", "NP", "EG")
INSTRUMENTS = ("green_loan", "green_bond", "guarantee", "project_equity")
STATUSES = (NeedStatus.PUBLISHED, NeedStatus.IN_NEGOTIATION, NeedStatus.DRAFT, NeedStatus.WITHDRAWN)


@pytest.fixture
def owner(app):
    return make_user(app, role=Role.OWNER)


def run(app, page=1, **args):
    with app.app_context():
        geo = search.geography()
        filters = search.parse_filters(
            {k: v if isinstance(v, list) else [v] for k, v in args.items()}, "needs", geo
        )
        return search.search_needs(filters, page, geo)


def _band(value, bands) -> str:
    return next(b.key for b in bands if b.high is None or value < b.high)


def _expected(needs: list[dict], chosen: dict[str, list[str]], region_of: dict[str, str]):
    """Total and per-facet counts worked out row by row, as the facets are specified."""

    def value(need, facet):
        if facet == "region":
            return {region_of[need["country_iso2"]]}
        if facet == "country":
            return {need["country_iso2"]}
        if facet == "instrument":
            return set(need["instruments"])
        if facet == "amount":
            return {_band(need["amount_usd"], AMOUNT_BANDS)}
        if facet == "tenor":
            return {_band(need["tenor_years"], TENOR_BANDS)}
        return {need[facet]}

    def passes(need, skip=()):
        return all(
            value(need, facet) & set(keys) for facet, keys in chosen.items() if facet not in skip
        )

    visible = [n for n in needs if n["status"] in search.VISIBLE_STATUSES]
    counts = {}
    for facet in ("sector", "country", "region", "instrument", "stage", "amount", "tenor"):
        # Country and region are one filter group: each is counted without either filter,
        # country within the chosen regions, region over the chosen countries.
        geo = ("country", "region") if facet in ("country", "region") else (facet,)
        counter = Counter()
        for need in visible:
            if (
                facet == "region"
                and chosen.get("country")
                and (need["country_iso2"] not in chosen["country"])
            ):
                continue
            if (
                facet == "country"
                and chosen.get("region")
                and (region_of[need["country_iso2"]] not in chosen["region"])
            ):
                continue
            if passes(need, skip=geo):
                for key in value(need, facet):
                    counter[key] += 1
        counts[facet] = counter
    matching = [n for n in visible if passes(n)]
    return len(matching), counts, matching


def test_facets_totals_and_order_agree_with_counting_row_by_row(app, owner):
    rng = random.Random(7)
    now = utcnow()
    needs = []
    for i in range(60):
        fields = {
            "sector": rng.choice(SECTORS),
            "country_iso2": rng.choice(COUNTRIES),
            "stage": rng.choice(("concept", "financing", "construction")),
            "currency": rng.choice(("USD", "CNY", "EUR")),
            "amount_usd": Decimal(rng.choice((3, 12, 60, 300, 1500))) * 1_000_000 + Decimal(i),
            "tenor_years": rng.choice((3, 7, 12, 20)),
            "instruments": rng.sample(INSTRUMENTS, rng.randint(0, 2)),
            "status": rng.choice(STATUSES),
        }
        # Few distinct publication times, so "newest" must break ties by id.
        fields["published_at"] = (
            now - timedelta(hours=i % 4) if fields["status"] in search.VISIBLE_STATUSES else None
        )
        fields["id"] = make_need(app, owner, title_en=f"Need {i}", **fields).id
        needs.append(fields)
    with app.app_context():
        region_of = search.geography().region_of
    combos = [
        {},
        {"sector": ["solar"]},
        {"sector": ["solar", "wind"], "country": ["PK"]},
        {"region": [region_of["PK"]], "instrument": ["green_loan"]},
        {"amount": ["lt10m", "gt1b"], "tenor": ["6-10"], "stage": ["financing"]},
        {"country": ["KZ", "EG"], "region": [region_of["KZ"]], "currency": ["CNY"]},
    ]
    for chosen in combos:
        total, counts, matching = _expected(needs, chosen, region_of)
        result = run(app, **chosen)
        assert result.total == total, chosen
        for facet, expected in counts.items():
            shown = {v.key: v.count for v in result.facets[facet] if v.count}
            assert shown == dict(expected), (chosen, facet)
        newest = sorted(matching, key=lambda n: (n["published_at"], n["id"]), reverse=True)
        assert [n.id for n in result.items] == [n["id"] for n in newest[:20]]
        cheapest = sorted(matching, key=lambda n: (n["amount_usd"], -n["id"]))
        start = 20 if len(matching) > 20 else 0  # a page past the end shows the last one
        assert [n.id for n in run(app, page=2, sort="amount_asc", **chosen).items] == [
            n["id"] for n in cheapest[start : start + 20]
        ]


def test_search_follows_each_committed_write_at_once(app, owner):
    wind = make_need(
        app, owner, title_en="Coastal wind farm", sector="wind", status=NeedStatus.PUBLISHED
    )
    assert run(app).total == 1  # the index is loaded here
    solar = make_need(app, owner, title_en="Desert solar park", status=NeedStatus.PUBLISHED)
    result = run(app)
    assert result.total == 2
    assert {v.key: v.count for v in result.facets["sector"]} == {"solar": 1, "wind": 1}
    with app.app_context():
        need = db.session.get(FinancingNeed, wind.id)
        need.sector, need.title_en = "hydro", "Run-of-river hydro plant"
        db.session.commit()
    assert {v.key: v.count for v in run(app).facets["sector"]} == {"hydro": 1, "solar": 1}
    assert [n.id for n in run(app, q="river").items] == [wind.id]
    assert run(app, q="wind").total == 0
    with app.app_context():
        db.session.get(FinancingNeed, solar.id).status = NeedStatus.WITHDRAWN
        db.session.commit()
    assert [n.id for n in run(app).items] == [wind.id]


def test_a_rolled_back_write_changes_nothing(app, owner):
    need = make_need(app, owner, title_en="Solar park", status=NeedStatus.PUBLISHED)
    assert run(app, sector="solar").total == 1
    with app.app_context():
        db.session.get(FinancingNeed, need.id).sector = "wind"
        db.session.flush()
        db.session.rollback()
    assert run(app, sector="solar").total == 1
    with app.app_context():
        assert db.session.get(FinancingNeed, need.id).revision > 0


def test_bulk_inserted_demo_needs_are_counted_and_found_by_their_words(app):
    with app.app_context():
        demo.seed(needs=25, products=0)
        rows = db.session.scalars(select(FinancingNeed)).all()
        visible = [n for n in rows if n.status in search.VISIBLE_STATUSES]
        texts = dict(
            db.session.execute(select(NeedSearchText.need_id, NeedSearchText.search_text)).all()
        )
        word = visible[0].title_en.split()[-1]
    assert set(texts) == {n.id for n in rows} and all(n.revision > 0 for n in rows)
    assert run(app).total == len(visible)
    result = run(app, q=word.upper())
    assert visible[0].id in {n.id for n in result.items}
    assert result.total == sum(word.lower() in texts[n.id] for n in visible)


def test_a_recreated_counter_makes_the_index_load_afresh(app, owner):
    make_need(app, owner, title_en="Solar park", status=NeedStatus.PUBLISHED)
    assert run(app).total == 1
    with app.app_context():
        before = search_index.current().revision
        db.session.execute(FinancingNeed.__table__.update().values(sector="wind"))
        db.session.execute(db.metadata.tables["change_counters"].delete())
        db.session.commit()  # no unit-of-work change: only a new counter row can tell
    make_need(app, owner, title_en="Another park", status=NeedStatus.PUBLISHED)
    with app.app_context():
        assert search_index.current().revision.generation != before.generation
    assert {v.key: v.count for v in run(app).facets["sector"]} == {"wind": 1, "solar": 1}


def test_a_commit_that_finishes_later_is_not_missed(app, owner):
    """Ids and timestamps are handed out in one order and committed in another."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite allows one writing transaction at a time")
        first, second = Session(db.engine), Session(db.engine)
        try:
            early = _unsaved_need(owner, "Early solar park")
            first.add(early)
            first.flush()  # gets the lower id and the earlier updated_at, commits last
            late = _unsaved_need(owner, "Late solar park")
            second.add(late)
            second.commit()
            assert [n.id for n in search.search_needs(search.Filters()).items] == [late.id]
            db.session.rollback()
            first.commit()
            assert {n.id for n in search.search_needs(search.Filters()).items} == {
                early.id,
                late.id,
            }
        finally:
            first.close()
            second.close()


def test_a_change_to_a_needs_documents_alone_does_not_wait_for_its_row(app, owner):
    """Stamping takes the counter first; a need whose row the transaction never wrote must not
    be stamped, or it would wait for a row another writer holds while holding the counter."""
    need = make_need(app, owner, status=NeedStatus.PUBLISHED)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite allows one writing transaction at a time")
        editor, uploader = Session(db.engine), Session(db.engine)
        try:
            edited = editor.get(FinancingNeed, need.id)
            edited.tenor_years = 15
            editor.flush()  # holds the need's row until it commits
            uploader.execute(text("SET LOCAL lock_timeout = '3s'"))
            uploaded = uploader.get(FinancingNeed, need.id)
            uploaded.documents.append(
                Document(
                    uploaded_by_id=owner.id,
                    original_name="model.xlsx",
                    stored_name="doc-1.xlsx",
                    content_type="application/vnd.ms-excel",
                    size_bytes=10,
                    sha256="0" * 64,
                )
            )
            uploader.commit()  # before the fix: LockNotAvailable after 3 s
            editor.commit()
        finally:
            editor.close()
            uploader.close()
        assert search_index.current().revision is not None
    assert run(app, tenor="11-15").total == 1


def _unsaved_need(owner, title: str) -> FinancingNeed:
    return FinancingNeed(
        organisation_id=owner.organisation_id,
        created_by_id=owner.id,
        title_en=title,
        country_iso2="PK",
        sector="solar",
        technology="solar_pv",
        amount=Decimal(40_000_000),
        currency="USD",
        amount_usd=Decimal(40_000_000),
        tenor_years=12,
        stage="financing",
        status=NeedStatus.PUBLISHED,
        published_at=utcnow(),
    )


def test_two_character_chinese_words_find_exactly_the_needs_that_contain_them(app, owner):
    """On PostgreSQL these go through the index of Han character pairs; the answers must equal
    a plain substring test (and SQLite's LIKE)."""
    texts = {
        "steppe": ("草原风电场，配套储能", "Steppe wind farm"),
        "delta": ("三角洲光伏电站", "Delta solar, 风电 later"),
        "port": ("港口岸电改造", "Shore power 岸电"),
    }
    ids = {
        key: make_need(app, owner, title_zh=zh, title_en=en, status=NeedStatus.PUBLISHED).id
        for key, (zh, en) in texts.items()
    }
    for word, expected in {
        "风电": {"steppe", "delta"},
        "电场": {"steppe"},
        "场配": set(),
        "岸电": {"port"},
        "光伏": {"delta"},
        "储能": {"steppe"},
        "伏电": {"delta"},
        "电站": {"delta"},
    }.items():
        assert {n.id for n in run(app, q=word).items} == {ids[k] for k in expected}, word
    assert {n.id for n in run(app, q="风电 solar").items} == {ids["delta"]}
