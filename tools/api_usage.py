"""Which chapter uses which public helper, read from the notebooks' code cells.

The public API is every name in the ``__all__`` of a public module of ``snippets``: a module
(or the ``draw`` package) directly under ``snippets/`` whose name does not start with ``_`` and
that has an ``__all__``. A chapter uses a name when one of its code cells

- imports it: ``from snippets.indexing import checked_gather``;
- reads it from an imported module: ``from snippets import draw`` then ``draw.gather(...)``;
- checks an exercise against it: ``check(solution, "pick_per_column")`` uses
  ``snippets.reference.pick_per_column``.

Used by the Sphinx extension ``book/_ext/api_reference.py`` (the API page and the chapters'
links to it) and by ``tests/test_public_api.py``. Standard library only, apart from importing
``snippets`` in :func:`public_api`.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "snippets"
REFERENCE = "snippets.reference"
# IPython syntax that is not Python: line magics, shell escapes, cell magics.
_MAGIC = re.compile(r"^\s*[%!].*$", re.MULTILINE)


@dataclass
class ChapterUsage:
    """What one chapter takes from ``snippets``."""

    imported: dict[str, str] = field(default_factory=dict)  # name in the chapter -> full name
    modules: dict[str, str] = field(default_factory=dict)  # alias -> module ("draw" -> ...)
    used: set[str] = field(default_factory=set)  # full names: "snippets.draw.gather"
    # Of ``used``: the names the chapter's code imports or reads from a module, and the
    # references its exercises are checked against (``check(f, "name")``), which it never calls.
    called: set[str] = field(default_factory=set)
    exercises: set[str] = field(default_factory=set)


def code_cells(notebook: Path) -> Iterator[str]:
    """The source of each code cell of ``notebook``, IPython magics removed."""
    data = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in data.get("cells", []):
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            yield _MAGIC.sub("", "".join(source) if isinstance(source, list) else source)


def scan_source(source: str, usage: ChapterUsage) -> None:
    """Add what the Python ``source`` (one cell) takes from ``snippets`` to ``usage``.

    >>> u = ChapterUsage()
    >>> scan_source("from snippets import draw\\nfrom snippets.exercises import check", u)
    >>> scan_source("from snippets.indexing import checked_gather as cg", u)
    >>> scan_source("draw.gather(x)\\ncheck(f, 'pick_per_column')", u)
    >>> sorted(u.used)
    ['snippets.draw.gather', 'snippets.exercises.check', 'snippets.indexing.checked_gather', 'snippets.reference.pick_per_column']
    >>> u.imported["cg"], u.modules
    ('snippets.indexing.checked_gather', {'draw': 'snippets.draw'})
    >>> sorted(u.exercises), sorted(u.used - u.called)
    (['snippets.reference.pick_per_column'], ['snippets.reference.pick_per_column'])
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return  # a cell that is not Python (it fails under nbval anyway)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module != PACKAGE and not node.module.startswith(PACKAGE + "."):
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if node.module == PACKAGE:  # from snippets import draw: a module
                    usage.modules[alias.asname or alias.name] = full
                else:
                    usage.imported[alias.asname or alias.name] = full
                    usage.used.add(full)
                    usage.called.add(full)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE or alias.name.startswith(PACKAGE + "."):
                    usage.modules[alias.asname or alias.name] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = _dotted(node.value)
            if base in usage.modules:
                usage.used.add(f"{usage.modules[base]}.{node.attr}")
                usage.called.add(f"{usage.modules[base]}.{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and usage.imported.get(node.func.id, "").endswith(".check")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            usage.used.add(f"{REFERENCE}.{node.args[1].value}")
            usage.exercises.add(f"{REFERENCE}.{node.args[1].value}")


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def chapter_usage(notebook: Path) -> ChapterUsage:
    """What the chapter ``notebook`` takes from ``snippets``, over all its code cells."""
    usage = ChapterUsage()
    for source in code_cells(notebook):
        scan_source(source, usage)
    return usage


def chapters(root: Path) -> list[Path]:
    """The chapter notebooks, in order: ``notebooks/NN-*.ipynb``."""
    return sorted((root / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def docname(root: Path, notebook: Path) -> str:
    """The Sphinx document name of a chapter: ``notebooks/01-gather``."""
    return notebook.relative_to(root).with_suffix("").as_posix()


def public_modules() -> list[str]:
    """The public modules of ``snippets`` (those with a non-empty ``__all__``), sorted. A module
    whose ``__all__`` is empty (``snippets.validate``, ``snippets.exercise_catalogue``) is
    package-internal: it has no section on the API page."""
    package = importlib.import_module(PACKAGE)
    names = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{PACKAGE}.{info.name}")
        if getattr(module, "__all__", None):
            names.append(module.__name__)
    return sorted(names)


def public_api() -> dict[str, list[str]]:
    """Each public module and the names of its ``__all__``, in ``__all__``'s order."""
    return {m: list(importlib.import_module(m).__all__) for m in public_modules()}


def also_public() -> dict[str, str]:
    """``snippets.ALSO_PUBLIC``: public names no chapter uses, each with the reason (or {})."""
    return dict(getattr(importlib.import_module(PACKAGE), "ALSO_PUBLIC", {}))


def users(root: Path) -> dict[str, list[str]]:
    """Each full name a chapter uses (``snippets.indexing.checked_gather``) -> the docnames of
    the chapters that use it, in book order."""
    found: dict[str, list[str]] = {}
    for notebook in chapters(root):
        for name in sorted(chapter_usage(notebook).used):
            found.setdefault(name, []).append(docname(root, notebook))
    return found
