"""Sphinx extension: the page "Error messages, A to Z", generated from the chapters' error cells.

Every chapter shows wrong calls in code cells tagged ``raises-exception``, each followed by a
paragraph that begins "**Reading it:**". This extension reads them from the notebooks' stored
outputs when the book is built, so the page cannot drift from the chapters:

- ``{error-index}`` (the only content of ``book/errors.md``) lists one entry per message, with
  numbers replaced by ``N`` (:func:`generalise`), so "index 3 is out of bounds for dimension 1
  with size 3" and the same message with other numbers are one entry. Each entry gives the
  exception type, the op (from the cell's code, :func:`op_of`), whether the message is
  PyTorch's or one of the book's helpers', and for each cell that shows it: a link to the
  cell, the first sentence of its "Reading it" paragraph (the cause and fix) with a link to
  that paragraph, and any sentence of the chapter around the cell that says the message
  differs on CUDA or between releases (:data:`NOTE_WORDS`). Entries are grouped by exception
  type and sorted by message.
- ``static/error-search.js`` lets the site search find a pasted message whose shapes
  ("64x128") differ from the book's.
- On each chapter page, every error cell's container gets the id ``err-<chapter>-<n>`` (the
  n-th error cell of the chapter, from 1) and its explanation paragraph the id
  ``err-<chapter>-<n>-why``, so the links land on them.

Only the error outputs' ``ename`` and ``evalue`` are read, never the traceback text. A cell
without an explanation paragraph, or whose paragraph or container cannot be found in the built
page, is a build warning (an error under ``-W``). Registered in ``_config.yml`` under
``sphinx: local_extensions``.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

NOTEBOOK_GLOB = "notebooks/[0-9][0-9]-*.ipynb"
TAG = "raises-exception"
# "**Reading it:**" (one cell) or "**Reading them:**" (the cells just above it).
READING = re.compile(r"^\*\*Reading (?:it|them):?\*\*:?\s*")
LEADING_LABEL = re.compile(r"^\*\*[^*]+\*\*\s*")
# A sentence of the chapter near an error cell that says where the message differs.
NOTE_WORDS = re.compile(r"\bCUDA\b|\bGPU\b|\breleases?\b|\b\d+\.\d+\.\d+\b")
HOOK_REGISTRATION = re.compile(r"^register_\w*hook$")
# Modules whose functions the op is named with in full ("torch.gather"), not as a method.
MODULES = {"torch", "F", "nn", "functional"}


# --- Reading the notebooks ---------------------------------------------------------------


@dataclass
class ErrorCell:
    """One code cell tagged ``raises-exception``, with what the index says about it."""

    docname: str  # "notebooks/01-gather"
    chapter: str  # "01"
    chapter_title: str  # plain text of the notebook's first heading
    section: str  # plain text of the nearest heading above the cell
    number: int  # 1 for the chapter's first error cell
    cell_index: int  # position in the notebook's cell list (MyST-NB's cell_index)
    source: str
    ename: str
    evalue: str
    op: str
    helper: str  # "" for PyTorch; else the helper's module, e.g. "snippets.indexing"
    explanation: str  # the explaining paragraph (markdown), its label removed
    explanation_kind: str  # "reading": the paragraph after the cell; "before": the one above
    explanation_cell: int
    notes: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"err-{self.chapter}-{self.number}"

    @property
    def why_anchor(self) -> str:
        return f"{self.anchor}-why"

    @property
    def message(self) -> str:
        return generalise(self.evalue)

    @property
    def cause(self) -> str:
        """The first sentence of the "Reading it" paragraph. From a paragraph above the cell:
        its last sentence that names the op (the one next to the cell), else its first."""
        if self.explanation_kind == "before" and self.op:
            name = re.split(r"[.…]", self.op)[-1].lower()
            naming = [s for s in _sentences(self.explanation) if name in _words(plain(s))]
            if naming and name:
                return first_sentence(naming[-1])
        return first_sentence(self.explanation)


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _blocks(markdown: str) -> list[str]:
    """The blocks of a markdown cell: paragraphs, headings, targets, fenced code, lists."""
    return [b.strip() for b in re.split(r"\n\s*\n", markdown) if b.strip()]


def _is_paragraph(block: str) -> bool:
    return not re.match(r"^(#|\(.*\)=|```|:::|[-*+] |\d+\. |\||<|\$\$)", block)


def plain(markdown: str) -> str:
    """Markdown inline text as plain text: code, emphasis, roles and links reduced to words."""
    text = re.sub(r"\{\w+\}`([^`<]*?)\s*(?:<[^>]*>)?`", r"\1", markdown)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"``\s?(.+?)\s?``|`([^`]+)`", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"\*\*(.+?)\*\*|\*(.+?)\*", lambda m: m.group(1) or m.group(2), text)
    return re.sub(r"\s+", " ", text).strip()


def _headings(markdown: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"^#{1,6}\s+(.+)$", markdown, flags=re.M)]


def _sentences(markdown: str) -> list[str]:
    """Split markdown prose into sentences, never inside a code span or after "e.g."."""
    spans: list[str] = []

    def protect(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return f"\x00{len(spans) - 1}\x00"

    text = re.sub(r"``.+?``|`[^`]+`", protect, " ".join(markdown.split()))
    text = re.sub(r"\b(e\.g|i\.e|vs|etc)\.", lambda m: m.group(1) + "\x01", text)
    parts = re.split(r"(?<=[.!?])(?:[\"”')*]*)\s+(?=[A-Z0-9`\"“*(\x00])", text)
    out = []
    for part in parts:
        part = part.replace("\x01", ".")
        part = re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], part)
        out.append(part.strip())
    return [p for p in out if p]


def first_sentence(markdown: str) -> str:
    """The first sentence of a paragraph, ending with a full stop (not a colon)."""
    sentences = _sentences(markdown)
    if not sentences:
        return ""
    sentence = sentences[0]
    if sentence.endswith(":"):
        sentence = sentence[:-1].rstrip() + "."
    # "**Reading it:** the index has 1 dim" reads "The index has 1 dim" on its own.
    if sentence[:1].islower():
        sentence = sentence[0].upper() + sentence[1:]
    return sentence


# Numbers in a message, but not digits inside a word ("int64", "mat1", "fc3") or a URL.
_NUMBER = re.compile(r"(?<![\w])(?<!\d\.)-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w])")


def generalise(message: str) -> str:
    """``message`` with every number (sizes, dims, indices, shapes' entries) replaced by N.

    >>> generalise("index 3 is out of bounds for dimension 1 with size 3")
    'index N is out of bounds for dimension N with size N'
    >>> generalise("gather(): Expected dtype int32/int64 for index")
    'gather(): Expected dtype int32/int64 for index'
    >>> generalise("mat1 and mat2 shapes cannot be multiplied (2x3 and 1x3)")
    'mat1 and mat2 shapes cannot be multiplied (NxN and NxN)'
    """
    pieces = re.split(r"(https?://\S+)", message)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:  # a URL
            out.append(piece)
            continue
        piece = re.sub(r"(?<![\w])\d+x\d+(?![\w])", "NxN", piece)
        out.append(_NUMBER.sub("N", piece))
    return "".join(out)


def snippets_names(cells: list[dict[str, Any]]) -> dict[str, str]:
    """Every name a notebook imports from the ``snippets`` package, with its module."""
    names: dict[str, str] = {}
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_source(cell))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("snippets"):
                for alias in node.names:
                    names[alias.asname or alias.name] = node.module or "snippets"
    return names


def _call_name(func: ast.expr) -> str:
    """How the op of a call is shown: ``torch.gather``, ``x.argmax``, ``….masked_fill``."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        if any(isinstance(n, ast.Call | ast.Subscript) for n in ast.walk(func.value)):
            return f"….{func.attr}"
        return ast.unparse(func)
    return ast.unparse(func)


def _root_name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else ""


_OPERATORS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.MatMult: "@",
    ast.BitAnd: "&",
    ast.BitOr: "|",
}


def op_of(source: str, helpers: dict[str, str]) -> tuple[str, str]:
    """(the op that raised, the helper's module or "") read from a cell's code.

    The op is the call of the cell's last statement (inside ``with`` and ``try`` blocks,
    unless a ``with`` opens one of the book's helpers); a cell that registers a hook and then
    runs the model inside ``try`` is about the hook, so its op is the registration.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "", ""
    if not tree.body:
        return "", ""
    statement: ast.stmt = tree.body[-1]
    if isinstance(statement, ast.Try):
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and HOOK_REGISTRATION.match(node.func.attr)
            ):
                return _call_name(node.func), ""
    while isinstance(statement, ast.With | ast.Try):
        if isinstance(statement, ast.With):
            for item in statement.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call) and _root_name(expr.func) in helpers:
                    return _call_name(expr.func), helpers[_root_name(expr.func)]
        statement = statement.body[-1]
    if isinstance(statement, ast.Assert):
        return "assert", ""
    value: ast.expr | None = getattr(statement, "value", None)
    if isinstance(statement, ast.AugAssign):
        symbol = _OPERATORS.get(type(statement.op), "?")
        return f"{symbol}=", ""
    if isinstance(value, ast.Call):
        name = _root_name(value.func)
        return _call_name(value.func), helpers.get(name, "")
    if isinstance(value, ast.BinOp):
        return _OPERATORS.get(type(value.op), ast.unparse(value)), ""
    if isinstance(value, ast.Attribute):
        return ast.unparse(value), ""
    return (ast.unparse(value) if value is not None else ""), ""


def _explanation(cells: list[dict[str, Any]], index: int) -> tuple[str, str, int]:
    """(paragraph, kind, markdown cell index) that explains the error cell at ``index``.

    The "Reading it" paragraph that opens the first markdown cell after it, when no other
    error cell comes between ("Reading them" reads all the error cells above it); else the
    last paragraph of the markdown cell above it, its bold label removed.
    """
    j = index + 1
    other_error = False
    while j < len(cells) and cells[j].get("cell_type") == "code":
        other_error = other_error or TAG in cells[j].get("metadata", {}).get("tags", [])
        j += 1
    if j < len(cells) and cells[j].get("cell_type") == "markdown":
        blocks = _blocks(_source(cells[j]))
        reads_this = not other_error or blocks[0].startswith("**Reading them") if blocks else False
        if blocks and READING.match(blocks[0]) and reads_this:
            return READING.sub("", blocks[0]), "reading", j
    k = index - 1
    while k >= 0 and cells[k].get("cell_type") == "code":
        k -= 1
    if k >= 0:
        paragraphs = [b for b in _blocks(_source(cells[k])) if _is_paragraph(b)]
        if paragraphs:
            return LEADING_LABEL.sub("", paragraphs[-1]), "before", k
    return "", "", -1


def _notes(cells: list[dict[str, Any]], index: int, explanation: str) -> list[str]:
    """Sentences near the cell that say the message differs on CUDA or between releases: in
    its explanation, and in the markdown above it after that cell's last heading."""
    texts = [explanation]
    k = index - 1
    while k >= 0 and cells[k].get("cell_type") == "code":
        k -= 1
    if k >= 0:
        text = _source(cells[k])
        text = re.split(r"^#{1,6}\s.*$", text, flags=re.M)[-1]
        texts += [b for b in _blocks(text) if _is_paragraph(b) and not READING.match(b)]
    notes = []
    for text in texts:
        for sentence in _sentences(text):
            if NOTE_WORDS.search(plain(sentence)) and sentence not in notes:
                notes.append(READING.sub("", sentence))
    return notes


def read_notebook(path: Path, docname: str) -> list[ErrorCell]:
    """Every ``raises-exception`` cell of the notebook at ``path``, in order."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    cells = notebook.get("cells", [])
    chapter = path.name.split("-", 1)[0]
    helpers = snippets_names(cells)
    chapter_title, section = path.stem, ""
    found: list[ErrorCell] = []
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "markdown":
            for heading in _headings(_source(cell)):
                if not found and chapter_title == path.stem and heading:
                    chapter_title = plain(heading)
                section = plain(heading)
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") != "code" or TAG not in tags:
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if len(errors) != 1:
            raise ValueError(
                f"{path.name}: cell {index} is tagged {TAG} but has {len(errors)} error outputs"
            )
        source = _source(cell)
        op, helper = op_of(source, helpers)
        explanation, kind, where = _explanation(cells, index)
        found.append(
            ErrorCell(
                docname=docname,
                chapter=chapter,
                chapter_title=chapter_title,
                section=section if section != chapter_title else "",
                number=len(found) + 1,
                cell_index=index,
                source=source,
                ename=str(errors[0].get("ename", "")),
                evalue=str(errors[0].get("evalue", "")),
                op=op,
                helper=helper,
                explanation=explanation,
                explanation_kind=kind,
                explanation_cell=where,
                notes=_notes(cells, index, explanation),
            )
        )
    return found


def read_book(root: Path, pattern: str = NOTEBOOK_GLOB) -> list[ErrorCell]:
    """The error cells of every chapter notebook under ``root``, chapter by chapter."""
    cells: list[ErrorCell] = []
    for path in sorted(root.glob(pattern)):
        docname = path.relative_to(root).with_suffix("").as_posix()
        cells += read_notebook(path, docname)
    return cells


@dataclass
class Entry:
    """One message of the index, with every cell that shows it."""

    ename: str
    message: str  # generalised
    helper: bool
    cells: list[ErrorCell]

    @property
    def ops(self) -> list[str]:
        return list(dict.fromkeys(c.op for c in self.cells if c.op))

    @property
    def slug(self) -> str:
        words = re.findall(r"[a-z0-9_]+", f"{self.ename} {self.message}".lower())
        return "-".join(words[:9])


def _sort_key(text: str) -> str:
    return re.sub(r"^[^A-Za-z0-9]+", "", text).lower()


def entries(cells: list[ErrorCell]) -> list[Entry]:
    """The cells grouped by (exception type, generalised message, PyTorch or helper),
    sorted by exception type, then message."""
    groups: dict[tuple[str, str, bool], list[ErrorCell]] = {}
    for cell in cells:
        groups.setdefault((cell.ename, cell.message, bool(cell.helper)), []).append(cell)
    found = [Entry(e, m, h, c) for (e, m, h), c in groups.items()]
    found.sort(key=lambda e: (e.ename.lower(), _sort_key(e.message), e.helper))
    return found


# --- Rendering -----------------------------------------------------------------------------

_INLINE = re.compile(
    r"``\s?(?P<code2>.+?)\s?``|`(?P<code>[^`]+)`|\*\*(?P<strong>.+?)\*\*|\*(?P<em>[^*]+)\*"
    r"|\{\w+\}`(?P<role>[^`<]*?)\s*(?:<[^>]*>)?`|\[(?P<link>[^\]]*)\]\([^)]*\)"
)


def inline_nodes(markdown: str) -> list[nodes.Node]:
    """Markdown inline text (code, strong, emphasis; roles and links as their text)."""
    out: list[nodes.Node] = []
    position = 0
    for match in _INLINE.finditer(markdown):
        if match.start() > position:
            out.append(nodes.Text(markdown[position : match.start()]))
        kind = match.lastgroup
        text = match.group(kind)
        if kind in ("code", "code2"):
            out.append(nodes.literal(text, text))
        elif kind == "strong":
            out.append(nodes.strong("", "", *inline_nodes(text)))
        elif kind == "em":
            out.append(nodes.emphasis("", "", *inline_nodes(text)))
        else:
            out.append(nodes.Text(text))
        position = match.end()
    if position < len(markdown):
        out.append(nodes.Text(markdown[position:]))
    return out


def chapter_numbers(root: Path) -> dict[str, int]:
    """``{"notebooks/00-indexing": 1, ...}``: each chapter notebook's number, from its place in
    ``_toc.yml`` (the chapters are the one numbered part of the book)."""
    toc = (root / "_toc.yml").read_text(encoding="utf-8")
    files = re.findall(r"^\s*-?\s*file:\s*(notebooks/\S+)", toc, re.MULTILINE)
    return {name: i for i, name in enumerate(files, start=1)}


class ErrorIndex(SphinxDirective):
    """``{error-index}``: every error message the chapters show (see the module docstring)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        root = Path(self.env.srcdir)
        for path in sorted(root.glob(NOTEBOOK_GLOB)):
            self.env.note_dependency(str(path))
        # A chapter added later is no dependency yet: _outdated reads this page again then.
        self.env.error_index_docs = getattr(self.env, "error_index_docs", set()) | {
            self.env.docname
        }
        try:
            cells = read_book(root)
        except (ValueError, json.JSONDecodeError) as exc:
            raise self.error(str(exc)) from exc
        for cell in cells:
            if not cell.explanation:
                logger.warning(
                    "error index: %s, error cell %d (cell %d) has no explaining paragraph "
                    "(a '**Reading it:**' paragraph after it, or a paragraph above it)",
                    cell.docname,
                    cell.number,
                    cell.cell_index,
                    location=(self.env.docname, self.lineno),
                )
        found = entries(cells)
        # The chapters' numbers as the book shows them (their order in _toc.yml), not the
        # file names' prefixes: 00-indexing is chapter 1.
        self._numbers = chapter_numbers(root)
        chapters = len({c.docname for c in cells})
        intro = nodes.paragraph(classes=["error-index-intro"])
        intro += nodes.Text(
            f"Every error message the book's {chapters} chapters show, from their "
            f"{len(cells)} error cells: {len(found)} messages, grouped by exception type and "
            "sorted by message. This page is generated from the chapters' stored outputs "
            "when the book is built. Numbers in a message (sizes, dims, indices) are shown as "
        )
        intro += nodes.literal("N", "N")
        intro += nodes.Text(
            ", so a message with other numbers than yours is the same entry. Each entry "
            "links to the cells that raise it, and gives the first sentence of the paragraph "
            "that reads the message in the chapter."
        )
        helper_note = nodes.paragraph()
        helper_note += nodes.Text("Messages marked ")
        helper_note += nodes.inline(
            "", "book helper", classes=["error-source", "error-source-helper"]
        )
        helper_note += nodes.Text(" come from the book's own checked helpers (the ")
        helper_note += nodes.literal("snippets", "snippets")
        helper_note += nodes.Text(" package), not from PyTorch.")
        result: list[nodes.Node] = [intro, helper_note]
        by_type: dict[str, list[Entry]] = {}
        for entry in found:
            by_type.setdefault(entry.ename, []).append(entry)
        for ename, group in by_type.items():
            section = nodes.section(ids=[f"errors-{ename.lower()}"], names=[ename.lower()])
            section += nodes.title("", ename)
            for entry in group:
                section += self._entry(entry)
            result.append(section)
        return result

    def _href(self, cell: ErrorCell, anchor: str) -> str:
        uri = self.env.app.builder.get_relative_uri(self.env.docname, cell.docname)
        return f"{uri}#{anchor}"

    def _entry(self, entry: Entry) -> nodes.container:
        box = nodes.container(ids=[f"e-{entry.slug}"], classes=["error-entry"])
        head = nodes.paragraph(classes=["error-entry-head"])
        head += nodes.strong("", entry.ename)
        for op in entry.ops:
            head += nodes.Text(" · ")
            head += nodes.literal(op, op, classes=["error-op"])
        head += nodes.Text(" · ")
        if entry.helper:
            modules = ", ".join(dict.fromkeys(c.helper for c in entry.cells))
            head += nodes.inline("", "book helper", classes=["error-source", "error-source-helper"])
            head += nodes.Text(" (")
            head += nodes.literal(modules, modules)
            head += nodes.Text(")")
        elif entry.ename == "AssertionError" and set(entry.ops) == {"assert"}:
            # A check the chapter writes itself (`assert ...`), not a PyTorch message.
            head += nodes.inline("", "your assert", classes=["error-source", "error-source-helper"])
        else:
            head += nodes.inline("", "PyTorch", classes=["error-source", "error-source-torch"])
        box += head
        message = nodes.literal_block(entry.message, entry.message, classes=["error-message"])
        message["language"] = "none"
        box += message
        where = nodes.bullet_list(classes=["error-cells"])
        for cell in entry.cells:
            item = nodes.paragraph()
            number = self._numbers.get(cell.docname)
            label = f"{number}. {cell.chapter_title}" if number else cell.chapter_title
            if cell.section:
                label += f" › {cell.section}"
            item += nodes.reference(
                "", label, refuri=self._href(cell, cell.anchor), classes=["error-cell-link"]
            )
            if cell.evalue.splitlines()[0] != entry.message.splitlines()[0]:
                shown = cell.evalue.splitlines()[0]
                item += nodes.Text(": ")
                item += nodes.literal(shown, shown, classes=["error-exact"])
            item += nodes.Text(". ")
            item += nodes.inline("", "", *inline_nodes(cell.cause), classes=["error-cause"])
            item += nodes.Text(" ")
            item += nodes.reference(
                "",
                "Reading it" if cell.explanation_kind == "reading" else "Read more",
                refuri=self._href(cell, cell.why_anchor),
                classes=["error-why-link"],
            )
            list_item = nodes.list_item("", item)
            for note in cell.notes:
                list_item += nodes.paragraph(
                    "",
                    "",
                    nodes.emphasis("", "Where it differs: "),
                    *inline_nodes(note),
                    classes=["error-note"],
                )
            where += list_item
        box += where
        return box


# --- Anchors on the chapter pages --------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9_]+", text.lower())


def _inside_cell(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.container) and parent.get("nb_element") == "cell_code":
            return True
        parent = parent.parent
    return False


def add_anchors(app: Sphinx, doctree: nodes.document) -> None:
    """Give each error cell of a chapter page its id, and its explaining paragraph too."""
    docname = app.env.docname
    path = Path(app.srcdir) / f"{docname}.ipynb"
    if not path.is_file() or not path.match(NOTEBOOK_GLOB.split("/")[-1]):
        return
    cells = read_notebook(path, docname)
    if not cells:
        return
    containers = {
        node["cell_index"]: node
        for node in doctree.findall(nodes.container)
        if node.get("nb_element") == "cell_code"
    }
    order = list(doctree.findall(nodes.Element))
    position = {id(node): i for i, node in enumerate(order)}
    for cell in cells:
        container = containers.get(cell.cell_index)
        if container is None:
            logger.warning(
                "error index: no cell container for %s (cell %d)",
                cell.anchor,
                cell.cell_index,
                location=docname,
            )
            continue
        container["ids"].append(cell.anchor)
        if not cell.explanation:
            continue
        start = position[id(container)]
        candidates = (
            order[start + 1 :] if cell.explanation_kind == "reading" else order[:start][::-1]
        )
        expected = _words(plain(cell.explanation))[:6]
        for node in candidates:
            if isinstance(node, nodes.paragraph) and not _inside_cell(node):
                words = _words(node.astext())
                # The paragraph in the page still has the bold label the index dropped.
                if any(words[i : i + len(expected)] == expected for i in range(len(words) + 1)):
                    node["ids"].append(cell.why_anchor)
                else:
                    logger.warning(
                        "error index: the paragraph next to %s (cell %d) does not start with "
                        "the expected words %r",
                        cell.anchor,
                        cell.cell_index,
                        " ".join(expected),
                        location=docname,
                    )
                break


def _outdated(
    app: Sphinx, env: Any, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """The index page, whenever a chapter is added or removed (an incremental build would
    otherwise keep an index without the new chapter's errors)."""
    if any(doc.startswith("notebooks/") for doc in (*added, *removed)):
        return sorted(d for d in getattr(env, "error_index_docs", set()) if d in env.found_docs)
    return []


def _merge(app: Sphinx, env: Any, docnames: set[str], other: Any) -> None:
    """Parallel reads: keep the index pages a worker found."""
    env.error_index_docs = getattr(env, "error_index_docs", set()) | getattr(
        other, "error_index_docs", set()
    )


def _purge(app: Sphinx, env: Any, docname: str) -> None:
    getattr(env, "error_index_docs", set()).discard(docname)


def _add_static(app: Sphinx, config: Any) -> None:
    """Serve ``book/_ext/static`` (the page's stylesheet) as ``_static``."""
    folder = str(Path(__file__).parent / "static")
    if folder not in config.html_static_path:
        config.html_static_path.append(folder)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("error-index", ErrorIndex)
    app.connect("config-inited", _add_static)
    app.add_css_file("error-index.css")
    # Loaded before searchtools.js, which then uses its splitQuery.
    app.add_js_file("error-search.js")
    app.connect("doctree-read", add_anchors)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-merge-info", _merge)
    app.connect("env-purge-doc", _purge)
    # Bump env_version when the ids change: the chapters are then read again.
    return {
        "version": "1",
        "env_version": 1,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }
