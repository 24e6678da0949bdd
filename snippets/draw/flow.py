"""The layout that gather, take_along_dim and argmax share: a source grid on the left, a target
grid on the right, and an arrow from the source cell of every target cell. Internal to
``snippets.draw`` (``__all__`` is empty).

Arrows never cross a number. Both grids leave a gutter above and below every row; an arrow
leaves its source cell through the bottom edge, runs right in the gutter under its row (one
lane per source column), crosses the gap between the grids, runs in the gutter above its
target's row (one lane per target column) and enters the target cell through its top edge.
"""

from __future__ import annotations

from snippets.draw.canvas import (
    LABEL_FONT,
    MIN_CELL_W,
    MUTED,
    PALETTE,
    TITLE_FONT,
    Cell,
    Link,
    Panel,
    bottom_edge,
    right_edge,
    text_width,
)

MAX_ARROWS = 32  # more than this: no arrows, the colours alone show the sources
MAX_LANES = 6  # more columns than this: no arrows (the lanes would be too close)
LANE = 4.0  # between two lanes of a gutter
GAP = 64.0  # between the source grid and the target grid
MARGIN = 8.0


def _gutter(columns: int) -> float:
    return LANE * (columns + 1)


def flow_panel(
    panel: Panel,
    *,
    source: tuple[str, object, str],
    target: tuple[str, object, str],
    source_colour,
    target_colour,
    sources: dict[tuple[int, ...], tuple[int, ...]],
    arrow_colour,
    arrows: bool,
    slice_name: str | None = None,
) -> tuple[dict[tuple[int, ...], Cell], dict[tuple[int, ...], Cell]]:
    """Draw ``source = (name, tensor, label)`` and ``target`` side by side on ``panel`` and an
    arrow from cell ``sources[p]`` of the source to cell ``p`` of the target, coloured
    ``arrow_colour(p)``. Returns (source cells, target cells)."""
    s_name, s_tensor, s_label = source
    t_name, t_tensor, t_label = target
    s_cols = s_tensor.size(-1) if s_tensor.dim() else 1
    t_cols = t_tensor.size(-1) if t_tensor.dim() else 1
    draw_arrows = arrows and 0 < len(sources) <= MAX_ARROWS and max(s_cols, t_cols) <= MAX_LANES
    s_gutter = _gutter(s_cols) if draw_arrows else 0.0
    t_gutter = _gutter(t_cols) if draw_arrows else 0.0
    left = MARGIN + (28.0 if s_tensor.dim() == 3 else 0.0)  # room for the slice labels
    top = 10.0
    inputs = panel.grid(
        s_name,
        s_tensor,
        left,
        top,
        label=s_label,
        colour_of=source_colour,
        gutter=s_gutter,
        slice_name=slice_name,
    )
    in_right = right_edge(inputs, left + MIN_CELL_W)
    out_left = max(in_right + GAP, label_right(left, s_label) + 16)
    outputs = panel.grid(
        t_name,
        t_tensor,
        out_left,
        top,
        label=t_label,
        colour_of=target_colour,
        gutter=t_gutter,
        slice_labels="right",
    )
    for coord, cell in outputs.items():
        cell.source = sources[coord]
    if draw_arrows:
        for coord, cell in outputs.items():
            _route(
                panel,
                inputs[cell.source],
                cell,
                in_right,
                out_left,
                s_cols,
                t_cols,
                arrow_colour(coord),
            )
    elif arrows and sources:
        below = max(bottom_edge(inputs, top), bottom_edge(outputs, top)) + 18
        panel.text(
            left, below, "colours show where each cell came from", size=LABEL_FONT, colour=MUTED
        )
    return inputs, outputs


def _route(
    panel: Panel,
    src: Cell,
    dst: Cell,
    src_right: float,
    dst_left: float,
    s_cols: int,
    t_cols: int,
    colour: str,
) -> None:
    """One arrow from ``src`` to ``dst`` through the gutters (see the module docstring)."""
    s_col = src.coord[-1] if src.coord else 0
    t_col = dst.coord[-1] if dst.coord else 0
    x0, y0 = src.x + src.w / 2, src.y + src.h
    lane0 = y0 + (s_cols - s_col) * LANE  # later columns closer to the row: fewer crossings
    x1, y1 = dst.x + dst.w / 2, dst.y
    lane1 = y1 - (t_col + 1) * LANE  # later columns further from the row
    a, b = src_right + 6, dst_left - 6
    bend = (b - a) * 0.5
    panel.path(
        [
            ("M", (x0, y0)),
            ("L", (x0, lane0)),
            ("L", (a, lane0)),
            ("C", (a + bend, lane0, b - bend, lane1, b, lane1)),
            ("L", (x1, lane1)),
            ("L", (x1, y1 - 5)),
        ],
        stroke=colour,
        stroke_width=1.6,
        data={
            "from": f"{src.tensor}:{','.join(map(str, src.coord))}",
            "to": f"{dst.tensor}:{','.join(map(str, dst.coord))}",
        },
    )
    panel.circle(x0, y0, 2.6, fill=colour)
    panel.arrowhead(x1, y1, "down", colour)
    panel.links.append(Link((src.tensor, src.coord), (dst.tensor, dst.coord), colour))


def palette_stroke(number: int) -> str:
    return PALETTE[number % len(PALETTE)][1]


def label_right(x: float, label: str) -> float:
    """Where a grid title starting at ``x`` ends."""
    return x + text_width(label, TITLE_FONT)


__all__ = []
