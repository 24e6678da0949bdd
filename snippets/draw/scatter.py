"""``scatter`` / ``scatter_add`` drawn: src -> output with an arrow per index cell, gather's
picture turned around."""

from __future__ import annotations

import itertools

import torch

from snippets.draw.canvas import (
    LABEL_FONT,
    MIN_CELL_W,
    MUTED,
    Figure,
    bottom_edge,
    check_flag,
    cpu_values,
    refuse_meta,
    right_edge,
    values_str,
)
from snippets.draw.flow import (
    GAP,
    MARGIN,
    MAX_ARROWS,
    MAX_LANES,
    _gutter,
    _route,
    label_right,
    palette_stroke,
)
from snippets.validate import shape_str

REDUCES = (None, "sum")


def rule_text(ndim: int, dim: int, reduce: str | None = None) -> str:
    """``out[i][index[i][j]] = src[i][j]`` for ``ndim`` dims, scattering along ``dim``."""
    letters = "ijk"[:ndim]
    src = "".join(f"[{c}]" for c in letters)
    out = "".join(f"[index{src}]" if d == dim else f"[{c}]" for d, c in enumerate(letters))
    return f"out{out} {'+=' if reduce == 'sum' else '='} src{src}"


def _positions(shape: torch.Size):
    return itertools.product(*(range(s) for s in shape))


def scatter(
    input: torch.Tensor,
    dim: int,
    index: torch.Tensor,
    src: torch.Tensor,
    *,
    reduce: str | None = None,
    arrows: bool = True,
) -> Figure:
    """Draw ``input.scatter(dim, index, src)`` (``reduce="sum"``: ``scatter_add``).

    Colours follow the coordinate along ``dim`` of the *output*: an output cell is coloured by
    its own position along ``dim`` when something is written to it (a cell nothing writes keeps
    input's value and is drawn faded, with a dashed border), an index cell by the value it holds,
    and a src cell by the output position it is written to, so matching colours are the rule.
    An arrow runs from each src cell that ``index`` covers to the output cell it lands in (left
    out when ``arrows=False``, past 32 arrows or 6 columns); src cells outside ``index``'s
    shape are never read and are drawn faded. With ``reduce=None`` two index cells that name one
    output cell are refused: PyTorch leaves unspecified which value lands there.

    >>> fig = scatter(torch.zeros(2, 3, dtype=torch.long), 1, torch.tensor([[2, 0], [1, 2]]),
    ...               torch.tensor([[10, 20], [30, 40]]))
    >>> fig.cell("output", (0, 2)).text, fig.cell("output", (0, 2)).source
    ('10', (0, 0))
    >>> fig.cell("output", (0, 1)).text, fig.cell("output", (0, 1)).source
    ('0', None)
    """
    from snippets.scatter import _check_scatter_args

    refuse_meta(input=input, index=index, src=src)
    check_flag(arrows, "arrows")
    if reduce not in REDUCES:
        raise ValueError(f"reduce must be None (scatter) or 'sum' (scatter_add), got {reduce!r}")
    dim = _check_scatter_args(input, dim, index, src, op="draw.scatter")
    if input.dim() == 0 or input.dim() > 3:
        raise ValueError(
            f"draw.scatter draws tensors of 1 to 3 dims; input has shape {shape_str(input.shape)}"
        )
    x, idx, s = cpu_values(input, "input"), cpu_values(index, "index"), cpu_values(src, "src")
    targets: dict[tuple[int, ...], list[tuple[int, ...]]] = {}
    for p in _positions(idx.shape):
        t = list(p)
        t[dim] = int(idx[p])
        targets.setdefault(tuple(t), []).append(p)
    if reduce is None:
        twice = next(((t, ps) for t, ps in targets.items() if len(ps) > 1), None)
        if twice is not None:
            raise ValueError(
                f"index cells {twice[1][0]} and {twice[1][1]} both write output cell {twice[0]}: "
                "plain scatter leaves unspecified which value lands there, so there is nothing "
                "to draw; draw reduce='sum' (scatter_add) instead"
            )
        out = x.scatter(dim, idx, s)
    else:
        out = x.scatter_add(dim, idx, s)
    rule = rule_text(x.dim(), dim, reduce)
    op = "scatter_add" if reduce == "sum" else "scatter"
    fig = Figure(
        title=f"input.{op}(dim={dim}, index, src)",
        description=f"{op} along dim {dim}: {rule}; input {shape_str(x.shape)} = {values_str(x)}, "
        f"index {shape_str(idx.shape)} = {values_str(idx)}, src {shape_str(s.shape)} = "
        f"{values_str(s)}, output {shape_str(out.shape)} = {values_str(out)}",
        caption=f"{rule}    (dim={dim}; out.shape == input.shape; cells no index names keep "
        "input's value)",
    )
    main = fig.panel(
        f"src {shape_str(s.shape)} and output {shape_str(out.shape)}: an arrow from each src "
        f"cell to the output cell it is written to, {rule}; matching colours show the same "
        "place; faded output cells keep input's value"
    )
    covered = set(_positions(idx.shape))
    dest = {p: t for t, ps in targets.items() for p in ps}
    s_cols = s.size(-1)
    t_cols = out.size(-1)
    n_arrows = len(covered)
    draw_arrows = arrows and 0 < n_arrows <= MAX_ARROWS and max(s_cols, t_cols) <= MAX_LANES
    s_gutter = _gutter(s_cols) if draw_arrows else 0.0
    t_gutter = _gutter(t_cols) if draw_arrows else 0.0
    left = MARGIN + (28.0 if s.dim() == 3 else 0.0)
    top = 10.0
    s_label = f"src  {shape_str(s.shape)}"
    src_cells = main.grid(
        "src",
        s,
        left,
        top,
        label=s_label,
        colour_of=lambda c: int(idx[c]) if c in covered else None,
        faded_of=lambda c: c not in covered,
        gutter=s_gutter,
    )
    in_right = right_edge(src_cells, left + MIN_CELL_W)
    out_left = max(in_right + GAP, label_right(left, s_label) + 16)
    out_cells = main.grid(
        "output",
        out,
        out_left,
        top,
        label=f"output  {shape_str(out.shape)}",
        colour_of=lambda c: c[dim] if c in targets else None,
        faded_of=lambda c: c not in targets,
        attrs_of=lambda c: {
            "written-by": ";".join(",".join(map(str, p)) for p in targets.get(c, []))
        },
        gutter=t_gutter,
        slice_labels="right",
    )
    for t, ps in targets.items():
        if len(ps) == 1:
            out_cells[t].source = ps[0]
    if draw_arrows:
        for p in sorted(covered):
            _route(main, src_cells[p], out_cells[dest[p]], in_right, out_left, s_cols, t_cols,
                   palette_stroke(int(idx[p])))  # fmt: skip
    elif arrows and covered:
        below = max(bottom_edge(src_cells, top), bottom_edge(out_cells, top)) + 18
        main.text(left, below, "colours show where each cell goes", size=LABEL_FONT,
                  colour=MUTED)  # fmt: skip
    side = fig.panel(
        f"index {shape_str(idx.shape)}: each cell holds the position along dim {dim} of the output "
        f"cell that src's cell at the same place is written to; input {shape_str(x.shape)}: the "
        "values the output starts from"
    )
    side_left = 12 + (28.0 if x.dim() == 3 else 0.0)  # room for the slice labels
    cells = side.grid("index", idx, side_left, 10, colour_of=lambda c: int(idx[c]))
    side.grid("input", x, side_left, bottom_edge(cells, 10) + 18, colour_of=lambda c: None)
    return fig
