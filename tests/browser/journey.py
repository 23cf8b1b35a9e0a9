"""What every browser journey does on each page: axe-core, labels, title, language, screenshots.

Selectors use ids, names and hrefs, never English text, so one journey runs in every locale.
"""

import re
import secrets
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy
from functools import cache
from pathlib import Path

from axe_playwright_python.base import AXE_FILE_PATH
from axe_playwright_python.sync_playwright import Axe
from babel.support import Translations
from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
PASSWORD = "demo-password-1"
NEW_PASSWORD = "browser-journey-7"
PHONE = {"width": 390, "height": 844}
BLOCKING = {"serious", "critical"}
# axe-core is loaded into every page by `load_axe` (once per page instead of once per check),
# so Axe.run only has to evaluate a no-op before calling axe.run().
AXE = Axe(axe_script="void 0")

UNLABELLED_FIELDS_JS = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => ![...(el.labels || [])].some(label => label.textContent.trim())
             && !(el.getAttribute('aria-label') || '').trim()
             && !(el.getAttribute('aria-labelledby') || '').trim())
  .map(el => el.outerHTML.slice(0, 160))"""

# The text a reader gets from the main navigation and the skip link, without the user's own
# name and the language names (each written in its own language on purpose).
NAV_TEXT_JS = """() => {
  const parts = [document.querySelector('.skip-link')];
  const nav = document.querySelector('nav.navbar').cloneNode(true);
  nav.querySelectorAll('select, a[href$="/auth/profile"]').forEach(el => el.remove());
  const labels = [...nav.querySelectorAll('[aria-label]'), nav]
    .map(el => el.getAttribute('aria-label'));
  return [...parts.map(el => el && el.textContent), nav.textContent, ...labels].join(' ');
}"""
ENGLISH_UI = re.compile(
    r"\b(Sign in|Sign out|Register|Notifications|Switch|Language|Main|Show menu|Skip|"
    r"My projects|My products|My deals|New product|New financing need|Search|Review queue|"
    r"Broker desk|Deal pipeline|Needs to publish|Organisations|Ranker|Administration|"
    r"Exchange rates|Overview|Membership|Payments|Saved searches|Unpaid listing fees|"
    r"Green Silk Road)\b"
)

# What a focus indicator can change; compared unfocused and focused (transitions are off:
# contexts ask for reduced motion).
FOCUS_STYLE_JS = """el => {
  const s = getComputedStyle(el);
  const outline = s.outlineStyle === 'none' ? 'none' : `${s.outlineStyle} ${s.outlineColor}`;
  return [outline, s.boxShadow, s.backgroundColor, s.borderColor, s.color, s.textDecorationLine];
}"""


def load_axe(context) -> None:
    """Put axe-core (from axe-playwright-python) into every page this context opens."""
    context.add_init_script(path=AXE_FILE_PATH)


@cache
def _catalogue(locale: str) -> Translations:
    return Translations.load(str(ROOT / "marketplace" / "translations"), [locale])


def t(msgid: str, locale: str) -> str:
    """The site's own translation of a message, to compare with what a page shows."""
    return msgid if locale == "en" else _catalogue(locale).gettext(msgid)


def unique_email(journey: str, locale: str) -> str:
    return f"{journey}-{locale.lower().replace('_', '-')}-{secrets.token_hex(4)}@example.com"


@dataclass
class Journey:
    """One person's way through the site in one locale; every page they see is checked."""

    page: Page
    name: str
    locale: str
    report: list = field(default_factory=list)
    keyboard_actions: int = 0
    outbox: Path | None = None  # the live server's mail outbox, for confirmation links

    # --- checks on every page -------------------------------------------------------------

    def check(self, step: str) -> None:
        """Run every page check, then save `artifacts/browser/<journey>-<locale>-<step>.png`."""
        self.page.wait_for_load_state("load")
        where = f"{self.name}/{self.locale}/{step} ({self.page.url})"
        self._axe(where)
        assert self.page.title().strip() and not self.page.title().startswith("·"), (
            f"{where}: the page has no title"
        )
        unlabelled = self.page.evaluate(UNLABELLED_FIELDS_JS)
        assert not unlabelled, f"{where}: form fields without a label: {unlabelled}"
        expect(self.page.locator("html")).to_have_attribute("lang", self.locale.replace("_", "-"))
        if self.locale != "en":
            leaked = ENGLISH_UI.findall(self.page.evaluate(NAV_TEXT_JS))
            assert not leaked, f"{where}: English in the main navigation: {sorted(set(leaked))}"
        self.page.screenshot(
            path=ARTIFACTS / f"{self.name}-{self.locale}-{step}.png", full_page=True
        )

    def _axe(self, where: str) -> None:
        violations = AXE.run(self.page).response["violations"]
        self.report.extend(
            {
                "page": where,
                "rule": v["id"],
                "impact": v["impact"],
                "targets": [n["target"] for n in v["nodes"]],
            }
            for v in violations
        )
        blocking = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in violations
            if v["impact"] in BLOCKING
        ]
        assert not blocking, f"{where}: axe-core found " + "; ".join(blocking)

    def on_phone(self) -> None:
        """At 390 px: no sideways scrolling, the menu opens, axe passes; one screenshot."""
        self.page.set_viewport_size(PHONE)
        self.page.reload()
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{self.page.url} scrolls sideways at 390 px ({width})"
        toggler = self.page.locator("button.navbar-toggler")
        expect(toggler).to_be_visible()
        toggler.click()
        expect(self.page.locator("#nav")).to_be_visible()
        expect(toggler).to_have_attribute("aria-expanded", "true")
        self.check("mobile")

    # --- keyboard -------------------------------------------------------------------------

    def press_with_keyboard(self, target: Locator, key: str = "Enter", max_tabs: int = 150):
        """Tab until `target` has a visible focus, then activate it with Enter or Space."""
        expect(target).to_be_visible()
        self.page.mouse.move(0, 0)
        unfocused = target.evaluate(FOCUS_STYLE_JS)
        for _ in range(max_tabs):
            self.page.keyboard.press("Tab")
            if target.evaluate("el => el === document.activeElement"):
                break
        else:
            raise AssertionError(f"{self.page.url}: {target} not reached with Tab")
        assert target.evaluate("el => el.matches(':focus-visible')")
        assert target.evaluate(FOCUS_STYLE_JS) != unfocused, (
            f"{self.page.url}: {target} looks the same with and without the keyboard focus"
        )
        self.page.keyboard.press(key)
        self.keyboard_actions += 1

    # --- steps shared by the journeys -----------------------------------------------------

    def switch_language(self) -> None:
        """Choose the journey's language with the switcher in the navigation bar."""
        page = self.page
        if page.viewport_size["width"] < 1200:
            page.locator("button.navbar-toggler").click()
        page.locator("#lang-select").select_option(self.locale)
        page.locator("form[action$='/auth/language'] button[type=submit]").click()
        expect(page.locator("html")).to_have_attribute("lang", self.locale.replace("_", "-"))

    def follow_nav(self, href: str) -> None:
        """Click a link of the main navigation, opening the menu or its dropdown when needed."""
        page, link = self.page, self.page.locator(f"nav.navbar a[href='{href}']").first
        # Until the stylesheet has loaded, the menu button of narrow screens shows on wide ones.
        page.wait_for_load_state("load")
        toggler = page.locator("button.navbar-toggler")
        if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
            toggler.click()
        dropdown = page.locator(
            f"nav.navbar .dropdown:has(a[href='{href}']) [data-bs-toggle='dropdown']"
        )
        if not link.is_visible() and dropdown.count():
            dropdown.first.click()
        link.click()
        page.wait_for_url(f"**{href}")

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        page = self.page
        page.goto("/auth/login")
        page.locator("#email").fill(email)
        page.locator("#password").fill(password)
        page.locator("form #submit").click()
        expect(page).not_to_have_url(re.compile(r"/auth/login"))

    def register(
        self, role: str, email: str, name: str, organisation: str, hub: str, country: str
    ) -> None:
        """Create an account through the form, submitting it with the keyboard."""
        page = self.page
        page.locator("a[href='/auth/register']").first.click()
        page.wait_for_url("**/auth/register")
        page.locator("#role").select_option(role)
        page.locator("#display_name").fill(name)
        page.locator("#email").fill(email)
        page.locator("#password").fill(NEW_PASSWORD)
        page.locator("#confirm").fill(NEW_PASSWORD)
        page.locator("#organisation_name").fill(organisation)
        page.locator("#hub").select_option(hub)
        page.locator("#country").select_option(country)
        expect(page.locator("#locale")).to_have_value(self.locale)
        self.check("register")
        page.locator("#organisation_name").focus()
        self.press_with_keyboard(page.locator("form #submit"))
        page.wait_for_url("**/auth/login")
        expect(page.locator(".alert-success")).to_be_visible()
        page.goto(self.confirmation_path(email))
        self.sign_in(email, NEW_PASSWORD)
        page.wait_for_url(f"**/{'owner' if role == 'owner' else 'investor'}/")

    def confirmation_path(self, email: str) -> str:
        """The path of the newest confirmation link mailed to this address."""
        for path in sorted(
            self.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True
        ):
            message = BytesParser(policy=default_policy).parsebytes(path.read_bytes())
            if message["To"].lower() == email.lower():
                return re.search(r"/auth/confirm/\S+", message.get_content()).group(0)
        raise AssertionError(f"no confirmation mail to {email}")

    def expect_success(self) -> None:
        expect(self.page.locator("main .alert-success")).to_be_visible()
        expect(self.page.locator("main .alert-danger")).to_have_count(0)
