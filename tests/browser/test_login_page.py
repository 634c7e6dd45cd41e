"""Every scenario of the login page, in real Chromium, against both targets.

Each test leaves its last page as a screenshot under its pytest tmp dir (see conftest).
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser._login import LoginPage, new_email, new_phone


@pytest.fixture
def login(page: Any, target: Any) -> LoginPage:
    """The login page of the target under test, opened."""
    return LoginPage(page, target.url).open()


def test_seed_flow(login: LoginPage) -> None:
    """SMS code, enroll SMS (recovery code shown once), confirm: authenticated."""
    phone = new_phone()
    login.expect_state("started")
    assert login.unlabelled_inputs() == []
    login.start_sms(phone)
    assert login.unlabelled_inputs() == []
    login.submit("verify_otp", code=login.last_code(phone))
    login.expect_state("mfa_required")
    assert login.unlabelled_inputs() == []
    recovery = login.enroll_sms(phone)
    assert len(recovery) == 24
    expect(login.page.locator("main")).to_contain_text("You are signed in")
    # The flow left the store with its tokens: the next page is a fresh start.
    login.open()
    login.expect_state("started")


def test_keyboard_only(login: LoginPage) -> None:
    """Tab to the phone field, type, Enter; Tab to the code, type, Enter."""
    phone = new_phone()
    page = login.page
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "phone_number":
            break
    assert page.evaluate("document.activeElement.name") == "phone_number"
    page.keyboard.type(phone)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    login.expect_state("code_sent")
    code = login.last_code(phone)
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "code":
            break
    page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    login.expect_state("mfa_required")


def test_returning_user_challenge(login: LoginPage) -> None:
    """A second login lists the enrolled authenticators and challenges the chosen one."""
    phone = new_phone()
    login.first_factor(phone)
    login.enroll_sms(phone)
    login.first_factor(phone)
    login.submit("list_authenticators")
    login.expect_state("mfa_required")
    choice = login.form("challenge").locator('[name="authenticator_id"]')
    assert choice.count() >= 1
    login.submit("challenge")
    login.expect_state("challenge_pending")
    login.submit("confirm", code=login.last_code(phone))
    login.expect_state("authenticated")


def test_totp_enrollment(login: LoginPage) -> None:
    """The TOTP secret and QR code are shown; the code computed from the secret confirms."""
    phone = new_phone()
    login.first_factor(phone)
    login.submit("enroll", type="otp")
    login.expect_state("enrollment_pending")
    secret = login.secret("totp_secret")
    assert login.secret("barcode_uri").startswith("otpauth://totp/")
    expect(login.page.locator("figure.qr svg")).to_be_visible()
    code = pyotp.TOTP(secret).at(login.dev_now())
    login.submit("confirm", code=code)
    login.expect_state("authenticated")


def test_email_login_and_email_factor(login: LoginPage) -> None:
    """An email code as the first factor, then the email factor enrolled and confirmed."""
    email = new_email()
    login.submit("start_passwordless", connection="email", email=email)
    login.expect_state("code_sent")
    expect(login.form("rollback")).to_contain_text("Use a different email")
    login.submit("verify_otp", code=login.last_code(email))
    login.expect_state("mfa_required")
    login.submit("enroll", type="email", email=email)
    login.expect_state("enrollment_pending")
    login.submit("confirm", code=login.last_code(email))
    login.expect_state("authenticated")


@pytest.mark.parametrize("answer", ["approve_push", "reject_push"])
def test_push(login: LoginPage, answer: str) -> None:
    """Enroll push: the page waits and polls by itself; approved signs in, rejected ends."""
    phone = new_phone()
    login.first_factor(phone)
    login.submit("enroll", type="push")
    login.expect_state("enrollment_pending")
    expect(login.page.locator('[role="status"]')).to_contain_text("Waiting")
    assert login.form("poll_push").get_attribute("data-retry-after")
    login.dev(answer)
    final = "authenticated" if answer == "approve_push" else "rejected"
    expect(login.page.locator("main")).to_have_attribute("data-flow-state", final, timeout=15_000)
    if final == "rejected":
        expect(login.page.locator('[role="alert"]')).to_contain_text("rejected")


def test_recovery_code(login: LoginPage) -> None:
    """A recovery code signs in, and the new one is shown once."""
    phone = new_phone()
    login.first_factor(phone)
    recovery = login.enroll_sms(phone)
    login.first_factor(phone)
    login.submit("confirm", code=recovery)
    login.expect_state("authenticated")
    fresh = login.secret("recovery_code")
    assert len(fresh) == 24 and fresh != recovery
    expect(login.page.locator("[data-copy]").first).to_be_visible()


def test_wrong_code_then_right(login: LoginPage) -> None:
    """A wrong code is counted and said clearly; the right one then works."""
    phone = new_phone()
    login.start_sms(phone)
    code = login.last_code(phone)
    wrong = str((int(code) + 1) % 10 ** len(code)).zfill(len(code))
    login.submit("verify_otp", code=wrong)
    login.expect_state("code_sent")
    assert "2 attempts left" in login.alert()
    login.submit("verify_otp", code=code)
    login.expect_state("mfa_required")


def test_rollback_use_a_different_number(login: LoginPage) -> None:
    """ "Use a different number" goes back to the start; a new number works."""
    login.start_sms(new_phone())
    login.submit("rollback")
    login.expect_state("started")
    phone = new_phone()
    login.start_sms(phone)
    login.submit("verify_otp", code=login.last_code(phone))
    login.expect_state("mfa_required")


def test_cancel(login: LoginPage) -> None:
    """Cancel ends the login and says so."""
    login.start_sms(new_phone())
    login.submit("cancel")
    login.expect_state("cancelled")
    expect(login.page.locator("main")).to_contain_text("cancelled")


def test_reload_and_back_resume(login: LoginPage) -> None:
    """Reload and the back button show where the login is, and it goes on from there."""
    phone = new_phone()
    login.first_factor(phone)
    login.page.reload()
    login.expect_state("mfa_required")
    login.page.go_back()
    login.expect_state("mfa_required")
    login.enroll_sms(phone)


def test_two_tabs_submit_the_same_step(context: Any, login: LoginPage, target: Any) -> None:
    """Two tabs send the same code: one wins, the other is told, Auth0 gets one request."""
    phone = new_phone()
    login.start_sms(phone)
    other = LoginPage(context.new_page(), target.url).open()
    other.expect_state("code_sent")
    code = login.last_code(phone)
    before = login.dev_requests()
    login.form("verify_otp").locator('[name="code"]').fill(code)
    other.form("verify_otp").locator('[name="code"]').fill(code)
    with login.page.expect_navigation(), other.page.expect_navigation():
        login.form("verify_otp").locator("button").click(no_wait_after=True)
        other.form("verify_otp").locator("button").click(no_wait_after=True)
    states = sorted([login.state, other.state])
    assert states == ["mfa_required", "mfa_required"]
    alerts = [p.page.locator('[role="alert"]') for p in (login, other)]
    told = [a.inner_text() for a in alerts if a.count()]
    assert len(told) == 1 and "already" in told[0], told
    login.open()
    assert login.dev_requests() - before == 1


def test_flow_id_alone_resumes_nothing(browser: Any, login: LoginPage, target: Any) -> None:
    """A second browser that knows only the flow id gets a fresh start, not the login."""
    login.start_sms(new_phone())
    flow_id = login.page.locator("[data-dev-flow-id]").inner_text()
    assert flow_id.startswith("fl_")
    intruder = browser.new_context()
    try:
        host = target.url.split("/")[2].split(":")[0]
        intruder.add_cookies(
            [{"name": "flowengine_login", "value": flow_id, "domain": host, "path": "/"}]
        )
        page = intruder.new_page()
        page.goto(f"{target.url}/?flow_id={flow_id}")
        expect(page.locator("main")).to_have_attribute("data-flow-state", "started")
        expect(page.locator('[role="alert"]')).to_contain_text("could not be verified")
    finally:
        intruder.close()
    login.page.reload()
    login.expect_state("code_sent")


def test_expired_flow(login: LoginPage) -> None:
    """Past the flow's deadline (an idle hour) the page says it expired and offers a new one."""
    login.start_sms(new_phone())
    login.dev("advance")
    login.expect_state("expired")
    assert "expired" in login.alert()
    login.open()
    login.expect_state("started")


def test_rate_limited_start(login: LoginPage) -> None:
    """A 429 from Auth0 on start is a clear message with the wait, and no flow is kept."""
    login.dev("rate_limit")
    login.page.locator('form[data-trigger="start_passwordless"] [name="phone_number"]').fill(
        new_phone()
    )
    with login.page.expect_navigation():
        login.form("start_passwordless").locator("button").click()
    login.expect_state("started")
    assert "Too many attempts" in login.alert()
    assert "seconds" in login.alert()


def test_without_javascript(browser: Any, target: Any, tmp_path: Any) -> None:
    """With JavaScript off every form still works; a push is checked with its button."""
    import time

    ctx = browser.new_context(java_script_enabled=False)
    try:
        login = LoginPage(ctx.new_page(), target.url).open()
        phone = new_phone()
        login.first_factor(phone)
        login.submit("enroll", type="push")
        login.expect_state("enrollment_pending")
        assert len(login.secret("recovery_code")) == 24
        assert login.page.locator("[data-copy]").first.is_hidden()  # copy needs JavaScript
        login.dev("approve_push")
        wait = float(login.form("poll_push").get_attribute("data-retry-after") or 5)
        time.sleep(wait)
        login.submit("poll_push")
        login.expect_state("authenticated")
        login.page.screenshot(path=str(tmp_path / "without_javascript.png"), full_page=True)
    finally:
        ctx.close()
