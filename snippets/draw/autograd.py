"""Chapter 5: the autograd graph of a small function: which call made which tensor, which
tensors require grad, which grad_fn each call recorded and which tensors it saved for backward.
Drawn from a real run (``snippets.autograd._trace_graph``), so under ``torch.no_grad()`` the same
function draws with no grad_fn and nothing saved."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from snippets.draw.canvas import (
    CELL_H,
    CHAR_W,
    INK,
    MIN_CELL_W,
    MUTED,
    NEUTRAL,
    PALETTE,
    TITLE_FONT,
    Cell,
    Figure,
    Link,
    Panel,
    grid_label_height,
    refuse_meta,
    text_width,
)
from snippets.validate import shape_str

GRAPH_ROW_GAP = 22
OP_BOX_H = 40
GRAPH_STEP = 34  # from a tensor's right edge to the op box it feeds


def _op_box(p: Panel, key: str, op: str, grad_fn: str | None, x: float, y: float) -> Cell:
    """A two-line box for one call: the op, then the grad_fn it recorded (or that it recorded none)."""
    second = grad_fn if grad_fn is not None else "not recorded"
    w = max(len(op), len(second)) * CHAR_W + 22
    fill, stroke = (PALETTE[0][0], PALETTE[0][1]) if grad_fn is not None else NEUTRAL
    p.rect(
        x,
        y,
        w,
        OP_BOX_H,
        rx=8,
        fill=fill,
        stroke=stroke,
        stroke_width=1.4,
        data={"op": key, "grad-fn": str(grad_fn)},
    )
    p.text(x + w / 2, y + 16, op, anchor="middle", mono=True, weight="600")
    p.text(
        x + w / 2,
        y + 32,
        second,
        size=11,
        anchor="middle",
        mono=True,
        colour=INK if grad_fn is not None else MUTED,
    )
    return Cell(key, (), x, y, w, OP_BOX_H, op, fill, stroke)


def _arrow(p: Panel, start: Cell, box: Cell, colour: str) -> None:
    """An arrow from the middle of ``start``'s right edge to the middle of ``box``'s left edge:
    right, down (or up) just left of the box, then right, with rounded corners; it passes no
    text because the box stands right of every label of its inputs."""
    x0, y0 = start.x + start.w, start.y + start.h / 2
    x1, y1 = box.x - 3, box.y + box.h / 2
    xb = box.x - 14
    if abs(y1 - y0) < 1:
        d = [("M", (x0, y0)), ("L", (x1 - 6, y1))]
    else:
        r = min(6.0, abs(y1 - y0) / 2)
        s = 1 if y1 > y0 else -1
        d = [
            ("M", (x0, y0)),
            ("L", (xb - r, y0)),
            ("Q", (xb, y0, xb, y0 + s * r)),
            ("L", (xb, y1 - s * r)),
            ("Q", (xb, y1, xb + r, y1)),
            ("L", (x1 - 6, y1)),
        ]
    p.path(
        d,
        stroke=colour,
        stroke_width=1.6,
        data={"from": f"{start.tensor}:{','.join(map(str, start.coord))}", "to": f"{box.tensor}:"},
    )
    p.circle(x0, y0, 2.6, fill=colour)
    p.arrowhead(x1, y1, "right", colour, size=7)
    p.links.append(Link((start.tensor, start.coord), (box.tensor, ()), colour))


def _drop(p: Panel, box: Cell, target: Cell, colour: str) -> None:
    """An arrow from the bottom of an op box down, then right into ``target``'s left edge."""
    x0, y0 = box.x + 14, box.y + box.h
    x1, y1 = target.x - 3, target.y + target.h / 2
    p.path(
        [("M", (x0, y0)), ("L", (x0, y1 - 8)), ("Q", (x0, y1, x0 + 8, y1)), ("L", (x1 - 6, y1))],
        stroke=colour,
        stroke_width=1.6,
        data={
            "from": f"{box.tensor}:",
            "to": f"{target.tensor}:" + ",".join(map(str, target.coord)),
        },
    )
    p.circle(x0, y0, 2.6, fill=colour)
    p.arrowhead(x1, y1, "right", colour, size=7)
    p.links.append(Link((box.tensor, ()), (target.tensor, target.coord), colour))


@dataclass(repr=False)
class AutogradGraph(Figure):
    """A ``Figure`` that also keeps the trace it was drawn from (``snippets.autograd._GraphTrace``)."""

    trace: object = None

    @property
    def saved(self) -> dict[str, tuple[str, ...]]:
        """Which grad_fn saved each saved tensor, by tensor name."""
        return {n: t.saved_by for n, t in self.trace.tensors.items() if t.saved_by}

    def __repr__(self) -> str:
        ops = len(self.trace.ops) if self.trace is not None else 0
        return f"<AutogradGraph {self.title!r}: {ops} calls, {len(self.saved)} saved tensors>"


def autograd_graph(fn, /, *, title: str | None = None, **inputs: torch.Tensor) -> AutogradGraph:
    """Draw ``fn(**inputs)`` as autograd saw it: tensors, calls, grad_fn and saved tensors.

    ``fn`` is called with the ``inputs`` as keyword arguments and returns a tensor (drawn as
    ``out``) or a dict of named tensors; other tensors made on the way are named ``t1``,
    ``t2``, ... Meant for small functions, the ones a figure can show. A blue tensor requires grad, a grey one does not. Each call is a box with the ``grad_fn``
    it recorded, or "not recorded". A tensor that a call saved for backward has an orange
    outline and says which ``grad_fn`` saved it. Run it under ``torch.no_grad()`` to see what
    that switch turns off.

    >>> x, w = torch.tensor([1.0, 2.0]), torch.tensor([3.0, -4.0], requires_grad=True)
    >>> fig = autograd_graph(lambda x, w: {"y": x * w}, x=x, w=w)
    >>> fig.saved
    {'x': ('MulBackward0',)}
    """
    from snippets.autograd import _trace_graph

    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    refuse_meta(**inputs)
    trace = _trace_graph(fn, **inputs)
    grad_on = any(op.grad_fn is not None for op in trace.ops)
    calls = "; ".join(
        f"{op.op}({', '.join(op.inputs)}) -> {', '.join(op.outputs)}: grad_fn={op.grad_fn}, "
        f"saved {list(op.saved)}"
        for op in trace.ops
    )
    fig = AutogradGraph(
        title=title or ("autograd graph" if grad_on else "autograd graph: nothing recorded"),
        description=calls,
    )
    fig.trace = trace
    p = fig.panel(f"{fig.title}: {calls}")
    saved_colour = PALETTE[1][1]
    left, y = 24.0, 16.0
    drawn: dict[str, dict[tuple[int, ...], Cell]] = {}
    anchor: dict[str, Cell] = {}  # where arrows leave a tensor: its last cell
    reach: dict[str, float] = {}  # the right end of a tensor's cells and labels

    def draw_tensor(name: str, x: float) -> None:
        nonlocal y
        t = trace.tensors[name]
        value = t.value if t.value.dim() <= 2 else t.value.flatten(0, -2)
        cells = p.grid(
            name,
            value,
            x,
            y,
            label=f"{name}  {shape_str(t.value.shape)}",
            colour_of=lambda c, t=t: 0 if t.requires_grad else None,
            attrs_of=lambda c, t=t: {
                "requires-grad": str(t.requires_grad),
                "grad-fn": str(t.grad_fn),
                "saved-by": ",".join(t.saved_by),
            },
        )
        top = min(c.y for c in cells.values()) if cells else y + grid_label_height(value.dim())
        bottom = max(c.y + c.h for c in cells.values()) if cells else top + CELL_H
        right = max(c.x + c.w for c in cells.values()) if cells else x + MIN_CELL_W
        if t.saved_by:
            p.rect(
                x - 4,
                top - 4,
                right - x + 8,
                bottom - top + 8,
                rx=6,
                stroke=saved_colour,
                stroke_width=2.2,
                dash="6 3",
                data={"saved-tensor": name, "saved-by": ",".join(t.saved_by)},
            )
            p.text(
                x,
                bottom + 17,
                "saved by " + ", ".join(t.saved_by),
                size=11,
                colour=saved_colour,
                mono=True,
            )
        reach[name] = max(right, x + text_width(f"{name}  {shape_str(t.value.shape)}", TITLE_FONT))
        if t.saved_by:
            reach[name] = max(
                reach[name], x + text_width("saved by " + ", ".join(t.saved_by), 11, mono=True)
            )
        drawn[name] = cells
        anchor[name] = (
            cells[max(cells)] if cells else Cell(name, (), x, top, 0, CELL_H, "", *NEUTRAL)
        )
        y = bottom + GRAPH_ROW_GAP + (14 if t.saved_by else 0)

    for k, op in enumerate(trace.ops):
        for name in op.inputs:
            if name not in drawn:
                draw_tensor(name, left)
        # the box sits on the row of its last input, right of every input it reads
        last = anchor[op.inputs[-1]] if op.inputs else None
        box_x = max(
            [anchor[n].x + anchor[n].w for n in op.inputs[-1:]]
            + [reach[n] for n in op.inputs[:-1]],
            default=left,
        )
        box_x += GRAPH_STEP
        box_y = (last.y + last.h / 2 - OP_BOX_H / 2) if last is not None else y
        box = _op_box(p, f"{op.op}#{k}", op.op, op.grad_fn, box_x, box_y)
        for name in dict.fromkeys(op.inputs):
            a = anchor[name]  # leave from the right edge of the tensor's last cell
            _arrow(p, a, box, MUTED)
        if last is None:
            y = box_y + OP_BOX_H + GRAPH_ROW_GAP
        for name in op.outputs:
            if name not in drawn:
                y = max(y, box_y + OP_BOX_H + 8)
                draw_tensor(name, box_x + 30)
            target = drawn[name][min(drawn[name])] if drawn[name] else anchor[name]
            _drop(p, box, target, PALETTE[0][1] if op.grad_fn else MUTED)
    y = p.height + 2
    legend = [(PALETTE[0], "requires_grad=True"), (NEUTRAL, "requires_grad=False")]
    x = left
    for (fill, stroke), text in legend:
        p.rect(x, y, 14, 14, fill=fill, stroke=stroke)
        p.text(x + 20, y + 11, text, size=12)
        x += 20 + text_width(text, 12) + 18
    p.rect(x, y, 14, 14, stroke=saved_colour, stroke_width=2.2, dash="4 2")
    p.text(x + 20, y + 11, "saved for backward", size=12)
    return fig
