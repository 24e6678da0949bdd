"""The API reference page (book/api.rst) and the chapters' links to it (no browser).

- the page has an entry (an anchor) for every name of every public module's ``__all__``, and
  a row in its table of public names with links to the chapters that use it;
- each entry used by a chapter links to the chapters that use it ("Used in:");
- each chapter links to the entry of every helper it imports, from its prose or from the
  "Helpers used in this chapter" box, and never from inside a code cell or a heading.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.site.sitekit import HTML, ROOT, TocPage, ids_in
from tools.api_usage import chapter_usage, public_api, users

pytestmark = pytest.mark.site

API_PAGE = HTML / "book" / "api.html"


class _Links(HTMLParser):
    """Every ``<a href>`` of a page, and those inside code blocks (``<pre>``) or headings."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.misplaced: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("pre", "h1", "h2", "h3", "h4", "h5", "h6"):
            self._open.append(tag)
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)
            if self._open and "api.html#" in href:
                self.misplaced.append(f"{href} inside <{self._open[-1]}>")

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()


def _links(path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_api_page_has_an_entry_for_every_public_name(site_build: str) -> None:
    ids = ids_in(API_PAGE)
    expected = [f"{module}.{name}" for module, names in public_api().items() for name in names]
    assert len(expected) > 20
    missing = [full for full in expected if full not in ids]
    assert not missing, f"book/api.html has no entry for {missing}"


def test_api_entries_link_to_the_chapters_that_use_them(site_build: str) -> None:
    page = API_PAGE.read_text(encoding="utf-8")
    starts = {
        m["id"]: m.start() for m in re.finditer(r'<dt class="sig[^"]*" id="(?P<id>[^"]+)"', page)
    }
    order = sorted(starts.values())
    checked, problems = 0, []
    for full, docnames in users(ROOT).items():
        if full not in starts:
            continue  # not public: tests/test_public_api.py names it
        begin = starts[full]
        end = next((s for s in order if s > begin), len(page))
        entry = page[begin:end]
        used_in = re.search(r'<p class="api-used-in">(.*?)</p>', entry, re.S)
        if not used_in:
            problems.append(f"{full}: no 'Used in' line")
            continue
        hrefs = set(re.findall(r'href="([^"#]+)', used_in[1]))
        wanted = {f"../{doc}.html" for doc in docnames}
        if hrefs != wanted:
            problems.append(f"{full}: links {sorted(hrefs)}, used by {sorted(wanted)}")
        checked += 1
    assert checked > 20
    assert not problems, "\n".join(problems)


def test_chapter_links_to_the_helpers_it_imports(chapter: TocPage, site_build: str) -> None:
    usage = chapter_usage(ROOT / chapter.source)
    api = public_api()
    imported = sorted(
        full
        for full in usage.imported.values()
        if full.rpartition(".")[2] in api.get(full.rpartition(".")[0], ())
    )
    assert imported, f"{chapter}: imports no public helper"
    links = _links(HTML / chapter.html)
    targets = {href.partition("#")[2] for href in links.hrefs if "api.html#" in href}
    assert all(href.startswith("../book/api.html#") for href in links.hrefs if "api.html#" in href)
    missing = [full for full in imported if full not in targets]
    assert not missing, f"{chapter.html} does not link to the API entries of {missing}"
    assert not links.misplaced, f"{chapter.html}: API links in code or headings: {links.misplaced}"
    assert 'class="api-helpers' in (HTML / chapter.html).read_text(encoding="utf-8")


def test_api_page_lists_every_public_name_with_its_chapters(site_build: str) -> None:
    """The table "Public names": a row per name, linking to its entry and its chapters."""
    page = API_PAGE.read_text(encoding="utf-8")
    table = re.search(r'<table class="[^"]*api-overview.*?</table>', page, re.S)
    assert table, "book/api.html has no table of public names"
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table[0], re.S):
        target = re.search(r'href="#(snippets\.[^"]+)"', row)
        if target:
            rows[target[1]] = set(re.findall(r'href="(\.\./notebooks/[^"#]+)"', row))
    uses = users(ROOT)
    for module, names in public_api().items():
        for name in names:
            full = f"{module}.{name}"
            assert full in rows, f"the table of public names has no row for {full}"
            assert rows[full] == {f"../{doc}.html" for doc in uses.get(full, [])}, full
