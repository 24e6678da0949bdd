"""The page "Verified on" lists exactly the published runs of book/verified/*.json (no browser)."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from tests.site.sitekit import HTML, ROOT, toc_pages

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
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(PUBLISHED.glob("*.json"))
    }


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


def test_page_says_when_no_gpu_run_is_recorded(site_build: str) -> None:
    text = " ".join("".join(rendered().text).split())
    gpu_runs = [s for s, r in published().items() if r["device_type"] == "cuda"]
    says_no_gpu = "No GPU run is recorded" in text
    assert says_no_gpu == (not gpu_runs), f"GPU runs {gpu_runs}, page says no GPU: {says_no_gpu}"
    if not published():
        assert "No verified run is recorded yet" in text
