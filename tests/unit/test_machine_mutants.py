"""The machine's records, guards and effects, pinned down value by value.

Written against the mutants of ``flowengine/_machine.py`` that earlier tests let survive
(``scripts/mutation flowengine/_machine.py``). Effects are checked through a flow's steps
(the resulting context, state, deadline and produced data), never through how they are built.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from transitions import MachineError

from flowengine import _machine as m
from flowengine._config import Auth0Config
from flowengine._context import Context, TenantSettings
from flowengine._flow import Flow, StepResult
from flowengine._wire import Answer

from .flowstates import NOW, PARAMS, flow_in

CONFIG = Auth0Config("tenant.example.auth0.com", "app-id", "app-secret")
ROOT = Path(__file__).resolve().parents[2]
LATER = NOW + 7.0


def step(
    state: str,
    trigger: str,
    kind: str,
    data: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    *,
    factor: str = "sms",
    now: float = LATER,
    **ctx: Any,
) -> tuple[Flow, StepResult]:
    """Run one step of a flow in ``state`` whose answer is ``kind`` with ``data``."""
    flow = flow_in(state, factor, **ctx)
    prepared = flow.prepare(trigger, PARAMS[trigger] if params is None else params, CONFIG, NOW)
    result = flow.apply_outcome(prepared, Answer(kind, data or {}, 200), now)
    return flow, result


def model(now: float = NOW, **ctx: Any) -> m.GuardModel:
    """A guard model in mfa_required over a context of ``ctx``."""
    return m.GuardModel(m.MFA_REQUIRED, Context(**ctx), now, "tokens")


# ------------------------------------------------------------------ records


def test_call_labels() -> None:
    """A call's label is its method and path, with the grant type's short name if any."""
    assert m.TRIGGERS["list_authenticators"].call.label() == "GET /mfa/authenticators"  # type: ignore[union-attr]
    assert m.TRIGGERS["confirm_oob"].call.label() == "POST /oauth/token (mfa-oob)"  # type: ignore[union-attr]
    assert m.TRIGGERS["refresh"].call.label() == "POST /oauth/token (refresh_token)"  # type: ignore[union-attr]
    assert m.Auth0Call("PUT", "/x", "urn:other").label() == "PUT /x (urn:other)"


def test_self_rows_stay_in_their_state() -> None:
    """_self maps each outcome kind to the state itself."""
    assert m._self("code_sent", "wrong_code", "pending") == {
        "wrong_code": "code_sent",
        "pending": "code_sent",
    }
    assert m._self("started") == {}


def test_confirm_rows() -> None:
    """Confirmation rows: tokens, chained MFA, failures, wrong codes; code_expired if pending."""
    base = {
        "tokens": m.AUTHENTICATED,
        "mfa_required": m.MFA_REQUIRED,
        "expired": m.EXPIRED,
        "rejected": m.REJECTED,
    }
    assert m._confirm(m.MFA_REQUIRED) == {**base, "wrong_code": m.MFA_REQUIRED}
    assert m._confirm(m.CHALLENGE_PENDING, "pending", "slow_down") == {
        **base,
        "wrong_code": m.CHALLENGE_PENDING,
        "pending": m.CHALLENGE_PENDING,
        "slow_down": m.CHALLENGE_PENDING,
        "code_expired": m.MFA_REQUIRED,
    }
    assert m._confirm(m.ENROLLMENT_PENDING)["code_expired"] == m.MFA_REQUIRED


def test_guard_model_holds_a_plain_state_name() -> None:
    """A guard model keeps the state as a plain str, and the context, time and outcome."""
    ctx = Context(factor="otp")
    gm = m.GuardModel(m.State.CODE_SENT, ctx, 12.0, "wrong_code")
    assert type(gm.state) is str and gm.state == "code_sent"
    assert gm.context is ctx and gm.now == 12.0 and gm.outcome == "wrong_code"


# ------------------------------------------------------------------ guards


def test_send_guards() -> None:
    """no_unconfirmed_send and send_unconfirmed are each other's opposite."""
    assert m.no_unconfirmed_send(model()) is True
    assert m.no_unconfirmed_send(model(send_unconfirmed=True)) is False
    assert m.send_unconfirmed(model()) is False
    assert m.send_unconfirmed(model(send_unconfirmed=True)) is True


def test_code_attempts_left_allows_three_tries() -> None:
    """Two wrong codes leave a try; three spend the code."""
    assert m.code_attempts_left(model(code_attempts=2)) is True
    assert m.code_attempts_left(model(code_attempts=3)) is False


def test_code_alive_until_its_expiry() -> None:
    """The code lives strictly before its expiry; without an expiry it is dead."""
    assert m.code_alive(model(NOW, code_expires_at=NOW + 1)) is True
    assert m.code_alive(model(NOW, code_expires_at=NOW)) is False
    assert m.code_alive(model(0.5)) is False


def test_mfa_credential_guards() -> None:
    """has_mfa_credential needs any token; has_mfa_token needs a real mfa_token."""
    assert m.has_mfa_credential(model(mfa_token="t")) is True
    assert m.has_mfa_credential(model(mfa_token="")) is False
    assert m.has_mfa_credential(model()) is False
    assert m.has_mfa_token(model(mfa_token="t", mfa_token_kind="mfa_token")) is True
    assert m.has_mfa_token(model(mfa_token="t", mfa_token_kind="access_token")) is False
    assert m.has_mfa_token(model(mfa_token=None, mfa_token_kind="mfa_token")) is False
    assert m.has_mfa_token(model(mfa_token="", mfa_token_kind="mfa_token")) is False


def test_pending_factor_guards() -> None:
    """binding_code_expected, otp_expected and push_expected read the pending factor."""
    assert m.binding_code_expected(model(binding_method="prompt", oob_code="o")) is True
    assert m.binding_code_expected(model(binding_method="prompt")) is False
    assert m.binding_code_expected(model(binding_method=None, oob_code="o")) is False
    assert m.otp_expected(model(factor="otp")) is True
    assert m.otp_expected(model(factor="sms")) is False
    assert m.push_expected(model(factor="push", oob_code="o")) is True
    assert m.push_expected(model(factor="push")) is False
    assert m.push_expected(model(factor="sms", oob_code="o")) is False


def test_recovery_code_guard() -> None:
    """A recovery code in doubt is not offered again."""
    assert m.recovery_code_not_in_doubt(model()) is True
    assert m.recovery_code_not_in_doubt(model(recovery_code_in_doubt=True)) is False


def test_poll_due_from_the_next_poll_time_on() -> None:
    """A poll is due at or after next_poll_at, and always when none is set."""
    assert m.poll_due(model(NOW, next_poll_at=NOW)) is True
    assert m.poll_due(model(NOW, next_poll_at=NOW + 1)) is False
    assert m.poll_due(model(NOW + 2, next_poll_at=NOW + 1)) is True
    assert m.poll_due(model(0.0)) is True


def test_guard_hints() -> None:
    """Each guard's hint is the sentence the caller sees when it says no."""
    assert m.GUARD_HINTS["code_attempts_left"] == (
        "three wrong codes spent this code; call resend_code"
    )
    assert m.GUARDS["poll_due"] is m.poll_due


# ------------------------------------------------------------------ factors


def test_requirement_factors() -> None:
    """Requirement types map to factor kinds; unknown types are kept; nothing is empty."""
    assert m.requirement_factors(None) == set()
    assert m.requirement_factors(["phone", "auth0", "recovery-code", "weird"]) == {
        "sms",
        "voice",
        "push",
        "recovery-code",
        "weird",
    }
    assert m.requirement_factors(["otp", "push-notification", "email"]) == {"otp", "push", "email"}


@pytest.mark.parametrize(
    ("item", "factor"),
    [
        ({"id": "sms|dev_1"}, "sms"),
        ({"id": "voice|dev_1"}, "voice"),
        ({"id": "email|dev_1"}, "email"),
        ({"id": "push|dev_1"}, "push"),
        ({"id": "totp|dev_1"}, "otp"),
        ({"id": "otp|dev_1"}, "otp"),
        ({"id": "recovery-code|dev_1"}, "recovery-code"),
        ({"id": "sms|a|b"}, "sms"),
        ({"id": "sms", "oob_channel": "voice"}, "voice"),
        ({"id": "x|1", "oob_channel": "auth0"}, "push"),
        ({"oob_channel": "email"}, "email"),
        ({"authenticator_type": "otp"}, "otp"),
        ({"id": "x|1", "authenticator_type": "oob"}, "oob"),
        ({}, "None"),
    ],
)
def test_factor_of(item: dict[str, Any], factor: str) -> None:
    """An authenticator's kind comes from its id prefix, else its channel, else its type."""
    assert m.factor_of(item) == factor


def test_offered_factors() -> None:
    """Requirements decide what is on offer; else the listed factors; else everything."""
    everything = ("otp", "sms", "voice", "email", "push")
    assert m.offered_factors(Context()) == {"challenge": everything, "enroll": everything}
    listed = Context(enrolled_factors="push otp")
    assert m.offered_factors(listed) == {"challenge": ("otp", "push"), "enroll": everything}
    assert m.offered_factors(Context(enrolled_factors="")) == {
        "challenge": (),
        "enroll": everything,
    }
    asked = Context(mfa_requirements={"challenge": ["recovery-code", "phone"]})
    assert m.offered_factors(asked) == {
        "challenge": ("sms", "voice", "recovery-code"),
        "enroll": (),
    }
    enroll = Context(mfa_requirements={"enroll": ["recovery-code", "otp"]})
    assert m.offered_factors(enroll) == {"challenge": (), "enroll": ("otp",)}
    empty = Context(mfa_requirements={"challenge": [], "enroll": []}, enrolled_factors="sms")
    assert m.offered_factors(empty)["challenge"] == ("sms",)


def test_challenge_wants() -> None:
    """A challenge asks for an authenticator's kind, or for the kinds of its challenge types."""
    assert m._challenge_wants({"authenticator_id": "sms|dev_1|x"}) == ("sms|…", {"sms"})
    assert m._challenge_wants({"challenge_type": "otp"}) == ("challenge_type otp", {"otp"})
    assert m._challenge_wants({"challenge_type": "oob"}) == (
        "challenge_type oob",
        {"sms", "voice", "email", "push"},
    )
    assert m._challenge_wants({"challenge_type": "otp oob"}) == (
        "challenge_type otp oob",
        {"otp", "sms", "voice", "email", "push"},
    )
    assert m._challenge_wants({}) is None
    assert m._challenge_wants({"authenticator_id": "", "challenge_type": ""}) is None


def test_factor_refusal_messages() -> None:
    """Each refusal names its guard and a hint listing what is on offer."""
    ask_otp = Context(mfa_requirements={"challenge": ["otp"]})
    ask_enroll = Context(mfa_requirements={"enroll": ["otp", "phone"]})
    listed = Context(enrolled_factors="sms")
    none_listed = Context(enrolled_factors="")
    only_recovery = Context(mfa_requirements={"challenge": ["recovery-code"]})
    assert m.factor_refusal("enroll", Context(), {"factor": "push"}) is None
    assert m.factor_refusal("enroll", ask_enroll, {"factor": "voice"}) is None
    assert m.factor_refusal("enroll", ask_enroll, {"factor": "push"}) == (
        "mfa_requirements",
        "Auth0 asked to enroll one of: otp, sms, voice; not push",
    )
    assert m.factor_refusal("enroll", ask_otp, {"factor": "otp"}) == (
        "mfa_requirements",
        "Auth0 asked for a challenge of one of: otp; not an enrollment",
    )
    assert m.factor_refusal("challenge", Context(), {"challenge_type": "otp"}) is None
    assert m.factor_refusal("challenge", ask_enroll, {}) == (
        "mfa_requirements",
        "Auth0 asked to enroll one of: otp, sms, voice; there is nothing to challenge",
    )
    assert m.factor_refusal("challenge", none_listed, {}) == (
        "enrolled_factors",
        "Auth0 asked to enroll one of: otp, sms, voice, email, push; there is nothing to challenge",
    )
    assert m.factor_refusal("challenge", only_recovery, {}) == (
        "mfa_requirements",
        "Auth0 asked to enroll one of: ; there is nothing to challenge",
    )
    assert m.factor_refusal("challenge", ask_otp, {}) is None
    assert m.factor_refusal("challenge", ask_otp, {"challenge_type": "otp"}) is None
    assert m.factor_refusal("challenge", ask_otp, {"challenge_type": "oob"}) == (
        "mfa_requirements",
        "Auth0 asked for a challenge of one of: otp; not challenge_type oob",
    )
    assert m.factor_refusal("challenge", listed, {"authenticator_id": "sms|d"}) is None
    assert m.factor_refusal("challenge", listed, {"authenticator_id": "email|d"}) == (
        "enrolled_factors",
        "the user has no authenticator for email|…; enrolled: sms: challenge one of those",
    )
    ask_two = Context(mfa_requirements={"challenge": ["otp", "email"]})
    assert m.factor_refusal("enroll", ask_two, {"factor": "otp"}) == (
        "mfa_requirements",
        "Auth0 asked for a challenge of one of: otp, email; not an enrollment",
    )
    ask_two = Context(mfa_requirements={"challenge": ["sms", "email"]})
    assert m.factor_refusal("confirm_otp", ask_two, {}) == (
        "mfa_requirements",
        "Auth0 asked for one of: sms, email; not otp",
    )
    assert m.factor_refusal("confirm_otp", ask_otp, {}) is None
    assert m.factor_refusal("confirm_otp", listed, {}) is None
    assert m.factor_refusal("confirm_recovery_code", ask_otp, {}) == (
        "mfa_requirements",
        "Auth0 asked for one of: otp; not recovery-code",
    )
    assert m.factor_refusal("confirm_otp", ask_enroll, {}) == (
        "mfa_requirements",
        "Auth0 asked for one of: an enrollment; not otp",
    )
    assert m.factor_refusal("confirm_recovery_code", only_recovery, {}) is None
    assert m.factor_refusal("list_authenticators", ask_otp, {}) is None


def test_factor_guards_are_described() -> None:
    """Both refusal guards carry a description for the review."""
    assert set(m.FACTOR_GUARDS) == {"mfa_requirements", "enrolled_factors"}


# ------------------------------------------------------------------ effects


def test_code_sent_records_where_and_when() -> None:
    """A sent code records the connection and address, its time, expiry and the send count."""
    settings = TenantSettings(passwordless_code_ttl=120).to_json()
    flow, result = step(
        m.STARTED,
        "start_passwordless",
        "code_sent",
        params={"connection": "email", "email": "ada@example.com"},
        settings=settings,
        sends=1,
        code_attempts=2,
    )
    ctx = flow.context
    assert (ctx.connection, ctx.email, ctx.phone_number) == ("email", "ada@example.com", None)
    assert (ctx.send_unconfirmed, ctx.code_attempts, ctx.sends) == (False, 0, 2)
    assert (ctx.code_sent_at, ctx.code_expires_at) == (LATER, LATER + 120)
    assert result.data == {}
    assert flow.expires_at == LATER + m.IDLE_FLOW_TTL


def test_resend_keeps_the_address_and_clears_the_doubt() -> None:
    """A resend from a start in doubt keeps where the code went and counts the send."""
    flow, _ = step(
        m.STARTED,
        "resend_code",
        "code_sent",
        params={},
        send_unconfirmed=True,
        connection="sms",
        phone_number="+15550100",
        sends=1,
    )
    ctx = flow.context
    assert (ctx.connection, ctx.phone_number, ctx.sends) == ("sms", "+15550100", 2)
    assert ctx.send_unconfirmed is False
    assert ctx.code_expires_at == LATER + 180


def test_wrong_code_counts_first_and_second_factor_tries_apart() -> None:
    """A wrong passwordless code counts code_attempts; a wrong MFA code counts mfa_attempts."""
    flow, result = step(m.CODE_SENT, "verify_otp", "wrong_code", code_attempts=1)
    assert (flow.context.code_attempts, flow.context.mfa_attempts) == (2, 0)
    assert result.data == {"attempts": 2}
    flow, result = step(
        m.CHALLENGE_PENDING, "confirm_otp", "wrong_code", factor="otp", mfa_attempts=1
    )
    assert (flow.context.code_attempts, flow.context.mfa_attempts) == (0, 2)
    assert result.data == {"attempts": 2}


def test_wrong_credentials_count_password_attempts() -> None:
    """A wrong password counts one password attempt and produces nothing."""
    flow, result = step(m.STARTED, "login_password", "wrong_credentials", password_attempts=1)
    assert flow.context.password_attempts == 2
    assert result.data == {}


def test_mfa_required_after_the_first_factor() -> None:
    """An mfa_required answer to a first factor closes it and holds the new mfa_token."""
    settings = TenantSettings(mfa_token_ttl=90).to_json()
    flow, result = step(
        m.CODE_SENT,
        "verify_otp",
        "mfa_required",
        {"mfa_token": "tok-2", "mfa_requirements": None},
        settings=settings,
        must_enroll=True,
        mfa_requirements={"challenge": ["sms"]},
    )
    ctx = flow.context
    assert (ctx.mfa_token, ctx.mfa_token_kind) == ("tok-2", "mfa_token")
    assert ctx.mfa_token_expires_at == LATER + 90
    assert (ctx.mfa_requested, ctx.must_enroll, ctx.mfa_requirements) == (True, False, None)
    assert ctx.first_factor == "verify_otp"
    assert (ctx.code_attempts, ctx.code_sent_at, ctx.code_expires_at) == (0, None, None)
    assert ctx.chained_mfa == 0
    assert ctx.phone_number == "+15550100"  # kept: only the code's fields are the first factor's
    assert result.data == {}
    assert flow.expires_at == LATER + 90


def test_password_login_keeps_username_and_realm() -> None:
    """A password first factor records who logged in and in which realm."""
    flow, _ = step(m.STARTED, "login_password", "mfa_required", {"mfa_token": "tok"})
    assert flow.context.username == "ada@example.com"
    assert flow.context.realm == "Username-Password-Authentication"
    assert flow.context.first_factor == "login_password"


def test_mfa_required_reads_the_requirements() -> None:
    """A challenge list names the enrolled factors; an enroll list means the user must enroll."""
    req = {"challenge": ["otp", "phone", "recovery-code"]}
    flow, result = step(
        m.CODE_SENT, "verify_otp", "mfa_required", {"mfa_token": "t", "mfa_requirements": req}
    )
    assert flow.context.mfa_requirements == req
    assert flow.context.enrolled_factors == "otp sms voice"
    assert flow.context.must_enroll is False
    assert result.data == {"mfa_requirements": req}
    only_recovery = {"challenge": ["recovery-code"]}
    flow, _ = step(
        m.CODE_SENT,
        "verify_otp",
        "mfa_required",
        {"mfa_token": "t", "mfa_requirements": only_recovery},
        enrolled_factors="sms",
    )
    assert flow.context.enrolled_factors is None
    enroll = {"enroll": ["otp"]}
    flow, result = step(
        m.CODE_SENT,
        "verify_otp",
        "mfa_required",
        {"mfa_token": "t", "mfa_requirements": enroll},
        enrolled_factors="sms",
    )
    assert flow.context.must_enroll is True
    assert flow.context.enrolled_factors == "sms"
    assert result.data == {"mfa_requirements": enroll}
    flow, _ = step(
        m.CODE_SENT,
        "verify_otp",
        "mfa_required",
        {"mfa_token": "t", "mfa_requirements": {}},
        mfa_requirements={"enroll": ["otp"]},
    )
    assert flow.context.mfa_requirements is None and flow.context.must_enroll is False
    flow, result = step(
        m.CODE_SENT,
        "verify_otp",
        "mfa_required",
        {"mfa_token": "t", "mfa_requirements": {"challenge": []}},
        enrolled_factors="sms",
    )
    assert flow.context.mfa_requirements == {"challenge": []}
    assert (flow.context.must_enroll, flow.context.enrolled_factors) == (False, "sms")
    assert result.data == {"mfa_requirements": {"challenge": []}}


def test_chained_mfa_after_a_second_factor() -> None:
    """An mfa_required answer to a second factor counts a chained MFA and drops the pending one."""
    flow, _ = step(
        m.CHALLENGE_PENDING,
        "confirm_oob",
        "mfa_required",
        {"mfa_token": "tok-3"},
        chained_mfa=1,
        first_factor="verify_otp",
        code_attempts=2,
    )
    ctx = flow.context
    assert ctx.chained_mfa == 2
    assert (ctx.first_factor, ctx.code_attempts) == ("verify_otp", 2)
    assert (ctx.factor, ctx.oob_code, ctx.binding_method, ctx.mfa_code_expires_at) == (
        None,
        None,
        None,
        None,
    )
    assert ctx.mfa_token == "tok-3"


def test_mfa_access_token_is_held_for_its_own_lifetime() -> None:
    """An MFA-audience access token is held as the credential for its expires_in."""
    tokens = {"access_token": "mfa-at", "expires_in": 45}
    flow, result = step(m.STARTED, "login_password", "mfa_access_token", {"tokens": tokens})
    ctx = flow.context
    assert (ctx.mfa_token, ctx.mfa_token_kind) == ("mfa-at", "access_token")
    assert ctx.mfa_token_expires_at == LATER + 45
    assert ctx.first_factor == "login_password"
    assert result.data == {}
    settings = TenantSettings(mfa_token_ttl=70).to_json()
    flow, _ = step(
        m.STARTED,
        "login_password",
        "mfa_access_token",
        {"tokens": {"access_token": "a"}},
        settings=settings,
        factor="sms",
    )
    assert flow.context.mfa_token_expires_at == LATER + 70


def test_mfa_access_token_starts_with_no_pending_factor() -> None:
    """A new MFA-audience credential drops any pending factor the context still carried."""
    flow, _ = step(
        m.STARTED,
        "login_password",
        "mfa_access_token",
        {"tokens": {"access_token": "a", "expires_in": 30}},
        factor="sms",
        oob_code="stale-oob",
        mfa_attempts=2,
        authenticator_id="sms|d",
    )
    ctx = flow.context
    assert (ctx.factor, ctx.oob_code, ctx.mfa_attempts, ctx.authenticator_id) == (
        None,
        None,
        0,
        None,
    )


def test_tokens_after_a_first_factor() -> None:
    """Tokens for a first factor close it, drop the MFA credential and are produced."""
    tokens = {"access_token": "at", "expires_in": 60}
    flow, result = step(m.CODE_SENT, "verify_otp", "tokens", {"tokens": tokens})
    ctx = flow.context
    assert ctx.tokens == tokens and ctx.first_factor == "verify_otp"
    assert (ctx.second_factor, ctx.code_attempts, ctx.code_expires_at) == (None, 0, None)
    assert result.data == {"tokens": tokens}
    assert flow.expires_at == LATER + m.IDLE_FLOW_TTL


def test_tokens_after_a_second_factor_hand_out_the_new_recovery_code() -> None:
    """A recovery-code grant's new code is produced apart and never stored with the tokens."""
    tokens = {"access_token": "at", "recovery_code": "NEWCODE"}
    flow, result = step(
        m.MFA_REQUIRED, "confirm_recovery_code", "tokens", {"tokens": tokens}, first_factor="x"
    )
    ctx = flow.context
    assert ctx.tokens == {"access_token": "at"}
    assert (ctx.second_factor, ctx.first_factor) == ("confirm_recovery_code", "x")
    assert (ctx.mfa_token, ctx.mfa_token_kind, ctx.mfa_token_expires_at) == (None, None, None)
    assert result.data == {"recovery_code": "NEWCODE", "tokens": {"access_token": "at"}}
    assert tokens == {"access_token": "at", "recovery_code": "NEWCODE"}  # Auth0's data untouched


def test_tokens_after_a_pending_factor_drop_it() -> None:
    """Tokens after a confirmation drop the pending factor and the MFA credential."""
    flow, result = step(
        m.CHALLENGE_PENDING, "confirm_oob", "tokens", {"tokens": {"access_token": "at"}}
    )
    ctx = flow.context
    assert (ctx.factor, ctx.oob_code, ctx.mfa_token) == (None, None, None)
    assert ctx.second_factor == "confirm_oob"
    assert result.data == {"tokens": {"access_token": "at"}}


def test_authenticators_name_the_active_factors() -> None:
    """A list keeps the active factors (not recovery codes), sorted; none leaves it unset."""
    items = [
        {"id": "sms|1", "active": True},
        {"id": "totp|2", "active": True, "authenticator_type": "otp"},
        {"id": "email|3", "active": False},
        {"id": "recovery-code|4", "active": True, "authenticator_type": "recovery-code"},
    ]
    flow, result = step(
        m.MFA_REQUIRED, "list_authenticators", "authenticators", {"authenticators": items}
    )
    assert flow.context.enrolled_factors == "otp sms"
    assert result.data == {"authenticators": items}
    flow, _ = step(
        m.MFA_REQUIRED,
        "list_authenticators",
        "authenticators",
        {"authenticators": [{"id": "sms|1", "active": False}]},
        enrolled_factors="sms",
    )
    assert flow.context.enrolled_factors is None


def test_enrolled_sms_leaves_an_oob_factor_pending() -> None:
    """An oob enrollment holds the oob code, channel, binding method and code expiry."""
    settings = TenantSettings(mfa_code_ttl=100).to_json()
    data = {
        "authenticator_type": "oob",
        "factor": "sms",
        "oob_code": "oob-1",
        "oob_channel": "sms",
        "binding_method": "prompt",
        "recovery_codes": ["R1"],
    }
    flow, result = step(
        m.MFA_REQUIRED, "enroll", "enrolled", data, settings=settings, mfa_attempts=2
    )
    ctx = flow.context
    assert (ctx.factor, ctx.authenticator_type, ctx.oob_channel) == ("sms", "oob", "sms")
    assert (ctx.oob_code, ctx.binding_method) == ("oob-1", "prompt")
    assert ctx.mfa_code_expires_at == LATER + 100
    assert (ctx.poll_interval, ctx.next_poll_at, ctx.mfa_attempts) == (None, None, 0)
    assert result.data == {"factor": "sms", "recovery_codes": ["R1"]}
    assert flow.state == m.ENROLLMENT_PENDING
    assert flow.expires_at == LATER + 100  # the code dies before the mfa_token


def test_enrolled_push_starts_polling() -> None:
    """A push enrollment sets the poll interval and the first poll time."""
    data = {
        "authenticator_type": "oob",
        "factor": "push",
        "oob_code": "oob-2",
        "oob_channel": "auth0",
    }
    flow, result = step(m.MFA_REQUIRED, "enroll", "enrolled", data, params={"factor": "push"})
    ctx = flow.context
    assert (ctx.poll_interval, ctx.next_poll_at) == (5.0, LATER + 5.0)
    assert (ctx.binding_method, ctx.oob_channel) == (None, "auth0")
    assert result.data == {"factor": "push", "retry_after": 5.0}


def test_enrolled_otp_hands_out_its_secret_once() -> None:
    """A TOTP enrollment produces the secret, barcode and recovery codes and holds no oob code."""
    data = {
        "authenticator_type": "otp",
        "factor": "otp",
        "totp_secret": "SECRET",
        "barcode_uri": "otpauth://x",
        "recovery_codes": ["R"],
    }
    flow, result = step(
        m.MFA_REQUIRED, "enroll", "enrolled", data, params={"factor": "otp"}, oob_channel="sms"
    )
    ctx = flow.context
    assert (ctx.factor, ctx.authenticator_type) == ("otp", "otp")
    assert (ctx.oob_code, ctx.oob_channel, ctx.mfa_code_expires_at) == (None, None, None)
    assert result.data == {
        "factor": "otp",
        "secret": "SECRET",
        "barcode_uri": "otpauth://x",
        "recovery_codes": ["R"],
    }
    assert "SECRET" not in repr(ctx) and "SECRET" not in str(ctx.to_json())
    assert flow.expires_at == NOW + 600  # no code: the mfa_token's lifetime


def test_already_enrolled_says_so() -> None:
    """An already-active authenticator is noted and the caller told to challenge it."""
    flow, result = step(m.MFA_REQUIRED, "enroll", "already_enrolled")
    assert flow.context.enrolled is True
    assert result.data == {"hint": "the user already has an active authenticator: challenge it"}


def test_challenged_oob_and_otp() -> None:
    """A challenge records the factor, type and authenticator; oob also its code."""
    data = {"challenge_type": "oob", "factor": "sms", "oob_code": "c-1", "binding_method": "prompt"}
    flow, result = step(
        m.MFA_REQUIRED, "challenge", "challenged", data, params={"authenticator_id": "sms|d1"}
    )
    ctx = flow.context
    assert (ctx.factor, ctx.challenge_type, ctx.authenticator_id) == ("sms", "oob", "sms|d1")
    assert (ctx.oob_code, ctx.binding_method, ctx.mfa_code_expires_at) == (
        "c-1",
        "prompt",
        LATER + 300,
    )
    assert result.data == {"factor": "sms"}
    data = {"challenge_type": "otp", "factor": "otp"}
    flow, result = step(
        m.MFA_REQUIRED,
        "challenge",
        "challenged",
        data,
        params={"challenge_type": "otp"},
        authenticator_id="old",
        oob_code="old-oob",
    )
    ctx = flow.context
    assert (ctx.factor, ctx.challenge_type, ctx.authenticator_id) == ("otp", "otp", None)
    assert (ctx.oob_code, ctx.mfa_code_expires_at) == (None, None)
    assert result.data == {"factor": "otp"}


def test_must_enroll_hints() -> None:
    """must_enroll says enroll only when the user has nothing; else it names what to challenge."""
    flow, result = step(
        m.MFA_REQUIRED, "challenge", "must_enroll", {"description": "User is NOT ENROLLED"}
    )
    assert flow.context.must_enroll is True
    assert result.data == {"hint": "the user has no usable authenticator: enroll one"}
    flow, result = step(
        m.MFA_REQUIRED,
        "challenge",
        "must_enroll",
        {"description": "no such authenticator"},
        params={"challenge_type": "otp"},
    )
    assert flow.context.must_enroll is False
    assert result.data == {
        "hint": "the user has no authenticator for 'otp'; "
        "list_authenticators shows the enrolled ones"
    }
    flow, result = step(
        m.MFA_REQUIRED,
        "challenge",
        "must_enroll",
        {"description": "User is not enrolled"},
        params={"authenticator_id": "sms|d"},
        enrolled_factors="otp sms",
    )
    assert flow.context.must_enroll is False
    assert result.data == {
        "hint": "the user has no authenticator for 'sms|d'; "
        "enrolled: otp, sms: challenge one of those"
    }
    flow, result = step(
        m.MFA_REQUIRED,
        "challenge",
        "must_enroll",
        {"description": "User is not enrolled"},
        params={"challenge_type": "oob"},
    )
    assert flow.context.must_enroll is True
    assert result.data == {"hint": "the user has no usable authenticator: enroll one"}
    flow, result = step(m.MFA_REQUIRED, "challenge", "must_enroll", {}, params={})
    assert flow.context.must_enroll is True


def test_code_expired_drops_the_pending_factor() -> None:
    """An expired binding code drops the pending factor, keeps the mfa_token and says so."""
    flow, result = step(m.CHALLENGE_PENDING, "confirm_oob", "code_expired")
    ctx = flow.context
    assert (ctx.factor, ctx.oob_code, ctx.mfa_code_expires_at) == (None, None, None)
    assert ctx.mfa_token == "Fe26.2*test-mfa-token"
    assert result.data == {
        "hint": "the MFA code expired; the mfa_token still lives: challenge (or enroll) again"
    }
    assert flow.state == m.MFA_REQUIRED
    assert flow.expires_at == NOW + 600


def test_still_pending_schedules_the_next_poll() -> None:
    """A pending push keeps its interval, schedules the next poll and counts it."""
    flow, result = step(
        m.CHALLENGE_PENDING, "poll_push", "pending", factor="push", poll_interval=7.0, polls=2
    )
    ctx = flow.context
    assert (ctx.poll_interval, ctx.next_poll_at, ctx.polls) == (7.0, LATER + 7.0, 3)
    assert result.data == {"pending": True, "retry_after": 7.0}
    flow, result = step(
        m.CHALLENGE_PENDING, "poll_push", "pending", factor="push", poll_interval=None
    )
    assert flow.context.poll_interval == 5.0
    assert result.data == {"pending": True, "retry_after": 5.0}


def test_slow_down_lengthens_the_interval_up_to_a_cap() -> None:
    """slow_down adds five seconds to the interval, never beyond thirty."""
    flow, result = step(m.CHALLENGE_PENDING, "poll_push", "slow_down", factor="push")
    assert (flow.context.poll_interval, flow.context.next_poll_at) == (10.0, LATER + 10.0)
    assert result.data == {"pending": True, "retry_after": 10.0}
    flow, result = step(
        m.CHALLENGE_PENDING, "poll_push", "slow_down", factor="push", poll_interval=28.0
    )
    assert flow.context.poll_interval == 30.0
    assert result.data == {"pending": True, "retry_after": 30.0}
    flow, _ = step(m.CHALLENGE_PENDING, "poll_push", "slow_down", factor="push", poll_interval=25.0)
    assert flow.context.poll_interval == 30.0


def test_ends_keep_the_context_and_produce_nothing() -> None:
    """An ending outcome changes no field itself and produces nothing."""
    ctx = Context(connection="sms", sends=2)
    s = m.StepInput("cancel", {}, {}, NOW)
    assert m.EFFECTS["cancelled"](ctx, s) == (ctx, {})
    flow = flow_in(m.CODE_SENT, sends=2)
    result = flow.cancel(LATER)
    assert result.data == {}
    assert flow.context.sends == 2 and flow.context.phone_number == "+15550100"
    assert flow.expires_at == LATER + m.IDLE_FLOW_TTL


# ------------------------------------------------------------------ deadlines


def test_pending_deadline_is_the_earlier_of_token_and_code() -> None:
    """A pending factor's deadline is the earlier of the mfa_token's and the code's expiry."""
    deadline = m.DEADLINES[m.CHALLENGE_PENDING]
    ctx = Context(mfa_token_expires_at=100.0, mfa_code_expires_at=50.0)
    assert deadline(ctx, 1.0, 0.0) == 50.0
    assert deadline(ctx.evolve(mfa_code_expires_at=150.0), 1.0, 0.0) == 100.0
    assert deadline(ctx.evolve(mfa_code_expires_at=None), 1.0, 0.0) == 100.0
    assert deadline(Context(), 1.0, 0.0) == 0.0
    assert deadline(Context(mfa_code_expires_at=5.0), 1.0, 0.0) == 0.0
    assert m.DEADLINES[m.AUTHENTICATED](ctx, 10.0, 0.0) == 10.0 + m.IDLE_FLOW_TTL


# ------------------------------------------------------------------ rollback


def test_rollback_keeps_the_live_mfa_credential() -> None:
    """Rolling back to an MFA state keeps the current mfa_token, kind and expiry."""
    current = Context(mfa_token="new", mfa_token_kind="mfa_token", mfa_token_expires_at=9.0)
    restored = Context(mfa_token="old", mfa_token_kind="access_token", mfa_token_expires_at=1.0)
    out = m.rollback_context(m.MFA_REQUIRED, ("challenge",), current, restored)
    assert (out.mfa_token, out.mfa_token_kind, out.mfa_token_expires_at) == (
        "new",
        "mfa_token",
        9.0,
    )
    assert m.rollback_context(m.STARTED, ("verify_otp",), current, restored) is restored
    assert m.rollback_context(m.MFA_REQUIRED, (), Context(), restored) is restored


def test_rollback_over_verify_otp_spends_the_code() -> None:
    """A code consumed by verify_otp stays spent after a rollback to code_sent."""
    restored = Context(code_attempts=1, connection="sms")
    out = m.rollback_context(m.CODE_SENT, ("challenge", "verify_otp"), Context(), restored)
    assert (out.code_attempts, out.connection) == (3, "sms")
    assert m.rollback_context(m.CODE_SENT, ("resend_code",), Context(), restored) is restored


# ------------------------------------------------------------------ doubt


def test_start_in_doubt_remembers_where_the_code_went() -> None:
    """From started, a start in doubt allows only a resend and keeps its connection and address."""
    params = {"connection": "sms", "phone_number": "+1555", "otp": "x"}
    for doubt in (m.DOUBT["start_passwordless"], m.DOUBT["resend_code"]):
        for rule in (doubt.on_takeover, doubt.on_answerless):
            ctx = rule(Context(), m.STARTED, params)
            assert ctx.send_unconfirmed is True
            assert (ctx.connection, ctx.phone_number, ctx.email) == ("sms", "+1555", None)
            same = Context(connection="email")
            assert rule(same, m.CODE_SENT, params) is same
            by_mail = rule(Context(), m.STARTED, {"connection": "email", "email": "a@b.c"})
            assert (by_mail.connection, by_mail.email, by_mail.phone_number) == (
                "email",
                "a@b.c",
                None,
            )


def test_doubt_rules_of_codes() -> None:
    """A verify in doubt spends the code on takeover; a recovery code in doubt is marked."""
    ctx = Context(code_attempts=1)
    assert m.DOUBT["verify_otp"].on_takeover(ctx, m.CODE_SENT, {}).code_attempts == 3
    assert m.DOUBT["verify_otp"].on_answerless(ctx, m.CODE_SENT, {}) is ctx
    rc = m.DOUBT["confirm_recovery_code"]
    assert rc.on_takeover(ctx, m.MFA_REQUIRED, {}).recovery_code_in_doubt is True
    assert rc.on_answerless(ctx, m.MFA_REQUIRED, {}) is ctx
    assert m.DOUBT_UNCHANGED(ctx, m.STARTED, {}) is ctx


def test_confirm_doubts_recover_from_the_states_they_leave() -> None:
    """A confirmation in doubt rolls back from a pending state and challenges from mfa_required."""
    text = (
        "the code may have been consumed and tokens minted but lost: roll back to "
        "mfa_required (the mfa_token is kept) and challenge again while it lives"
    )
    rollback = (("rollback", m.MFA_REQUIRED),)
    oob = m._confirm_doubt("confirm_oob")
    assert oob.next_step == text
    assert oob.recovery == {m.ENROLLMENT_PENDING: rollback, m.CHALLENGE_PENDING: rollback}
    otp = m._confirm_doubt("confirm_otp")
    assert otp.recovery == {
        m.ENROLLMENT_PENDING: rollback,
        m.CHALLENGE_PENDING: rollback,
        m.MFA_REQUIRED: (("challenge", m.CHALLENGE_PENDING),),
    }
    ctx = Context(sends=1)
    assert otp.on_takeover(ctx, m.MFA_REQUIRED, {}) is ctx
    assert otp.on_answerless(ctx, m.MFA_REQUIRED, {}) is ctx
    assert m._confirm_doubt("poll_push") == m.DOUBT["poll_push"]


# ------------------------------------------------------------------ the machine


def test_outcome_condition() -> None:
    """An outcome condition holds exactly when the model's outcome is its kind."""
    cond = m._outcome_is("tokens")
    assert cond.__name__ == "outcome_is_tokens"
    assert cond(SimpleNamespace(model=SimpleNamespace(outcome="tokens"))) is True  # type: ignore[arg-type]
    assert cond(SimpleNamespace(model=SimpleNamespace(outcome="locked"))) is False  # type: ignore[arg-type]


def test_guard_condition() -> None:
    """A guard condition is named after its guard and asks it about the event's model."""
    cond = m._guard_condition("otp_expected")
    assert cond.__name__ == "otp_expected"
    assert cond(SimpleNamespace(model=model(factor="otp"))) is True  # type: ignore[arg-type]
    assert cond(SimpleNamespace(model=model(factor="sms"))) is False  # type: ignore[arg-type]


def test_transitions_table_rows() -> None:
    """Each (edge, outcome) is one row with plain names, the guards then the outcome test."""
    edge = m.Edge(
        m.Trigger.POLL_PUSH,
        m.State.CHALLENGE_PENDING,
        {"pending": m.State.CHALLENGE_PENDING, "tokens": m.AUTHENTICATED},
        ("push_expected", "poll_due"),
    )
    rows = m.transitions_table((edge,))
    assert [(r["trigger"], r["source"], r["dest"]) for r in rows] == [
        ("poll_push", "challenge_pending", "challenge_pending"),
        ("poll_push", "challenge_pending", "authenticated"),
    ]
    assert all(type(r[k]) is str for r in rows for k in ("trigger", "source", "dest"))
    assert [c.__name__ for c in rows[1]["conditions"]] == [
        "push_expected",
        "poll_due",
        "outcome_is_tokens",
    ]
    assert set(rows[0]) == {"trigger", "source", "dest", "conditions"}
    assert len(m.transitions_table()) == sum(len(e.outcomes) for e in m.EDGES)


def test_a_built_machine_runs_the_table() -> None:
    """A freshly built machine takes the first row whose guards and outcome hold."""
    machine = m.build_machine()
    assert machine.models == []
    assert machine.initial == m.STARTED
    assert list(machine.states) == list(m.STATES)
    assert "to_authenticated" not in machine.events
    assert machine.has_queue is False
    ctx = Context(factor="push", oob_code="o", next_poll_at=NOW)
    gm = m.GuardModel(m.CHALLENGE_PENDING, ctx, NOW, "pending")
    assert m.fire("poll_push", gm, machine) is True
    assert gm.state == m.CHALLENGE_PENDING
    gm = m.GuardModel(m.CHALLENGE_PENDING, ctx, NOW, "tokens")
    assert machine.events["poll_push"].trigger(gm) is True
    assert gm.state == m.AUTHENTICATED
    early = m.GuardModel(m.CHALLENGE_PENDING, ctx, NOW - 1, "tokens")
    assert m.fire("poll_push", early, machine) is False
    assert early.state == m.CHALLENGE_PENDING
    done = m.GuardModel(m.AUTHENTICATED, ctx, NOW, "tokens")
    assert m.fire("poll_push", done, machine) is False
    with pytest.raises(MachineError):
        machine.events["poll_push"].trigger(done)


def test_fire_on_the_shared_machine() -> None:
    """fire moves a model along its row and says False when no row's conditions hold."""
    gm = m.GuardModel(m.CODE_SENT, Context(code_attempts=0, code_expires_at=NOW + 1), NOW, "tokens")
    assert m.fire("verify_otp", gm) is True and gm.state == m.AUTHENTICATED
    gm = m.GuardModel(m.CODE_SENT, Context(code_attempts=3, code_expires_at=NOW + 1), NOW, "tokens")
    assert m.fire("verify_otp", gm) is False and gm.state == m.CODE_SENT
    gm = m.GuardModel(m.MFA_REQUIRED, Context(), NOW, "tokens")
    assert m.fire("verify_otp", gm) is False


def test_definition_hash_is_the_one_the_diagrams_show() -> None:
    """The machine hash is the SHA-256 the committed diagrams were drawn under."""
    drawn = re.search(r"definition sha256 ([0-9a-f]{64})", (ROOT / "diagrams/flow.dot").read_text())
    assert drawn is not None
    assert m.definition_hash() == drawn.group(1) == m.MACHINE_HASH
    first = m.EDGES[0]
    assert first.guards
    other = (m.Edge(first.trigger, first.source, first.outcomes), *m.EDGES[1:])
    assert m.definition_hash(other) != m.MACHINE_HASH  # the guards are part of it


def test_legal_triggers_in_table_order() -> None:
    """The legal triggers of a state are its edges' triggers, once each, in table order."""
    assert m.legal_triggers(m.STARTED) == (
        "start_passwordless",
        "resend_code",
        "login_password",
        "refresh",
        "cancel",
    )
    assert m.legal_triggers(m.CHALLENGE_PENDING) == (
        "confirm_oob",
        "confirm_otp",
        "poll_push",
        "cancel",
        "expire",
    )
    assert m.legal_triggers(m.AUTHENTICATED) == ()


@pytest.mark.parametrize("trigger", ["verify_otp", "login_password"])
def test_first_factor_tokens_drop_a_kept_mfa_credential_and_pending_factor(trigger: str) -> None:
    """First-factor tokens (a rollback kept an mfa_token) clear the MFA and pending fields."""
    ctx = Context(
        mfa_token="mfa-tok",
        mfa_token_kind="mfa_token",
        mfa_token_expires_at=500.0,
        factor="sms",
        oob_code="oob-1",
        authenticator_type="oob",
        mfa_attempts=2,
    )
    params = {"username": "u@example.com", "realm": "db"} if trigger == "login_password" else {}
    data = {"tokens": {"access_token": "at", "token_type": "Bearer"}}
    out, produced = m.EFFECTS["tokens"](ctx, m.StepInput(trigger, data, params, 100.0))
    assert (out.mfa_token, out.mfa_token_kind, out.mfa_token_expires_at) == (None, None, None)
    assert (out.factor, out.oob_code, out.authenticator_type, out.mfa_attempts) == (
        None,
        None,
        None,
        0,
    )
    assert out.first_factor == trigger and dict(out.tokens or {}) == data["tokens"]
    assert produced["tokens"] == data["tokens"]
