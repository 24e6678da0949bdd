"""Sphinx extension: page descriptions, and a sitemap that lists every page.

Every chapter opens with one sentence, "After this chapter you can ...". This writes it, whole,
into ``<meta name="description">`` and ``og:description``, which search engines and chat
previews show under the title. Other pages keep sphinxext-opengraph's description (their
first paragraph, shortened). Runs before sphinxext-opengraph (priority 400 < 500), which keeps
a description that is already there.

sphinx-sitemap 2.9.0 lists only the pages written by the current build, so an incremental
build (one page changed) would publish a sitemap of one page. :func:`_complete_sitemap` adds
every other document before sphinx-sitemap writes the file. Registered in ``_config.yml``
under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import html
import queue
import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

PROMISE = re.compile(r"^After this chapter you can\b")


def promise(doctree: nodes.Node) -> str | None:
    """The text of the first paragraph that starts "After this chapter you can", if any."""
    for paragraph in doctree.findall(nodes.paragraph):
        text = " ".join(paragraph.astext().split())
        if PROMISE.match(text):
            return text
    return None


def _describe(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if doctree is None:
        return
    text = promise(doctree)
    if text is None:
        return
    meta = context.get("meta")
    if meta is None:
        meta = context["meta"] = {}
    meta["og:description"] = text
    tag = f'<meta name="description" content="{html.escape(text, quote=True)}" />\n'
    context["metatags"] = context.get("metatags", "") + tag


def _complete_sitemap(app: Sphinx, exception: Exception | None) -> None:
    links = getattr(app, "sitemap_links", None)
    if exception is not None or links is None or app.builder.name != "html":
        return
    from sphinx_sitemap import is_excluded

    found: dict[str, Any] = {}
    while True:
        try:
            link, last_updated = links.get_nowait()
        except queue.Empty:
            break
        found[link] = last_updated
    suffix = app.config.html_file_suffix or ".html"
    for docname in app.env.found_docs:
        link = docname + suffix
        if link not in found and not is_excluded(link, app.config.sitemap_excludes):
            found[link] = None
    for link in sorted(found):
        links.put((link, found[link]))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _describe, priority=400)
    # Before sphinx-sitemap's own build-finished handler (priority 500) writes the file.
    app.connect("build-finished", _complete_sitemap, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
