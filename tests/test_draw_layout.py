"""snippets.draw: figures that read at every size, measured from the SVG's geometry.

- No arrow (or any other line) passes through a text: each path, curves sampled, is tested
  against the box of every text of its panel, computed with the layout's text-width model.
- Every label is at least 11 CSS px where the book shows it: a panel wider than its column is
  shrunk by the browser (``max-width: 100%``) by min(1, column / width).
- Alt text: each panel is ``role="img"`` with an ``aria-label`` and a ``<title>`` generated from
  the tensors, and the whole figure says what it shows.
"""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from snippets import draw
from snippets.device import _example
from snippets.draw import canvas
from snippets.hooks import record_hook_order
from tests.strategies import gather_cases
from tests.svg import (
    SVG,
    crossings,
    panels,
    parse,
    polyline,
    segment_hits_box,
    shown_px,
    text_boxes,
)

# The room a figure has in the book (Jupyter Book 1.0.4, sphinx-book-theme), measured in
# Chromium: a code cell's output box is 688 px wide in a 1280x900 window and 358 px wide in a
# 390x844 one, and an HTML output sits 8 px inside it on either side.
DESKTOP_COLUMN = 688 - 16
PHONE_COLUMN = 358 - 16
MIN_PX = 11

X = [[10, 20, 30], [40, 50, 60]]
FEATS = torch.arange(12).reshape(2, 3, 2)
CHANNELS = [[[3, 9, 2], [5, 1, 7]], [[8, 4, 6], [0, 2, 9]], [[1, 6, 5], [4, 8, 3]]]


def chapter_figures() -> dict[str, canvas.Figure]:
    """The figures the chapters draw (the same calls, the same tensors)."""

    def f(x, w):
        y = x * w
        z = y.relu()
        return {"y": y, "z": z, "loss": z.sum()}

    x, w = _example([1.0, 2.0, 3.0]), _example([2.0, -1.0, 1.0]).requires_grad_()
    torch.manual_seed(0)  # chapter 6's model and input
    model = nn.Sequential(OrderedDict(fc1=nn.Linear(4, 3), act=nn.ReLU(), fc2=nn.Linear(3, 2)))
    events = record_hook_order(model, torch.tensor([[1.0, 2.0, 0.0, -1.0]]))
    with torch.no_grad():
        no_grad = draw.autograd_graph(f, x=x, w=w)
    return {
        "gather dim 1": draw.gather(_example(X), 1, _example([[0, 2], [1, 0]])),
        "gather dim 0": draw.gather(_example(X), 0, _example([[1, 0, 1]])),
        "gather 3-D": draw.gather(
            _example(FEATS), 1, _example([[[2, 2], [0, 1]], [[1, 1], [1, 0]]])
        ),
        "take_along_dim": draw.take_along_dim(_example(X), _example([[2, 0]]), dim=1),
        "take_along_dim column": draw.take_along_dim(
            _example([[10, 20, 30]]), _example([[2], [0], [1], [2]]), dim=1
        ),
        "take_along_dim 3-D": draw.take_along_dim(
            _example(FEATS), _example([[[2], [0]], [[1], [1]]]), dim=1
        ),
        "argmax 3-D": draw.argmax_along(_example(CHANNELS), 0, names=("c", "h", "w")),
        "broadcast +": draw.broadcast(_example([[10], [20], [30]]), _example([1, 2, 3, 4]), "+"),
        "broadcast >=": draw.broadcast(
            _example(torch.arange(4)[:, None]), _example(torch.arange(4)), ">=", names=("i", "j")
        ),
        "autograd graph": draw.autograd_graph(f, x=x, w=w),
        "autograd graph, no_grad": no_grad,
        "hook timeline": draw.hook_timeline(events),
    }


FIGURES = chapter_figures()
# The figures of chapters 1-4, which must also read on a phone without zooming.
PHONE_READY = [
    k for k in FIGURES if k.split()[0] in ("gather", "take_along_dim", "argmax", "broadcast")
]


def test_the_geometry_helpers_see_a_crossing():
    """The crossing test itself: a line through a number is found, one beside it is not."""
    box = (10.0, 10.0, 30.0, 20.0)
    assert segment_hits_box((0, 15), (40, 15), box)
    assert not segment_hits_box((0, 25), (40, 25), box)
    assert not segment_hits_box((0, 0), (9, 40), box)
    curve = polyline("M0 0 C40 0 -20 40 20 40")
    assert curve[0] == (0, 0) and curve[-1] == (20, 40) and len(curve) == 25
    fig = canvas.Figure("t")
    p = fig.panel("p")
    p.text(20, 20, "123", mono=True)
    p.path([("M", (0, 15)), ("L", (80, 15))], stroke="#000")
    assert len(crossings(panels(fig)[0])) == 1


@pytest.mark.parametrize("name", FIGURES)
def test_no_line_passes_through_a_text(name):
    for panel in panels(FIGURES[name]):
        assert crossings(panel) == [], name


@settings(max_examples=40, deadline=None)
@given(gather_cases(max_dims=3, max_side=3))
def test_no_gather_arrow_passes_through_a_number(case):
    if case.input.dim() == 0:
        return
    for panel in panels(draw.gather(case.input, case.dim, case.index)):
        assert crossings(panel) == []


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(1, 3), min_size=2, max_size=3).flatmap(
        lambda shape: st.tuples(
            st.just(shape),
            st.integers(0, len(shape) - 1),
            st.lists(st.integers(-9, 9), min_size=1, max_size=1),
        )
    )
)
def test_no_argmax_arrow_passes_through_a_number(args):
    shape, dim, (seed,) = args
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    for panel in panels(draw.argmax_along(x, dim)):
        assert crossings(panel) == []


@pytest.mark.parametrize("name", FIGURES)
def test_every_label_is_at_least_11_px_on_a_desktop(name):
    for panel in panels(FIGURES[name]):
        assert shown_px(panel, DESKTOP_COLUMN) >= MIN_PX, (name, panel.get("width"))


@pytest.mark.parametrize("name", PHONE_READY)
def test_every_label_is_at_least_11_px_on_a_phone(name):
    """Each panel is its own SVG in a row that wraps: on a phone the panels stack, and each
    fits the column at (nearly) its natural size."""
    for panel in panels(FIGURES[name]):
        assert shown_px(panel, PHONE_COLUMN) >= MIN_PX, (name, panel.get("width"))


def test_the_figure_is_a_wrapping_row_of_panels():
    html = FIGURES["broadcast +"].html()
    assert "display:flex;flex-wrap:wrap" in html
    assert len(panels(FIGURES["broadcast +"])) == 4
    for panel in panels(FIGURES["broadcast +"]):
        assert "max-width:100%" in panel.get("style")
    # the shapes table on a row of its own above "a + b = result" (as chapter 4 describes it)
    rows = [[p.alt.split(":")[0] for p in row] for row in FIGURES["broadcast +"].rows()]
    assert rows == [
        ["the shapes aligned from the right"],
        [
            "a (3, 1) = [[10], [20], [30]], stretched to (3, 4)",
            "b (4,) = [1, 2, 3, 4], stretched to (3, 4)",
            "the result a + b (3, 4) = [[11, 12, 13, 14], [21, 22, 23, 24], [31, 32, 33, 34]]",
        ],
    ]
    assert html.count("display:flex;flex-wrap:wrap") == 2


@pytest.mark.parametrize("name", FIGURES)
def test_alt_text_says_what_the_figure_shows(name):
    fig = FIGURES[name]
    for panel in panels(fig):
        label = panel.get("aria-label")
        assert panel.get("role") == "img"
        assert label and panel.find(f"{SVG}title").text == label
        assert not label.endswith(".svg")
    assert fig.html().startswith('<figure class="tensor-figure" role="group" aria-label="')


def test_alt_text_is_generated_from_the_tensors():
    fig = FIGURES["gather dim 1"]
    assert fig.description == (
        "gather along dim 1: out[i][j] = input[i][index[i][j]]; input (2, 3) = "
        "[[10, 20, 30], [40, 50, 60]], index (2, 2) = [[0, 2], [1, 0]], output (2, 2) = "
        "[[10, 30], [50, 40]]"
    )
    labels = [p.get("aria-label") for p in panels(fig)]
    assert labels[0].startswith("input (2, 3) and output (2, 2): an arrow from the input cell")
    assert labels[1].startswith("index (2, 2): each cell holds the position along dim 1")
    argmax = FIGURES["argmax 3-D"]
    assert "argmax (2, 3) = [[1, 0, 1], [0, 2, 1]]" in argmax.description
    broadcast = FIGURES["broadcast +"]
    assert "a + b = [[11, 12, 13, 14], [21, 22, 23, 24], [31, 32, 33, 34]]" in (
        broadcast.description
    )


def test_text_boxes_use_the_layout_text_width():
    fig = canvas.Figure("t")
    fig.panel("p").text(10, 20, "abcd", size=20, mono=True, anchor="middle")
    [(content, box)] = text_boxes(panels(fig)[0])
    w = canvas.text_width("abcd", 20, mono=True)
    assert content == "abcd" and box[0] == pytest.approx(10 - w / 2) and box[2] > box[0]


def test_panels_never_draw_text_below_11_px():
    with pytest.raises(ValueError, match="size must be at least 11 px, got 10"):
        canvas.Figure("t").panel("p").text(0, 0, "tiny", size=10)


def test_whole_figure_svg_places_panels_side_by_side():
    fig = FIGURES["gather dim 1"]
    root = parse(fig)
    widths = [float(p.get("width")) for p in panels(fig)]
    assert float(root.get("width")) >= sum(widths)
    xs = {
        r.get("data-tensor"): float(r.get("x"))
        for r in root.iter(f"{SVG}rect")
        if r.get("data-coord") == "0,0"
    }
    assert xs["index"] > widths[0]  # the index panel's cells come after the first panel
