"""Pictures of tensors, drawn from the very tensors a chapter uses, as plain SVG.

A ``Figure`` is a small SVG canvas with three primitives: ``grid`` (a tensor of up to 3 dims as
labelled cells), ``arrow`` (from one cell to another) and ``text``. Chapter figures such as
``gather`` are built from them. The SVG is written by hand rather than by matplotlib, so it is
byte-for-byte the same on every machine and every version: nbval compares it in full, and the
tests read the figure's content back (which input cell each output cell came from, and its
colour) from the SVG itself.

>>> import torch
>>> fig = gather(torch.tensor([[10, 20, 30], [40, 50, 60]]), 1, torch.tensor([[0, 2], [1, 0]]))
>>> fig.cell("output", (0, 1)).text, fig.cell("output", (0, 1)).source
('30', (0, 2))
>>> fig.svg().startswith('<svg xmlns="http://www.w3.org/2000/svg"')
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from html import escape

import torch

from snippets.indexing import check_gather_args, gather_sources
from snippets.validate import shape_str

__all__ = [
    "PALETTE",
    "AutogradGraph",
    "Cell",
    "Figure",
    "HookTimeline",
    "Link",
    "argmax_along",
    "autograd_graph",
    "broadcast",
    "format_value",
    "gather",
    "hook_colour",
    "hook_timeline",
    "take_along_dim",
]

# Okabe-Ito hues (distinguishable with the common colour-vision deficiencies): a light fill for
# cells and a dark stroke of the same hue for borders and arrows.
PALETTE: tuple[tuple[str, str], ...] = (
    ("#cfe6f7", "#0072b2"),  # blue
    ("#fde3c0", "#d55e00"),  # vermillion / orange
    ("#cdeedd", "#009e73"),  # bluish green
    ("#f6d5e6", "#cc79a7"),  # reddish purple
    ("#fbf1b8", "#a08a00"),  # yellow (darkened stroke for contrast)
    ("#d6ecfa", "#56b4e9"),  # sky blue
    ("#ffe5cc", "#e69f00"),  # orange
    ("#e4e4e4", "#555555"),  # grey
)
NEUTRAL = ("#f7f7f7", "#9a9a9a")
INK = "#1f2328"
MUTED = "#6a737d"
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
SANS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"

CELL_H = 30
MIN_CELL_W = 34
CHAR_W = 8  # width of one 13px monospace character, rounded up
SLICE_GAP = 26
LABEL_H = 38  # room above a grid for its title and column numbers


def format_value(v: object) -> str:
    """How a cell shows a value: ints as they are, floats with up to 2 decimals, bools as T/F.

    >>> [format_value(v) for v in (3, -0.5, 1.23456, True, float("nan"))]
    ['3', '-0.5', '1.23', 'T', 'nan']
    """
    if isinstance(v, bool):
        return "T" if v else "F"
    if isinstance(v, float):
        if v != v:
            return "nan"
        text = f"{v:.2f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return str(v)


@dataclass
class Cell:
    """One drawn cell: which tensor and coordinate it shows, where, and how it is coloured."""

    tensor: str
    coord: tuple[int, ...]
    x: float
    y: float
    w: float
    h: float
    text: str
    fill: str
    stroke: str
    source: tuple[int, ...] | None = None  # for output cells: the input coordinate it came from

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2


@dataclass(frozen=True)
class Link:
    """An arrow from a cell of one tensor to a cell of another."""

    source: tuple[str, tuple[int, ...]]
    target: tuple[str, tuple[int, ...]]
    colour: str


def _coord_attr(coord: tuple[int, ...]) -> str:
    return ",".join(map(str, coord))


@dataclass(repr=False)
class Figure:
    """An SVG canvas that grows to fit what is drawn on it.

    >>> fig = Figure("two cells")
    >>> _ = fig.grid("x", torch.tensor([1, 2]), 10, 10)
    >>> [c.text for c in fig.cells("x").values()]
    ['1', '2']
    """

    title: str
    description: str = ""
    _parts: list[str] = field(default_factory=list, repr=False)
    _texts: list[str] = field(default_factory=list, repr=False)
    _cells: dict[str, dict[tuple[int, ...], Cell]] = field(default_factory=dict, repr=False)
    links: list[Link] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0

    def _grow(self, x: float, y: float) -> None:
        self.width = max(self.width, x)
        self.height = max(self.height, y)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: int = 13,
        anchor: str = "start",
        colour: str = INK,
        mono: bool = False,
        weight: str = "normal",
        halo: str | None = None,
    ) -> None:
        """Write ``content`` with its baseline at (x, y); text is drawn above every shape."""
        family = MONO if mono else SANS
        # a halo in the background colour keeps the text readable where an arrow passes under it
        halo = (
            f'stroke="{halo}" stroke-width="4" stroke-linejoin="round" paint-order="stroke" '
            if halo
            else ""
        )
        self._texts.append(
            f'<text x="{x:g}" y="{y:g}" font-size="{size}" text-anchor="{anchor}" '
            f'font-family="{family}" font-weight="{weight}" fill="{colour}" {halo}>'
            f"{escape(content)}</text>".replace(" >", ">")
        )
        approx = len(content) * size * 0.62
        right = x + (approx if anchor == "start" else approx / 2)
        self._grow(right + 12, y + 8)

    def grid(
        self,
        name: str,
        tensor: torch.Tensor,
        x: float,
        y: float,
        *,
        label: str | None = None,
        colour_of=None,
        faded_of=None,
        attrs_of=None,
    ) -> dict[tuple[int, ...], Cell]:
        """Draw ``tensor`` (0 to 3 dims) as cells with their top-left corner at (x, y).

        A 3-D tensor is drawn as its 2-D slices ``t[0]``, ``t[1]``, ... one under the other.
        ``colour_of(coord)`` returns a palette number (or None for a neutral cell).
        ``faded_of(coord)`` True draws the cell faded, with a dashed border (a copy that is not
        in memory, e.g. a stretched element); ``attrs_of(coord)`` returns extra ``data-*``
        attributes for the cell's rect, as a dict.
        Returns the cells by coordinate; they are kept for ``cell`` and ``cells``.
        """
        if tensor.dim() > 3:
            raise ValueError(
                f"draw.grid draws tensors of up to 3 dims; {name} has shape "
                f"{shape_str(tensor.shape)}"
            )
        values = tensor.detach().cpu()
        texts = {
            c: format_value(values[c].item())
            for c in itertools.product(*(range(s) for s in values.shape))
        }
        cell_w = max([MIN_CELL_W] + [len(t) * CHAR_W + 14 for t in texts.values()])
        shape3 = (1,) * (3 - values.dim()) + tuple(values.shape)
        slices, rows, cols = shape3
        self.text(
            x,
            y + 14,
            label if label is not None else f"{name}  {shape_str(values.shape)}",
            size=14,
            weight="600",
        )
        cells: dict[tuple[int, ...], Cell] = {}
        top = y + LABEL_H
        if values.dim() >= 2:  # column numbers
            for j in range(cols):
                self.text(
                    x + j * cell_w + cell_w / 2,
                    top - 6,
                    str(j),
                    size=10,
                    anchor="middle",
                    colour=MUTED,
                    mono=True,
                )
        for s in range(slices):
            if values.dim() == 3:
                self.text(x - 8, top + 11, f"[{s}]", size=10, anchor="end", colour=MUTED, mono=True)
            for i, j in itertools.product(range(rows), range(cols)):
                coord = (
                    (s, i, j)
                    if values.dim() == 3
                    else (i, j)
                    if values.dim() == 2
                    else (j,)
                    if values.dim() == 1
                    else ()
                )
                number = colour_of(coord) if colour_of is not None else None
                fill, stroke = NEUTRAL if number is None else PALETTE[number % len(PALETTE)]
                cell = Cell(
                    name,
                    coord,
                    x + j * cell_w,
                    top + i * CELL_H,
                    cell_w,
                    CELL_H,
                    texts[coord],
                    fill,
                    stroke,
                )
                cells[coord] = cell
            top += rows * CELL_H + SLICE_GAP
        for coord, cell in cells.items():
            faded = bool(faded_of(coord)) if faded_of is not None else False
            extra = ' fill-opacity="0.4" stroke-dasharray="4 3"' if faded else ""
            if attrs_of is not None:
                extra += "".join(f' {k}="{escape(str(v))}"' for k, v in attrs_of(coord).items())
            self._parts.append(
                f'<rect x="{cell.x:g}" y="{cell.y:g}" width="{cell.w:g}" height="{cell.h:g}" '
                f'rx="3" fill="{cell.fill}" stroke="{cell.stroke}" stroke-width="1.2" '
                f'data-tensor="{escape(name)}" data-coord="{_coord_attr(coord)}"{extra}/>'
            )
            cx, cy = cell.centre
            self.text(
                cx,
                cy + 4.5,
                cell.text,
                anchor="middle",
                mono=True,
                halo=None if faded else cell.fill,
                colour=MUTED if faded else INK,
            )
        self._grow(x + cols * cell_w + 12, top)
        self._cells[name] = cells
        return cells

    def arrow(self, source: Cell, target: Cell, *, colour: str, offset: float = 0.0) -> None:
        """A curved arrow from the centre of ``source`` to the left edge of ``target``.

        ``offset`` shifts both ends up or down (in pixels), so that arrows along one row do not
        lie on top of each other.
        """
        x0, y0 = source.centre
        y0 += offset
        x1, y1 = target.x - 3, target.y + target.h / 2 + offset
        bend = max(30.0, (x1 - x0) * 0.45)
        self._parts.append(
            f'<path d="M{x0:g},{y0:g} C{x0 + bend:g},{y0:g} {x1 - bend:g},{y1:g} {x1 - 6:g},{y1:g}" '
            f'fill="none" stroke="{colour}" stroke-width="1.6" stroke-opacity="0.85" '
            f'data-from="{escape(source.tensor)}:{_coord_attr(source.coord)}" '
            f'data-to="{escape(target.tensor)}:{_coord_attr(target.coord)}"/>'
        )
        self._parts.append(f'<circle cx="{x0:g}" cy="{y0:g}" r="2.6" fill="{colour}"/>')
        self._parts.append(
            f'<path d="M{x1:g},{y1:g} L{x1 - 7:g},{y1 - 4:g} L{x1 - 7:g},{y1 + 4:g} Z" '
            f'fill="{colour}"/>'
        )
        self.links.append(
            Link((source.tensor, source.coord), (target.tensor, target.coord), colour)
        )

    def cells(self, name: str) -> dict[tuple[int, ...], Cell]:
        """The cells drawn for the tensor called ``name``."""
        if name not in self._cells:
            raise KeyError(f"no tensor named {name!r} in this figure; it has {list(self._cells)}")
        return self._cells[name]

    def cell(self, name: str, coord: tuple[int, ...]) -> Cell:
        """One drawn cell of the tensor called ``name``."""
        return self.cells(name)[tuple(coord)]

    def svg(self) -> str:
        """The figure as a standalone SVG document (deterministic: same input, same bytes)."""
        w, h = round(self.width + 8), round(self.height + 8)
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" role="img">'
            f"<title>{escape(self.title)}</title><desc>{escape(self.description)}</desc>"
            f'<rect x="0" y="0" width="{w}" height="{h}" rx="10" fill="#ffffff"/>'
        )
        return head + "".join(self._parts) + "".join(self._texts) + "</svg>"

    def _repr_svg_(self) -> str:
        return self.svg()

    def __repr__(self) -> str:
        return f"<Figure {self.title!r}: {len(self._cells)} tensors, {len(self.links)} arrows>"

    def save(self, path: str) -> None:
        """Write the SVG to ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg())


def _rule_text(ndim: int, dim: int) -> str:
    letters = "ijk"[:ndim]
    out = "".join(f"[{c}]" for c in letters)
    src = "".join(f"[index{out}]" if d == dim else f"[{c}]" for d, c in enumerate(letters))
    return f"out{out} = input{src}"


def gather(input: torch.Tensor, dim: int, index: torch.Tensor, *, arrows: bool = True) -> Figure:
    """Draw ``torch.gather(input, dim, index)``: input, output and index, and where each output
    cell came from.

    Colours follow the coordinate along ``dim``: an input cell is coloured by its own position
    along ``dim``, an index cell by the value it holds, and an output cell by the input cell it
    was copied from, so matching colours are the rule. An arrow runs from that input cell to
    each output cell (left out when ``arrows=False`` or when there are more than 32).
    """
    dim = check_gather_args(input, dim, index)
    if input.dim() == 0:
        raise ValueError("draw.gather needs input with at least 1 dim, got a 0-d tensor")
    out = torch.gather(input, dim, index).cpu()
    sources = gather_sources(index, dim).cpu()
    idx = index.cpu()
    rule = _rule_text(input.dim(), dim)
    fig = Figure(
        title=f"torch.gather(input, dim={dim}, index)",
        description=f"{rule}; output shape {shape_str(out.shape)} equals index shape "
        f"{shape_str(index.shape)}",
    )
    left = 44.0
    top = 16.0
    inputs = fig.grid("input", input, left, top, colour_of=lambda c: c[dim])
    in_right = max((c.x + c.w for c in inputs.values()), default=left + MIN_CELL_W)
    out_left = in_right + 120
    outputs = fig.grid(
        "output",
        out,
        out_left,
        top,
        label=f"output  {shape_str(out.shape)}",
        colour_of=lambda c: int(idx[c]),
    )
    for coord, cell in outputs.items():
        cell.source = tuple(int(v) for v in sources[coord].tolist())
    out_right = max((c.x + c.w for c in outputs.values()), default=out_left + MIN_CELL_W)
    out_label_right = out_left + len(f"output  {shape_str(out.shape)}") * 14 * 0.62
    index_left = max(out_right, out_label_right) + 56
    fig.grid("index", idx, index_left, top, colour_of=lambda c: int(idx[c]))
    if arrows and len(outputs) <= 32:
        width = index.size(-1)
        step = min(7.0, (CELL_H - 12) / max(width - 1, 1))
        for coord, cell in outputs.items():
            source = inputs[cell.source]
            offset = (coord[-1] - (width - 1) / 2) * step  # one height per output column
            colour = PALETTE[int(idx[coord]) % len(PALETTE)][1]
            fig.arrow(source, cell, colour=colour, offset=offset)
    fig.text(
        left,
        fig.height + 14,
        f"{rule}    (dim={dim}; out.shape == index.shape)",
        size=13,
        mono=True,
        colour=INK,
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 3: argmax along a dim, and the full coordinates of each maximum


def argmax_along(
    x: torch.Tensor, dim: int = 0, *, names: tuple[str, ...] | None = None, arrows: bool = True
) -> Figure:
    """Draw ``x.argmax(dim)`` and ``argmax_coordinates(x, dim)`` for a 2-D or 3-D ``x``.

    In ``x`` only the winning cell of each row along ``dim`` is coloured, by its own position
    along ``dim`` (the first one among ties; a NaN wins). The argmax cell it produced has the
    same colour, with an arrow from the winner (left out when ``arrows=False`` or when there
    are more than 32). The coordinates table has one row per position of the argmax, in order,
    coloured the same way: the argmax supplies one coordinate, the position the others.
    ``names`` names the dims in the captions, e.g. ``("c", "h", "w")``.

    >>> x = torch.tensor([[[1, 7], [4, 2]],
    ...                   [[6, 0], [3, 5]]])
    >>> fig = argmax_along(x, 0, names=("c", "h", "w"))
    >>> fig.cell("argmax", (0, 0)).text, fig.cell("argmax", (0, 0)).source
    ('1', (1, 0, 0))
    >>> [fig.cell("coordinates", (3, j)).text for j in range(3)]
    ['1', '1', '1']
    """
    from snippets.argmax import argmax_coordinates  # snippets.argmax does not import draw

    coords = argmax_coordinates(x, dim).cpu()  # validates x and dim
    if x.dim() not in (2, 3):
        raise ValueError(
            f"draw.argmax_along draws x with 2 or 3 dims; x has shape {shape_str(x.shape)}"
        )
    dim = dim % x.dim()
    names = tuple(names) if names is not None else tuple("ijk"[: x.dim()])
    if len(names) != x.dim():
        raise ValueError(f"names has {len(names)} entries but x has {x.dim()} dims: one per dim")
    arg = x.argmax(dim).cpu()
    winners = {tuple(int(v) for v in row) for row in coords.reshape(-1, x.dim()).tolist()}
    rest = [n for d, n in enumerate(names) if d != dim]
    picked = "".join(f"[{n}]" for n in rest)
    full = ", ".join(f"argmax{picked}" if d == dim else n for d, n in enumerate(names))
    rule = (
        f"argmax{picked} = the first {names[dim]} with the largest "
        f"x{''.join(f'[{n}]' for n in names)};  coordinates = ({full})"
    )
    fig = Figure(
        title=f"x.argmax(dim={dim}) and argmax_coordinates(x, dim={dim})",
        description=f"{rule}; argmax shape {shape_str(arg.shape)}, coordinates shape "
        f"{shape_str(coords.shape)}",
    )
    left, top = 44.0, 16.0
    inputs = fig.grid(
        "x",
        x,
        left,
        top,
        label=f"x  {shape_str(x.shape)} = ({', '.join(names)})",
        colour_of=lambda c: c[dim] if c in winners else None,
    )
    in_right = max(c.x + c.w for c in inputs.values())
    arg_left = in_right + 120
    arg_label = f"argmax(dim={dim})  {shape_str(arg.shape)}"
    outputs = fig.grid(
        "argmax", arg, arg_left, top, label=arg_label, colour_of=lambda c: int(arg[c])
    )
    for coord, cell in outputs.items():
        cell.source = tuple(int(v) for v in coords[coord].tolist())
    out_right = max(c.x + c.w for c in outputs.values())
    table = coords.reshape(-1, x.dim())
    table_left = max(out_right, arg_left + len(arg_label) * 14 * 0.62) + 90
    table_label = f"coordinates ({', '.join(names)})  {shape_str(coords.shape)}"
    positions = list(itertools.product(*(range(s) for s in arg.shape)))
    fig.grid(
        "coordinates",
        table,
        table_left,
        top,
        label=table_label,
        colour_of=lambda c: int(table[c[0], dim]),
    )
    for row, p in enumerate(positions):  # which argmax position each row belongs to
        fig.text(
            table_left - 8,
            top + LABEL_H + row * CELL_H + 19,
            "[" + ",".join(map(str, p)) + "]",
            size=11,
            anchor="end",
            colour=MUTED,
            mono=True,
        )
    if arrows and len(outputs) <= 32:
        width = arg.size(-1) if arg.dim() else 1
        step = min(7.0, (CELL_H - 12) / max(width - 1, 1))
        for coord, cell in outputs.items():
            colour = PALETTE[int(arg[coord]) % len(PALETTE)][1]
            offset = ((coord[-1] if coord else 0) - (width - 1) / 2) * step  # one height per column
            fig.arrow(inputs[cell.source], cell, colour=colour, offset=offset)
    fig.text(left, fig.height + 14, rule, size=13, mono=True, colour=INK)
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 4: broadcasting, stretching shapes

BROADCAST_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
}


def _is_stored(position: tuple[int, ...], source: tuple[int, ...]) -> bool:
    """Whether result ``position`` shows the operand element ``source`` where it really is (not
    a stretched copy): 0 in every added leading dim, the source coordinate in the others."""
    offset = len(position) - len(source)
    return all(p == 0 for p in position[:offset]) and tuple(position[offset:]) == tuple(source)


def broadcast(
    a: torch.Tensor, b: torch.Tensor, op: str = "+", *, names: tuple[str, str] = ("a", "b")
) -> Figure:
    """Draw ``a op b`` with broadcasting: the shapes aligned from the right, each operand
    stretched to the result shape, and the result.

    In an operand's panel the solid cells are its stored elements; the faded, dashed cells are
    the copies that broadcasting reads again (no memory holds them: the view has stride 0 there).
    Each operand cell is coloured by the stored element it shows, and carries
    ``data-source="i,j"`` (that element's coordinate); each result cell carries the coordinates
    it read from both operands as ``data-a`` and ``data-b``. Results of up to 3 dims.

    >>> fig = broadcast(torch.tensor([[10], [20], [30]]), torch.tensor([1, 2, 3, 4]))
    >>> fig.cell("a", (2, 3)).text, fig.cell("b", (2, 3)).text, fig.cell("result", (2, 3)).text
    ('30', '4', '34')
    """
    from snippets.broadcasting import broadcast_sources, explain_broadcast

    if op not in BROADCAST_OPS:
        raise ValueError(f"op must be one of {' '.join(BROADCAST_OPS)}, got {op!r}")
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
        raise TypeError("draw.broadcast draws two tensors, a and b")
    explanation = explain_broadcast(a, b, names=names)
    if not explanation.ok:
        raise ValueError(f"{explanation.reason}\n{explanation}")
    shape = explanation.result or ()
    if len(shape) > 3:
        raise ValueError(
            f"draw.broadcast draws results of up to 3 dims; {names[0]} {op} {names[1]} has "
            f"shape {shape_str(shape)}"
        )
    result = BROADCAST_OPS[op](a, b).detach().cpu()
    fig = Figure(
        title=f"{names[0]} {op} {names[1]}: {shape_str(a.shape)} and {shape_str(b.shape)} "
        f"broadcast to {shape_str(shape)}",
        description="The shapes aligned from the right; each operand stretched to the result "
        "shape (dashed cells are copies that are never stored); the result.",
    )
    left, y = 16.0, 24.0
    fig.text(left, y, "the shapes, aligned from the right:", size=13, colour=MUTED)
    y = _aligned_table(fig, explanation, left, y + 22)
    top = y + 14
    sources = {}
    pad = 28.0 if len(shape) == 3 else 0.0  # room for the slice labels [0], [1], ...
    x = left + pad
    for k, (name, t) in enumerate(((names[0], a), (names[1], b))):
        src = broadcast_sources(tuple(t.shape), shape).cpu()
        src_of = {
            p: tuple(int(v) for v in src[p].tolist())
            for p in itertools.product(*(range(s) for s in shape))
        }
        sources[name] = src_of
        first_colour = 0 if k == 0 else a.numel()
        stretched = t.detach().cpu().expand(shape)
        arrow = "" if tuple(t.shape) == tuple(shape) else f" → {shape_str(shape)}"
        label = f"{name}  {shape_str(t.shape)}{arrow}"
        cells = fig.grid(
            name,
            stretched,
            x,
            top,
            label=label,
            colour_of=lambda p, t=t, s=src_of, c0=first_colour: (
                c0 + _flat_index(s[p], tuple(t.shape))
            ),
            faded_of=lambda p, s=src_of: not _is_stored(p, s[p]),
            attrs_of=lambda p, s=src_of: {"data-source": _coord_attr(s[p])},
        )
        right = max(_right_edge(cells, x), x + len(label) * 14 * 0.62)
        fig.text(right + 22, top + LABEL_H + 21, op if k == 0 else "=", size=22, anchor="middle")
        x = right + 44 + pad

    def true_in_green(p: tuple[int, ...]) -> int | None:  # for a bool result: a mask
        return 2 if bool(result[p]) else None

    fig.grid(
        "result",
        result,
        x,
        top,
        label=f"{names[0]} {op} {names[1]}  {shape_str(shape)}",
        colour_of=true_in_green if result.dtype == torch.bool else None,
        attrs_of=lambda p: {
            "data-a": _coord_attr(sources[names[0]][p]),
            "data-b": _coord_attr(sources[names[1]][p]),
        },
    )
    fig.text(
        left,
        fig.height + 16,
        "solid: stored elements; dashed: the same elements read again (stride 0, no copy)",
        size=12,
        colour=MUTED,
    )
    return fig


def _flat_index(coord: tuple[int, ...], shape: tuple[int, ...]) -> int:
    flat = 0
    for c, s in zip(coord, shape, strict=True):
        flat = flat * s + c
    return flat


def _right_edge(cells: dict[tuple[int, ...], Cell], x: float) -> float:
    return max((c.x + c.w for c in cells.values()), default=x + MIN_CELL_W)


# ---------------------------------------------------------------------------------------------
# Chapter 2: take_along_dim, drawn as "stretch the indices (and the input), then gather"


def _mark_copy(fig: Figure, cell: Cell, original: tuple[int, ...], of: str) -> None:
    """Outline ``cell`` with a dashed border: it is a copy of cell ``original`` of ``of``."""
    fig._parts.append(
        f'<rect x="{cell.x + 2:g}" y="{cell.y + 2:g}" width="{cell.w - 4:g}" '
        f'height="{cell.h - 4:g}" rx="2" fill="none" stroke="{INK}" stroke-width="1" '
        f'stroke-dasharray="3 2" data-copy="{escape(cell.tensor)}:{_coord_attr(cell.coord)}" '
        f'data-copy-of="{escape(of)}:{_coord_attr(original)}"/>'
    )


def take_along_dim(
    input: torch.Tensor, indices: torch.Tensor, dim: int, *, arrows: bool = True
) -> Figure:
    """Draw ``torch.take_along_dim(input, indices, dim)`` as broadcast, then gather.

    Four grids: ``input``, the ``output``, the ``indices`` as given and the indices broadcast to
    the output's shape (``indices_b``). In ``indices_b`` a cell that is a stretched copy has a
    dashed border (its ``data-copy-of`` attribute names the cell it copies). Colours follow the coordinate along ``dim``, as in ``gather``: an input cell by
    its own position, an index cell by its value, an output cell by the input cell it was read
    from, with an arrow from that cell (several arrows leave one input cell when a size-1 input
    dim is stretched). Arrows are left out when ``arrows=False`` or there are more than 32.

    >>> fig = take_along_dim(torch.tensor([[10, 20, 30], [40, 50, 60]]), torch.tensor([[2, 0]]), 1)
    >>> fig.cell("output", (1, 0)).text, fig.cell("output", (1, 0)).source
    ('60', (1, 2))
    >>> 'data-copy="indices_b:1,0" data-copy-of="indices:0,0"' in fig.svg()
    True
    """
    from snippets.indexing import (
        broadcast_along_dim,
        check_take_along_dim_args,
        take_along_dim_sources,
    )

    if dim is None:
        raise ValueError(
            "draw.take_along_dim needs a dim; with dim=None take_along_dim is a gather along "
            "dim 0 of the flattened tensors: draw.gather(input.reshape(-1), 0, indices.reshape(-1))"
        )
    dim = check_take_along_dim_args(input, indices, dim)
    if input.dim() > 3:
        raise ValueError(
            f"draw.take_along_dim draws tensors of up to 3 dims; input has shape "
            f"{shape_str(input.shape)}"
        )
    input_b, indices_b = broadcast_along_dim(input, indices, dim)
    out = torch.take_along_dim(input, indices, dim).cpu()
    sources = take_along_dim_sources(input, indices, dim).cpu()
    idx, idx_b = indices.cpu(), indices_b.cpu()
    letters = "ijk"[: input.dim()]
    pos = "".join(f"[{c}]" for c in letters)
    src = "".join(f"[indices_b{pos}]" if d == dim else f"[{c}]" for d, c in enumerate(letters))
    rule = f"out{pos} = input_b{src}"
    stretch = (
        f"indices {shape_str(indices.shape)} → {shape_str(indices_b.shape)}, "
        f"input {shape_str(input.shape)} → {shape_str(input_b.shape)}"
    )
    fig = Figure(
        title=f"torch.take_along_dim(input, indices, dim={dim})",
        description=f"{rule}, after broadcasting away from dim {dim}: {stretch}; output shape "
        f"{shape_str(out.shape)}",
    )
    left, top = 44.0, 16.0
    inputs = fig.grid("input", input, left, top, colour_of=lambda c: c[dim])
    in_right = max((c.x + c.w for c in inputs.values()), default=left + MIN_CELL_W)
    out_left = in_right + 120
    out_label = f"output  {shape_str(out.shape)}"
    outputs = fig.grid(
        "output", out, out_left, top, label=out_label, colour_of=lambda c: int(idx_b[c])
    )
    for coord, cell in outputs.items():
        cell.source = tuple(int(v) for v in sources[coord].tolist())
    out_right = max((c.x + c.w for c in outputs.values()), default=out_left + MIN_CELL_W)
    idx_left = max(out_right, out_left + len(out_label) * 14 * 0.62) + 60
    given = fig.grid("indices", idx, idx_left, top, colour_of=lambda c: int(idx[c]))
    idx_right = max((c.x + c.w for c in given.values()), default=idx_left + MIN_CELL_W)
    b_left = max(idx_right, idx_left + (len(shape_str(idx.shape)) + 9) * 14 * 0.62) + 90
    stretched = fig.grid(
        "indices_b",
        idx_b,
        b_left,
        top,
        label=f"indices, broadcast  {shape_str(idx_b.shape)}",
        colour_of=lambda c: int(idx_b[c]),
    )
    copies = 0
    for coord, cell in stretched.items():
        original = tuple(0 if idx.size(d) == 1 else c for d, c in enumerate(coord))
        if original != coord:
            _mark_copy(fig, cell, original, "indices")
            copies += 1
    y = top + LABEL_H + CELL_H / 2
    x0, x1 = idx_right + 14, b_left - 14
    fig._parts.append(
        f'<path d="M{x0:g},{y:g} L{x1 - 8:g},{y:g}" stroke="{MUTED}" stroke-width="2.2" '
        f'fill="none"/><path d="M{x1:g},{y:g} L{x1 - 10:g},{y - 6:g} L{x1 - 10:g},{y + 6:g} Z" '
        f'fill="{MUTED}"/>'
    )
    fig.text((x0 + x1) / 2, y - 8, "broadcast", size=11, anchor="middle", colour=MUTED)
    below = max((c.y + c.h for c in stretched.values()), default=top + LABEL_H) + 18
    legend = "dashed: a copy made by broadcasting" if copies else "nothing to stretch"
    fig.text(b_left, below, legend, size=11, colour=MUTED)
    if tuple(input_b.shape) != tuple(input.shape):
        below = max((c.y + c.h for c in inputs.values()), default=top + LABEL_H) + 18
        fig.text(left, below, f"read as {shape_str(input_b.shape)}", size=11, colour=MUTED)
    if arrows and len(outputs) <= 32:
        width = out.size(-1)
        step = min(7.0, (CELL_H - 12) / max(width - 1, 1))
        for coord, cell in outputs.items():
            offset = (coord[-1] - (width - 1) / 2) * step  # one height per output column
            colour = PALETTE[int(idx_b[coord]) % len(PALETTE)][1]
            fig.arrow(inputs[cell.source], cell, colour=colour, offset=offset)
    fig.text(left, fig.height + 14, f"{rule}    (dim={dim}; {stretch})", size=13, mono=True)
    return fig


def _aligned_table(fig: Figure, explanation, x: float, y: float) -> float:
    """Draw the shapes one under the other, aligned from the right, and the result row; each
    size in its own text element, right-aligned in its dim's column. Returns the last baseline.
    """
    rows = [("dim", [str(step.dim) for step in explanation.steps], MUTED)]
    for k, (name, shape) in enumerate(zip(explanation.names, explanation.shapes, strict=True)):
        sizes = ["·" if step.sizes[k] is None else str(step.sizes[k]) for step in explanation.steps]
        rows.append((f"{name}  {shape_str(shape)}", sizes, INK))
    rows.append(("result", [str(step.result) for step in explanation.steps], INK))
    label_w = max(len(label) for label, _, _ in rows) * CHAR_W + 16
    col_w = max([3] + [len(c) for _, cells, _ in rows for c in cells]) * CHAR_W + 14
    for r, (label, cells, colour) in enumerate(rows):
        weight = "600" if r == len(rows) - 1 else "normal"
        fig.text(x, y, label, size=13, mono=True, colour=colour, weight=weight)
        for c, content in enumerate(cells):
            faded = content == "·"
            fig.text(
                x + label_w + (c + 1) * col_w,
                y,
                content,
                size=13,
                anchor="end",
                mono=True,
                colour=MUTED if faded or r == 0 else colour,
                weight=weight,
            )
        y += 19
    return y - 19


# ---------------------------------------------------------------------------------------------
# Chapter 6: hooks (a timeline of where each hook fires, drawn from a recorded call order)

# hook kind -> (palette number, short label under the marker, legend name, signature)
HOOK_STYLE: dict[str, tuple[int, str, str, str]] = {
    "forward_pre": (0, "pre", "forward pre-hook", "hook(module, args)"),
    "forward": (2, "fwd", "forward hook", "hook(module, args, output)"),
    "tensor": (6, "tensor", "tensor hook on the layer's output", "hook(grad)"),
    "backward_pre": (3, "bwd pre", "full backward pre-hook", "hook(module, grad_output)"),
    "backward": (1, "bwd", "full backward hook", "hook(module, grad_input, grad_output)"),
}
HOOK_STEP_W = 64
HOOK_LANE_H = 100


def hook_colour(kind: str) -> str:
    """The marker colour of a hook kind in ``hook_timeline``.

    >>> hook_colour("forward")
    '#009e73'
    """
    if kind not in HOOK_STYLE:
        raise ValueError(f"kind must be one of {list(HOOK_STYLE)}, got {kind!r}")
    return PALETTE[HOOK_STYLE[kind][0]][1]


@dataclass(repr=False)
class HookTimeline(Figure):
    """A ``Figure`` that also lists its markers as ``(step, phase, kind, layer)``."""

    markers: list[tuple[int, str, str, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<HookTimeline {self.title!r}: {len(self.markers)} hook calls>"


def hook_timeline(events, *, title: str = "Where each hook fires") -> HookTimeline:
    """Draw hook calls in the order they happened: one lane for the forward pass, one for the
    backward pass, a numbered marker per call, and a box per layer around its hooks in each
    pass.

    ``events`` are ``snippets.hooks.HookEvent`` records as ``record_hook_order`` returns them,
    so the picture is drawn from what PyTorch actually did. Each marker is an SVG circle with
    ``data-step``, ``data-phase``, ``data-kind`` and ``data-layer``.

    >>> from snippets.hooks import HookEvent
    >>> fig = hook_timeline([HookEvent(0, "forward", "forward_pre", "fc"),
    ...                      HookEvent(1, "forward", "forward", "fc")])
    >>> fig.markers
    [(0, 'forward', 'forward_pre', 'fc'), (1, 'forward', 'forward', 'fc')]
    """
    events = [tuple(e) for e in events]
    steps = [e[0] for e in events]
    if steps != list(range(len(events))):
        raise ValueError(f"events must be numbered 0, 1, 2, ... in order, got steps {steps}")
    for _, phase, kind, _ in events:
        hook_colour(kind)
        if phase not in ("forward", "backward"):
            raise ValueError(f"phase must be 'forward' or 'backward', got {phase!r}")
    fig = HookTimeline(
        title=title,
        description="Hook calls in the order PyTorch made them: "
        + ", ".join(f"{s + 1}. {kind} on {layer}" for s, _, kind, layer in events),
    )
    left = 150.0
    lanes = (("forward", "model(x)", 66.0), ("backward", "of y.sum()", 66.0 + HOOK_LANE_H))
    for phase, sub, y in lanes:
        lane = [e for e in events if e[1] == phase]
        fig.text(16, y + 1, phase, size=14, weight="600")
        fig.text(16, y + 18, sub, size=11, colour=MUTED, mono=True)
        xs = {e[0]: left + i * HOOK_STEP_W for i, e in enumerate(lane)}
        for layer in dict.fromkeys(e[3] for e in lane):  # a box per layer, around its hooks
            mine = [xs[e[0]] for e in lane if e[3] == layer]
            x0, x1 = min(mine) - 26, max(mine) + 26
            fig._parts.append(
                f'<rect x="{x0:g}" y="{y - 40:g}" width="{x1 - x0:g}" height="76" rx="6" '
                f'fill="{NEUTRAL[0]}" stroke="{NEUTRAL[1]}" stroke-width="1" '
                f'data-span="{escape(phase)}:{escape(layer)}"/>'
            )
            fig.text((x0 + x1) / 2, y - 24, layer, size=12, anchor="middle", mono=True)
        for a, b in itertools.pairwise(lane):  # thin arrows: the order of the calls
            x0, x1 = xs[a[0]] + 12, xs[b[0]] - 12
            fig._parts.append(
                f'<path d="M{x0:g},{y:g} L{x1 - 5:g},{y:g}" stroke="{MUTED}" stroke-width="1"/>'
                f'<path d="M{x1:g},{y:g} L{x1 - 5:g},{y - 3:g} L{x1 - 5:g},{y + 3:g} Z" '
                f'fill="{MUTED}"/>'
            )
        for step, _, kind, layer in lane:
            x = xs[step]
            number, short, _, _ = HOOK_STYLE[kind]
            colour = PALETTE[number][1]
            fig._parts.append(
                f'<circle cx="{x:g}" cy="{y:g}" r="10" fill="{colour}" data-step="{step}" '
                f'data-phase="{escape(phase)}" data-kind="{escape(kind)}" '
                f'data-layer="{escape(layer)}"/>'
            )
            fig.text(
                x, y + 4, str(step + 1), size=11, anchor="middle", colour="#ffffff", weight="600"
            )
            fig.text(x, y + 26, short, size=10, anchor="middle", colour=colour)
            fig.markers.append((step, phase, kind, layer))
    y = 66.0 + 2 * HOOK_LANE_H - 14
    for kind, (number, _, name, signature) in HOOK_STYLE.items():
        fig._parts.append(
            f'<circle cx="{22:g}" cy="{y - 4:g}" r="6" fill="{PALETTE[number][1]}" '
            f'data-legend="{escape(kind)}"/>'
        )
        fig.text(34, y, name, size=12)
        fig.text(290, y, signature, size=12, mono=True, colour=MUTED)
        y += 20
    fig.text(
        16,
        y + 8,
        "Numbers give the order in which PyTorch called the hooks.",
        size=11,
        colour=MUTED,
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Chapter 5: no_grad. The autograd graph of a small function: which call made which tensor,
# which tensors require grad, which grad_fn each call recorded and which tensors it saved for
# backward. Drawn from a real run (snippets.autograd.trace_graph), so under torch.no_grad() the
# same function draws with no grad_fn and nothing saved.

GRAPH_ROW_GAP = 22
OP_BOX_H = 40
GRAPH_STEP = 34  # from a tensor's right edge to the op box it feeds


def _op_box(fig: Figure, key: str, op: str, grad_fn: str | None, x: float, y: float) -> Cell:
    """A two-line box for one call: the op, then the grad_fn it recorded (or that it recorded none)."""
    second = grad_fn if grad_fn is not None else "not recorded"
    w = max(len(op), len(second)) * CHAR_W + 22
    fill, stroke = (PALETTE[0][0], PALETTE[0][1]) if grad_fn is not None else NEUTRAL
    fig._parts.append(
        f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{OP_BOX_H:g}" rx="8" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="1.4" data-op="{escape(key)}" '
        f'data-grad-fn="{escape(str(grad_fn))}"/>'
    )
    fig.text(x + w / 2, y + 16, op, anchor="middle", mono=True, weight="600")
    fig.text(
        x + w / 2,
        y + 32,
        second,
        size=11,
        anchor="middle",
        mono=True,
        colour=INK if grad_fn is not None else MUTED,
    )
    fig._grow(x + w + 12, y + OP_BOX_H + 8)
    return Cell(key, (), x, y, w, OP_BOX_H, op, fill, stroke)


@dataclass(repr=False)
class AutogradGraph(Figure):
    """A ``Figure`` that also keeps the trace it was drawn from (``snippets.autograd.Trace``)."""

    trace: object = None

    @property
    def saved(self) -> dict[str, tuple[str, ...]]:
        """Which grad_fn saved each saved tensor, by tensor name."""
        return {n: t.saved_by for n, t in self.trace.tensors.items() if t.saved_by}

    def __repr__(self) -> str:
        ops = len(self.trace.ops) if self.trace is not None else 0
        return f"<AutogradGraph {self.title!r}: {ops} calls, {len(self.saved)} saved tensors>"


def autograd_graph(fn, /, *, title: str | None = None, **inputs: torch.Tensor) -> AutogradGraph:
    """Draw ``fn(**inputs)`` as autograd saw it: tensors, calls, grad_fn and saved tensors.

    ``fn`` returns a tensor or a dict of named tensors (see ``snippets.autograd.trace_graph``).
    A blue tensor requires grad, a grey one does not. Each call is a box with the ``grad_fn``
    it recorded, or "not recorded". A tensor that a call saved for backward has an orange
    outline and says which ``grad_fn`` saved it. Run it under ``torch.no_grad()`` to see what
    that switch turns off.

    >>> x, w = torch.tensor([1.0, 2.0]), torch.tensor([3.0, -4.0], requires_grad=True)
    >>> fig = autograd_graph(lambda x, w: {"y": x * w}, x=x, w=w)
    >>> fig.saved
    {'x': ('MulBackward0',)}
    """
    from snippets.autograd import trace_graph

    trace = trace_graph(fn, **inputs)
    grad_on = any(op.grad_fn is not None for op in trace.ops)
    fig = AutogradGraph(
        title=title or ("autograd graph" if grad_on else "autograd graph: nothing recorded"),
        description="; ".join(
            f"{op.op}({', '.join(op.inputs)}) -> {', '.join(op.outputs)}: grad_fn={op.grad_fn}, "
            f"saved {list(op.saved)}"
            for op in trace.ops
        ),
    )
    fig.trace = trace
    saved_colour = PALETTE[1][1]
    left, y = 24.0, 16.0
    drawn: dict[str, dict[tuple[int, ...], Cell]] = {}
    anchor: dict[str, Cell] = {}  # where arrows leave a tensor: its last cell

    def draw_tensor(name: str, x: float) -> None:
        nonlocal y
        t = trace.tensors[name]
        value = t.value if t.value.dim() <= 2 else t.value.flatten(0, -2)
        cells = fig.grid(
            name,
            value,
            x,
            y,
            label=f"{name}  {shape_str(t.value.shape)}",
            colour_of=lambda c, t=t: 0 if t.requires_grad else None,
            attrs_of=lambda c, t=t: {
                "data-requires-grad": str(t.requires_grad),
                "data-grad-fn": str(t.grad_fn),
                "data-saved-by": ",".join(t.saved_by),
            },
        )
        top = min(c.y for c in cells.values()) if cells else y + LABEL_H
        bottom = max(c.y + c.h for c in cells.values()) if cells else top + CELL_H
        right = max(c.x + c.w for c in cells.values()) if cells else x + MIN_CELL_W
        if t.saved_by:
            fig._parts.append(
                f'<rect x="{x - 4:g}" y="{top - 4:g}" width="{right - x + 8:g}" '
                f'height="{bottom - top + 8:g}" rx="6" fill="none" stroke="{saved_colour}" '
                f'stroke-width="2.2" stroke-dasharray="6 3" data-saved-tensor="{escape(name)}" '
                f'data-saved-by="{escape(",".join(t.saved_by))}"/>'
            )
            fig.text(
                x,
                bottom + 17,
                "saved by " + ", ".join(t.saved_by),
                size=11,
                colour=saved_colour,
                mono=True,
            )
        drawn[name] = cells
        anchor[name] = (
            cells[max(cells)] if cells else Cell(name, (), x, top, 0, CELL_H, "", *NEUTRAL)
        )
        y = bottom + GRAPH_ROW_GAP + (14 if t.saved_by else 0)

    for k, op in enumerate(trace.ops):
        for name in op.inputs:
            if name not in drawn:
                draw_tensor(name, left)
        # the box sits on the row of its last input, right of every input it reads
        last = anchor[op.inputs[-1]] if op.inputs else None
        box_x = max((anchor[n].x + anchor[n].w for n in op.inputs), default=left) + GRAPH_STEP
        box_y = (last.y + last.h / 2 - OP_BOX_H / 2) if last is not None else y
        box = _op_box(fig, f"{op.op}#{k}", op.op, op.grad_fn, box_x, box_y)
        for name in dict.fromkeys(op.inputs):
            a = anchor[name]  # leave from the right edge of the tensor's last cell
            fig.arrow(
                Cell(a.tensor, a.coord, a.x + a.w, a.y, 0, a.h, "", "", ""), box, colour=MUTED
            )
        below = Cell(box.tensor, (), box.x + box.w / 2, box.y + box.h, 0, 0, "", "", "")
        if last is None:
            y = box_y + OP_BOX_H + GRAPH_ROW_GAP
        for name in op.outputs:
            if name not in drawn:
                y = max(y, box_y + OP_BOX_H + 8)
                draw_tensor(name, box_x + box.w / 2 + 28)
            target = drawn[name][min(drawn[name])] if drawn[name] else anchor[name]
            fig.arrow(below, target, colour=PALETTE[0][1] if op.grad_fn else MUTED)
    y = fig.height + 6
    legend = [
        (PALETTE[0], "requires_grad=True"),
        (NEUTRAL, "requires_grad=False"),
    ]
    x = left
    for (fill, stroke), text in legend:
        fig._parts.append(
            f'<rect x="{x:g}" y="{y:g}" width="14" height="14" rx="3" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="1.2"/>'
        )
        fig.text(x + 20, y + 11, text, size=12)
        x += 20 + len(text) * 7.5 + 22
    fig._parts.append(
        f'<rect x="{x:g}" y="{y:g}" width="14" height="14" rx="3" fill="none" '
        f'stroke="{saved_colour}" stroke-width="2.2" stroke-dasharray="4 2"/>'
    )
    fig.text(x + 20, y + 11, "saved for backward", size=12)
    return fig
