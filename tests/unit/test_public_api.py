"""The public surface is small, sorted and typed; the core stays pure."""

from __future__ import annotations

import ast
from pathlib import Path

import flowengine

PKG = Path(flowengine.__file__).parent
CORE = [
    "_machine.py",
    "_steps.py",
    "_flow.py",
    "_errors.py",
    "_config.py",
    "_validate.py",
    "_snapshot.py",
]
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
