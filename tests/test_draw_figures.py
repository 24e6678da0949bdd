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
from snippets.device import _example
from snippets.draw import canvas
from snippets.draw import hooks as draw_hooks
from tests.strategies import gather_cases
from tests.svg import SVG, arrows, panels, parse, rects, texts


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
    drawn = arrows(root)
    columns = max(case.input.size(-1), case.index.size(-1))
    if len(positions) <= 32 and columns <= 6:
        assert len(drawn) == len(positions)
    else:
        assert drawn == {}
    for p in positions:
        source = reference_source(case.index.cpu(), dim, p)
        if drawn:
            assert drawn[p] == source
        # the output cell wears the colour of the input cell it was copied from
        assert outputs[p].get("fill") == inputs[source].get("fill")
        assert fig.cell("output", p).text == canvas.format_value(case.input.cpu()[source].item())


def test_gather_figure_text_values_and_rule_caption():
    fig = draw.gather(_example([[10, 20, 30], [40, 50, 60]]), 1, _example([[0, 2], [1, 0]]))
    assert fig.caption == "out[i][j] = input[i][index[i][j]]    (dim=1; out.shape == index.shape)"
    assert "<figcaption" in fig.html() and fig.caption in fig.html()
    assert [fig.cell("output", p).text for p in [(0, 0), (0, 1), (1, 0), (1, 1)]] == [
        "10",
        "30",
        "50",
        "40",
    ]
    assert fig.cell("output", (0, 1)).source == (0, 2)


def test_gather_figure_colours_follow_the_coordinate_along_dim():
    fig = draw.gather(_example([[10, 20, 30], [40, 50, 60]]), 0, _example([[1, 0, 1]]))
    root = parse(fig)
    inputs = rects(root, "input")
    # with dim=0 an input cell's colour is its row
    assert inputs[(0, 0)].get("fill") == inputs[(0, 2)].get("fill") == canvas.PALETTE[0][0]
    assert inputs[(1, 1)].get("fill") == canvas.PALETTE[1][0]


def test_gather_figure_has_an_input_output_panel_and_an_index_panel():
    fig = draw.gather(_example([[10, 20, 30], [40, 50, 60]]), 1, _example([[0, 2], [1, 0]]))
    tensors = [
        sorted({r.get("data-tensor") for r in p.iter(f"{SVG}rect")} - {None}) for p in panels(fig)
    ]
    assert tensors == [["input", "output"], ["index"]]
    # every arrow lies in the panel of the two cells it joins
    assert len(list(panels(fig)[0].iter(f"{SVG}path"))) >= 4


def test_svg_is_deterministic_and_has_no_volatile_metadata():
    args = (_example([[1, 2], [3, 4]]), 1, _example([[1, 0]]))
    a, b = draw.gather(*args).svg(), draw.gather(*args).svg()
    assert a == b
    assert draw.gather(*args).html() == draw.gather(*args).html()
    for text in (a, draw.gather(*args).html()):
        assert not re.search(r"date|creator|matplotlib|0x[0-9a-f]{6,}|id=", text, re.IGNORECASE)
    assert parse(draw.gather(*args)).find(f"{SVG}title").text == "torch.gather(input, dim=1, index)"


def test_a_strided_or_expanded_view_draws_the_same_bytes():
    x = torch.arange(12).reshape(3, 4)
    view = x.t().contiguous().t()  # same values, other strides
    idx = torch.tensor([[0], [2], [1]])
    assert draw.gather(view, 1, idx.expand(3, 2)).html() == (
        draw.gather(x, 1, idx.expand(3, 2).contiguous()).html()
    )


def test_repr_is_short_and_stable():
    fig = draw.gather(_example([1, 2, 3]), 0, _example([2, 2]))
    assert repr(fig) == "<Figure 'torch.gather(input, dim=0, index)': 3 tensors, 2 arrows>"


def test_many_outputs_are_drawn_without_arrows_and_say_so():
    fig = draw.gather(_example(torch.zeros(4, 9)), 1, _example(torch.zeros(4, 9, dtype=torch.long)))
    assert fig.links == []
    assert len(fig.cells("output")) == 36
    assert "colours show where each cell came from" in texts(parse(fig))


def test_grid_rejects_four_dims_naming_the_shape():
    with pytest.raises(ValueError, match=re.escape("x has shape (1, 1, 1, 1)")):
        canvas.Figure("t").panel("p").grid("x", torch.zeros(1, 1, 1, 1), 0, 0)


def test_gather_figure_validates_like_checked_gather():
    with pytest.raises(IndexError, match="index holds 5"):
        draw.gather(_example([1, 2]), 0, _example([5]))


def test_unknown_tensor_name_lists_the_names():
    fig = draw.gather(_example([1, 2]), 0, _example([1]))
    with pytest.raises(KeyError, match=re.escape("['input', 'output', 'index']")):
        fig.cells("weights")


def test_hook_styles_are_hook_kinds_of_snippets_hooks():
    from snippets.hooks import _HOOK_KINDS

    assert set(draw_hooks.HOOK_STYLE) == set(_HOOK_KINDS) - {"global"}


def test_figures_draw_on_primitives_not_raw_svg_strings():
    """No figure module writes into a panel's private element lists (they use rect, path,
    circle, text and grid)."""
    from pathlib import Path

    package = Path(draw.__file__).parent
    for module in package.glob("*.py"):
        if module.name != "canvas.py":
            source = module.read_text(encoding="utf-8")
            assert "._shapes" not in source and "._texts" not in source, module.name
            assert "<rect" not in source and "<path" not in source, module.name


def test_every_subpackage_of_snippets_is_packaged():
    """A non-editable install (the Colab bootstrap's pip install) ships only the packages
    pyproject.toml lists: snippets.draw must be one of them, and the data folders the chapters
    read (snippets.bench_results, the benchmark's committed runs) with their files."""
    from pathlib import Path

    import tomllib

    root = Path(__file__).resolve().parents[1]
    setuptools = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    listed, data = setuptools["packages"], setuptools.get("package-data", {})
    found = sorted(
        ".".join(p.parent.relative_to(root).parts) for p in (root / "snippets").rglob("__init__.py")
    )
    assert sorted(name for name in listed if name not in data) == found
    assert sorted(data) == ["snippets.bench_results"]
    for name, patterns in data.items():
        folder = root.joinpath(*name.split("."))
        assert name in listed and [p for pat in patterns for p in folder.glob(pat)], name
