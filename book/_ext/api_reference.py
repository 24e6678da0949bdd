"""Sphinx extension: the API reference page and the chapters' links to it.

- ``.. api-reference::`` (in ``book/api.rst``): a table of every public name with the chapters
  that use it, then one section per public module of ``snippets`` (a module with an
  ``__all__``): its ``automodule`` and an autodoc entry for each name of its ``__all__``, so the
  page is made from the docstrings and cannot drift from the code.
- Under each entry, "Used in:" links to the chapters that use it, found in the notebooks' code
  cells by ``tools/api_usage.py`` (imports, ``draw.gather(...)``, and ``check(f, "name")`` for
  ``snippets.reference.name``); a name public without a chapter says why
  (``snippets.ALSO_PUBLIC``).
- In a chapter, an inline literal that names a helper the chapter imports (```checked_gather```,
  ```checked_gather()```, ```draw.gather```, ```snippets.indexing.checked_gather```) becomes a
  link to its entry; literals in headings, links and code cells are left alone. On the API
  page, a docstring's ```check_gather_args``` links to that entry of the same module.
- After a chapter's import cell, a box "Helpers used in this chapter" links to the entry of
  every helper the chapter uses, grouped by module.

Registered in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles
from tool_import import load_tool

API_DOC = "book/api"
_LITERAL = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?:\(\))?$")


class ApiIndex:
    """The public API and which chapter uses what, computed once per build."""

    def __init__(self, root: Path) -> None:
        usage = load_tool(root, "api_usage")
        self.api: dict[str, list[str]] = usage.public_api()
        self.also: dict[str, str] = usage.also_public()
        self.users: dict[str, list[str]] = usage.users(root)
        self.chapters = {
            usage.docname(root, nb): usage.chapter_usage(nb) for nb in usage.chapters(root)
        }

    def is_public(self, full: str) -> bool:
        module, _, name = full.rpartition(".")
        return name in self.api.get(module, ())

    def resolve(self, docname: str, text: str) -> str | None:
        """The full name that the literal ``text`` of chapter ``docname`` names, or None."""
        match = _LITERAL.match(text)
        chapter = self.chapters.get(docname)
        if not match or chapter is None:
            return None
        name = match["name"]
        if name in chapter.imported:
            full = chapter.imported[name]
        elif "." in name:
            head, _, rest = name.partition(".")
            full = f"{chapter.modules[head]}.{rest}" if head in chapter.modules else name
        else:
            return None
        return full if self.is_public(full) else None

    def used_by(self, docname: str) -> dict[str, list[str]]:
        """The public names chapter ``docname`` uses: module -> names, in ``__all__`` order."""
        used = self.chapters[docname].used
        return {
            module: [n for n in names if f"{module}.{n}" in used]
            for module, names in self.api.items()
            if any(f"{module}.{n}" in used for n in names)
        }


def _index(app: Sphinx) -> ApiIndex:
    index = getattr(app, "_api_index", None)
    if index is None:
        index = app._api_index = ApiIndex(Path(app.srcdir))  # type: ignore[attr-defined]
    return index


def _xref(full: str, text: str) -> addnodes.pending_xref:
    """A link to the API entry of ``full``, shown as the inline literal ``text``."""
    ref = addnodes.pending_xref(
        "", refdomain="py", reftype="obj", reftarget=full, refexplicit=True, refwarn=True
    )
    ref += nodes.literal(text, text, classes=["api-link"])
    return ref


# --- The API page ---------------------------------------------------------------------------


class ApiReference(SphinxDirective):
    """``.. api-reference::``: an ``automodule`` section per public module of ``snippets``."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        index = _index(self.env.app)
        root = Path(self.env.srcdir)
        # Re-read on an incremental build when a helper or a chapter changes.
        for path in [*(root / "snippets").rglob("*.py"), *(root / "notebooks").glob("*.ipynb")]:
            self.env.note_dependency(str(path))
        lines = list(OVERVIEW)
        for module, names in index.api.items():
            lines += [module, "-" * len(module), "", f".. automodule:: {module}", ""]
            # Each name of __all__ in its order, data included (automodule's :members: shows
            # module data only when it has a #: comment).
            loaded = importlib.import_module(module)
            for name in names:
                lines += [*_entry(f"{module}.{name}", getattr(loaded, name)), ""]
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="api-reference"), node)
        node.children[0] += overview_table(index)  # the section "Public names"
        return node.children


OVERVIEW = [
    "Public names",
    "------------",
    "",
    "Every public name, and the chapters that use it (a loop reference of",
    "``snippets.reference`` is used by the chapter whose exercise checks against it).",
    "",
]


def overview_table(index: ApiIndex) -> nodes.table:
    """Each public name, under a row naming its module, with links to the chapters using it."""
    table = nodes.table(classes=["api-overview"])
    group = nodes.tgroup(cols=2)
    table += group
    group += [nodes.colspec(colwidth=1), nodes.colspec(colwidth=1)]
    head = nodes.thead()
    head += nodes.row("", *[nodes.entry("", nodes.paragraph("", h)) for h in ("name", "used in")])
    group += head
    body = nodes.tbody()
    group += body
    for module, names in index.api.items():
        title = nodes.paragraph()
        title += nodes.literal(module, module)
        body += nodes.row("", nodes.entry("", title, morecols=1), classes=["api-overview-module"])
        for name in names:
            full = f"{module}.{name}"
            chapters = index.users.get(full, [])
            used = nodes.paragraph()
            for i, doc in enumerate(chapters):
                if i:
                    used += nodes.Text(", ")
                link = addnodes.pending_xref(
                    "", refdomain="std", reftype="doc", reftarget=f"/{doc}", refexplicit=True
                )
                link += nodes.inline("", _label(doc))
                used += link
            if not chapters:
                reason = index.also.get(full)
                used += nodes.Text(f"public without a chapter: {reason}" if reason else "none")
            body += nodes.row(
                "",
                nodes.entry("", nodes.paragraph("", "", _xref(full, name))),
                nodes.entry("", used),
            )
    return table


def _label(docname: str) -> str:
    """A chapter's short name: ``notebooks/03-argmax-coordinates`` -> ``argmax-coordinates``."""
    return re.sub(r"^\d+-", "", Path(docname).name)


def _entry(full: str, value: Any) -> list[str]:
    """The autodoc directive that documents ``value``, the public name ``full``."""
    if inspect.isclass(value):
        kind = "autoexception" if issubclass(value, BaseException) else "autoclass"
        return [f".. {kind}:: {full}", "   :members:"]
    if inspect.isroutine(value):
        return [f".. autofunction:: {full}"]
    # A constant: its value may name this machine (DEVICE), so it is not shown.
    return [f".. autodata:: {full}", "   :no-value:"]


def add_used_in(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """``autodoc-process-docstring``: "Used in:" the chapters that use a public name."""
    index = _index(app)
    if what == "data" and lines and "\n".join(lines).strip() == inspect.getdoc(type(obj)):
        lines.clear()  # a constant without a comment shows its type's docstring otherwise
    if what == "module" or not index.is_public(name):
        return
    chapters = index.users.get(name, [])
    if chapters:
        links = ", ".join(f":doc:`/{doc}`" for doc in chapters)
        text = f"**Used in:** {links}"
    elif name in index.also:
        text = f"**Public without a chapter:** {index.also[name]}"
    else:
        return
    lines += ["", ".. rst-class:: api-used-in", "", text, ""]


# --- The chapters ---------------------------------------------------------------------------


def _skip(node: nodes.Node) -> bool:
    """Whether a literal is in a heading, a link or a caption (left as it is)."""
    parent = node.parent
    while parent is not None:
        if isinstance(
            parent,
            nodes.title | nodes.reference | addnodes.pending_xref | nodes.caption | nodes.rubric,
        ):
            return True
        parent = parent.parent
    return False


def _import_cell(doctree: nodes.document) -> nodes.Element | None:
    """The first code cell of a chapter that imports from ``snippets``."""
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        if any("from snippets" in block.astext() for block in cell.findall(nodes.literal_block)):
            return cell
    return None


def helpers_box(index: ApiIndex, docname: str) -> nodes.container:
    """The "Helpers used in this chapter" box: each module with links to its entries."""
    box = nodes.container(classes=["api-helpers"])
    title = nodes.paragraph(classes=["api-helpers-title"])
    title += nodes.strong("", "Helpers used in this chapter")
    title += nodes.Text(" (see the ")
    page = addnodes.pending_xref(
        "", refdomain="std", reftype="doc", reftarget=f"/{API_DOC}", refexplicit=True
    )
    page += nodes.inline("", "API reference")
    title += page
    title += nodes.Text("):")
    box += title
    items = nodes.bullet_list()
    for module, names in index.used_by(docname).items():
        item = nodes.paragraph()
        item += nodes.literal(module, module, classes=["api-module"])
        item += nodes.Text(": ")
        for i, name in enumerate(names):
            if i:
                item += nodes.Text(", ")
            item += _xref(f"{module}.{name}", name)
        items += nodes.list_item("", item)
    box += items
    return box


def _link(literal: nodes.literal, full: str) -> None:
    """Wrap ``literal`` in a link to the API entry of ``full``."""
    ref = addnodes.pending_xref(
        "", refdomain="py", reftype="obj", reftarget=full, refexplicit=True, refwarn=True
    )
    literal["classes"] = [*literal.get("classes", []), "api-link"]
    literal.replace_self(ref)
    ref += literal


def _entry_module(literal: nodes.literal) -> str | None:
    """The module of the API entry whose description holds ``literal``, if any."""
    parent = literal.parent
    while parent is not None:
        if isinstance(parent, addnodes.desc):
            signature = next(iter(parent.findall(addnodes.desc_signature)), None)
            return signature.get("module") if signature is not None else None
        parent = parent.parent
    return None


class LinkHelpers(SphinxTransform):
    """Inline literals that name a public helper link to its entry: in a chapter, the helpers it
    imports; on the API page, the names of an entry's own module. A chapter gets its box."""

    default_priority = 700

    def apply(self, **kwargs: Any) -> None:
        index = _index(self.app)
        docname = self.env.docname
        if docname == API_DOC:
            self.link_api_page(index)
            return
        if docname not in index.chapters:
            return
        for path in Path(self.env.srcdir, "snippets").rglob("*.py"):  # __all__ may change
            self.env.note_dependency(str(path))
        for literal in list(self.document.findall(nodes.literal)):
            full = index.resolve(docname, literal.astext())
            if full is not None and not _skip(literal):
                _link(literal, full)
        if not index.used_by(docname):
            return
        box = helpers_box(index, docname)
        cell = _import_cell(self.document)
        if cell is not None:
            cell.parent.insert(cell.parent.index(cell) + 1, box)
        else:
            section = next(iter(self.document.findall(nodes.section)), self.document)
            section += box

    def link_api_page(self, index: ApiIndex) -> None:
        """In a docstring, ``name`` of the entry's module and ``snippets.module.name`` link."""
        for literal in list(self.document.findall(nodes.literal)):
            match = _LITERAL.match(literal.astext())
            if not match or _skip(literal) or "api-link" in literal.get("classes", []):
                continue
            name = match["name"]
            module = _entry_module(literal)
            full = name if "." in name else f"{module}.{name}"
            if index.is_public(full):  # "None.name" (outside an entry) never is
                _link(literal, full)


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.autodoc")
    app.add_directive("api-reference", ApiReference)
    app.connect("autodoc-process-docstring", add_used_in)
    app.add_transform(LinkHelpers)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
