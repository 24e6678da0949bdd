"""``x.argmax(dim)`` and ``argmax_coordinates(x, dim)`` drawn: the winners, the argmax with an
arrow from each winner, and the full coordinates."""

from __future__ import annotations

import itertools

import torch

from snippets.draw.canvas import (
    CELL_H,
    LABEL_FONT,
    MUTED,
    Figure,
    check_flag,
    cpu_values,
    grid_label_height,
    refuse_meta,
    text_width,
    values_str,
)
from snippets.draw.flow import flow_panel, palette_stroke
from snippets.validate import shape_str


def argmax_along(
    x: torch.Tensor, dim: int = 0, *, names: tuple[str, ...] | None = None, arrows: bool = True
) -> Figure:
    """Draw ``x.argmax(dim)`` and ``argmax_coordinates(x, dim)`` for a 2-D or 3-D ``x``.

    In ``x`` only the winning cell of each row along ``dim`` is coloured, by its own position
    along ``dim`` (the first one among ties; a NaN wins). The argmax cell it produced has the
    same colour, with an arrow from the winner (left out when ``arrows=False``, past 32 arrows
    or 6 columns). The coordinates table (its own panel) has one row per position of the
    argmax, in order, coloured the same way: the argmax supplies one coordinate, the position
    the others. ``names`` names the dims in the captions, e.g. ``("c", "h", "w")``.

    >>> x = torch.tensor([[[1, 7], [4, 2]],
    ...                   [[6, 0], [3, 5]]])
    >>> fig = argmax_along(x, 0, names=("c", "h", "w"))
    >>> fig.cell("argmax", (0, 0)).text, fig.cell("argmax", (0, 0)).source
    ('1', (1, 0, 0))
    >>> [fig.cell("coordinates", (3, j)).text for j in range(3)]
    ['1', '1', '1']
    """
    from snippets.argmax import argmax_coordinates  # snippets.argmax does not import draw

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if dim is None:
        raise TypeError(
            "dim must be an int: draw.argmax_along draws the argmax along one dim (for the "
            "flat argmax, x.argmax() with dim=None, use snippets.argmax.argmax_index)"
        )
    refuse_meta(x=x)
    check_flag(arrows, "arrows")
    if x.dim() not in (2, 3):
        raise ValueError(
            f"draw.argmax_along draws x with 2 or 3 dims; x has shape {shape_str(x.shape)}"
        )
    coords = argmax_coordinates(x, dim).cpu()  # validates dim (and x's dtype)
    dim = dim % x.dim()
    if x.numel() == 0:
        raise ValueError(f"x has no elements (shape {shape_str(x.shape)}): nothing to draw")
    if names is None:
        names = tuple("ijk"[: x.dim()])
    elif isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"names must be a tuple of strings, one per dim, got {names!r}")
    names = tuple(names)
    if len(names) != x.dim():
        raise ValueError(f"names has {len(names)} entries but x has {x.dim()} dims: one per dim")
    values = cpu_values(x, "x")
    arg = values.argmax(dim)
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
        description=f"argmax along dim {dim} ({names[dim]}): {rule}; x "
        f"{shape_str(x.shape)} = {values_str(values)}, argmax {shape_str(arg.shape)} = "
        f"{values_str(arg)}, coordinates {shape_str(coords.shape)}",
        caption=rule,
    )
    main = fig.panel(
        f"x {shape_str(x.shape)} with the largest cell along {names[dim]} coloured, and "
        f"argmax(dim={dim}) {shape_str(arg.shape)} = {values_str(arg)}, an arrow from each "
        "winning cell"
    )
    flow_panel(
        main,
        source=("x", values, f"x  {shape_str(x.shape)}"),
        target=("argmax", arg, f"argmax  {shape_str(arg.shape)}"),
        source_colour=lambda c: c[dim] if c in winners else None,
        target_colour=lambda c: int(arg[c]),
        sources={p: tuple(int(v) for v in coords[p].tolist()) for p in _positions(arg)},
        arrow_colour=lambda c: palette_stroke(int(arg[c])),
        arrows=arrows,
        slice_name="x",
    )
    table = coords.reshape(-1, x.dim())
    positions = list(_positions(arg))
    side = fig.panel(
        f"coordinates ({', '.join(names)}) {shape_str(coords.shape)}: one row per argmax "
        f"position, the argmax value as {names[dim]}"
        + (f": {values_str(table, 30)}" if table.numel() <= 30 else "")
    )
    pad = max(text_width("[" + ",".join(map(str, p)) + "]", LABEL_FONT, mono=True)
              for p in positions) + 18  # fmt: skip
    top = 10.0
    side.grid(
        "coordinates",
        table,
        pad,
        top,
        label=f"coordinates ({', '.join(names)})  {shape_str(coords.shape)}",
        colour_of=lambda c: int(table[c[0], dim]),
    )
    first = top + grid_label_height(2)
    for row, p in enumerate(positions):  # which argmax position each row belongs to
        side.text(
            pad - 6,
            first + row * CELL_H + 19,
            "[" + ",".join(map(str, p)) + "]",
            size=LABEL_FONT,
            anchor="end",
            colour=MUTED,
            mono=True,
        )
    return fig


def _positions(t: torch.Tensor):
    return itertools.product(*(range(s) for s in t.shape))
