"""The public surface is small, sorted and typed; the core stays pure."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import flowengine

PKG = Path(flowengine.__file__).parent
CORE = ["_machine.py", "_steps.py", "_flow.py", "_errors.py", "_config.py", "_snapshot.py"]
FORBIDDEN = {"httpx", "structlog", "time", "datetime", "random", "secrets", "requests"}


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted and every name in it exists."""
    names = list(flowengine.__all__)
    assert names == sorted(names)
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(flowengine, name), name


def test_py_typed_marker_ships() -> None:
    """The package carries py.typed so users' type checkers read its hints."""
    assert (PKG / "py.typed").exists()


def test_core_modules_import_no_io_and_no_clock() -> None:
    """The sans-I/O core imports neither httpx, structlog nor a clock."""
    for name in CORE:
        tree = ast.parse((PKG / name).read_text())
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
        assert not imported & FORBIDDEN, (name, imported & FORBIDDEN)


def test_errors_docstring_draws_every_exception() -> None:
    """Every exception class in _errors appears in the tree of its docstring."""
    from flowengine import _errors

    doc = _errors.__doc__ or ""
    for name in _errors.__all__:
        assert name in doc, name


def test_errors_docstring_tree_matches_the_classes() -> None:
    """Each exception is drawn exactly once, under the class it derives from."""
    from flowengine import _errors

    tree = (_errors.__doc__ or "").split("::", 1)[1].split("\n\n")[1]
    drawn: dict[str, str | None] = {}
    parents: list[str] = []  # parents[d]: the last class drawn at depth d
    for line in tree.splitlines():
        match = re.match(r"([ │├└─]*)([A-Z][A-Za-z0-9]*)\b", line)
        if match is None:
            continue  # a note such as "(.ambiguous is True ...)"
        depth = (len(match.group(1)) - 4) // 4
        name = match.group(2)
        del parents[depth:]
        assert name not in drawn, f"{name} is drawn twice"
        drawn[name] = parents[-1] if parents else None
        parents.append(name)
    assert set(drawn) == {"FlowEngineError", *_errors.__all__}
    for name, parent in drawn.items():
        cls = getattr(_errors, name)
        ours = [b.__name__ for b in cls.__bases__ if issubclass(b, _errors.FlowEngineError)]
        assert ours == ([parent] if parent else []), (name, parent, ours)
