"""Nothing the reader must read is cut off: on every page, at 1280x900 and 390x844, every
error message and printed output fits its box (it wraps), tables fit the article on a desktop,
and whatever scrolls sideways (a wide table on a phone, a long line of code) shows a cue."""

from __future__ import annotations

import pytest

from tests.site.sitekit import DESKTOP, PHONE, TocPage

pytestmark = pytest.mark.site

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}

# Everything on the page wider than its box, by kind. "cue" is whether the scrolling box draws
# the edge shadows of custom.css (gradients that scroll with the content: attachment "local").
CUT_OFF = """() => {
  const article = document.querySelector('.bd-article') || document.body;
  const right = article.getBoundingClientRect().right + 1;
  const where = (e) => {
    const section = e.closest('section[id]');
    const text = (e.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 70);
    return `#${section ? section.id : '?'}: ${JSON.stringify(text)}`;
  };
  const overflows = (e) => e.scrollWidth > e.clientWidth + 1
    || e.getBoundingClientRect().right > right;
  const cue = (e) => {
    const style = getComputedStyle(e);
    return /auto|scroll/.test(style.overflowX)
      && (style.backgroundImage.match(/gradient\\(/g) || []).length >= 4
      && style.backgroundAttachment.includes('local');
  };
  const outputs = [...article.querySelectorAll('.cell_output pre')]
    .filter(overflows)
    .map(pre => `${where(pre)} is ${pre.scrollWidth}px wide in a ${pre.clientWidth}px box`);
  const tables = [...article.querySelectorAll('table')]
    .filter(t => t.getBoundingClientRect().width > t.parentElement.clientWidth + 1
      || t.getBoundingClientRect().right > right)
    .map(t => ({where: where(t), width: Math.round(t.getBoundingClientRect().width),
                box: t.parentElement.clientWidth, cue: cue(t.parentElement)}));
  const code = [...article.querySelectorAll('.cell_input pre, div[class*="highlight-"] pre')]
    .filter(pre => !pre.closest('.cell_output') && pre.scrollWidth > pre.clientWidth + 1)
    .map(pre => ({where: where(pre), cue: cue(pre)}));
  return {outputs, tables, code};
}"""


@pytest.mark.parametrize("screen", list(VIEWPORTS))
def test_nothing_is_cut_off(toc_page: TocPage, screen: str, visit) -> None:
    """Error messages (tracebacks, stderr) and printed output wrap inside their box; a table
    fits the article at 1280 px and, on a phone, fits or scrolls in a box with the edge-shadow
    cue; a code cell may scroll, with the same cue."""
    page = visit(toc_page.html, viewport=VIEWPORTS[screen])
    found = page.evaluate(CUT_OFF)
    assert not found["outputs"], (
        f"{len(found['outputs'])} outputs or error messages run past their box:\n"
        + "\n".join(found["outputs"])
    )
    if screen == "desktop":
        assert not found["tables"], f"tables wider than the article: {found['tables']}"
    uncued = [t for t in found["tables"] if not t["cue"]]
    assert not uncued, f"tables that scroll with no cue: {uncued}"
    uncued_code = [c["where"] for c in found["code"] if not c["cue"]]
    assert not uncued_code, f"code cells that scroll with no cue: {uncued_code}"


def test_tables_of_short_code_fit_a_phone(visit) -> None:
    """Chapter 7's "what a hook returns" and hook-rules tables (code with spaces in it, no long
    name) fit a 390 px screen instead of scrolling (they were 395 and 379 px in 358 px); so does
    its table of hooks on parameter gradients, which names the hooks in words (it was 596 px:
    p.register_post_accumulate_grad_hook(h) does not break), the calls being in the text."""
    page = visit("notebooks/06-hooks.html", viewport=PHONE)
    widths = page.evaluate(
        """(ids) => ids.map(id => {
            const t = document.getElementById(id).querySelector('table');
            return [id, Math.round(t.getBoundingClientRect().width), t.parentElement.clientWidth];
        })""",
        ["keyword-arguments-with-kwargs-true", "hook-rules", "hooks-on-parameter-gradients"],
    )
    too_wide = [w for w in widths if w[1] > w[2] + 1]
    assert not too_wide, f"(section, table width, box width) that scroll on a phone: {too_wide}"
    text = page.evaluate(
        "document.getElementById('hooks-on-parameter-gradients').innerText.replace(/\\s+/g, ' ')"
    )
    for call in (
        "p.register_hook(h)",
        "p.register_post_accumulate_grad_hook(h)",
        "m.register_full_backward_hook(h)",
    ):
        assert call in text, f"the section no longer names {call}"


def test_table_of_public_names_fits_a_phone(visit) -> None:
    """The API page's table of public names fits a 390 px screen: a chapter's label
    ("3. torch.take_along_dim") and a reason naming a helper may break after a dot or an
    underscore (<wbr>), so neither widens the "used in" column."""
    page = visit("book/api.html", viewport=PHONE)
    width, box = page.evaluate(
        """() => {
            const t = document.querySelector('table.api-overview');
            return [Math.round(t.getBoundingClientRect().width), t.parentElement.clientWidth];
        }"""
    )
    assert width <= box + 1, f"the table of public names is {width} px wide in {box} px"
