"""The bootstrap: the second cell of every chapter notebook.

Wherever the book's helpers (``snippets``) do not import, on Colab or in a downloaded notebook,
it installs them from the repository and branch named in _config.yml; where they import it
installs nothing. On Colab it also warns when the runtime has no GPU. Every notebook carries the
same cell, byte for byte, hidden from the site (tag ``remove-cell``).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
import types
from collections import Counter
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def repository_config() -> dict[str, str]:
    """``repository.url`` and ``repository.branch`` of _config.yml.

    Read with a regular expression, not PyYAML: the GPU machines run this test without the
    book's toolchain.
    """
    text = (ROOT / "_config.yml").read_text(encoding="utf-8")
    block = re.search(r"^repository:\n((?:[ \t]+.*\n|[ \t]*\n)+)", text, re.MULTILINE)
    assert block, "_config.yml has no repository: section"
    values = dict(
        re.findall(r"^[ \t]+(\w+):[ \t]*[\"']?([^\"'#\s]*)", block.group(1), re.MULTILINE)
    )
    return {"url": values["url"], "branch": values["branch"]}


def bootstrap_cell(path: Path) -> dict:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert len(cells) > 1, f"{path.name} has no second cell"
    return cells[1]


def source_of(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def canonical_source() -> str:
    """The bootstrap most notebooks carry (the test below names any that differ)."""
    counts = Counter(source_of(bootstrap_cell(path)) for path in NOTEBOOKS)
    return counts.most_common(1)[0][0]


def constants(source: str) -> dict[str, object]:
    """The module-level and nested ``NAME = "literal"`` assignments of ``source``."""
    found = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no notebook in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_second_cell_is_the_bootstrap(path: Path) -> None:
    cell = bootstrap_cell(path)
    assert cell["cell_type"] == "code", f"{path.name}: cell 2 is {cell['cell_type']}"
    assert "remove-cell" in cell.get("metadata", {}).get("tags", []), (
        f"{path.name}: the bootstrap cell needs the tag remove-cell"
    )
    assert cell.get("outputs") == [], f"{path.name}: the bootstrap cell has stored outputs"
    assert source_of(cell) == canonical_source(), (
        f"{path.name}: the bootstrap cell differs from the other notebooks' (copy it exactly)"
    )


def test_bootstrap_installs_from_the_configured_repository() -> None:
    config = repository_config()
    found = constants(canonical_source())
    assert found.get("BOOK_REPO") == config["url"]
    assert found.get("BOOK_BRANCH") == config["branch"]


def run_bootstrap(
    monkeypatch: pytest.MonkeyPatch, *, snippets_installed: bool = True
) -> list[list[str]]:
    """Execute the bootstrap with subprocess.run recorded instead of run; return its calls.

    ``snippets_installed=False`` makes ``importlib.util.find_spec("snippets")`` answer None, as
    in a fresh Colab runtime or a Python without the book's helpers.
    """
    calls: list[list[str]] = []
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        if name == "snippets" and not snippets_installed:
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)

    def fake_run(args, *_, **__):
        calls.append(list(args))
        return subprocess.CompletedProcess(args, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    exec(compile(canonical_source(), "<bootstrap>", "exec"), {"__name__": "__main__"})
    return calls


def assert_installs_the_book(calls: list[list[str]]) -> None:
    config = repository_config()
    assert len(calls) == 1, calls
    assert calls[0][:4] == [sys.executable, "-m", "pip", "install"]
    assert f"git+{config['url']}@{config['branch']}" in calls[0]


def test_bootstrap_does_nothing_where_snippets_imports(monkeypatch, capsys) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert run_bootstrap(monkeypatch) == []
    assert capsys.readouterr() == ("", "")


def test_bootstrap_installs_the_helpers_outside_colab_when_missing(monkeypatch, capsys) -> None:
    """A downloaded notebook, run in a Python without the book's helpers."""
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert_installs_the_book(run_bootstrap(monkeypatch, snippets_installed=False))
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("has_gpu", [False, True], ids=["no-gpu", "gpu"])
def test_bootstrap_on_colab(monkeypatch, capsys, has_gpu: bool) -> None:
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: has_gpu)
    assert_installs_the_book(run_bootstrap(monkeypatch, snippets_installed=False))
    out, err = capsys.readouterr()
    assert err == ""
    if has_gpu:
        assert out == ""
    else:
        assert "No GPU" in out and "Change runtime type" in out
