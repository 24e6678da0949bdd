"""``torch.gather`` drawn: input -> output with an arrow per output cell, and the index."""

from __future__ import annotations

import torch

from snippets.draw.canvas import Figure, check_flag, cpu_values, refuse_meta, values_str
from snippets.draw.flow import flow_panel, palette_stroke
from snippets.indexing import _check_gather_args, _gather_sources
from snippets.validate import shape_str


def rule_text(ndim: int, dim: int, index: str = "index", input: str = "input") -> str:
    """``out[i][j] = input[i][index[i][j]]`` for ``ndim`` dims, gathering along ``dim``."""
    letters = "ijk"[:ndim]
    out = "".join(f"[{c}]" for c in letters)
    src = "".join(f"[{index}{out}]" if d == dim else f"[{c}]" for d, c in enumerate(letters))
    return f"out{out} = {input}{src}"


def gather(input: torch.Tensor, dim: int, index: torch.Tensor, *, arrows: bool = True) -> Figure:
    """Draw ``torch.gather(input, dim, index)``: input, output and index, and where each output
    cell came from.

    Colours follow the coordinate along ``dim``: an input cell is coloured by its own position
    along ``dim``, an index cell by the value it holds, and an output cell by the input cell it
    was copied from, so matching colours are the rule. An arrow runs from that input cell to
    each output cell (left out when ``arrows=False``, when there are more than 32, or more than
    6 columns). Two panels: input -> output, and index.

    >>> fig = gather(torch.tensor([[10, 20, 30], [40, 50, 60]]), 1, torch.tensor([[0, 2], [1, 0]]))
    >>> fig.cell("output", (0, 1)).text, fig.cell("output", (0, 1)).source
    ('30', (0, 2))
    >>> fig.description
    'gather along dim 1: out[i][j] = input[i][index[i][j]]; input (2, 3) = [[10, 20, 30], [40, 50, 60]], index (2, 2) = [[0, 2], [1, 0]], output (2, 2) = [[10, 30], [50, 40]]'
    """
    refuse_meta(input=input, index=index)
    check_flag(arrows, "arrows")
    dim = _check_gather_args(input, dim, index)
    if input.dim() == 0:
        raise ValueError("draw.gather needs input with at least 1 dim, got a 0-d tensor")
    if input.dim() > 3:
        raise ValueError(
            f"draw.gather draws tensors of up to 3 dims; input has shape {shape_str(input.shape)}"
        )
    x, idx = cpu_values(input, "input"), cpu_values(index, "index")
    out = torch.gather(x, dim, idx)
    sources = _gather_sources(idx, dim)
    rule = rule_text(x.dim(), dim)
    fig = Figure(
        title=f"torch.gather(input, dim={dim}, index)",
        description=f"gather along dim {dim}: {rule}; input {shape_str(x.shape)} = "
        f"{values_str(x)}, index {shape_str(idx.shape)} = {values_str(idx)}, output "
        f"{shape_str(out.shape)} = {values_str(out)}",
        caption=f"{rule}    (dim={dim}; out.shape == index.shape)",
    )
    main = fig.panel(
        f"input {shape_str(x.shape)} and output {shape_str(out.shape)}: an arrow from the input "
        f"cell each output cell copies, {rule}; matching colours show the same source"
    )
    src_of = {p: tuple(int(v) for v in sources[p].tolist()) for p in _positions(idx)}
    flow_panel(
        main,
        source=("input", x, f"input  {shape_str(x.shape)}"),
        target=("output", out, f"output  {shape_str(out.shape)}"),
        source_colour=lambda c: c[dim],
        target_colour=lambda c: int(idx[c]),
        sources=src_of,
        arrow_colour=lambda c: palette_stroke(int(idx[c])),
        arrows=arrows,
    )
    side = fig.panel(
        f"index {shape_str(idx.shape)}: each cell holds the position along dim {dim} that the "
        "output cell at the same place reads, coloured like that input position"
    )
    side.grid("index", idx, 12, 10, colour_of=lambda c: int(idx[c]))
    return fig


def _positions(t: torch.Tensor):
    import itertools

    return itertools.product(*(range(s) for s in t.shape))
