"""Investors' track records: by hand, from CSV or XLSX (all rows or none), from deals closed on
the platform; shown on product pages, filtered on in search, and read by the ranker."""

import io
import zipfile
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    FinanceProduct,
    MatchStatus,
    NeedStatus,
    OrgKind,
    Role,
    TrackRecordDeal,
    TrackSource,
    User,
)
from marketplace.services import ServiceError
from marketplace.services.deals import deals
from marketplace.services.matching import ranker
from marketplace.services.track_records import imports, platform, reading
from tests.conftest import csrf_from, post_form
from tests.factories import (
    make_match,
    make_need,
    make_org,
    make_product,
    make_track_deal,
    make_user,
)

IMPORT = "/investor/track-record/import"
GOOD_CSV = (
    "country,sector,technology,year,amount_usd,co_financiers\n"
    "PK,,onshore_wind,2014,120000000,Asian Development Bank; IFC\n"
    'Kazakhstan,wind,Onshore wind,2019,"85,000,000",\n'
    "哈萨克斯坦,solar,,2021,,\n"
)
BAD_CSV = (
    "country,sector,technology,year,amount_usd,co_financiers\n"
    "PK,,onshore_wind,2014,120000000,\n"  # row 2: good
    "Atlantis,,solar_pv,2015,1000,\n"  # row 3: unknown country
    "KZ,solar,onshore_wind,2016,1000,\n"  # row 4: technology of another sector
    "\n"  # row 5: blank, skipped but counted
    "KZ,,,2017,-5,\n"  # row 6: neither sector nor technology; negative amount
    "KZ,wind,,1980,abc,\n"  # row 7: year too early; amount not a number
)


def _deal_count(app, **where) -> int:
    with app.app_context():
        query = select(func.count(TrackRecordDeal.id)).filter_by(**where)
        return db.session.scalar(query)


def _upload(client, name: str, content: bytes):
    page = client.get(IMPORT).get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "file": (io.BytesIO(content), name)}
    return client.post(IMPORT, data=data, content_type="multipart/form-data")


@pytest.fixture
def investor(app):
    return make_user(app, role=Role.INVESTOR)


@pytest.fixture
def signed_in(investor, login_as):
    return login_as(investor)


# --- import ----------------------------------------------------------------------------------


def test_a_csv_with_bad_rows_is_refused_with_row_errors_and_nothing_written(app, signed_in):
    response = _upload(signed_in, "deals.csv", BAD_CSV.encode())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported: 4 rows have errors." in page
    rows = {int(cell) for cell in _error_rows(page)}
    assert rows == {3, 4, 6, 7}
    assert "Unknown country “Atlantis”" in page
    assert "This technology belongs to another sector." in page
    assert "Give the sector, the technology, or both." in page
    assert "The year must be from 1990 to" in page
    assert _deal_count(app) == 0


def _error_rows(page: str) -> list[str]:
    table = page.split('id="errors-heading"', 1)[1]
    return [cell.split("</td>")[0] for cell in table.split("<tr><td>")[1:]]


def test_a_good_csv_is_imported_once(app, signed_in, investor):
    first = _upload(signed_in, "deals.csv", GOOD_CSV.encode())
    assert first.status_code == 302
    assert "3 added, 0 already present." in signed_in.get("/investor/track-record").text
    second = _upload(signed_in, "deals.csv", GOOD_CSV.encode())
    assert second.status_code == 302
    assert "0 added, 3 already present." in signed_in.get("/investor/track-record").text
    assert _deal_count(app, organisation_id=investor.organisation_id) == 3
    with app.app_context():
        pk = db.session.scalar(select(TrackRecordDeal).filter_by(country_iso2="PK"))
        assert (pk.sector, pk.technology, pk.year) == ("wind", "onshore_wind", 2014)
        assert pk.amount_usd == Decimal("120000000.00") and pk.source == TrackSource.IMPORT
        assert pk.co_financiers == ["Asian Development Bank", "IFC"]
        kz = db.session.scalars(select(TrackRecordDeal).filter_by(country_iso2="KZ")).all()
        assert sorted(d.amount_usd or 0 for d in kz) == [0, Decimal("85000000.00")]


def test_the_same_deal_written_differently_is_already_present(app, signed_in):
    _upload(signed_in, "a.csv", GOOD_CSV.encode())
    # Other case, spacing, key instead of name, co-financiers in another order: the same deals.
    again = (
        "Country , Technology,YEAR,Amount (USD),Co-financiers\n"
        "pakistan,onshore wind,2014,120000000.00,ifc;  asian development bank\n"
    )
    assert _upload(signed_in, "b.csv", again.encode()).status_code == 302
    assert "0 added, 1 already present." in signed_in.get("/investor/track-record").text
    assert _deal_count(app) == 3


def test_an_xlsx_file_with_chinese_headers_is_imported(app, signed_in):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["国家", "行业", "技术", "年份", "金额（美元）", "联合融资方"])
    sheet.append(["PK", "风能", None, 2016, 150000000, "亚洲开发银行"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["Uzbekistan", None, "solar_pv", 2020.0, 45_500_000.5, None])
    response = _upload(signed_in, "deals.xlsx", _xlsx_bytes(book))
    assert response.status_code == 302, response.text[:2000]
    with app.app_context():
        rows = db.session.scalars(select(TrackRecordDeal).order_by(TrackRecordDeal.year)).all()
        assert [(r.country_iso2, r.sector, r.technology, r.year) for r in rows] == [
            ("PK", "wind", None, 2016),
            ("UZ", "solar", "solar_pv", 2020),
        ]
        assert rows[1].amount_usd == Decimal("45500000.50")
        assert rows[0].co_financiers == ["亚洲开发银行"]


def test_an_xlsx_file_with_bad_rows_names_them(app, signed_in):
    book = openpyxl.Workbook()
    book.active.append(["country", "technology", "year"])
    book.active.append(["PK", "solar_pv", 2016])
    book.active.append(["PK", "nuclear", 2016])
    book.active.append(["PK", "solar_pv", 2099])
    response = _upload(signed_in, "deals.xlsx", _xlsx_bytes(book))
    assert response.status_code == 400
    assert {int(row) for row in _error_rows(response.text)} == {3, 4}
    assert "Unknown technology “nuclear”." in response.text
    assert _deal_count(app) == 0


def _xlsx_bytes(book) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("deals.txt", b"country,year\nPK,2014\n", "Only CSV and XLSX files are accepted."),
        ("deals.xlsx", b"PK\x03\x04 not really a workbook", "not a valid XLSX document"),
        ("deals.xlsx", b"country,year\n", "not a valid XLSX document"),
        ("deals.csv", b"", "The file is empty."),
        ("deals.csv", b"country,year,colour\nPK,2014,green\n", "Unknown column “colour”"),
        ("deals.csv", b"country,year,year\nPK,2014,2015\n", "appears twice"),
        ("deals.csv", b"country,amount_usd\nPK,5\n", "must name the columns, with year"),
        ("deals.csv", b"country,technology,year\n", "The file holds no deals"),
        ("deals.csv", "国家,技术,年份\n巴基斯坦,光伏发电,2018\n".encode("gb18030"), None),
    ],
)
def test_files_that_cannot_be_imported_say_why(app, signed_in, name, content, message):
    response = _upload(signed_in, name, content)
    if message is None:  # a CSV saved by Chinese Excel (GB 18030) is read
        assert response.status_code == 302, response.text[:3000]
        assert _deal_count(app) == 1
        return
    assert response.status_code in (400, 413)
    assert message in response.text
    assert _deal_count(app) == 0


def test_a_workbook_damaged_inside_is_refused_cleanly(app, signed_in):
    """The ZIP is sound but the sheet's XML is cut short: openpyxl fails only while reading."""
    book = openpyxl.Workbook()
    book.active.append(["country", "technology", "year"])
    book.active.append(["PK", "solar_pv", 2014])
    source = zipfile.ZipFile(io.BytesIO(_xlsx_bytes(book)))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            sheet = item.filename == "xl/worksheets/sheet1.xml"
            archive.writestr(item, data[: len(data) // 2] if sheet else data)
    response = _upload(signed_in, "deals.xlsx", damaged.getvalue())
    assert response.status_code == 400
    assert "not a valid XLSX document" in response.text
    assert _deal_count(app) == 0


def test_size_and_row_limits_are_stated(app, signed_in, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    rows = "".join(f"PK,solar_pv,{2010 + i}\n" for i in range(4))
    response = _upload(signed_in, "deals.csv", f"country,technology,year\n{rows}".encode())
    assert "The file has more than 3 rows: split it into smaller files." in response.text
    monkeypatch.setattr(reading, "MAX_UNPACKED_MB", 0)
    book = openpyxl.Workbook()
    book.active.append(["country", "technology", "year"])
    response = _upload(signed_in, "deals.xlsx", _xlsx_bytes(book))
    assert "The workbook is larger than 0 MB once unpacked." in response.text
    monkeypatch.setattr(reading, "MAX_FILE_MB", 0)
    response = _upload(signed_in, "deals.csv", b"country,technology,year\nPK,solar_pv,2014\n")
    assert response.status_code == 413 and "The file is larger than 0 MB." in response.text
    assert _deal_count(app) == 0


def test_row_numbers_are_the_spreadsheet_rows(app):
    """A quoted cell spanning lines is one row, as in a spreadsheet; blank rows still count."""
    content = b'technology,year,co_financiers\nsolar_pv,2014,"ADB\nIFC"\n\nsolar_pv,1900,\n'
    with app.test_request_context(), pytest.raises(imports.ImportRefused) as refused:
        imports.parse_file("x.csv", content)
    assert [(e.row, e.column) for e in refused.value.errors] == [(4, "year")]


def test_the_template_lists_the_columns(signed_in):
    response = signed_in.get("/investor/track-record/template.csv")
    assert response.mimetype == "text/csv"
    assert response.text.strip() == "country,sector,technology,year,amount_usd,co_financiers"


# --- by hand -----------------------------------------------------------------------------------


DEAL_FORM = {
    "country_iso2": "KZ",
    "sector": "",
    "technology": "onshore_wind",
    "year": "2018",
    "amount_usd": "120000000",
    "co_financiers": "Asian Development Bank\nIFC",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"year": "abc"}, "Not a valid integer value."),
        ({"year": "2999"}, "The year must be from 1990 to"),
        ({"amount_usd": "NaN"}, "Enter a number (not NaN or infinity)."),
        ({"amount_usd": "-4"}, "Number must be between 0.01 and"),
        ({"sector": "solar"}, "This technology belongs to another sector."),
        ({"technology": ""}, "Give the sector, the technology, or both."),
        ({"country_iso2": "XX"}, "Not a valid choice."),
        ({"co_financiers": "x" * 201}, "at most 200 characters"),
    ],
)
def test_a_bad_deal_by_hand_is_a_form_error(app, signed_in, change, message):
    response = post_form(signed_in, "/investor/track-record/new", {**DEAL_FORM, **change})
    assert response.status_code == 200
    assert "is-invalid" in response.text and message in response.text
    assert _deal_count(app) == 0


def test_a_deal_by_hand_is_added_edited_and_deleted(app, signed_in, investor):
    response = post_form(signed_in, "/investor/track-record/new", DEAL_FORM)
    assert response.status_code == 302
    again = post_form(signed_in, "/investor/track-record/new", DEAL_FORM)
    assert "already in your organisation&#39;s track record" in again.text
    with app.app_context():
        deal = db.session.scalar(select(TrackRecordDeal))
        assert (deal.sector, deal.source, deal.created_by_id) == ("wind", "manual", investor.id)
    edit = f"/investor/track-record/deals/{deal.id}/edit"
    assert "Asian Development Bank\nIFC" in signed_in.get(edit).text
    post_form(signed_in, edit, {**DEAL_FORM, "year": "2019", "co_financiers": ""})
    with app.app_context():
        deal = db.session.get(TrackRecordDeal, deal.id)
        assert (deal.year, deal.co_financiers) == (2019, [])
    delete = f"/investor/track-record/deals/{deal.id}/delete"
    assert post_form(signed_in, delete, {}, page="/investor/track-record").status_code == 302
    assert _deal_count(app) == 0


# --- who may see and change what ---------------------------------------------------------------


def test_another_organisation_cannot_change_a_deal(app, login_as, investor):
    deal = make_track_deal(app, investor)
    client = login_as(make_user(app, role=Role.INVESTOR))
    edit = f"/investor/track-record/deals/{deal.id}/edit"
    assert client.get(edit).status_code == 403
    assert post_form(client, edit, DEAL_FORM, page="/investor/track-record").status_code == 403
    delete = f"/investor/track-record/deals/{deal.id}/delete"
    assert post_form(client, delete, {}, page="/investor/track-record").status_code == 403
    assert client.get("/investor/track-record/deals/999999/edit").status_code == 404
    assert (
        client.get(f"/investor/organisations/{investor.organisation_id}/track-record").status_code
        == 403
    )
    # The deal's co-financier, not its country code: two letters can turn up in a CSRF token.
    own_page = client.get("/investor/track-record")
    assert own_page.status_code == 200 and "Asian Development Bank" not in own_page.text
    assert _deal_count(app) == 1


def test_an_owner_cannot_reach_the_track_record_pages(app, login_as, investor):
    deal = make_track_deal(app, investor)
    client = login_as(make_user(app, role=Role.OWNER))
    for path in (
        "/investor/track-record",
        "/investor/track-record/new",
        IMPORT,
        "/investor/track-record/template.csv",
        f"/investor/track-record/deals/{deal.id}/edit",
        f"/investor/organisations/{investor.organisation_id}/track-record",
    ):
        assert client.get(path).status_code == 403, path


def test_brokers_read_any_investors_track_record(app, login_as, investor):
    make_track_deal(app, investor, co_financiers=["Silk Fund"])
    sponsor = make_org(app, OrgKind.SPONSOR)
    client = login_as(make_user(app, role=Role.BROKER))
    page = client.get(f"/investor/organisations/{investor.organisation_id}/track-record")
    assert page.status_code == 200
    assert "Silk Fund" in page.text and "Kazakhstan" in page.text
    assert "/delete" not in page.text and "Add a deal" not in page.text
    assert client.get(f"/investor/organisations/{sponsor.id}/track-record").status_code == 404
    assert client.get("/investor/track-record").status_code == 403


def test_the_service_refuses_other_roles_and_organisations(app, investor):
    deal = make_track_deal(app, investor)
    owner = make_user(app, role=Role.OWNER)
    other = make_user(app, role=Role.INVESTOR)
    from marketplace.services.track_records import editing

    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            imports.import_file(db.session.get(User, owner.id), "x.csv", GOOD_CSV.encode())
        assert refused.value.status == 403
        row = db.session.get(TrackRecordDeal, deal.id)
        with pytest.raises(ServiceError) as refused:
            editing.delete_deal(row, db.session.get(User, other.id))
        assert refused.value.status == 403
    assert _deal_count(app) == 1


# --- deals closed on the platform --------------------------------------------------------------


@pytest.fixture
def closing(app, investor):
    """A published need with two investors introduced to it, and a broker."""
    owner = make_user(app, role=Role.OWNER)
    need = make_need(
        app, owner, status=NeedStatus.PUBLISHED, country_iso2="PK", technology="solar_pv"
    )
    other = make_user(app, role=Role.INVESTOR)
    broker = make_user(app, role=Role.BROKER)
    first = make_match(
        app, need, make_product(app, investor), MatchStatus.INTRODUCED, broker=broker
    )
    second = make_match(app, need, make_product(app, other), MatchStatus.INTRODUCED, broker=broker)
    return {"need": need, "first": first, "second": second, "other": other, "broker": broker}


def _close(app, match, broker, amount="20000000"):
    with app.test_request_context():
        deals.close_won(
            match.id,
            db.session.get(User, broker.id),
            Decimal(amount),
            "USD",
            "green_loan",
            datetime.now(UTC).date(),
        )


def test_closing_a_deal_adds_it_to_the_investors_track_record_once(app, closing, investor):
    _close(app, closing["first"], closing["broker"])
    assert _deal_count(app, source=TrackSource.PLATFORM) == 1
    with app.app_context():
        deal = db.session.scalar(select(TrackRecordDeal))
        assert deal.organisation_id == investor.organisation_id
        assert deal.match_id == closing["first"].id
        assert (deal.country_iso2, deal.sector, deal.technology) == ("PK", "solar", "solar_pv")
        assert (deal.year, deal.amount_usd) == (datetime.now(UTC).year, Decimal("20000000.00"))
        assert deal.co_financiers == []
    with app.test_request_context():
        match = db.session.get(type(closing["first"]), closing["first"].id)
        platform.record_closed_deal(match)
        db.session.commit()
    assert _deal_count(app) == 1


def test_investors_closing_on_the_same_need_are_each_others_co_financiers(app, closing, investor):
    _close(app, closing["first"], closing["broker"])
    _close(app, closing["second"], closing["broker"], amount="10000000")
    with app.app_context():
        first_name = db.session.get(User, investor.id).organisation.name
        second_name = db.session.get(User, closing["other"].id).organisation.name
        by_org = {
            d.organisation_id: d.co_financiers for d in db.session.scalars(select(TrackRecordDeal))
        }
    assert by_org == {
        investor.organisation_id: [second_name],
        closing["other"].organisation_id: [first_name],
    }


def test_a_platform_deal_cannot_be_edited_or_deleted(app, closing, login_as, investor):
    _close(app, closing["first"], closing["broker"])
    with app.app_context():
        deal_id = db.session.scalar(select(TrackRecordDeal.id))
    client = login_as(investor)
    assert "Closed on the platform" in client.get("/investor/track-record").text
    assert client.get(f"/investor/track-record/deals/{deal_id}/edit").status_code == 409
    delete = f"/investor/track-record/deals/{deal_id}/delete"
    assert post_form(client, delete, {}, page="/investor/track-record").status_code == 409
    assert _deal_count(app) == 1


# --- product page, search, ranker --------------------------------------------------------------


def test_the_product_page_shows_the_track_record_in_summary(app, login_as, investor):
    product = make_product(app, investor)
    make_track_deal(app, investor, country_iso2="KZ", year=2014, amount_usd=Decimal("1.0e9"))
    make_track_deal(app, investor, country_iso2="KZ", year=2019, amount_usd=Decimal("2.0e8"))
    make_track_deal(app, investor, country_iso2="PK", technology="solar_pv", amount_usd=None)
    client = login_as(make_user(app, role=Role.OWNER))
    page = client.get(f"/products/{product.id}").text
    assert "3 deals since 2014 · $1.2B · Kazakhstan 2, Pakistan 1 · Onshore wind 2, Solar PV 1" in (
        " ".join(page.split())
    )
    client.post(
        "/auth/language", data={"locale": "zh_Hans", "next": "/", "csrf_token": csrf_from(page)}
    )
    chinese = " ".join(client.get(f"/products/{product.id}").text.split())
    assert "自 2014 年以来 3 笔交易 · US$12亿 · 哈萨克斯坦 2" in chinese


def test_a_product_without_a_track_record_says_so(app, login_as, investor):
    product = make_product(app, investor)
    client = login_as(investor)
    page = client.get(f"/products/{product.id}").text
    assert "No earlier deals recorded yet." in page and "Manage the track record" in page


def test_search_filters_on_what_the_investor_has_financed(app, login_as, investor):
    wind = make_product(app, investor, name_en="Steppe wind loan")
    other = make_user(app, role=Role.INVESTOR)
    make_product(app, other, name_en="Harbour solar loan")
    make_track_deal(app, investor, country_iso2="KZ", technology="onshore_wind")
    make_track_deal(app, other, country_iso2="PK", technology="solar_pv")
    client = login_as(make_user(app, role=Role.OWNER))
    page = client.get("/search/products?financed_country=KZ").text
    assert "Steppe wind loan" in page and "Harbour solar loan" not in page
    page = client.get("/search/products?financed_technology=solar_pv").text
    assert "Harbour solar loan" in page and "Steppe wind loan" not in page
    both = client.get("/search/products?financed_country=KZ&financed_technology=solar_pv").text
    assert "No products match." in both
    everything = client.get("/search/products").text
    assert (
        "Has financed in this country" in everything
        and "Has financed this technology" in everything
    )
    assert f"/products/{wind.id}" in everything
    assert "financed_country=PK" in everything  # a facet link with its count
    sorted_page = client.get("/search/products?financed_technology=onshore_wind&sort=ticket").text
    assert "Steppe wind loan" in sorted_page


def test_product_records_carry_the_track_record(app, investor):
    product = make_product(app, investor)
    make_track_deal(app, investor, country_iso2="PK", year=2014, co_financiers=["ADB", "IFC"])
    make_track_deal(app, investor, country_iso2=None, technology=None, sector="hydro", year=2016,
                    amount_usd=None, co_financiers=[])  # fmt: skip
    with app.app_context():
        row = db.session.get(FinanceProduct, product.id)
        record = ranker.product_record(row)
        entries = ranker.product_records([row], {"USD": 1.0})[0].track_record
    assert record.track_record == entries
    first, second = record.track_record
    assert (first.country, first.region, first.technology, first.sector) == (
        "PK",
        "South Asia",
        "onshore_wind",
        "wind",
    )
    assert (first.year, first.amount_usd, first.co_financiers) == (
        2014,
        120000000.0,
        ("ADB", "IFC"),
    )
    assert (second.country, second.technology, second.sector, second.amount_usd) == (
        None,
        None,
        "hydro",
        None,
    )


def test_the_ranker_entries_are_in_the_engines_format(app, investor):
    from marketplace.services.track_records.queries import ranker_entries

    make_track_deal(app, investor, country_iso2="PK", year=2014, co_financiers=["ADB"])
    other = make_user(app, role=Role.INVESTOR)
    with app.app_context():
        entries = ranker_entries([investor.organisation_id, other.organisation_id])
    assert entries == {
        investor.organisation_id: [
            {
                "country": "PK",
                "region": "South Asia",
                "technology": "onshore_wind",
                "sector": "wind",
                "year": 2014,
                "amount_usd": 120000000.0,
                "co_financiers": ["ADB"],
            }
        ],
        other.organisation_id: [],
    }


def test_building_the_index_reads_track_records_in_one_query(app, investor):
    """However many products and investors, their track records cost one query."""
    from sqlalchemy import event

    for _ in range(3):
        user = make_user(app, role=Role.INVESTOR)
        make_product(app, user)
        make_track_deal(app, user)
    make_product(app, investor)
    statements = []
    with app.app_context():
        products = ranker.active_products()

        def count(conn, cursor, statement, *args):
            if "track_record_deals" in statement:
                statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            records = ranker.product_records(products, {"USD": 1.0})
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert sum(len(r.track_record) for r in records) == 3


def test_the_investor_home_and_navigation_link_the_track_record(app, login_as, investor):
    make_track_deal(app, investor)
    page = login_as(investor).get("/investor/").text
    assert "/investor/track-record" in page and "1 deal since 2018" in page


def test_demo_investors_have_a_track_record(app):
    from marketplace.services.demo.content import INVESTORS

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--no-history"]).exit_code == 0
    first = _deal_count(app)
    assert runner.invoke(args=["seed-demo", "--no-history"]).exit_code == 0
    assert _deal_count(app) == first  # seeding again adds nothing
    names = {name for _key, name, _hub, _country in INVESTORS}
    with app.app_context():
        rows = db.session.scalars(select(TrackRecordDeal)).all()
        per_org = Counter(row.organisation.name for row in rows)
        assert set(per_org) == names and all(4 <= n <= 7 for n in per_org.values())
        assert all(2015 <= row.year <= 2025 and row.amount_usd > 0 for row in rows)
        assert any(set(row.co_financiers) & names for row in rows)
