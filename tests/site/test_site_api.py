"""The API reference page (book/api.rst) and the chapters' links to it (no browser).

- the page has an entry (an anchor) for every name of every public module's ``__all__``, and
  a row in its table of public names with links to the chapters that use it;
- each entry used by a chapter links to the chapters that use it ("Used in:");
- each chapter links to the entry of every helper it imports, from its prose or from the
  "Helpers used in this chapter" box, and never from inside a code cell or a heading;
- a chapter is named, in the table and in the "Used in" lines alike, by its number and the
  start of its title as the sidebar shows them ("6. no_grad, inference_mode and eval()");
- the box sets apart the references a chapter's exercises are checked against;
- a long signature lists one parameter per line.
"""

from __future__ import annotations

import html
import inspect
import re
from html.parser import HTMLParser

import pytest

from tests.site.sitekit import HTML, PHONE, ROOT, TocPage, ids_in, toc_pages
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
        used_in = re.search(r'<p class="api-used-in[^"]*">(.*?)</p>', entry, re.S)
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


def _text(fragment: str) -> str:
    """The text of an HTML fragment as a reader sees it (tags, ``<wbr>`` included, removed)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", fragment))).strip()


def _chapter_links(fragment: str) -> list[tuple[str, str, str]]:
    """(href, title attribute, text) of each link to a chapter in ``fragment``."""
    return [
        (m[1], html.unescape(m[2] or ""), _text(m[3]))
        for m in re.finditer(
            r'<a class="reference internal" href="(\.\./notebooks/[^"#]+)"'
            r'(?: title="([^"]*)")?>(.*?)</a>',
            fragment,
            re.S,
        )
    ]


def test_api_page_names_chapters_by_number_and_title(site_build: str) -> None:
    """In the table of public names and in the "Used in" lines, a chapter reads as the sidebar
    numbers it, cut short for a phone: "6. no_grad, inference_mode and eval()", with the whole
    title as tooltip (it read "no-grad", the file's slug); a name used by many chapters lists
    their numbers. One chapter reads the same everywhere on the page."""
    page = API_PAGE.read_text(encoding="utf-8")
    sidebar = {
        m[1]: _text(m[2])
        for m in re.finditer(
            r'<li class="toctree-l1[^"]*"><a class="reference internal" '
            r'href="(\.\./notebooks/[^"#]+)">(.*?)</a>',
            page,
            re.S,
        )
    }
    chapters = [p for p in toc_pages() if p.is_chapter]
    assert len(sidebar) == len(chapters) >= 9, sidebar
    numbers = {href: title.partition(". ")[0] for href, title in sidebar.items()}
    assert all(n.isdigit() for n in numbers.values()), sidebar
    table = re.search(r'<table class="[^"]*api-overview.*?</table>', page, re.S)
    assert table
    used_in = re.findall(r'<p class="api-used-in[^"]*">(.*?)</p>', page, re.S)
    assert len(used_in) > 20
    labels: dict[str, set[str]] = {}
    problems = []
    for where, fragment in [("table", table[0]), *(("Used in", u) for u in used_in)]:
        for href, title, text in _chapter_links(fragment):
            if title != sidebar[href]:
                problems.append(f"{where}: {href} has tooltip {title!r}, not {sidebar[href]!r}")
            if text == numbers[href]:
                continue  # "chapters 1, 2, ..., 10"
            labels.setdefault(href, set()).add(text)
            if not (text.startswith(f"{numbers[href]}. ") and sidebar[href].startswith(text)):
                problems.append(f"{where}: {href} reads {text!r}; the sidebar: {sidebar[href]!r}")
            if len(text) > 40:
                problems.append(f"{where}: {text!r} is long for a phone's table")
    assert not problems, "\n".join(problems)
    assert len(labels) >= 9, labels
    differ = {href: texts for href, texts in labels.items() if len(texts) > 1}
    assert not differ, f"a chapter named in two ways on the API page: {differ}"
    assert labels["../notebooks/05-no-grad.html"] == {"6. no_grad, inference_mode and eval()"}


def test_helpers_box_sets_the_exercise_references_apart(site_build: str) -> None:
    """A chapter's box lists the references its exercises are checked against (``check(f,
    "name")``), which it never calls, on a line of their own labelled "exercise references";
    every other line lists only helpers the chapter's code imports or calls."""
    api = public_api()
    checked_total = 0
    for chapter in (p for p in toc_pages() if p.is_chapter):
        usage = chapter_usage(ROOT / chapter.source)
        public = {f"{m}.{n}" for m, names in api.items() for n in names}
        only_checked = (usage.used - usage.called) & public
        page = (HTML / chapter.html).read_text(encoding="utf-8")
        box = re.search(r'<div class="api-helpers.*?</ul>', page, re.S)
        assert box, f"{chapter.html} has no helpers box"
        exercise_items, other_items = [], []
        for m in re.finditer(r"<li(?: class=\"([^\"]*)\")?>(.*?)</li>", box[0], re.S):
            (exercise_items if "api-exercises" in (m[1] or "") else other_items).append(m[2])
        listed = {t for item in exercise_items for t in re.findall(r'api\.html#([^"]+)"', item)}
        assert listed == only_checked, chapter.html
        assert all("(exercise references)" in _text(item) for item in exercise_items)
        others = {t for item in other_items for t in re.findall(r'api\.html#([^"]+)"', item)}
        assert others == (usage.called & public), chapter.html
        assert not any("exercise references" in _text(item) for item in other_items)
        checked_total += len(listed)
    assert checked_total >= 20  # three exercises in most chapters


def test_long_signatures_list_one_parameter_per_line(site_build: str) -> None:
    """python_maximum_signature_line_length (_config.yml): a signature longer than a desktop
    line has one parameter per line (Trace(...) was eight dense lines on a phone)."""
    page = API_PAGE.read_text(encoding="utf-8")
    signatures = {
        m[1]: m[2]
        for m in re.finditer(r'<dt class="sig sig-object py" id="([^"]+)">(.*?)</dt>', page, re.S)
    }
    assert len(signatures) > 50
    dense = [
        full for full, sig in signatures.items() if len(_text(sig)) > 80 and sig.count("<dd>") < 2
    ]
    assert not dense, f"long signatures on one wrapped line: {dense}"
    from snippets.hooks import Trace

    params = inspect.signature(Trace).parameters.values()
    lines = [_text(dd) for dd in re.findall(r"<dd>(.*?)</dd>", signatures["snippets.hooks.Trace"])]
    keyword_only = any(p.kind is p.KEYWORD_ONLY for p in params)
    assert len(lines) == len(params) + keyword_only, lines
    assert [line.partition(":")[0] for line in lines if line != "*,"] == [p.name for p in params]


def test_long_signature_reads_one_parameter_a_line_on_a_phone(visit) -> None:
    """On a 390 px screen, each parameter of Trace(...) takes one line, two at most for a long
    type, and its name is upright, its type in the regular weight."""
    page = visit("book/api.html", viewport=PHONE)
    found = page.evaluate(
        """() => {
            const dt = document.getElementById('snippets.hooks.Trace');
            const line = parseFloat(getComputedStyle(dt).lineHeight);
            const dds = [...dt.querySelectorAll('dl > dd')];
            const param = dt.querySelector('em.sig-param');
            const type = param.querySelector('span.p ~ span.n');
            return {
                lines: dds.map(dd => Math.round(dd.getBoundingClientRect().height / line)),
                width: Math.round(dt.scrollWidth), box: dt.clientWidth,
                style: getComputedStyle(param).fontStyle,
                weight: getComputedStyle(type).fontWeight,
            };
        }"""
    )
    assert len(found["lines"]) >= 8, found
    assert max(found["lines"]) <= 2, found
    assert found["width"] <= found["box"] + 1, found
    assert found["style"] == "normal" and found["weight"] == "400", found
