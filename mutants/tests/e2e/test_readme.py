"""The README's Python examples run as written, against the emulator."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.fixture(autouse=True)
def _restore_library_logger() -> Iterator[None]:
    """The Logging example adds a handler and sets a level: undone after each block."""
    logger = logging.getLogger("flowengine")
    saved = logger.level, list(logger.handlers)
    yield
    logger.setLevel(saved[0])
    logger.handlers[:] = saved[1]


def test_readme_has_examples() -> None:
    """The README shows the sync, async and persistence examples."""
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int) -> None:
    """Each Python block of the README executes without error (its asserts included)."""
    exec(compile(BLOCKS[index], f"README.md[python {index}]", "exec"), {"__name__": "readme"})
