"""snippets.draw: the figures say what the operations do.

The figure is read back from its SVG (what the reader sees), not from the Python objects that
drew it: each output cell's arrow must start at the input cell that the loop reference says it
came from, and the output cell must have that input cell's colour and value.
"""

import itertools
import re

import pytest
import torch
from hypothesis import given

from snippets import draw
from snippets.device import example
from tests.strategies import gather_cases
from tests.svg import SVG, coord, parse, rects


def reference_source(index: torch.Tensor, dim: int, p: tuple[int, ...]) -> tuple[int, ...]:
    source = list(p)
    source[dim] = int(index[p])
    return tuple(source)


@given(gather_cases(max_dims=3, max_side=3))
def test_gather_figure_shows_where_each_output_came_from(case):
    if case.input.dim() == 0:
        return
    fig = draw.gather(case.input, case.dim, case.index)
    root = parse(fig)
    dim = case.dim % case.input.dim()
    inputs, outputs = rects(root, "input"), rects(root, "output")
    index_cells = rects(root, "index")
    positions = list(itertools.product(*(range(s) for s in case.index.shape)))
    assert set(outputs) == set(positions) == set(index_cells)
    assert set(inputs) == set(itertools.product(*(range(s) for s in case.input.shape)))
    arrows = {
        coord(p.get("data-to").split(":")[1]): coord(p.get("data-from").split(":")[1])
        for p in root.iter(f"{SVG}path")
        if p.get("data-to")
    }
    if len(positions) <= 32:
        assert len(arrows) == len(positions)
    for p in positions:
        source = reference_source(case.index.cpu(), dim, p)
        if len(positions) <= 32:
            assert arrows[p] == source
        # the output cell wears the colour of the input cell it was copied from
        assert outputs[p].get("fill") == inputs[source].get("fill")
        assert fig.cell("output", p).text == draw.format_value(case.input.cpu()[source].item())


def test_gather_figure_text_values_and_rule_line():
    fig = draw.gather(example([[10, 20, 30], [40, 50, 60]]), 1, example([[0, 2], [1, 0]]))
    texts = [t.text for t in parse(fig).iter(f"{SVG}text")]
    assert "out[i][j] = input[i][index[i][j]]    (dim=1; out.shape == index.shape)" in texts
    assert [fig.cell("output", p).text for p in [(0, 0), (0, 1), (1, 0), (1, 1)]] == [
        "10",
        "30",
        "50",
        "40",
    ]
    assert fig.cell("output", (0, 1)).source == (0, 2)


def test_gather_figure_colours_follow_the_coordinate_along_dim():
    fig = draw.gather(example([[10, 20, 30], [40, 50, 60]]), 0, example([[1, 0, 1]]))
    root = parse(fig)
    inputs = rects(root, "input")
    # with dim=0 an input cell's colour is its row
    assert inputs[(0, 0)].get("fill") == inputs[(0, 2)].get("fill") == draw.PALETTE[0][0]
    assert inputs[(1, 1)].get("fill") == draw.PALETTE[1][0]


def test_svg_is_deterministic_and_has_no_volatile_metadata():
    args = (example([[1, 2], [3, 4]]), 1, example([[1, 0]]))
    a, b = draw.gather(*args).svg(), draw.gather(*args).svg()
    assert a == b
    assert not re.search(r"date|creator|matplotlib|0x[0-9a-f]{6,}", a, re.IGNORECASE)
    assert parse(draw.gather(*args)).find(f"{SVG}title").text == "torch.gather(input, dim=1, index)"


def test_repr_is_short_and_stable():
    fig = draw.gather(example([1, 2, 3]), 0, example([2, 2]))
    assert repr(fig) == "<Figure 'torch.gather(input, dim=0, index)': 3 tensors, 2 arrows>"


def test_many_outputs_are_drawn_without_arrows():
    fig = draw.gather(example(torch.zeros(4, 9)), 1, example(torch.zeros(4, 9, dtype=torch.long)))
    assert fig.links == []
    assert len(fig.cells("output")) == 36


def test_grid_rejects_four_dims_naming_the_shape():
    with pytest.raises(ValueError, match=re.escape("x has shape (1, 1, 1, 1)")):
        draw.Figure("t").grid("x", torch.zeros(1, 1, 1, 1), 0, 0)


def test_gather_figure_validates_like_checked_gather():
    with pytest.raises(IndexError, match="index holds 5"):
        draw.gather(example([1, 2]), 0, example([5]))


def test_unknown_tensor_name_lists_the_names():
    fig = draw.gather(example([1, 2]), 0, example([1]))
    with pytest.raises(KeyError, match=re.escape("['input', 'output', 'index']")):
        fig.cells("weights")
