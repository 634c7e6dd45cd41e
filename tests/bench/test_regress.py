"""The CI guard that compares the quick bench's ratios with the README's table."""

from __future__ import annotations

from bench._harness import Row
from bench._regress import README, compared, readme_ratios, regressions

_README = """# x

## Performance

| figure | measured | compared with | target | |
|---|---|---|---|---|
| seed, sync driver, in process, quiet logging | 1.19 ms | raw: ratio 1.20 | <= 1.15 | miss |
| `memory per idle flow` | 2,039 B | | <= 2,048 B | pass |
| growth | ratio 1.004 | 1,000 stored | <= 1.3 | pass |

## Logging

| not a figure | ratio 9.9 |
"""


def _row(figure: str, ratio: float | None) -> Row:
    return Row(figure, "-", "-", "-", "-", None, ratio=ratio)


def test_readme_ratios_reads_only_the_performance_tables() -> None:
    """Each row of the Performance section with a ratio is read; other sections are not."""
    assert readme_ratios(_README) == {
        "seed, sync driver, in process, quiet logging": 1.20,
        "growth": 1.004,
    }


def test_a_ratio_half_again_above_the_readme_is_a_regression() -> None:
    """1.81 against 1.20 is over +50 %; 1.79 is within it; rows without a twin are skipped."""
    published = readme_ratios(_README)
    name = "seed, sync driver, in process, quiet logging"
    assert [r.figure for r in regressions([_row(name, 1.81)], published)] == [name]
    assert regressions([_row(name, 1.79)], published) == []
    assert regressions([_row("not published", 99.0), _row("growth", None)], published) == []
    assert compared([_row(name, 1.0), _row("growth", None)], published) == [name]
    assert "+51 %" in str(regressions([_row(name, 1.812)], published)[0])


def test_the_real_readme_publishes_the_ratios_ci_checks() -> None:
    """The README's table names the seed, store, snapshot and import ratios CI compares."""
    published = readme_ratios(README.read_text(encoding="utf-8"))
    for figure in (
        "seed, sync driver, in process, quiet logging",
        "seed, async driver, in process, quiet logging",
        "seed, sync driver, in process, JSON audit log on",
        "seed, async driver, in process, JSON audit log on",
        "snapshot round trip: flow -> sealed text -> flow (dump_flow + load_flow)",
        "SQLite resume + core step + save vs hand-written floor (1,000 stored, scrub='off')",
        "Redis resume + core step + save vs hand-written floor (1,000 stored)",
        "seed, sync, one login at a time over loopback HTTP",
        "the same against the official SDK (auth0-python)",
        "`import flowengine`: import cost (child CPU, `python -c pass` subtracted)",
    ):
        assert figure in published
