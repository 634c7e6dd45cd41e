"""The README shows the audit trail its persistence example prints, as it prints it."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
#: Members that differ from run to run (the clock): everything else must match.
TIMING = ("at", "time")


def _example_and_trail() -> tuple[str, list[dict[str, object]]]:
    text = README.read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "repo.audit(" in b)
    shown = re.search(r"```jsonl\n(.*?)```", text, re.S)
    assert shown is not None, "the README shows no audit trail"
    return block, [json.loads(line) for line in shown.group(1).splitlines()]


def _untimed(lines: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in x.items() if k not in TIMING} for x in lines]


def test_readme_shows_the_trail_of_its_persistence_example() -> None:
    """Running the persistence example prints the trail shown below it (times aside)."""
    block, shown = _example_and_trail()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, "README.md[persistence]", "exec"), {"__name__": "readme"})
    ran = [json.loads(line) for line in printed.getvalue().splitlines()]
    assert _untimed(ran) == _untimed(shown)
    assert [x["event"] for x in ran] == ["step", "rollback", "step", "step"]
    assert all(isinstance(x["at"], float) for x in ran)
