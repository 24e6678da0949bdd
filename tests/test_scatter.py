"""snippets.scatter and draw.scatter: writing by index, against the loop references and PyTorch.

PyTorch's own scatter family is tested against the same loops (random shapes, negative dims,
empty sizes, int32 and int64 indices, duplicates), and its surprises on 2.13.0 are pinned.
"""

import re
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from snippets import draw, reference
from snippets.device import DEVICE
from snippets.draw import canvas
from snippets.scatter import (
    _check_scatter_args,
    checked_scatter_add,
    put_along_dim,
    segment_mean,
    segment_sum,
)
from tests.strategies import gather_cases, make_tensor
from tests.svg import arrow_paths, coord, crossings, panels, parse, rects, shown_px

PINNED = "2.13.0"


def on_pinned_release() -> bool:
    return torch.__version__.split("+")[0] == PINNED


pinned = pytest.mark.skipif(not on_pinned_release(), reason=f"pins PyTorch {PINNED} behaviour")


@dataclass
class ScatterCase:
    input: torch.Tensor
    dim: int
    index: torch.Tensor
    src: torch.Tensor

    def __repr__(self) -> str:
        return (
            f"ScatterCase(input shape={tuple(self.input.shape)} dtype={self.input.dtype}, "
            f"dim={self.dim}, index={self.index.cpu().tolist()} dtype={self.index.dtype} "
            f"strides={self.index.stride()}, src shape={tuple(self.src.shape)} "
            f"strides={self.src.stride()})"
        )


@st.composite
def scatter_cases(draw_, *, max_dims: int = 3, max_side: int = 4) -> ScatterCase:
    """Valid scatter arguments: gather's cases (index no larger than input away from dim, any
    layout, negative dims, empty sizes, 0-d tensors, int32/int64) plus a src at least as large
    as the index in every dim. Indices repeat often (small sizes): duplicates are drawn."""
    case = draw_(gather_cases(max_dims=max_dims, max_side=max_side))
    dtype = draw_(st.sampled_from([torch.float32, torch.int64]))
    if case.index.dim() == 0 and draw_(st.booleans()):
        src_shape: tuple[int, ...] = ()
    else:
        eff = tuple(case.index.shape) or (1,)
        src_shape = tuple(n + draw_(st.integers(0, 2)) for n in eff)
    seed = draw_(st.integers(0, 2**31 - 1))
    layout = draw_(st.sampled_from(["contiguous", "permuted", "strided", "expanded"]))
    src = make_tensor(src_shape, layout, seed, dtype=dtype)
    return ScatterCase(case.input.to(dtype), case.dim, case.index, src)


def has_duplicates(case: ScatterCase) -> bool:
    try:
        reference.scatter(case.input.cpu(), case.dim, case.index.cpu(), case.src.cpu())
    except ValueError:
        return True
    return False


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.is_floating_point():
        return a.shape == b.shape and torch.allclose(a, b, atol=1e-4, rtol=1e-5)
    return torch.equal(a, b)


# --- checked_scatter_add and PyTorch's scatter family against the loops ------------------------


@given(scatter_cases())
def test_checked_scatter_add_matches_torch_and_the_loop(case):
    out = checked_scatter_add(case.input, case.dim, case.index, case.src)
    assert out.shape == case.input.shape and out.dtype == case.input.dtype
    assert same(out, case.input.scatter_add(case.dim, case.index, case.src))
    assert same(out, reference._scatter_add(case.input, case.dim, case.index, case.src))


@given(scatter_cases())
def test_torch_scatter_matches_the_loop_when_no_cell_is_written_twice(case):
    out = case.input.scatter(case.dim, case.index, case.src)
    if not has_duplicates(case):
        assert torch.equal(out, reference.scatter(case.input, case.dim, case.index, case.src))
        return
    # Unspecified which value lands in a cell written twice; all the book claims is that it is
    # one of the values written there, and that every other cell is what the loop says.
    _, flat_input, groups = reference._scatter_groups(case.input, case.dim, case.index, case.src)
    flat_out = out.reshape(flat_input.shape).cpu()
    for p in torch.cartesian_prod(*[torch.arange(n) for n in flat_input.shape]).reshape(-1, flat_input.dim()).tolist():  # fmt: skip
        p = tuple(p)
        candidates = groups.get(p, [flat_input[p].item()])
        assert flat_out[p].item() in candidates, (p, flat_out[p].item(), candidates)


@settings(max_examples=60)
@given(scatter_cases(), st.sampled_from(["sum", "prod", "mean", "amax", "amin"]), st.booleans())
def test_torch_scatter_reduce_matches_the_loop(case, reduce, include_self):
    if reduce == "prod" and case.input.dtype == torch.int64:
        case.src = case.src.clamp(-3, 3)  # keep integer products clear of overflow
    out = case.input.scatter_reduce(
        case.dim, case.index, case.src, reduce, include_self=include_self
    )
    expected = reference._scatter_reduce(
        case.input, case.dim, case.index, case.src, reduce, include_self
    )
    assert same(out, expected), (out, expected)


@given(scatter_cases())
def test_index_put_accumulate_and_index_add_are_scatter_add_in_1d(case):
    x = case.input.reshape(-1)
    i = case.index.reshape(-1).long()
    i = i[:0] if x.numel() == 0 else i % x.numel()
    v = case.src.reshape(-1)[: i.numel()]
    expected = reference._scatter_add(x, 0, i, v)
    assert same(x.index_put((i,), v, accumulate=True), expected)
    assert same(x.index_add(0, i, v), expected)


# --- the validation names the argument, the shapes and the dim --------------------------------

X = torch.zeros(2, 3)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((X, 2, torch.zeros(2, 1, dtype=torch.long), X), IndexError, "dim=2 is out of range"),
        ((X, 1, torch.zeros(2, 1), X), TypeError, "index must be int64 or int32"),
        ((X, 1, torch.zeros(2, 1, dtype=torch.long), X.long()), TypeError, "src is int64 but input is float32"),
        ((X, 1, torch.zeros(2, dtype=torch.long), X), ValueError, "same number of dims, got shapes (2, 3), (2,) and (2, 3)"),
        ((X, 1, torch.zeros(3, 1, dtype=torch.long), torch.zeros(3, 3)), ValueError, "index.shape[0] is 3 but input.shape[0] is 2"),
        ((X, 1, torch.zeros(2, 4, dtype=torch.long), X), ValueError, "index.shape[1] is 4 but src.shape[1] is 3"),
        ((X, 1, torch.tensor([[0], [-1]]), X), IndexError, "index holds -1 at position (1, 0)"),
        ((X, 0, torch.tensor([[0, 2]]), X), IndexError, "along dim 0 the valid indices are 0..1"),
        (([0.0], 0, torch.tensor([0]), X), TypeError, "input must be a torch.Tensor"),
        ((X, 1, torch.zeros(2, 1, dtype=torch.long), X.to("meta")), ValueError, "src is on meta but input is on cpu"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(args, error, message):
    with pytest.raises(error, match=re.escape(message)):
        _check_scatter_args(*args)


def test_torch_scatter_messages_name_less_than_the_helper():
    """What PyTorch 2.13 says for the same mistakes (the error gallery shows these)."""
    with pytest.raises(
        RuntimeError, match="Index tensor must have the same number of dimensions as self tensor"
    ):
        X.scatter(1, torch.zeros(2, dtype=torch.long), X)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "Expected index [1, 4] to be no larger than self [2, 3] apart from dimension 1 and to be no larger size than src [2, 3]"
        ),
    ):
        X.scatter(1, torch.zeros(1, 4, dtype=torch.long), X)
    with pytest.raises(
        RuntimeError, match=re.escape("scatter(): Expected self.dtype to be equal to src.dtype")
    ):
        X.scatter_add(1, torch.zeros(2, 1, dtype=torch.long), X.long())
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 1 with size 3"):
        X.scatter(1, torch.tensor([[3], [0]]), X)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "index_add_(): Number of indices (2) should be equal to source.size(dim): (3), for dim: 0"
        ),
    ):
        torch.zeros(4, 3).index_add(0, torch.tensor([0, 1]), torch.ones(3, 3))
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones in mask"):
        X.masked_scatter(X == 0, torch.ones(5))
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "shape mismatch: value tensor of shape [2] cannot be broadcast to indexing result of shape [6]"
        ),
    ):
        X.clone()[X == 0] = torch.ones(2)


# --- segments ---------------------------------------------------------------------------------


@st.composite
def segment_cases(draw_):
    n = draw_(st.integers(0, 8))
    rest = tuple(draw_(st.lists(st.integers(0, 3), max_size=2)))
    num = draw_(st.integers(1 if n else 0, 5))
    seed = draw_(st.integers(0, 2**31 - 1))
    layout = draw_(st.sampled_from(["contiguous", "permuted", "strided", "expanded"]))
    values = make_tensor((n, *rest), layout, seed)
    dtype = draw_(st.sampled_from([torch.int64, torch.int32]))
    gen = torch.Generator().manual_seed(seed + 1)
    ids = torch.randint(0, max(num, 1), (n,), generator=gen, dtype=dtype)
    return values, ids.to(DEVICE), num


@given(segment_cases())
def test_segment_sum_and_mean_match_the_loop_and_scatter_reduce(case):
    values, ids, num = case
    total = segment_sum(values, ids, num)
    assert total.shape == (num, *values.shape[1:])
    assert same(total, reference._segment_sum(values, ids, num))
    mean = segment_mean(values, ids, num)
    assert same(mean, reference._segment_mean(values, ids, num))
    if values.dim() == 1:
        zeros = torch.zeros(num, device=DEVICE)
        by_torch = zeros.scatter_reduce(0, ids.long(), values, "mean", include_self=False)
        assert same(mean, by_torch)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((torch.ones(3), torch.tensor([0, 1]), 2), ValueError, "values.shape[0] is 3 but segment_ids has 2 entries"),
        ((torch.ones(2), torch.tensor([[0, 1]]), 2), ValueError, "segment_ids must have 1 dims (N,), got shape (1, 2)"),
        ((torch.ones(2), torch.tensor([0.0, 1.0]), 2), TypeError, "segment_ids must be int64 or int32"),
        ((torch.ones(2), torch.tensor([0, 2]), 2), IndexError, "segment_ids holds 2 at position (1,)"),
        ((torch.ones(2), torch.tensor([0, 1]), -1), ValueError, "num_segments"),
        ((torch.tensor(1.0), torch.tensor([0]), 1), ValueError, "values must have at least 1 dim"),
    ],
)  # fmt: skip
def test_segment_bad_arguments_are_named(args, error, message):
    with pytest.raises(error, match=re.escape(message)):
        segment_sum(*args)


def test_segment_mean_refuses_integer_values():
    with pytest.raises(
        TypeError, match="values must be floating point for segment_mean, got int64"
    ):
        segment_mean(torch.tensor([1, 2]), torch.tensor([0, 0]), 1)


# --- put_along_dim: the inverse of take_along_dim ---------------------------------------------


@st.composite
def put_cases(draw_):
    shape = tuple(draw_(st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    ndim = len(shape)
    dim = draw_(st.integers(-ndim, ndim - 1))
    d = dim % ndim
    seed = draw_(st.integers(0, 2**31 - 1))
    gen = torch.Generator().manual_seed(seed)
    k = draw_(st.integers(0, shape[d])) if shape[d] else 0
    idx_shape = [k if i == d else (1 if draw_(st.booleans()) else n) for i, n in enumerate(shape)]
    lines = [n for i, n in enumerate(idx_shape) if i != d]
    # distinct positions along dim for every line: the first k of a random permutation
    perms = torch.rand((*lines, shape[d]), generator=gen).argsort(dim=-1)[..., :k]
    indices = perms.movedim(-1, d).reshape(idx_shape)
    dtype = draw_(st.sampled_from([torch.int64, torch.int32]))
    x = make_tensor(shape, draw_(st.sampled_from(["contiguous", "permuted", "strided"])), seed)
    target = [k if i == d else n for i, n in enumerate(shape)]
    values_shape = [1 if draw_(st.booleans()) else n for n in target]
    values = make_tensor(tuple(values_shape), "contiguous", seed + 1)
    return x, indices.to(dtype).to(DEVICE), values, dim


@given(put_cases())
def test_put_along_dim_matches_the_loop_numpy_and_inverts_take_along_dim(case):
    x, indices, values, dim = case
    out = put_along_dim(x, indices, values, dim)
    assert torch.equal(out, reference._put_along_dim(x, indices, values, dim))
    expected = x.cpu().numpy().copy()
    np.put_along_axis(expected, indices.cpu().long().numpy(), values.cpu().numpy(), axis=dim)
    assert torch.equal(out.cpu(), torch.from_numpy(expected))
    taken = torch.take_along_dim(out, indices.long(), dim=dim)
    assert torch.equal(taken, values.expand_as(taken))
    assert torch.equal(x, x.clone())  # input unchanged: out of place


def test_put_along_dim_refuses_duplicates_and_names_both_positions():
    with pytest.raises(
        ValueError, match=re.escape("indices name position 2 of dim 1 twice, at (1, 0) and (1, 2)")
    ):
        put_along_dim(torch.zeros(2, 4), torch.tensor([[0, 1, 3], [2, 0, 2]]), torch.tensor(1.0), 1)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((torch.zeros(2, 3), torch.tensor([[0]]), torch.tensor(1), 1), TypeError, "values is int64 but input is float32"),
        ((torch.zeros(2, 3), torch.tensor([0]), torch.tensor(1.0), 1), ValueError, "indices has 1 dims but input has 2"),
        ((torch.zeros(2, 3), torch.tensor([[0], [1], [2]]), torch.tensor(1.0), 1), ValueError, "indices.shape[0] is 3 but input.shape[0] is 2"),
        ((torch.zeros(2, 3), torch.tensor([[3]]), torch.tensor(1.0), 1), IndexError, "indices holds 3 at position (0, 0)"),
        ((torch.zeros(2, 3), torch.tensor([[0, 1]]), torch.ones(3), 1), ValueError, "values of shape (3,) does not broadcast to the stretched indices' shape (2, 2)"),
        ((torch.tensor(1.0), torch.tensor(0), torch.tensor(1.0), 0), IndexError, "input is 0-d"),
    ],
)  # fmt: skip
def test_put_along_dim_bad_arguments_are_named(args, error, message):
    with pytest.raises(error, match=re.escape(message)):
        put_along_dim(*args)


# --- surprises of PyTorch 2.13.0, pinned -------------------------------------------------------


def test_deterministic_algorithms_are_on_in_the_book_setup():
    from snippets.device import setup

    setup()
    assert torch.are_deterministic_algorithms_enabled()
    # on the CPU the scatter family runs under it without error (CUDA: what the CUDA leg checks)
    ones = torch.ones(3, device=DEVICE)
    i = torch.tensor([1, 1, 0], device=DEVICE)
    assert torch.zeros(2, device=DEVICE).scatter_add(0, i, ones).tolist() == [1.0, 2.0]
    assert torch.zeros(2, device=DEVICE).index_add(0, i, ones).tolist() == [1.0, 2.0]
    assert torch.zeros(2, device=DEVICE).index_put((i,), ones, accumulate=True).tolist() == [
        1.0,
        2.0,
    ]
    assert torch.zeros(2, device=DEVICE).scatter_reduce(0, i, ones, "sum").tolist() == [1.0, 2.0]


@pinned
def test_the_docs_list_scatter_reduce_prod_and_bincount_weights_as_raising_on_cuda():
    """The book shows scatter_reduce("prod") and weighted bincount on the CPU only, because
    under deterministic algorithms they raise on CUDA (torch.use_deterministic_algorithms'
    documentation on 2.13.0)."""
    doc = torch.use_deterministic_algorithms.__doc__
    raising = doc[doc.index("will throw a") :]
    assert "torch.Tensor.scatter_reduce` when ``reduce='prod'`` and called on CUDA" in raising
    assert "torch.bincount` when called on a CUDA tensor and ``weights``" in raising
    acting = doc[: doc.index("The following normally-nondeterministic operations will throw")]
    assert "torch.Tensor.scatter_add_` when called on a CUDA tensor" in acting
    assert "torch.index_add` when called on CUDA tensor" in acting


@pinned
def test_scatter_reduce_accepts_undocumented_max_and_min():
    """Documented: sum, prod, mean, amax, amin. 2.13.0 also takes "max" and "min" (as amax and
    amin) but refuses "add"."""
    x = torch.zeros(3)
    i, v = torch.tensor([0, 0]), torch.tensor([-1.0, -2.0])
    assert torch.equal(x.scatter_reduce(0, i, v, "max"), x.scatter_reduce(0, i, v, "amax"))
    assert torch.equal(x.scatter_reduce(0, i, v, "min"), x.scatter_reduce(0, i, v, "amin"))
    with pytest.raises(
        RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin, got add"
    ):
        x.scatter_reduce(0, i, v, "add")


@pinned
def test_scatter_reduce_integer_mean_floors():
    x = torch.zeros(2, dtype=torch.long)
    i, v = torch.tensor([0, 0, 1, 1]), torch.tensor([-1, -2, 3, 4])
    assert x.scatter_reduce(0, i, v, "mean", include_self=False).tolist() == [-2, 3]


@pinned
def test_index_put_wraps_negative_indices_but_scatter_and_index_add_refuse_them():
    """index_put_ (x[i] = v, x[i] += v) indexes like Python: -1 is the last cell. scatter and
    index_add refuse it, index_add with a message that depends on the input's dims."""
    x = torch.zeros(4)
    wrapped = x.index_put((torch.tensor([0, -1]),), torch.ones(2), accumulate=True)
    assert wrapped.tolist() == [1, 0, 0, 1]
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 4"):
        x.scatter(0, torch.tensor([0, -1]), torch.ones(2))
    with pytest.raises(IndexError, match="index out of range in self"):
        x.index_add(0, torch.tensor([0, -1]), torch.ones(2))
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 4"):
        torch.zeros(4, 3).index_add(0, torch.tensor([0, -1]), torch.ones(2, 3))


@pinned
def test_plain_scatter_gradient_with_duplicates_reaches_every_source():
    """The docs warn: with repeated indices the gradient is "incorrect": every src element gets
    the output cell's gradient, though only one value landed there."""
    s = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    torch.zeros(2).scatter(0, torch.tensor([1, 1, 0]), s).sum().backward()
    assert s.grad.tolist() == [1.0, 1.0, 1.0]


@pinned
def test_amax_splits_the_gradient_between_tied_maxima():
    s = torch.tensor([5.0, 5.0, 3.0], requires_grad=True)
    out = torch.zeros(2).scatter_reduce(0, torch.tensor([0, 0, 1]), s, "amax", include_self=False)
    out.sum().backward()
    assert s.grad.tolist() == [0.5, 0.5, 1.0]


@pinned
def test_scatter_with_int32_index_and_reduce_keyword_deprecated():
    x = torch.zeros(3)
    assert x.scatter_add(0, torch.tensor([1, 1], dtype=torch.int32), torch.ones(2)).tolist() == [
        0,
        2,
        0,
    ]
    with pytest.warns(
        UserWarning, match="The reduce argument of torch.scatter with Tensor src is deprecated"
    ):
        x.scatter(0, torch.tensor([1, 1]), torch.ones(2), reduce="add")


def test_pytorch_index_copy_wants_int64_while_index_add_takes_int32():
    """Chapter 7's shape-rules table (scatter-shape-rules): seen on PyTorch 2.13.0."""
    idx32 = torch.tensor([0, 2], dtype=torch.int32)
    added = torch.zeros(3, 2).index_add(0, idx32, torch.ones(2, 2))
    assert added.tolist() == [[1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(RuntimeError, match=r"index_copy_\(\): Expected a long tensor for index"):
        torch.zeros(3, 2).index_copy(0, idx32, torch.ones(2, 2))


def test_one_hot_is_a_scatter_of_ones():
    labels = torch.tensor([2, 0, 3], device=DEVICE)
    rows = torch.zeros(3, 4, dtype=torch.long, device=DEVICE).scatter(1, labels[:, None], 1)
    assert torch.equal(rows, F.one_hot(labels, 4))


# --- draw.scatter: the figure shows where each src cell goes ----------------------------------


@settings(max_examples=40, deadline=None)
@given(scatter_cases(max_dims=3, max_side=3), st.sampled_from([None, "sum"]))
def test_scatter_figure_shows_where_each_src_cell_goes(case, reduce):
    if case.input.dim() == 0 or case.src.dim() == 0 or case.index.dim() == 0:
        return
    if reduce is None and has_duplicates(case):
        with pytest.raises(ValueError, match="plain scatter leaves unspecified"):
            draw.scatter(case.input, case.dim, case.index, case.src)
        return
    fig = draw.scatter(case.input, case.dim, case.index, case.src, reduce=reduce)
    root = parse(fig)
    dim = case.dim % case.input.dim()
    out = rects(root, "output")
    src = rects(root, "src")
    arrows = [
        (coord(p.get("data-from").split(":")[1]), coord(p.get("data-to").split(":")[1]))
        for p in arrow_paths(root)
    ]
    index = case.index.cpu()
    positions = [tuple(p) for p in torch.cartesian_prod(*[torch.arange(n) for n in index.shape]).reshape(-1, index.dim()).tolist()] if index.numel() else []  # fmt: skip
    targets = {}
    for p in positions:
        t = list(p)
        t[dim] = int(index[p])
        targets.setdefault(tuple(t), []).append(p)
    expected = (
        reference.scatter(case.input, dim, case.index, case.src)
        if reduce is None
        else reference._scatter_add(case.input, dim, case.index, case.src)
    ).cpu()
    for c, r in out.items():
        assert fig.cell("output", c).text == canvas.format_value(expected[c].item())
        written = ";".join(",".join(map(str, p)) for p in targets.get(c, []))
        assert r.get("data-written-by") == written
        faded = r.get("stroke-dasharray") is not None
        assert faded == (c not in targets)
    for p in positions:
        t = list(p)
        t[dim] = int(index[p])
        # a src cell wears the colour of the output cell it lands in
        assert src[p].get("fill") == out[tuple(t)].get("fill")
    for panel in panels(fig):
        assert crossings(panel) == []
    if arrows:
        assert sorted(arrows) == sorted(
            (p, tuple([*p[:dim], int(index[p]), *p[dim + 1 :]])) for p in positions
        )


def test_scatter_figure_caption_and_refusal():
    fig = draw.scatter(torch.zeros(4), 0, torch.tensor([1, 3]), torch.tensor([5.0, 6.0]))
    assert fig.caption.startswith("out[index[i]] = src[i]    (dim=0")
    sums = draw.scatter(
        torch.zeros(4), 0, torch.tensor([1, 1]), torch.tensor([5.0, 6.0]), reduce="sum"
    )
    assert sums.caption.startswith("out[index[i]] += src[i]")
    assert sums.cell("output", (1,)).text == "11"
    with pytest.raises(
        ValueError, match=re.escape("index cells (0,) and (1,) both write output cell (1,)")
    ):
        draw.scatter(torch.zeros(4), 0, torch.tensor([1, 1]), torch.tensor([5.0, 6.0]))
    with pytest.raises(ValueError, match="reduce must be None"):
        draw.scatter(torch.zeros(4), 0, torch.tensor([1]), torch.tensor([5.0]), reduce="max")


def test_scatter_figure_panels_wrap_and_carry_alt_text():
    fig = draw.scatter(
        torch.zeros(2, 4, dtype=torch.long), 1, torch.tensor([[3, 0, 1], [2, 1, 0]]),
        torch.tensor([[10, 20, 30], [40, 50, 60]]),
    )  # fmt: skip
    shown = panels(fig)
    assert len(shown) == 2
    assert all(p.get("aria-label") for p in shown)
    assert "output (2, 4) = [[20, 30, 0, 10], [60, 50, 40, 0]]" in fig.description


def chapter_figures() -> list[canvas.Figure]:
    """The figures of chapter 7, drawn from the same tensors as its cells."""
    x = torch.zeros(2, 4, dtype=torch.long)
    idx = torch.tensor([[3, 0, 1], [2, 1, 0]])
    src = torch.tensor([[10, 20, 30], [40, 50, 60]])
    rows = torch.tensor([[1, 0, 1]])
    bins, vals = torch.tensor([1, 3, 1, 0, 1]), torch.tensor([1, 2, 3, 4, 5])
    return [
        draw.scatter(x, 1, idx, src),
        draw.scatter(torch.zeros(2, 3, dtype=torch.long), 0, rows, src),
        draw.scatter(torch.zeros(4, dtype=torch.long), 0, bins, vals, reduce="sum"),
    ]


@pytest.mark.parametrize("column", [688 - 16, 358 - 16])  # the output box at 1280 and 390 px
def test_chapter_figures_read_at_11_px_on_a_desktop_and_a_phone(column):
    for fig in chapter_figures():
        for panel in panels(fig):
            shown = shown_px(panel, column)
            assert shown >= 11, (fig.title, panel.get("width"))
            assert crossings(panel) == []
