"""What a first visit downloads: a chapter and the search page, each opened in a fresh browser
context (empty cache), every response counted (body and headers as received).

Measured on this site (1280x900, Chromium, served uncompressed by http.server):

==================  ==============================  ==============================
page                before (theme as shipped)       after (book/_ext/trim_theme_assets)
==================  ==============================  ==============================
01-gather chapter   2,723,239 bytes, 35 requests    1,041,103 bytes, 32 requests
search "gather"     3,498,674 bytes, 43 requests      953,435 bytes, 31 requests
==================  ==============================  ==============================

(bodies only; the test adds the response headers). The budgets leave room for the book to
grow a little, not for the 1.49 MB fontawesome.js, the 118 KB brands font or the search page
downloading every matching chapter to show a summary line.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.site.sitekit import toc_pages

pytestmark = pytest.mark.site

BUDGET = {"chapter": 1_300_000, "search": 1_200_000}  # bytes
MAX_REQUESTS = 36


def first_visit(page) -> tuple[int, list[tuple[int, str]]]:
    """Total bytes received by ``page`` since it was opened, and the five largest responses."""
    page.page.wait_for_load_state("networkidle")
    sizes = []
    for response in page.responses:
        try:
            size = response.request.sizes()
            received = size["responseBodySize"] + size["responseHeadersSize"]
        except Exception:  # a response Playwright no longer holds: count its body
            received = len(response.body())
        sizes.append((received, urlsplit(response.url).path))
    return sum(s for s, _ in sizes), sorted(sizes, reverse=True)


def report(name: str, total: int, sizes: list[tuple[int, str]]) -> str:
    largest = "\n".join(f"  {size:>9,}  {path}" for size, path in sizes[:6])
    return f"{name}: {total:,} bytes in {len(sizes)} requests; largest:\n{largest}"


def test_first_visit_of_a_chapter(visit) -> None:
    chapter = next(page for page in toc_pages() if page.is_chapter)
    page = visit(chapter.html, fresh=True)
    total, sizes = first_visit(page)
    print(report(str(chapter), total, sizes))
    assert total <= BUDGET["chapter"], report(str(chapter), total, sizes)
    assert len(sizes) <= MAX_REQUESTS, report(str(chapter), total, sizes)
    assert not page.problems, "\n".join(page.problems)


def test_first_visit_of_the_search_page(visit) -> None:
    page = visit("search.html?q=gather", fresh=True)
    page.page.wait_for_function(
        "() => /Search finished/.test(document.querySelector('#search-results').innerText)",
        timeout=20_000,
    )
    total, sizes = first_visit(page)
    print(report("search", total, sizes))
    assert total <= BUDGET["search"], report("search", total, sizes)
    assert len(sizes) <= MAX_REQUESTS, report("search", total, sizes)
    assert not page.problems, "\n".join(page.problems)
