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

__all__ = ["PALETTE", "Cell", "Figure", "Link", "format_value", "gather"]

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
    ) -> dict[tuple[int, ...], Cell]:
        """Draw ``tensor`` (0 to 3 dims) as cells with their top-left corner at (x, y).

        A 3-D tensor is drawn as its 2-D slices ``t[0]``, ``t[1]``, ... one under the other.
        ``colour_of(coord)`` returns a palette number (or None for a neutral cell).
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
            self._parts.append(
                f'<rect x="{cell.x:g}" y="{cell.y:g}" width="{cell.w:g}" height="{cell.h:g}" '
                f'rx="3" fill="{cell.fill}" stroke="{cell.stroke}" stroke-width="1.2" '
                f'data-tensor="{escape(name)}" data-coord="{_coord_attr(coord)}"/>'
            )
            cx, cy = cell.centre
            self.text(cx, cy + 4.5, cell.text, anchor="middle", mono=True, halo=cell.fill)
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
    outputs = fig.grid("argmax", arg, arg_left, top, label=arg_label, colour_of=lambda c: int(arg[c]))
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
        for coord, cell in outputs.items():
            colour = PALETTE[int(arg[coord]) % len(PALETTE)][1]
            fig.arrow(inputs[cell.source], cell, colour=colour)
    fig.text(left, fig.height + 14, rule, size=13, mono=True, colour=INK)
    return fig
