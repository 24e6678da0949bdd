"""The built site in a real browser (Chromium through Playwright).

Screenshots of every check are written to ``_build/screenshots/`` for review.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.site.sitekit import DESKTOP, HTML, PHONE, ROOT, SHOTS, TocPage, ids_in, toc_pages

pytestmark = pytest.mark.site

# Every <a href> of the page, as written and as the browser resolved it.
LINKS = "() => [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href])"
IMAGES = """() => [...document.images].map(img => ({
  src: img.getAttribute('src'), complete: img.complete, width: img.naturalWidth}))"""
# The figures among the notebook's outputs (snippets.draw: a <figure> of panel SVGs, each with
# alt text), with each panel's shown and natural width and its smallest font size.
FIGURES = """() => [...document.querySelectorAll('.cell_output figure.tensor-figure')]
  .map(f => ({label: f.getAttribute('aria-label'),
    scrolls: f.scrollWidth > f.clientWidth + 1,
    cue: /auto|scroll/.test(getComputedStyle(f).overflowX)
      && (getComputedStyle(f).backgroundImage.match(/gradient\\(/g) || []).length >= 4,
    panels: [...f.querySelectorAll('svg[role=img]')].map(s => ({
      label: s.getAttribute('aria-label'), shown: s.getBoundingClientRect().width,
      natural: s.width.baseVal.value,
      font: Math.min(...[...s.querySelectorAll('text')].map(t => +t.getAttribute('font-size')))}))}))"""
HIDDEN = {"remove-cell", "remove-output"}  # Jupyter Book leaves these outputs out of the page


def svg_outputs(notebook: Path) -> int:
    """How many snippets.draw figures the notebook's stored outputs put on its page (an output
    with HTML is rendered as HTML: the figure's panels are inline SVG)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(
        1
        for cell in cells
        if cell["cell_type"] == "code" and not HIDDEN & set(cell["metadata"].get("tags", []))
        for output in cell.get("outputs", [])
        if "tensor-figure" in "".join(output.get("data", {}).get("text/html", ""))
    )


def broken_links(site_url: str, links: list[list[str]]) -> list[str]:
    """The internal links among ``links`` whose file or #fragment does not exist."""
    broken = []
    for raw, resolved in links:
        if not resolved.startswith(site_url):
            continue  # external (mailto:, https://github.com/..., colab): not checked offline
        parts = urlsplit(resolved)
        relative = unquote(parts.path)[len(urlsplit(site_url).path) :]
        target = HTML / relative
        if relative == "" or relative.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{raw!r}: no file {target.relative_to(HTML)}")
        elif (
            parts.fragment
            and target.suffix == ".html"
            and unquote(parts.fragment) not in ids_in(target)
        ):
            broken.append(f"{raw!r}: no id {parts.fragment!r} in {target.relative_to(HTML)}")
    return broken


def test_page_loads_cleanly(toc_page: TocPage, visit, site_url: str) -> None:
    """Every page of the TOC loads with no console error and no failed request, all its images
    load, and every internal link leads to an existing file and, with a #fragment, to an
    existing id on that page."""
    page = visit(toc_page.html)
    page.screenshot(f"desktop/{toc_page.slug}.png")
    images = page.evaluate(IMAGES)
    broken_images = [img["src"] for img in images if not (img["complete"] and img["width"] > 0)]
    broken = broken_links(site_url, page.evaluate(LINKS))
    assert not page.problems, "\n".join(page.problems)
    assert not broken_images, f"images that did not load: {broken_images}"
    assert not broken, "broken internal links:\n" + "\n".join(broken)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_chapter_shows_its_figures(chapter: TocPage, visit, viewport) -> None:
    """Each chapter shows every figure of its outputs, each panel with alt text, and every
    label at least 11 CSS px as shown (a panel wider than its box would be shrunk), on a desktop
    and on a phone (where a panel wider than the screen keeps its size and the figure scrolls
    sideways, with the scroll cue)."""
    page = visit(chapter.html, viewport=viewport)
    figures = page.evaluate(FIGURES)
    assert figures, f"{chapter}: no figure among the notebook's outputs"
    assert len(figures) == svg_outputs(ROOT / chapter.source)
    for figure in figures:
        assert figure["label"] and all(p["label"] for p in figure["panels"]), figure
        assert all(p["shown"] > 0 for p in figure["panels"]), figure
    small = [
        (f["label"][:40], p["font"] * p["shown"] / p["natural"])
        for f in figures
        for p in f["panels"]
        if p["font"] * p["shown"] / p["natural"] < 11 - 1e-6
    ]
    assert not small, f"{chapter}: labels under 11 px: {small}"
    uncued = [f["label"][:40] for f in figures if f["scrolls"] and not f["cue"]]
    assert not uncued, f"{chapter}: figures that scroll sideways with no cue: {uncued}"
    assert not page.problems, "\n".join(page.problems)


def expected_colab_url(chapter: TocPage) -> str:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repository = config["repository"]
    org_repo = re.sub(r"^https://github\.com/|/$|\.git$", "", repository["url"])
    path = (repository.get("path_to_book") or "").strip("/")
    source = f"{path}/{chapter.source.as_posix()}" if path else chapter.source.as_posix()
    return (
        f"https://colab.research.google.com/github/{org_repo}/blob/{repository['branch']}/{source}"
    )


def test_launch_and_download_buttons(chapter: TocPage, visit, site_url: str) -> None:
    """The Colab button opens this chapter's notebook on the configured branch, and the
    download button serves the notebook's own .ipynb file."""
    page = visit(chapter.html)
    colab = page.evaluate(
        "() => [...document.querySelectorAll('a[href*=\"colab.research.google.com\"]')]"
        ".map(a => a.href)"
    )
    assert colab, f"{chapter}: no Colab button"
    assert set(colab) == {expected_colab_url(chapter)}
    downloads = page.evaluate(
        "() => [...document.querySelectorAll('a.btn-download-source-button')].map(a => a.href)"
    )
    assert len(downloads) == 1, f"{chapter}: download buttons {downloads}"
    served = HTML / unquote(urlsplit(downloads[0]).path).removeprefix("/")
    assert served.name == chapter.source.name, f"{chapter}: download link {downloads[0]}"
    assert served.read_bytes() == (ROOT / chapter.source).read_bytes()
    fetched = page.page.request.get(downloads[0])
    assert fetched.ok and fetched.body() == served.read_bytes()


def test_search_finds_the_gather_chapter(visit) -> None:
    page = visit("search.html?q=gather")
    page.page.wait_for_selector("#search-results ul.search li a", timeout=20_000)
    page.page.wait_for_function(
        "() => /Search finished/.test(document.querySelector('#search-results').innerText)",
        timeout=20_000,
    )
    page.screenshot("search-gather.png")
    hits = page.evaluate(
        "() => [...document.querySelectorAll('#search-results ul.search li a')]"
        ".map(a => a.getAttribute('href'))"
    )
    gather = [p.html for p in toc_pages() if p.is_chapter and "gather" in p.docname]
    assert gather, "no gather chapter in _toc.yml"
    assert any(h.split("#")[0].split("?")[0] == gather[0] for h in hits), hits
    assert not page.problems, "\n".join(page.problems)


def relative_luminance(css_color: str) -> float:
    """0 (black) to 1 (white), from a computed ``rgb(...)``/``rgba(...)`` colour."""
    r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css_color)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_dark_mode(dark_page: TocPage, visit) -> None:
    """With the theme switched to dark, the page's background is dark and its text light."""
    page = visit(dark_page.html, dark=True)
    theme = page.evaluate("() => document.documentElement.dataset.theme")
    background, text = page.evaluate(
        "() => [getComputedStyle(document.body).backgroundColor,"
        " getComputedStyle(document.querySelector('main') || document.body).color]"
    )
    page.screenshot(f"dark/{dark_page.slug}.png")
    if dark_page.is_chapter:
        page.show_first(".cell_output img")
        page.screenshot(f"dark/{dark_page.slug}-figure.png")
    assert theme == "dark"
    assert relative_luminance(background) < 0.2, background
    assert relative_luminance(text) > 0.6, text
    assert not page.problems, "\n".join(page.problems)


# Measured against the phone's width: a mobile browser widens its layout viewport (zooms out)
# to fit content that is too wide, so window.innerWidth alone would hide an overflow.
PHONE_LAYOUT = """(width) => {
  const main = document.querySelector('main') || document.body;
  const sidebar = document.querySelector('#pst-primary-sidebar, .bd-sidebar-primary');
  const box = sidebar ? sidebar.getBoundingClientRect() : null;
  const shown = (e) => e.checkVisibility({visibilityProperty: true, opacityProperty: true});
  // Inside a box that scrolls sideways (code, tables, figures), being wide is fine.
  const contained = (e) => {
    for (let box = e.parentElement; box && box !== main; box = box.parentElement) {
      if (/auto|scroll|hidden/.test(getComputedStyle(box).overflowX)
          && box.getBoundingClientRect().right <= width + 1) return true;
    }
    return false;
  };
  const wide = [...main.querySelectorAll('*')]
    .filter(e => shown(e) && e.getBoundingClientRect().right > width + 1 && !contained(e))
    .slice(0, 10).map(e => e.tagName + ' ' + (e.getAttribute('src') || e.getAttribute('class')));
  return {
    viewport: window.innerWidth,
    width,
    page: document.documentElement.scrollWidth,
    main: [main.scrollWidth, main.clientWidth],
    sidebarShown: !!sidebar && shown(sidebar) && box.right > 0 && box.width > 0,
    wide,
  };
}"""


def test_phone_layout(toc_page: TocPage, visit) -> None:
    """On a 390x844 phone screen nothing makes the page wider than the screen (wide code,
    tables and figures scroll sideways in their own box), and the primary sidebar is
    collapsed."""
    page = visit(toc_page.html, viewport=PHONE)
    page.screenshot(f"phone/{toc_page.slug}.png")
    layout = page.evaluate(PHONE_LAYOUT, PHONE["width"])
    if toc_page.is_chapter:
        page.show_first(".cell_output img")
        page.screenshot(f"phone/{toc_page.slug}-figure.png")
    assert layout["page"] <= PHONE["width"], f"page wider than the phone: {layout}"
    assert layout["viewport"] == PHONE["width"], f"page zoomed out to fit: {layout}"
    assert layout["main"][0] <= layout["main"][1] + 1, f"main content overflows: {layout}"
    assert not layout["wide"], f"wider than the screen: {layout['wide']}"
    assert not layout["sidebarShown"], "the primary sidebar is open on a phone"
    assert not page.problems, "\n".join(page.problems)


# --- Small things a reader notices -----------------------------------------------------------

# A section number followed by a hand-written one: "1.8.1. 1. One row per column".
DOUBLE_NUMBER = re.compile(r"\b(\d+(?:\.\d+)*)\.\s+(?:</span>)?\s*(\d+)\.\s")


def test_headings_are_numbered_once(site_build: str) -> None:
    """No heading, and no entry of a table of contents, carries two numbers."""
    doubled = []
    for page in toc_pages():
        html = (HTML / page.html).read_text(encoding="utf-8")
        doubled += [f"{page}: {m.group(0)!r}" for m in DOUBLE_NUMBER.finditer(html)]
    assert not doubled, "headings numbered twice:\n" + "\n".join(doubled[:20])


def test_favicon_ico_at_the_root(visit, site_url: str) -> None:
    """Browsers ask for /favicon.ico on their own; it is there, and it is an icon."""
    page = visit(toc_pages()[0].html)
    response = page.page.request.get(site_url + "favicon.ico")
    assert response.ok, f"/favicon.ico: HTTP {response.status}"
    assert response.body()[:4] == b"\x00\x00\x01\x00", "/favicon.ico is not an ICO file"


# The search boxes a reader sees, the top of the article's own header bar, and the logo.
TOP_OF_PAGE = """() => {
  const shown = (e) => e.checkVisibility({visibilityProperty: true, opacityProperty: true})
    && e.getBoundingClientRect().width > 0;
  const header = document.querySelector('.bd-header-article');
  const logo = document.querySelector('.navbar-brand img:not([hidden])');
  const images = [...document.querySelectorAll('.navbar-brand img')].filter(shown);
  const sidebar = document.querySelector('#pst-primary-sidebar');
  const box = (e) => { const r = e.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width}; };
  return {
    searchBoxes: [...document.querySelectorAll('.search-button-field, .search-button')]
      .filter(shown).length,
    headerTop: header ? header.getBoundingClientRect().top : null,
    logos: images.map(img => ({...box(img), natural: [img.naturalWidth, img.naturalHeight]})),
    sidebar: sidebar ? box(sidebar) : null,
  };
}"""


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_top_of_the_page(dark: bool, visit) -> None:
    """At 1280x900: one search box (in the sidebar), no empty bar above the article's header,
    and the logo shown whole (one image, inside the sidebar, with its own proportions)."""
    chapter = next(page for page in toc_pages() if page.is_chapter)
    page = visit(chapter.html, dark=dark)
    top = page.evaluate(TOP_OF_PAGE)
    page.page.locator(".navbar-brand").first.screenshot(
        path=str(SHOTS / f"logo-{'dark' if dark else 'light'}.png")
    )
    assert top["searchBoxes"] == 1, f"{top['searchBoxes']} search boxes on the page"
    assert top["headerTop"] == 0, f"the article's header starts {top['headerTop']}px down"
    assert len(top["logos"]) == 1, f"logos shown: {top['logos']}"
    logo, sidebar = top["logos"][0], top["sidebar"]
    assert sidebar["left"] <= logo["left"] and logo["right"] <= sidebar["right"], (logo, sidebar)
    ratio = logo["natural"][0] / logo["natural"][1]
    shown = logo["width"] / (logo["bottom"] - logo["top"])
    assert abs(shown - ratio) < 0.05 * ratio, f"logo squeezed: {logo}"
