"""The public API is what the chapters use, and each of its callables shows a doctest.

Computed from the code and the notebooks (``tools/api_usage.py``, which also writes the API
page's "Used in" lines): the names of every public module's ``__all__`` against the names each
chapter imports, reads from an imported module (``draw.gather``) or checks an exercise against
(``check(f, "pick_per_column")`` uses ``snippets.reference.pick_per_column``).
"""

from __future__ import annotations

import doctest
import importlib
import inspect
from pathlib import Path

import pytest

import tools.api_usage
from tools.api_usage import also_public, chapter_usage, chapters, public_api, users

ROOT = Path(__file__).resolve().parents[1]
API = public_api()
USERS = users(ROOT)


def _chapters(names: list[str]) -> str:
    return ", ".join(Path(n).name for n in names)


def test_the_scan_reads_imports_module_attributes_and_exercises() -> None:
    """The examples of ``tools/api_usage.py`` (``make cpu`` collects no doctests in tools/)."""
    result = doctest.testmod(tools.api_usage, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 4 and result.failed == 0, result


def test_the_scan_finds_the_chapters_and_their_imports() -> None:
    """The scan is not vacuous: every chapter imports something public from ``snippets``."""
    found = chapters(ROOT)
    assert len(found) >= 9
    for notebook in found:
        assert chapter_usage(notebook).imported, f"{notebook.name}: no import from snippets seen"
    assert "snippets.indexing" in API and "snippets.reference" in API


@pytest.mark.parametrize("module", sorted(API))
def test_every_public_name_is_used_by_a_chapter_or_says_why_it_is_public(module: str) -> None:
    allowed = also_public()
    unused = [
        f"{module}.{name}"
        for name in API[module]
        if f"{module}.{name}" not in USERS and f"{module}.{name}" not in allowed
    ]
    assert not unused, (
        f"{module}: {len(unused)} public name(s) that no chapter uses and snippets.ALSO_PUBLIC "
        f"does not list (make them private, or add them to ALSO_PUBLIC with a reason): "
        + ", ".join(unused)
    )


def test_also_public_lists_only_public_names_with_a_reason() -> None:
    for full, reason in also_public().items():
        module, _, name = full.rpartition(".")
        assert name in API.get(module, []), f"ALSO_PUBLIC: {full} is not in {module}.__all__"
        assert isinstance(reason, str) and reason.strip(), f"ALSO_PUBLIC: {full} has no reason"


def test_every_name_a_chapter_takes_from_snippets_is_public() -> None:
    problems = []
    for full, docnames in sorted(USERS.items()):
        module, _, name = full.rpartition(".")
        if module not in API:
            problems.append(f"{full} (used by {_chapters(docnames)}): {module} has no __all__")
        elif name not in API[module]:
            problems.append(f"{full} (used by {_chapters(docnames)}): not in {module}.__all__")
    assert not problems, "chapters use names outside the public API:\n" + "\n".join(problems)


def _public_callables() -> list[str]:
    found = []
    for module, names in API.items():
        mod = importlib.import_module(module)
        for name in names:
            value = getattr(mod, name)
            if callable(value) and (inspect.isfunction(value) or inspect.isclass(value)):
                found.append(f"{module}.{name}")
    return found


@pytest.mark.parametrize("full", _public_callables())
def test_every_public_callable_has_a_doctest(full: str) -> None:
    module, _, name = full.rpartition(".")
    value = getattr(importlib.import_module(module), name)
    doc = inspect.getdoc(value) or ""
    where = f" (used by {_chapters(USERS[full])})" if full in USERS else ""
    assert doc.strip(), f"{module}.{name}{where}: no docstring"
    assert ">>>" in doc, f"{module}.{name}{where}: its docstring has no doctest (>>>)"
