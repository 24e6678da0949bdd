"""The version matrix's tooling (tools/matrix.py, tools/matrix_plugin.py) and what it publishes
(book/verified/matrix.json, snippets/matrix_data.py, read by snippets.versions)."""

from __future__ import annotations

import doctest
import json
import re
from pathlib import Path

import pytest

from snippets import versions
from tools import content_hash, matrix, matrix_plugin

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "book" / "verified" / "matrix.json"


@pytest.mark.parametrize("module", [matrix, matrix_plugin, content_hash], ids=lambda m: m.__name__)
def test_doctests_of_the_tools(module) -> None:
    """tools/ is outside pytest's doctest paths: run its doctests here."""
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0
    assert failures == 0


def test_the_releases_are_one_list_with_the_pin_first() -> None:
    pin = re.search(r"^torch==(\S+)", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    found = matrix.releases()
    assert found[0] == pin
    assert sorted(found[1:], key=matrix.version_key) == found[1:]
    assert set(found) == {pin, *matrix.OTHER_RELEASES}
    assert len(found) >= 4


def test_each_venv_gets_the_pinned_versions_of_what_it_needs() -> None:
    lines = matrix.requirement_lines("2.9.1")
    assert lines[0] == "torch==2.9.1"
    pins = matrix.pinned()
    for name in ("nbval", "pytest", "ipykernel", "numpy"):
        assert f"{name}=={pins[name]}" in lines


def test_the_release_line_is_masked_by_the_books_sanitize_file() -> None:
    """The one line that names the release (snippets.versions) is masked on every run: the
    matrix, the CUDA leg (another release on the GPU machine) and the CPU run alike."""
    assert matrix.SANITIZE == ROOT / "tests" / "nbval_sanitize.cfg"
    text = matrix.SANITIZE.read_text(encoding="utf-8")
    regex = re.search(r"^regex: (.*)$", text.split("[pytorch-release-line]")[1], re.M).group(1)
    for version in ("2.9.1", "2.13.0+cpu", "2.6.0"):
        line = versions._about_pytorch("01-gather", version=version, matrix=versions._SAMPLE)
        assert re.fullmatch(regex, line), line
        assert "\n" not in line


def published() -> dict:
    if not PUBLISHED.exists():
        pytest.fail("no book/verified/matrix.json: run make matrix")
    return json.loads(PUBLISHED.read_text(encoding="utf-8"))


def test_the_published_matrix_covers_every_chapter_and_shows_no_path() -> None:
    data = published()
    chapters = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert len([r for r in data["releases"].values() if r.get("status") == "ran"]) >= 4
    assert data["pin"] in data["releases"]
    text = PUBLISHED.read_text(encoding="utf-8")
    assert "/work/" not in text and "/home/" not in text and "/root/" not in text
    for release, entry in data["releases"].items():
        if entry.get("status") != "ran":
            continue
        assert entry["content_hash"].startswith("sha256:"), release
        for name, nb in entry["notebooks"].items():
            assert nb["matched"] + len(nb["differ"]) == nb["cells"], (release, name)
        # a chapter added after the run is simply not in it (the page says "not run")
        assert set(entry["notebooks"]) <= set(chapters) | set(data["chapters"])


def test_snippets_matrix_data_is_the_published_matrix() -> None:
    from snippets.matrix_data import MATRIX

    assert matrix.summary(published()) == MATRIX


def test_versions_reports_each_release_as_the_matrix_found_it() -> None:
    data = published()
    for release, entry in data["releases"].items():
        if entry.get("status") != "ran":
            continue
        for chapter, nb in entry["notebooks"].items():
            line = versions._about_pytorch(chapter, version=release)
            assert line.startswith(f"This notebook runs on PyTorch {release}:")
            if release == data["pin"]:
                assert "the release the book's stored outputs were made" in line
            elif nb["differ"]:
                assert f"{len(nb['differ'])} of this chapter's {nb['cells']} code cells" in line
                for difference in nb["differ"]:
                    assert f"[{difference['code_cell']}]" in line
            else:
                assert "every cell of this chapter prints what the book shows" in line
    assert "not in the book's version matrix" in versions._about_pytorch("01-gather", "1.13.1")


def test_versions_bad_input() -> None:
    with pytest.raises(TypeError, match="chapter must be a notebook name"):
        versions._about_pytorch(1)
    with pytest.raises(ValueError, match="cannot read a release from 'abc'"):
        versions._about_pytorch("01-gather", version="abc")
    # A chapter newer than the matrix is told, not an error: the reader's notebook runs on.
    line = versions._about_pytorch("99-x", version="2.9.1", matrix=versions._SAMPLE)
    assert "this chapter was not part of its last run" in line


def test_the_matrix_installs_every_package_a_chapter_imports():
    """Each release's environment gets torch and NEEDED only: a chapter that imports another
    package fails every cell there (the performance chapter's matplotlib did, before it was
    added). IPython comes with ipykernel."""
    import ast
    import sys

    provided = {"torch", "snippets", "IPython", *matrix.NEEDED}
    missing = {}
    for path in sorted(Path(matrix.ROOT, "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] != "code":
                continue
            code = "\n".join(
                line for line in "".join(cell["source"]).splitlines() if not line.startswith("%")
            )
            for node in ast.walk(ast.parse(code)):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom) and not node.level
                    else []
                )
                for name in names:
                    top = name.split(".")[0]
                    if top not in provided and top not in sys.stdlib_module_names:
                        missing.setdefault(top, set()).add(path.stem)
    assert not missing, f"imported by chapters but not installed by make matrix: {missing}"
