"""``x[rows, cols]`` drawn: every output cell with an arrow from the element of ``x`` it reads,
and the index tensors broadcast to the output's shape."""

from __future__ import annotations

import itertools

import torch

from snippets.draw.canvas import (
    TITLE_FONT,
    Figure,
    check_flag,
    cpu_values,
    refuse_meta,
    right_edge,
    text_width,
    values_str,
)
from snippets.draw.flow import flow_panel, palette_stroke
from snippets.validate import shape_str


def advanced_index(
    x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, *, arrows: bool = True
) -> Figure:
    """Draw ``x[rows, cols]`` for a 2-D ``x`` and integer index tensors that broadcast together
    (to at most 2 dims).

    Two panels: ``x`` -> ``output``, with an arrow from the element each output cell reads,
    ``out[p] = x[rows_b[p]][cols_b[p]]``; and ``rows_b``, ``cols_b``, the index tensors
    broadcast to the output's shape. Each element of ``x`` that is read has its own colour,
    and the output cells that read it, and their entries in ``rows_b`` and ``cols_b``, share
    it. Negative index values count from the end. Arrows are left out when ``arrows=False``,
    past 32 arrows or 6 columns.

    >>> fig = advanced_index(torch.tensor([[10, 20, 30], [40, 50, 60]]),
    ...                      torch.tensor([1, 0]), torch.tensor([2, -1]))
    >>> fig.cell("output", (0,)).text, fig.cell("output", (0,)).source
    ('60', (1, 2))
    >>> fig.description
    'x[rows, cols]: out[p] = x[rows_b[p]][cols_b[p]]; x (2, 3) = [[10, 20, 30], [40, 50, 60]], rows (2,) = [1, 0], cols (2,) = [2, -1], output (2,) = [60, 30]'
    """
    from snippets.tensor_index import _index_sources, checked_index

    refuse_meta(x=x, rows=rows, cols=cols)
    check_flag(arrows, "arrows")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2:
        raise ValueError(f"x must have 2 dims, got shape {shape_str(x.shape)}")
    for name, t in (("rows", rows), ("cols", cols)):
        if not isinstance(t, torch.Tensor) or t.dtype == torch.bool:
            raise TypeError(f"{name} must be an integer tensor, got {_kind(t)}")
    checked_index(x, (rows, cols))  # names a bad dtype, a bad value, shapes that do not broadcast
    values, r, c = cpu_values(x, "x"), cpu_values(rows, "rows"), cpu_values(cols, "cols")
    out = values[r, c]
    if out.dim() > 2:
        raise ValueError(
            f"rows and cols broadcast to {shape_str(out.shape)}: the figure draws up to 2 dims"
        )
    r_b, c_b = torch.broadcast_tensors(r, c)
    sources = _index_sources(tuple(values.shape), (r, c))
    positions = list(itertools.product(*(range(s) for s in out.shape)))
    src_of = {p: tuple(int(v) for v in sources[p].tolist()) for p in positions}
    colour_of_source: dict[tuple[int, ...], int] = {}
    for p in positions:
        colour_of_source.setdefault(src_of[p], len(colour_of_source))
    rule = "out[p] = x[rows_b[p]][cols_b[p]]"
    fig = Figure(
        title="x[rows, cols]",
        description=f"x[rows, cols]: {rule}; x {shape_str(values.shape)} = {values_str(values)}, "
        f"rows {shape_str(r.shape)} = {values_str(r)}, cols {shape_str(c.shape)} = "
        f"{values_str(c)}, output {shape_str(out.shape)} = {values_str(out)}",
        caption=f"{rule}    (rows {shape_str(r.shape)} and cols {shape_str(c.shape)} "
        f"broadcast to {shape_str(out.shape)} = out.shape)",
    )
    main = fig.panel(
        f"x {shape_str(values.shape)} and output {shape_str(out.shape)}: an arrow from the "
        f"element of x each output cell reads, {rule}; matching colours show the same element"
    )
    flow_panel(
        main,
        source=("x", values, f"x  {shape_str(values.shape)}"),
        target=("output", out, f"output  {shape_str(out.shape)}"),
        source_colour=lambda q: colour_of_source.get(q),
        target_colour=lambda p: colour_of_source[src_of[p]],
        sources=src_of,
        arrow_colour=lambda p: palette_stroke(colour_of_source[src_of[p]]),
        arrows=arrows,
    )
    side = fig.panel(
        f"rows and cols broadcast to {shape_str(out.shape)}: rows_b = {values_str(r_b)}, "
        f"cols_b = {values_str(c_b)}; each pair (rows_b[p], cols_b[p]) is the element of x "
        "that output cell p reads, coloured like it"
    )
    left, top = 8.0, 10.0
    label_r = f"rows_b  {shape_str(r_b.shape)}"
    first = side.grid(
        "rows_b", r_b, left, top, label=label_r, colour_of=lambda p: colour_of_source[src_of[p]]
    )
    second_left = max(right_edge(first, left) + 24, left + text_width(label_r, TITLE_FONT) + 16)
    side.grid(
        "cols_b",
        c_b,
        second_left,
        top,
        label=f"cols_b  {shape_str(c_b.shape)}",
        colour_of=lambda p: colour_of_source[src_of[p]],
    )
    return fig


def _kind(t: object) -> str:
    if isinstance(t, torch.Tensor):
        return f"a {str(t.dtype).removeprefix('torch.')} tensor"
    return type(t).__name__
