"""The public surface is small, sorted and typed; the core stays pure."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import flowengine

PKG = Path(flowengine.__file__).parent
CORE = [
    "_machine.py",
    "_wire.py",
    "_context.py",
    "_flow.py",
    "_errors.py",
    "_config.py",
    "_validate.py",
    "_snapshot.py",
    "_client_auth.py",
    "_idtoken.py",
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


def test_all_lists_exactly_the_public_names() -> None:
    """Every public name of the package is in __all__ and every name in __all__ is public.

    ``dir()`` lists the lazily imported names too, loaded or not.
    """
    public = {
        name
        for name in dir(flowengine)
        if not name.startswith("_") and not isinstance(getattr(flowengine, name), type(flowengine))
    }
    assert public == set(flowengine.__all__) - {"__version__"}


def test_public_classes_report_flowengine_as_their_module() -> None:
    """A public class says ``flowengine``, where users import it, not a private module."""
    for name in flowengine.__all__:
        obj = getattr(flowengine, name)
        if isinstance(obj, type):
            assert obj.__module__ == "flowengine", name


def test_old_exception_names_warn_and_still_work() -> None:
    """The 0.1 names resolve to the new classes with a DeprecationWarning."""
    import pytest

    with pytest.warns(DeprecationWarning, match="IllegalTransitionError"):
        old = flowengine.IllegalTransition  # type: ignore[attr-defined]
    assert old is flowengine.IllegalTransitionError
    with pytest.warns(DeprecationWarning, match="StaleSnapshotError"):
        from flowengine import StaleSnapshot  # type: ignore[attr-defined]
    assert StaleSnapshot is flowengine.StaleSnapshotError
    with pytest.warns(DeprecationWarning):
        assert flowengine.GuardRejected is flowengine.GuardRejectedError  # type: ignore[attr-defined]


def test_every_exception_name_ends_in_error() -> None:
    """Exceptions are named as the house style says."""
    for name in flowengine.__all__:
        obj = getattr(flowengine, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert name.endswith("Error"), name


def test_state_trigger_outcome_are_string_compatible() -> None:
    """The enums compare equal to their plain names, so old code keeps working."""
    assert flowengine.State.AUTHENTICATED == "authenticated"
    assert flowengine.Outcome.PENDING == "pending"
    assert flowengine.Trigger.CONFIRM_OOB == "confirm_oob"
    assert {str(s) for s in flowengine.State} == set(flowengine.STATES)


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
