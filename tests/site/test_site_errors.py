"""The built page "Error messages, A to Z" and the search-engine metadata of every page.

- every error cell of every chapter is on the page, and each link lands on its cell (and on
  the paragraph that reads it) in Chromium;
- the site search finds the page from a pasted message with other numbers;
- sitemap.xml, canonical URLs, descriptions (a chapter's promise sentence) and social cards.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

import pytest

from tests.site.sitekit import DESKTOP, HTML, PHONE, ROOT, ids_in, toc_pages

pytestmark = pytest.mark.site

PAGE = "book/errors"
BASE_URL = "https://pytorch-verified.github.io/book/"


def _error_index():
    spec = importlib.util.spec_from_file_location(
        "error_index", ROOT / "book" / "_ext" / "error_index.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["error_index"] = module
    spec.loader.exec_module(module)
    return module


ei = _error_index()


class _Anchors(HTMLParser):
    """Every ``<a href>`` of a page with its classes, and its ``<head>`` tags."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, set[str]]] = []
        self.meta: dict[str, str] = {}
        self.canonical: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.links.append((a["href"], set(a.get("class", "").split())))
        elif tag == "meta" and ("property" in a or "name" in a):
            self.meta[a.get("property") or a["name"]] = a.get("content", "")
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical.append(a.get("href", ""))


def parsed(docname: str) -> _Anchors:
    parser = _Anchors()
    parser.feed((HTML / f"{docname}.html").read_text(encoding="utf-8"))
    return parser


def test_the_page_is_in_the_toc() -> None:
    assert PAGE in {p.docname for p in toc_pages()}, f"add `- file: {PAGE}` to _toc.yml"


def test_every_error_cell_is_on_the_page(site_build: str) -> None:
    """One link to each error cell and one to its explanation; the ids exist on the chapter."""
    cells = ei.read_book(ROOT)
    page = parsed(PAGE)
    to_cells = [h for h, c in page.links if "error-cell-link" in c]
    to_why = [h for h, c in page.links if "error-why-link" in c]
    expected = [f"../{c.docname}.html#{c.anchor}" for c in cells]
    assert sorted(to_cells) == sorted(expected)
    assert sorted(to_why) == sorted(f"../{c.docname}.html#{c.why_anchor}" for c in cells)
    for cell in cells:
        ids = ids_in(HTML / f"{cell.docname}.html")
        assert {cell.anchor, cell.why_anchor} <= ids, f"{cell.docname}: ids of {cell.anchor}"
    text = (HTML / f"{PAGE}.html").read_text(encoding="utf-8")
    entries = ei.entries(cells)
    assert len(re.findall(r'class="error-entry[ "]', text)) == len(entries)
    assert f"{len(cells)} error cells: {len(entries)} messages" in text


# Follows each #id on the open page; where the element with the id lands: in view, near the
# top (below the header). Smooth scrolling is switched off so the position is final at once.
LANDINGS = """(ids) => {
  document.documentElement.style.scrollBehavior = 'auto';
  return ids.map((id) => {
    location.hash = '';
    location.hash = id;
    const el = document.getElementById(id);
    if (!el) return null;
    const cell = el.closest('.cell');
    return {top: el.getBoundingClientRect().top, height: innerHeight,
            isCell: el.matches('.cell.tag_raises-exception'), tag: el.tagName,
            text: (cell || el).innerText, paragraph: (el.closest('p') || el).innerText};
  });
}"""


def test_each_link_lands_on_its_cell(visit, site_url: str) -> None:
    """Follow every link of the page in Chromium: a cell link scrolls its error cell (showing
    the exception) to the top of the window; a "Reading it" link its explaining paragraph."""
    index = visit(PAGE + ".html")
    links = index.evaluate(
        "() => [...document.querySelectorAll('a.error-cell-link, a.error-why-link')]"
        ".map(a => ({href: a.href, why: a.classList.contains('error-why-link')}))"
    )
    cells = {c.anchor: c for c in ei.read_book(ROOT)}
    assert len(links) == 2 * len(cells)

    # A real click first: the relative link resolves, loads the chapter and scrolls.
    index.page.locator("a.error-cell-link").first.click()
    index.page.wait_for_load_state("load")
    first = urlsplit(index.page.url).fragment
    assert first in cells
    (landing,) = index.page.evaluate(LANDINGS, [first])
    assert landing and landing["isCell"] and 0 <= landing["top"] < landing["height"] / 2

    wrong: list[str] = []
    by_page: dict[str, list[dict]] = {}
    for link in links:
        by_page.setdefault(link["href"].split("#")[0], []).append(link)
    for url, page_links in by_page.items():
        assert url.startswith(site_url)
        chapter = visit(url.removeprefix(site_url))
        anchors = [link["href"].split("#")[1] for link in page_links]
        landings = chapter.page.evaluate(LANDINGS, anchors)
        for link, anchor, got in zip(page_links, anchors, landings, strict=True):
            cell = cells[anchor.removesuffix("-why")]
            if got is None:
                wrong.append(f"{link['href']}: no such id")
                continue
            if not 0 <= got["top"] < got["height"] / 2:
                wrong.append(f"{link['href']}: lands at y={got['top']:.0f}")
            if link["why"]:
                start = " ".join(ei._words(ei.plain(cell.explanation))[:5])
                if start not in " ".join(ei._words(got["paragraph"])):
                    wrong.append(f"{link['href']}: paragraph {got['paragraph'][:80]!r}")
            elif not got["isCell"] or cell.ename not in got["text"]:
                wrong.append(f"{link['href']}: not the {cell.ename} cell ({got['tag']})")
        assert not chapter.problems, "\n".join(chapter.problems)
    assert not wrong, "\n".join(wrong)
    assert not index.problems, "\n".join(index.problems)


@pytest.mark.parametrize(
    "pasted",
    [
        # Seen as "index 3 is out of bounds for dimension 1 with size 3" in the book.
        "RuntimeError: index 12 is out of bounds for dimension 0 with size 5",
        # Seen as "(2x3 and 1x3)" and "(2x2 and 3x2)".
        "RuntimeError: mat1 and mat2 shapes cannot be multiplied (64x128 and 256x10)",
    ],
)
def test_search_finds_the_page_from_a_pasted_message(visit, pasted: str) -> None:
    page = visit("search.html?q=" + quote(pasted))
    page.page.wait_for_function(
        "() => /Search finished/.test(document.querySelector('#search-results').innerText)",
        timeout=20_000,
    )
    hits = page.evaluate(
        "() => [...document.querySelectorAll('#search-results ul.search li a')]"
        ".map(a => a.getAttribute('href'))"
    )
    assert any(h.split("#")[0].split("?")[0] == f"{PAGE}.html" for h in hits), hits
    assert not page.problems, "\n".join(page.problems)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_page_reads_on_desktop_and_phone(visit, viewport: dict[str, int]) -> None:
    """Nothing wider than the window (long messages wrap), and a screenshot of each."""
    page = visit(PAGE + ".html", viewport=viewport)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    page.screenshot(f"errors/errors-{viewport['width']}.png")
    assert width <= viewport["width"]
    overflowing = page.evaluate(
        "() => [...document.querySelectorAll('.error-entry pre')]"
        ".filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.innerText.slice(0, 60))"
    )
    assert not overflowing, overflowing
    assert not page.problems, "\n".join(page.problems)


# --- Search engines and links ----------------------------------------------------------------


def test_sitemap_lists_every_page(site_build: str) -> None:
    tree = ElementTree.parse(HTML / "sitemap.xml")
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    urls = [loc.text for loc in tree.getroot().findall("s:url/s:loc", namespace)]
    assert sorted(urls) == sorted(BASE_URL + p.html for p in toc_pages())


QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def _promise(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        text = ei.plain("".join(cell["source"])) if cell["cell_type"] == "markdown" else ""
        match = re.search(r"After this chapter you can .*?\.(?=\s|$)", text)
        if match:
            return match.group(0)
    raise AssertionError(f"{notebook.name}: no promise sentence")


def test_every_page_has_canonical_url_description_and_card(site_build: str) -> None:
    for page in toc_pages():
        head = parsed(page.docname)
        assert head.canonical == [BASE_URL + page.html], page
        assert head.meta.get("og:url") == BASE_URL + page.html, page
        assert head.meta.get("og:title"), page
        assert len(head.meta.get("description", "")) > 40, page
        assert head.meta.get("og:description") == head.meta["description"], page
        assert head.meta.get("twitter:card") == "summary_large_image", page
        card = head.meta.get("og:image", "")
        assert card.startswith(BASE_URL + "_images/social_previews/"), (page, card)
        assert (HTML / card.removeprefix(BASE_URL)).is_file(), card
        if page.is_chapter:  # Sphinx typesets quotes: ’ for '
            described = head.meta["description"].translate(QUOTES)
            assert described == _promise(ROOT / page.source), page
