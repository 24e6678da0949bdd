"""``torch.take_along_dim`` drawn as "broadcast the indices (and the input), then gather"."""

from __future__ import annotations

import itertools

import torch

from snippets.draw.canvas import (
    INK,
    LABEL_FONT,
    MIN_CELL_W,
    MUTED,
    Figure,
    bottom_edge,
    check_flag,
    cpu_values,
    grid_label_height,
    refuse_meta,
    right_edge,
    values_str,
)
from snippets.draw.flow import flow_panel, label_right, palette_stroke
from snippets.validate import shape_str


def take_along_dim(
    input: torch.Tensor, indices: torch.Tensor, dim: int, *, arrows: bool = True
) -> Figure:
    """Draw ``torch.take_along_dim(input, indices, dim)`` as broadcast, then gather.

    Two panels: ``input`` -> ``output`` with an arrow from the input cell each output cell was
    read from (several arrows leave one input cell when a size-1 input dim is stretched), and
    the ``indices`` as given -> the indices broadcast to the output's shape (``indices_b``). In
    ``indices_b`` a cell that is a stretched copy has a dashed border (its ``data-copy-of``
    attribute names the cell it copies). Colours follow the coordinate along ``dim``, as in
    ``gather``. Arrows are left out when ``arrows=False``, past 32 arrows or 6 columns.

    >>> fig = take_along_dim(torch.tensor([[10, 20, 30], [40, 50, 60]]), torch.tensor([[2, 0]]), 1)
    >>> fig.cell("output", (1, 0)).text, fig.cell("output", (1, 0)).source
    ('60', (1, 2))
    >>> 'data-copy="indices_b:1,0" data-copy-of="indices:0,0"' in fig.svg()
    True
    """
    from snippets.indexing import (
        _broadcast_along_dim,
        _check_take_along_dim_args,
        _take_along_dim_sources,
    )

    if dim is None:
        raise ValueError(
            "draw.take_along_dim needs a dim; with dim=None take_along_dim is a gather along "
            "dim 0 of the flattened tensors: draw.gather(input.reshape(-1), 0, indices.reshape(-1))"
        )
    refuse_meta(input=input, indices=indices)
    check_flag(arrows, "arrows")
    dim = _check_take_along_dim_args(input, indices, dim)
    if input.dim() > 3:
        raise ValueError(
            f"draw.take_along_dim draws tensors of up to 3 dims; input has shape "
            f"{shape_str(input.shape)}"
        )
    x, idx = cpu_values(input, "input"), cpu_values(indices, "indices")
    input_b, idx_b = _broadcast_along_dim(x, idx, dim)
    out = torch.take_along_dim(x, idx, dim)
    sources = _take_along_dim_sources(x, idx, dim)
    letters = "ijk"[: x.dim()]
    pos = "".join(f"[{c}]" for c in letters)
    src = "".join(f"[indices_b{pos}]" if d == dim else f"[{c}]" for d, c in enumerate(letters))
    rule = f"out{pos} = input_b{src}"
    stretch = (
        f"indices {shape_str(idx.shape)} → {shape_str(idx_b.shape)}, "
        f"input {shape_str(x.shape)} → {shape_str(input_b.shape)}"
    )
    fig = Figure(
        title=f"torch.take_along_dim(input, indices, dim={dim})",
        description=f"take_along_dim along dim {dim}: broadcast away from dim {dim} "
        f"({stretch.replace('→', 'to')}), then gather: {rule}; input {shape_str(x.shape)} = "
        f"{values_str(x)}, indices {shape_str(idx.shape)} = {values_str(idx)}, output "
        f"{shape_str(out.shape)} = {values_str(out)}",
        caption=f"{rule}    (dim={dim}; {stretch})",
    )
    main = fig.panel(
        f"input {shape_str(x.shape)} and output {shape_str(out.shape)}: an arrow from the input "
        f"cell each output cell reads, {rule}"
    )
    src_of = {
        p: tuple(int(v) for v in sources[p].tolist())
        for p in itertools.product(*(range(s) for s in out.shape))
    }
    inputs, _ = flow_panel(
        main,
        source=("input", x, f"input  {shape_str(x.shape)}"),
        target=("output", out, f"output  {shape_str(out.shape)}"),
        source_colour=lambda c: c[dim],
        target_colour=lambda c: int(idx_b[c]),
        sources=src_of,
        arrow_colour=lambda c: palette_stroke(int(idx_b[c])),
        arrows=arrows,
    )
    if tuple(input_b.shape) != tuple(x.shape):
        left = min((c.x for c in inputs.values()), default=12.0)
        below = max(main.height, bottom_edge(inputs, 0) + 8) + 10
        main.text(
            left, below, f"input read as {shape_str(input_b.shape)}", size=LABEL_FONT, colour=MUTED
        )

    side = fig.panel(
        f"indices {shape_str(idx.shape)} = {values_str(idx)}, broadcast to "
        f"{shape_str(idx_b.shape)}; dashed cells are copies made by broadcasting"
    )
    left, top = 12.0 + (28.0 if idx.dim() == 3 else 0.0), 10.0
    given = side.grid("indices", idx, left, top, colour_of=lambda c: int(idx[c]))
    b_left = max(
        right_edge(given, left + MIN_CELL_W) + 76,
        label_right(left, f"indices  {shape_str(idx.shape)}") + 20,
    )
    stretched = side.grid(
        "indices_b",
        idx_b,
        b_left,
        top,
        label=shape_str(idx_b.shape),
        colour_of=lambda c: int(idx_b[c]),
        slice_labels="right",
    )
    copies = 0
    for coord, cell in stretched.items():
        original = tuple(0 if idx.size(d) == 1 else c for d, c in enumerate(coord))
        if original != coord:
            side.rect(
                cell.x + 2,
                cell.y + 2,
                cell.w - 4,
                cell.h - 4,
                rx=2,
                stroke=INK,
                stroke_width=1,
                dash="3 2",
                data={
                    "copy": f"indices_b:{','.join(map(str, coord))}",
                    "copy-of": f"indices:{','.join(map(str, original))}",
                },
            )
            copies += 1
    y = top + grid_label_height(idx.dim()) + 15
    x0, x1 = right_edge(given, left + MIN_CELL_W) + 10, b_left - 10
    side.path([("M", (x0, y)), ("L", (x1 - 8, y))], stroke=MUTED, stroke_width=2.2)
    side.arrowhead(x1, y, "right", MUTED, size=9)
    side.text((x0 + x1) / 2, y - 9, "broadcast", size=LABEL_FONT, anchor="middle", colour=MUTED)
    below = max(bottom_edge(stretched, top), bottom_edge(given, top)) + 18
    legend = "dashed: a copy made by broadcasting" if copies else "nothing to stretch"
    side.text(left, below, legend, size=LABEL_FONT, colour=MUTED)
    return fig
