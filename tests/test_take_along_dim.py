"""take_along_dim: the helpers against the loop reference, PyTorch and gather; PyTorch pinned.

Chapter 2 relies on every PyTorch behaviour pinned below; when a PyTorch release changes one
(for example, starts to check index bounds when ``dim`` is given), a test here fails and says
which sentence of the chapter to revisit. Out-of-range indices are only ever run on CPU tensors:
on CUDA they can be a device-side assert that breaks the whole process.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode

from snippets import draw, reference
from snippets.device import DEVICE, _example
from snippets.draw import canvas
from snippets.exercises import ExerciseFailed, check
from snippets.indexing import (
    _check_take_along_dim_args,
    _take_along_dim_sources,
    broadcast_along_dim,
    checked_take_along_dim,
    sort_rows_by_key,
    take_along_dim_shape,
)
from tests.strategies import LAYOUTS, make_tensor
from tests.svg import SVG, arrows, coord, parse, rects, texts
from tests.test_pytorch_releases import TAKE_ALONG_DIM_WRAPS_PAST_THE_END

X = [[10, 20, 30], [40, 50, 60]]


# --- cases ----------------------------------------------------------------------------------


@dataclass
class TakeCase:
    input: torch.Tensor
    indices: torch.Tensor
    dim: int | None

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return (
            f"TakeCase(input shape={tuple(self.input.shape)} strides={self.input.stride()}, "
            f"dim={self.dim}, indices shape={tuple(self.indices.shape)} "
            f"strides={self.indices.stride()}, indices={self.indices.cpu().tolist()})"
        )


def _index_tensor(draw, shape: tuple[int, ...], high: int, seed: int) -> torch.Tensor:
    """int64 values in 0..high-1 of ``shape``: contiguous, transposed or expanded (stride 0)."""
    gen = torch.Generator().manual_seed(seed)
    layout = draw(st.sampled_from(["contiguous", "transposed", "expanded"]))
    if layout == "transposed" and len(shape) >= 2:
        t = torch.randint(0, high, shape[::-1], generator=gen).permute(*range(len(shape))[::-1])
    elif layout == "expanded" and len(shape) >= 1:
        t = torch.randint(0, high, (*shape[:-1], 1), generator=gen).expand(*shape)
    else:
        t = torch.randint(0, high, shape, generator=gen)
    assert tuple(t.shape) == tuple(shape)
    return t.to(DEVICE)


@st.composite
def take_cases(draw, *, max_dims: int = 4, max_side: int = 4) -> TakeCase:
    """Valid arguments with a dim: size-1 dims on either side, negative dims, empty sizes."""
    ndim = draw(st.integers(1, max_dims))
    dim = draw(st.integers(-ndim, ndim - 1))
    d = dim % ndim
    in_shape, idx_shape = [], []
    for k in range(ndim):
        if k == d:
            n = draw(st.integers(0, max_side))
            in_shape.append(n)
            idx_shape.append(draw(st.integers(0, max_side + 2)) if n else 0)
        else:
            size = draw(st.integers(0, max_side))
            mode = draw(st.sampled_from(["same", "input is 1", "indices is 1", "both 1"]))
            in_shape.append(1 if mode in ("input is 1", "both 1") else size)
            idx_shape.append(1 if mode in ("indices is 1", "both 1") else size)
    seed = draw(st.integers(0, 2**31 - 1))
    x = make_tensor(tuple(in_shape), draw(st.sampled_from(LAYOUTS)), seed)
    indices = _index_tensor(draw, tuple(idx_shape), max(in_shape[d], 1), seed + 1)
    return TakeCase(x, indices, dim)


@st.composite
def flat_cases(draw, *, max_side: int = 4) -> TakeCase:
    """Valid arguments for dim=None: any input (0-d too, any layout), any indices shape."""
    in_shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=0, max_size=3)))
    idx_shape = tuple(draw(st.lists(st.integers(0, max_side), min_size=0, max_size=3)))
    seed = draw(st.integers(0, 2**31 - 1))
    x = make_tensor(in_shape, draw(st.sampled_from(LAYOUTS)), seed)
    if x.numel() == 0:  # no valid index value: the indices must be empty
        idx_shape = (*idx_shape[:-1], 0) if idx_shape else (0,)
    indices = _index_tensor(draw, idx_shape, max(x.numel(), 1), seed + 1)
    return TakeCase(x, indices, None)


# --- the helpers against PyTorch, gather and the loop -----------------------------------------


@given(take_cases())
def test_checked_take_along_dim_matches_torch_gather_and_the_loop(case):
    out = checked_take_along_dim(case.input, case.indices, case.dim)
    assert out.shape == take_along_dim_shape(case.input.shape, case.indices.shape, case.dim)
    assert torch.equal(out, torch.take_along_dim(case.input, case.indices, case.dim))
    assert torch.equal(out, reference.take_along_dim(case.input, case.indices, case.dim))
    input_b, indices_b = broadcast_along_dim(case.input, case.indices, case.dim)
    assert torch.equal(out, torch.gather(input_b, case.dim, indices_b))


@given(take_cases())
def test_broadcast_along_dim_stretches_size_one_dims_without_copying(case):
    input_b, indices_b = broadcast_along_dim(case.input, case.indices, case.dim)
    d = case.dim % case.input.dim()
    assert indices_b.shape == take_along_dim_shape(case.input.shape, case.indices.shape, d)
    assert input_b.size(d) == case.input.size(d)  # along dim nothing is stretched
    for k in range(case.input.dim()):
        if k != d:
            assert input_b.size(k) == indices_b.size(k)
        for t, t_b in ((case.input, input_b), (case.indices, indices_b)):
            if t.size(k) == 1 and t_b.size(k) != 1:
                assert t_b.stride(k) == 0  # a view, not a copy
    shared = input_b.untyped_storage().data_ptr() == case.input.untyped_storage().data_ptr()
    assert shared  # expand makes a view: the same memory


@given(take_cases(max_dims=3, max_side=3))
def test_take_along_dim_sources_name_the_input_cell_each_output_reads(case):
    out = torch.take_along_dim(case.input, case.indices, case.dim)
    dim = case.dim % case.input.dim()  # the internal helper takes the dim its caller checked
    sources = _take_along_dim_sources(case.input, case.indices, dim)
    assert sources.shape == (*out.shape, case.input.dim())
    assert torch.equal(
        sources, reference._take_along_dim_sources(case.input, case.indices, case.dim)
    )
    assert torch.equal(case.input[tuple(sources.unbind(-1))], out)


@given(flat_cases())
def test_dim_none_flattens_and_returns_1d(case):
    out = checked_take_along_dim(case.input, case.indices)
    assert out.shape == (case.indices.numel(),)
    assert out.shape == take_along_dim_shape(case.input.shape, case.indices.shape, None)
    assert torch.equal(out, reference.take_along_dim(case.input, case.indices))
    assert torch.equal(out, torch.take(case.input, case.indices).reshape(-1))
    if case.input.is_contiguous() and case.indices.is_contiguous():
        # PyTorch's dim=None path calls view(-1) on both, which fails on most other layouts
        assert torch.equal(out, torch.take_along_dim(case.input, case.indices))


@given(
    st.lists(st.integers(0, 3), min_size=1, max_size=3),
    st.lists(st.integers(0, 3), min_size=1, max_size=3),
    st.integers(-3, 2),
)
def test_take_along_dim_shape_agrees_with_pytorch_or_both_refuse(in_shape, idx_shape, dim):
    """The shape formula, on any pair of shapes: the same shape as PyTorch, or both raise."""
    if not -len(in_shape) <= dim < len(in_shape) or in_shape[dim] == 0:
        return  # a bad dim is tested below; an empty dim is the ZeroDivisionError pin
    x = torch.zeros(in_shape)
    indices = torch.zeros(idx_shape, dtype=torch.long)
    try:
        expected = tuple(torch.take_along_dim(x, indices, dim).shape)
    except RuntimeError:
        with pytest.raises(ValueError):
            take_along_dim_shape(in_shape, idx_shape, dim)
    else:
        assert take_along_dim_shape(in_shape, idx_shape, dim) == expected


def test_negative_dim_is_the_same_dim():
    x, i = _example(X), _example([[2, 0]])
    assert torch.equal(checked_take_along_dim(x, i, -1), checked_take_along_dim(x, i, 1))
    assert torch.equal(checked_take_along_dim(x, _example([[1]]), -2), _example([[40, 50, 60]]))


def test_broadcasting_on_either_side():
    x = _example(X)
    # indices (1, 2) stretched over the 2 rows of input
    assert checked_take_along_dim(x, _example([[2, 0]]), 1).tolist() == [[30, 10], [60, 40]]
    # input (1, 3) stretched over the 3 rows of indices
    row = _example([[10, 20, 30]])
    assert checked_take_along_dim(row, _example([[2], [0], [1]]), 1).tolist() == [[30], [10], [20]]
    # (B, N, D) with (B, K, 1): one index per row, stretched over the D features
    feats = _example(torch.arange(12).reshape(2, 3, 2))
    out = checked_take_along_dim(feats, _example([[[2], [0]], [[1], [1]]]), 1)
    assert out.tolist() == [[[4, 5], [0, 1]], [[8, 9], [8, 9]]]


# --- the helpers' error messages ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("indices", "dim", "error", "message"),
    [
        (
            [2, 0],
            1,
            ValueError,
            "indices has 1 dims but input has 2 (indices shape (2,), input shape (2, 3)); "
            "take_along_dim broadcasts sizes, never the number of dims",
        ),
        (
            [[0], [1], [2]],
            1,
            ValueError,
            "indices.shape[0] is 3 but input.shape[0] is 2 (indices shape (3, 1), input shape "
            "(2, 3)): away from dim=1 the sizes must be equal, or one of them 1 (it is stretched)",
        ),
        (
            [[0, 3]],
            1,
            IndexError,
            "indices holds 3 at position (0, 1), but input.shape[1] is 3 (shape (2, 3)): along "
            "dim 1 the valid indices are 0..2",
        ),
        ([[0, -1]], 1, IndexError, "indices holds -1 at position (0, 1)"),
        ([[2, 0, 0]], 0, IndexError, "along dim 0 the valid indices are 0..1"),
        (
            [7],
            None,
            IndexError,
            "indices holds 7 at position (0,), but input.reshape(-1).shape[0] is 6",
        ),
        (
            [[0]],
            2,
            IndexError,
            "dim=2 is out of range for input of shape (2, 3): valid dims are -2..1",
        ),
        ([[0]], -3, IndexError, "dim=-3 is out of range"),
    ],
)
def test_checked_take_along_dim_names_argument_shapes_and_dim(indices, dim, error, message):
    with pytest.raises(error, match=re.escape(message)):
        checked_take_along_dim(_example(X), _example(indices), dim)


def test_checked_take_along_dim_wants_int64_with_or_without_dim():
    for dim in (1, None):
        with pytest.raises(
            TypeError, match=re.escape("indices must be int64 for take_along_dim, got int32")
        ):
            checked_take_along_dim(_example(X), _example([[0]], dtype=torch.int32), dim)
    with pytest.raises(TypeError, match="got float32"):
        checked_take_along_dim(_example(X), _example([[0.0]]), 1)


def test_checked_take_along_dim_rejects_non_tensors_bool_dim_0d_input_and_empty_dim():
    with pytest.raises(TypeError, match=re.escape("indices must be a torch.Tensor, got list")):
        checked_take_along_dim(_example(X), [[0]], 1)
    with pytest.raises(TypeError, match="dim must be an int or None, got bool"):
        checked_take_along_dim(_example(X), _example([[0]]), True)
    with pytest.raises(IndexError, match=re.escape("dim=0 given but input is 0-d (shape ())")):
        checked_take_along_dim(_example(5), _example(0), 0)
    with pytest.raises(IndexError, match=re.escape("valid indices are none (the dim is empty)")):
        checked_take_along_dim(_example(torch.zeros(2, 0)), _example([[0], [0]]), 1)
    with pytest.raises(ValueError, match="indices is on meta but input is on"):
        checked_take_along_dim(_example(X), torch.zeros(1, 1, dtype=torch.long, device="meta"), 1)


def test_checked_take_along_dim_accepts_what_pytorch_dim_none_cannot_view():
    x = _example(X).t()  # (3, 2), not contiguous
    assert checked_take_along_dim(x, _example([[1, 2]])).tolist() == [40, 20]
    assert checked_take_along_dim(_example(5), _example(0)).tolist() == [5]  # 0-d: 1-D result


def test_check_take_along_dim_args_returns_the_non_negative_dim_or_none():
    assert _check_take_along_dim_args(_example(X), _example([[0]]), -1) == 1
    assert _check_take_along_dim_args(_example(X), _example([[0]]), None) is None


def test_take_along_dim_shape_errors():
    with pytest.raises(ValueError, match=re.escape("indices has 1 dims but input has 2")):
        take_along_dim_shape((2, 3), (2,), 1)
    with pytest.raises(IndexError, match=re.escape("dim=0 given but input is 0-d")):
        take_along_dim_shape((), (), 0)
    assert take_along_dim_shape((), (), None) == (1,)


# --- what PyTorch itself does (pinned: the chapter relies on it) -------------------------------

# These describe the wrapping take_along_dim of PyTorch 2.10 and later; 2.9.1 raises instead.
# tests/test_pytorch_releases.py pins both sides with their release range (the version matrix
# runs it on every release), so on a release before the range these are not run.
only_where_take_along_dim_wraps = pytest.mark.skipif(
    not TAKE_ALONG_DIM_WRAPS_PAST_THE_END.holds_on(torch.__version__),
    reason=f"take_along_dim wraps only {TAKE_ALONG_DIM_WRAPS_PAST_THE_END.range()}",
)


@only_where_take_along_dim_wraps
def test_pytorch_take_along_dim_does_not_check_bounds_when_dim_is_given():
    """CPU tensors on purpose. It wraps every index modulo input.size(dim), silently."""
    x = torch.tensor(X)
    bad = torch.tensor([[0, 3], [5, -1]])
    out = torch.take_along_dim(x, bad, dim=1)  # no error
    assert out.tolist() == [[10, 10], [60, 60]]
    assert torch.equal(out, torch.take_along_dim(x, bad % 3, dim=1))
    # the known case: (1, 2) indices broadcast over the rows; 5 reads column 5 % 3 = 2
    assert torch.take_along_dim(x, torch.tensor([[0, 5]]), dim=1).tolist() == [[10, 30], [40, 60]]
    # gather, given the same index, does check
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 1 with size 3"):
        torch.gather(x, 1, bad)


@only_where_take_along_dim_wraps
@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(0, 1),
    st.lists(st.integers(-50, 50), min_size=1, max_size=6),
)
def test_pytorch_take_along_dim_with_dim_is_take_along_dim_of_the_index_modulo_size(
    rows, cols, dim, values
):
    x = torch.arange(rows * cols).reshape(rows, cols)  # CPU on purpose
    shape = (1, len(values)) if dim == 1 else (len(values), 1)
    bad = torch.tensor(values).reshape(shape)
    wrapped = bad % x.size(dim)
    assert torch.equal(torch.take_along_dim(x, bad, dim), torch.take_along_dim(x, wrapped, dim))
    if bool(((bad < 0) | (bad >= x.size(dim))).any()):
        with pytest.raises(IndexError, match="the valid indices are"):
            checked_take_along_dim(x, bad, dim)


class _Ops(TorchDispatchMode):
    """Records the ATen ops that run, with their result's shape and strides."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.calls.append((str(func), tuple(out.shape), out.stride()))
        return out


@only_where_take_along_dim_wraps
def test_pytorch_take_along_dim_is_expand_remainder_gather():
    """Why it wraps: the index is taken modulo the size, then gathered. And the remainder makes
    a full-size copy of the broadcast index: broadcasting the index is not free."""
    x = torch.zeros(2, 5, 3)
    top = torch.tensor([[4], [1]]).unsqueeze(-1)  # (2, 1, 1), stretched to (2, 1, 3)
    with _Ops() as ops:
        torch.take_along_dim(x, top, dim=1)
    assert [name for name, _, _ in ops.calls] == [
        "aten.expand.default",
        "aten.expand.default",
        "aten.remainder.Scalar",
        "aten.gather.default",
    ]
    assert ops.calls[2][1:] == ((2, 1, 3), (3, 3, 1))  # materialised: no stride 0 left
    flat = torch.tensor([0, 4])
    with _Ops() as ops:
        torch.take_along_dim(x, flat)
    assert [name for name, _, _ in ops.calls] == [
        "aten.view.default",
        "aten.view.default",
        "aten.gather.default",
    ]


def test_pytorch_take_along_dim_dim_none_checks_bounds_and_rejects_negatives():
    x = torch.tensor(X)  # CPU on purpose
    with pytest.raises(RuntimeError, match="index 7 is out of bounds for dimension 0 with size 6"):
        torch.take_along_dim(x, torch.tensor([7]))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 6"):
        torch.take_along_dim(x, torch.tensor([-1]))


@only_where_take_along_dim_wraps
def test_pytorch_take_along_dim_into_an_empty_dim_is_a_zero_division():
    with pytest.raises(RuntimeError, match=r"^ZeroDivisionError$"):
        torch.take_along_dim(torch.zeros(2, 0), torch.zeros(2, 1, dtype=torch.long), dim=1)


def test_pytorch_index_dtypes_side_by_side():
    x = _example(X)
    i32 = _example([[2, 0]], dtype=torch.int32)
    with pytest.raises(
        RuntimeError,
        match=re.escape("torch.take_along_dim(): dtype of indices should be Long but got Int"),
    ):
        torch.take_along_dim(x, i32, dim=1)
    assert torch.take_along_dim(x, i32).tolist() == [30, 10]  # dim=None: int32 is accepted
    assert torch.gather(x, 1, i32.expand(2, -1)).tolist() == [[30, 10], [60, 40]]
    with pytest.raises(
        RuntimeError, match=re.escape("take(): Expected a long tensor for index, but got Int")
    ):
        torch.take(x, i32)
    with pytest.raises(
        RuntimeError, match=re.escape("gather(): Expected dtype int32/int64 for index")
    ):
        torch.take_along_dim(x, _example([0.0]))  # dim=None: the message comes from gather
    with pytest.raises(
        RuntimeError,
        match=re.escape("torch.take_along_dim(): dtype of indices should be Long but got Float"),
    ):
        torch.take_along_dim(x, _example([[0.0]]), dim=1)


def test_pytorch_shapes_side_by_side():
    x = _example(X)
    idx = _example([[5, 0], [1, 2]])
    assert torch.take(x, idx).tolist() == [[60, 10], [20, 30]]  # the index's shape
    assert torch.take_along_dim(x, idx).tolist() == [60, 10, 20, 30]  # always 1-D
    assert torch.take_along_dim(x, torch.tensor(4).to(DEVICE)).shape == (1,)
    assert torch.take_along_dim(x, _example([[2, 0]]), dim=1).shape == (2, 2)  # broadcast
    assert torch.gather(x, 1, _example([[2, 0]])).shape == (1, 2)  # no broadcast


def test_pytorch_take_wraps_negative_indices_but_take_along_dim_dim_none_does_not():
    x = torch.tensor(X)  # CPU: the out-of-range cases
    assert torch.take(x, torch.tensor([-1, -6])).tolist() == [60, 10]
    with pytest.raises(
        IndexError, match=re.escape("out of range: tried to access index 6 on a tensor of 6")
    ):
        torch.take(x, torch.tensor([6]))


def test_pytorch_error_messages_the_chapter_reads():
    x = _example(X)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "torch.take_along_dim(): input and indices should have the same number of "
            "dimensions, but got 2 dimensions for input, and 1 dimensions for indices"
        ),
    ):
        torch.take_along_dim(x, _example([2, 0]), dim=1)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "The size of tensor a (2) must match the size of tensor b (3) at non-singleton "
            "dimension 0"
        ),
    ):
        torch.take_along_dim(x, _example([[0], [1], [2]]), dim=1)
    with pytest.raises(
        IndexError,
        match=re.escape("Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ):
        torch.take_along_dim(x, _example([[0]]), dim=2)
    with pytest.raises(RuntimeError, match=re.escape("view size is not compatible with input")):
        torch.take_along_dim(x.t(), _example([0, 1]))  # dim=None calls view(-1)
    with pytest.raises(RuntimeError, match=re.escape("view size is not compatible with input")):
        torch.take_along_dim(x, _example([[0, 1]]).expand(2, 2))  # on the indices too
    with pytest.raises(RuntimeError, match=re.escape("view size is not compatible with input")):
        torch.take_along_dim(x[:, ::2], _example([0, 1]))  # a sliced input
    with pytest.raises(
        IndexError, match=re.escape("Dimension specified as 0 but tensor has no dimensions")
    ):
        torch.take_along_dim(_example(5), _example(0), dim=0)
    assert torch.gather(_example(5), 0, _example(0)).item() == 5  # gather takes a 0-d input


def test_pytorch_take_along_dim_backward_sums_over_stretched_input():
    w = _example([[1.0, 2.0, 3.0]]).requires_grad_()  # (1, 3), stretched over 3 rows
    torch.take_along_dim(w, _example([[0], [0], [2]]), dim=1).sum().backward()
    assert w.grad.tolist() == [[2.0, 0.0, 1.0]]


def test_source_notes_examples_print_what_they_say():
    """Seed note 000's two examples are right; its claims about shapes are not (see chapter)."""
    a = _example(X)
    idx = _example([[2, 1, 0], [1, 0, 2]])
    assert torch.take_along_dim(a, idx, dim=1).tolist() == [[30, 20, 10], [50, 40, 60]]
    b = _example([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    idx = _example([[[0, 1], [1, 0]], [[0, 0], [1, 1]]])
    assert torch.take_along_dim(b, idx, dim=2).tolist() == [[[1, 2], [4, 3]], [[5, 5], [8, 8]]]
    # "The indices tensor must have the same shape as the input tensor": no
    assert torch.take_along_dim(a, _example([[1]]), dim=1).shape == (2, 1)
    # "returns a new tensor with the same dimensionality as the input tensor": not with dim=None
    assert torch.take_along_dim(a, _example([[1]])).dim() == 1


# --- the partners: argsort, argmax / topk with keepdim=True -------------------------------------


@given(
    st.lists(st.integers(0, 3), min_size=0, max_size=2),
    st.integers(0, 5),
    st.integers(0, 3),
    st.integers(0, 2**31 - 1),
    st.booleans(),
    st.sampled_from(LAYOUTS),
)
def test_sort_rows_by_key_matches_the_loop_ties_included(lead, n, d, seed, descending, layout):
    x = make_tensor((*lead, n, d), layout, seed)
    gen = torch.Generator().manual_seed(seed)
    key = torch.randint(0, 3, (*lead, n), generator=gen).float().to(DEVICE)  # many ties
    rows, order = sort_rows_by_key(x, key, descending=descending)
    ref_rows, ref_order = reference._sort_rows_by_key(x, key, descending=descending)
    assert torch.equal(order, ref_order)
    assert torch.equal(rows, ref_rows)
    assert torch.equal(
        torch.take_along_dim(key, order, dim=-1),
        key.sort(dim=-1, stable=True, descending=descending).values,
    )


def test_sort_rows_by_key_errors():
    with pytest.raises(ValueError, match=re.escape("key must be x.shape[:-1] = (3,)")):
        sort_rows_by_key(_example([[1, 1], [2, 2], [3, 3]]), _example([0.1, 0.2]))
    with pytest.raises(ValueError, match=re.escape("x must have at least 2 dims (..., N, D)")):
        sort_rows_by_key(_example([1, 2]), _example([0.1, 0.2]))


@given(st.integers(1, 4), st.integers(1, 6), st.integers(0, 2**31 - 1), st.data())
def test_argmax_topk_argsort_with_keepdim_feed_take_along_dim(b, n, seed, data):
    gen = torch.Generator().manual_seed(seed)
    scores = torch.stack([torch.randperm(n, generator=gen) for _ in range(b)]).float().to(DEVICE)
    k = data.draw(st.integers(0, n))
    best = scores.argmax(dim=1, keepdim=True)
    assert torch.equal(
        torch.take_along_dim(scores, best, dim=1), scores.max(dim=1, keepdim=True).values
    )
    top = scores.topk(k, dim=1)
    assert torch.equal(torch.take_along_dim(scores, top.indices, dim=1), top.values)
    order = scores.argsort(dim=1)
    assert torch.equal(torch.take_along_dim(scores, order, dim=1), scores.sort(dim=1).values)
    # argsort of a permutation is its inverse: it undoes the reordering
    back = torch.take_along_dim(torch.take_along_dim(scores, order, 1), order.argsort(dim=1), 1)
    assert torch.equal(back, scores)


def test_argmax_without_keepdim_does_not_fit():
    scores = _example([[0.1, 0.9, 0.3]])
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        torch.take_along_dim(scores, scores.argmax(dim=1), dim=1)


# --- exercises ------------------------------------------------------------------------------


GOOD = {
    "sort_by_key": lambda v, key: torch.take_along_dim(v, key.argsort(dim=1), dim=1),
    "undo_shuffle": lambda s, perm: torch.take_along_dim(
        s, perm.argsort(dim=1).unsqueeze(-1), dim=1
    ),
    "top_k_labels": lambda scores, labels, k: torch.take_along_dim(
        labels.unsqueeze(0), scores.topk(k, dim=1).indices, dim=1
    ),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_exercise_right_answers_pass(name, capsys):
    check(GOOD[name], name)
    assert capsys.readouterr().out == f"✓ {name}: all 100 random cases match the reference.\n"


def test_exercise_wrong_answers_fail():
    with pytest.raises(ExerciseFailed, match="undo_shuffle failed on case"):
        check(lambda s, perm: torch.take_along_dim(s, perm.unsqueeze(-1), dim=1), "undo_shuffle")
    with pytest.raises(ExerciseFailed, match="sort_by_key failed on case"):
        check(lambda v, key: v.sort(dim=1).values, "sort_by_key")


# --- the figure ---------------------------------------------------------------------------


@given(take_cases(max_dims=3, max_side=3))
def test_figure_shows_the_stretched_index_and_where_each_output_came_from(case):
    fig = draw.take_along_dim(case.input, case.indices, case.dim)
    root = parse(fig)
    sources = reference._take_along_dim_sources(case.input, case.indices, case.dim).cpu()
    out_shape = tuple(sources.shape[:-1])
    positions = list(itertools.product(*(range(s) for s in out_shape)))
    inputs, outputs = rects(root, "input"), rects(root, "output")
    given_cells, stretched = rects(root, "indices"), rects(root, "indices_b")
    assert set(outputs) == set(stretched) == set(positions)
    assert set(given_cells) == set(itertools.product(*(range(s) for s in case.indices.shape)))
    # the stretched copies: every cell of indices_b that is not at its original's place
    copies = {
        coord(r.get("data-copy").split(":")[1]): coord(r.get("data-copy-of").split(":")[1])
        for r in root.iter(f"{SVG}rect")
        if r.get("data-copy")
    }
    idx = case.indices.cpu()
    expected = {}
    for p in positions:
        original = tuple(0 if idx.size(k) == 1 else c for k, c in enumerate(p))
        if original != p:
            expected[p] = original
        assert fig.cell("indices_b", p).text == str(int(idx[original]))
    assert copies == expected
    drawn = arrows(root, into="output")
    if len(positions) <= 32:
        assert len(drawn) == len(positions)
    for p in positions:
        source = tuple(int(v) for v in sources[p].tolist())
        if len(positions) <= 32:
            assert drawn[p] == source
        assert outputs[p].get("fill") == inputs[source].get("fill")
        assert fig.cell("output", p).text == canvas.format_value(case.input.cpu()[source].item())


def test_figure_captions_and_dim_none():
    fig = draw.take_along_dim(_example(X), _example([[2, 0]]), 1)
    words = texts(parse(fig))
    assert (
        "out[i][j] = input_b[i][indices_b[i][j]]    (dim=1; indices (1, 2) → (2, 2), "
        "input (2, 3) → (2, 3))"
    ) in words
    assert "dashed: a copy made by broadcasting" in words
    with pytest.raises(ValueError, match=re.escape("draw.take_along_dim needs a dim")):
        draw.take_along_dim(_example(X), _example([0]), None)
    with pytest.raises(IndexError, match="indices holds 3"):
        draw.take_along_dim(_example(X), _example([[3]]), 1)


# --- issues 8 and 9: indices outside 0..size-1, release by release --------------------------

_RELEASE = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])


def test_pytorch_take_along_dim_negative_and_past_the_end_depend_on_the_release():
    """With a dim: seen on 2.13.0 (this machine) and 2.14.1, -1 reads the last element (as
    NumPy's take_along_axis does) and 3 wraps to 0; on 2.9.1 both raise "index ... is out of
    bounds". Other releases were not checked."""
    x = torch.tensor([[10, 20, 30]])  # CPU on purpose
    if _RELEASE in ((2, 13), (2, 14)):
        assert torch.take_along_dim(x, torch.tensor([[-1, -3]]), dim=1).tolist() == [[30, 10]]
        assert torch.take_along_dim(x, torch.tensor([[3, 4]]), dim=1).tolist() == [[10, 20]]
    elif _RELEASE == (2, 9):
        for bad in ([[-1]], [[3]]):
            with pytest.raises(RuntimeError, match="out of bounds"):
                torch.take_along_dim(x, torch.tensor(bad), dim=1)
    else:
        pytest.skip(f"PyTorch {torch.__version__}: this behaviour was checked on 2.9.1, 2.13, 2.14")


@pytest.mark.parametrize("bad", [-1, -3, 3, 4])
@pytest.mark.parametrize("dim", [1, None])
def test_helper_and_loop_agree_on_indices_outside_0_to_size_minus_1(bad, dim):
    """The helper, its loop reference and the figure (which draws _take_along_dim_sources)
    refuse the same indices."""
    x = torch.tensor([[10, 20, 30]])  # CPU on purpose
    indices = torch.tensor([[0, bad]])
    if dim is None and 0 <= bad < x.numel():
        pytest.skip("in range when flattened")
    with pytest.raises(IndexError, match=f"indices holds {bad} at position"):
        checked_take_along_dim(x, indices, dim)
    with pytest.raises(IndexError, match=f"index {bad} is out of bounds"):
        reference.take_along_dim(x, indices, dim)
    if dim is not None:
        with pytest.raises(IndexError, match=f"indices holds {bad} at position"):
            draw.take_along_dim(x, indices, dim)
        with pytest.raises(IndexError, match=f"index {bad} is out of bounds"):
            reference._take_along_dim_sources(x, indices, dim)


def test_the_figure_never_draws_a_coordinate_pytorch_does_not_read():
    """Issue 9: the sources used to name columns 3 and -1 where PyTorch 2.13 reads 0 and 2.
    The figure checks the indices at its entry, before it asks for the sources."""
    x = torch.tensor([[10, 20, 30]])
    with pytest.raises(IndexError, match=re.escape("the valid indices are 0..2")):
        draw.take_along_dim(x, torch.tensor([[3, -1]]), dim=1)
    with pytest.raises(ValueError, match=r"draw\.take_along_dim needs a dim"):
        draw.take_along_dim(x, torch.tensor([[0]]), None)


@pytest.mark.parametrize(
    ("input_shape", "indices_shape", "error", "message"),
    [
        ((2, -1), (2, 1), ValueError, "input_shape = (2, -1) has the negative size -1 at dim 1"),
        ((2, 3), (2.0, 1), TypeError, "indices_shape = (2.0, 1) has a float at dim 0"),
        ((2, 3), (True, 1), TypeError, "indices_shape = (True, 1) has a bool at dim 0"),
        ("23", (2, 1), TypeError, "input_shape must be a tuple of ints or a torch.Size, got str"),
        (torch.zeros(2, 3), (2, 1), TypeError, "input_shape must be a tuple of ints"),
    ],
)
def test_take_along_dim_shape_refuses_what_is_not_a_shape(
    input_shape, indices_shape, error, message
):
    with pytest.raises(error, match=re.escape(message)):
        take_along_dim_shape(input_shape, indices_shape, 1)


def test_take_along_dim_shape_returns_python_ints():
    np = pytest.importorskip("numpy")
    out = take_along_dim_shape((np.int64(2), 3), [1, np.int64(4)], 1)
    assert out == (2, 4) and all(type(n) is int for n in out)
    out = take_along_dim_shape(torch.Size([2, 3]), (2, 2), None)
    assert out == (4,) and type(out[0]) is int
