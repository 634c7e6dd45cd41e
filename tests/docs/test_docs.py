"""The documentation is true: its examples run, its pages match the code, and it builds.

Every ```python block of ``docs/**/*.md`` runs as written (a block that defines
``test_*`` functions runs under pytest, with the flowengine plugin's fixtures), and every
```bash block as a script (the ```sh blocks run in ``test_sh_blocks.py``); every
public name has a docstring for the API reference; the pages generated at build time by
``docs/gen_pages.py`` cover the whole machine, CLI and error tree; the test files the
security model cites exist; and ``scripts/docs`` (mkdocs build --strict) succeeds with no
warning where MkDocs is installed (the ``docs`` extra; CI installs it).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

import flowengine
import flowengine.testing
import flowengine.web
from flowengine import _machine as m
from flowengine.cli import build_parser
from flowengine.cli._output import exit_code_for
from flowengine.web._problem import PROBLEMS

from ._docstrings import docstring

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
BLOCKS = [
    (page.relative_to(DOCS).as_posix(), index, code)
    for page in PAGES
    for index, code in enumerate(
        re.findall(r"^```python\n(.*?)^```$", page.read_text(), re.M | re.S)
    )
]

#: ```bash blocks run too, as scripts (``bash -euo pipefail``, in an empty directory);
#: ```sh blocks (installs, a real tenant, a server left running) run in test_sh_blocks.py.
SCRIPTS = [
    (page.relative_to(DOCS).as_posix(), index, code)
    for page in PAGES
    for index, code in enumerate(re.findall(r"^```bash\n(.*?)^```$", page.read_text(), re.M | re.S))
]


def _load_gen_pages() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("docs_gen_pages", DOCS / "gen_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _load_gen_pages()


@pytest.fixture(autouse=True)
def _restore_library_logger() -> Iterator[None]:
    """A block may configure the flowengine logger: undone after each test."""
    logger = logging.getLogger("flowengine")
    saved = logger.level, list(logger.handlers)
    yield
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]


# ------------------------------------------------------------------ examples


def test_the_docs_have_examples_on_every_page_that_teaches_code() -> None:
    """Getting started, the concepts and the testing guide each carry a runnable example."""
    with_code = {page for page, _, _ in BLOCKS}
    assert {
        "getting-started.md",
        "concepts/machine.md",
        "concepts/persistence.md",
        "concepts/uncertain.md",
        "guides/testing.md",
        "guides/operations.md",
    } <= with_code


@pytest.mark.parametrize(("page", "index", "code"), BLOCKS, ids=[f"{p}[{i}]" for p, i, _ in BLOCKS])
def test_python_block_runs(page: str, index: int, code: str, tmp_path: Path) -> None:
    """Each Python block runs as written (its asserts included); test blocks pass under pytest."""
    if re.search(r"^def test_", code, re.M):
        target = tmp_path / "test_block.py"
        target.write_text(code)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                str(target),
                "-q",
                "-p",
                "no:randomly",
                "-p",
                "no:cacheprovider",
                "-W",
                "error::pytest.PytestUnraisableExceptionWarning",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        defined = len(re.findall(r"^def test_", code, re.M))
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"{defined} passed" in run.stdout, run.stdout
        return
    exec(compile(code, f"docs/{page}[python {index}]", "exec"), {"__name__": "docs_example"})


def test_getting_started_runs_a_login_in_the_library_the_cli_and_the_web_page() -> None:
    """Getting started has a library example and a CLI and a web-page script, all run."""
    text = (DOCS / "getting-started.md").read_text()
    assert "web layer" not in text  # the old "waits for the web layer (issue 15)"
    scripts = [code for page, _, code in SCRIPTS if page == "getting-started.md"]
    assert any("flowengine flow start" in code for code in scripts)
    assert any("flowengine web" in code for code in scripts)
    assert any(page == "getting-started.md" for page, _, _ in BLOCKS)


@pytest.mark.parametrize(
    ("page", "index", "code"), SCRIPTS, ids=[f"{p}[bash {i}]" for p, i, _ in SCRIPTS]
)
def test_bash_block_runs(page: str, index: int, code: str, tmp_path: Path) -> None:
    """Each bash block runs as written, with this tree's ``flowengine`` and errexit on."""
    for tool in ("flowengine", "jq", "curl"):
        assert shutil.which(tool), f"{tool} is not installed (docs/{page} needs it)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "FLOWENGINE_STORE"):
        env.pop(name, None)  # the scripts run against their own emulator
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"docs/{page}[bash {index}]\n{run.stdout}{run.stderr}"


# ---------------------------------------------------------------- docstrings

#: Public names without a docstring today (constants: a docstring is a string literal
#: after the assignment or ``#:`` comments before it). Each test is xfail(strict): it
#: fails the day one is documented, so that the name leaves this list.
UNDOCUMENTED: set[tuple[str, str]] = set()
PACKAGES = (flowengine, flowengine.testing, flowengine.web)
PUBLIC = [(pkg.__name__, name) for pkg in PACKAGES for name in pkg.__all__]


@pytest.mark.parametrize(
    ("package", "name"),
    [
        pytest.param(
            pkg,
            name,
            marks=pytest.mark.xfail(strict=True, reason="no docstring yet")
            if (pkg, name) in UNDOCUMENTED
            else (),
        )
        for pkg, name in PUBLIC
    ],
    ids=[f"{p}.{n}" for p, n in PUBLIC],
)
def test_public_name_has_a_docstring(package: str, name: str) -> None:
    """Every name in ``__all__`` carries the docstring the API reference shows."""
    module = sys.modules[package]
    assert docstring(module, name), f"{package}.{name} has no docstring"


#: A Sphinx role (``:class:`X```): mkdocstrings shows it raw, so docstrings use backticks.
SPHINX_ROLE = re.compile(r":(?:py:)?(?:class|func|data|meth|attr|mod|exc|obj|const):`")


def _documentation_of(path: Path) -> Iterator[tuple[int, str]]:
    """Every docstring of a module (module, classes, functions) and its ``#:`` comments."""
    source = path.read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield getattr(node, "lineno", 1), doc
    for number, line in enumerate(source.splitlines(), 1):
        if line.lstrip().startswith("#:"):
            yield number, line


def test_no_docstring_uses_a_sphinx_role() -> None:
    """No docstring or ``#:`` comment of the package holds ``:class:`` and the like."""
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "flowengine").rglob("*.py"))
        for line, text in _documentation_of(path)
        if SPHINX_ROLE.search(text)
    ]
    assert found == []


def test_the_sphinx_role_check_sees_a_role() -> None:
    """The check above is not blind: it finds a role in a docstring and in a comment."""
    assert SPHINX_ROLE.search("See :class:`FlowClient`.") and SPHINX_ROLE.search(":func:`x`")
    assert not SPHINX_ROLE.search("See ``FlowClient``.")


def test_every_public_docstring_is_free_of_sphinx_roles() -> None:
    """The docstrings the API reference shows, public names and their members, have none."""
    for package, name in PUBLIC:
        obj = getattr(sys.modules[package], name)
        docs = [docstring(sys.modules[package], name) or ""]
        if isinstance(obj, type):
            docs += [getattr(v, "__doc__", None) or "" for v in vars(obj).values()]
        assert not any(SPHINX_ROLE.search(d) for d in docs), f"{package}.{name}"


def test_the_undocumented_list_names_only_public_names() -> None:
    """The xfail list cannot hide a name that is not public (a typo, a removed name)."""
    assert set(PUBLIC) >= UNDOCUMENTED


# ------------------------------------------------------------ generated pages


def _cells(page: str, heading: str) -> list[list[str]]:
    """The rows of the first table under ``heading`` in a generated page."""
    section = page.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]


def test_the_state_trigger_table_is_the_machine() -> None:
    """Each cell lists exactly the destinations EDGES gives that (state, trigger)."""
    triggers = list(m.TRIGGERS)
    rows = _cells(GEN.machine_page(), "States and triggers")
    assert [r[0].split("**")[1] for r in rows] == list(m.STATES)
    for row in rows:
        state = row[0].split("**")[1]
        for trigger, cell in zip(triggers, row[1:], strict=True):
            edge = m.EDGE_INDEX.get((trigger, state))
            want = set() if edge is None else {str(d) for d in edge.outcomes.values()}
            assert set(filter(None, cell.split(", "))) == want, (state, trigger)


def test_the_edge_table_has_every_edge_outcome_and_guard() -> None:
    """One row per edge, in table order, with its guards and every outcome."""
    rows = _cells(GEN.machine_page(), "Edges")
    assert len(rows) == len(m.EDGES)
    for edge, row in zip(m.EDGES, rows, strict=True):
        assert row[0] == f"`{edge.trigger}`" and row[1] == edge.source
        assert re.findall(r"`(\w+)`", row[3]) == list(edge.guards)
        assert dict(re.findall(r"`(\w+)` → (\w+)", row[4])) == dict(edge.outcomes)


def test_the_doubt_table_covers_every_trigger_that_calls_auth0() -> None:
    """Every DOUBT rule is described; a new effect function fails the page (KeyError)."""
    rows = _cells(GEN.machine_page(), "Uncertain steps")
    assert [r[0].strip("`") for r in rows] == list(m.DOUBT)
    calling = {name for name, spec in m.TRIGGERS.items() if spec.call is not None}
    assert set(m.DOUBT) == calling
    for row, doubt in zip(rows, m.DOUBT.values(), strict=True):
        assert row[1] == doubt.next_step
        assert row[2] == GEN.EFFECT_TEXT[doubt.on_answerless.__name__]
        assert row[3] == GEN.EFFECT_TEXT[doubt.on_takeover.__name__]


def test_the_error_catalogue_is_the_exception_tree_with_http_and_exit_codes() -> None:
    """Every public error appears once, under its parent, with its HTTP problem and exit code."""
    public = {
        n: getattr(flowengine, n)
        for n in flowengine.__all__
        if isinstance(getattr(flowengine, n), type)
        and issubclass(getattr(flowengine, n), flowengine.FlowEngineError)
    }
    text = GEN.errors_page()
    table = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    seen = {}
    for line in table:
        cells = [c.strip() for c in line.strip("|").split("|")]
        name = re.search(r"`(\w+)`", cells[0])
        assert name is not None
        assert len(cells) == 6, line
        seen[name.group(1)] = (
            cells[1].strip("`"),
            int(cells[3]),
            cells[4].strip("`"),
            int(cells[5]),
        )
    assert set(seen) == set(public)
    for name, cls in public.items():
        parent, status, slug, code = seen[name]
        assert code == exit_code_for(cls.__new__(cls))
        assert parent == "Exception" or issubclass(cls, getattr(flowengine, parent))
        own = PROBLEMS[cls]  # the class's own entry, the one problem_for picks first
        assert (status, slug) == (own.status, own.slug), name
    assert "web layer" not in text  # the old "waits for the web layer (issue 15)"


def _all_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_parsers(sub)


def test_the_cli_reference_has_every_command_and_option() -> None:
    """Every parser (command and subcommand) has a section holding each of its options."""
    page = GEN.cli_page()
    sections = dict(re.findall(r"^## `([^`]+)`\n\n```text\n(.*?)^```$", page, re.M | re.S))
    parsers = list(_all_parsers(build_parser()))
    assert set(sections) == {p.prog for p in parsers}
    for p in parsers:
        for action in p._actions:
            for option in action.option_strings:
                assert option in sections[p.prog], (p.prog, option)


def test_the_cli_reference_has_the_commands_that_landed_with_the_web_layer() -> None:
    """``web``, ``store migrate``, ``flow audit`` and ``diagram --view`` are in the reference."""
    page = GEN.cli_page()
    for prog in ("flowengine web", "flowengine store migrate", "flowengine flow audit"):
        assert f"## `{prog}`" in page, prog
    diagram = page.split("## `flowengine diagram`", 1)[1].split("\n## ", 1)[0]
    assert "--view" in diagram


def test_the_diagrams_copied_into_the_site_exist() -> None:
    """The security review and diagrams the site publishes are the committed ones."""
    for source in GEN.COPIED.values():
        assert (ROOT / source).is_file(), source


# --------------------------------------------------------------- citations


def test_every_test_the_docs_cite_exists() -> None:
    """A cited ``tests/...py`` file exists, and a cited ``::test_name`` is defined in it."""
    cited = set()
    for page in PAGES:
        cited |= set(re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", page.read_text()))
    assert len(cited) >= 20
    for path, name in cited:
        source = ROOT / path
        assert source.is_file(), path
        if name:
            assert re.search(rf"^(async )?def {name}\(", source.read_text(), re.M), (path, name)


def test_each_attacker_of_the_security_model_cites_a_test_and_the_review() -> None:
    """Every attacker paragraph names a proving test and links the generated review."""
    text = (DOCS / "security.md").read_text()
    section = text.split("\n## Attackers and guarantees\n", 1)[1].split("\n## ", 1)[0]
    attackers = [p for p in map(str.strip, section.split("\n\n")) if p.startswith("**Someone")]
    for needle in (
        "logs",
        "writes to the store",
        "two tabs",
        "crashes",
        "network path",
        "wrong tenant",
        "client assertion",
        "`id_token`",
        "cookie",
        "web page from two tabs",
    ):
        assert any(needle in p.split("**")[1] for p in attackers), needle
    for paragraph in attackers:
        head = paragraph.split("**")[1]
        assert re.search(r"`tests/[\w/]+\.py", paragraph), head
        assert "](diagrams/review.md#" in paragraph, head
        assert "*Left to the application*" in paragraph, head
    for page in ("concepts/real-tenant.md", "guides/identity.md"):
        assert f"]({page}" in text, page


def test_the_concepts_describe_the_audit_trail_and_the_diagram_views() -> None:
    """The audit trail's fold limit and the views' names on the concept pages are the code's."""
    from flowengine._audit import AUDIT_LIMIT
    from flowengine.diagram import VIEW_NAMES

    persistence = (DOCS / "concepts" / "persistence.md").read_text()
    assert "## The audit trail" in persistence
    assert f"past {AUDIT_LIMIT} entries" in persistence
    machine = (DOCS / "concepts" / "machine.md").read_text()
    views = machine.split("### Diagram views", 1)[1].split("```", 1)[0]
    for name in VIEW_NAMES:
        assert f"`{name}`" in views or f"**{name}**" in views, name


def test_the_guides_lead_to_the_web_framework_guides() -> None:
    """The Guides index links the FastAPI and Flask guides, and both carry runnable code."""
    text = (DOCS / "guides" / "index.md").read_text()
    assert "(fastapi.md)" in text and "(flask.md)" in text
    assert {"guides/fastapi.md", "guides/flask.md"} <= {page for page, _, _ in BLOCKS}


# ------------------------------------------------------------------- build

MKDOCS = importlib.util.find_spec("mkdocs") is not None


@pytest.mark.skipif(
    not MKDOCS, reason="mkdocs is not installed: pip install -e '.[docs]' (CI installs it)"
)
def test_the_site_builds_in_strict_mode_with_no_warning(tmp_path: Path) -> None:
    """``scripts/docs`` builds the whole site; strict mode and no WARNING line in its log."""
    site = tmp_path / "site"
    run = subprocess.run(
        [str(ROOT / "scripts" / "docs"), "--site-dir", str(site), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log
    assert "WARNING" not in log, log
    assert (site / "index.html").is_file()
    for page in ("concepts/tables", "reference/cli", "reference/errors", "reference/api"):
        assert (site / page / "index.html").is_file(), page
    for page, package in (("api", flowengine), ("web", flowengine.web)):
        html = (site / "reference" / page / "index.html").read_text()
        for name in package.__all__:
            assert f'id="{package.__name__}.{name}"' in html, name
    web = (site / "reference" / "web" / "index.html").read_text()
    for adapter in ("starlette.login_app", "flask.login_blueprint"):
        assert f'id="flowengine.web.{adapter}"' in web, adapter
