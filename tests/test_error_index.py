"""The reading side of ``book/_ext/error_index.py`` (the page "Error messages, A to Z"):
generalised messages, cause sentences, ops, explanations, and the real chapters' error cells.

The built page and its links are checked in ``tests/site/test_site_errors.py``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("sphinx", reason="the book toolchain (requirements.txt) is not installed")

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "_ext" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


ei = _load("error_index")
page_meta = _load("page_meta")


def code(source: str, tags: tuple[str, ...] = (), error: tuple[str, str] | None = None) -> dict:
    outputs = []
    if error:
        outputs.append(
            {"output_type": "error", "ename": error[0], "evalue": error[1], "traceback": []}
        )
    return {
        "cell_type": "code",
        "source": source,
        "metadata": {"tags": list(tags)},
        "outputs": outputs,
    }


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "source": source, "metadata": {}}


def raising(source: str, ename: str = "RuntimeError", evalue: str = "boom") -> dict:
    return code(source, (ei.TAG,), (ename, evalue))


def write_notebook(tmp_path: Path, cells: list[dict], name: str = "07-demo.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


# --- Generalised messages ------------------------------------------------------------------


def test_messages_with_other_numbers_are_one_message() -> None:
    seen = [
        "index 3 is out of bounds for dimension 1 with size 3",
        "index -1 is out of bounds for dimension 1 with size 3",
        "index 7 is out of bounds for dimension 0 with size 6",
    ]
    assert {ei.generalise(m) for m in seen} == {
        "index N is out of bounds for dimension N with size N"
    }


def test_digits_inside_names_and_urls_are_kept() -> None:
    assert ei.generalise("gather(): Expected dtype int32/int64 for index") == (
        "gather(): Expected dtype int32/int64 for index"
    )
    assert ei.generalise("no module named 'fc3'") == "no module named 'fc3'"
    assert ei.generalise("See https://github.com/pytorch/rfcs/pull/17 for more") == (
        "See https://github.com/pytorch/rfcs/pull/17 for more"
    )
    assert ei.generalise("mat1 and mat2 shapes cannot be multiplied (2x3 and 1x3)") == (
        "mat1 and mat2 shapes cannot be multiplied (NxN and NxN)"
    )
    assert ei.generalise("in range of [-2, 1], but got 2; valid 0..2, ema 0.2072") == (
        "in range of [N, N], but got N; valid N..N, ema N"
    )


# --- Sentences -----------------------------------------------------------------------------


def test_first_sentence_does_not_split_code_or_abbreviations() -> None:
    text = "pass `x.t().reshape(-1)`. Then it works. Two."
    assert ei.first_sentence(text) == "Pass `x.t().reshape(-1)`."
    assert ei.first_sentence("Use an int, e.g. 3. Not a float.") == "Use an int, e.g. 3."
    assert ei.first_sentence("The helper names the dim at fault:") == (
        "The helper names the dim at fault."
    )
    assert ei.first_sentence("Only 1 stretches. 2 divides 4.") == "Only 1 stretches."


def test_plain_drops_markup() -> None:
    assert ei.plain("the *first* `dim`, see {ref}`the rule <gather-rule>` and **this**") == (
        "the first dim, see the rule and this"
    )


# --- Ops -----------------------------------------------------------------------------------

HELPERS = {
    "checked_gather": "snippets.indexing",
    "Trace": "snippets.hooks",
    "check": "snippets.exercises",
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("torch.gather(x, 1, idx)   # comment", ("torch.gather", "")),
        ("x.argmax(dim=3)", ("x.argmax", "")),
        ("torch.zeros(2, 0).argmax(dim=1)", ("….argmax", "")),
        ("a = example([1])\na + b", ("+", "")),
        ("v += w", ("+=", "")),
        ("counts._version", ("counts._version", "")),
        ("checked_gather(x, 1, idx)", ("checked_gather", "snippets.indexing")),
        ("with torch.no_grad():\n    y = f(x)\ny.backward()", ("y.backward", "")),
        ("with torch.inference_mode():\n    c.add_(1)", ("c.add_", "")),
        ("with Trace(model, 'fc1'):\n    model(x)", ("Trace", "snippets.hooks")),
        (
            "h = model.fc1.register_forward_hook(f)\ntry:\n    model(x)\nfinally:\n    h.remove()",
            ("model.fc1.register_forward_hook", ""),
        ),
        ("check(lambda x: x, 'name')", ("check", "snippets.exercises")),
        ("assert int(ids.max()) < 5, 'too big'", ("assert", "")),
    ],
)
def test_op_of_a_cell(source: str, expected: tuple[str, str]) -> None:
    assert ei.op_of(source, HELPERS) == expected


def test_snippets_imports_are_the_helpers() -> None:
    cells = [
        code("import torch\nfrom snippets.indexing import (\n    checked_gather,\n    other,\n)"),
        code("from snippets.exercises import check as verify"),
        code("%matplotlib inline"),  # not Python: skipped
    ]
    assert ei.snippets_names(cells) == {
        "checked_gather": "snippets.indexing",
        "other": "snippets.indexing",
        "verify": "snippets.exercises",
    }


# --- Explanations and notes -------------------------------------------------------------------


def test_reading_it_belongs_to_the_cell_just_above(tmp_path: Path) -> None:
    cells = [
        markdown("# Chapter\n\n## Error gallery\n\nThe helper names the dim at fault:"),
        raising("checked_gather(x, 1, i)", "IndexError", "index holds 3"),
        raising("torch.gather(x, 2, i)", "IndexError", "Dimension out of range"),
        markdown("**Reading it:** `dim` must name a dim of `input`. More.\n\n## Next"),
        raising("x.a_()", "RuntimeError", "first"),
        code("x"),  # not an error cell: the Reading-it below still reads the cell above it
        markdown("**Reading it:** in-place ops bump the version. Then more."),
        raising("y.b()", "RuntimeError", "second"),
        raising("y.c()", "RuntimeError", "third"),
        markdown("**Reading them:** both are refused."),
    ]
    found = ei.read_notebook(write_notebook(tmp_path, cells), "notebooks/07-demo")
    assert [c.anchor for c in found] == [f"err-07-{n}" for n in range(1, 6)]
    assert [c.explanation_kind for c in found] == [
        "before",
        "reading",
        "reading",
        "reading",
        "reading",
    ]
    assert [c.cause for c in found] == [
        "The helper names the dim at fault.",
        "`dim` must name a dim of `input`.",
        "In-place ops bump the version.",
        "Both are refused.",
        "Both are refused.",
    ]
    assert found[0].explanation_cell == 0 and found[1].explanation_cell == 3
    assert found[0].helper == "" and found[0].chapter_title == "Chapter"
    assert found[0].section == "Error gallery" and found[2].section == "Next"


def test_notes_quote_the_chapter_where_it_says_cuda_or_releases(tmp_path: Path) -> None:
    cells = [
        markdown(
            "## Error gallery\n\nOn CUDA this is a device-side assert.\n\n"
            "### Out of range: on the CPU\n\nChecked on the CPU. On CUDA the kernel aborts."
        ),
        raising("torch.gather(x.cpu(), 1, i)", "RuntimeError", "index 3 is out of bounds"),
        markdown("**Reading it:** the index is past the end. PyTorch 2.9.1 words it so."),
        raising("x.sum()", "RuntimeError", "other"),
        markdown("**Reading it:** nothing about devices here."),
    ]
    first, second = ei.read_notebook(write_notebook(tmp_path, cells), "notebooks/07-demo")
    assert first.notes == ["PyTorch 2.9.1 words it so.", "On CUDA the kernel aborts."]
    assert second.notes == []


def test_a_tagged_cell_without_its_error_is_an_error(tmp_path: Path) -> None:
    cells = [markdown("# C"), code("x", (ei.TAG,))]
    with pytest.raises(ValueError, match="tagged raises-exception but has 0 error outputs"):
        ei.read_notebook(write_notebook(tmp_path, cells), "notebooks/07-demo")


def test_entries_group_messages_and_sort_by_type_then_message(tmp_path: Path) -> None:
    cells = [
        markdown("# C\n\nIntro:"),
        raising("f()", "RuntimeError", "index 3 is out of bounds for dimension 1 with size 3"),
        raising("g()", "RuntimeError", "Index tensor must have the same number of dimensions"),
        raising("h()", "IndexError", "zzz"),
        raising("f()", "RuntimeError", "index 7 is out of bounds for dimension 0 with size 6"),
    ]
    found = ei.entries(ei.read_notebook(write_notebook(tmp_path, cells), "notebooks/07-demo"))
    assert [(e.ename, e.message, len(e.cells)) for e in found] == [
        ("IndexError", "zzz", 1),
        ("RuntimeError", "index N is out of bounds for dimension N with size N", 2),
        ("RuntimeError", "Index tensor must have the same number of dimensions", 1),
    ]


# --- The book's chapters ---------------------------------------------------------------------


def _tagged_cells() -> list[tuple[str, int, dict]]:
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if ei.TAG in cell.get("metadata", {}).get("tags", []):
                found.append((path.stem, index, cell))
    return found


def test_every_error_cell_of_every_chapter_is_read() -> None:
    tagged = _tagged_cells()
    cells = ei.read_book(ROOT)
    assert len(tagged) > 0
    assert [(c.docname, c.cell_index) for c in cells] == [
        (f"notebooks/{stem}", index) for stem, index, _ in tagged
    ]
    for cell, (_, _, raw) in zip(cells, tagged, strict=True):
        (error,) = [o for o in raw["outputs"] if o["output_type"] == "error"]
        assert (cell.ename, cell.evalue) == (error["ename"], error["evalue"])
    assert len({c.anchor for c in cells}) == len(cells)
    entries = ei.entries(cells)
    assert sorted(id(c) for e in entries for c in e.cells) == sorted(id(c) for c in cells)


def test_every_error_cell_has_a_cause_and_an_op() -> None:
    for cell in ei.read_book(ROOT):
        assert cell.explanation, f"{cell.anchor}: no explaining paragraph"
        assert cell.cause.endswith((".", "?", "!", ")")), f"{cell.anchor}: {cell.cause!r}"
        assert cell.op, f"{cell.anchor}: no op found in {cell.source!r}"


def test_the_out_of_bounds_message_is_one_entry_across_chapters() -> None:
    """Seen with torch 2.13.0: gather (chapter 1) and take_along_dim without dim (chapter 2)
    raise the same message with other numbers (as a RuntimeError; indexing, chapter 0, raises
    it as an IndexError, a separate entry)."""
    (entry,) = [
        e
        for e in ei.entries(ei.read_book(ROOT))
        if e.message == "index N is out of bounds for dimension N with size N"
        and e.ename == "RuntimeError"
    ]
    assert {c.chapter for c in entry.cells} >= {"01", "02"}
    assert len({c.evalue for c in entry.cells}) >= 2
    assert any("CUDA" in note for c in entry.cells for note in c.notes)


def test_helper_messages_are_the_helpers_own() -> None:
    """A message marked as the book's helper's has words that snippets/ itself writes."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "snippets").glob("*.py"))
    helpers = [c for c in ei.read_book(ROOT) if c.helper]
    assert helpers
    for cell in helpers:
        assert cell.helper.startswith("snippets")
        words = re.findall(r"[A-Za-z_]{2,}", cell.evalue)
        windows = [words[i : i + 3] for i in range(max(1, len(words) - 2))]
        assert any(re.search(r"\W+".join(map(re.escape, window)), source) for window in windows), (
            f"{cell.anchor}: {cell.evalue!r} not found in snippets/"
        )


# --- Page descriptions ------------------------------------------------------------------------


def test_the_promise_sentence_is_the_description() -> None:
    from docutils import nodes

    doc = nodes.section()
    doc += nodes.paragraph("", "A first paragraph.")
    doc += nodes.paragraph(
        "", "", nodes.strong("", "After this chapter you can"), nodes.Text(" read\n it.")
    )
    assert page_meta.promise(doc) == "After this chapter you can read it."
    assert page_meta.promise(nodes.section("", nodes.paragraph("", "No promise."))) is None


def test_chapter_numbers_follow_the_table_of_contents_not_the_file_names():
    numbers = ei.chapter_numbers(ROOT)
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    listed = re.findall(r"file:\s*(notebooks/\S+)", toc)
    assert list(numbers) == listed
    assert list(numbers.values()) == list(range(1, len(listed) + 1))
    assert numbers["notebooks/01-gather"] == listed.index("notebooks/01-gather") + 1
