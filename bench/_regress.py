"""CI's guard against a slower library: today's ratios against the README's table.

``python -m bench --quick --against-readme`` reads the ratios the README's performance
table publishes (a row's first cell is the bench's figure name, the first ``ratio N``
in the row its figure) and compares every row of this run that has a ratio and a
README twin. A ratio more than ``TOLERANCE`` (50 %) above the README's is a regression.
The sections with a regression are run once more (one rerun absorbs a noisy
neighbour); a figure that regresses on both runs fails the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

from bench._harness import Row

TOLERANCE = 0.5
README = Path(__file__).resolve().parent.parent / "README.md"
_RATIO = re.compile(r"\bratio (\d+(?:\.\d+)?)")


@attrs.frozen
class Regression:
    """A figure whose ratio is more than ``TOLERANCE`` above the README's."""

    figure: str
    measured: float
    published: float

    def __str__(self) -> str:
        worse = (self.measured / self.published - 1) * 100
        return (
            f"{self.figure}: ratio {self.measured:.3f} against the README's "
            f"{self.published:.3f} ({worse:+.0f} %)"
        )


def readme_ratios(text: str) -> dict[str, float]:
    """Figure name -> ratio, from the tables under the README's ``## Performance``."""
    out: dict[str, float] = {}
    inside = False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line.strip() == "## Performance"
            continue
        if not inside or not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        found = _RATIO.search(" ".join(cells[1:]))
        if cells and found:
            out[cells[0]] = float(found.group(1))
    return out


def regressions(
    rows: Iterable[Row], published: Mapping[str, float], tolerance: float = TOLERANCE
) -> list[Regression]:
    """The rows whose ratio is more than ``tolerance`` above the published one."""
    out = []
    for row in rows:
        if row.ratio is None or row.figure not in published:
            continue
        if row.ratio > published[row.figure] * (1 + tolerance):
            out.append(Regression(row.figure, row.ratio, published[row.figure]))
    return out


def compared(rows: Iterable[Row], published: Mapping[str, float]) -> list[str]:
    """The figures of ``rows`` that have a published ratio to compare with."""
    return [r.figure for r in rows if r.ratio is not None and r.figure in published]
