"""The chapter contract (CONTRIBUTING.md, "The chapter contract"), checked on every notebook's stored file.

nbval checks that each stored output is what the code prints; these tests check that the
chapter has the shape the book promises its readers, and that its outputs are safe to compare.
"""

import json
import re
from pathlib import Path

import pytest

from tests.cuda_repr import cuda_differences

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SECTIONS = [
    "The rule",
    "The picture",
    "Worked examples",
    "Error gallery",
    "In the wild",
    "Pitfalls",
    "Exercises",
    "Summary",
]
# The performance chapter plots committed benchmark results (snippets/bench.py): there is no
# function of the reader's for check() to test, so it has no Exercises section (CONTRIBUTING.md,
# "The chapter contract"). Every other part of the contract holds for it.
NO_EXERCISES = {"09-performance"}
VOLATILE = [
    (r"0x[0-9a-f]{6,}", "a memory address"),
    (r"device='cuda", "a CUDA device suffix (outputs are stored from the CPU run)"),
    (r"/tmp/ipykernel_", "a kernel temp path"),
    (r"\b\d+(\.\d+)? ?(ms|µs|us|ns) ", "a timing"),
]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def text(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def output_text(output: dict) -> str:
    if output["output_type"] == "stream":
        return "".join(output["text"])
    if output["output_type"] == "error":
        return output["ename"] + ": " + output["evalue"]
    return "".join("".join(v) if isinstance(v, list) else str(v) for v in output["data"].values())


ids = [p.name for p in NOTEBOOKS]


def test_there_are_chapters():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


def test_every_notebook_is_in_the_toc_and_every_toc_file_exists():
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^\s*(?:-\s*)?(?:file|root):\s*(\S+)", toc, re.MULTILINE)
    for f in files:
        assert any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb", ".rst")), f
    listed = {f for f in files if f.startswith("notebooks/")}
    assert listed == {f"notebooks/{p.stem}" for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_title_promise_and_sections_in_order(path):
    nb = load(path)
    first = text(nb["cells"][0])
    assert first.startswith("# "), "the first cell is the chapter title"
    assert "After this chapter you can" in first
    headings = [
        line[3:].strip()
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
        for line in text(c).splitlines()
        if line.startswith("## ")
    ]
    sections = [s for s in SECTIONS if not (s == "Exercises" and path.stem in NO_EXERCISES)]
    found = [next((i for i, h in enumerate(headings) if h.startswith(s)), None) for s in sections]
    missing = [s for s, i in zip(sections, found, strict=True) if i is None]
    assert not missing, f"missing sections: {missing}"
    assert found == sorted(found), f"sections out of order: {headings}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_setup_cells(path):
    cells = load(path)["cells"]
    assert cells[1]["cell_type"] == "code" and "remove-cell" in tags(cells[1])
    assert "google.colab" in text(cells[1])
    imports = text(cells[2])
    assert re.search(r"^from snippets(\.\w+)? import", imports, re.MULTILINE)
    assert re.search(r"^setup\(\)", imports, re.MULTILINE), "the import cell calls setup()"
    # The reader learns which PyTorch the chapter runs on and what the version matrix found there.
    assert f'which_pytorch("{path.stem}")' in imports, "the import cell calls which_pytorch"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_code_cell_ran_in_order(path):
    cells = [c for c in code_cells(load(path)) if text(c).strip()]
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), "store outputs with `make outputs`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_errors_only_where_tagged(path):
    for cell in code_cells(load(path)):
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        if "raises-exception" in tags(cell):
            assert errors, f"tagged raises-exception but raised nothing:\n{text(cell)}"
        else:
            assert not errors, f"unexpected error in:\n{text(cell)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_outputs_are_safe_to_compare(path):
    svg = 0
    for cell in code_cells(load(path)):
        for out in cell["outputs"]:
            data = out.get("data", {})
            assert "image/png" not in data, "figures are SVG (nbval does not compare PNG)"
            svg += "image/svg+xml" in data
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"stderr output (a warning?) in:\n{text(cell)}"
            )
            if out["output_type"] == "error":
                # Pygments' traceback lexer, which renders error outputs in the book, cannot read
                # non-ASCII characters after the exception line: the build would warn.
                assert out["evalue"].isascii(), f"non-ASCII error message in:\n{text(cell)}"
            for pattern, what in VOLATILE:
                assert not re.search(pattern, output_text(out)), f"{what} in:\n{text(cell)}"
    assert svg >= 1, "every chapter has at least one figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_exercises_check_the_readers_function_then_a_hidden_solution(path):
    """Stub, then check(stub) ("not yet"), then the hidden solution, which passes the same check.

    Run all in the reader's copy tests the reader's own function; the solution has another name
    (``solution_<name>``), so it never replaces the reader's attempt.
    """
    cells = code_cells(load(path))
    checks = [i for i, c in enumerate(cells) if "exercise" in tags(c)]
    if path.stem in NO_EXERCISES:
        assert not checks and not any("solution" in tags(c) for c in cells)
        return
    assert 2 <= len(checks) <= 4, "two to four auto-checked exercises (tag exercise)"
    for i in checks:
        call = re.fullmatch(r'check\((\w+), "(\w+)"\)\s*', text(cells[i]))
        assert call, f"an exercise cell is one check(name, exercise) call:\n{text(cells[i])}"
        name, exercise = call.groups()
        stub, solution = cells[i - 1], cells[i + 1]
        assert re.search(rf"^def {name}\(", text(stub), re.MULTILINE), text(stub)
        assert "NotImplementedError" in text(stub), "the cell before the check is the stub"
        shown = "".join(output_text(o) for o in cells[i]["outputs"])
        assert shown.startswith(f"… {exercise}: not yet."), shown
        assert {"hide-cell", "solution"} <= set(tags(solution)), "the solution is hidden"
        assert re.search(rf"^def solution_{name}\(", text(solution), re.MULTILINE)
        assert text(solution).rstrip().endswith(f'check(solution_{name}, "{exercise}")')
        passed = "".join(output_text(o) for o in solution["outputs"])
        assert re.fullmatch(rf"✓ {exercise}: all \d+ random cases match the reference\.\n", passed)
    solutions = [c for c in cells if "solution" in tags(c)]
    assert len(solutions) == len(checks), "every solution follows its exercise's check"


EXEMPT_MARKERS = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP")
EXEMPT_TAGS = ("nbval-ignore-output", "nbval-skip")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_cell_is_exempt_from_comparison(path):
    """nbval compares every cell: none is ignored, skipped or stored unrun."""
    for cell in code_cells(load(path)):
        source = text(cell)
        exempt = [t for t in tags(cell) if t in EXEMPT_TAGS]
        exempt += [m for m in EXEMPT_MARKERS if m in source]
        assert not exempt, f"{exempt} exempts this cell from comparison:\n{source}"
        if source.strip():
            assert cell["execution_count"] is not None, f"stored unrun (not compared):\n{source}"


# Paths of the machine that stored the outputs, and line references into the helpers' source
# (stale as soon as a helper changes).
MACHINE_PATHS = re.compile(r"/work/|/root/|/home/|/tmp/|/Users/|site-packages|\.venv|[A-Z]:\\")
HELPER_LINES = re.compile(r"snippets[/\\]\w+\.py(:\d+|\"?, line \d+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def every_stored_text(cell: dict) -> list[str]:
    """Everything a stored output holds, tracebacks included."""
    found = []
    for out in cell["outputs"]:
        found.append(output_text(out))
        found += [ANSI.sub("", line) for line in out.get("traceback", [])]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_stored_output_shows_a_machine_path_or_a_helper_line(path):
    for cell in code_cells(load(path)):
        for shown in every_stored_text(cell):
            assert not MACHINE_PATHS.search(shown), f"a path of this machine in:\n{shown[:500]}"
            assert not HELPER_LINES.search(shown), f"a line number into snippets in:\n{shown[:500]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_error_cells_show_the_message_not_a_traceback(path):
    """An error output is the exception type and message: at most one line per message line."""
    for cell in code_cells(load(path)):
        for out in cell["outputs"]:
            if out["output_type"] != "error":
                continue
            shown = "\n".join(ANSI.sub("", line) for line in out["traceback"]).strip()
            expected = f"{out['ename']}: {out['evalue']}".strip()
            assert shown.endswith(expected), f"traceback does not end with the message:\n{shown}"
            extra = shown[: -len(expected)].strip()
            assert not extra, f"library frames above the message:\n{extra[:800]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_summary_links_the_pytorch_reference(path):
    md = [text(c) for c in load(path)["cells"] if c["cell_type"] == "markdown"]
    summary = next(
        m for m in md if m.lstrip().startswith(("## Summary", "(")) and "## Summary" in m
    )
    assert "pytorch.org/docs" in summary


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_tensor_reprs_print_the_same_on_cuda(path):
    problems = []
    for cell in code_cells(load(path)):
        for out in cell["outputs"]:
            shown = out.get("data", {}).get("text/plain", "")
            shown = "".join(shown) if isinstance(shown, list) else shown
            for text_ in (shown, "".join(out.get("text", "")), out.get("evalue", "")):
                problems += [f"{p}\n  in: {text(cell)[:80]!r}" for p in cuda_differences(text_)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_cells_build_tensors_with_plain_pytorch(path):
    """A copied cell runs in the reader's own code: no book-only wrapper around literal data."""
    for cell in code_cells(load(path))[1:]:  # the bootstrap cell installs, it builds nothing
        found = re.search(r"(?<![\w.])example\(", text(cell))
        assert not found, f"use torch.tensor(..., device=DEVICE), not example(...):\n{text(cell)}"


# Phrases a reader cannot check: notes they never see, a GPU run that no report shows, and a
# release-dependent behaviour stated for "the installed" PyTorch instead of named releases.
UNCHECKABLE = [
    (r"source notes", "notes the reader never sees"),
    (r"GPU run", "a GPU run (say what the CUDA leg checks; the Verified on page lists runs)"),
    (r"installed PyTorch", "the installed PyTorch (name the releases)"),
    (r"since PyTorch 2\.x", "a release range that was not checked"),
]
PAGES = [
    ROOT / "book" / f"{name}.md" for name in ("intro", "glossary", "cheatsheet", "misconceptions")
]


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=lambda p: p.name)
def test_prose_makes_no_uncheckable_claim(path):
    if path.suffix == ".ipynb":
        prose = "\n".join(text(c) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    else:
        prose = path.read_text(encoding="utf-8")
    for pattern, what in UNCHECKABLE:
        found = re.search(pattern, prose, re.IGNORECASE)
        assert not found, f"{what}: ...{prose[max(found.start() - 80, 0) : found.end() + 80]}..."
