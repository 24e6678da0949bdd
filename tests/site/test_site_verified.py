"""The page "Verified on" lists exactly the published runs of book/verified/*.json (no browser)."""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser

import pytest

from tests.site.sitekit import HTML, ROOT, toc_pages
from tools.content_hash import content_hash

pytestmark = pytest.mark.site

PAGE = "book/verified-on"
PUBLISHED = ROOT / "book" / "verified"


class _Runs(HTMLParser):
    """The text of each ``<tr class="verified-run">`` by id, and the page's whole text."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.text: list[str] = []
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "tr" and "verified-run" in (attributes.get("class") or "").split():
            self._row = attributes.get("id") or ""
            self.rows[self._row] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._row is not None:
            self.rows[self._row] += data


def rendered() -> _Runs:
    assert PAGE in {p.docname for p in toc_pages()}, f"add `- file: {PAGE}` to _toc.yml"
    parser = _Runs()
    parser.feed((HTML / f"{PAGE}.html").read_text(encoding="utf-8"))
    return parser


def published() -> dict[str, dict]:
    """The published run reports (every JSON of book/verified but the matrix)."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(PUBLISHED.glob("*.json"))
        if path.name != "matrix.json"
    }


def published_matrix() -> dict | None:
    path = PUBLISHED / "matrix.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def test_page_lists_exactly_the_published_runs(site_build: str) -> None:
    page = rendered()
    runs = published()
    assert set(page.rows) == {f"verified-run-{stem}" for stem in runs}
    for stem, report in runs.items():
        row = " ".join(page.rows[f"verified-run-{stem}"].split())
        for value in (report["torch_version"], report["python_version"], report["date"][:10]):
            assert value in row, f"{stem}: {value!r} not in the row {row!r}"
        if report.get("gpu_name"):
            assert report["gpu_name"] in row
        cells = report["notebook_cells"]
        assert str(cells["passed"] + cells["failed"]) in row
        stale = report.get("content_hash") != content_hash(ROOT)
        assert ("stale" in row) == stale, f"{stem}: stale={stale} but the row says {row!r}"


def test_page_says_when_no_gpu_run_is_recorded(site_build: str) -> None:
    text = " ".join("".join(rendered().text).split())
    gpu_runs = [s for s, r in published().items() if r["device_type"] == "cuda"]
    says_no_gpu = "No GPU run is recorded" in text
    assert says_no_gpu == (not gpu_runs), f"GPU runs {gpu_runs}, page says no GPU: {says_no_gpu}"
    if not published():
        assert "No verified run is recorded yet" in text


# --- The matrix ---------------------------------------------------------------------------------


class _Matrix(HTMLParser):
    """The release headers and the cell texts of ``table.verified-matrix``."""

    def __init__(self) -> None:
        super().__init__()
        self.releases: list[str] = []
        self.headers: dict[str, str] = {}
        self.cells: list[list[str]] = []
        self.details = 0
        self._header: str | None = None
        self._cell: list[str] | None = None
        self._in_table = False
        self._chapter_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "table" and "verified-matrix" in classes:
            self._in_table = True
        if not self._in_table:
            return
        if tag == "th" and a.get("data-release"):
            self._header = a["data-release"]
            self.releases.append(self._header)
            self.headers[self._header] = ""
        if tag == "tr":
            self._chapter_row = "verified-matrix-chapter" in classes
            if self._chapter_row:
                self.cells.append([])
        if tag == "td" and "verified-cell" in classes and self._chapter_row:
            self._cell = []
        if tag == "details":
            self.details += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        if tag == "th":
            self._header = None
        if tag == "summary" and self._cell is not None:
            self._cell.append(" ")
        if tag == "td" and self._cell is not None:
            self.cells[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._header is not None:
            self.headers[self._header] += data
        if self._cell is not None:
            self._cell.append(data)


def test_matrix_renders_every_release_and_chapter(site_build: str) -> None:
    matrix = published_matrix()
    if matrix is None:
        assert "No version matrix is published yet" in " ".join("".join(rendered().text).split())
        return
    page = _Matrix()
    page.feed((HTML / f"{PAGE}.html").read_text(encoding="utf-8"))
    assert page.releases == list(matrix["releases"])
    assert len(page.cells) == len(matrix["chapters"])
    now = content_hash(ROOT)
    differing = 0
    for column, (release, entry) in enumerate(matrix["releases"].items()):
        header = " ".join(page.headers[release].split())
        stale = entry.get("status") == "ran" and entry.get("content_hash") != now
        assert ("stale" in header) == stale, f"{release}: header {header!r}, stale={stale}"
        for row, chapter in enumerate(matrix["chapters"]):
            text = page.cells[row][column]
            nb = entry.get("notebooks", {}).get(chapter)
            if entry.get("status") != "ran" or nb is None:
                assert text == "not run"
                continue
            assert text.startswith(f"{nb['matched']}/{nb['cells']}"), (release, chapter, text)
            for difference in nb["differ"]:
                differing += 1
                assert (
                    f"Code cell {difference['code_cell']} (nbval's Cell {difference['cell']}):"
                    in text
                )
    # each chapter entry with differences is one <details> (plus one per failing pin column)
    chapters_differing = sum(
        1
        for entry in matrix["releases"].values()
        for nb in entry.get("notebooks", {}).values()
        if nb["differ"]
    )
    assert page.details >= chapters_differing
    assert (differing == 0) == (chapters_differing == 0)


# --- No page claims a device or a release that no published report shows -----------------------

# A device claim: a sentence that names CUDA or a GPU and says something was run, compared,
# verified or tested there. Exempt: sentences that say it was not (yet), or only when/if a GPU
# is present, or what "the CUDA leg checks / compares / runs" (a description of the test, not of
# a run; "the CUDA leg of the tests compares ..." too), and what PyTorch's documentation says.
DEVICE_WORD = re.compile(r"\b(CUDA|GPUs?)\b")
VERIFY_WORD = re.compile(
    r"\b(verif\w*|compared?|compares|re-?runs?|re-?run|runs? (it|them|every|each)|tested|checked|"
    r"passe[sd]|GPU run|CUDA run|run on CUDA|shown on)\b",
    re.IGNORECASE,
)
EXEMPT = re.compile(
    r"\b(not|no|never|yet|when|whenever|if|unless|once|will|would|could|"
    r"leg\b[^.]{0,30}?\b(?:checks?|compares|runs)|documentation|"
    r"is present|are present)\b",
    re.IGNORECASE,
)
# A release claim: "PyTorch 2.13", "torch 2.9.1", "releases 2.9.1, 2.11.0 and 2.14.1",
# "on 2.14.1". "2.x" is not a release. Versions inside <code> are not prose and are skipped.
RELEASE_CLAIM = re.compile(
    r"\b(?:PyTorch|torch|releases?|on)\s*(?:==\s*)?"
    r"(\d+\.\d+(?:\.\d+)?(?:(?:\s*,\s*|,?\s+(?:and|or|to)\s+)\d+\.\d+(?:\.\d+)?)*)\b(?!\.\d)"
)
VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?")
SKIPPED_TAGS = {"script", "style", "pre", "code", "svg", "math"}
SKIPPED_CLASSES = {"cell_input", "cell_output", "output", "highlight"}
BLOCK_TAGS = {
    "p",
    "li",
    "td",
    "th",
    "dt",
    "dd",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "div",
    "footer",
    "section",
    "tr",
    "table",
    "br",
    "title",
    "summary",
    "details",
}
VOID_TAGS = {"br", "img", "hr", "meta", "link", "input", "source", "wbr"}


class _Prose(HTMLParser):
    """The prose of a page: text outside code, cell inputs and outputs, split into blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = [""]
        self._stack: list[bool] = []  # per open element: whether it is skipped

    def _skipping(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self.blocks.append("")
        if tag in VOID_TAGS:
            return
        classes = set((dict(attrs).get("class") or "").split())
        self._stack.append(tag in SKIPPED_TAGS or bool(classes & SKIPPED_CLASSES))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        if self._stack:
            self._stack.pop()
        if tag in BLOCK_TAGS:
            self.blocks.append("")

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.blocks[-1] += data


def sentences(html_text: str) -> list[str]:
    parser = _Prose()
    parser.feed(html_text)
    found = []
    for block in parser.blocks:
        text = " ".join(block.split())
        found += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text) if s]
    return found


def covered(version: str, releases: set[str]) -> bool:
    """Whether a claimed ``2.13`` or ``2.13.0`` is a release some report shows."""
    shown = {r.split("+")[0] for r in releases}
    return any(r == version or r.startswith(version + ".") for r in shown)


def unverified_claims(html_text: str, devices: set[str], releases: set[str]) -> list[str]:
    """The sentences of ``html_text`` that claim a device or a release no report shows."""
    claims = []
    for sentence in sentences(html_text):
        if (
            "cuda" not in devices
            and DEVICE_WORD.search(sentence)
            and VERIFY_WORD.search(sentence)
            and not EXEMPT.search(sentence)
        ):
            claims.append(f"claims a GPU/CUDA run: {sentence!r}")
        for match in RELEASE_CLAIM.finditer(sentence):
            for version in VERSION.findall(match.group(1)):
                if not covered(version, releases):
                    claims.append(f"claims PyTorch {version}: {sentence!r}")
    return claims


EVIDENCE_TODAY = ({"cpu"}, {"2.13.0+cpu"})  # what book/verified showed when these were written


@pytest.mark.parametrize(
    "html_text",
    [
        # the footer, glossary and chapter 3 before issue 8 (claims of a CUDA run never made)
        "<footer><p>Every printed output in this book is re-run and compared by the test suite,"
        " on CPU and on CUDA.</p></footer>",
        "<dd><p>The pytest plugin that re-runs a notebook and compares each cell's output with the"
        " stored one. The book runs it on every chapter, on CPU and on CUDA.</p></dd>",
        "<p>The tie rule holds for every size of elements, on the CPU and, in the book's GPU run,"
        " on CUDA.</p>",
        "<p>Checked on PyTorch 2.9.1 and 2.12.1.</p>",
        "<p>The outputs were verified with torch 2.15.</p>",
    ],
)
def test_claim_scanner_catches_unverified_claims(html_text: str) -> None:
    assert unverified_claims(html_text, *EVIDENCE_TODAY)


@pytest.mark.parametrize(
    "html_text",
    [
        "<p>No GPU run is published: the CUDA leg checks this when a GPU is present.</p>",
        "<p>The test suite compares every output on the CPU and, when a GPU is present, on CUDA.</p>",
        "<p>The CUDA leg checks that the message is the same; it has not been run yet.</p>",
        "<p>Verified on PyTorch 2.13 (CPU).</p>",
        "<p>int32 is accepted since PyTorch 2.x.</p><pre>torch 2.9.1 on CUDA compared</pre>",
        "<p>It wraps on <code>torch==2.15.0</code>, the tensor holds 2.5.</p>",
        "<p>On CUDA the same call is a device-side assert.</p>",
    ],
)
def test_claim_scanner_lets_honest_wording_pass(html_text: str) -> None:
    assert unverified_claims(html_text, *EVIDENCE_TODAY) == []


def published_evidence() -> tuple[set[str], set[str]]:
    """(devices, PyTorch releases) that the published reports show."""
    devices, releases = set(), set()
    matrix = published_matrix()
    if matrix:
        devices.add(matrix.get("device_type", "cpu"))
        for release, entry in matrix["releases"].items():
            if entry.get("status") == "ran":
                releases.add(entry.get("torch_version", release))
    for report in published().values():
        devices.add(report["device_type"])
        releases.add(report["torch_version"])
    return devices, releases


def built_pages() -> list:
    return [
        p
        for p in sorted(HTML.rglob("*.html"))
        if not {"_static", "_sources", "_images"} & set(p.relative_to(HTML).parts)
        and p.name not in ("genindex.html", "search.html")
    ]


def test_no_page_claims_an_unverified_device_or_release(site_build: str) -> None:
    devices, releases = published_evidence()
    found = []
    for page in built_pages():
        for claim in unverified_claims(page.read_text(encoding="utf-8"), devices, releases):
            found.append(f"{page.relative_to(HTML)}: {claim}")
    assert not found, (
        f"published reports show devices {sorted(devices)} and PyTorch {sorted(releases)}; "
        "these sentences claim more:\n" + "\n".join(found)
    )


def test_the_footer_is_rendered_from_the_reports(site_build: str) -> None:
    devices, _ = published_evidence()
    page = (HTML / f"{PAGE}.html").read_text(encoding="utf-8")
    footer = page.split('class="verified-footer"', 1)
    assert len(footer) == 2, "no footer rendered from book/verified (verified_runs.footer_html)"
    text = footer[1].split("</p>", 1)[0]
    for report in published().values():
        assert report["torch_version"] in text
    assert ("No GPU run is published" in text) == ("cuda" not in devices)


# --- The extension's rendering, on sample reports (no build needed) ----------------------------


def extension():
    import importlib.util

    ext = str(ROOT / "book" / "_ext")
    if ext not in sys.path:  # as Sphinx's local_extensions: its tool_import module
        sys.path.insert(0, ext)
    spec = importlib.util.spec_from_file_location(
        "verified_runs_under_test", ROOT / "book" / "_ext" / "verified_runs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_matrix(now: str) -> dict:
    nb = {"cells": 42, "matched": 42, "differ": []}
    return {
        "pin": "2.13.0",
        "chapters": ["01-gather", "02-take-along-dim"],
        "releases": {
            "2.9.1": {
                "status": "ran",
                "content_hash": "sha256:old",
                "date": "2026-11-30T05:00:00Z",
                "notebooks": {
                    "01-gather": nb,
                    "02-take-along-dim": {
                        "cells": 53,
                        "matched": 51,
                        "differ": [
                            {"cell": 25, "lines": ["RuntimeError: index 3 is out of bounds"]},
                            {"cell": 28, "lines": ["- ZeroDivisionError", "+ index 0 <is>"]},
                        ],
                    },
                },
                "pins": {"tests/t.py::test_wraps": {"outcome": "failed", "message": ["revise"]}},
            },
            "2.12.1": {"status": "failed to install", "error": "no matching distribution"},
            "2.13.0": {
                "status": "ran",
                "content_hash": now,
                "date": "2026-11-30T05:00:00Z",
                "notebooks": {"01-gather": nb},
                "pins": {"tests/t.py::test_wraps": {"outcome": "passed"}},
            },
        },
    }


def test_matrix_html_shows_fractions_details_and_staleness() -> None:
    ext = extension()
    text = ext.matrix_html(sample_matrix("sha256:new"), "sha256:new")
    page = _Matrix()
    page.feed(text)
    assert page.releases == ["2.9.1", "2.12.1", "2.13.0"]
    assert page.cells == [
        ["42/42", "not run", "42/42"],
        [
            "51/53 Code cell 25 (nbval's Cell 25): RuntimeError: index 3 is out of bounds "
            "Code cell 28 (nbval's Cell 28): - ZeroDivisionError + index 0 <is>",
            "not run",
            "not run",
        ],
    ]
    assert page.details == 2  # chapter 2 on 2.9.1, and its failing pin
    assert "stale" in page.headers["2.9.1"]
    assert "stale" not in page.headers["2.13.0"]
    assert "(pin)" in page.headers["2.13.0"]
    assert "failed to install" in page.headers["2.12.1"]
    assert "&lt;is&gt;" in text  # differing output is escaped, never raw HTML
    assert "1/1 hold" in text and "0/1 hold" in text


def test_coverage_marks_a_report_without_or_with_another_hash_stale() -> None:
    ext = extension()
    assert ext.coverage({"content_hash": "sha256:abc"}, "sha256:abc")[0] is True
    assert ext.coverage({"content_hash": "sha256:abc"}, "sha256:def")[0] is False
    assert ext.coverage({}, "sha256:def") == (False, "stale: no content hash recorded")


def test_footer_names_only_what_reports_show(tmp_path) -> None:
    ext = extension()
    cpu = {
        "device_type": "cpu",
        "gpu_name": None,
        "torch_version": "2.13.0+cpu",
        "python_version": "3.11.7",
        "date": "2026-11-30T00:00:00Z",
        "notebook_cells": {"passed": 1, "failed": 0},
        "notebooks": {},
        "unit_tests": {"passed": 1, "failed": 0},
        "content_hash": "sha256:now",
    }
    (tmp_path / "cpu.json").write_text(json.dumps(cpu), encoding="utf-8")
    footer = ext.footer_html(tmp_path, "sha256:now")
    assert "CPU with PyTorch 2.13.0+cpu" in footer
    assert "No GPU run is published" in footer
    assert "stale" not in footer
    assert unverified_claims(footer, {"cpu"}, {"2.13.0+cpu"}) == []
    assert "stale" in ext.footer_html(tmp_path, "sha256:later")
    cuda = {
        **cpu,
        "device_type": "cuda",
        "gpu_name": "NVIDIA H200",
        "torch_version": "2.13.0+cu130",
    }
    (tmp_path / "cuda-nvidia-h200.json").write_text(json.dumps(cuda), encoding="utf-8")
    footer = ext.footer_html(tmp_path, "sha256:now")
    assert "CUDA (NVIDIA H200) with PyTorch 2.13.0+cu130" in footer
    assert "No GPU run" not in footer
    (tmp_path / "cpu.json").unlink()
    (tmp_path / "cuda-nvidia-h200.json").unlink()
    assert "No verified run of this book is published yet" in ext.footer_html(tmp_path, None)
