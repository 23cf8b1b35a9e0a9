"""Issue 7: the owner, investor and broker journeys in Chromium, in English and in Chinese.

Every page a journey visits is checked (see journey.Journey.check) and photographed to
artifacts/browser/; each journey ends with a phone-sized (390 px) check and screenshot.
"""

import re
import secrets
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.browser.journey import Journey, t, unique_email

pytestmark = pytest.mark.browser
LOCALES = ["en", "zh_Hans"]
BROKER = "broker@demo.test"


@pytest.fixture(params=LOCALES)
def locale(request):
    return request.param


@pytest.fixture
def journey(new_page, axe_report, locale, request, live_server):
    """A journey named after the test, starting on the landing page in its language."""
    name = request.node.originalname.removeprefix("test_").removesuffix("_journey")
    trip = Journey(new_page(locale), name, locale, axe_report)
    trip.outbox = live_server.log.parent / "outbox"
    trip.page.goto("/")
    trip.switch_language()
    failures_before = request.session.testsfailed
    yield trip
    if request.session.testsfailed == failures_before:
        assert trip.keyboard_actions, f"the {name} journey did nothing with the keyboard"


def _need_id(url: str) -> int:
    return int(re.search(r"/needs/(\d+)$", url).group(1))


def test_owner_journey(journey, new_page, axe_report, locale):
    """Register, draft and submit a need; a broker waives its fee and publishes it; the owner
    then sees it published with suggested products and their reasons."""
    page, token = journey.page, secrets.token_hex(3)
    journey.check("home")
    journey.register(
        "owner", unique_email("owner", locale), "Amina Khan", f"Indus Solar {token}", "other", "PK"
    )
    journey.check("dashboard")

    page.locator("main a[href='/owner/needs/new']").click()
    page.wait_for_url("**/owner/needs/new")
    _fill_need(page, f"Multan solar park {token}", locale)
    journey.check("need-form")
    page.locator("form #submit").click()
    page.wait_for_url(re.compile(r"/needs/\d+$"))
    journey.expect_success()
    need_id = _need_id(page.url)
    journey.check("need-draft")

    page.locator(f"form[action='/owner/needs/{need_id}/submit'] button").click()
    page.wait_for_url(f"**/needs/{need_id}")
    journey.expect_success()
    journey.check("need-submitted")

    _broker_waives_and_publishes(new_page, axe_report, locale, need_id)

    page.reload()
    status = page.locator("main div.justify-content-between .badge.border").first
    expect(status).to_have_text(t("Published", locale))
    suggestions = page.locator("section[aria-labelledby='suggested-heading'] tbody tr")
    expect(suggestions.first).to_be_visible()
    reasons = suggestions.locator("td:nth-child(4)")
    assert any(text.strip() for text in reasons.all_inner_texts()), "no suggestion explains itself"
    journey.check("need-published")

    suggestions.first.locator("a[href^='/deals/']").click()
    page.wait_for_url(re.compile(r"/deals/\d+$"))
    why = page.locator(".card-body:has(h2.card-title)")
    expect(why.locator("p").first).not_to_be_empty()
    journey.check("suggestion")

    page.goto("/")
    expect(page.locator(f"main a[href='/needs/{need_id}']")).to_be_visible()
    journey.check("landing-with-need")
    page.goto(f"/needs/{need_id}")
    journey.on_phone()


def _fill_need(page, title: str, locale: str) -> None:
    page.locator("#title_zh" if locale.startswith("zh") else "#title_en").fill(title)
    page.locator("#summary_en").fill("Utility-scale PV with a signed grid connection.")
    page.locator("#summary_zh").fill("并网协议已签署的地面光伏电站。")
    page.locator("#country_iso2").select_option("PK")
    page.locator("#sector").select_option("solar")
    page.locator("#technology").select_option("solar_pv")
    page.locator("#taxonomy_activity_ref").select_option("4.1")
    page.locator("#amount").fill("60000000")
    page.locator("#currency").select_option("USD")
    page.locator("#instruments input[value='green_loan']").check()
    page.locator("#tenor_years").fill("12")
    page.locator("#stage").select_option("financing")
    page.locator("#capacity").fill("80")
    page.locator("#capacity_unit").select_option("MW")


def _broker_waives_and_publishes(new_page, axe_report, locale, need_id: int) -> None:
    """The broker's step in the owner's journey: waive the listing fee, then publish."""
    broker = Journey(new_page(locale), "owner", locale, axe_report)
    page = broker.page
    broker.sign_in(BROKER)
    broker.switch_language()
    broker.follow_nav("/billing/listing-fees")
    waive = page.locator(f"a[href='/billing/needs/{need_id}/waive']")
    expect(waive).to_be_visible()
    broker.check("broker-fees")
    waive.click()
    page.locator("#reason").fill("Pilot sponsor: fee waived for the browser test.")
    broker.check("broker-waive")
    page.locator("form #submit").click()
    page.wait_for_url("**/billing/listing-fees")
    broker.expect_success()

    broker.follow_nav("/broker/needs")
    publish = page.locator(f"form[action='/broker/needs/{need_id}/publish'] button")
    expect(publish).to_be_visible()
    broker.check("broker-publish")
    publish.click()
    page.wait_for_url("**/broker/needs")
    broker.expect_success()
    expect(publish).to_have_count(0)
    page.context.close()


def test_investor_journey(journey, locale):
    """Register, create and activate a product, search needs with facets, save the search and
    express interest in a need."""
    page, token = journey.page, secrets.token_hex(3)
    journey.register(
        "investor",
        unique_email("investor", locale),
        "Wong Ka Yan",
        f"Harbour Green Capital {token}",
        "hong_kong",
        "HK",
    )
    journey.check("dashboard")

    page.locator("main a[href='/investor/products/new']").click()
    page.wait_for_url("**/investor/products/new")
    name = f"Harbour green loan {token}"
    _fill_product(page, name, locale)
    journey.check("product-form")
    page.locator("form #submit").click()
    page.wait_for_url(re.compile(r"/products/\d+$"))
    journey.expect_success()
    product_id = int(page.url.rsplit("/", 1)[1])
    journey.check("product-draft")

    page.reload()  # Tab from the top of the page to the main action.
    journey.press_with_keyboard(
        page.locator(f"form[action='/investor/products/{product_id}/activate'] button"), "Space"
    )
    journey.expect_success()
    journey.check("product-active")

    journey.follow_nav("/search/needs")
    results = page.locator("main ol.list-unstyled > li.card")
    expect(results.first).to_be_visible()
    journey.check("search")
    page.locator("section[aria-labelledby='facet-sector'] a[href*='sector=solar']").click()
    page.wait_for_url(re.compile(r"sector=solar"))
    page.locator(
        "section[aria-labelledby='facet-instrument'] a[href*='instrument=green_loan']"
    ).click()
    page.wait_for_url(re.compile(r"instrument=green_loan"))
    assert "sector=solar" in page.url
    expect(
        page.locator("section[aria-labelledby='facet-sector'] a[aria-current='true']")
    ).to_have_count(1)
    expect(results.first).to_be_visible()
    journey.check("search-facets")
    search_url = page.url

    saved_name = f"Solar {token}"
    page.locator("form[action='/search/saved'] input[name='name']").fill(saved_name)
    page.locator("form[action='/search/saved'] [type=submit]").click()
    page.wait_for_url("**/search/saved")
    journey.expect_success()
    expect(page.locator("main")).to_contain_text(saved_name)
    journey.check("saved-searches")

    page.goto(search_url)
    results.first.locator("a[href^='/needs/']").click()
    page.wait_for_url(re.compile(r"/needs/\d+$"))
    need_id = _need_id(page.url)
    interest = page.locator("section[aria-labelledby='interest-heading']")
    interest.locator("#own_listing").select_option(str(product_id))
    interest.locator("#message").fill("Our green loan fits this project's tenor.")
    journey.check("need")
    interest.locator("[type=submit]").click()
    page.wait_for_url(f"**/needs/{need_id}")
    journey.expect_success()
    journey.check("interest-sent")

    journey.follow_nav("/deals/")
    expect(page.locator("section[aria-labelledby='interests-heading'] li").first).to_contain_text(
        name
    )
    journey.check("my-deals")
    journey.on_phone()


def _fill_product(page, name: str, locale: str) -> None:
    page.locator("#name_zh" if locale.startswith("zh") else "#name_en").fill(name)
    page.locator("#description").fill("Senior green loans for solar and wind in South Asia.")
    page.locator("#product_type").select_option("green_loan")
    page.locator("#currency").select_option("USD")
    page.locator("#ticket_min").fill("5000000")
    page.locator("#ticket_max").fill("150000000")
    page.locator("#tenor_min_years").fill("3")
    page.locator("#tenor_max_years").fill("18")
    page.locator("#countries").select_option(["PK", "VN", "ID"])
    for box in (
        "#sectors input[value='solar']",
        "#sectors input[value='wind']",
        "#instruments input[value='green_loan']",
        "#stages input[value='financing']",
        "#stages input[value='construction']",
    ):
        page.locator(box).check()


def test_broker_journey(journey, locale):
    """Sign in, work the review queue, accept a match, see the conversation open, and close
    the deal as won."""
    page = journey.page
    page.locator("a[href='/auth/login']").first.click()
    page.locator("#email").fill(BROKER)
    page.locator("#password").fill("demo-password-1")
    journey.check("sign-in")
    journey.press_with_keyboard(page.locator("form #submit"))
    page.wait_for_url("**/broker/")
    journey.switch_language()
    journey.check("desk")

    journey.follow_nav("/broker/queue")
    first = page.locator("main table tbody a[href^='/deals/']").first
    expect(first).to_be_visible()
    journey.check("queue")
    match_url = first.get_attribute("href")
    first.click()
    page.wait_for_url(f"**{match_url}")
    decide = page.locator("form[action$='/decide']")
    decide.locator("#decision").select_option("accept")
    decide.locator("#note").fill("Good fit on tenor and sector.")
    journey.check("match")
    decide.locator("[type=submit]").click()
    page.wait_for_url("**/broker/queue")
    journey.expect_success()

    page.goto(match_url)
    conversation = page.locator("main a[href^='/deals/conversations/']")
    expect(conversation).to_be_visible()
    expect(page.locator("form[action$='/close-won']")).to_be_visible()
    journey.check("introduced")
    conversation.click()
    page.wait_for_url(re.compile(r"/deals/conversations/\d+$"))
    page.locator("#body").fill("Introduced: please share the feasibility study here.")
    page.locator("form #submit").click()
    expect(page.locator("main ol li").last).to_contain_text("feasibility study")
    journey.check("conversation")

    page.goto(match_url)
    page.locator("form[action$='/advance'] [type=submit]").click()
    journey.expect_success()
    won = page.locator("form[action$='/close-won']")
    won.locator("#amount").fill("60000000")
    won.locator("#instrument").select_option("green_loan")
    won.locator("#closed_on").fill(datetime.now(UTC).date().isoformat())
    journey.check("close-won-form")
    won.locator("[type=submit]").click()
    journey.expect_success()
    expect(won).to_have_count(0)
    expect(page.locator("main .badge").first).to_have_text(t("Closed won", locale))
    journey.check("closed-won")

    page.goto("/broker/pipeline?stage=closed_won")
    expect(page.locator(f"main a[href='{match_url}']")).to_be_visible()
    journey.check("pipeline")
    journey.on_phone()
