"""The committed mutation report holds the core to its target, and every excuse has a reason."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script() -> object:
    loader = importlib.machinery.SourceFileLoader("mutation_script", str(ROOT / "scripts/mutation"))
    spec = importlib.util.spec_from_loader("mutation_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_every_measured_module_meets_the_target() -> None:
    """Each module the report measured kills at least 95 % of its non-equivalent mutants."""
    script = _script()
    rows = script.read_report()  # type: ignore[attr-defined]
    assert rows, "tests/mutation/REPORT.md has no measured module"
    for module, row in rows.items():
        assert module in script.CORE, module  # type: ignore[attr-defined]
        assert float(row["rate"]) >= script.TARGET, (module, row["rate"])  # type: ignore[attr-defined]


def test_every_equivalent_mutant_names_a_core_module_and_a_reason() -> None:
    """An equivalence entry is a core module, a 16-hex-digit key and a sentence of reason."""
    script = _script()
    table = script.load_equivalent()  # type: ignore[attr-defined]
    assert table
    for (module, key), reason in table.items():
        assert module in script.CORE, module  # type: ignore[attr-defined]
        assert re.fullmatch(r"[0-9a-f]{16}", key), key
        assert len(reason.split()) >= 4, reason


def test_mutant_keys_ignore_numbering_but_not_the_change() -> None:
    """The same change keeps its key under a new number; a different change gets another key."""
    script = _script()
    key = script.mutant_key  # type: ignore[attr-defined]
    diff = "--- a\n+++ b\n-    x = 1\n+    x = 2\n"
    assert key("m.f__mutmut_3", diff) == key("m.f__mutmut_9", diff)
    assert key("m.f__mutmut_3", diff) != key("m.f__mutmut_3", diff.replace("2", "3"))
    assert key("m.f__mutmut_3", diff) != key("m.g__mutmut_3", diff)


def test_an_equivalent_entry_that_no_survivor_matches_is_reported_stale() -> None:
    """tally names the equivalence keys of its module that matched no surviving mutant."""
    script = _script()
    diff = "--- a\n+++ b\n-    x = 1\n+    x = 2\n"
    key = script.mutant_key("m.f__mutmut_1", diff)  # type: ignore[attr-defined]
    mod = "flowengine/_handle.py"
    equivalent = {
        (mod, key): "listed",
        (mod, "0" * 16): "killed since",
        ("other.py", "1" * 16): "x",
    }
    result = {
        "module": mod,
        "statuses": {"m.f__mutmut_1": "survived", "m.f__mutmut_2": "killed"},
        "diffs": {"m.f__mutmut_1": diff},
        "seconds": 1.0,
    }
    row = script.tally(result, equivalent)  # type: ignore[attr-defined]
    assert row["stale_equivalents"] == ["0" * 16]
    assert row["equivalent"] == 1 and row["survived"] == 0 and row["rate"] == 100.0


def test_a_crashed_mutmut_run_is_an_error_not_a_report() -> None:
    """A mutmut run killed by a signal raises with its stderr; a run that finished does not."""
    import subprocess

    import pytest

    script = _script()
    crashed = subprocess.CompletedProcess(
        ["mutmut"], -11, "", "Fatal Python error: Segmentation fault\n  File x.py, line 3"
    )
    with pytest.raises(script.MutmutCrashed) as info:  # type: ignore[attr-defined]
        script._ran("flowengine/_handle.py", crashed)  # type: ignore[attr-defined]
    assert "-11" in str(info.value) and "Segmentation fault" in str(info.value)
    assert "flowengine/_handle.py" in str(info.value)
    for code in (0, 1):  # mutmut's own exit codes after a finished run
        script._ran("m", subprocess.CompletedProcess(["mutmut"], code, "", "Fatal Python error"))  # type: ignore[attr-defined]
