"""Sphinx extension: one number per heading in the numbered chapters.

The exercises of each chapter are headed "### 1. One row per column", "### 2. ...": in Jupyter
or Colab, where a notebook's headings carry no numbers, that is how a reader tells them apart
(and how the prose refers to "exercise 2"). The book numbers the same headings itself, because
the chapters sit in a ``numbered: true`` part of ``_toc.yml``, so the page showed both:
"1.8.1. 1. One row per column", in the heading and in both tables of contents.

In a document that a numbered toctree numbers, this drops a hand-written "N. " from the start
of a section title when N is the number Sphinx gives that section anyway (its place among its
sibling sections), so the page reads "1.8.1. One row per column". The notebook keeps its own
numbers. Titles are changed when the document is read, before Sphinx collects them for the
tables of contents. Registered in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

HAND_NUMBER = re.compile(r"^(\d+)\.\s+")


def numbered_depths(app: Sphinx) -> dict[str, int | bool]:
    """Each document that a numbered toctree of ``_toc.yml`` numbers, with that toctree's
    ``numbered`` value (True: every level; n: n levels, the document's title being level 1)."""
    site_map = getattr(app.env, "external_site_map", None) or getattr(
        app.config, "external_site_map", None
    )
    if site_map is None:  # no sphinx-external-toc: nothing is numbered through _toc.yml
        return {}
    depths: dict[str, int | bool] = {}

    def walk(docname: str, inherited: int | bool) -> None:
        if docname not in site_map:
            return
        for tree in site_map[docname].subtrees:
            numbered = tree.numbered or inherited
            for child in tree.files():
                if numbered:
                    depths[child] = numbered
                walk(child, numbered)

    walk(site_map.root.docname, False)
    return depths


def _drop_hand_numbers(app: Sphinx, doctree: nodes.document) -> None:
    numbered = numbered_depths(app).get(app.env.docname)
    if not numbered:
        return
    for section in doctree.findall(nodes.section):
        level = 1 + sum(1 for _ in _section_ancestors(section))
        if level == 1 or (numbered is not True and level > int(numbered)):
            continue  # the document's title is numbered by its place in the toctree
        title = section[0] if section.children else None
        if not isinstance(title, nodes.title) or not title.children:
            continue
        first = title[0]
        match = HAND_NUMBER.match(first.astext()) if isinstance(first, nodes.Text) else None
        siblings = [n for n in section.parent.children if isinstance(n, nodes.section)]
        if match and int(match.group(1)) == siblings.index(section) + 1:
            title.replace(first, nodes.Text(first.astext()[match.end() :]))


def _section_ancestors(section: nodes.section) -> Any:
    parent = section.parent
    while parent is not None:
        if isinstance(parent, nodes.section):
            yield parent
        parent = parent.parent


def setup(app: Sphinx) -> dict[str, Any]:
    # Before Sphinx's TocTreeCollector (priority 500) records the titles for the tables of
    # contents.
    app.connect("doctree-read", _drop_hand_numbers, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
