"""The flow's context field by field: declarations, settings, mapping view, snapshot form.

Written against the mutants of ``flowengine/_context.py`` that earlier tests let survive
(``scripts/mutation flowengine/_context.py``): each test pins one behaviour down.
"""

from __future__ import annotations

import sys
from typing import Any

import attrs
import pytest

from flowengine import _context as c
from flowengine._context import (
    DEFAULT_SETTINGS,
    SECRET_FIELDS,
    SHOWN_FIELDS,
    Context,
    TenantSettings,
    Uncertain,
    field_groups,
)
from flowengine._errors import SnapshotMalformedError

# ------------------------------------------------------------------ declarations


def test_field_declares_its_metadata_and_hides_secrets_from_repr() -> None:
    """_field records secret, shown (never for a secret), clear groups and kept, and repr."""
    plain: Any = c._field(7, secret=False, shown=True, clear=("pending", "mfa"), kept="k")
    assert plain._default == 7
    assert plain.repr is True
    assert plain.metadata == {
        "flowengine": {
            "secret": False,
            "shown": True,
            "clear": frozenset({"pending", "mfa"}),
            "kept": "k",
        }
    }
    secret: Any = c._field(secret=True, shown=True)
    assert secret._default is None
    assert secret.repr is False
    assert secret.metadata["flowengine"] == {
        "secret": True,
        "shown": False,
        "clear": frozenset(),
        "kept": "",
    }
    quiet: Any = c._field(secret=False)
    assert quiet.metadata["flowengine"]["shown"] is False


def test_meta_reads_a_fields_declarations() -> None:
    """_meta returns the flowengine metadata of an attrs field."""
    fields = attrs.fields_dict(Context)
    assert c._meta(fields["oob_code"]) == {
        "secret": True,
        "shown": False,
        "clear": frozenset({"pending", "failure"}),
        "kept": "kept while a factor is pending; dropped on tokens or failure",
    }


def test_derived_inventories_are_exact() -> None:
    """The secret, shown and cleared field sets are exactly what the declarations say."""
    assert sorted(SECRET_FIELDS) == [
        "binding",
        "email",
        "mfa_token",
        "oob_code",
        "phone_number",
        "tokens",
        "username",
    ]
    assert "connection" in SHOWN_FIELDS and "code_sent_at" not in SHOWN_FIELDS
    assert not set(SHOWN_FIELDS) & SECRET_FIELDS
    groups = field_groups()
    assert groups["failure"] == {"oob_code", "tokens", "mfa_token"}
    assert groups["mfa"] == {"mfa_token_kind", "mfa_token", "mfa_token_expires_at"}
    assert groups["first_factor"] == {
        "code_attempts",
        "code_expires_at",
        "send_unconfirmed",
        "code_sent_at",
    }
    assert "factor" in groups["pending"] and "oob_code" in groups["pending"]
    assert all(isinstance(v, frozenset) for v in groups.values())


def test_repr_shows_plain_fields_and_hides_secrets() -> None:
    """A context's repr names its plain fields and never a secret field or value."""
    text = repr(Context(connection="sms", username="alice@example.com", mfa_token="tok-1"))
    assert "connection='sms'" in text
    assert "alice" not in text and "username" not in text
    assert "tok-1" not in text and "mfa_token=" not in text


@pytest.mark.parametrize(
    ("annotation", "kind"),
    [
        ("Uncertain | None", "uncertain"),
        ("Mapping[str, Any] | None", "mapping"),
        ("bool", "bool"),
        ("float | None", "float"),
        ("int", "int"),
        ("str | None", "str"),
    ],
)
def test_kind_reads_the_json_kind_of_an_annotation(annotation: str, kind: str) -> None:
    """_kind maps each annotation to the JSON kind a snapshot may hold for it."""
    assert c._kind(annotation) == kind


def test_kind_refuses_an_annotation_without_a_snapshot_form() -> None:
    """An annotation of no known kind is a TypeError that quotes it."""
    with pytest.raises(TypeError) as info:
        c._kind("bytes | None")
    assert str(info.value) == "context field annotation 'bytes | None' has no snapshot form"


# ------------------------------------------------------------------ small records


def test_uncertain_to_json() -> None:
    """An Uncertain's snapshot form is its trigger and time."""
    assert Uncertain("verify_otp", 12.5).to_json() == {"trigger": "verify_otp", "at": 12.5}


@pytest.mark.parametrize("name", ["passwordless_code_ttl", "mfa_code_ttl", "mfa_token_ttl"])
@pytest.mark.parametrize("value", [0, -1, -0.5, 0.0, True, "60", None])
def test_tenant_settings_refuse_a_non_positive_clock(name: str, value: object) -> None:
    """A clock setting must be a positive number (not a bool): the error names the setting."""
    with pytest.raises(ValueError) as info:
        TenantSettings(**{name: value})  # type: ignore[arg-type]
    assert str(info.value) == f"TenantSettings.{name} must be a positive number"


@pytest.mark.parametrize("value", [0.001, 1, 1e9])
def test_tenant_settings_accept_a_positive_clock(value: float) -> None:
    """Any positive int or float is a valid clock."""
    assert TenantSettings(mfa_code_ttl=value).mfa_code_ttl == value


@pytest.mark.parametrize("value", [3, 13, 0, -6, 6.0, True, "6", None])
def test_tenant_settings_refuse_a_bad_otp_length(value: object) -> None:
    """otp_length is an integer from 4 to 12 (not a bool or float)."""
    with pytest.raises(ValueError) as info:
        TenantSettings(otp_length=value)  # type: ignore[arg-type]
    assert str(info.value) == "TenantSettings.otp_length must be an integer from 4 to 12"


@pytest.mark.parametrize("value", [4, 5, 12])
def test_tenant_settings_accept_otp_lengths_in_range(value: int) -> None:
    """Both bounds of otp_length are allowed."""
    assert TenantSettings(otp_length=value).otp_length == value


def test_tenant_settings_json_holds_only_the_changed_settings() -> None:
    """to_json lists the settings that differ from Auth0's defaults, and from_json reverses it."""
    assert TenantSettings().to_json() == {}
    custom = TenantSettings(otp_length=8, mfa_token_ttl=90.0)
    assert custom.to_json() == {"otp_length": 8, "mfa_token_ttl": 90.0}
    assert TenantSettings.from_json(custom.to_json()) == custom
    assert TenantSettings.from_json({}) == DEFAULT_SETTINGS


@pytest.mark.parametrize("doc", [{"otp_length": 3}, {"colour": 1}, {"mfa_code_ttl": "x"}])
def test_tenant_settings_from_bad_json_is_malformed(doc: dict[str, Any]) -> None:
    """A wrong setting name or value is SnapshotMalformedError, without the cause chained."""
    with pytest.raises(SnapshotMalformedError) as info:
        TenantSettings.from_json(doc)
    assert str(info.value) == "the flow's tenant settings are malformed"
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_tenant_settings_of_a_context() -> None:
    """A context without settings runs under the defaults; with settings, under those."""
    assert Context().tenant_settings is DEFAULT_SETTINGS
    assert Context(settings={}).tenant_settings is DEFAULT_SETTINGS
    ctx = Context(settings={"otp_length": 8})
    assert ctx.tenant_settings == TenantSettings(otp_length=8)


# ------------------------------------------------------------------ changes


def test_evolve_changes_the_named_fields_only() -> None:
    """evolve returns a new context with the changes and leaves the original as it was."""
    before = Context(connection="sms", sends=1)
    after = before.evolve(sends=2, factor="otp")
    assert (after.connection, after.sends, after.factor) == ("sms", 2, "otp")
    assert (before.sends, before.factor) == (1, None)
    with pytest.raises(TypeError):
        before.evolve(no_such_field=1)


def test_cleared_resets_every_field_of_the_groups() -> None:
    """cleared puts each field of the named groups back at its default and keeps the rest."""
    ctx = Context(
        factor="sms",
        oob_code="o",
        mfa_attempts=2,
        mfa_token="t",
        mfa_token_kind="mfa_token",
        code_attempts=2,
        send_unconfirmed=True,
        connection="sms",
    )
    pending = ctx.cleared("pending")
    assert (pending.factor, pending.oob_code, pending.mfa_attempts) == (None, None, 0)
    assert (pending.mfa_token, pending.code_attempts, pending.connection) == ("t", 2, "sms")
    both = ctx.cleared("mfa", "first_factor")
    assert (both.mfa_token, both.mfa_token_kind) == (None, None)
    assert (both.code_attempts, both.send_unconfirmed) == (0, False)
    assert (both.factor, both.oob_code) == ("sms", "o")


def test_cleared_without_a_known_group_is_the_same_context() -> None:
    """No group (or an unknown one) clears nothing and returns the context itself."""
    ctx = Context(factor="sms")
    assert ctx.cleared() is ctx
    assert ctx.cleared("no-such-group") is ctx
    assert ctx.cleared("no-such-group", "pending").factor is None


# ------------------------------------------------------------------ snapshot form


def test_to_json_holds_the_set_fields_as_plain_json() -> None:
    """None and default values are left out; a mapping and an Uncertain become dicts."""
    ctx = Context(
        connection="sms",
        sends=0,
        code_attempts=2,
        enrolled=True,
        mfa_requirements={"challenge": [{"type": "otp"}]},
        uncertain=Uncertain("challenge", 3.0),
    )
    out = ctx.to_json()
    assert out == {
        "connection": "sms",
        "code_attempts": 2,
        "enrolled": True,
        "mfa_requirements": {"challenge": [{"type": "otp"}]},
        "uncertain": {"trigger": "challenge", "at": 3.0},
    }
    assert type(out["mfa_requirements"]) is dict
    assert Context().to_json() == {}


def test_from_json_of_nothing_is_the_shared_empty_context() -> None:
    """An empty document loads as the one shared empty context."""
    assert Context.from_json({}) is c.EMPTY


def test_from_json_round_trips_every_kind() -> None:
    """A document of every kind loads back into equal, typed fields."""
    doc = {
        "connection": "sms",
        "code_attempts": 2,
        "code_sent_at": 5,
        "enrolled": True,
        "mfa_requirements": {"enroll": [{"type": "otp"}]},
        "settings": {"otp_length": 8},
        "uncertain": {"trigger": "enroll", "at": 7},
        "tokens": {"access_token": "a"},
    }
    ctx = Context.from_json(doc)
    assert ctx.code_sent_at == 5.0 and isinstance(ctx.code_sent_at, float)
    assert ctx.uncertain == Uncertain("enroll", 7.0)
    assert isinstance(ctx.uncertain.at, float)
    assert ctx.tenant_settings.otp_length == 8
    assert ctx.to_json() == {
        **doc,
        "code_sent_at": 5.0,
        "uncertain": {"trigger": "enroll", "at": 7.0},
    }


def test_from_json_names_unknown_fields_sorted_cut_and_at_most_five() -> None:
    """Unknown keys are refused; the message names at most five, sorted, cut to 40 characters."""
    with pytest.raises(SnapshotMalformedError) as info:
        Context.from_json({"zeta": 1, "alpha": 2, "connection": "sms"})
    assert str(info.value) == "the flow context has unknown fields: alpha, zeta"
    long = "x" * 60
    with pytest.raises(SnapshotMalformedError) as info:
        Context.from_json({long: 1, "f": 1, "e": 1, "d": 1, "b": 1, "a": 1})
    assert str(info.value) == "the flow context has unknown fields: a, b, d, e, f"
    with pytest.raises(SnapshotMalformedError) as info:
        Context.from_json({long: 1})
    assert str(info.value) == "the flow context has unknown fields: " + "x" * 40


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("code_attempts", True),
        ("code_attempts", 1.5),
        ("code_attempts", "1"),
        ("code_sent_at", True),
        ("code_sent_at", "5"),
        ("enrolled", 1),
        ("enrolled", "true"),
        ("mfa_requirements", ["challenge"]),
        ("mfa_requirements", "x"),
        ("settings", {"otp_length": 99}),
        ("uncertain", "enroll"),
        ("uncertain", {"trigger": 1, "at": 2.0}),
        ("uncertain", {"at": 2.0}),
        ("uncertain", {"trigger": "enroll", "at": "2"}),
        ("uncertain", {"trigger": "enroll", "at": True}),
        ("uncertain", {"trigger": "enroll"}),
        ("connection", 5),
        ("connection", b"sms"),
    ],
)
def test_from_json_refuses_a_wrong_type(name: str, value: object) -> None:
    """A value of the wrong JSON kind is refused with a message naming the field."""
    with pytest.raises(SnapshotMalformedError) as info:
        Context.from_json({name: value})
    if name != "settings":
        assert str(info.value) == f"the flow context field {name!r} has the wrong type"


def test_check_passes_values_of_the_right_kind() -> None:
    """_check returns None as None and each kind's value in its loaded form."""
    assert c._check("code_attempts", None) is None
    assert c._check("uncertain", None) is None
    assert c._check("code_attempts", 3) == 3
    assert c._check("code_sent_at", 3) == 3.0 and type(c._check("code_sent_at", 3)) is float
    assert c._check("code_sent_at", 2.5) == 2.5
    assert c._check("enrolled", False) is False
    assert c._check("enrolled", True) is True
    mapping: dict[str, list[str]] = {"challenge": []}
    assert c._check("mfa_requirements", mapping) is mapping
    assert c._check("settings", {"otp_length": 4}) == {"otp_length": 4}
    assert c._check("uncertain", {"trigger": "t", "at": 1}) == Uncertain("t", 1.0)
    assert c._check("connection", "sms") == "sms"


def test_check_interns_plain_names_but_not_secrets() -> None:
    """A plain name (tenant, kinds) is interned on load; a secret string is left as it came."""
    plain = "".join(["tenant-", "interned-", "x"])
    loaded = c._check("tenant", plain)
    assert loaded is sys.intern("tenant-interned-x")
    interned = sys.intern("secret-name-y")
    secret = "".join(["secret-", "name-", "y"])
    assert secret is not interned
    assert c._check("username", secret) is secret


# ------------------------------------------------------------------ mapping view


def test_contains_is_true_for_set_fields_only() -> None:
    """``in`` holds for a field set to a non-default value, never for defaults or other keys."""
    ctx = Context(connection="sms", code_attempts=1, sends=0)
    assert "connection" in ctx
    assert "code_attempts" in ctx
    assert "sends" not in ctx  # at its default
    assert "factor" not in ctx  # None
    assert "no_such_field" not in ctx
    assert 1 not in ctx
    assert ("connection",) not in ctx


def test_getitem_and_get_read_set_fields_in_snapshot_form() -> None:
    """ctx[name] and get() give the snapshot form of a set field; unset is KeyError or default."""
    ctx = Context(uncertain=Uncertain("enroll", 2.0), mfa_requirements={"a": 1}, sends=2)
    assert ctx["uncertain"] == {"trigger": "enroll", "at": 2.0}
    assert type(ctx["mfa_requirements"]) is dict
    assert ctx["sends"] == 2
    with pytest.raises(KeyError) as info:
        ctx["factor"]
    assert info.value.args == ("factor",)
    assert ctx.get("sends") == 2
    assert ctx.get("uncertain") == {"trigger": "enroll", "at": 2.0}
    assert ctx.get("factor") is None
    assert ctx.get("factor", "dflt") == "dflt"
    assert ctx.get("no_such_field", 0) == 0


def test_iteration_and_items_follow_the_set_fields() -> None:
    """Iterating a context yields its set fields in declaration order; items pairs them."""
    ctx = Context(sends=2, connection="sms", uncertain=Uncertain("t", 1.0))
    assert list(ctx) == ["connection", "sends", "uncertain"]
    assert dict(ctx.items()) == {
        "connection": "sms",
        "sends": 2,
        "uncertain": {"trigger": "t", "at": 1.0},
    }


def test_json_value_converts_records_and_mappings() -> None:
    """_json_value turns an Uncertain and a mapping into dicts and keeps anything else."""
    from types import MappingProxyType

    assert c._json_value(Uncertain("t", 1.0)) == {"trigger": "t", "at": 1.0}
    proxy = MappingProxyType({"a": 1})
    assert type(c._json_value(proxy)) is dict and c._json_value(proxy) == {"a": 1}
    assert c._json_value("s") == "s"
    assert c._json_value(3) == 3


def test_field_groups_is_a_fresh_copy() -> None:
    """field_groups returns frozensets that callers cannot use to change the groups."""
    groups = field_groups()
    groups["pending"] = frozenset()
    assert field_groups()["pending"]


def test_evolve_names_an_unknown_field_in_its_type_error() -> None:
    """evolve refuses a field the context does not have, naming it."""
    with pytest.raises(TypeError, match=r"^Context has no field 'nope'$"):
        Context().evolve(nope=1)
