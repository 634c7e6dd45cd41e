"""The ```sh blocks of the docs run too: as written where they can, else substituted.

A ```sh block is what a reader types on their own machine: an install, a real tenant, a
server left running. Each one runs here in a fresh directory, as a ``bash -euo pipefail``
script, after the substitutions of ``SUBSTITUTIONS`` (an exact text replaced in one block,
with the reason). They point a real tenant at the project's emulator (started by
``PRELUDE`` on a free loopback port, as the ```bash blocks do); run a server on port 0 in
the background (``serve`` checks its first line, then stops it); feed ``flowengine
login``'s prompts on stdin; move a system path into the test's directory; and turn
``pip install`` and ``venv`` into checks that install nothing (``extras``: the named
extras exist in ``pyproject.toml``; ``importable``: the other packages named are installed
here; the venv is made ``--without-pip``). ``./scripts/test`` would run the suite inside
itself: it is parsed (``bash -n``) instead. The CLI's store and key file are the test's
(``FLOWENGINE_STORE``, ``FLOWENGINE_KEY_FILE``), as in the ```bash blocks. ``CHECKS`` adds
a command after a block, ``EXPECT`` what its output must say. A ```sh block with no entry
in ``EXPECT`` fails, as does a substitution whose text its block no longer holds; every
failure prints the table. Every ``flowengine`` command of a block, as written, also
parses with the CLI's parser.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from flowengine.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SH = [
    (page.relative_to(DOCS).as_posix(), index, code)
    for page in sorted(DOCS.rglob("*.md"))
    for index, code in enumerate(re.findall(r"^```sh\n(.*?)^```$", page.read_text(), re.M | re.S))
]


class Sub(NamedTuple):
    """In ```sh block ``block`` of ``page``, ``old`` runs as ``new``, because ``why``."""

    page: str
    block: int
    old: str
    new: str
    why: str


#: The one change each block gets before it runs (in a temporary directory).
SUBSTITUTIONS = (
    Sub(
        "getting-started.md",
        0,
        "pip install -e '.[test]'",
        "extras test",
        "installs nothing: the `test` extra exists",
    ),
    Sub(
        "getting-started.md",
        0,
        "./scripts/test",
        'bash -n "$DOCS_ROOT/scripts/test" && test -x "$DOCS_ROOT/scripts/test"',
        "the whole suite would run inside itself: the script parses and is executable",
    ),
    Sub(
        "getting-started.md",
        1,
        "flowengine emulator --port 8080",
        "serve flowengine emulator --port 0",
        "a server: on a free port, its first line checked, then stopped",
    ),
    Sub(
        "getting-started.md",
        1,
        "flowengine login --domain example.eu.auth0.com --client-id ...",
        'answers | flowengine login --domain "$EMULATOR" --client-id flowengine-demo',
        "a real tenant and a person typing: the emulator, the answers fed on stdin",
    ),
    Sub(
        "getting-started.md",
        2,
        "flowengine web",
        "serve flowengine web --port 0",
        "a server: on a free port, its first line checked, then stopped",
    ),
    Sub(
        "guides/cli.md",
        0,
        "AUTH0_DOMAIN=example.eu.auth0.com AUTH0_CLIENT_ID=...",
        'AUTH0_DOMAIN="$EMULATOR" AUTH0_CLIENT_ID=flowengine-demo',
        "a real tenant: the emulator and its public client",
    ),
    Sub(
        "guides/cli.md",
        0,
        "--code 123456",
        '--code "$(code 1)"',
        "the code the phone received: the first one the emulator sent",
    ),
    Sub(
        "guides/cli.md",
        0,
        '"$CODE"',
        '"$(code 2)"',
        "the code the phone received: the second one the emulator sent",
    ),
    Sub(
        "guides/fastapi.md",
        0,
        "python -m venv .venv",
        "python -m venv --without-pip .venv",
        "installs nothing: no pip in the venv (the next line installs nothing either)",
    ),
    Sub(
        "guides/fastapi.md",
        0,
        "pip install 'flowengine[web]' fastapi uvicorn",
        "extras web && importable fastapi uvicorn",
        "installs nothing: the `web` extra exists, fastapi and uvicorn are installed here",
    ),
    Sub(
        "guides/fastapi.md",
        1,
        "AUTH0_DOMAIN=example.eu.auth0.com",
        'AUTH0_DOMAIN="$EMULATOR"',
        "a real tenant: the emulator",
    ),
    Sub(
        "guides/fastapi.md",
        1,
        "sqlite:///var/lib/myapp/flows.db",
        'sqlite:///"$PWD"/flows.db',
        "a system path: the test's directory",
    ),
    Sub(
        "guides/operations.md",
        1,
        "sqlite:///var/lib/app/flows.db",
        'sqlite:///"$PWD"/flows.db',
        "a system path: the test's directory",
    ),
)

#: A command run after a block, in the same shell (what the block's settings are for).
CHECKS = {
    ("guides/fastapi.md", 0): 'test "$(command -v python)" = "$PWD/.venv/bin/python"',
    ("guides/fastapi.md", 1): (
        '"$PYTHON" -c "import app; print(type(app.create_app()).__name__)"'
        "  # the guide's app.py, from its own python block"
    ),
}

#: What each block's output must hold (regular expressions, searched in stdout).
EXPECT = {
    ("getting-started.md", 0): [r"authenticated"],
    ("getting-started.md", 1): [
        r"authenticated",
        r"(?m)^flowengine emulator listening on http://127\.0\.0\.1:\d+$",
        r"Authenticated\. Tokens received: access_token, id_token",
        r"Verified identity: sms\|\w+ \+15550100",
        r"stateDiagram-v2",
    ],
    ("getting-started.md", 2): [r"(?m)^flowengine web listening on http://127\.0\.0\.1:\d+$"],
    ("guides/cli.md", 0): [r'"state": "authenticated"', r'"access_token": "'],
    ("guides/cli.md", 1): [r'"schema_version": \d+', r'"swept": 0'],
    ("guides/fastapi.md", 0): [],
    ("guides/fastapi.md", 1): [r"(?m)^FastAPI$"],
    ("guides/operations.md", 0): [r"(?m)^k_[0-9a-f]{8}:[A-Za-z0-9_-]{43}$"],
    ("guides/operations.md", 1): [r'"swept": 0'],
}

#: Before every block: the emulator (a tenant on a free loopback port) and the helpers.
PRELUDE = r"""
flowengine emulator --port 0 > emulator.log &
emulator_pid=$!; trap 'kill $emulator_pid' EXIT
until grep -q listening emulator.log 2>/dev/null; do sleep 0.1; done
EMULATOR=$(head -1 emulator.log | awk '{print $NF}')
code() {  # the Nth code the emulator sent (once it is sent)
  until [ "$(grep -c ': code ' emulator.log)" -ge "$1" ]; do sleep 0.1; done
  grep -o ': code [0-9]*' emulator.log | sed -n "$1s/: code //p"
}
answers() {  # flowengine login's prompts: phone, code, enroll SMS, same phone, code
  echo +15550100; code 1; echo 1; echo; code 2
}
serve() {  # serve COMMAND...: start a server, print its first line once up, stop it
  "$@" > serve.log 2>&1 &
  local pid=$!
  until grep -q listening serve.log 2>/dev/null; do
    kill -0 $pid 2>/dev/null || { cat serve.log >&2; return 1; }
    sleep 0.1
  done
  head -1 serve.log
  kill $pid; wait $pid || true
}
extras() {  # extras NAME...: each is an extra of this project's pyproject.toml
  "$PYTHON" -c 'import sys, tomllib
extras = tomllib.load(open(sys.argv[1], "rb"))["project"]["optional-dependencies"]
missing = [name for name in sys.argv[2:] if name not in extras]
sys.exit(f"no such extra: {missing}" if missing else 0)' "$DOCS_ROOT/pyproject.toml" "$@"
}
importable() {  # importable MODULE...: each is installed for this interpreter
  local name; for name in "$@"; do "$PYTHON" -c "import $name"; done
}
"""


def _table() -> str:
    """The substitution table, as the failure messages print it."""
    rows = [
        f"  docs/{s.page}[sh {s.block}]: {s.old!r} -> {s.new!r} ({s.why})" for s in SUBSTITUTIONS
    ]
    return "substitutions:\n" + "\n".join(rows)


def _script(page: str, index: int, code: str) -> str:
    """The block as it runs: each substitution applied once, then its check."""
    for sub in SUBSTITUTIONS:
        if (sub.page, sub.block) == (page, index):
            assert code.count(sub.old) == 1, f"{sub.old!r} is not once in the block\n{_table()}"
            code = code.replace(sub.old, sub.new)
    return code + CHECKS.get((page, index), "") + "\n"


def _guide_app() -> str:
    """The FastAPI guide's ``app.py``: its ```python block that starts with ``# app.py``."""
    blocks = re.findall(
        r"^```python\n(.*?)^```$", (DOCS / "guides/fastapi.md").read_text(), re.M | re.S
    )
    return next(str(block) for block in blocks if block.startswith("# app.py"))


def test_every_sh_block_is_known() -> None:
    """Each ```sh block has an entry in EXPECT, and every entry and substitution a block."""
    blocks = {(page, index) for page, index, _ in SH}
    assert blocks == set(EXPECT), _table()
    assert {(s.page, s.block) for s in SUBSTITUTIONS} <= blocks, _table()
    code = {(page, index): code for page, index, code in SH}
    for sub in SUBSTITUTIONS:  # a stale substitution (the page changed) fails here
        assert code[sub.page, sub.block].count(sub.old) == 1, f"{sub.old!r}\n{_table()}"
    assert len(SH) >= 9


@pytest.mark.parametrize(("page", "index", "code"), SH, ids=[f"{p}[sh {i}]" for p, i, _ in SH])
def test_sh_block_runs(page: str, index: int, code: str, tmp_path: Path) -> None:
    """Each ```sh block runs, substituted by the table, and prints what EXPECT says."""
    assert (page, index) in EXPECT, f"docs/{page}[sh {index}] is not run by any test\n{_table()}"
    if page == "guides/fastapi.md":  # CHECKS builds the guide's application from step 2
        (tmp_path / "app.py").write_text(_guide_app())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH0_", "FLOWENGINE_"))}
    env |= {
        "PYTHONPATH": str(ROOT),
        "PYTHON": sys.executable,
        "DOCS_ROOT": str(ROOT),
        "XDG_DATA_HOME": str(tmp_path / "data"),  # the CLI's default store: not in ~
        "FLOWENGINE_STORE": f"sqlite:///{tmp_path}/flows.db",
        "FLOWENGINE_KEY_FILE": str(tmp_path / "flowengine.keys"),
    }
    script = _script(page, index, code)
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", PRELUDE + script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    where = f"docs/{page}[sh {index}] ran as:\n{script}\n{_table()}\n{run.stdout}{run.stderr}"
    assert run.returncode == 0, where
    for pattern in EXPECT[(page, index)]:
        assert re.search(pattern, run.stdout), f"{pattern!r} not printed\n{where}"


#: A ``flowengine`` command in a block: at a line's start, after a pipe, ``&&`` or ``$(``.
COMMAND = re.compile(r"(?:^|\$\(|\|\s*|&&\s*)(flowengine\s[^|)#;&\n]*)", re.M)


@pytest.mark.parametrize(("page", "index", "code"), SH, ids=[f"{p}[sh {i}]" for p, i, _ in SH])
def test_sh_block_commands_parse_as_written(page: str, index: int, code: str) -> None:
    """Every ``flowengine`` command of a block, unsubstituted, is accepted by the parser."""
    parser = build_parser()
    for command in COMMAND.findall(code):
        argv = shlex.split(command)[1:]
        try:
            parser.parse_args(argv)
        except SystemExit as exc:  # argparse's way of refusing
            pytest.fail(f"docs/{page}[sh {index}]: {command!r} does not parse ({exc})")


def test_the_command_finder_sees_every_command_form() -> None:
    """The finder above is not blind: a line start, a pipe, ``&&`` and ``$(`` all count."""
    found = COMMAND.findall(
        "flowengine demo\nx | flowengine review\na && flowengine b\n$(flowengine c)"
    )
    assert [c.strip() for c in found] == [
        "flowengine demo",
        "flowengine review",
        "flowengine b",
        "flowengine c",
    ]
    assert COMMAND.findall("pip install 'flowengine[web]'") == []


def test_the_web_page_address_getting_started_names_is_the_default() -> None:
    """``flowengine web`` serves on 127.0.0.1:8000 by default, as getting started says."""
    args = build_parser().parse_args(["web"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    assert "http://127.0.0.1:8000" in (DOCS / "getting-started.md").read_text()
