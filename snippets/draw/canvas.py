"""The canvas every figure is drawn on: SVG panels with ``rect``, ``path``, ``circle`` and
``text`` primitives, the palette, a text-width model, and tensors drawn as grids of cells.

A ``Figure`` is one or more panels (``Panel``), each its own SVG. In a notebook or the book
the panels sit side by side in a wrapping row (``_repr_html_``), so on a narrow screen they
stack instead of shrinking; ``svg()`` puts them side by side in one SVG document (for ``save`` and for
viewers that show only images). Every panel and the whole figure carry alt text generated from
the tensors drawn (``role="img"``, ``aria-label`` and ``<title>``). Nothing depends on the run:
the same tensors give the same bytes on every machine and device.

>>> fig = Figure("two cells", "x holds 1 and 2")
>>> p = fig.panel("the tensor x")
>>> _ = p.grid("x", torch.tensor([1, 2]), 10, 10)
>>> [c.text for c in fig.cells("x").values()]
['1', '2']
>>> p.svg().startswith('<svg xmlns="http://www.w3.org/2000/svg"')
True
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from html import escape

import torch

from snippets.validate import check_bool, shape_str

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
MUTED = "#5c636a"  # 6:1 contrast on white
BACKGROUND = "#ffffff"
MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace"
SANS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"

MIN_FONT = 11  # no text is drawn smaller (CSS px at the panel's natural size)
CELL_H = 30
MIN_CELL_W = 34
CELL_FONT = 13
CHAR_W = 8  # one 13 px monospace character, rounded up
SLICE_GAP = 26
TITLE_FONT = 13
LABEL_FONT = 11  # column numbers, slice labels, notes
PANEL_GAP = 12  # between panels in the HTML row (CSS px)
# Advance of one character, as a fraction of the font size: monospace fonts are 0.6 em
# (DejaVu Sans Mono 0.602); for sans-serif text 0.62 em is an upper bound on average text.
MONO_ADVANCE = 0.61
SANS_ADVANCE = 0.62
ASCENT, DESCENT = 0.8, 0.25  # of the font size, above and below the baseline


def format_value(v: object) -> str:
    """How a cell shows a value: ints as they are, floats with up to 2 decimals, bools as T/F.

    >>> [format_value(v) for v in (3, -0.5, 1.23456, True, float("nan"))]
    ['3', '-0.5', '1.23', 'T', 'nan']
    """
    if isinstance(v, bool):
        return "T" if v else "F"
    if not isinstance(v, int | float | complex):
        raise TypeError(f"v must be a number (a tensor element), got {type(v).__name__}")
    if isinstance(v, float):
        if v != v:
            return "nan"
        text = f"{v:.2f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text
    return str(v)


def text_width(content: str, size: float, *, mono: bool = False) -> float:
    """The width the layout reserves for ``content`` at font ``size`` (an upper bound).

    >>> text_width("out", 10, mono=True)
    18.3
    """
    if not isinstance(content, str):
        raise TypeError(f"content must be a str, got {type(content).__name__}")
    if isinstance(size, bool) or not isinstance(size, int | float) or size <= 0:
        raise ValueError(f"size must be positive (a font size in px), got {size!r}")
    return round(len(content) * size * (MONO_ADVANCE if mono else SANS_ADVANCE), 2)


def text_box(
    x: float, y: float, content: str, size: float, anchor: str = "start", *, mono: bool = False
) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` of a text element with its baseline at ``(x, y)``."""
    w = text_width(content, size, mono=mono)
    left = {"start": x, "middle": x - w / 2, "end": x - w}[anchor]
    return left, y - ASCENT * size, left + w, y + DESCENT * size


def values_str(t: torch.Tensor, limit: int = 12) -> str:
    """The values of a small tensor for alt text, e.g. ``[[10, 20], [30, 40]]``; a larger one
    is described by its shape only."""
    if t.numel() > limit:
        return f"{t.numel()} values"
    return str(_nested(t.detach().cpu()))


def _nested(t: torch.Tensor):
    if t.dim() == 0:
        return _Raw(format_value(t.item()))
    return [_nested(s) for s in t]


class _Raw(str):
    def __repr__(self) -> str:
        return str(self)


def _coord_attr(coord: tuple[int, ...]) -> str:
    return ",".join(map(str, coord))


def _num(v: float) -> str:
    return f"{round(v, 2):g}"


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


@dataclass(repr=False)
class Panel:
    """One SVG: a canvas that grows to fit what is drawn on it. ``alt`` is its alt text."""

    alt: str
    own_row: bool = False  # shown alone on its row (the next panel starts a new row)
    width: float = 0.0
    height: float = 0.0
    cells: dict[str, dict[tuple[int, ...], Cell]] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    # each drawn element as a function of the panel's offset (dx, dy) in a larger SVG
    _shapes: list = field(default_factory=list)
    _texts: list = field(default_factory=list)

    def grow(self, x: float, y: float) -> None:
        """Make room up to ``(x, y)`` (plus a margin)."""
        self.width = max(self.width, x + 8)
        self.height = max(self.height, y + 10)

    # --- primitives -------------------------------------------------------------------------

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str = "none",
        stroke: str | None = None,
        stroke_width: float = 1.2,
        rx: float = 3,
        dash: str | None = None,
        opacity: float | None = None,
        data: dict[str, object] | None = None,
    ) -> None:
        """A rectangle; ``data`` becomes ``data-*`` attributes (``{"tensor": "x"}``)."""
        attrs = f'width="{_num(w)}" height="{_num(h)}" rx="{rx:g}" fill="{fill}"'
        if stroke:
            attrs += f' stroke="{stroke}" stroke-width="{stroke_width:g}"'
        if opacity is not None:
            attrs += f' fill-opacity="{opacity:g}"'
        if dash:
            attrs += f' stroke-dasharray="{dash}"'
        attrs += _data(data)
        self._shapes.append(lambda dx, dy: f'<rect x="{_num(x + dx)}" y="{_num(y + dy)}" {attrs}/>')
        self.grow(x + w, y + h)

    def path(
        self,
        d: list[tuple[str, tuple[float, ...]]],
        *,
        stroke: str | None = None,
        fill: str = "none",
        stroke_width: float = 1.6,
        data: dict[str, object] | None = None,
    ) -> None:
        """A path from commands ``[("M", (x, y)), ("C", (x1, y1, x2, y2, x, y)), ("L", ...),
        ("Z", ())]``."""
        d = [(cmd, tuple(args)) for cmd, args in d]
        attrs = f'fill="{fill}"'
        if stroke:
            attrs += f' stroke="{stroke}" stroke-width="{stroke_width:g}"'
        attrs += _data(data)

        def draw(dx: float, dy: float) -> str:
            text = " ".join(
                cmd + " ".join(_num(v + (dx if k % 2 == 0 else dy)) for k, v in enumerate(args))
                for cmd, args in d
            )
            return f'<path d="{text}" {attrs}/>'

        self._shapes.append(draw)
        points = [args[i : i + 2] for _, args in d for i in range(0, len(args), 2)]
        for px, py in points:
            self.grow(px, py)

    def circle(
        self, x: float, y: float, r: float, *, fill: str, data: dict[str, object] | None = None
    ) -> None:
        attrs = f'r="{r:g}" fill="{fill}"{_data(data)}'
        self._shapes.append(
            lambda dx, dy: f'<circle cx="{_num(x + dx)}" cy="{_num(y + dy)}" {attrs}/>'
        )
        self.grow(x + r, y + r)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: int = CELL_FONT,
        anchor: str = "start",
        colour: str = INK,
        mono: bool = False,
        weight: str = "normal",
    ) -> tuple[float, float, float, float]:
        """Write ``content`` with its baseline at (x, y), above every shape. Returns its box."""
        if size < MIN_FONT:
            raise ValueError(f"size must be at least {MIN_FONT} px, got {size}")
        family = MONO if mono else SANS
        weight_attr = f' font-weight="{weight}"' if weight != "normal" else ""
        rest = (
            f'font-size="{size}" text-anchor="{anchor}" font-family="{family}"{weight_attr} '
            f'fill="{colour}">{escape(content)}</text>'
        )
        self._texts.append(lambda dx, dy: f'<text x="{_num(x + dx)}" y="{_num(y + dy)}" {rest}')
        box = text_box(x, y, content, size, anchor, mono=mono)
        self.grow(box[2], box[3])
        return box

    def arrowhead(self, x: float, y: float, direction: str, colour: str, size: float = 6) -> None:
        """A filled triangle with its tip at ``(x, y)`` pointing ``"down"`` or ``"right"``."""
        if direction == "down":
            d = [
                ("M", (x, y)),
                ("L", (x - size * 0.6, y - size)),
                ("L", (x + size * 0.6, y - size)),
            ]
        else:
            d = [
                ("M", (x, y)),
                ("L", (x - size, y - size * 0.6)),
                ("L", (x - size, y + size * 0.6)),
            ]
        self.path([*d, ("Z", ())], fill=colour)

    # --- tensors ----------------------------------------------------------------------------

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
        gutter: float = 0.0,
        slice_labels: str = "left",
        slice_name: str | None = None,
    ) -> dict[tuple[int, ...], Cell]:
        """Draw ``tensor`` (0 to 3 dims) as cells under a title whose top is at ``y``.

        A 3-D tensor is drawn as its 2-D slices ``t[0]``, ``t[1]``, ... one under the other,
        labelled on the ``slice_labels`` side ("left" or "right") as ``[0]``, ``[1]``, ... or,
        with ``slice_name="x"``, as ``x[0]``, ``x[1]``, ... ``gutter`` leaves that much
        room above and below every row (for arrows to run in, clear of the numbers).
        ``colour_of(coord)`` returns a palette number (or None for a neutral cell);
        ``faded_of(coord)`` True draws the cell faded, with a dashed border (a copy that is not
        in memory); ``attrs_of(coord)`` returns extra ``data-*`` attributes, as a dict.
        Returns the cells by coordinate (also kept in ``self.cells[name]``).
        """
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(tensor).__name__}")
        if tensor.dim() > 3:
            raise ValueError(
                f"draw.grid draws tensors of up to 3 dims; {name} has shape "
                f"{shape_str(tensor.shape)}"
            )
        values = cpu_values(tensor, name)
        texts = {
            c: format_value(values[c].item())
            for c in itertools.product(*(range(s) for s in values.shape))
        }
        cell_w = max(
            [MIN_CELL_W] + [text_width(t, CELL_FONT, mono=True) + 14 for t in texts.values()]
        )
        cell_w = float(round(cell_w))
        slices, rows, cols = (1,) * (3 - values.dim()) + tuple(values.shape)
        self.text(
            x,
            y + TITLE_FONT,
            label if label is not None else f"{name}  {shape_str(values.shape)}",
            size=TITLE_FONT,
            weight="600",
        )
        top = y + grid_label_height(values.dim())
        if values.dim() >= 2:  # column numbers
            for j in range(cols):
                self.text(
                    x + j * cell_w + cell_w / 2,
                    top - 5,
                    str(j),
                    size=LABEL_FONT,
                    anchor="middle",
                    colour=MUTED,
                    mono=True,
                )
        cells: dict[tuple[int, ...], Cell] = {}
        for s in range(slices):
            first = top + gutter
            if values.dim() == 3:
                label_y = first + CELL_H / 2 + 4
                if slice_labels == "left":
                    sx, anchor = x - 6, "end"
                else:
                    sx, anchor = x + cols * cell_w + 6, "start"
                self.text(
                    sx,
                    label_y,
                    f"{slice_name or ''}[{s}]",
                    size=LABEL_FONT,
                    anchor=anchor,
                    mono=True,
                    colour=MUTED,
                )
            for i, j in itertools.product(range(rows), range(cols)):
                coord = ((s, i, j), (i, j), (j,), ())[3 - values.dim()]
                number = colour_of(coord) if colour_of is not None else None
                fill, stroke = NEUTRAL if number is None else PALETTE[number % len(PALETTE)]
                cells[coord] = Cell(
                    name,
                    coord,
                    x + j * cell_w,
                    first + i * (CELL_H + gutter),
                    cell_w,
                    CELL_H,
                    texts[coord],
                    fill,
                    stroke,
                )
            top = first + rows * (CELL_H + gutter) + (SLICE_GAP if s < slices - 1 else 0)
        for coord, cell in cells.items():
            faded = bool(faded_of(coord)) if faded_of is not None else False
            data = {"tensor": name, "coord": _coord_attr(coord)}
            if attrs_of is not None:
                data.update({k.removeprefix("data-"): v for k, v in attrs_of(coord).items()})
            self.rect(
                cell.x,
                cell.y,
                cell.w,
                cell.h,
                fill=cell.fill,
                stroke=cell.stroke,
                opacity=0.4 if faded else None,
                dash="4 3" if faded else None,
                data=data,
            )
            cx, cy = cell.centre
            self.text(
                cx, cy + 4.5, cell.text, anchor="middle", mono=True, colour=MUTED if faded else INK
            )
        self.grow(x + cols * cell_w, top)
        self.cells[name] = cells
        return cells

    def body(self, dx: float = 0.0, dy: float = 0.0) -> str:
        """The panel's background and elements, shifted by ``(dx, dy)``; text above shapes."""
        w, h = round(self.width), round(self.height)
        return (
            f'<rect x="{_num(dx)}" y="{_num(dy)}" width="{w}" height="{h}" rx="8" '
            f'fill="{BACKGROUND}"/>'
            + "".join(draw(dx, dy) for draw in self._shapes)
            + "".join(draw(dx, dy) for draw in self._texts)
        )

    def svg(self) -> str:
        """The panel as an SVG document of its natural size that shrinks to fit its box (CSS
        ``max-width: 100%``), with its alt text (``aria-label`` and ``<title>``)."""
        w, h = round(self.width), round(self.height)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" role="img" aria-label="{escape(self.alt)}" '
            f'style="max-width:100%;height:auto"><title>{escape(self.alt)}</title>'
            + self.body()
            + "</svg>"
        )


def _data(data: dict[str, object] | None) -> str:
    if not data:
        return ""
    return "".join(f' data-{k}="{escape(str(v))}"' for k, v in data.items())


def grid_label_height(ndim: int) -> float:
    """Room above a grid's first row for its title (and column numbers when 2-D or more)."""
    return TITLE_FONT + 10 + (16 if ndim >= 2 else 0)


def cpu_values(t: torch.Tensor, name: str) -> torch.Tensor:
    """``t`` detached on the CPU, to draw from; a meta tensor (no values) is refused."""
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.is_meta:
        raise ValueError(f"{name} is a meta tensor: it has no values to draw")
    return t.detach().cpu()


def check_flag(value: object, name: str) -> bool:
    """``value`` if it is a bool; otherwise a TypeError naming ``name``."""
    return check_bool(value, name)


def refuse_meta(**tensors: object) -> None:
    """A figure is drawn from values: a meta tensor (shape only) is refused by name."""
    for name, t in tensors.items():
        if isinstance(t, torch.Tensor) and t.is_meta:
            raise ValueError(f"{name} is a meta tensor: it has no values to draw")


def right_edge(cells: dict[tuple[int, ...], Cell], default: float) -> float:
    return max((c.x + c.w for c in cells.values()), default=default)


def bottom_edge(cells: dict[tuple[int, ...], Cell], default: float) -> float:
    return max((c.y + c.h for c in cells.values()), default=default)


@dataclass(repr=False)
class Figure:
    """A figure: a title, a description (both generated from the tensors: its alt text), one
    or more panels, and a caption line written under them.

    >>> fig = Figure("t", "a figure")
    >>> _ = fig.panel("a panel").grid("x", torch.tensor([[1, 2]]), 10, 10)
    >>> fig.cell("x", (0, 1)).text
    '2'
    """

    title: str
    description: str = ""
    caption: str = ""
    panels: list[Panel] = field(default_factory=list)

    def panel(self, alt: str, *, own_row: bool = False) -> Panel:
        """Start a new panel (its own SVG) with alt text ``alt``; ``own_row`` shows it alone on
        its row, above the panels that follow."""
        p = Panel(alt, own_row=own_row)
        self.panels.append(p)
        return p

    @property
    def links(self) -> list[Link]:
        return [link for p in self.panels for link in p.links]

    def cells(self, name: str) -> dict[tuple[int, ...], Cell]:
        """The cells drawn for the tensor called ``name``."""
        for p in self.panels:
            if name in p.cells:
                return p.cells[name]
        names = [n for p in self.panels for n in p.cells]
        raise KeyError(f"no tensor named {name!r} in this figure; it has {names}")

    def cell(self, name: str, coord: tuple[int, ...]) -> Cell:
        """One drawn cell of the tensor called ``name``."""
        return self.cells(name)[tuple(coord)]

    @property
    def alt(self) -> str:
        return f"{self.title}. {self.description}" if self.description else self.title

    def rows(self) -> list[list[Panel]]:
        """The panels, grouped into rows (a panel with ``own_row`` is a row of its own)."""
        rows: list[list[Panel]] = [[]]
        for p in self.panels:
            if p.own_row:
                rows += [[p], []]
            else:
                rows[-1].append(p)
        return [row for row in rows if row]

    def svg(self) -> str:
        """The whole figure as one SVG document: the panels side by side (row by row), the
        caption under them (deterministic: same input, same bytes)."""
        parts, height, w = [], 0.0, 0.0
        for row in self.rows():
            x = 0.0
            for p in row:
                parts.append(f'<g aria-label="{escape(p.alt)}">{p.body(x, height)}</g>')
                x += round(p.width) + PANEL_GAP
            w = max(w, x - PANEL_GAP)
            height += max(round(p.height) for p in row) + PANEL_GAP
        height = max(height - PANEL_GAP, 0)
        w = round(w)
        if self.caption:
            caption_w = text_width(self.caption, 13, mono=True) + 16
            w = max(w, round(caption_w))
            parts.append(
                f'<text x="8" y="{_num(height + 18)}" font-size="13" font-family="{MONO}" '
                f'fill="{INK}">{escape(self.caption)}</text>'
            )
            height += 28
        h = round(height)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" role="img" aria-label="{escape(self.alt)}">'
            f"<title>{escape(self.title)}</title><desc>{escape(self.description)}</desc>"
            f'<rect x="0" y="0" width="{w}" height="{h}" fill="{BACKGROUND}"/>'
            + "".join(parts)
            + "</svg>"
        )

    def html(self) -> str:
        """The figure for a notebook or web page: each panel its own SVG in a row that wraps
        (panels stack on a narrow screen), then the caption as text that wraps too."""
        caption = (
            f'<figcaption style="font-family:{escape(MONO)};font-size:13px;margin-top:4px;'
            f'text-align:left;color:{INK};overflow-wrap:anywhere">{escape(self.caption)}'
            "</figcaption>"
            if self.caption
            else ""
        )
        return (
            f'<figure class="tensor-figure" role="group" aria-label="{escape(self.alt)}" '
            'style="margin:0;max-width:100%">'
            + "".join(
                f'<div style="display:flex;flex-wrap:wrap;gap:{PANEL_GAP}px;'
                f'align-items:flex-start;margin-bottom:{PANEL_GAP}px">'
                + "".join(p.svg() for p in row)
                + "</div>"
                for row in self.rows()
            )
            + caption
            + "</figure>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def _repr_svg_(self) -> str:
        return self.svg()

    def __repr__(self) -> str:
        tensors = sum(len(p.cells) for p in self.panels)
        return f"<Figure {self.title!r}: {tensors} tensors, {len(self.links)} arrows>"

    def save(self, path: str) -> None:
        """Write the SVG to ``path``."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg())
