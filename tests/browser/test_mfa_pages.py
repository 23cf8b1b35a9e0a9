"""Two-factor authentication in Chromium, in English and Chinese: set-up with the key shown on
the page, the recovery codes, the code step of sign-in, and an admin's reset. Every page passes
the journey checks (axe-core, labels, title, language)."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.journey import NEW_PASSWORD, Journey, unique_email

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_owner_sets_up_and_uses_two_factor_authentication(
    live_server, new_page, axe_report, locale
):
    owner = Journey(new_page(locale), "mfa-owner", locale, axe_report)
    owner.outbox = live_server.log.parent / "outbox"  # registration mails a confirmation link
    page, email = owner.page, unique_email("mfa", locale)
    page.goto("/")
    owner.switch_language()
    owner.register("owner", email, "Zhang Min", f"Gansu Wind {email[:12]}", "beijing", "CN")
    page.goto("/auth/profile")
    page.locator("main a[href='/auth/mfa/settings']").click()
    owner.check("settings-off")
    page.locator("main a[href='/auth/mfa/enrol']").click()
    expect(page.locator("main img[src^='data:image/svg+xml']")).to_be_visible()
    owner.check("enrol")
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    page.locator("#code").fill(pyotp.TOTP(secret).now())
    owner.press_with_keyboard(page.locator("form #submit"))
    expect(page.locator("ol.recovery-codes li")).to_have_count(10)
    codes = page.locator("ol.recovery-codes code").all_inner_texts()
    owner.check("recovery-codes")
    page.goto("/auth/mfa/settings")
    owner.check("settings-on")

    page.locator("nav form[action$='/auth/logout'] button").click()
    page.goto("/auth/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(NEW_PASSWORD)
    page.locator("form #submit").click()
    page.wait_for_url("**/auth/mfa")
    owner.check("code-step")
    page.locator("#code").fill(codes[0])
    page.locator("form #submit").click()
    page.wait_for_url("**/owner/")

    admin = Journey(new_page(locale), "mfa-admin", locale, axe_report)
    admin.sign_in("admin@demo.test")
    admin.switch_language()
    admin.page.goto("/admin/")
    admin.page.locator("main table a", has_text="Zhang Min").first.click()
    admin.page.wait_for_url(re.compile(r"/admin/users/\d+$"))
    admin.check("user-edit")
    admin.page.locator("form[action$='/mfa/reset'] button").click()
    admin.expect_success()
    expect(admin.page.locator("form[action$='/mfa/reset']")).to_have_count(0)
    page.goto("/owner/")
    page.wait_for_url(re.compile(r"/auth/login"))
