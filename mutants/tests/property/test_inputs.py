"""Bad public inputs are refused with a clear, typed error before any request is sent.

Phone numbers, emails, codes, authenticator ids (``InvalidInputError`` naming the field,
the flow unchanged, the tenant sees nothing), store URLs and tenant base URLs
(``ConfigurationError``, never echoing a password). Hypothesis also feeds arbitrary text:
what the API accepts must be something the tenant accepts too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowengine import Auth0Config, ConfigurationError, InvalidInputError
from flowengine._flow import Flow
from flowengine.stores import open_store
from tests import strategies as S
from tests.summary import record

from .harness import DRIVERS, PHONE, PHONE2, Rig

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(params=DRIVERS)
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    """A tenant with an unenrolled SMS user, and a driver of each kind."""
    made = Rig(str(request.param))
    made.seed_users("new")
    yield made
    made.close()


def refused(rig: Rig, flow: Flow, field: str, call: Callable[[], Any], bad: object) -> None:
    """``call`` raises InvalidInputError for ``field``, changes nothing and sends nothing."""
    record("inputs", cases=1)
    before = flow.to_envelope()
    sent = len(rig.emu.requests)
    with pytest.raises(InvalidInputError) as info:
        call()
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert flow.to_envelope() == before
    assert len(rig.emu.requests) == sent
    if isinstance(bad, str) and len(bad.strip()) >= 6:
        assert bad.strip() not in str(info.value), "the message echoes the input"
    record("inputs", refused=1)


def in_state(rig: Rig, state: str) -> Flow:
    """A flow in ``state`` (started, code_sent, mfa_required or enrollment_pending)."""
    flow = rig.new_flow()
    if state == "started":
        return flow
    rig.call("start_passwordless", flow, connection="sms", phone_number=PHONE)
    if state == "code_sent":
        return flow
    rig.call("verify_otp", flow, rig.emu.last_code(PHONE))
    if state == "enrollment_pending":
        rig.call("enroll", flow, "sms", phone_number=PHONE2)
    return flow


@pytest.mark.parametrize("bad", S.BAD_PHONES)
def test_bad_phone_numbers(rig: Rig, bad: str) -> None:
    """start_passwordless and enroll refuse a phone number that is not E.164."""
    flow = in_state(rig, "started")
    refused(
        rig,
        flow,
        "phone_number",
        lambda: rig.call("start_passwordless", flow, connection="sms", phone_number=bad),
        bad,
    )
    mfa = in_state(rig, "mfa_required")
    for factor in ("sms", "voice"):
        refused(
            rig,
            mfa,
            "phone_number",
            lambda f=factor: rig.call("enroll", mfa, f, phone_number=bad),
            bad,
        )


@pytest.mark.parametrize("bad", S.BAD_EMAILS)
def test_bad_emails(rig: Rig, bad: str) -> None:
    """start_passwordless and enroll refuse a malformed email address."""
    flow = in_state(rig, "started")
    refused(
        rig,
        flow,
        "email",
        lambda: rig.call("start_passwordless", flow, connection="email", email=bad),
        bad,
    )
    mfa = in_state(rig, "mfa_required")
    refused(rig, mfa, "email", lambda: rig.call("enroll", mfa, "email", email=bad), bad)


@pytest.mark.parametrize("bad", S.BAD_CODES)
def test_bad_codes(rig: Rig, bad: str) -> None:
    """Each code-taking step refuses garbage, in the very state where it is legal."""
    flow = in_state(rig, "code_sent")
    refused(rig, flow, "code", lambda: rig.call("verify_otp", flow, bad), bad)
    pending = in_state(rig, "enrollment_pending")
    refused(rig, pending, "binding_code", lambda: rig.call("confirm_oob", pending, bad), bad)
    refused(rig, pending, "otp", lambda: rig.call("confirm_otp", pending, bad), bad)
    mfa = in_state(rig, "mfa_required")
    refused(rig, mfa, "recovery_code", lambda: rig.call("confirm_recovery_code", mfa, bad), bad)


@pytest.mark.parametrize("bad", S.BAD_AUTHENTICATOR_IDS)
def test_bad_authenticator_ids(rig: Rig, bad: str) -> None:
    """challenge refuses an authenticator id that is not ``type|id``."""
    mfa = in_state(rig, "mfa_required")
    refused(
        rig, mfa, "authenticator_id", lambda: rig.call("challenge", mfa, authenticator_id=bad), bad
    )


@pytest.mark.parametrize(
    ("field", "call"),
    [
        ("connection", lambda r, f: r.call("start_passwordless", f, connection="fax")),
        ("factor", lambda r, f: r.call("enroll", f, "carrier-pigeon")),
        ("challenge_type", lambda r, f: r.call("challenge", f, challenge_type="sms")),
        ("password", lambda r, f: r.call("login_password", f, username="a@b.co", password="")),
        ("username", lambda r, f: r.call("login_password", f, username="", password="pw")),
        ("to", lambda r, f: r.call("rollback", f, to="nowhere")),
    ],
)
def test_other_bad_arguments(rig: Rig, field: str, call: Callable[[Rig, Flow], Any]) -> None:
    """Other arguments out of their domain are refused the same way."""
    state = {"factor": "mfa_required", "challenge_type": "mfa_required", "to": "code_sent"}
    flow = in_state(rig, state.get(field, "started"))
    refused(rig, flow, field, lambda: call(rig, flow), None)


@pytest.mark.parametrize("bad", S.BAD_STORE_URLS)
def test_bad_store_urls(bad: str) -> None:
    """open_store refuses what it cannot open safely, without echoing a password."""
    record("inputs", cases=1)
    with pytest.raises(ConfigurationError) as info:
        open_store(bad)
    assert "hunter2-secret" not in str(info.value)
    record("inputs", refused=1)


@pytest.mark.parametrize("bad", S.BAD_BASE_URLS)
def test_bad_base_urls(bad: str) -> None:
    """Auth0Config refuses plain http (but on loopback), other schemes, paths, credentials."""
    record("inputs", cases=1)
    with pytest.raises(ConfigurationError) as info:
        Auth0Config(bad, "app-id", "s3cr3t-client")
    assert str(info.value).startswith("domain: ")
    assert "pass@" not in str(info.value)
    record("inputs", refused=1)


MALFORMED_FULL_URLS = (
    "https://tenant.example.auth0.com:99999",
    "https://tenant.example.auth0.com:0",
    "https://tenant..example.com",
    "https://-tenant.example.com",
    "https://evil.example\\.tenant.example.auth0.com",
)


@pytest.mark.parametrize("bad", MALFORMED_FULL_URLS)
def test_malformed_full_base_urls(bad: str) -> None:
    """A full URL gets the same host and port checks as a bare host.

    (These used to be accepted, and failed only at the first request, as a TransportError.)
    """
    record("inputs", cases=1)
    with pytest.raises(ConfigurationError):
        Auth0Config(bad, "app-id")
    record("inputs", refused=1)


def test_loopback_http_is_allowed() -> None:
    """The one exception: plain http to a loopback emulator."""
    for ok in ("http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:8080"):
        assert Auth0Config(ok, "app-id").base_url == ok


# ------------------------------------------------------------------ arbitrary text


@FUZZ
@given(text=S.any_bad_phones | S.valid_phones | st.text(max_size=24))
def test_any_phone_text(text: str) -> None:
    """Arbitrary text as a phone number: refused before any request, or a real E.164 number."""
    rig = Rig("sync")
    try:
        rig.seed_users("new")
        flow = rig.new_flow()
        try:
            rig.call("start_passwordless", flow, connection="sms", phone_number=text)
        except InvalidInputError as exc:
            record("inputs", cases=1)
            assert exc.field == "phone_number" and rig.emu.requests == []
            assert not S.is_e164(text), "a valid E.164 number was refused"
            record("inputs", refused=1)
        else:
            assert S.is_e164(text), f"{text!r} was accepted"
            assert flow.state == "code_sent"
    finally:
        rig.close()


@FUZZ
@given(text=st.text(max_size=16) | S.code_digits | S.any_garbage_codes)
def test_any_code_text(text: str) -> None:
    """Arbitrary text as a passwordless code: refused untouched, or 4-12 plain ASCII digits."""
    rig = Rig("sync")
    try:
        rig.seed_users("new")
        flow = in_state(rig, "code_sent")
        sent = len(rig.emu.requests)
        stripped = text.strip()
        digits = 4 <= len(stripped) <= 12 and all(c in "0123456789" for c in stripped)
        digits = digits and not S.has_hidden(text)  # a newline is refused, not stripped
        try:
            rig.call("verify_otp", flow, text)
        except InvalidInputError as exc:
            record("inputs", cases=1)
            assert exc.field == "code" and len(rig.emu.requests) == sent
            assert not digits, f"{text!r} was refused"
            record("inputs", refused=1)
        else:
            assert digits, f"{text!r} was accepted"
            assert flow.state in ("code_sent", "mfa_required")
    finally:
        rig.close()


@FUZZ
@given(text=st.emails() | S.bad_emails | st.text(max_size=30))
def test_any_email_text(text: str) -> None:
    """Arbitrary text as an email: refused before any request, or accepted by the tenant."""
    rig = Rig("sync")
    try:
        flow = rig.new_flow()
        try:
            result = rig.call("start_passwordless", flow, connection="email", email=text)
        except InvalidInputError as exc:
            record("inputs", cases=1)
            assert exc.field == "email" and rig.emu.requests == []
            record("inputs", refused=1)
        else:
            assert result.state == "code_sent", "the API accepted an address the tenant refused"
    finally:
        rig.close()


# ------------------------------------------------------------------ hidden characters

#: A newline (log forging), ESC and BEL (terminal control), NEL and LINE SEPARATOR, a
#: zero-width space, a right-to-left override, an isolate, and a byte-order mark.
HIDDEN = ("\n", "\x1b", "\x07", "\x85", "\u2028", "\u200b", "\u202e", "\u2066", "\ufeff")

HIDDEN_STEPS: list[tuple[str, str, Callable[[Rig, Flow, str], Any]]] = [
    (
        "phone_number",
        "started",
        lambda r, f, h: r.call("start_passwordless", f, connection="sms", phone_number=PHONE + h),
    ),
    (
        "email",
        "started",
        lambda r, f, h: r.call(
            "start_passwordless", f, connection="email", email=f"ada{h}@example.com"
        ),
    ),
    (
        "username",
        "started",
        lambda r, f, h: r.call("login_password", f, username=f"ada{h}", password="pw-123456"),
    ),
    (
        "realm",
        "started",
        lambda r, f, h: r.call(
            "login_password", f, username="ada", password="pw-123456", realm=f"Username{h}-DB"
        ),
    ),
    ("code", "code_sent", lambda r, f, h: r.call("verify_otp", f, "123456" + h)),
    (
        "phone_number",
        "mfa_required",
        lambda r, f, h: r.call("enroll", f, "sms", phone_number=h + PHONE2),
    ),
    (
        "email",
        "mfa_required",
        lambda r, f, h: r.call("enroll", f, "email", email=f"ada@exam{h}ple.com"),
    ),
    (
        "authenticator_id",
        "mfa_required",
        lambda r, f, h: r.call("challenge", f, authenticator_id=f"sms|dev_{h}abc"),
    ),
]


@pytest.mark.parametrize("hidden", HIDDEN, ids=ascii)
@pytest.mark.parametrize(
    ("field", "state", "call"), HIDDEN_STEPS, ids=[f"{s[1]}-{s[0]}" for s in HIDDEN_STEPS]
)
def test_hidden_characters_are_refused_by_every_step(
    rig: Rig, field: str, state: str, call: Callable[[Rig, Flow, str], Any], hidden: str
) -> None:
    """A control or format character in an identifier is refused before any request."""
    flow = in_state(rig, state)
    refused(rig, flow, field, lambda: call(rig, flow, hidden), None)


@pytest.mark.parametrize("hidden", HIDDEN, ids=ascii)
def test_hidden_characters_in_a_flow_id_are_refused(rig: Rig, hidden: str) -> None:
    """A caller-chosen flow id holding a hidden character is refused when the flow is made."""
    record("inputs", cases=1)
    with pytest.raises(InvalidInputError) as info:
        rig.new_flow(f"fl_user{hidden}42")
    assert info.value.field == "flow_id" and "user" not in str(info.value)
    record("inputs", refused=1)
