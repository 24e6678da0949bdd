"""Broadcasting drawn: the shapes aligned from the right, each operand stretched to the result
shape (stretched copies faded and dashed), and the result. One panel each."""

from __future__ import annotations

import itertools

import torch

from snippets.draw.canvas import (
    CHAR_W,
    INK,
    LABEL_FONT,
    MUTED,
    TITLE_FONT,
    Figure,
    cpu_values,
    grid_label_height,
    refuse_meta,
    right_edge,
    text_width,
    values_str,
)
from snippets.validate import shape_str

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


def _flat_index(coord: tuple[int, ...], shape: tuple[int, ...]) -> int:
    flat = 0
    for c, s in zip(coord, shape, strict=True):
        flat = flat * s + c
    return flat


def broadcast(
    a: torch.Tensor, b: torch.Tensor, op: str = "+", *, names: tuple[str, str] = ("a", "b")
) -> Figure:
    """Draw ``a op b`` with broadcasting: the shapes aligned from the right, each operand
    stretched to the result shape, and the result, each in its own panel.

    In an operand's panel the solid cells are its stored elements; the faded, dashed cells are
    the copies that broadcasting reads again (no memory holds them: the view has stride 0 there).
    Each operand cell is coloured by the stored element it shows, and carries
    ``data-source="i,j"`` (that element's coordinate); each result cell carries the coordinates
    it read from both operands as ``data-a`` and ``data-b``. Results of up to 3 dims.

    >>> fig = broadcast(torch.tensor([[10], [20], [30]]), torch.tensor([1, 2, 3, 4]))
    >>> fig.cell("a", (2, 3)).text, fig.cell("b", (2, 3)).text, fig.cell("result", (2, 3)).text
    ('30', '4', '34')
    """
    from snippets.broadcasting import _broadcast_sources, explain_broadcast

    if not isinstance(op, str) or op not in BROADCAST_OPS:
        raise ValueError(f"op must be one of {' '.join(BROADCAST_OPS)}, got {op!r}")
    for name, t in (("a", a), ("b", b)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"draw.broadcast draws two tensors; {name} is {type(t).__name__}")
    if (
        isinstance(names, str)
        or not isinstance(names, tuple | list)
        or len(names) != 2
        or not all(isinstance(n, str) for n in names)
    ):
        raise TypeError(f"names must be two strings, e.g. ('a', 'b'), got {names!r}")
    if a.device != b.device:
        raise ValueError(
            f"{names[0]} is on {a.device} but {names[1]} is on {b.device}: PyTorch does not "
            f"broadcast across devices; move one, e.g. {names[1]}.to({names[0]}.device)"
        )
    refuse_meta(**{names[0]: a, names[1]: b})
    explanation = explain_broadcast(a, b, names=tuple(names))
    if not explanation.ok:
        raise ValueError(f"{explanation.reason}\n{explanation}")
    shape = tuple(explanation.result or ())
    if len(shape) > 3:
        raise ValueError(
            f"draw.broadcast draws results of up to 3 dims; {names[0]} {op} {names[1]} has "
            f"shape {shape_str(shape)}"
        )
    va, vb = cpu_values(a, names[0]), cpu_values(b, names[1])
    try:
        result = BROADCAST_OPS[op](va, vb)
    except RuntimeError as e:  # e.g. & on floats
        raise TypeError(
            f"{names[0]} {op} {names[1]} is not defined for dtypes {a.dtype} and {b.dtype}: {e}"
        ) from None
    fig = Figure(
        title=f"{names[0]} {op} {names[1]}: {shape_str(a.shape)} and {shape_str(b.shape)} "
        f"broadcast to {shape_str(shape)}",
        description=f"{names[0]} {shape_str(a.shape)} = {values_str(va)} and {names[1]} "
        f"{shape_str(b.shape)} = {values_str(vb)}, aligned from the right, each stretched to "
        f"{shape_str(shape)} (dashed cells are copies that are never stored); "
        f"{names[0]} {op} {names[1]} = {values_str(result, 16)}",
        caption="solid: stored elements; dashed: the same elements read again (stride 0, no copy)",
    )
    table = fig.panel(
        own_row=True,
        alt="the shapes aligned from the right: "
        + "; ".join(
            f"{n} {shape_str(s)}"
            for n, s in zip(explanation.names, explanation.shapes, strict=True)
        )
        + f"; result {shape_str(shape)}",
    )
    table.text(12, 24, "shapes, aligned from the right", size=LABEL_FONT, colour=MUTED)
    _aligned_table(table, explanation, 12, 48)

    sources = {}
    pad = 28.0 if len(shape) == 3 else 0.0  # room for the slice labels [0], [1], ...
    signs = (op, "=")
    for k, (name, t, v) in enumerate(((names[0], a, va), (names[1], b, vb))):
        src = _broadcast_sources(tuple(t.shape), shape)
        src_of = {
            p: tuple(int(s) for s in src[p].tolist())
            for p in itertools.product(*(range(s) for s in shape))
        }
        sources[name] = src_of
        first_colour = 0 if k == 0 else a.numel()
        stretched = v.expand(shape)
        arrow = "" if tuple(t.shape) == shape else f" → {shape_str(shape)}"
        label = f"{name}  {shape_str(t.shape)}{arrow}"
        panel = fig.panel(
            f"{name} {shape_str(t.shape)} = {values_str(v)}"
            + (f", stretched to {shape_str(shape)}" if arrow else ", not stretched")
        )
        x = 12.0 + pad
        cells = panel.grid(
            name,
            stretched,
            x,
            10,
            label=label,
            colour_of=lambda p, t=t, s=src_of, c0=first_colour: (
                c0 + _flat_index(s[p], tuple(t.shape))
            ),
            faded_of=lambda p, s=src_of: not _is_stored(p, s[p]),
            attrs_of=lambda p, s=src_of: {"source": ",".join(map(str, s[p]))},
        )
        right = max(right_edge(cells, x), x + text_width(label, TITLE_FONT))
        panel.text(
            right + 16, 10 + grid_label_height(len(shape)) + 21, signs[k], size=22, anchor="middle"
        )

    def true_in_green(p: tuple[int, ...]) -> int | None:  # for a bool result: a mask
        return 2 if bool(result[p]) else None

    last = fig.panel(
        f"the result {names[0]} {op} {names[1]} {shape_str(shape)} = {values_str(result, 16)}"
    )
    last.grid(
        "result",
        result,
        12.0 + pad,
        10,
        label=f"{names[0]} {op} {names[1]}  {shape_str(shape)}",
        colour_of=true_in_green if result.dtype == torch.bool else None,
        attrs_of=lambda p: {
            "a": ",".join(map(str, sources[names[0]][p])),
            "b": ",".join(map(str, sources[names[1]][p])),
        },
    )
    return fig


def _aligned_table(panel, explanation, x: float, y: float) -> float:
    """Draw the shapes one under the other, aligned from the right, and the result row; each
    size in its own text element, right-aligned in its dim's column. Returns the last baseline.
    """
    rows = [("dim", [str(step.dim) for step in explanation.steps], MUTED)]
    for k, (name, shape) in enumerate(zip(explanation.names, explanation.shapes, strict=True)):
        sizes = ["·" if step.sizes[k] is None else str(step.sizes[k]) for step in explanation.steps]
        rows.append((f"{name}  {shape_str(shape)}", sizes, INK))
    rows.append(("result", [str(step.result) for step in explanation.steps], INK))
    label_w = max(text_width(label, 13, mono=True) for label, _, _ in rows) + 16
    col_w = max([3] + [len(c) for _, cells, _ in rows for c in cells]) * CHAR_W + 14
    for r, (label, cells, colour) in enumerate(rows):
        weight = "600" if r == len(rows) - 1 else "normal"
        panel.text(x, y, label, size=13, mono=True, colour=colour, weight=weight)
        for c, content in enumerate(cells):
            faded = content == "·"
            panel.text(
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
