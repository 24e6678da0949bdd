"""Sphinx extension: the API reference page and the chapters' links to it.

- ``.. api-reference::`` (in ``book/api.rst``): a table of every public name with the chapters
  that use it, then one section per public module of ``snippets`` (a module with an
  ``__all__``): its ``automodule`` and an autodoc entry for each name of its ``__all__``, so the
  page is made from the docstrings and cannot drift from the code.
- Under each entry, "Used in:" links to the chapters that use it, found in the notebooks' code
  cells by ``tools/api_usage.py`` (imports, ``draw.gather(...)``, and ``check(f, "name")`` for
  ``snippets.reference.name``); a name public without a chapter says why
  (``snippets.ALSO_PUBLIC``). There and in the table, a chapter reads as the site numbers it,
  "6. no_grad, inference_mode and eval()" (its number and its title up to the first colon or
  question mark; the whole title is the link's tooltip); a name that more than
  ``MANY_CHAPTERS`` chapters use lists their numbers: "chapters 1, 2, ..., 10".
- In a chapter, an inline literal that names a helper the chapter imports (```checked_gather```,
  ```checked_gather()```, ```draw.gather```, ```snippets.indexing.checked_gather```) becomes a
  link to its entry; literals in headings, links and code cells are left alone. On the API
  page, a docstring's ```check_gather_args``` links to that entry of the same module.
- After a chapter's import cell, a box "Helpers used in this chapter" links to the entry of
  every helper the chapter uses, grouped by module; the references of ``snippets.reference``
  that its exercises are checked against (and that the chapter never calls) come last, labelled
  "exercise references".

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
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import make_refnode, nested_parse_with_titles
from tool_import import load_tool

API_DOC = "book/api"
# A name used by more chapters than this lists their numbers only ("chapters 1, 2, ..., 10").
MANY_CHAPTERS = 3
CHAPTERS_CLASS = "api-chapters"  # a paragraph whose chapter links ChapterLabels rewrites
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

    def used_by(self, docname: str, *, exercises: bool = False) -> dict[str, list[str]]:
        """The public names chapter ``docname`` uses: module -> names, in ``__all__`` order.
        With ``exercises``, only the references its exercises are checked against and that it
        never calls; without, every other name it uses."""
        chapter = self.chapters[docname]
        only_checked = chapter.used - chapter.called
        used = only_checked if exercises else chapter.used - only_checked
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
            used = nodes.paragraph(classes=[CHAPTERS_CLASS])
            for i, doc in enumerate(chapters):
                if i:
                    used += nodes.Text(", ")
                link = addnodes.pending_xref(
                    "", refdomain="std", reftype="doc", reftarget=f"/{doc}", refexplicit=False
                )
                link += nodes.inline("", doc)  # ChapterLabels writes the label
                used += link
            if not chapters:
                reason = index.also.get(full)
                used += _breakable(f"public without a chapter: {reason}" if reason else "none")
            body += nodes.row(
                "",
                nodes.entry("", nodes.paragraph("", "", _xref(full, name))),
                nodes.entry("", used),
            )
    return table


def short_title(title: str) -> str:
    """A chapter's title up to its first colon or question mark (which it keeps).

    >>> short_title("no_grad, inference_mode and eval(): what each switch turns off")
    'no_grad, inference_mode and eval()'
    >>> short_title("Where is the maximum? argmax and full coordinates")
    'Where is the maximum?'
    >>> short_title("Hooks")
    'Hooks'
    """
    match = re.search(r"([:?])\s", title)
    if match is None:
        return title
    return title[: match.start()] + ("?" if match[1] == "?" else "")


def chapter_label(env: Any, docname: str) -> tuple[str, str, str]:
    """A chapter as the site numbers it: (number, "6. short title", "6. full title"); the
    number is "" for a document outside the numbered part of ``_toc.yml``."""
    numbers = env.toc_secnumbers.get(docname, {}).get("")
    number = ".".join(map(str, numbers)) if numbers else ""
    title = env.titles[docname].astext() if docname in env.titles else docname
    prefix = f"{number}. " if number else ""
    return number, prefix + short_title(title), prefix + title


def _breakable(text: str) -> list[nodes.Node]:
    """``text`` with a line-break opportunity (``<wbr>``, not copied with the text) after each
    dot and underscore: "3. torch.take_along_dim" would otherwise widen a phone's table."""
    out: list[nodes.Node] = []
    for i, piece in enumerate(re.split(r"(?<=[._])(?=\w)", text)):
        if i:
            out.append(nodes.raw("", "<wbr>", format="html"))
        out.append(nodes.Text(piece))
    return out


class ChapterLabels(SphinxPostTransform):
    """On the API page, the chapter links of the table and of the "Used in:" lines read
    "6. no_grad, inference_mode and eval()" (the full title as tooltip), separated by "; "; more
    than ``MANY_CHAPTERS`` read "chapters 1, 2, ..., 10". Runs once every document is read
    (the titles and the section numbers are known), before references are resolved."""

    default_priority = 5  # sphinx.transforms.post_transforms.ReferencesResolver is 10

    def run(self, **kwargs: Any) -> None:
        if self.env.docname != API_DOC:
            return
        for para in list(self.document.findall(nodes.paragraph)):
            if CHAPTERS_CLASS not in para.get("classes", []):
                continue
            links = [
                ref
                for ref in para.findall(addnodes.pending_xref)
                if ref.get("reftype") == "doc" and ref.get("refdomain") == "std"
            ]
            if not links:
                continue
            first = para.index(links[0])
            docs = [ref["reftarget"].lstrip("/") for ref in links]
            del para.children[first:]
            para += self.render(docs)

    def render(self, docs: list[str]) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        many = len(docs) > MANY_CHAPTERS
        if many:
            out.append(nodes.Text("chapters "))
        for i, doc in enumerate(docs):
            if i:
                out.append(nodes.Text(", " if many else "; "))
            number, label, full = chapter_label(self.env, doc)
            text = number if many and number else label
            inner = nodes.inline("", "", *_breakable(text), classes=["doc", "api-chapter"])
            out.append(
                make_refnode(self.app.builder, self.env.docname, doc, None, inner, title=full)
            )
        return out


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
    lines += ["", f".. rst-class:: api-used-in {CHAPTERS_CLASS}", "", text, ""]


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
    groups = [(False, index.used_by(docname)), (True, index.used_by(docname, exercises=True))]
    for exercises, modules in groups:
        for module, names in modules.items():
            item = nodes.paragraph()
            item += nodes.literal(module, module, classes=["api-module"])
            if exercises:
                # The chapter never calls these: check(f, "name") compares f with them.
                item += nodes.Text(" ")
                item += nodes.emphasis("", "(exercise references)", classes=["api-exercises"])
            item += nodes.Text(": ")
            for i, name in enumerate(names):
                if i:
                    item += nodes.Text(", ")
                item += _xref(f"{module}.{name}", name)
            items += nodes.list_item("", item, classes=["api-exercises"] if exercises else [])
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
        if not index.chapters[docname].used:
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
    app.add_post_transform(ChapterLabels)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
