"""The flow's context: one frozen, slotted record, each field declaring how it is treated.

Every fact a flow keeps between steps is a field of ``Context``. Its metadata says:

``secret``
    sealed (AES-256-GCM) in a snapshot, never in clear JSON, never shown by ``flow show``;
``shown``
    printed by ``flowengine flow show`` (progress counters, kinds and deadlines);
``clear``
    the groups of the machine's effects that drop it (see ``_machine``): ``"pending"`` when
    the pending factor is settled, ``"first_factor"`` once the first factor is done,
    ``"mfa"`` when MFA ends with tokens, ``"failure"`` when the flow ends in failure;
``kept``
    for a secret, one sentence on how long it stays (the security review prints it).

``SECRET_FIELDS`` (the snapshot codec), ``SHOWN_FIELDS`` (the CLI) and the review's secret
inventory are derived from these declarations, and a test fails if a field lacks
them. A field whose value is ``None`` (or the default) is absent from the snapshot, so a
context is as small on the wire as the dict it replaced, and old snapshots load unchanged.

The context is immutable: effects build a new one with ``evolve``. History entries can
then share the context of the step they undo instead of copying it.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import ItemsView, Iterator, Mapping
from typing import Any, Final

import attrs

from flowengine._errors import SnapshotMalformedError

__all__ = [
    "DEFAULT_SETTINGS",
    "SECRET_FIELDS",
    "SHOWN_FIELDS",
    "Context",
    "TenantSettings",
    "Uncertain",
    "field_groups",
]

_META = "flowengine"


def _field(
    default: Any = None,
    *,
    secret: bool,
    shown: bool = False,
    clear: tuple[str, ...] = (),
    kept: str = "",
) -> Any:
    """A context field with its declarations (see the module docstring)."""
    meta = {
        "secret": secret,
        "shown": shown and not secret,
        "clear": frozenset(clear),
        "kept": kept,
    }
    return attrs.field(default=default, repr=not secret, metadata={_META: meta})


@attrs.frozen
class Uncertain:
    """A request that may have reached Auth0 without an answer: which trigger, and when."""

    trigger: str
    at: float

    def to_json(self) -> dict[str, Any]:
        """The snapshot form."""
        return {"trigger": self.trigger, "at": self.at}


def _positive(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"TenantSettings.{attr.name} must be a positive number")


def _otp_length(_inst: object, _attr: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 4 <= value <= 12:
        raise ValueError("TenantSettings.otp_length must be an integer from 4 to 12")


@attrs.frozen
class TenantSettings:
    """The tenant's clocks and code shapes, with Auth0's defaults (all are tenant settings).

    ``passwordless_code_ttl``: how long a passwordless code lives ("OTP Expiry" of the
    connection, ``totp.time_step``; Auth0's default is 180 s). ``otp_length``: the digits of a
    passwordless code ("OTP Length", ``totp.length``; 6 by default). ``mfa_code_ttl``: how long
    an MFA binding code or push (an ``oob_code``) lives (5 minutes in Auth0's docs).
    ``mfa_token_ttl``: how long an ``mfa_token`` lives (not documented; 10 minutes, the
    documented lifetime of MFA-audience tokens, is the default). A flow keeps the settings it
    was created with in its context (and so in its snapshots).
    """

    passwordless_code_ttl: float = attrs.field(default=180.0, validator=_positive)
    otp_length: int = attrs.field(default=6, validator=_otp_length)
    mfa_code_ttl: float = attrs.field(default=300.0, validator=_positive)
    mfa_token_ttl: float = attrs.field(default=600.0, validator=_positive)

    def to_json(self) -> dict[str, Any]:
        """The settings that differ from Auth0's defaults (the snapshot form)."""
        return {
            f.name: getattr(self, f.name)
            for f in attrs.fields(TenantSettings)
            if getattr(self, f.name) != f.default
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TenantSettings:
        """Rebuild from the snapshot form; a wrong name or value is ``SnapshotMalformedError``."""
        try:
            return cls(**doc)
        except (TypeError, ValueError):
            raise SnapshotMalformedError("the flow's tenant settings are malformed") from None


#: Auth0's defaults.
DEFAULT_SETTINGS: Final = TenantSettings()

_P = ("pending",)
_PF = ("pending", "failure")


@attrs.frozen(slots=True, weakref_slot=False)
class Context:
    """What a flow keeps between steps. Read fields by name; ``evolve`` to change."""

    # --- first factor: passwordless
    connection: str | None = _field(secret=False, shown=True)
    phone_number: str | None = _field(
        secret=True,
        kept="kept after start_passwordless (resend needs it); an enrolled number is not kept",
    )
    email: str | None = _field(
        secret=True,
        kept="kept after start_passwordless (resend needs it); an enrolled address is not kept",
    )
    send_unconfirmed: bool = _field(False, secret=False, shown=True, clear=("first_factor",))
    code_attempts: int = _field(0, secret=False, shown=True, clear=("first_factor",))
    code_sent_at: float | None = _field(secret=False, clear=("first_factor",))
    code_expires_at: float | None = _field(secret=False, shown=True, clear=("first_factor",))
    sends: int = _field(0, secret=False, shown=True)
    # --- first factor: password
    password_attempts: int = _field(0, secret=False, shown=True)
    username: str | None = _field(secret=True, kept="kept after login_password")
    realm: str | None = _field(secret=False)
    first_factor: str | None = _field(secret=False, shown=True)
    # --- MFA credential
    mfa_token: str | None = _field(
        secret=True,
        clear=("mfa", "failure"),
        kept="kept while MFA is pending; dropped on tokens or failure",
    )
    mfa_token_kind: str | None = _field(secret=False, shown=True, clear=("mfa",))
    mfa_token_expires_at: float | None = _field(secret=False, shown=True, clear=("mfa",))
    mfa_requested: bool = _field(False, secret=False)
    #: ``{"challenge": [types], "enroll": [types]}`` from an ``mfa_required`` answer.
    mfa_requirements: Mapping[str, Any] | None = _field(secret=False, shown=True)
    #: The user's active factors as far as the flow saw them (a list or mfa_requirements),
    #: space-separated kinds: ``sms voice email push otp``. Names them in hints.
    enrolled_factors: str | None = _field(secret=False, shown=True)
    chained_mfa: int = _field(0, secret=False, shown=True)
    enrolled: bool = _field(False, secret=False, shown=True)
    #: A recovery code grant was in doubt: Auth0 may have replaced the code (see _machine.DOUBT).
    recovery_code_in_doubt: bool = _field(False, secret=False, shown=True)
    must_enroll: bool = _field(False, secret=False, shown=True)
    # --- the pending second factor
    factor: str | None = _field(secret=False, shown=True, clear=_P)
    authenticator_type: str | None = _field(secret=False, shown=True, clear=_P)
    oob_channel: str | None = _field(secret=False, shown=True, clear=_P)
    oob_code: str | None = _field(
        secret=True,
        clear=_PF,
        kept="kept while a factor is pending; dropped on tokens or failure",
    )
    binding_method: str | None = _field(secret=False, shown=True, clear=_P)
    challenge_type: str | None = _field(secret=False, shown=True, clear=_P)
    authenticator_id: str | None = _field(secret=False, shown=True, clear=_P)
    mfa_code_expires_at: float | None = _field(secret=False, shown=True, clear=_P)
    next_poll_at: float | None = _field(secret=False, shown=True, clear=_P)
    poll_interval: float | None = _field(secret=False, shown=True, clear=_P)
    mfa_attempts: int = _field(0, secret=False, shown=True, clear=_P)
    polls: int = _field(0, secret=False, shown=True)
    second_factor: str | None = _field(secret=False, shown=True)
    # --- the result
    tokens: Mapping[str, Any] | None = _field(
        secret=True,
        clear=("failure",),
        kept="kept in authenticated for the caller; dropped on failure",
    )
    # --- who may resume it: SHA-256 of the resume handle's secret (and the app's binding)
    binding: str | None = _field(
        secret=True,
        kept="a hash of the resume handle's secret, for the flow's whole life; never the secret",
    )
    # --- the tenant and client the flow was made for (its first call's base URL and client id)
    tenant: str | None = _field(secret=False)
    #: The tokens were handed to the caller and not stored (``FlowRepository(keep_tokens=)``).
    tokens_delivered: bool = _field(False, secret=False, shown=True)
    # --- the tenant's settings this flow runs under (only those that differ from Auth0's)
    settings: Mapping[str, Any] | None = _field(secret=False)
    # --- a request in doubt
    uncertain: Uncertain | None = _field(secret=False, shown=True)  # noqa: RUF009 (attrs field)

    # ------------------------------------------------------------ settings

    @property
    def tenant_settings(self) -> TenantSettings:
        """The tenant's settings this flow runs under (Auth0's defaults unless configured)."""
        if not self.settings:
            return DEFAULT_SETTINGS
        return TenantSettings.from_json(self.settings)

    # ------------------------------------------------------------ changes

    def evolve(self, **changes: Any) -> Context:
        """A copy with ``changes`` (field names are checked: an unknown one is a TypeError).

        Equivalent to ``attrs.evolve`` (no field has a validator or converter) at half
        its cost: every step builds a context or two.
        """
        values = list(_VALUES(self))
        for name, value in changes.items():
            index = _INDEX.get(name)
            if index is None:
                raise TypeError(f"Context has no field {name!r}")
            values[index] = value
        return Context(*values)

    def cleared(self, *groups: str, **changes: Any) -> Context:
        """A copy with every field of ``groups`` back at its default, then ``changes``."""
        names = {n for g in groups for n in _GROUPS.get(g, ())}
        if not names and not changes:
            return self
        return self.evolve(**({n: _DEFAULTS[n] for n in names} | changes))

    # -------------------------------------------- the snapshot (JSON) form

    def to_json(self) -> dict[str, Any]:
        """The non-default fields as plain JSON values (the snapshot's ``context``)."""
        out: dict[str, Any] = {}
        for name in _NAMES:
            value = getattr(self, name)
            if value is not None and value != _DEFAULTS[name]:
                out[name] = _json_value(value)
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Context:
        """Rebuild from the snapshot form; an unknown key or a wrong type is refused."""
        if not doc:
            return EMPTY
        unknown = set(doc) - _NAME_SET
        if unknown:
            names = ", ".join(sorted(str(k)[:40] for k in unknown)[:5])
            raise SnapshotMalformedError(f"the flow context has unknown fields: {names}")
        values: dict[str, Any] = {}
        for name, value in doc.items():
            values[name] = _check(name, value)
        return cls(**values)

    # ---------------------------------------- read-only mapping view

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or name not in _NAME_SET:
            return False
        value = getattr(self, name)
        return value is not None and value != _DEFAULTS[name]

    def __getitem__(self, name: str) -> Any:
        if name not in self:
            raise KeyError(name)
        return _json_value(getattr(self, name))

    def get(self, name: str, default: Any = None) -> Any:
        """The snapshot-form value of ``name``, or ``default`` when it is not set."""
        return self[name] if name in self else default  # noqa: SIM401 (this is get)

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_json())

    def items(self) -> ItemsView[str, Any]:
        """The set fields and their snapshot-form values."""
        return self.to_json().items()


#: The context of a flow that has made no call: one shared, immutable instance.
EMPTY: Final = Context()


def _json_value(value: Any) -> Any:
    if isinstance(value, Uncertain):
        return value.to_json()
    if isinstance(value, Mapping):
        return dict(value)
    return value


_FIELDS: Final = attrs.fields(Context)
_NAMES: Final[tuple[str, ...]] = tuple(f.name for f in _FIELDS)
_NAME_SET: Final = frozenset(_NAMES)
_DEFAULTS: Final[dict[str, Any]] = {f.name: f.default for f in _FIELDS}
#: All field values of a context, in declaration order (what ``Context(*values)`` takes).
_VALUES: Final = operator.attrgetter(*_NAMES)
_INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(_NAMES)}


def _kind(annotation: object) -> str:
    """The JSON kind a field's annotation allows: bool, int, float, mapping, uncertain, str."""
    text = str(annotation)
    for kind, marker in (
        ("uncertain", "Uncertain"),
        ("mapping", "Mapping"),
        ("bool", "bool"),
        ("float", "float"),
        ("int", "int"),
        ("str", "str"),
    ):
        if marker in text:
            return kind
    raise TypeError(f"context field annotation {text!r} has no snapshot form")


#: Field name -> its JSON kind, read from the annotations (checked on every load).
_KINDS: Final[dict[str, str]] = {f.name: _kind(f.type) for f in _FIELDS}


def field_groups() -> dict[str, frozenset[str]]:
    """Group name -> the context fields it clears."""
    return {g: frozenset(names) for g, names in _GROUPS.items()}


def _meta(f: attrs.Attribute[Any]) -> dict[str, Any]:
    meta: dict[str, Any] = f.metadata[_META]
    return meta


_GROUPS: Final[dict[str, tuple[str, ...]]] = {}
for _f in _FIELDS:
    for _g in _meta(_f)["clear"]:
        _GROUPS.setdefault(_g, ())
        _GROUPS[_g] = (*_GROUPS[_g], _f.name)

#: Context fields that never appear in clear text in a snapshot (derived from the metadata).
SECRET_FIELDS: Final[frozenset[str]] = frozenset(f.name for f in _FIELDS if _meta(f)["secret"])
#: Context fields ``flowengine flow show`` prints (derived; never a secret).
SHOWN_FIELDS: Final[tuple[str, ...]] = tuple(f.name for f in _FIELDS if _meta(f)["shown"])
#: For each secret field: one sentence on how long it is kept.
SECRET_KEPT: Final[Mapping[str, str]] = {
    f.name: _meta(f)["kept"] for f in _FIELDS if _meta(f)["secret"]
}

#: The non-secret names a context repeats in every flow (tenant, kinds): interned on load.
_INTERNED: Final = frozenset(
    name for name, kind in _KINDS.items() if kind == "str" and name not in SECRET_FIELDS
)


def _check(name: str, value: Any) -> Any:
    """``value`` for field ``name`` from a snapshot, type-checked (refused if wrong)."""

    def bad() -> SnapshotMalformedError:
        return SnapshotMalformedError(f"the flow context field {name!r} has the wrong type")

    if value is None:
        return None
    kind = _KINDS[name]
    if kind in ("int", "float") and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise bad()
    if kind == "int":
        if not isinstance(value, int):
            raise bad()
        return value
    if kind == "float":
        return float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if kind == "mapping":
        if not isinstance(value, dict):
            raise bad()
        if name == "settings":
            TenantSettings.from_json(value)  # refused now, not at the next step
        return value
    if kind == "uncertain":
        if not (
            isinstance(value, dict)
            and isinstance(value.get("trigger"), str)
            and isinstance(value.get("at"), int | float)
            and not isinstance(value.get("at"), bool)
        ):
            raise bad()
        return Uncertain(value["trigger"], float(value["at"]))
    if not isinstance(value, str):
        raise bad()
    # The same few tenant and kind names recur in every context of every flow: share them.
    return sys.intern(value) if name in _INTERNED else value
