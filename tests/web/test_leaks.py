"""What crosses to the browser: never a handle, a token or a code it did not show on purpose."""

from __future__ import annotations

import re

from flowengine.stores.memory import MemoryStore
from flowengine.testing import Auth0Emulator, FakeClock, Fault
from tests.web.conftest import PHONE, Browserish, to_code_sent


def test_no_secret_reaches_a_page_except_those_shown_once(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore
) -> None:
    """A whole TOTP login: the pages hold no handle, token or mfa_token; only what is shown."""
    pages = []
    code = to_code_sent(web, auth0_emulator)
    pages.append(web.post("verify_otp", {"code": code}).text)
    enrolled = web.post("enroll", {"type": "otp"})
    pages.append(enrolled.text)
    secret = re.search(r'data-secret="totp_secret">([A-Z2-7]+)<', enrolled.text)
    assert secret
    shown = set(re.findall(r'data-secret="[a-z_]+">([^<]+)<', enrolled.text))
    pages.append(web.post("confirm", {"code": auth0_emulator.totp_code(secret.group(1))}).text)
    assert 'data-flow-state="authenticated"' in pages[-1]
    cookie = web.cookie() or ""
    text = "\n".join(pages)
    assert "fh1_" not in text and (not cookie or cookie not in text)
    leaked = {s for s in auth0_emulator.issued_secrets() - shown if len(s) >= 6 and s in text}
    # The barcode URI embeds the TOTP secret: shown on purpose, in the same response.
    leaked = {s for s in leaked if not any(s in v for v in shown)}
    assert leaked == set()
    assert repr(web) and "fh1_" not in repr(store)


def test_rate_limited_start_through_the_page(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore
) -> None:
    """A 429 on start: status 429, Retry-After, a clear alert, and no flow kept."""
    auth0_emulator.add_fault(Fault("/passwordless/start", "status_429", seconds=30.0))
    web.page()
    r = web.post("start_passwordless", {"connection": "sms", "phone_number": PHONE})
    assert r.status == 429 and r.headers["retry-after"] == "30"
    assert r.alert and "Too many attempts" in r.alert and "30 seconds" in r.alert
    assert store.list() == []


def test_three_wrong_codes_close_verify_with_the_guards_reason(
    web: Browserish, auth0_emulator: Auth0Emulator
) -> None:
    """After three wrong codes the page offers no verify form and says why; resend works."""
    code = to_code_sent(web, auth0_emulator)
    wrong = str((int(code) + 1) % 10 ** len(code)).zfill(len(code))
    for left in (2, 1, 0):
        r = web.post("verify_otp", {"code": wrong})
        assert r.state == "code_sent"
        if left:
            assert f"{left} attempt" in (r.alert or "")
    assert 'data-trigger="verify_otp"' not in r.text
    assert 'data-closed="verify_otp" data-guard="code_attempts_left"' in r.text
    assert "Send a new code" in r.text
    r = web.post("resend_code")
    assert 'data-trigger="verify_otp"' in r.text
    assert web.post("verify_otp", {"code": auth0_emulator.last_code(PHONE)}).state == "mfa_required"


def test_expired_login_is_said_once_and_forgotten(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore, auth0_clock: FakeClock
) -> None:
    """Past the flow's deadline (an idle hour after the code) the page says it expired once."""
    to_code_sent(web, auth0_emulator)
    auth0_clock.advance(3601.0)
    page = web.page()
    assert page.state == "expired" and "expired" in (page.alert or "")
    assert store.list() == []
    assert web.page().state == "started"


def test_a_code_past_its_lifetime_is_refused_locally_and_a_resend_goes_on(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore, auth0_clock: FakeClock
) -> None:
    """A code typed after its 180 s: nothing is sent, the login stays, and a new code works."""
    code = to_code_sent(web, auth0_emulator)
    sent = len(auth0_emulator.requests)
    auth0_clock.advance(181.0)
    r = web.post("verify_otp", {"code": code})
    assert r.status == 409 and r.state == "code_sent" and r.alert
    assert len(auth0_emulator.requests) == sent
    assert [f.state for f in store.list()] == ["code_sent"]
    again = web.post("resend_code", {})
    assert again.state == "code_sent" and len(auth0_emulator.requests) == sent + 1
