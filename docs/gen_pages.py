"""Pages generated from the code at build time (run by the ``gen-files`` plugin).

Theory of operation
-------------------
The pages a reader trusts most are the ones that cannot drift: the machine's table
comes from ``flowengine._machine.EDGES`` (and ``GUARD_RECORDS``, ``DOUBT``), the CLI
reference from the argparse parsers the command runs, the error catalogue from the
exception classes with ``flowengine.cli._output.exit_code_for`` and the web layer's
``flowengine.web._problem.PROBLEMS``, and the security
review and diagrams from ``diagrams/`` (themselves checked against the machine by
``tests/diagrams``). Nothing here is committed as Markdown: ``mkdocs build`` calls
``main()``, which writes each page into the build's virtual docs directory.

Each page is built by a plain function returning text, so ``tests/docs`` can check
the pages against the code without MkDocs installed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: What each ``DOUBT`` effect does, by function name. A new effect without a line here
#: fails the build (``KeyError``), so the page never describes an effect it does not know.
EFFECT_TEXT = {
    "_unchanged": "nothing changes: the step may be tried again",
    "_send_in_doubt": "from `started`, `send_unconfirmed` is set: only `resend_code` sends again",
    "_code_spent": "the code counts as spent (`code_attempts` = 3): only `resend_code` helps",
    "_recovery_code_in_doubt": "`recovery_code_in_doubt` is set: the recovery code is not "
    "offered again (guard `recovery_code_not_in_doubt`)",
}


def machine_page() -> str:
    """The states x triggers table, the edges with their outcomes, and the guards."""
    from flowengine import _machine as m

    triggers = list(m.TRIGGERS)
    lines = [
        "# The machine's table",
        "",
        "<!-- Generated from flowengine/_machine.py by docs/gen_pages.py at build time. -->",
        "",
        f"Generated at build time from `flowengine._machine.EDGES` (machine "
        f"`{m.MACHINE_NAME}`, definition sha256 `{m.MACHINE_HASH[:16]}…`): "
        f"{len(m.STATES)} states, {len(triggers)} triggers, {len(m.EDGES)} edges. "
        "Anything not in this table is refused with `IllegalTransitionError` before a "
        "request is built.",
        "",
        "## States and triggers",
        "",
        "Each cell lists the states a trigger can lead to from the row's state; "
        "an empty cell is an illegal step. Final states have no way out.",
        "",
        "| state | " + " | ".join(f"`{t}`" for t in triggers) + " |",
        "|---|" + "---|" * len(triggers),
    ]
    for state in m.STATES:
        cells = []
        for trigger in triggers:
            edge = m.EDGE_INDEX.get((trigger, state))
            if edge is None:
                cells.append("")
            else:
                dests = dict.fromkeys(str(d) for d in edge.outcomes.values())
                cells.append(", ".join(dests))
        name = f"**{state}** (final)" if state in m.FINAL_STATES else f"**{state}**"
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Edges",
        "",
        "One row per edge: the Auth0 call, the guards that must hold before the request is "
        "built, and the state each outcome of the answer selects.",
        "",
        "| trigger | from | Auth0 call | guards | outcome → state |",
        "|---|---|---|---|---|",
    ]
    for e in m.EDGES:
        spec = m.TRIGGERS[e.trigger]
        call = f"`{spec.call.label()}`" if spec.call else "none"
        guards = ", ".join(f"`{g}`" for g in e.guards) or "none"
        outcomes = "<br>".join(f"`{k}` → {v}" for k, v in e.outcomes.items())
        lines.append(f"| `{e.trigger}` | {e.source} | {call} | {guards} | {outcomes} |")
    lines += [
        "",
        "## Guards",
        "",
        "| guard | holds when | hint given when it says no |",
        "|---|---|---|",
    ]
    for g in m.GUARD_RECORDS.values():
        doc = (g.check.__doc__ or "").strip().splitlines()[0]
        lines.append(f"| `{g.name}` | {doc} | {g.hint} |")
    lines += [
        "",
        "## Uncertain steps",
        "",
        "What follows a request that may have reached Auth0 without an answer "
        "(`flowengine._machine.DOUBT`). *Answerless*: the driver saw the request go out "
        "and no answer come back (the caller gets a `TransportError` with `ambiguous` "
        "true, or a `LostUpdateError`). *Takeover*: a worker took over an expired claim "
        "whose intent journal names the trigger (nobody saw the failure).",
        "",
        "| trigger | what the user can do next | on answerless | on takeover |",
        "|---|---|---|---|",
    ]
    for trigger, doubt in m.DOUBT.items():
        lines.append(
            f"| `{trigger}` | {doubt.next_step} | "
            f"{EFFECT_TEXT[doubt.on_answerless.__name__]} | "
            f"{EFFECT_TEXT[doubt.on_takeover.__name__]} |"
        )
    return "\n".join(lines) + "\n"


def _subcommands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.values()


def _walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for sub in _subcommands(parser):
        yield from _walk(sub)


def cli_page() -> str:
    """Every command's ``--help``, from the parsers ``flowengine`` runs."""
    from flowengine.cli import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal: fix it for the page
    try:
        parsers = list(_walk(build_parser()))
        lines = [
            "# Command line reference",
            "",
            "<!-- Generated from the argparse parsers by docs/gen_pages.py at build time. -->",
            "",
            "Generated at build time from `flowengine.cli.build_parser()`: the text below is "
            "exactly what `--help` prints. Scripting with these commands: "
            "[the CLI guide](../guides/cli.md).",
            "",
        ]
        for p in parsers:
            lines += [f"## `{p.prog}`", "", "```text", p.format_help().rstrip(), "```", ""]
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(lines)


def error_classes() -> list[type[BaseException]]:
    """Every public exception class, parents before children (the tree's order)."""
    import flowengine

    public = {
        name: obj
        for name in flowengine.__all__
        if isinstance(obj := getattr(flowengine, name), type)
        and issubclass(obj, flowengine.FlowEngineError)
    }
    order: list[type[BaseException]] = []

    def visit(cls: type[BaseException]) -> None:
        order.append(cls)
        for sub in sorted(cls.__subclasses__(), key=lambda c: c.__name__):
            if public.get(sub.__name__) is sub:
                visit(sub)

    visit(flowengine.FlowEngineError)
    return order


def http_problem(cls: type[BaseException]) -> tuple[int, str]:
    """The HTTP status and problem ``type`` slug the web layer gives ``cls`` (its own entry)."""
    from flowengine.web._problem import PROBLEMS

    entry = next(PROBLEMS[c] for c in cls.__mro__ if c in PROBLEMS)
    return entry.status, entry.slug


def errors_page() -> str:
    """The exception tree with each error's meaning, HTTP problem and CLI exit code."""
    import flowengine
    from flowengine.cli._output import exit_code_for
    from flowengine.web._problem import TYPE_BASE

    lines = [
        "# Error catalogue",
        "",
        "<!-- Generated from flowengine/_errors.py by docs/gen_pages.py at build time. -->",
        "",
        "Generated at build time from the exception classes of `flowengine`, "
        "`flowengine.cli._output.exit_code_for` and `flowengine.web._problem.PROBLEMS`. "
        "Every error the library raises on purpose derives from `FlowEngineError`; *local* "
        "errors leave the flow exactly as it was and send nothing. The HTTP columns are the "
        "status and the RFC 9457 problem `type` (after the prefix "
        f"`{TYPE_BASE}`) that `flowengine.web.problem_for` answers "
        "with ([API reference](web.md)); exit codes are those of the `flowengine` command "
        "([CLI reference](cli.md)). A step that was applied but did not succeed is not an "
        "error: a wrong code answers 422 `wrong-code`, wrong credentials 422 "
        "`wrong-credentials` (`flowengine.web.problem_for_result`).",
        "",
        "| error | parent | meaning | HTTP status | problem type | CLI exit code |",
        "|---|---|---|---|---|---|",
    ]
    for cls in error_classes():
        depth = sum(1 for b in cls.__mro__[1:] if issubclass(b, flowengine.FlowEngineError))
        doc = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())  # first paragraph
        parent = next(
            (b.__name__ for b in cls.__bases__ if issubclass(b, flowengine.FlowEngineError)),
            "Exception",
        )
        code = exit_code_for(cls.__new__(cls))  # isinstance only: no constructor arguments
        status, slug = http_problem(cls)
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * depth
        lines.append(
            f"| {indent}`{cls.__name__}` | `{parent}` | {doc} | {status} | `{slug}` | {code} |"
        )
    lines += ["", "## What the exit codes mean", "", "```text"]
    from flowengine.cli._output import EXIT_CODES_HELP

    lines += [EXIT_CODES_HELP, "```", ""]
    return "\n".join(lines)


#: Generated page path (inside the docs) -> the function that writes it.
PAGES = {
    "concepts/tables.md": machine_page,
    "reference/cli.md": cli_page,
    "reference/errors.md": errors_page,
}
#: Files copied from the repository into the site (generated and drift-checked there).
COPIED = {
    "diagrams/review.md": "diagrams/review.md",
    "diagrams/flow.svg": "diagrams/flow.svg",
    "diagrams/flow.dot": "diagrams/flow.dot",
    "diagrams/flow.mmd": "diagrams/flow.mmd",
    "diagrams/overview.svg": "diagrams/overview.svg",
}
# The factor views review.md links to (``flowengine._views.FACTORS``), copied alike.
COPIED.update(
    {f"diagrams/{p.name}": f"diagrams/{p.name}" for p in sorted(ROOT.glob("diagrams/view-*.svg"))}
)


def main() -> None:
    """Write every generated page into the build (called by mkdocs-gen-files)."""
    import mkdocs_gen_files

    for path, build in PAGES.items():
        with mkdocs_gen_files.open(path, "w") as fh:
            fh.write(build())
    for target, source in COPIED.items():
        with mkdocs_gen_files.open(target, "wb") as fh:
            fh.write((ROOT / source).read_bytes())


if __name__ in {"__main__", "<run_path>"}:
    main()
