"""snippets.argmax: full coordinates of a maximum, against the loop reference and PyTorch.

Also pins what PyTorch does with ties and NaN, what ``torch.unravel_index`` does (and does not)
check, and what the Q&A recipe that the chapter replaces really produces.
"""

import itertools
import re

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from snippets import draw, reference
from snippets.argmax import (
    argmax_coordinates,
    argmax_index,
    argmax_over,
    max_along,
    nbytes,
    storage_nbytes,
)
from snippets.device import DEVICE, _example
from snippets.draw import canvas
from snippets.exercises import ExerciseFailed, check
from tests.strategies import LAYOUTS, make_tensor, shapes
from tests.svg import arrow_paths, parse, rects

DTYPES = (torch.float32, torch.float64, torch.float16, torch.int64, torch.int32, torch.int8)
NAN, INF = float("nan"), float("inf")


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal values, shapes and dtypes, NaN equal to NaN."""
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and torch.equal(a.isnan(), b.isnan())
        and (
            torch.equal(a.nan_to_num(0.0), b.nan_to_num(0.0))
            if a.is_floating_point()
            else torch.equal(a, b)
        )
    )


def _tensor(draw_, shape: tuple[int, ...], nan: bool) -> torch.Tensor:
    """A tensor of any layout and dtype (ints tie often; expanded inputs tie everywhere)."""
    layout = draw_(st.sampled_from(LAYOUTS))
    dtype = draw_(st.sampled_from(DTYPES[:3] if nan else DTYPES))
    seed = draw_(st.integers(0, 2**31 - 1))
    x = make_tensor(shape, layout, seed, dtype=dtype)
    if nan and x.numel():  # about 1 element in 8 each: NaN, inf, -inf
        gen = torch.Generator().manual_seed(seed + 1)
        kind = torch.randint(0, 8, x.shape, generator=gen).to(DEVICE)
        x = x.masked_fill(kind == 0, NAN).masked_fill(kind == 1, INF).masked_fill(kind == 2, -INF)
    return x


@st.composite
def inputs(draw_, *, nan=False):
    """A non-empty tensor of 0 to 4 dims."""
    shape = draw_(shapes(min_dims=0, max_dims=4, allow_empty=False))
    return _tensor(draw_, shape, nan)


@st.composite
def inputs_and_dim(draw_, *, nan=False):
    """A tensor of 1 to 4 dims (maybe empty away from ``dim``) and a dim, maybe negative."""
    shape = list(draw_(shapes(min_dims=1, max_dims=4)))
    dim = draw_(st.integers(-len(shape), len(shape) - 1))
    shape[dim] = max(shape[dim], 1)
    return _tensor(draw_, tuple(shape), nan), dim


# --- argmax_coordinates -------------------------------------------------------------------


@given(inputs())
def test_whole_tensor_coordinates_match_the_loop_and_unravel_index(x):
    coords = argmax_coordinates(x)
    assert coords.shape == (x.dim(),) and coords.dtype == torch.int64
    assert torch.equal(coords, reference.argmax_coordinates(x))
    if x.dim():
        flat = torch.argmax(x)
        assert torch.equal(coords, torch.stack(torch.unravel_index(flat, x.shape)))
        assert same(x[tuple(coords)], x.max())


@given(inputs_and_dim())
def test_coordinates_along_a_dim_match_the_loop_argmax_and_max(case):
    x, dim = case
    d = dim % x.dim()
    coords = argmax_coordinates(x, dim)
    rest = (*x.shape[:d], *x.shape[d + 1 :])
    assert coords.shape == (*rest, x.dim()) and coords.dtype == torch.int64
    assert coords.is_contiguous()
    assert torch.equal(coords, reference.argmax_coordinates(x, dim))
    values, indices = torch.max(x, dim)
    assert torch.equal(coords[..., d], torch.argmax(x, dim))
    assert torch.equal(coords[..., d], indices)
    assert same(x[tuple(coords.unbind(-1))], values)
    # away from dim, a coordinate is the position itself
    others = [k for k in range(x.dim()) if k != d]
    for place, k in enumerate(others):
        view = [1] * len(rest)
        view[place] = -1
        positions = torch.arange(x.size(k), device=DEVICE).view(view).expand(rest)
        assert torch.equal(coords[..., k], positions)


@given(inputs(nan=True))
def test_nan_wins_whole_tensor_first_nan_first(x):
    coords = argmax_coordinates(x)
    assert torch.equal(coords, reference.argmax_coordinates(x))
    if x.dim():
        assert torch.equal(coords, torch.stack(torch.unravel_index(torch.argmax(x), x.shape)))
    if bool(x.isnan().any()):
        assert bool(x[tuple(coords)].isnan())


@given(inputs_and_dim(nan=True))
def test_nan_wins_along_a_dim(case):
    x, dim = case
    coords = argmax_coordinates(x, dim)
    assert torch.equal(coords, reference.argmax_coordinates(x, dim))
    assert same(max_along(x, dim), torch.max(x, dim).values)
    assert same(max_along(x, dim), reference._max_along(x, dim))


def test_zero_dim_tensor_has_no_coordinates():
    x = _example(5.0)
    assert argmax_coordinates(x).shape == (0,)
    assert argmax_coordinates(x, 0).shape == (0,)
    assert argmax_coordinates(x, -1).shape == (0,)
    assert torch.equal(reference.argmax_coordinates(x), argmax_coordinates(x))
    assert argmax_index(x) == () and argmax_index(x, 0) == ()
    assert torch.equal(max_along(x, 0), x)


def test_empty_away_from_dim_gives_empty_coordinates():
    x = _example(torch.zeros(0, 3, 2))
    assert argmax_coordinates(x, 1).shape == (0, 2, 3)
    assert argmax_coordinates(x, -1).shape == (0, 3, 3)
    assert max_along(x, 2).shape == (0, 3)


# --- argmax_index: broadcast pieces, nothing repeated ------------------------------------


@given(inputs_and_dim())
def test_argmax_index_reads_the_max_and_repeats_nothing(case):
    x, dim = case
    d = dim % x.dim()
    index = argmax_index(x, dim)
    assert len(index) == x.dim()
    assert same(x[index], torch.max(x, dim).values)
    assert torch.equal(index[d], torch.argmax(x, dim))
    for k, piece in enumerate(index):
        if k != d:  # an arange of x.size(k) numbers, shaped to broadcast
            assert piece.numel() == x.size(k)
            assert piece.dim() == x.dim() - 1
            assert storage_nbytes(piece) == x.size(k) * 8


@given(inputs())
def test_argmax_index_without_dim_is_unravel_index(x):
    index = argmax_index(x)
    assert all(t.dim() == 0 for t in index)
    assert same(x[index], x.max())


# --- max_along ----------------------------------------------------------------------------


@given(inputs_and_dim(), st.booleans())
def test_max_along_matches_max_amax_and_the_loop(case, keepdim):
    x, dim = case
    out = max_along(x, dim, keepdim=keepdim)
    assert torch.equal(out, torch.max(x, dim, keepdim=keepdim).values)
    assert torch.equal(out, torch.amax(x, dim, keepdim=keepdim))
    assert out.shape == torch.argmax(x, dim, keepdim=keepdim).shape
    assert torch.equal(out.squeeze(dim) if keepdim else out, reference._max_along(x, dim))
    index = torch.argmax(x, dim, keepdim=True)
    assert torch.equal(
        torch.take_along_dim(x, index, dim).squeeze(dim), out.squeeze(dim) if keepdim else out
    )


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: argmax_coordinates(_example(torch.zeros(2, 0))),
            ValueError,
            "x of shape (2, 0) has no elements: an empty tensor has no maximum",
        ),
        (
            lambda: argmax_coordinates(_example(torch.zeros(2, 0)), dim=1),
            ValueError,
            "x.shape[1] is 0 (x shape (2, 0)): along dim 1 there is nothing to take the maximum of",
        ),
        (
            lambda: argmax_coordinates(_example(torch.zeros(0, 3)), dim=-2),
            ValueError,
            "x.shape[0] is 0 (x shape (0, 3)): along dim 0",
        ),
        (
            lambda: argmax_coordinates(_example(torch.zeros(2, 3)), dim=2),
            IndexError,
            "dim=2 is out of range for x of shape (2, 3): valid dims are -2..1",
        ),
        (
            lambda: max_along(_example(torch.zeros(2, 3)), -3),
            IndexError,
            "dim=-3 is out of range for x of shape (2, 3)",
        ),
        (
            lambda: argmax_index(_example([True, False]), 0),
            TypeError,
            "argmax_index needs real numbers, but x is bool: argmax does not order bool (use x.to(torch.uint8))",
        ),
        (
            lambda: argmax_coordinates(torch.tensor([1 + 1j])),
            TypeError,
            "argmax_coordinates needs real numbers, but x is complex64: argmax does not order complex64; compare magnitudes with x.abs()",
        ),
        (
            lambda: argmax_coordinates([1, 2]),
            TypeError,
            "x must be a torch.Tensor, got list",
        ),
        (
            lambda: max_along(_example([1, 2]), True),
            TypeError,
            "dim must be an int, got bool",
        ),
        (
            lambda: nbytes(_example([1]), [1]),
            TypeError,
            "tensors[1] must be a torch.Tensor, got list",
        ),
    ],
)
def test_errors_name_the_argument_shape_and_dim(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


# --- memory -------------------------------------------------------------------------------


def test_nbytes_counts_elements_and_storage_nbytes_counts_memory():
    a = _example(torch.arange(6))
    assert nbytes(a) == 48 and storage_nbytes(a) == 48
    wide = a.view(1, 6).expand(100, 6)
    assert nbytes(wide) == 4800 and storage_nbytes(wide) == 48
    assert storage_nbytes(a, wide, a[2:]) == 48  # one storage, counted once
    assert storage_nbytes(a, a.clone()) == 96
    assert nbytes() == 0 == storage_nbytes()


def seed_example_3(x: torch.Tensor):
    """Example 3 of the Q&A article the chapter replaces, verbatim but for the input."""
    max_index_dim_1 = torch.argmax(x, dim=1)
    n, h, w = max_index_dim_1.shape
    ar = lambda k: torch.arange(k, device=x.device)  # noqa: E731
    batch_indices = ar(n).unsqueeze(1).unsqueeze(2).unsqueeze(3).repeat(1, h, w, 5)
    channel_indices = max_index_dim_1.unsqueeze(3).repeat(1, 1, 1, 5)
    height_indices = ar(h).unsqueeze(0).unsqueeze(2).unsqueeze(3).repeat(n, 1, w, 5)
    width_indices = ar(w).unsqueeze(0).unsqueeze(0).unsqueeze(3).repeat(n, h, 1, 5)
    parts = (batch_indices, channel_indices, height_indices, width_indices)
    full_indices = torch.stack(parts, dim=-1)
    max_values = x[parts]
    return parts, full_indices, max_values


@pytest.mark.parametrize("w", [5, 6])
def test_pytorch_seed_example_3_adds_an_axis_of_five_copies(w):
    x = _example(torch.randn(2, 3, 4, w, generator=torch.Generator().manual_seed(0)))
    parts, full_indices, max_values = seed_example_3(x)
    # the "5" is a hard-coded copy count, not the width: with w=6 the extra axis is still 5
    assert full_indices.shape == (2, 4, w, 5, 4)
    assert max_values.shape == (2, 4, w, 5)
    # the values are right, five times over
    expected = x.max(dim=1).values
    assert torch.equal(max_values, expected.unsqueeze(-1).expand(2, 4, w, 5))
    # every part is a materialised copy: 5x the (N, H, W) coordinates each
    assert all(p.is_contiguous() and p.stride()[-1] == 1 for p in parts)
    assert nbytes(*parts) == storage_nbytes(*parts) == 4 * 2 * 4 * w * 5 * 8
    assert nbytes(full_indices) == 5 * nbytes(argmax_coordinates(x, 1))
    # the coordinates themselves are right (each of the 5 copies)
    assert torch.equal(full_indices[..., 0, :], argmax_coordinates(x, 1))


def test_pytorch_meshgrid_returns_stride_zero_views_and_repeat_copies():
    a, b = _example(torch.arange(3)), _example(torch.arange(4))
    grid_a, grid_b = torch.meshgrid(a, b, indexing="ij")
    assert grid_a.stride() == (1, 0) and grid_b.stride() == (0, 1)
    assert storage_nbytes(grid_a, grid_b) == 7 * 8
    repeated = a.unsqueeze(1).repeat(1, 4)
    assert torch.equal(repeated, grid_a) and storage_nbytes(repeated) == 12 * 8


# --- what PyTorch does (pinned: the chapter relies on it) ---------------------------------


def test_pytorch_ties_go_to_the_first_index():
    t = _example([3, 7, 7, 1])
    assert int(t.argmax()) == 1
    assert int(t.max(0).indices) == 1
    assert int(_example([5, 1, 1]).argmin()) == 1
    rows = _example([[3.0, 7.0, 7.0, 1.0], [5.0, 5.0, 5.0, 5.0]])
    values, indices = rows.max(dim=1)
    assert values.tolist() == [7.0, 5.0] and indices.tolist() == [1, 0]
    assert rows.argmax(dim=1).tolist() == [1, 0]


@pytest.mark.parametrize("n", [1000, 100_000])
def test_pytorch_ties_first_index_in_long_rows_too(n):
    # long rows use vectorised (CPU) and block-parallel (CUDA) kernels
    x = torch.zeros(3, n)
    x[:, [n // 10, n // 2, n - 1]] = 1.0
    x = _example(x)
    assert x.argmax(dim=1).tolist() == [n // 10] * 3
    assert x.max(dim=1).indices.tolist() == [n // 10] * 3
    assert int(x.argmax()) == n // 10
    assert x.t().argmax(dim=0).tolist() == [n // 10] * 3


def test_pytorch_nan_beats_inf_and_the_first_nan_wins():
    x = _example([1.0, NAN, INF, NAN, 3.0])
    assert int(x.argmax()) == 1
    assert int(x.argmin()) == 1  # NaN "wins" argmin as well
    values, indices = x.max(dim=0)
    assert bool(values.isnan()) and int(indices) == 1
    assert bool(x.amax().isnan()) and bool(x.max().isnan())
    assert int(_example([INF, NAN]).argmax()) == 1
    assert int(_example([NAN, INF]).argmax()) == 0
    # the fix: give NaN the lowest rank before asking
    assert int(x.nan_to_num(nan=-INF).argmax()) == 2
    assert int(torch.where(x.isnan(), -INF, x).argmax()) == 2
    # nan_to_num also maps -inf to the lowest finite float, so NaN ranks below a real -inf ...
    assert int(_example([NAN, -INF]).nan_to_num(nan=-INF).argmax()) == 1
    assert (
        int(torch.where(_example([NAN, -INF]).isnan(), -INF, _example([NAN, -INF])).argmax()) == 0
    )
    # ... but a row of NaN alone still answers with the first NaN
    assert int(_example([NAN, NAN]).nan_to_num(nan=-INF).argmax()) == 0


def test_pytorch_argmax_without_dim_is_a_flat_index():
    x = _example([[3, 8, 1], [9, 2, 5]])
    assert int(x.argmax()) == 3  # 9 is x.flatten()[3]
    assert x.argmax().shape == ()
    assert x.argmax(keepdim=True).shape == (1, 1)  # keepdim without dim keeps every dim, size 1
    assert torch.equal(torch.take_along_dim(x, x.argmax()), _example([9]))


def test_pytorch_max_with_and_without_dim():
    x = _example([[3, 8, 1], [9, 2, 5]])
    out = torch.max(x, 1)
    assert type(out).__module__ == "torch.return_types" and type(out).__name__ == "max"
    assert len(out) == 2 and isinstance(out, tuple)
    values, indices = out
    assert torch.equal(out[0], out.values) and torch.equal(values, _example([8, 9]))
    assert torch.equal(out[1], out.indices) and torch.equal(indices, _example([1, 0]))
    assert isinstance(torch.max(x), torch.Tensor) and torch.max(x).shape == ()
    assert torch.equal(
        torch.max(x, _example([[5, 5, 5], [5, 5, 5]])), _example([[5, 8, 5], [9, 5, 5]])
    )


def test_pytorch_unravel_index_does_not_check_the_range():
    # the docs say indices must lie in [0, prod(shape) - 1]; out-of-range values wrap around
    assert [int(t) for t in torch.unravel_index(_example(24), (2, 3, 4))] == [0, 0, 0]
    assert [int(t) for t in torch.unravel_index(_example(-1), (2, 3, 4))] == [1, 2, 3]
    assert [int(t) for t in torch.unravel_index(_example(7), (2, 3, 4))] == [0, 1, 3]
    idx32 = torch.unravel_index(_example([7], dtype=torch.int32), (2, 3, 4))
    assert all(t.dtype == torch.int64 for t in idx32)
    with pytest.raises(
        TypeError, match=re.escape("expected 'indices' to be integer dtype, but got torch.float32")
    ):
        torch.unravel_index(_example([1.0]), (2, 3))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: _example(torch.zeros(0)).argmax(),
            IndexError,
            "argmax(): Expected reduction dim to be specified for input.numel() == 0.",
        ),
        (
            lambda: _example(torch.zeros(2, 0)).argmax(1),
            IndexError,
            "argmax(): Expected reduction dim 1 to have non-zero size.",
        ),
        (
            lambda: _example(torch.zeros(0, 3)).max(0),
            IndexError,
            "max(): Expected reduction dim 0 to have non-zero size.",
        ),
        (
            lambda: _example(torch.zeros(2, 3)).argmax(2),
            IndexError,
            "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
        ),
        (
            lambda: torch.take_along_dim(_example([[1, 2]]), _example([[1, 2]]).argmax(1), 1),
            RuntimeError,
            "torch.take_along_dim(): input and indices should have the same number of dimensions, but got 2 dimensions for input, and 1 dimensions for indices",
        ),
        (
            lambda: _example([[1, 2]]).gather(1, _example([[1, 2]]).argmax(1)),
            RuntimeError,
            "Index tensor must have the same number of dimensions as input tensor",
        ),
    ],
)
def test_pytorch_pytorch_error_messages(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_pytorch_bool_argmax_is_refused_on_the_cpu():
    # the message comes from the CPU kernel (CUDA's kernel words it differently), so the
    # chapter shows the helper's message instead
    with pytest.raises(RuntimeError, match=re.escape("argmax(): does not support bool input")):
        torch.tensor([True, False]).argmax()


def test_pytorch_there_is_no_nanargmax():
    assert not hasattr(torch, "nanargmax") and not hasattr(torch.Tensor, "nanargmax")


def test_pytorch_empty_rows_away_from_dim_are_fine():
    assert _example(torch.zeros(0, 3)).argmax(1).shape == (0,)


# --- the figure ---------------------------------------------------------------------------


@given(
    st.sampled_from([(3, 2, 3), (2, 2, 2), (4, 3), (1, 5), (2, 3, 1)]),
    st.integers(0, 2**31 - 1),
    st.booleans(),
    st.data(),
)
def test_argmax_figure_draws_the_loop_reference(shape, seed, use_ints, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 4, shape, generator=gen) if use_ints else torch.randn(shape, generator=gen)
    x = _example(x)
    fig = draw.argmax_along(x, dim)
    root = parse(fig)
    d = dim % x.dim()
    coords = reference.argmax_coordinates(x, dim).cpu()
    winners = {tuple(c) for c in coords.reshape(-1, x.dim()).tolist()}
    # in x, exactly the winners are coloured, each by its position along dim
    for p, rect in rects(root, "x").items():
        fill = canvas.PALETTE[p[d] % len(canvas.PALETTE)][0] if p in winners else canvas.NEUTRAL[0]
        assert rect.get("fill") == fill
    # each argmax cell: an arrow from its winner, in the winner's colour; the value drawn
    arrows = {p.get("data-to"): (p.get("data-from"), p.get("stroke")) for p in arrow_paths(root)}
    argmax_rects = rects(root, "argmax")
    assert set(argmax_rects) == set(itertools.product(*(range(s) for s in coords.shape[:-1])))
    for q, rect in argmax_rects.items():
        c = int(coords[q][d])
        fill, stroke = canvas.PALETTE[c % len(canvas.PALETTE)]
        assert rect.get("fill") == fill
        source = ",".join(map(str, coords[q].tolist()))
        assert arrows["argmax:" + ",".join(map(str, q))] == (f"x:{source}", stroke)
        assert fig.cell("argmax", q).text == str(c)
    # the coordinates table: one row per argmax position, in order
    table = rects(root, "coordinates")
    for row, q in enumerate(itertools.product(*(range(s) for s in coords.shape[:-1]))):
        for k in range(x.dim()):
            assert fig.cell("coordinates", (row, k)).text == str(int(coords[q][k]))
            colour = canvas.PALETTE[int(coords[q][d]) % len(canvas.PALETTE)][0]
            assert table[(row, k)].get("fill") == colour


def test_argmax_figure_rejects_what_it_cannot_draw():
    with pytest.raises(ValueError, match=re.escape("draws x with 2 or 3 dims; x has shape (4,)")):
        draw.argmax_along(_example([1, 2, 3, 4]), 0)
    with pytest.raises(ValueError, match="names has 2 entries but x has 3 dims"):
        draw.argmax_along(_example(torch.zeros(2, 2, 2)), 0, names=("h", "w"))
    with pytest.raises(ValueError, match=re.escape("x.shape[1] is 0 (x shape (2, 0))")):
        draw.argmax_along(_example(torch.zeros(2, 0)), 1)


# --- exercises ----------------------------------------------------------------------------

GOOD = {
    "peak_coordinates": lambda h: torch.stack(
        torch.unravel_index(h.flatten(1).argmax(1), h.shape[1:]), dim=-1
    ),
    "values_at_best": lambda s, v: torch.take_along_dim(v, s.argmax(1)[:, None, None], 1).squeeze(
        1
    ),
    "channel_argmax_coordinates": lambda x: argmax_coordinates(x, 1),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_exercise_right_answer_passes(name, capsys):
    check(GOOD[name], name)
    assert capsys.readouterr().out == f"✓ {name}: all 100 random cases match the reference.\n"


def test_exercise_wrong_answers_fail():
    # the flat index is not a coordinate
    with pytest.raises(ExerciseFailed, match=r"expected shape \(\d+, 2\), got shape \(\d+,\)"):
        check(lambda h: h.flatten(1).argmax(1), "peak_coordinates")
    # forgetting the values' last dim: gather with a (B, 1, 1) index reads one feature only
    with pytest.raises(ExerciseFailed, match="expected shape"):
        check(lambda s, v: v.gather(1, s.argmax(1)[:, None, None]).squeeze(1), "values_at_best")
    # the seed's recipe, with its extra axis of five copies
    with pytest.raises(ExerciseFailed, match=r"got shape \(\d+, \d+, \d+, 5, 4\)"):
        check(lambda x: seed_example_3(x)[1], "channel_argmax_coordinates")


def test_storage_nbytes_counts_meta_tensors_like_real_ones():
    """Issue 9: every meta tensor has data_ptr() 0, so three storages were counted as one."""
    for device in ("cpu", "meta"):
        a = torch.zeros(5, dtype=torch.int64, device=device)
        b = torch.zeros(5, dtype=torch.int64, device=device)
        c = torch.zeros(5, dtype=torch.int64, device=device)
        assert storage_nbytes(a, b, c) == 120, device
        assert storage_nbytes(a, a[1:], a.view(5, 1).expand(5, 4)) == 40, device


# --- several dims, tied maxima, integer division (chapter 3, argmax-several-dims) ------------


def test_pytorch_argmax_and_max_take_one_dim_amax_and_amin_a_tuple():
    # Seen on 2.13.0 (CPU): a tuple of dims is a TypeError for argmax and max(dim), a reduction
    # over all of them for amax and amin.
    x = torch.tensor([[[1, 5], [2, 0]], [[4, 4], [9, 3]]], device=DEVICE)
    with pytest.raises(TypeError, match=r"argmax\(\): argument 'dim' must be int, not tuple"):
        x.argmax(dim=(1, 2))
    with pytest.raises(TypeError, match=r"max\(\) received an invalid combination of arguments"):
        x.max(dim=(1, 2))
    assert x.amax(dim=(1, 2)).tolist() == [5, 9]
    assert x.amin(dim=(-2, -1)).tolist() == [0, 3]


@given(shapes(min_dims=1, max_dims=3, max_side=3, allow_empty=False), st.integers(0, 2**16))
def test_argwhere_and_nonzero_find_every_tied_maximum(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 3, shape, generator=gen).to(DEVICE)  # few values: many ties
    where = (x == x.max()).argwhere()
    best = max(x.flatten().tolist())
    loop = [p for p in itertools.product(*(range(s) for s in shape)) if x[p].item() == best]
    assert [tuple(r) for r in where.tolist()] == loop  # row-major order
    assert torch.equal(torch.stack((x == x.max()).nonzero(as_tuple=True), dim=-1), where)
    assert tuple(where[0].tolist()) == tuple(torch.unravel_index(x.argmax(), shape))  # the first


@given(st.integers(-50, 50), st.integers(1, 7))
def test_floor_division_of_integer_tensors_is_python_floor_division(value, width):
    # On 2.13.0 `//` on tensors floors (as Python's does); rounding_mode="trunc" rounds to zero;
    # `/` is true division and returns a float tensor.
    i = torch.tensor([value], device=DEVICE)
    assert (i // width).item() == value // width
    assert torch.div(i, width, rounding_mode="floor").item() == value // width
    assert torch.div(i, width, rounding_mode="trunc").item() == int(value / width)
    assert (i / width).dtype == torch.float32 and (i % width).item() == value % width


@given(
    shapes(min_dims=1, max_dims=4, max_side=3, allow_empty=False),
    st.sampled_from(LAYOUTS),
    st.integers(0, 2**16),
    st.data(),
)
def test_argmax_over_matches_the_loop_and_amax(shape, layout, seed, data):
    x = make_tensor(shape, layout, seed, dtype=torch.float32)
    x = x.round()  # small integers: ties happen, and the first must win
    n = len(shape)
    dims = tuple(
        data.draw(st.permutations(range(n)).map(lambda p: p[: data.draw(st.integers(1, n))]))
    )
    dims = tuple(d - n if data.draw(st.booleans()) else d for d in dims)  # negative dims too
    coords = argmax_over(x, dims)
    assert torch.equal(coords, reference._argmax_over(x, dims))
    rest = [d for d in range(n) if d not in {d % n for d in dims}]
    assert coords.shape == (*[shape[d] for d in rest], len(dims))
    # reading x at the coordinates gives amax over dims
    moved = x.movedim([d % n for d in dims], list(range(n - len(dims), n)))
    picked = moved.flatten(n - len(dims))
    flat = torch.zeros(coords.shape[:-1], dtype=torch.int64, device=x.device)
    for i, d in enumerate(dims):
        flat = flat * x.shape[d] + coords[..., i]
    values = picked.gather(-1, flat.unsqueeze(-1)).squeeze(-1)
    assert torch.equal(values, x.amax(dim=dims))


def test_argmax_over_errors_name_the_argument():
    x = torch.zeros(2, 0, 3)
    with pytest.raises(TypeError, match=r"^dims must be a tuple or list of ints, got int"):
        argmax_over(x, 1)
    with pytest.raises(ValueError, match=r"^dims is empty"):
        argmax_over(x, ())
    with pytest.raises(
        IndexError, match=r"^dims\[1\]=3 is out of range for x of shape \(2, 0, 3\)"
    ):
        argmax_over(x, (0, 3))
    with pytest.raises(ValueError, match=r"^dims \(0, -3\) name the same dim"):
        argmax_over(x, (0, -3))
    with pytest.raises(ValueError, match=r"^x.shape\[1\] is 0"):
        argmax_over(x, (1, 2))
    assert argmax_over(x, (0, 2)).shape == (0, 2)  # no rows: nothing to reduce, no error
