"""The README's Python examples run as written, against the emulator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_examples() -> None:
    """The README shows the sync, async and persistence examples."""
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int) -> None:
    """Each Python block of the README executes without error (its asserts included)."""
    exec(compile(BLOCKS[index], f"README.md[python {index}]", "exec"), {"__name__": "readme"})
