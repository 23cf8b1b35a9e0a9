"""Accessibility beyond the journeys: the theme's contrast, and the pages every visitor sees.

The contrast test reads the colours from the stylesheets themselves, so it needs no browser and
runs in both passes; the page tests drive Chromium like the journeys.
"""

import re
from pathlib import Path

import flask_bootstrap
import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE_CSS = (ROOT / "marketplace" / "static" / "css" / "site.css").read_text()
BOOTSTRAP_CSS = (
    Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5" / "css" / "bootstrap.min.css"
).read_text()
WHITE, LIGHT = "#ffffff", "#f8f9fa"  # page background; .bg-light (footer) and .btn-outline-light
AA_NORMAL_TEXT = 4.5


def _css_colour(pattern: str, css: str = SITE_CSS) -> str:
    match = re.search(pattern, css)
    assert match, f"theme colour not found in the stylesheet: {pattern}"
    return match.group(1)


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour written #rrggbb."""
    channels = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted(
        (relative_luminance(foreground), relative_luminance(background)), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_wcag_examples():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


BRAND = _css_colour(r"--brand:\s*(#[0-9a-fA-F]{6})")
BRAND_DARK = _css_colour(r"--brand-dark:\s*(#[0-9a-fA-F]{6})")
LINK = _css_colour(r"(?m)^a\s*\{\s*color:\s*(#[0-9a-fA-F]{6})")
SECONDARY_TEXT = _css_colour(r"\.text-body-secondary\s*\{\s*color:\s*(#[0-9a-fA-F]{6})")
BODY_TEXT = _css_colour(r"--bs-body-color:(#[0-9a-fA-F]{6})", BOOTSTRAP_CSS)
HERO = _css_colour(r"\.hero\s*\{\s*background:\s*(#[0-9a-fA-F]{6})")


@pytest.mark.parametrize(
    ("what", "foreground", "background"),
    [
        ("navigation and brand buttons: white on the brand green", WHITE, BRAND),
        ("brand buttons when hovered or focused", WHITE, BRAND_DARK),
        ("language switch button on the brand green", LIGHT, BRAND),
        ("links on white", LINK, WHITE),
        ("body text on white", BODY_TEXT, WHITE),
        ("secondary text on white", SECONDARY_TEXT, WHITE),
        ("secondary text in the footer", SECONDARY_TEXT, LIGHT),
        ("body text on the landing page's hero", BODY_TEXT, HERO),
        ("links on the landing page's hero", LINK, HERO),
    ],
)
def test_theme_colours_have_at_least_4_5_to_1_contrast(what, foreground, background):
    ratio = contrast(foreground, background)
    assert ratio >= AA_NORMAL_TEXT, f"{what}: {foreground} on {background} is {ratio:.2f}:1"


PUBLIC_PAGES = [
    ("home", "/"),
    ("sign-in", "/auth/login"),
    ("register", "/auth/register"),
    ("forgot-password", "/auth/forgot"),
    ("not-found", "/no-such-page"),
]


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_public_pages_are_accessible(new_page, axe_report, locale):
    """What a visitor sees, in the language the browser asks for (Accept-Language only)."""
    from playwright.sync_api import expect

    from tests.browser.journey import Journey

    visitor = Journey(new_page(locale), "visitor", locale, axe_report)
    for step, path in PUBLIC_PAGES:
        visitor.page.goto(path)
        visitor.check(step)
    visitor.page.goto("/auth/login")
    expect(visitor.page.locator("html")).to_have_attribute("lang", locale.replace("_", "-"))
    visitor.on_phone()


@pytest.mark.browser
def test_skip_link_is_the_first_tab_stop_and_jumps_to_the_content(new_page):
    from tests.browser.journey import Journey

    page = new_page("en")
    page.goto("/auth/login")
    Journey(page, "visitor", "en").press_with_keyboard(page.locator("a.skip-link"), max_tabs=1)
    page.wait_for_url("**#main")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null"), (
        "after the skip link, Tab should land in the main content"
    )
