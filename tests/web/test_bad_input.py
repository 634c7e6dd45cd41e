"""Bad input through the page gets a clear message and changes nothing in the store."""

from __future__ import annotations

import json

import pytest

from flowengine.stores.memory import MemoryStore
from flowengine.testing import Auth0Emulator
from tests.web.conftest import Browserish, rows, to_code_sent

BAD_FORMS = {
    "empty code": ("verify_otp", {"code": ""}, "code"),
    "oversized code": ("verify_otp", {"code": "1" * 5000}, "too long"),
    "control characters": ("verify_otp", {"code": "12\x0034"}, "code"),
    "letters for digits": ("verify_otp", {"code": "12ab56"}, "code"),
    "unknown factor": ("enroll", {"type": "carrier-pigeon"}, "factor"),
    "bad seq": ("verify_otp", {"code": "123456", "seq": "x1"}, "seq"),
}


@pytest.mark.parametrize("case", list(BAD_FORMS), ids=list(BAD_FORMS))
def test_bad_form_is_refused_and_store_unchanged(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore, case: str
) -> None:
    """Each bad form answers 4xx with an alert naming the problem; the store is untouched."""
    to_code_sent(web, auth0_emulator)
    action, data, said = BAD_FORMS[case]
    before, sent = rows(store), len(auth0_emulator.requests)
    r = web.post(action, data)
    assert 400 <= r.status < 500
    assert r.alert and said in r.alert
    assert rows(store) == before
    assert len(auth0_emulator.requests) == sent


def test_bad_phone_number_start_stores_nothing(web: Browserish, store: MemoryStore) -> None:
    """A start with a control character in the number stores no flow at all."""
    web.page()
    r = web.post("start_passwordless", {"connection": "sms", "phone_number": "+1555\n0100"})
    assert r.status == 422 and r.alert and "phone_number" in r.alert
    assert rows(store) == []


def test_repeated_field_is_refused(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore
) -> None:
    """A field given twice (a wrong type for a form) is refused before anything runs."""
    to_code_sent(web, auth0_emulator)
    before = rows(store)
    body = f"csrf_token={web.csrf}&seq={web.seq}&code=1&code=2"
    r = web.request(
        "POST",
        "/login/verify_otp",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded", "origin": web.origin},
    )
    assert r.status == 422 and "more than once" in (r.alert or "")
    assert rows(store) == before


def test_json_wrong_type_is_a_problem(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore
) -> None:
    """A JSON body with a number for ``code`` is an RFC 9457 problem; nothing changes."""
    to_code_sent(web, auth0_emulator)
    before = rows(store)
    r = web.request(
        "POST",
        "/login/verify_otp",
        content=json.dumps({"csrf_token": web.csrf, "code": 123456}),
        headers={
            "content-type": "application/json",
            "accept": "application/json",
            "origin": web.origin,
        },
    )
    assert r.status == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = json.loads(r.text)
    assert problem["field"] == "code" and "string" in problem["detail"]
    assert rows(store) == before


def test_missing_csrf_token(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore
) -> None:
    """Without the session's CSRF token the form is refused and nothing is sent."""
    code = to_code_sent(web, auth0_emulator)
    before, sent = rows(store), len(auth0_emulator.requests)
    r = web.post("verify_otp", {"code": code}, csrf=False)
    assert r.status == 403 and "expired" in (r.alert or "")
    r = web.post("verify_otp", {"code": code, "csrf_token": "forged"}, csrf=False)
    assert r.status == 403
    assert rows(store) == before and len(auth0_emulator.requests) == sent


def test_foreign_origin(web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore) -> None:
    """A POST whose Origin is another site is refused even with the right token."""
    code = to_code_sent(web, auth0_emulator)
    before = rows(store)
    r = web.post("verify_otp", {"code": code}, headers={"origin": "https://evil.example"})
    assert r.status == 403 and "not sent from this site" in (r.alert or "")
    assert rows(store) == before


def test_forged_cookie(web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore) -> None:
    """A cookie with a changed byte is no session: clear message, nothing resumed."""
    code = to_code_sent(web, auth0_emulator)
    before = rows(store)
    value = web.cookie()
    assert value
    body, tag = value.split(".")
    web.set_cookie(body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + tag)
    r = web.post("verify_otp", {"code": code})
    assert r.status == 403 and "could not be verified" in (r.alert or "")
    assert r.state == "started"
    assert rows(store) == before


def test_flow_id_as_cookie(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore
) -> None:
    """A bare flow id in place of the cookie resumes nothing."""
    to_code_sent(web, auth0_emulator)
    before = rows(store)
    web.set_cookie(before[0][0])
    page = web.page()
    assert page.state == "started" and "could not be verified" in (page.alert or "")
    assert rows(store) == before


def test_stale_cookie(web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore) -> None:
    """An old cookie replayed after the flow moved on is refused with a clear message."""
    code = to_code_sent(web, auth0_emulator)
    old, old_csrf, old_seq = web.cookie(), web.csrf, web.seq
    assert old
    assert web.post("verify_otp", {"code": code}).state == "mfa_required"
    before, sent = rows(store), len(auth0_emulator.requests)
    web.set_cookie(old)
    web.csrf, web.seq = old_csrf, old_seq
    r = web.post("list_authenticators", follow=False)
    assert r.status == 409 and "already taken" in (r.alert or "")
    assert rows(store) == before and len(auth0_emulator.requests) == sent


def test_step_without_a_login(web: Browserish, store: MemoryStore) -> None:
    """A step posted before any start says there is no login in progress."""
    web.page()
    r = web.post("verify_otp", {"code": "123456"})
    assert r.status == 400 and "No login is in progress" in (r.alert or "")
    assert rows(store) == []


def test_oversized_body(web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore) -> None:
    """A body over the limit is refused as too large."""
    to_code_sent(web, auth0_emulator)
    before = rows(store)
    r = web.post("verify_otp", {"code": "1", "pad": "x" * 40_000})
    assert r.status == 413
    assert rows(store) == before


def test_unknown_route(web: Browserish) -> None:
    """An unknown step is a 404, and dev routes do not exist without a dev tenant."""
    web.page()
    assert web.post("frobnicate").status == 404
    assert web.post("_dev/advance").status == 404


def test_too_many_fields(
    web: Browserish, auth0_emulator: Auth0Emulator, store: MemoryStore
) -> None:
    """A form with hundreds of fields is refused as unreadable, not a server error."""
    to_code_sent(web, auth0_emulator)
    before = rows(store)
    r = web.post("verify_otp", {f"f{i}": "x" for i in range(100)})
    assert r.status == 400 and "too many fields" in (r.alert or "")
    assert rows(store) == before
