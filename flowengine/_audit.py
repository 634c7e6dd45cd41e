"""The per-flow audit trail: what happened to one login, step by step, without a secret.

Theory of operation
-------------------
Every transition a flow takes adds one ``AuditEntry``: when, which
trigger, which outcome, from which state to which, the Auth0 endpoint the
trigger calls (its declared call in ``_machine.TRIGGERS``; none for cancel and
expire), the HTTP status of Auth0's answer and the request id Auth0 sent with
it. A request in doubt (``Flow.note_uncertain``) and a rollback add an entry
too. Only names, numbers and the request id are ever recorded: the entry is
built from the trigger, the outcome kind, the states and the answer's status
line and one header, never from a request's or an answer's body, so no code,
token, mfa_token, oob_code or recovery code can reach it
(``tests/leaks`` scans it with every other output).

The request id is the ``X-Auth0-RequestId`` header. Auth0 does not document
it; the name is inferred from Auth0 answers published in public issue threads
and SDK test data (20 hex digits there), and the emulator sends one in the same
form. A value that is not 1-64 characters of ``[A-Za-z0-9._:-]`` is recorded
as absent (nothing else a server sends is copied).

The trail is part of the flow (``Flow.audit``), so it is sealed with it: it is
written into the snapshot envelope's ``audit`` array, authenticated with the
rest, and survives resume, rollback (which appends, never truncates) and every
store. It is bounded: past ``AUDIT_LIMIT`` entries the oldest are folded
into an ``AuditSummary`` (how many, from when to when, a count per trigger
and outcome). Entries are slotted objects holding interned names, not dicts,
so an idle flow stays small; in the envelope each is one compact JSON object
(``{"at": ..., "t": trigger, "o": outcome, "s": source, "d": dest, "st": status,
"rid": request id}``). Schema 1 leaves the ``audit`` array's objects free, so the
snapshot schema is unchanged; the events older releases wrote there
(``{"event": "uncertain"|"rollback", ...}``) are read back into entries.

``AuditTrail.lines()`` is the JSON Lines form (``flowengine flow audit``,
``repo.audit(handle)``): a summary line first when entries were folded, then
one object per entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, overload

from flowengine import _machine as m

__all__ = [
    "AUDIT_LIMIT",
    "REQUEST_ID_HEADER",
    "AuditEntry",
    "AuditSummary",
    "AuditTrail",
    "request_id_of",
]

#: Entries kept per flow; older ones are folded into the trail's summary.
AUDIT_LIMIT: Final = 64
#: The response header carrying Auth0's request id (lower-case, as HttpResponse keeps it).
REQUEST_ID_HEADER: Final = "x-auth0-requestid"
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_HEX: Final = re.compile(r"(?:[0-9a-f]{2})+")
#: Names an entry may hold, interned: a loaded trail shares them with the table.
_NAMES: Final[dict[str, str]] = {
    n: n
    for n in (
        *m.STATES,
        *m.TRIGGERS,
        *(o.value for o in m.Outcome),
        "step",
        "uncertain",
        "rollback",
        "rolled_back",
    )
}
_NAME: Final = re.compile(r"[a-z_]{1,40}")


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """Auth0's request id from an answer's headers, or None (absent or not an id)."""
    value = headers.get(REQUEST_ID_HEADER)
    if isinstance(value, str) and _REQUEST_ID.fullmatch(value):
        return value
    return None


def _name(value: object) -> str | None:
    """A known name (interned), a plain unknown one, or None for anything else."""
    if not isinstance(value, str):
        return None
    known = _NAMES.get(value)
    if known is not None:
        return known
    return value if _NAME.fullmatch(value) else None


def _endpoint(trigger: str | None) -> str | None:
    spec = m.TRIGGERS.get(trigger or "")
    if spec is None or spec.call is None:
        return None
    return _ENDPOINTS.setdefault(trigger or "", f"{spec.call.method} {spec.call.path}")


_ENDPOINTS: dict[str, str] = {}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: Shared (event, trigger, outcome, source, dest, undone, status) tuples: an entry holds one of
#: these, so the names cost each flow one pointer. Bounded: past the bound (never reached
#: by the table's few hundred combinations) a tuple is simply not shared.
_WHATS: dict[tuple[Any, ...], tuple[Any, ...]] = {}
_WHATS_BOUND: Final = 4096
#: HTTP statuses as shared int objects (CPython shares only -5..256 by itself).
_STATUSES: Final = {s: s for s in range(100, 600)}


def _shared(what: tuple[Any, ...]) -> tuple[Any, ...]:
    found = _WHATS.get(what)
    if found is not None:
        return found
    if len(_WHATS) < _WHATS_BOUND:
        _WHATS[what] = what
    return what


class AuditEntry:
    """One event of a flow: a step, a request in doubt or a rollback. No secret, ever.

    Three slots: the time, the request id, and one tuple of names and the HTTP status
    (event, trigger, outcome, source, destination, what a rollback could not undo,
    status) shared by every entry that says the same things.
    """

    __slots__ = ("_rid", "_what", "at")

    def __init__(
        self,
        at: float,
        event: str,
        trigger: str | None,
        outcome: str | None,
        source: str | None,
        dest: str | None,
        status: int | None = None,
        request_id: str | None = None,
        undone: tuple[str, ...] = (),
    ) -> None:
        self.at = at
        self._what = _shared(
            (
                event,
                trigger,
                outcome,
                source,
                dest,
                undone,
                _STATUSES.get(status, status) if status is not None else None,
            )
        )
        # Auth0's ids are lower-case hex: kept as bytes they take half the room.
        self._rid: str | bytes | None = (
            bytes.fromhex(request_id)
            if request_id is not None and _HEX.fullmatch(request_id)
            else request_id
        )

    @property
    def status(self) -> int | None:
        """The HTTP status of Auth0's answer (None for a step without a call)."""
        return self._what[6]  # type: ignore[no-any-return]

    @property
    def request_id(self) -> str | None:
        """The ``X-Auth0-RequestId`` Auth0 sent with its answer, if it sent one."""
        rid = self._rid
        return rid.hex() if isinstance(rid, bytes) else rid

    @property
    def event(self) -> str:
        """``step``, ``uncertain`` (a request in doubt), ``rollback``, or an older event."""
        return str(self._what[0])

    @property
    def trigger(self) -> str | None:
        """The trigger (``rollback`` for a rollback)."""
        return self._what[1]  # type: ignore[no-any-return]

    @property
    def outcome(self) -> str | None:
        """The outcome kind (``uncertain``/``taken_over`` for a doubt, ``rolled_back``)."""
        return self._what[2]  # type: ignore[no-any-return]

    @property
    def source(self) -> str | None:
        """The state before."""
        return self._what[3]  # type: ignore[no-any-return]

    @property
    def dest(self) -> str | None:
        """The state after."""
        return self._what[4]  # type: ignore[no-any-return]

    @property
    def undone(self) -> tuple[str, ...]:
        """For a rollback: the triggers whose effect at Auth0 it could not undo."""
        return self._what[5]  # type: ignore[no-any-return]

    @classmethod
    def step(
        cls,
        at: float,
        trigger: str,
        outcome: str,
        source: str,
        dest: str,
        status: int | None,
        request_id: str | None,
    ) -> AuditEntry:
        """A transition of the machine (names are interned: entries share them)."""
        return cls(
            at,
            "step",
            _NAMES.get(trigger, trigger),
            _NAMES.get(outcome, outcome),
            _NAMES.get(source, source),
            _NAMES.get(dest, dest),
            status,
            request_id,
        )

    @classmethod
    def event_of(cls, at: float, event: str, state: str, fields: Mapping[str, Any]) -> AuditEntry:
        """A request in doubt (``uncertain``) or a ``rollback``, from ``Flow``'s fields."""
        if event == "rollback":
            undone = tuple(str(u["trigger"]) for u in fields.get("not_undone", ()))
            return cls(
                at,
                "rollback",
                "rollback",
                "rolled_back",
                _NAMES.get(str(fields.get("source")), str(fields.get("source"))),
                _NAMES.get(state, state),
                undone=undone,
            )
        trigger = str(fields.get("trigger"))
        outcome = "taken_over" if fields.get("taken_over") else "uncertain"
        state = _NAMES.get(state, state)
        return cls(at, event, _NAMES.get(trigger, trigger), outcome, state, state)

    @property
    def endpoint(self) -> str | None:
        """``POST /oauth/token``: the Auth0 endpoint the trigger calls (None: no call)."""
        return _endpoint(self.trigger) if self.event != "rollback" else None

    @property
    def taken_over(self) -> bool:
        """For a request in doubt: a worker found it when taking over an expired claim."""
        return self.event == "uncertain" and self.outcome == "taken_over"

    def to_json(self) -> dict[str, Any]:
        """The entry as one JSON Lines object (``flowengine flow audit``)."""
        out: dict[str, Any] = {
            "at": self.at,
            "time": _iso(self.at),
            "event": self.event,
            "trigger": self.trigger,
            "outcome": self.outcome,
            "from": self.source,
            "to": self.dest,
            "endpoint": self.endpoint,
            "status": self.status,
            "request_id": self.request_id,
        }
        if self.event == "uncertain":
            out["taken_over"] = self.taken_over
        if self.event == "rollback":
            out["not_undone"] = [
                {"trigger": t, "effect": m.TRIGGERS[t].remote_effect}
                for t in self.undone
                if t in m.TRIGGERS
            ]
        return out

    def __getitem__(self, key: str) -> Any:
        """``entry["trigger"]``: a member of ``to_json`` (entries read like its objects)."""
        return self.to_json()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """A member of ``to_json``, or ``default``."""
        return self.to_json().get(key, default)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AuditEntry):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[Any, ...]:
        return (self.at, self._what, self._rid)

    def __repr__(self) -> str:
        return (
            f"AuditEntry({self.event} {self.trigger}: {self.source} -> {self.dest} "
            f"({self.outcome}), status {self.status})"
        )

    # ------------------------------------------------------------ envelope

    def to_stored(self) -> dict[str, Any]:
        """The compact envelope form (members that are None or empty left out)."""
        out: dict[str, Any] = {"at": self.at}
        if self.event != "step":
            out["ev"] = self.event
        for key, value in (
            ("t", self.trigger),
            ("o", self.outcome),
            ("s", self.source),
            ("d", self.dest),
            ("st", self.status),
            ("rid", self.request_id),
        ):
            if value is not None:
                out[key] = value
        if self.undone:
            out["u"] = list(self.undone)
        return out

    @classmethod
    def from_stored(cls, item: Mapping[str, Any]) -> AuditEntry | None:
        """An entry from its envelope form, or from an event an older release wrote.

        Only names, numbers and a request id are read back; anything else in the
        object is ignored. None when the object is no entry at all.
        """
        at = item.get("at")
        if isinstance(at, bool) or not isinstance(at, int | float):
            return None
        if "event" in item:  # written by an older release: {"event": ..., ...}
            return cls._legacy(at, item)
        event = _name(item.get("ev", "step"))
        if event is None:
            return None
        status = item.get("st")
        rid = item.get("rid")
        undone = item.get("u")
        return cls(
            at,
            event,
            _name(item.get("t")),
            _name(item.get("o")),
            _name(item.get("s")),
            _name(item.get("d")),
            status if isinstance(status, int) and not isinstance(status, bool) else None,
            rid if isinstance(rid, str) and _REQUEST_ID.fullmatch(rid) else None,
            tuple(n for n in map(_name, undone) if n) if isinstance(undone, list) else (),
        )

    @classmethod
    def _legacy(cls, at: float, item: Mapping[str, Any]) -> AuditEntry | None:
        event = _name(item.get("event"))
        if event is None:
            return None
        if event == "uncertain":
            outcome = "taken_over" if item.get("taken_over") else "uncertain"
            return cls(at, event, _name(item.get("trigger")), outcome, None, None)
        if event == "rollback":
            undone = item.get("not_undone")
            names = (
                tuple(n for u in undone if isinstance(u, dict) and (n := _name(u.get("trigger"))))
                if isinstance(undone, list)
                else ()
            )
            return cls(
                at,
                event,
                "rollback",
                "rolled_back",
                _name(item.get("source")),
                _name(item.get("to")),
                undone=names,
            )
        status = item.get("status")
        return cls(
            at,
            event,
            None,
            None,
            None,
            None,
            status if isinstance(status, int) and not isinstance(status, bool) else None,
        )


class AuditSummary:
    """The entries folded out of a full trail: how many, when, and a count per step."""

    __slots__ = ("counts", "dropped", "since", "until")

    def __init__(
        self, dropped: int = 0, since: float = 0.0, until: float = 0.0, counts: Any = None
    ) -> None:
        self.dropped = dropped
        self.since = since
        self.until = until
        #: ``"trigger outcome"`` -> how many of the folded entries were that.
        self.counts: dict[str, int] = dict(counts or {})

    def fold(self, entry: AuditEntry) -> None:
        """Count ``entry`` in (the oldest entry leaving the trail)."""
        if not self.dropped:
            self.since = entry.at
        self.dropped += 1
        self.until = entry.at
        key = f"{entry.trigger or entry.event} {entry.outcome or entry.event}"
        self.counts[key] = self.counts.get(key, 0) + 1

    def to_json(self) -> dict[str, Any]:
        """The summary line of the JSON Lines form."""
        return {
            "event": "summary",
            "dropped": self.dropped,
            "since": _iso(self.since),
            "until": _iso(self.until),
            "counts": dict(sorted(self.counts.items())),
        }

    def to_stored(self) -> dict[str, Any]:
        """The envelope form: one ``{"summary": {...}}`` object first in ``audit``."""
        return {
            "summary": {
                "n": self.dropped,
                "since": self.since,
                "until": self.until,
                "counts": dict(self.counts),
            }
        }

    @classmethod
    def from_stored(cls, item: Mapping[str, Any]) -> AuditSummary | None:
        """The summary from its envelope form, or None when the object is not one."""
        body = item.get("summary")
        if not isinstance(body, dict):
            return None
        counts = body.get("counts")
        n, since, until = body.get("n"), body.get("since"), body.get("until")
        if not (isinstance(n, int) and isinstance(since, int | float)):
            return None
        return cls(
            n,
            since,
            until if isinstance(until, int | float) else since,
            {
                str(k)[:90]: v
                for k, v in (counts.items() if isinstance(counts, dict) else ())
                if isinstance(v, int)
            },
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AuditSummary):
            return NotImplemented
        return (self.dropped, self.since, self.until, self.counts) == (
            other.dropped,
            other.since,
            other.until,
            other.counts,
        )

    __hash__ = None  # type: ignore[assignment]


class AuditTrail(Sequence[AuditEntry]):
    """A flow's audit trail: its last ``AUDIT_LIMIT`` entries, and a summary of older ones."""

    __slots__ = ("_entries", "_summary")

    def __init__(
        self, entries: Iterable[AuditEntry] = (), summary: AuditSummary | None = None
    ) -> None:
        # A tuple, replaced on each add: smaller than a list (no spare room), and a flow
        # takes a step at most every few seconds.
        kept = tuple(entries)
        self._entries: tuple[AuditEntry, ...] = kept[-AUDIT_LIMIT:]
        self._summary = summary
        if len(kept) > AUDIT_LIMIT:
            self._summary = summary or AuditSummary()
            for old in kept[:-AUDIT_LIMIT]:
                self._summary.fold(old)

    def add(self, entry: AuditEntry) -> None:
        """Append ``entry``; past the limit the oldest entry is folded into the summary."""
        entries = (*self._entries, entry)
        if len(entries) > AUDIT_LIMIT:
            if self._summary is None:
                self._summary = AuditSummary()
            for old in entries[:-AUDIT_LIMIT]:
                self._summary.fold(old)
            entries = entries[-AUDIT_LIMIT:]
        self._entries = entries

    @property
    def summary(self) -> AuditSummary | None:
        """The entries folded out of the trail (None while none was)."""
        return self._summary

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> AuditEntry: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[AuditEntry]: ...
    def __getitem__(self, index: int | slice) -> AuditEntry | Sequence[AuditEntry]:
        return self._entries[index]

    def __iter__(self) -> Iterator[AuditEntry]:
        return iter(self._entries)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AuditTrail):
            return self._entries == other._entries and self._summary == other._summary
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        folded = self._summary.dropped if self._summary else 0
        return f"AuditTrail({len(self._entries)} entries, {folded} folded)"

    def steps(self) -> list[tuple[str, str, str]]:
        """(source, trigger, dest) of the transitions kept, for the flow's diagram."""
        return [
            (e.source, e.trigger, e.dest)
            for e in self._entries
            if e.event == "step" and e.source and e.trigger and e.dest
        ]

    def to_json(self) -> list[dict[str, Any]]:
        """The JSON Lines objects: the summary (if any) first, then one per entry."""
        head = [self._summary.to_json()] if self._summary else []
        return head + [e.to_json() for e in self._entries]

    def lines(self) -> list[str]:
        """The trail as JSON Lines (one compact JSON text per line, no newline)."""
        return [json.dumps(x, separators=(",", ":")) for x in self.to_json()]

    def to_stored(self) -> list[dict[str, Any]]:
        """The snapshot envelope's ``audit`` array."""
        head = [self._summary.to_stored()] if self._summary else []
        return head + [e.to_stored() for e in self._entries]

    @classmethod
    def from_stored(cls, items: Sequence[Mapping[str, Any]]) -> AuditTrail:
        """The trail from the envelope's ``audit`` array (older releases' events included)."""
        summary = None
        entries = []
        for item in items:
            if "summary" in item:
                summary = AuditSummary.from_stored(item) or summary
                continue
            entry = AuditEntry.from_stored(item)
            if entry is not None:
                entries.append(entry)
        return cls(entries, summary)
