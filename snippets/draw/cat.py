"""``torch.cat`` drawn: the inputs, and the output coloured by the input each cell came from."""

from __future__ import annotations

import itertools

import torch

from snippets.draw.canvas import Figure, bottom_edge, cpu_values, refuse_meta, values_str
from snippets.validate import shape_str


def cat(tensors: list[torch.Tensor] | tuple[torch.Tensor, ...], dim: int) -> Figure:
    """Draw ``torch.cat(tensors, dim)``: each input in its own colour, one under the other, and
    the output with every cell in the colour of the input it came from (``cell.source`` is
    ``(k, *coordinate in tensor k)``). Two panels: the inputs, and the output.

    >>> fig = cat([torch.tensor([[1, 2], [3, 4]]), torch.tensor([[5], [6]])], dim=1)
    >>> fig.cell("output", (1, 2)).text, fig.cell("output", (1, 2)).source
    ('6', (1, 1, 0))
    """
    from snippets.recipes import cat_shape

    if not isinstance(tensors, (list, tuple)) or not tensors:
        raise ValueError("tensors must be a non-empty list of tensors")
    for k, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"tensors[{k}] must be a torch.Tensor, got {type(t).__name__}")
        refuse_meta(**{f"tensors[{k}]": t})
    shape = cat_shape([tuple(t.shape) for t in tensors], dim)
    if not 1 <= len(shape) <= 2:
        raise ValueError(f"draw.cat draws 1-D and 2-D tensors; these have {len(shape)} dims")
    d = dim % len(shape)
    values = [cpu_values(t, f"tensors[{k}]") for k, t in enumerate(tensors)]
    out = torch.cat(values, dim=d)
    sources: dict[tuple[int, ...], tuple[int, ...]] = {}
    offset = 0
    for k, v in enumerate(values):
        for p in itertools.product(*(range(n) for n in v.shape)):
            q = list(p)
            q[d] += offset
            sources[tuple(q)] = (k, *p)
        offset += v.shape[d]
    names = ", ".join(f"t{k}" for k in range(len(values)))
    rule = f"torch.cat([{names}], dim={d}): sizes along dim {d} add up, the others are equal"
    fig = Figure(
        title=f"torch.cat([{names}], dim={d})",
        description=f"cat along dim {d}: "
        + ", ".join(f"t{k} {shape_str(v.shape)} = {values_str(v)}" for k, v in enumerate(values))
        + f", output {shape_str(out.shape)} = {values_str(out)}",
        caption=rule,
    )
    left = fig.panel(
        "the inputs, one colour each: "
        + ", ".join(f"t{k} {shape_str(v.shape)}" for k, v in enumerate(values))
    )
    top = 10.0
    for k, v in enumerate(values):
        cells = left.grid(f"t{k}", v, 12, top, colour_of=lambda c, k=k: k)
        top = bottom_edge(cells, top + 30) + 18
    right = fig.panel(
        f"output {shape_str(out.shape)}: each cell in the colour of the input it came from"
    )
    cells = right.grid("output", out, 12, 10, colour_of=lambda c: sources[c][0])
    for c, cell in cells.items():
        cell.source = sources[c]
    return fig
