"""Find the docstring of a public name: its own ``__doc__``, or for data the source's.

A class or function documents itself (``__doc__``, never inherited here). A constant
cannot: it is documented, as griffe and mkdocstrings read it, by a string literal right
after its assignment or by ``#:`` comment lines right before it, in the module that
assigns it (found by following the package's ``from ... import`` lines).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import types
from pathlib import Path


def _module_ast(module: types.ModuleType) -> tuple[ast.Module, list[str]]:
    source = Path(inspect.getfile(module)).read_text()
    return ast.parse(source), source.splitlines()


def _defining_module(package: types.ModuleType, name: str) -> types.ModuleType:
    """Follow ``from X import name`` in ``package`` until the module that assigns it."""
    tree, _ = _module_ast(package)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _defining_module(importlib.import_module(node.module), alias.name)
    return package


def _data_docstring(module: types.ModuleType, name: str) -> str | None:
    tree, lines = _module_ast(module)
    body = tree.body
    for i, node in enumerate(body):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
            continue
        after = body[i + 1] if i + 1 < len(body) else None
        if (
            isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            return after.value.value
        comments = []
        row = node.lineno - 2
        while row >= 0 and lines[row].lstrip().startswith("#:"):
            comments.append(lines[row].lstrip()[2:].strip())
            row -= 1
        if comments:
            return " ".join(reversed(comments))
    return None


def docstring(package: types.ModuleType, name: str) -> str | None:
    """The docstring of ``package.name`` as the API reference shows it (None: missing)."""
    obj = getattr(package, name)
    if isinstance(obj, type) or inspect.isroutine(obj):
        doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else obj.__doc__
        return doc.strip() or None if isinstance(doc, str) else None
    doc = _data_docstring(_defining_module(package, name), name)
    return doc.strip() or None if doc else None
