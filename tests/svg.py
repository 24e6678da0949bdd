"""Reading a figure back from its SVG: the tests check what the reader sees, not the objects
that drew it. ``snippets.draw`` marks each cell ``data-tensor``/``data-coord`` and each arrow
``data-from``/``data-to``."""

from __future__ import annotations

import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def parse(fig) -> ET.Element:
    """The root element of ``fig.svg()``."""
    return ET.fromstring(fig.svg())


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
