"""Chapter 6: a timeline of where each hook fires, drawn from a recorded call order."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from snippets.draw.canvas import MUTED, NEUTRAL, PALETTE, Figure
from snippets.hooks import _RECORDED_KINDS, HookEvent

# How each kind looks: (palette number, short label under the marker, legend name, signature).
_LOOK: dict[str, tuple[int, str, str, str]] = {
    "forward_pre": (0, "pre", "forward pre-hook", "hook(module, args)"),
    "forward": (2, "fwd", "forward hook", "hook(module, args, output)"),
    "tensor": (6, "tensor", "tensor hook on the layer's output", "hook(grad)"),
    "backward_pre": (3, "bwd pre", "full backward pre-hook", "hook(module, grad_output)"),
    "backward": (1, "bwd", "full backward hook", "hook(module, grad_input, grad_output)"),
}
# Keyed by the kinds snippets.hooks records (every kind but "global"), in the order they fire
# (the legend's order): a kind added there without a look here fails at import.
HOOK_STYLE: dict[str, tuple[int, str, str, str]] = {kind: _LOOK[kind] for kind in _RECORDED_KINDS}
HOOK_STEP_W = 58
HOOK_LANE_H = 100


def hook_colour(kind: str) -> str:
    """The marker colour of a hook kind in ``hook_timeline``.

    >>> hook_colour("forward")
    '#009e73'
    """
    if not isinstance(kind, str) or kind not in HOOK_STYLE:
        raise ValueError(f"kind must be one of {list(HOOK_STYLE)}, got {kind!r}")
    return PALETTE[HOOK_STYLE[kind][0]][1]


@dataclass(repr=False)
class HookTimeline(Figure):
    """A ``Figure`` that also lists its markers as ``(step, phase, kind, layer)``."""

    markers: list[tuple[int, str, str, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<HookTimeline {self.title!r}: {len(self.markers)} hook calls>"


def _events(events) -> list[HookEvent]:
    if isinstance(events, str | bytes) or not hasattr(events, "__iter__"):
        raise TypeError(
            f"events must be a list of HookEvent (as record_hook_order returns), got "
            f"{type(events).__name__}"
        )
    rows = list(events)
    for k, e in enumerate(rows):
        if not isinstance(e, HookEvent):
            raise TypeError(
                f"events[{k}] must be a HookEvent (step, phase, kind, layer), got {e!r}"
            )
    steps = [e.step for e in rows]
    if steps != list(range(len(rows))):
        raise ValueError(f"events must be numbered 0, 1, 2, ... in order, got steps {steps}")
    for e in rows:
        hook_colour(e.kind)
        if e.phase not in ("forward", "backward"):
            raise ValueError(f"phase must be 'forward' or 'backward', got {e.phase!r}")
        if not isinstance(e.layer, str):
            raise TypeError(f"layer must be a str (a module name), got {e.layer!r}")
    return rows


def hook_timeline(events, *, title: str = "Where each hook fires") -> HookTimeline:
    """Draw hook calls in the order they happened: one lane for the forward pass, one for the
    backward pass, a numbered marker per call, and a box per layer around its hooks in each
    pass.

    ``events`` are ``snippets.hooks.HookEvent`` records as ``record_hook_order`` returns them,
    so the picture is drawn from what PyTorch actually did. Each marker is an SVG circle with
    ``data-step``, ``data-phase``, ``data-kind`` and ``data-layer``.

    >>> from snippets.hooks import HookEvent
    >>> fig = hook_timeline([HookEvent(0, "forward", "forward_pre", "fc"),
    ...                      HookEvent(1, "forward", "forward", "fc")])
    >>> fig.markers
    [(0, 'forward', 'forward_pre', 'fc'), (1, 'forward', 'forward', 'fc')]
    """
    events = _events(events)
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    order = ", ".join(f"{e.step + 1}. {HOOK_STYLE[e.kind][2]} on {e.layer}" for e in events)
    fig = HookTimeline(
        title=title,
        description=f"Hook calls in the order PyTorch made them: {order}",
    )
    p = fig.panel(f"{title}: {order}")
    left = 126.0
    lanes = (("forward", "model(x)", 66.0), ("backward", "of y.sum()", 66.0 + HOOK_LANE_H))
    for phase, sub, y in lanes:
        lane = [e for e in events if e.phase == phase]
        p.text(16, y + 1, phase, size=14, weight="600")
        p.text(16, y + 18, sub, size=11, colour=MUTED, mono=True)
        xs = {e.step: left + i * HOOK_STEP_W for i, e in enumerate(lane)}
        for layer in dict.fromkeys(e.layer for e in lane):  # a box per layer, around its hooks
            mine = [xs[e.step] for e in lane if e.layer == layer]
            x0, x1 = min(mine) - 26, max(mine) + 26
            p.rect(
                x0,
                y - 40,
                x1 - x0,
                76,
                rx=6,
                fill=NEUTRAL[0],
                stroke=NEUTRAL[1],
                stroke_width=1,
                data={"span": f"{phase}:{layer}"},
            )
            p.text((x0 + x1) / 2, y - 24, layer, size=12, anchor="middle", mono=True)
        for a, b in itertools.pairwise(lane):  # thin arrows: the order of the calls
            x0, x1 = xs[a.step] + 12, xs[b.step] - 12
            p.path([("M", (x0, y)), ("L", (x1 - 5, y))], stroke=MUTED, stroke_width=1)
            p.arrowhead(x1, y, "right", MUTED, size=5)
        for step, _, kind, layer in lane:
            x = xs[step]
            number, short, _, _ = HOOK_STYLE[kind]
            colour = PALETTE[number][1]
            p.circle(
                x,
                y,
                10,
                fill=colour,
                data={"step": step, "phase": phase, "kind": kind, "layer": layer},
            )
            p.text(
                x, y + 4, str(step + 1), size=11, anchor="middle", colour="#ffffff", weight="600"
            )
            p.text(x, y + 26, short, size=11, anchor="middle", colour=colour)
            fig.markers.append((step, phase, kind, layer))
    y = 66.0 + 2 * HOOK_LANE_H - 14
    for kind, (number, _, name, signature) in HOOK_STYLE.items():
        p.circle(22, y - 4, 6, fill=PALETTE[number][1], data={"legend": kind})
        p.text(34, y, name, size=12)
        p.text(290, y, signature, size=12, mono=True, colour=MUTED)
        y += 20
    p.text(
        16,
        y + 8,
        "Numbers give the order in which PyTorch called the hooks.",
        size=11,
        colour=MUTED,
    )
    return fig
