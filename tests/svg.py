"""Reading a figure back from its SVG: the tests check what the reader sees, not the objects
that drew it. ``snippets.draw`` marks each cell ``data-tensor``/``data-coord`` and each arrow
``data-from``/``data-to``; the geometry (text boxes, arrow segments) is read from the SVG
attributes and measured with ``snippets.draw.canvas.text_box``, the layout's own text-width model."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from snippets.draw.canvas import text_box

SVG = "{http://www.w3.org/2000/svg}"


def parse(fig) -> ET.Element:
    """The root element of ``fig.svg()`` (all panels side by side in one SVG)."""
    return ET.fromstring(fig.svg())


def panels(fig) -> list[ET.Element]:
    """The panel SVGs of ``fig.html()``, as a notebook or the book shows them."""
    root = ET.fromstring(fig.html())
    return [e for e in root.iter(f"{SVG}svg")]


def coord(text: str) -> tuple[int, ...]:
    """``"0,2"`` -> ``(0, 2)``; ``""`` (a 0-d tensor's only cell) -> ``()``."""
    return tuple(int(v) for v in text.split(",")) if text else ()


def rects(root: ET.Element, tensor: str) -> dict[tuple[int, ...], ET.Element]:
    """The cells drawn for ``tensor``, by coordinate."""
    return {
        coord(r.get("data-coord")): r
        for r in root.iter(f"{SVG}rect")
        if r.get("data-tensor") == tensor
    }


def elements(root: ET.Element, tag: str, **attrs: str) -> list[ET.Element]:
    """The ``tag`` elements (``rect``, ``circle``, ...) with the given attribute values; an
    attribute named ``data_x`` here is ``data-x`` in the SVG, and ``True`` means "present"."""
    want = {k.replace("_", "-"): v for k, v in attrs.items()}
    return [
        e
        for e in root.iter(f"{SVG}{tag}")
        if all((k in e.attrib) if v is True else e.get(k) == v for k, v in want.items())
    ]


def arrow_paths(root: ET.Element) -> list[ET.Element]:
    """The arrows of a figure: the paths that say which cell they join (``data-from``/``-to``)."""
    return [p for p in root.iter(f"{SVG}path") if p.get("data-to")]


def arrows(root: ET.Element, into: str | None = None) -> dict[tuple[int, ...], tuple[int, ...]]:
    """``{target coordinate: source coordinate}`` of the arrows into the cells of the tensor
    ``into`` (every arrow when None: then targets of different tensors must not collide)."""
    return {
        coord(p.get("data-to").split(":")[1]): coord(p.get("data-from").split(":")[1])
        for p in arrow_paths(root)
        if into is None or p.get("data-to").split(":")[0] == into
    }


def texts(root: ET.Element) -> list[str]:
    """The words of every text element, in document order."""
    return [t.text for t in root.iter(f"{SVG}text")]


def smallest_font(panel: ET.Element) -> float:
    """The smallest font size (SVG px) of the texts of ``panel``."""
    return min(float(t.get("font-size")) for t in panel.iter(f"{SVG}text"))


def shown_px(panel: ET.Element, column: int) -> float:
    """The smallest font of ``panel`` in CSS px when shown in a column ``column`` px wide (a
    panel wider than the column is scaled down to it)."""
    return smallest_font(panel) * min(1.0, column / float(panel.get("width")))


Box = tuple[float, float, float, float]


def text_boxes(root: ET.Element) -> list[tuple[str, Box]]:
    """Every text element with its box ``(left, top, right, bottom)``."""
    return [
        (
            t.text or "",
            text_box(
                float(t.get("x")),
                float(t.get("y")),
                t.text or "",
                float(t.get("font-size")),
                t.get("text-anchor", "start"),
                mono="monospace" in t.get("font-family", ""),
            ),
        )
        for t in root.iter(f"{SVG}text")
    ]


def polyline(d: str, steps: int = 24) -> list[tuple[float, float]]:
    """The points of an SVG path made of M, L, C, Q and Z commands (curves sampled)."""
    tokens = re.findall(r"[MLCQZ]|-?\d+(?:\.\d+)?", d)
    points: list[tuple[float, float]] = []
    cmd, args, start = None, [], None
    for token in [*tokens, "M"]:
        if token.isalpha():
            if cmd == "M":
                points.append((args[0], args[1]))
                start = points[-1]
            elif cmd == "L":
                points.extend(zip(args[::2], args[1::2], strict=True))
            elif cmd in ("C", "Q"):
                p0, ctrl = points[-1], list(zip(args[::2], args[1::2], strict=True))
                for k in range(1, steps + 1):
                    t = k / steps
                    pts = [p0, *ctrl]
                    while len(pts) > 1:  # de Casteljau
                        pts = [
                            (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
                            for a, b in itertools.pairwise(pts)
                        ]
                    points.append(pts[0])
            elif cmd == "Z" and start is not None:
                points.append(start)
            cmd, args = token, []
        else:
            args.append(float(token))
    return points


def segment_hits_box(a: tuple[float, float], b: tuple[float, float], box: Box) -> bool:
    """Whether the segment a-b passes through the inside of ``box`` (Liang-Barsky clipping)."""
    left, top, right, bottom = box
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - left), (dx, right - a[0]), (-dy, a[1] - top), (dy, bottom - a[1])):
        if p == 0:
            if q <= 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 >= t1:
                return False
    return True


def crossings(root: ET.Element) -> list[str]:
    """Every (path, text) pair where a path's line passes through the text's box."""
    boxes = text_boxes(root)
    found = []
    for path in root.iter(f"{SVG}path"):
        points = polyline(path.get("d"))
        for content, box in boxes:
            if any(segment_hits_box(a, b, box) for a, b in itertools.pairwise(points)):
                found.append(
                    f"{path.get('data-from', 'path')} -> {path.get('data-to', '')} "
                    f"crosses {content!r} at {box}"
                )
    return found
