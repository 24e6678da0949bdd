"""Sphinx extension: pages that load only what the book uses.

pydata-sphinx-theme writes two things into every page that this book never uses:

- ``_static/scripts/fontawesome.js`` (1.49 MB, "so that users can add custom icons"): it
  redraws the Font Awesome icons as inline SVG. The theme's CSS already draws every icon the
  pages show (☰, search, GitHub, download...) from its web fonts, so the script only doubled
  the first visit's weight. It is removed from the pages and from the output.
- Sphinx's search scripts and the whole search index (``searchtools.js``, ``language_data.js``,
  ``searchindex.js``), loaded synchronously in the ``<head>`` of every page for the theme's
  "search as you type", which is off (``search_as_you_type = False``). The search page still
  loads them; the search button of every page leads there.

Both are hard-coded in the theme's templates (``layout.html``, ``webpack-macros.html``), not
registered with ``app.add_js_file``, so they are cut from the written pages once the build has
finished. ``tests/site/test_site_weight.py`` measures what a first visit downloads. Registered
in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

FONTAWESOME = re.compile(
    r'[ \t]*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>\n?'
)
SEARCH_SCRIPTS = re.compile(
    r'[ \t]*<script src="[^"]*(?:_static/searchtools\.js|_static/language_data\.js|searchindex\.js)"></script>\n?'
)


def trim_page(html: str, is_search_page: bool) -> str:
    html = FONTAWESOME.sub("", html)
    if not is_search_page:
        html = SEARCH_SCRIPTS.sub("", html)
    return html


def _trim(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    if app.config.html_theme_options.get("search_as_you_type"):
        return  # the theme needs the search scripts on every page then
    outdir = Path(app.outdir)
    for page in outdir.rglob("*.html"):
        if page.parent.name == "_static" or "_static" in page.relative_to(outdir).parts:
            continue  # the theme's template fragments, not pages
        html = page.read_text(encoding="utf-8")
        trimmed = trim_page(html, is_search_page=page == outdir / "search.html")
        if trimmed != html:
            page.write_text(trimmed, encoding="utf-8")
    for name in ("fontawesome.js", "fontawesome.js.map", "fontawesome.js.LICENSE.txt"):
        (outdir / "_static" / "scripts" / name).unlink(missing_ok=True)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("build-finished", _trim)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
