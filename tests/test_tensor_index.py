"""snippets.tensor_index: advanced indexing against the loop reference and against PyTorch.

Random cases mix ints (negative too), slices (with steps and empty ranges), None, ``...``,
integer index tensors that broadcast against each other (int64 and int32, negative values,
expanded) and bool masks over one or two dims, on inputs of every layout with empty sizes.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets import draw, reference
from snippets.device import DEVICE
from snippets.exercises import EXERCISES, check
from snippets.tensor_index import _index_sources, _normalize_indices, checked_index, index_shape
from tests.strategies import INDEX_DTYPES, LAYOUTS, make_tensor, shapes
from tests.svg import crossings, panels, shown_px


@dataclass
class IndexCase:
    x: torch.Tensor
    indices: tuple

    def __repr__(self) -> str:
        def show(item):
            if isinstance(item, torch.Tensor):
                return f"tensor({item.cpu().tolist()}, dtype={item.dtype})"
            return repr(item)

        return f"IndexCase(x shape={tuple(self.x.shape)}, indices=({', '.join(map(show, self.indices))}))"


def _gen(seed: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


@st.composite
def index_cases(draw) -> IndexCase:
    """A valid ``x[indices]``: ``indices`` a tuple whose items name dims of ``x`` left to right."""
    x_shape = draw(shapes(min_dims=0, max_dims=4, max_side=4))
    x = make_tensor(x_shape, draw(st.sampled_from(LAYOUTS)), draw(st.integers(0, 2**20)))
    seed = draw(st.integers(0, 2**20))
    gen = _gen(seed)
    # one broadcast shape for all index tensors of the case; each takes a suffix of it with
    # some sizes replaced by 1
    b_shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    items: list = []
    d = 0
    ellipsis_used = False
    while d < len(x_shape):
        size = x_shape[d]
        kinds = ["int", "slice", "tensor", "tensor", "none", "stop"]
        if d + 1 < len(x_shape):
            kinds.append("mask2")
        kinds.append("mask1")
        if not ellipsis_used:
            kinds.append("ellipsis")
        kind = draw(st.sampled_from(kinds))
        if kind == "stop":
            break
        if kind == "none":
            items.append(None)
            continue
        if kind == "ellipsis":  # stands for the next 0..2 dims
            ellipsis_used = True
            skip = draw(st.integers(0, min(2, len(x_shape) - d)))
            items.append(Ellipsis)
            d += skip
            if d == len(x_shape):
                break
            continue
        if kind == "int":
            if size == 0:
                items.append(slice(None))
            else:
                items.append(draw(st.integers(-size, size - 1)))
            d += 1
        elif kind == "slice":
            start = draw(st.none() | st.integers(-5, 5))
            stop = draw(st.none() | st.integers(-5, 5))
            step = draw(st.none() | st.integers(1, 3))
            items.append(slice(start, stop, step))
            d += 1
        elif kind == "tensor":
            if size == 0:
                items.append(slice(None))
                d += 1
                continue
            own = b_shape[draw(st.integers(0, len(b_shape) - 1)) :]
            own = [s if draw(st.booleans()) else 1 for s in own]
            dtype = draw(st.sampled_from(INDEX_DTYPES))
            t = torch.randint(-size, size, tuple(own), generator=gen, dtype=dtype)
            if draw(st.booleans()) and own and own[-1] > 1:
                t = t[..., :1].expand(*own)  # stride 0
            items.append(t.to(DEVICE))
            d += 1
        else:
            k = 2 if kind == "mask2" else 1
            mask = torch.rand(x_shape[d : d + k], generator=gen) < 0.5
            items.append(mask.to(DEVICE))
            d += k
    # the mask's count of True must broadcast with the tensors' shape: keep only cases that do
    return IndexCase(x, tuple(items))


def _torch_result(case: IndexCase):
    try:
        return case.x[case.indices], None
    except (IndexError, RuntimeError) as err:
        return None, err


@given(index_cases())
def test_index_shape_is_the_shape_pytorch_gives(case):
    out, err = _torch_result(case)
    if err is not None:  # index tensors and masks that do not broadcast together
        with pytest.raises(IndexError, match="do not broadcast together"):
            index_shape(tuple(case.x.shape), case.indices)
        return
    assert index_shape(tuple(case.x.shape), case.indices) == tuple(out.shape)


@settings(max_examples=60)
@given(index_cases())
def test_checked_index_and_the_loop_reference_equal_pytorch(case):
    out, err = _torch_result(case)
    if err is not None:
        with pytest.raises(IndexError):
            checked_index(case.x, case.indices)
        return
    assert torch.equal(checked_index(case.x, case.indices), out)
    assert torch.equal(reference.advanced_index(case.x, case.indices), out)


@given(index_cases())
def test_index_sources_point_at_the_elements_read(case):
    out, err = _torch_result(case)
    if err is not None:
        return
    sources = _index_sources(tuple(case.x.shape), case.indices)
    assert sources.shape == (*out.shape, case.x.dim())
    if case.x.dim() and out.numel():
        assert bool((sources >= 0).all())
        assert torch.equal(case.x[tuple(sources.unbind(-1))], out)


@given(index_cases())
def test_a_mask_equals_its_nonzero_tensors(case):
    """``x[..., mask, ...]`` is ``x[..., *mask.nonzero(as_tuple=True), ...]``."""
    out, err = _torch_result(case)
    if err is not None:
        return
    spelled = []
    for item in case.indices:
        if isinstance(item, torch.Tensor) and item.dtype == torch.bool:
            spelled += list(item.nonzero(as_tuple=True))
        else:
            spelled.append(item)
    assert torch.equal(case.x[tuple(spelled)], out)


# --- the placement rule, case by case -------------------------------------------------------

X_SHAPE = (5, 6, 7, 8)
IDX_I = torch.tensor([[0, 1, 2]], device=DEVICE)  # (1, 3)
IDX_J = torch.tensor([[0], [1]], device=DEVICE)  # (2, 1): broadcasts with IDX_I to (2, 3)
ALL = slice(None)


@pytest.mark.parametrize(
    ("indices", "expected"),
    [
        ((IDX_I, IDX_J), (2, 3, 7, 8)),  # adjacent at the front: in place
        ((ALL, IDX_I, IDX_J), (5, 2, 3, 8)),  # adjacent in the middle: in place
        ((IDX_I, ALL, IDX_J), (2, 3, 6, 8)),  # a slice between: first
        ((IDX_I, None, IDX_J), (2, 3, 1, 7, 8)),  # None between: first
        ((ALL, IDX_I, 0, IDX_J), (5, 2, 3)),  # an int between: dropped first, so in place
        ((ALL, 0, ALL, IDX_I), (5, 7, 1, 3)),  # NumPy would give (1, 3, 5, 7)
        ((IDX_I, ..., IDX_J), (2, 3, 6, 7)),  # ... of two dims between: first
        ((ALL, ALL, IDX_I, ..., IDX_J), (5, 6, 2, 3)),  # ... of zero dims: adjacent, in place
    ],
)
def test_where_the_broadcast_dims_go(indices, expected):
    x = torch.zeros(X_SHAPE, device=DEVICE)
    assert tuple(x[indices].shape) == expected  # PyTorch 2.13.0 (this file pins it)
    assert index_shape(X_SHAPE, indices) == expected


def test_pytorch_reads_an_int_as_select_not_as_an_index_tensor():
    """A surprise pinned on 2.13.0: NumPy treats an int next to index arrays as one of them
    (``x[:, 0, :, i]`` of a (5, 6, 7, 8) array has shape (3, 5, 7)); PyTorch selects first."""
    np = pytest.importorskip("numpy")
    i = [0, 1, 2]
    x = torch.zeros(X_SHAPE)
    assert np.zeros(X_SHAPE)[:, 0, :, i].shape == (3, 5, 7)
    assert tuple(x[:, 0, :, torch.tensor(i)].shape) == (5, 7, 3)


def test_a_0d_integer_tensor_acts_as_an_int():
    """Seen on 2.13.0 on the CPU (the chapter shows it there); run on CUDA, this checks that a
    0-d CUDA tensor is read the same way, which index_shape assumes."""
    x = torch.zeros(2, 3, 4, device=DEVICE)
    zero_d = torch.tensor(0, device=DEVICE)
    rows = torch.tensor([1, 2], device=DEVICE)
    assert tuple(x[zero_d, :, rows].shape) == (3, 2)  # as x[0, :, rows]
    assert index_shape((2, 3, 4), (zero_d, ALL, rows)) == (3, 2)


def test_a_list_of_sequences_is_read_as_a_tuple_with_a_warning_on_2_13():
    """Pinned on 2.13.0: a short list holding a sequence is read as a tuple of per-dim
    indices, with a deprecation warning (whose text still says "will be changed in pytorch
    2.9"). A list of ints is a tensor index. When this changes, the chapter must too."""
    x = torch.arange(12).reshape(3, 4)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = x[[[0, 1], [1, 2]]]
    assert out.tolist() == [1, 6]  # x[0, 1], x[1, 2]
    assert len(seen) == 1 and "non-tuple sequence" in str(seen[0].message)
    assert x[torch.tensor([[0, 1], [1, 2]])].shape == (2, 2, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x[[0, 2]].tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]
        assert x[[[0, 1]] * 32].shape == (32, 2, 4)  # 32 items and more: a tensor index
    with warnings.catch_warnings(record=True), pytest.raises(IndexError, match="too many"):
        warnings.simplefilter("always")
        x[[[0, 1]] * 31]  # 31 items: a tuple of 31 indices


def test_negative_and_out_of_range_values_on_the_cpu_on_2_13():
    """Pinned on 2.13.0 (CPU): indexing and take count negatives from the end; index_select
    and gather refuse them; take_along_dim wraps any value modulo the size."""
    x = torch.arange(12).reshape(3, 4)
    assert x[torch.tensor([-1])].tolist() == [[8, 9, 10, 11]]
    assert torch.take(x, torch.tensor([-1])).tolist() == [11]
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_select(0, torch.tensor([-1]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds"):
        x.gather(0, torch.tensor([[-1, 0, 0, 0]]))
    assert torch.take_along_dim(x, torch.tensor([[4]]), 1).tolist() == [[0], [4], [8]]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x[torch.tensor([3])]


def test_repeated_indices_accumulate_only_when_asked():
    idx = torch.tensor([0, 0, 2], device=DEVICE)
    v = torch.zeros(4, device=DEVICE)
    v[idx] += 1
    assert v.tolist() == [1.0, 0.0, 1.0, 0.0]  # read, add, write: the repeat is lost
    acc = torch.zeros(4, device=DEVICE).index_put_((idx,), torch.ones(3, device=DEVICE), True)
    assert acc.tolist() == [2.0, 0.0, 1.0, 0.0]


def test_advanced_indexing_copies_and_basic_indexing_views():
    x = torch.arange(12.0, device=DEVICE).reshape(3, 4).clone()  # its own storage
    assert x[1:]._base is x and x[:, 0]._base is x
    assert x[torch.tensor([1, 2], device=DEVICE)]._base is None
    chained = x.clone()
    chained[torch.tensor([0, 1], device=DEVICE)][:, 0] = 100
    assert torch.equal(chained, x)  # the write went to a temporary copy
    direct = x.clone()
    direct[torch.tensor([0, 1], device=DEVICE), 0] = 100
    assert direct[:2, 0].tolist() == [100.0, 100.0]


# --- errors name the index, the shapes and the dim ------------------------------------------


@pytest.mark.parametrize(
    ("shape", "indices", "error", "message"),
    [
        ((3, 4), (0, 1, 2), IndexError, r"indices name 3 dims but x has 2 \(x shape \(3, 4\)\)"),
        ((3, 4), (5,), IndexError, r"indices\[0\] is 5, but x.shape\[0\] is 3"),
        (
            (3, 4),
            (torch.tensor([0.0]),),
            TypeError,
            r"indices\[0\] must be an int64, int32 or bool",
        ),
        ((3, 4), torch.tensor([1], dtype=torch.uint8), TypeError, r"use \.bool\(\)"),
        ((3, 4), (..., ...), IndexError, r"indices\[1\] is a second '\.\.\.'"),
        ((3, 4), (slice(None, None, -1),), ValueError, r"indices\[0\] has step -1"),
        ((3, 4), (True,), TypeError, r"indices\[0\] is a Python bool"),
        ((3, 4), ("a",), TypeError, r"indices\[0\] must be an int, slice, None"),
        ((3, 4), [0, 1], TypeError, r"indices is a list"),
        (
            (3, 4),
            torch.tensor([True, False]),
            IndexError,
            r"bool mask of shape \(2,\).*sizes \(3,\)",
        ),
        ((3, 4), torch.tensor(True), IndexError, r"0-d bool tensor"),
        ((3, 4), (torch.tensor(7),), IndexError, r"0-d tensor holding 7"),
        (
            (3, 4),
            (torch.tensor([0, 1]), torch.tensor([0, 1, 2])),
            IndexError,
            r"do not broadcast together: dim 0: \(2,\), dim 1: \(3,\)",
        ),
        ((3, "4"), (0,), TypeError, r"x_shape\[1\] must be an int"),
        ((3, -1), (0,), ValueError, r"x_shape\[1\] must be >= 0"),
        (torch.zeros(2), (0,), TypeError, r"x_shape must be a sequence of ints"),
    ],
)
def test_bad_indices_are_named(shape, indices, error, message):
    with pytest.raises(error, match=message):
        index_shape(shape, indices)


def test_checked_index_names_a_bad_value_on_any_device():
    x = torch.zeros(3, 4, device=DEVICE)
    with pytest.raises(
        IndexError,
        match=r"indices\[1\] holds -5 at position \(0, 1\), but x.shape\[1\] is 4 .*-4\.\.3",
    ):
        checked_index(x, (ALL, torch.tensor([[0, -5]], device=DEVICE)))
    with pytest.raises(TypeError, match=r"x must be a torch\.Tensor"):
        checked_index([[1]], (0,))


def test_normalize_expands_the_ellipsis_and_appends_full_slices():
    kinds = [(k, d) for k, d, _ in _normalize_indices((2, 3, 4), (0,))]
    assert kinds == [("int", 0), ("slice", 1), ("slice", 2)]


# --- exercises -----------------------------------------------------------------------------

GOOD = {
    "batch_pick": lambda x, idx: x[torch.arange(x.shape[0], device=x.device), idx],
    "sliding_windows": lambda x, k: x[
        torch.arange(max(x.shape[0] - k + 1, 0), device=x.device)[:, None]
        + torch.arange(k, device=x.device)
    ],
    "count_occurrences": lambda idx, n: torch.zeros(
        n, dtype=torch.long, device=idx.device
    ).index_put_((idx,), torch.ones_like(idx), accumulate=True),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_the_chapters_exercises_pass_right_answers(name, capsys):
    check(GOOD[name], name)
    assert capsys.readouterr().out == f"✓ {name}: all 100 random cases match the reference.\n"
    assert EXERCISES[name].reference.__module__ == "snippets.reference"


def test_count_occurrences_catches_the_repeated_index_bug():
    from snippets.exercises import ExerciseFailed

    def plus_equals(idx, n):
        out = torch.zeros(n, dtype=torch.long, device=idx.device)
        out[idx] += 1
        return out

    with pytest.raises(ExerciseFailed, match="first difference"):
        check(plus_equals, "count_occurrences")


# --- the figure ----------------------------------------------------------------------------

FIG_X = [[0, 1, 2, 3], [10, 11, 12, 13], [20, 21, 22, 23]]


def test_the_figure_shows_where_each_output_came_from():
    x = torch.tensor(FIG_X, device=DEVICE)
    rows = torch.tensor([[0], [2]], device=DEVICE)
    cols = torch.tensor([1, 3, 0], device=DEVICE)
    fig = draw.advanced_index(x, rows, cols)
    out = x[rows, cols]
    for coord, cell in fig.cells("output").items():
        assert cell.text == str(int(out[coord]))
        assert cell.source == (int(rows[coord[0], 0]), int(cols[coord[1]]))
        assert fig.cell("x", cell.source).text == cell.text
        # the output cell, its rows entry, its cols entry and its source share a colour
        assert fig.cell("rows_b", coord).fill == cell.fill == fig.cell("cols_b", coord).fill
    assert len(fig.links) == out.numel() == 6
    assert repr(fig) == "<Figure 'x[rows, cols]': 4 tensors, 6 arrows>"
    for panel in panels(fig):
        assert crossings(panel) == []
        # every label at least 11 px on a phone column (342 px) and a desktop one (672 px)
        assert shown_px(panel, 342) >= 11


def test_the_figure_refuses_what_it_cannot_draw():
    x = torch.tensor(FIG_X)
    with pytest.raises(ValueError, match=r"x must have 2 dims, got shape \(12,\)"):
        draw.advanced_index(x.reshape(-1), torch.tensor([0]), torch.tensor([0]))
    with pytest.raises(IndexError, match=r"indices\[1\] holds 4"):
        draw.advanced_index(x, torch.tensor([0]), torch.tensor([4]))
    with pytest.raises(ValueError, match=r"rows and cols broadcast to \(2, 2, 1\)"):
        draw.advanced_index(
            x, torch.zeros(2, 1, 1, dtype=torch.long), torch.tensor([0, 1]).view(2, 1)
        )
