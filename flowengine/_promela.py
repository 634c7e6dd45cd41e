"""A Promela model of the login machine and its store protocol, checked by SPIN.

Theory of operation
-------------------
The review's own path search proves its properties with code from this
repository. This module lets a reviewer check the table with an engine we did
not write: it *generates* a Promela model from ``_machine.EDGES`` (states,
triggers, guard names, outcomes, ``TRIGGERS``' factors and remote effects and
``DOUBT``'s rules on a takeover) and has SPIN explore every interleaving.

What the model contains
    * The flow: its state, and each guard the table names as a tracked
      condition -- ``code_attempts`` (bounded by 3, as Auth0 bounds it),
      whether an mfa_token (or an MFA-audience token) is held,
      ``send_unconfirmed``, ``recovery_code_in_doubt``. The guards that read
      the pending factor's kind or the clock (``binding_code_expected``,
      ``otp_expected``, ``push_expected``, ``poll_due``) are abstracted to
      *true*: the model allows more than the library does, which is sound for
      the safety properties below. A guard name the table does not declare
      is an assertion failure where the row is offered.
    * Auth0: its answer to a request is a nondeterministic choice among the
      row's outcomes, or no answer at all (the driver saw the request go out
      unanswered, and records it uncertain).
    * Ghost variables: first factor verified, second factor verified, MFA
      asked (an outcome in ``_review.VERIFIED_OUTCOMES`` of a trigger whose
      ``factor`` is first/second; an outcome in ``MFA_ASKED_OUTCOMES``).
    * The store protocol (``flowengine.stores._base``): two workers share the
      flow. A worker claims it (or takes over a *lapsed* claim), picks a row,
      re-claims with its intent, sends, and saves (which drops claim and
      intent, and moves the stored seq: every claim taken before the save
      is stale, and the store refuses it). A worker may crash at every step
      and comes back as a new worker. A claim lapses at any moment when no
      request of its holder is in flight; this is the model's one timing
      assumption (the HTTP timeout and every push-wait slice are shorter
      than the lease). A takeover of a lapsed claim whose intent is set
      records the flow uncertain and applies ``DOUBT[trigger].on_takeover``;
      so does the re-claim before a send, as the store allows it: on the
      worker's own claim (lapsed or not) it sends, on another worker's
      lapsed claim without an intent it takes the claim and sends, and on
      one with an intent it records the doubt, saves, and sends nothing.

What SPIN verifies (assertions and end states, safety mode)
    * P1 ``authenticated`` is entered only after a verified first factor, and
      after a verified second factor whenever MFA was asked.
    * P2 no Auth0 request is made (nor a row offered) from a final state, nor
      sent without holding the claim.
    * P3 a remote effect (a call whose ``remote_effect`` is not "none") is
      never repeated while an earlier one is unrecorded, unless the flow
      carries an uncertain record.
    * P4 at most one request per flow is in flight.
    * Every live state has a way on: a worker stuck in a live state is an
      invalid end state (SPIN's deadlock check).
    * Every row of the table is taken in some run (SPIN's unreached-code
      report): a row never taken means its source state is unreachable or
      its guards can never hold.

``spin_check`` writes the model to a temporary directory, runs ``spin
-a``, compiles ``pan.c`` with ``gcc`` and runs ``pan`` exhaustively; on an
error it replays the trail (``spin -t``) and translates the ``printf`` lines
the model emits into a path of the machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import attrs

from flowengine import _machine as m

__all__ = [
    "CODE_ATTEMPTS",
    "SpinReport",
    "SpinUnavailableError",
    "promela_model",
    "spin_check",
    "spin_version",
]

#: Auth0 kills a passwordless code after this many wrong tries (``code_attempts_left``).
CODE_ATTEMPTS: Final = 3

_VERIFIED: Final = frozenset({"tokens", "mfa_required", "mfa_access_token"})
_MFA_ASKED: Final = frozenset({"mfa_required", "mfa_access_token"})

#: Each declared guard as a condition on the model's variables.
_GUARD_EXPR: Final = {
    "no_unconfirmed_send": "!send_unconf",
    "send_unconfirmed": "send_unconf",
    "code_attempts_left": f"(attempts < {CODE_ATTEMPTS})",
    "has_mfa_credential": "mfa_cred",
    "has_mfa_token": "mfa_real",
    # the pending factor's kind and the poll clock are abstracted: always may hold
    "binding_code_expected": "true",
    "otp_expected": "true",
    "push_expected": "true",
    "poll_due": "true",
    "code_alive": "true",  # the passwordless code's clock: abstracted like poll_due
    "recovery_code_not_in_doubt": "!rc_doubt",
}

#: ``DOUBT`` effects, by the function's name, as model statements (``state`` before the step).
_DOUBT_STMT: Final = {
    "_send_in_doubt": "if :: state == S_started -> send_unconf = 1 :: else -> skip fi",
    "_code_spent": f"attempts = {CODE_ATTEMPTS}",
    "_recovery_code_in_doubt": "rc_doubt = 1",
    "_unchanged": "skip",
}

_PROPERTY_TAG = re.compile(r"/\* (P\d[^*]*?) \*/")
_ROW_TAG = re.compile(r"/\* row (\S+ from \S+) \*/")


class SpinUnavailableError(RuntimeError):
    """``spin`` or ``gcc`` is not installed (Debian: ``apt-get install spin gcc``)."""


@attrs.frozen
class SpinReport:
    """What SPIN said about one model."""

    version: str
    states_stored: int
    depth: int
    errors: int
    #: The violated property, and the path of the machine that violates it.
    violation: str | None
    counterexample: tuple[str, ...]
    #: Rows of the table SPIN never took, as ``trigger from source`` text.
    unreached_rows: tuple[str, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        """No assertion, end-state or unreached-row error."""
        return self.errors == 0 and not self.unreached_rows

    def summary(self) -> str:
        """A few lines for a terminal or a review page (no timings: they vary)."""
        lines = [
            f"SPIN {self.version}: {self.states_stored} states stored, depth {self.depth}, "
            f"errors {self.errors}"
        ]
        if self.violation:
            lines.append(f"violated: {self.violation}")
        if self.counterexample:
            lines.append("counterexample: " + " ".join(self.counterexample))
        if self.unreached_rows:
            lines.append(
                "rows never taken in any run (unreachable source or guards that never hold): "
                + ", ".join(self.unreached_rows)
            )
        return "\n".join(lines)


def _ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _final_expr(var: str = "state") -> str:
    finals = [s for s in m.STATES if s in m.FINAL_STATES]
    return "(" + " || ".join(f"{var} == S_{_ident(s)}" for s in finals) + ")"


def _effect_ids(edges: Sequence[m.Edge]) -> dict[str, int]:
    """Triggers with a remote effect -> the id of their Auth0 call (same call, same effect)."""
    calls: dict[str, int] = {}
    out: dict[str, int] = {}
    for t in dict.fromkeys(e.trigger for e in edges):
        spec = m.TRIGGERS.get(t)
        if spec is None or spec.call is None or spec.remote_effect == "none":
            continue
        out[t] = calls.setdefault(spec.call.label(), len(calls) + 1)
    return out


def _outcome_stmts(trigger: str, outcome: str, dest: str) -> list[str]:
    spec = m.TRIGGERS.get(trigger)
    factor = spec.factor if spec else None
    s: list[str] = []
    if outcome == "code_sent":
        s += ["send_unconf = 0", "attempts = 0"]
    elif outcome == "wrong_code" and trigger == "verify_otp":
        s.append("attempts++")
    elif outcome == "mfa_required":
        s += ["mfa_cred = 1", "mfa_real = 1"]
    elif outcome == "mfa_access_token":
        s += ["mfa_cred = 1", "mfa_real = 0"]
    elif outcome == "tokens":
        s += ["mfa_cred = 0", "mfa_real = 0"]
    if factor == "first" and outcome in _VERIFIED:
        s.append("first_ok = 1")
    if factor == "second" and outcome == "tokens":
        s.append("second_ok = 1")
    if outcome in _MFA_ASKED:
        s.append("mfa_asked = 1")
    s.append(f"state = S_{_ident(dest)}")
    if dest == m.AUTHENTICATED:
        s.append(
            "assert(first_ok && (!mfa_asked || second_ok)) /* P1 authenticated only "
            "after the first factor, and the second whenever MFA was asked */"
        )
    return s


def _takeover_rules(triggers: Sequence[str]) -> list[str]:
    """An ``if`` applying ``DOUBT[intent].on_takeover`` (its ``fi`` left to the caller)."""
    lines = ["          if"]
    for t in triggers:
        doubt = m.DOUBT.get(t)
        if doubt is None:
            continue
        stmt = _DOUBT_STMT.get(getattr(doubt.on_takeover, "__name__", ""), "skip")
        lines.append(f"          :: intent == T_{_ident(t)} -> {stmt}")
    lines.append("          :: else -> skip")
    return lines


#: A save moved the stored seq: every worker's claim from before it is stale.
_SAVED = "stale[1] = 1; stale[2] = 1"


def promela_model(
    edges: Sequence[m.Edge] = m.EDGES,
    *,
    journal: bool = True,
    lapse_in_flight: bool = False,
    renewal_keeps_intent: bool = True,
) -> tuple[str, dict[int, str]]:
    """The Promela text for ``edges``, and its row lines (line number -> row text).

    ``journal=False`` models a store without the intent journal,
    ``lapse_in_flight=True`` lets a claim lapse while its request is in flight and
    ``renewal_keeps_intent=False`` lets a renewal take over another worker's lapsed
    claim without reading its intent (as ``FlowRepository`` once did): each breaks the
    protocol on purpose, to show SPIN catching it.
    """
    lapse = "owner != 0 && !lapsed" + ("" if lapse_in_flight else " && inflight == 0")
    takeover = "lapsed && intent != 0" if journal else "false"
    # The renewal before a send (FlowRepository._renew): the store's claim succeeds on our
    # own claim (lapsed or not) and on another worker's lapsed one; a saved flow (owner 0:
    # its seq moved) or a live foreign claim refuse it. Taking over a lapsed claim whose
    # journal names a request records the doubt, saves it and sends nothing.
    foreign = "!stale[me] && owner != me && owner != 0 && lapsed"
    if journal and renewal_keeps_intent:
        renew_ok = f"(owner == me && !stale[me]) || ({foreign} && intent == 0)"
        renew_doubt = f"{foreign} && intent != 0"
    else:
        renew_ok = f"(owner == me && !stale[me]) || ({foreign})"
        renew_doubt = "false"
    states = list(
        dict.fromkeys(
            [
                *m.STATES,
                *(e.source for e in edges),
                *(d for e in edges for d in e.outcomes.values()),
            ]
        )
    )
    triggers = list(dict.fromkeys([*m.TRIGGERS, *(e.trigger for e in edges)]))
    effects = _effect_ids(edges)
    lines: list[str] = [
        "/* Generated by flowengine._promela from the machine table: do not edit. */",
    ]
    lines += [f"#define S_{_ident(s)} {i}" for i, s in enumerate(states)]
    lines += [f"#define T_{_ident(t)} {i + 1}" for i, t in enumerate(triggers)]
    lines += [
        f"#define FINAL {_final_expr()}",
        "byte state = S_started;",
        "/* the guards' conditions */",
        "byte attempts = 0; bool send_unconf = 0; bool mfa_cred = 0; bool mfa_real = 0;",
        "bool rc_doubt = 0;",
        "/* ghosts: the factors verified, MFA asked */",
        "bool first_ok = 0; bool second_ok = 0; bool mfa_asked = 0;",
        "/* the store: claim holder (0: none), lapsed, the intent journal */",
        "byte owner = 0; bool lapsed = 0; byte intent = 0;",
        "/* per worker: a save since its claim (the stored seq moved: its claim calls fail) */",
        "bool stale[3];",
        "/* requests in flight; a remote effect no save recorded; an uncertain record */",
        "byte inflight = 0; byte unrecorded = 0; bool noted = 0;",
        "",
        "active proctype Lease() {",
        "end: do",
        f'  :: atomic {{ {lapse} -> lapsed = 1; printf("@@ev the claim lapsed\\n") }}',
        "  od",
        "}",
        "",
        "proctype Worker(byte me) {",
        "  byte t; byte eff; bool flying = 0;",
        "idle:",
        "end_idle:",
        "  if",
        "  :: FINAL -> goto done",
        "  :: atomic { (owner == 0 || lapsed) -> /* a worker may step an ended flow too */",
        "       if",
        f"       :: {takeover} ->",
        "          noted = 1;",
        '          printf("@@ev worker %d took over an intent: uncertain\\n", me);',
        *_takeover_rules(triggers),
        "          fi",
        "       :: else ->",
        '          if :: lapsed -> printf("@@ev worker %d took over a lapsed claim\\n", me)',
        "          :: else -> skip fi",
        "       fi;",
        "       owner = me; lapsed = 0; intent = 0; t = 0; eff = 0; stale[me] = 0 };",
        "  fi;",
        "  if :: goto crash :: skip fi;",
        "pick:",
        "  if",
    ]
    rows: dict[int, str] = {}
    for e in edges:
        spec = m.TRIGGERS.get(e.trigger)
        calls = spec is not None and spec.call is not None
        src = f"S_{_ident(e.source)}"
        lines.append(
            f"  :: atomic {{ state == {src} && owner == me && !lapsed -> "
            f"/* row {e.trigger} from {e.source} */"
        )
        lines.append("     assert(!FINAL) /* P2 no Auth0 request (no row) out of a final state */;")
        for g in e.guards:
            if g not in _GUARD_EXPR:
                lines.append(f"     assert(false) /* P0 guard {g} is declared */;")
        cond = " && ".join(_GUARD_EXPR[g] for g in e.guards if g in _GUARD_EXPR) or "true"
        lines += [
            "     if",
            f"     :: !({cond}) -> goto idle_again /* refused by a guard */",
            "     :: else -> skip",
            "     fi };",
            f"     t = T_{_ident(e.trigger)}; eff = {effects.get(e.trigger, 0)};",
        ]
        rows[len(lines)] = f"{e.trigger} from {e.source}"  # executed iff the row is taken
        if calls:
            lines += [
                "     /* re-claim with the intent and send: the request's time starts here */",
                "     if",
                f"     :: atomic {{ {renew_ok} -> owner = me; lapsed = 0; intent = t;",
                "       assert(owner == me && !lapsed) /* P2 no request without the claim */;",
                "       assert(!FINAL) /* P2 no Auth0 request out of a final state */;",
                "       assert(inflight == 0) /* P4 at most one request in flight */;",
                "       assert(eff == 0 || unrecorded != eff || noted) "
                "/* P3 no remote effect repeated without an uncertain record */;",
                "       inflight++; flying = 1;",
                f'       printf("@@ev worker %d sent {e.trigger}\\n", me);',
                "       if :: eff != 0 -> unrecorded = eff :: else -> skip fi }",
                f"     :: atomic {{ {renew_doubt} -> noted = 1;",
                *_takeover_rules(triggers),
                "          fi;",
                f"          owner = 0; lapsed = 0; intent = 0; {_SAVED};",
                "          /* the doubt saved (seq moved), nothing sent */",
                '          printf("@@ev worker %d renewed over an intent: uncertain\\n", me) };',
                "        goto idle",
                f"     :: atomic {{ !({renew_ok}) && !({renew_doubt}) ->",
                '          printf("@@ev worker %d lost its claim before sending\\n", me) };',
                "        goto idle",
                "     fi;",
                "     if",
                "     :: atomic { inflight--; flying = 0 }",
                "     :: goto crash",
                "     :: atomic { inflight--; flying = 0;",
                "          if",
                "          :: owner == me && !lapsed ->",
            ]
            doubt = m.DOUBT.get(e.trigger)
            stmt = _DOUBT_STMT.get(
                getattr(doubt.on_answerless, "__name__", "") if doubt else "", "skip"
            )
            lines += [
                f"             {stmt}; noted = 1; owner = 0; intent = 0; {_SAVED};",
                f'             printf("@@ev {e.trigger} went out unanswered: uncertain\\n")',
                '          :: else -> printf("@@ev the save was refused: the claim was lost\\n")',
                "          fi };",
                "        goto idle",
                "     fi;",
                "     if :: goto crash :: skip fi;",
            ]
        lines.append("     if")
        for outcome, dest in e.outcomes.items():
            body = "; ".join(_outcome_stmts(e.trigger, outcome, dest))
            lines += [
                "     :: atomic { owner == me && !lapsed ->",
                f'          printf("@@step {e.source} {e.trigger} {outcome} {dest}\\n");',
                f"          {body};",
                f"          owner = 0; intent = 0; unrecorded = 0; noted = 0; {_SAVED} }}",
            ]
        lines += [
            '     :: atomic { owner != me || lapsed -> printf("@@ev the save was refused: '
            'the claim was lost\\n") }',
            "     fi;",
            "     goto idle",
        ]
    sources = " || ".join(f"state == S_{_ident(s)}" for s in dict.fromkeys(e.source for e in edges))
    lines += [
        "  :: atomic { owner == me && !lapsed && FINAL -> owner = 0; intent = 0 }; goto done",
        "  :: atomic { owner == me && !lapsed && !FINAL && !(" + (sources or "false") + ") ->",
        "       assert(false) /* P5 every live state has a way on */ }",
        "  :: atomic { owner != me || lapsed -> "
        'printf("@@ev worker %d lost its claim\\n", me) }; goto idle',
        "  fi;",
        "idle_again:",
        "  goto pick;",
        "crash:",
        "  atomic { if :: flying -> inflight--; flying = 0 :: else -> skip fi;",
        '           t = 0; eff = 0; printf("@@ev worker %d crashed\\n", me) };',
        "  goto idle;",
        "done:",
        "  skip",
        "}",
        "",
        "init { atomic { run Worker(1); run Worker(2) } }",
        "",
    ]
    return "\n".join(lines), rows


def _run(args: Sequence[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            list(args), cwd=cwd, capture_output=True, text=True, timeout=600, check=False
        )
    except FileNotFoundError as exc:
        raise SpinUnavailableError(
            f"{args[0]} is not installed (apt-get install spin gcc)"
        ) from exc
    return done.stdout + done.stderr


def spin_version() -> str:
    """SPIN's version text (``6.5.2 -- 6 December 2019``); raises when SPIN is missing."""
    if shutil.which("spin") is None:
        raise SpinUnavailableError("spin is not installed (apt-get install spin gcc)")
    out = _run(["spin", "-V"], Path.cwd())
    match = re.search(r"Spin Version (.*)", out)
    return match.group(1).strip() if match else out.strip()


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    return int(match.group(1)) if match else 0


def _translate(trail: str, model: str) -> tuple[str | None, tuple[str, ...]]:
    """SPIN's replayed trail -> (the violated property, the machine's path)."""
    path: list[str] = [m.STARTED]  # the model's flow starts there
    for line in trail.splitlines():
        text = line.strip()
        if text.startswith("spin:") and "Error:" in text:
            break  # what the replay prints after the violation did not happen
        if text.startswith("@@step "):
            trigger, outcome, dest = text.split()[2:5]
            path.append(f"--{trigger}/{outcome}--> {dest}")
        elif text.startswith("@@ev "):
            path.append(f"[{text[5:]}]")
    # a send answered and saved at once reads as its step: drop the "sent" event
    path = [
        p
        for i, p in enumerate(path)
        if not (
            re.fullmatch(r"\[worker \d sent \w+\]", p)
            and i + 1 < len(path)
            and path[i + 1].startswith(f"--{p.split()[-1][:-1]}/")
        )
    ]
    violation = None
    match = re.search(r":(\d+), Error: (.*)", trail)
    if match:
        number, error = int(match.group(1)), match.group(2).strip()
        source = model.splitlines()[number - 1] if number <= len(model.splitlines()) else ""
        tag = _PROPERTY_TAG.search(source)
        violation = tag.group(1) if tag else error
        for previous in reversed(model.splitlines()[:number]):
            row = _ROW_TAG.search(previous)
            if row:  # the error is inside a row: say which one was offered or sent
                if not violation.startswith("P1"):  # (P1 fails in a step, which says it)
                    path.append(f"[then {row.group(1)}]")
                break
            if previous.startswith("pick:"):
                break
    elif "invalid end state" in trail:
        violation = "a live state with no way on (invalid end state)"
    return violation, tuple(path)


def _compile(d: Path, binary: str, *flags: str) -> None:
    out = _run(["gcc", "-O0", "-w", "-DSAFETY", *flags, "-o", binary, "pan.c"], d)
    if not (d / binary).exists():
        raise RuntimeError(f"gcc could not compile pan.c:\n{out}")


def spin_check(
    edges: Sequence[m.Edge] = m.EDGES,
    *,
    journal: bool = True,
    lapse_in_flight: bool = False,
    renewal_keeps_intent: bool = True,
) -> SpinReport:
    """Generate the model of ``edges``, verify it with SPIN, and report.

    Raises ``SpinUnavailableError`` when ``spin`` or ``gcc`` is missing: a
    missing checker is never a pass.
    """
    for tool in ("spin", "gcc"):
        if shutil.which(tool) is None:
            raise SpinUnavailableError(f"{tool} is not installed (apt-get install spin gcc)")
    version = spin_version()
    model, rows = promela_model(
        edges,
        journal=journal,
        lapse_in_flight=lapse_in_flight,
        renewal_keeps_intent=renewal_keeps_intent,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="flowengine-spin-") as tmp:
        d = Path(tmp)
        (d / "model.pml").write_text(model)
        out = _run(["spin", "-a", "model.pml"], d)
        if not (d / "pan.c").exists():
            raise RuntimeError(f"spin could not read the generated model:\n{out}")
        # depth-first with partial-order reduction for the verdict and its figures
        _compile(d, "pan")
        pan = _run(["./pan", "-m500000"], d)
        if "max search depth too small" in pan:
            raise RuntimeError("pan's search depth is too small for the model")
        errors = _number(r"errors: (\d+)", pan)
        violation: str | None = None
        path: tuple[str, ...] = ()
        if errors:
            # breadth-first again for the shortest trail, which a reviewer can read
            _compile(d, "pan_bfs", "-DBFS")
            _run(["./pan_bfs"], d)
            violation, path = _translate(_run(["spin", "-t", "model.pml"], d), model)
    unreached = sorted(
        {rows[n] for n in map(int, re.findall(r"model\.pml:(\d+), state", pan)) if n in rows}
    )
    return SpinReport(
        version=version,
        states_stored=_number(r"(\d+) states, stored", pan),
        depth=_number(r"depth reached (\d+)", pan),
        errors=errors,
        violation=violation,
        counterexample=path,
        unreached_rows=tuple(unreached) if not errors else (),
        seconds=time.monotonic() - started,
    )
