"""snippets.broadcasting: the broadcast rule explained, and masks from arange comparisons,
against the loop references in snippets.reference and against PyTorch itself."""

import operator
import re
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from snippets import draw, reference
from snippets.broadcasting import (
    MISSING,
    _broadcast_sources,
    band_mask,
    causal_mask,
    checked_broadcast_shapes,
    explain_broadcast,
    triangular_mask,
)
from snippets.device import DEVICE, _example
from snippets.draw import canvas
from snippets.draw.broadcast import BROADCAST_OPS
from snippets.exercises import ExerciseFailed, check
from snippets.validate import shape_str
from tests.strategies import LAYOUTS, make_tensor
from tests.svg import SVG, coord, elements, parse, texts

# --- strategies -------------------------------------------------------------------------


@st.composite
def shape_lists(draw_, *, min_shapes: int = 1, max_shapes: int = 4, max_dims: int = 4):
    """Lists of shapes: suffixes of one target shape with some sizes set to 1 (they broadcast).
    In half of the lists with two shapes or more, two of them get two different sizes, neither
    1, in one dim (counted from the right): those lists do not broadcast."""
    target = draw_(st.lists(st.integers(0, 4), max_size=max_dims))
    shapes = []
    for _ in range(draw_(st.integers(min_shapes, max_shapes))):
        k = draw_(st.integers(0, len(target)))
        suffix = target[len(target) - k :]
        shapes.append([draw_(st.sampled_from([size, 1])) for size in suffix])
    if len(shapes) >= 2 and target and draw_(st.booleans()):
        pos = draw_(st.integers(1, len(target)))  # the dim -pos breaks
        first, second = draw_(st.permutations(range(len(shapes))))[:2]
        sizes = draw_(st.permutations([0, 2, 3, 4, 5]))[:2]
        for which, size in zip((first, second), sizes, strict=True):
            shape = shapes[which]
            missing = pos - len(shape)
            if missing > 0:  # lengthen it on the left with the target's sizes
                shape[:0] = target[len(target) - pos : len(target) - pos + missing]
            shape[len(shape) - pos] = size
    return [tuple(s) for s in shapes]


def _reference_failing_dim(shapes) -> int | None:
    try:
        reference._broadcast_shape(*shapes)
    except ValueError as err:
        return int(re.search(r"at dim (-\d+)", str(err)).group(1))
    return None


# --- explain_broadcast against torch.broadcast_shapes and the loop -------------------------


@given(shape_lists())
def test_explain_broadcast_agrees_with_torch_and_the_loop(shapes):
    e = explain_broadcast(*shapes)
    assert e.ndim == max((len(s) for s in shapes), default=0)
    try:
        expected = tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError as err:
        assert not e.ok and e.result is None
        assert e.failing_dim == _reference_failing_dim(shapes)
        assert e.failing_dim == max(e.conflicts)
        # PyTorch folds the shapes left to right: it names the first argument that does not
        # fit the shapes before it, and a dim of it that is one of the conflicts
        m = re.search(r"at (-\d+)! Mismatching argument at index (\d+)", str(err))
        assert int(m.group(1)) in e.conflicts
        arg = int(m.group(2))
        assert explain_broadcast(*shapes[:arg]).ok
        assert not explain_broadcast(*shapes[: arg + 1]).ok
        where = f"at dim {e.failing_dim} (dim {e.ndim + e.failing_dim} of the result)"
        assert where in e.reason
        with pytest.raises(ValueError, match=re.escape(e.reason)):
            checked_broadcast_shapes(*shapes)
    else:
        assert e.ok and e.failing_dim is None and e.conflicts == ()
        assert e.result == expected == reference._broadcast_shape(*shapes)
        assert checked_broadcast_shapes(*shapes) == torch.Size(expected)
        assert e.reason == f"result shape: {expected}"
    # the table: a header, one row per shape, the result row; each row ends with its sizes
    lines = e.table.splitlines()
    assert len(lines) == len(shapes) + 2
    for line, shape in zip(lines[1:-1], shapes, strict=True):
        cells = line.split()[-e.ndim :] if e.ndim else []
        assert cells == [MISSING] * (e.ndim - len(shape)) + [str(s) for s in shape]
    assert len(str(e).splitlines()) == len(lines) + e.ndim + 1


@given(shape_lists(min_shapes=2, max_shapes=2))
def test_a_pair_fails_exactly_where_the_elementwise_message_says(shapes):
    a, b = (torch.zeros(s, device=DEVICE) for s in shapes)
    e = explain_broadcast(a, b)
    try:
        out = a + b
    except RuntimeError as err:
        assert not e.ok
        step = e.steps[e.failing_dim]
        size_a, size_b = step.sizes
        assert str(err) == (
            f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
            f"at non-singleton dimension {e.result_dim(e.failing_dim)}"
        )
    else:
        assert e.ok and tuple(out.shape) == e.result


def test_explain_broadcast_text():
    e = explain_broadcast((5, 1, 3), (4, 3), names=("x", "y"))
    assert str(e) == (
        "dim           -3  -2  -1\n"
        "x  (5, 1, 3)   5   1   3\n"
        "y     (4, 3)   -   4   3\n"
        "result         5   4   3\n"
        "dim -3 -> 5: y has no dim here (counts as 1) and is stretched\n"
        "dim -2 -> 4: x stretches 1 to 4\n"
        "dim -1 -> 3: all sizes are 3\n"
        "result shape: (5, 4, 3)"
    )
    assert repr(e) == str(e)
    bad = explain_broadcast((2, 1), (3, 1), (1, 4), (1, 5))
    assert bad.conflicts == (-2, -1) and bad.failing_dim == -1
    assert bad.steps[-1].note == (
        "dim -1 fails: a has 1, b has 1, c has 4, d has 5; 4 and 5 differ and neither is 1"
    )
    assert explain_broadcast().result == () and explain_broadcast(3, (2, 3)).result == (2, 3)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (((2, -1),), {}, ValueError, "shape 0 (a) = (2, -1) has the negative size -1 at dim 1"),
        (((2,), (2.0,)), {}, TypeError, "shape 1 (b) = (2.0,) has a float at dim 0"),
        (((2,), "ab"), {}, TypeError, "shape 1 (b) must be a tuple of ints, a torch.Size"),
        (((True,),), {}, TypeError, "has a bool at dim 0; sizes must be ints"),
        (((2,), (3,)), {"names": ("x",)}, ValueError, "names must be 2 strings, one per shape"),
    ],
)
def test_explain_broadcast_rejects_bad_shapes(args, kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        explain_broadcast(*args, **kwargs)


def test_checked_broadcast_shapes_message_names_the_dim_and_sizes():
    with pytest.raises(ValueError) as err:
        checked_broadcast_shapes((2, 3, 4), (5, 4), names=("x", "y"))
    first = str(err.value).splitlines()[0]
    assert first == (
        "cannot broadcast: at dim -2 (dim 1 of the result) x has 3, y has 5; sizes must be "
        "equal or 1 (aligned from the right)"
    )
    assert "result         2   X   4" in str(err.value)
    with pytest.raises(IndexError, match=re.escape("dim=-3 is not one of the dims -2..-1")):
        explain_broadcast((2, 3)).result_dim(-3)


# --- broadcast_sources and elementwise ops against the loop ---------------------------------


@st.composite
def operand_and_result(draw_):
    out = tuple(draw_(st.lists(st.integers(0, 3), max_size=4)))
    k = draw_(st.integers(0, len(out)))
    shape = tuple(draw_(st.sampled_from([s, 1])) for s in out[len(out) - k :])
    return shape, out


@given(operand_and_result(), st.integers(0, 2**31 - 1))
def test_broadcast_sources_match_the_loop_and_expand(case, seed):
    shape, out = case
    src = _broadcast_sources(shape, out, device=DEVICE)
    assert src.shape == (*out, len(shape)) and src.dtype == torch.int64
    for p in reference._positions(torch.Size(out)):
        assert tuple(src[p].tolist()) == reference._broadcast_source(p, shape)
    if shape:  # reading x at the sources is what expand shows
        x = make_tensor(shape, "contiguous", seed)
        assert torch.equal(x[tuple(src.unbind(-1))], x.expand(out))


def test_broadcast_sources_errors():
    with pytest.raises(ValueError, match=re.escape("at dim -1 it has 2, not 1 or 3")):
        _broadcast_sources((2,), (3,))
    with pytest.raises(ValueError, match=re.escape("broadcasting only adds dims on the left")):
        _broadcast_sources((2, 3), (3,))


OPS = {"+": operator.add, "*": operator.mul, ">=": operator.ge}


@given(
    shape_lists(min_shapes=2, max_shapes=2, max_dims=3),
    st.sampled_from(LAYOUTS),
    st.sampled_from(LAYOUTS),
    st.sampled_from(sorted(OPS)),
    st.integers(0, 2**31 - 1),
)
def test_elementwise_ops_follow_the_loop_rule_on_any_layout(shapes, la, lb, op, seed):
    if not explain_broadcast(*shapes).ok:
        return
    a = make_tensor(shapes[0], la, seed, dtype=torch.int64)
    b = make_tensor(shapes[1], lb, seed + 1, dtype=torch.int64)
    assert torch.equal(OPS[op](a, b), reference.broadcast_binary(OPS[op], a, b))


# --- masks ----------------------------------------------------------------------------------


@given(st.integers(0, 7), st.integers(0, 7), st.integers(-8, 8), st.booleans())
def test_triangular_mask_is_triu_or_tril(rows, cols, diagonal, upper):
    mask = triangular_mask(rows, cols, diagonal=diagonal, upper=upper, device=DEVICE)
    ones = torch.ones(rows, cols, dtype=torch.bool, device=DEVICE)
    expected = torch.triu(ones, diagonal) if upper else torch.tril(ones, diagonal)
    assert mask.dtype == torch.bool and mask.device == ones.device
    assert torch.equal(mask, expected)
    assert torch.equal(mask.cpu(), reference._triangular_mask(rows, cols, diagonal, upper))


@given(st.integers(0, 8), st.integers(-3, 8), st.integers(-3, 8))
def test_band_mask_is_triu_and_tril(n, below, above):
    mask = band_mask(n, below, above, device=DEVICE)
    ones = torch.ones(n, n, dtype=torch.bool, device=DEVICE)
    assert torch.equal(mask, torch.triu(ones, -below) & torch.tril(ones, above))
    assert torch.equal(mask.cpu(), reference._band_mask(n, below, above))


@given(st.integers(0, 9))
def test_causal_mask_is_tril_and_matches_pytorch_conventions(n):
    mask = causal_mask(n, device=DEVICE)
    assert torch.equal(mask, torch.tril(torch.ones(n, n, dtype=torch.bool, device=DEVICE)))
    # nn.Transformer's float mask: 0 where allowed, -inf where blocked
    float_mask = torch.nn.Transformer.generate_square_subsequent_mask(n, device=DEVICE)
    assert torch.equal(torch.where(mask, 0.0, float("-inf")), float_mask)


def test_causal_mask_is_what_sdpa_is_causal_means():
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 4, generator=gen).to(DEVICE) for _ in range(3))
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    masked = F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(5, device=DEVICE))
    torch.testing.assert_close(masked, causal, atol=1e-4, rtol=1e-4)  # kernels may differ on CUDA


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: triangular_mask(-1), ValueError, "rows must be an int >= 0, got -1"),
        (lambda: triangular_mask(2, 2.0), TypeError, "cols must be an int, got float"),
        (lambda: triangular_mask(2, diagonal=0.5), TypeError, "diagonal must be an int"),
        (lambda: causal_mask(True), TypeError, "n must be an int, got bool"),
        (lambda: band_mask(3, 1, None), TypeError, "above must be an int, got NoneType"),
    ],
)
def test_mask_argument_errors(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


# --- what PyTorch itself does (pinned: the chapter relies on it) ----------------------------


def test_pytorch_elementwise_message_counts_dims_of_the_result():
    # b = (5, 4) has no problem in its own dim 1: the 1 is the result's dim, where b has 5
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "The size of tensor a (3) must match the size of tensor b (5) at non-singleton "
            "dimension 1"
        ),
    ):
        torch.zeros(2, 3, 4, device=DEVICE) + torch.zeros(5, 4, device=DEVICE)


def test_pytorch_broadcast_shapes_message_and_its_partial_shape():
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "Attempting to broadcast a dimension of length 3 at -1! Mismatching argument at "
            "index 1 had (3,); but expected shape should be broadcastable to [2, 2]"
        ),
    ):
        torch.broadcast_shapes((2, 2), (3,))
    # the "expected shape" is half updated: dim -1 already took b's 4 when dim -2 failed
    with pytest.raises(RuntimeError, match=re.escape("broadcastable to [2, 4]")):
        torch.broadcast_shapes((2, 1), (3, 4))
    # with several shapes it names the first argument that fails, not the rightmost dim
    with pytest.raises(RuntimeError, match=re.escape("at -2! Mismatching argument at index 1")):
        torch.broadcast_shapes((2, 1), (3, 1), (1, 4), (1, 5))
    assert explain_broadcast((2, 1), (3, 1), (1, 4), (1, 5)).failing_dim == -1


def test_pytorch_in_place_ops_keep_the_left_shape():
    a = torch.zeros(2, 3, device=DEVICE)
    a += torch.ones(3, device=DEVICE)  # (3,) stretches into a: fine
    assert a.shape == (2, 3)
    with pytest.raises(
        RuntimeError,
        match=re.escape("output with shape [3] doesn't match the broadcast shape [3, 3]"),
    ):
        v = torch.zeros(3, device=DEVICE)
        v += torch.zeros(3, 1, device=DEVICE)
    # not even a leading 1 may be added to the left operand
    with pytest.raises(
        RuntimeError,
        match=re.escape("output with shape [2, 3] doesn't match the broadcast shape [1, 2, 3]"),
    ):
        a.add_(torch.zeros(1, 2, 3, device=DEVICE))


def test_pytorch_expand_is_a_view_and_repeat_a_copy():
    x = _example([0, 1, 2])
    e, r = x.expand(4, 3), x.repeat(4, 1)
    assert e.stride() == (0, 1) and r.stride() == (3, 1)
    assert e.data_ptr() == x.data_ptr() and r.data_ptr() != x.data_ptr()
    assert e.untyped_storage().nbytes() == 24 and r.untyped_storage().nbytes() == 96
    assert not e.is_contiguous() and r.is_contiguous()
    assert torch.equal(e, r)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        ),
    ):
        e.add_(1)
    e[0, 0] = 100  # one element written: every row sees it, and so does x
    assert x.tolist() == [100, 1, 2] and e[:, 0].tolist() == [100] * 4


def test_pytorch_expand_message():
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "The expanded size of the tensor (4) must match the existing size (3) at "
            "non-singleton dimension 1.  Target sizes: [2, 4].  Tensor sizes: [3]"
        ),
    ):
        _example([1, 2, 3]).expand(2, 4)


def test_pytorch_broadcast_tensors_are_stride_zero_views():
    a, b = _example([[1], [2], [3]]), _example([10, 20, 30, 40])
    a2, b2 = torch.broadcast_tensors(a, b)
    assert a2.shape == b2.shape == (3, 4)
    assert a2.stride() == (1, 0) and b2.stride() == (0, 1)
    assert a2.data_ptr() == a.data_ptr() and b2.data_ptr() == b.data_ptr()


def test_pytorch_a_column_and_a_row_make_a_matrix():
    preds, targets = _example([[1.0], [2.0], [3.0], [4.0]]), _example([1.0, 2.0, 3.0, 4.0])
    assert (preds - targets).shape == (4, 4)
    assert ((preds - targets) ** 2).mean().item() == 2.5
    assert ((preds.squeeze(1) - targets) ** 2).mean().item() == 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss = F.mse_loss(preds, targets)
    assert loss.item() == 2.5
    assert [str(w.message) for w in caught] == [
        "Using a target size (torch.Size([4])) that is different to the input size "
        "(torch.Size([4, 1])). This will likely lead to incorrect results due to broadcasting. "
        "Please ensure they have the same size."
    ]


def test_pytorch_matmul_broadcasts_only_the_batch_dims():
    ones = lambda *s: torch.ones(*s, device=DEVICE)  # noqa: E731
    assert torch.matmul(ones(1, 2, 3), ones(4, 3, 4)).shape == (4, 2, 4)
    assert torch.matmul(ones(5, 2, 3), ones(3, 4)).shape == (5, 2, 4)
    with pytest.raises(
        RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (2x3 and 1x3)")
    ):
        torch.matmul(ones(2, 3), ones(1, 3))
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "The size of tensor a (5) must match the size of tensor b (4) at non-singleton "
            "dimension 0"
        ),
    ):
        torch.matmul(ones(5, 2, 3), ones(4, 3, 4))


def test_pytorch_shape_rules_table():
    """The chapter's table of what broadcasts where, one row at a time."""
    zeros = lambda *s, **kw: torch.zeros(*s, device=DEVICE, **kw)  # noqa: E731
    mask = zeros(2, 3, dtype=torch.bool)
    # elementwise ops, where and masked_fill stretch every operand, both ways
    assert zeros(3).masked_fill(mask, 1.0).shape == (2, 3)
    assert torch.where(zeros(2, 1, dtype=torch.bool), zeros(3), 1.0).shape == (2, 3)
    # in-place masked_fill_: the mask must broadcast to self
    with pytest.raises(RuntimeError):
        zeros(2, 3).masked_fill_(zeros(2, 2, 3, dtype=torch.bool), 1.0)
    # broadcast_to is expand: a stride-0 view
    x = _example([0, 1, 2])
    assert torch.broadcast_to(x, (2, 3)).stride() == (0, 1)
    assert torch.equal(torch.broadcast_to(x, (2, 3)), x.expand(2, 3))
    # bmm and cat do not broadcast (matmul does, for the batch dims)
    with pytest.raises(RuntimeError):
        torch.bmm(zeros(1, 2, 3), zeros(4, 3, 4))
    with pytest.raises(RuntimeError):
        torch.cat([zeros(2, 3), zeros(1, 3)], dim=1)


def test_pytorch_view_and_reshape_do_not_broadcast():
    for method in ("view", "reshape"):
        with pytest.raises(
            RuntimeError, match=re.escape("shape '[3, 3]' is invalid for input of size 3")
        ):
            getattr(_example([1, 2, 3]), method)(3, 3)


def test_pytorch_size_zero_broadcasts_only_with_one_and_zero():
    assert torch.broadcast_shapes((0, 3), (1, 3)) == (0, 3)
    assert (torch.zeros(0, 3, device=DEVICE) + torch.zeros(1, 3, device=DEVICE)).shape == (0, 3)
    with pytest.raises(RuntimeError, match="length 2 at -1"):
        torch.broadcast_shapes((0,), (2,))
    assert not explain_broadcast((0,), (2,)).ok


def test_pytorch_a_factor_is_not_enough():
    with pytest.raises(
        RuntimeError, match=re.escape("tensor a (4) must match the size of tensor b (2)")
    ):
        torch.zeros(4, device=DEVICE) + torch.zeros(2, device=DEVICE)


def test_pytorch_gradient_of_a_stretched_operand_is_summed():
    bias = _example([0.0, 0.0, 0.0]).requires_grad_()
    (_example(torch.ones(4, 3)) + bias).sum().backward()
    assert bias.grad.tolist() == [4.0, 4.0, 4.0]


def test_pytorch_masked_fill_rejects_uint8_masks_on_cpu():
    # The message differs on CUDA ("masked_fill only supports boolean masks, but got dtype
    # Byte"), which is why the chapter shows this one on explicit CPU tensors.
    mask = torch.triu(torch.ones(3, 3)).to(torch.uint8)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "masked_fill_ only supports boolean masks, but got mask with dtype unsigned char"
        ),
    ):
        torch.zeros(3, 3).masked_fill(mask, 1.0)


def test_pytorch_masked_fill_broadcasts_a_mask_over_batch_and_heads():
    scores = torch.zeros(2, 3, 4, 4, device=DEVICE)
    out = scores.masked_fill(~causal_mask(4, device=DEVICE), float("-inf"))
    assert out.shape == (2, 3, 4, 4)
    assert torch.equal(torch.isinf(out[1, 2]), ~causal_mask(4, device=DEVICE))


# --- the figure -----------------------------------------------------------------------------


def _parse(fig):
    root = parse(fig)
    labels = {
        (float(t.get("x")), float(t.get("y"))): t.text or ""
        for t in root.iter(f"{SVG}text")
        if t.get("text-anchor") == "middle"
    }
    cells = {}
    for r in elements(root, "rect", data_tensor=True):
        cx = float(r.get("x")) + float(r.get("width")) / 2
        cy = float(r.get("y")) + float(r.get("height")) / 2 + 4.5
        cells[(r.get("data-tensor"), coord(r.get("data-coord")))] = (r, labels[(cx, cy)])
    return root, cells


@pytest.mark.parametrize(
    ("a", "b", "op"),
    [
        ([[10], [20], [30]], [1, 2, 3, 4], "+"),
        ([[1, 2, 3], [4, 5, 6]], [10, 20, 30], "+"),
        ([[0], [1], [2], [3]], [0, 1, 2, 3], ">="),
        ([[[0, 1, 2]], [[3, 4, 5]]], [[1], [2]], "*"),
        (5, [[1, 2], [3, 4]], "-"),
        ([2, 3], [[1], [0]], "<"),
    ],
)
def test_broadcast_figure_shows_the_loop_rule(a, b, op):
    a, b = _example(a), _example(b)
    fig = draw.broadcast(a, b, op)
    root, cells = _parse(fig)
    expected = reference.broadcast_binary(BROADCAST_OPS[op], a, b).cpu()
    shape = tuple(expected.shape)
    for name, t in (("a", a.cpu()), ("b", b.cpu())):
        for p in reference._positions(torch.Size(shape)):
            rect, text = cells[(name, p)]
            source = reference._broadcast_source(p, tuple(t.shape))
            assert coord(rect.get("data-source")) == source
            assert text == canvas.format_value(t[source].item())
            stored = p == (0,) * (len(shape) - t.dim()) + source
            assert (rect.get("stroke-dasharray") is None) == stored, (name, p)
    for p in reference._positions(torch.Size(shape)):
        rect, text = cells[("result", p)]
        assert text == canvas.format_value(expected[p].item())
        assert coord(rect.get("data-a")) == reference._broadcast_source(p, tuple(a.shape))
        assert coord(rect.get("data-b")) == reference._broadcast_source(p, tuple(b.shape))
    # the aligned table is in the figure: a row per operand, labelled with its shape
    words = texts(root)
    assert f"a  {shape_str(a.shape)}" in words and f"b  {shape_str(b.shape)}" in words
    assert fig.svg() == draw.broadcast(a, b, op).svg()  # deterministic


def test_broadcast_figure_refuses_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match=re.escape("cannot broadcast: at dim -1 (dim 1 of")):
        draw.broadcast(_example([[1, 2, 3]]), _example([1, 2]))
    with pytest.raises(ValueError, match="op must be one of"):
        draw.broadcast(_example([1]), _example([1]), "@")


# --- exercises ------------------------------------------------------------------------------

GOOD = {
    "pairwise_sq_dists": lambda x, y: ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1),
    "normalize_channels": lambda x, m, s: (x - m[:, None, None]) / s[:, None, None],
    "length_mask": lambda lengths, t: torch.arange(t, device=lengths.device) < lengths[:, None],
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_exercise_right_answers_pass(name, capsys):
    check(GOOD[name], name)
    assert capsys.readouterr().out == f"✓ {name}: all 100 random cases match the reference.\n"


def test_exercise_broadcasting_bugs_are_caught():
    # mean (C,) aligned with W: caught where C == W (wrong values) or C != W (an error)
    with pytest.raises(ExerciseFailed, match="first difference at position"):
        check(lambda x, m, s: (x - m) / s, "normalize_channels")
    with pytest.raises(ExerciseFailed, match="your function raised RuntimeError: The size of"):
        check(lambda lengths, t: torch.arange(t, device=lengths.device) < lengths, "length_mask")


# --- issue 9: every bad argument named ----------------------------------------------------------


def test_causal_mask_names_n():
    with pytest.raises(ValueError, match=re.escape("n must be an int >= 0, got -1")):
        causal_mask(-1)
    with pytest.raises(TypeError, match=re.escape("n must be an int, got float")):
        causal_mask(2.0)


@pytest.mark.parametrize("upper", ["no", 1, None])
def test_triangular_mask_wants_a_bool_upper(upper):
    with pytest.raises(TypeError, match="upper must be True or False"):
        triangular_mask(2, upper=upper)


@pytest.mark.parametrize(
    ("device", "error", "message"),
    [
        (3, TypeError, "device must be a str or a torch.device, got int"),
        ("nope", ValueError, "device='nope' is not a device"),
    ],
)
def test_masks_name_a_bad_device(device, error, message):
    for make in (
        lambda: causal_mask(2, device=device),
        lambda: band_mask(2, 1, 0, device=device),
        lambda: _broadcast_sources((1,), (2,), device=device),
    ):
        with pytest.raises(error, match=re.escape(message)):
            make()
    assert causal_mask(2, device=torch.device("meta")).device.type == "meta"


# --- loss shapes and batched matrix-vector products (chapter 4, bcast-losses, bcast-matvec) ---


def test_pytorch_binary_losses_refuse_other_shapes_and_integer_targets():
    # Seen on 2.13.0 (CPU): BCELoss's shape check is a ValueError whose message says
    # "deprecated"; neither binary loss broadcasts, unlike mse_loss, which only warns.
    logits, labels = torch.tensor([[0.5], [-1.0], [2.0]]), torch.tensor([1, 0, 1])
    with pytest.raises(
        ValueError, match=re.escape("Target size (torch.Size([3])) must be the same")
    ):
        F.binary_cross_entropy_with_logits(logits, labels.float())
    with pytest.raises(ValueError, match=r"is deprecated\. Please ensure they have the same size"):
        F.binary_cross_entropy(logits.sigmoid(), labels.float())
    with pytest.raises(
        RuntimeError, match="result type Float can't be cast to the desired output type Long"
    ):
        F.binary_cross_entropy_with_logits(logits.squeeze(1), labels)
    with pytest.raises(RuntimeError, match="Found dtype Long but expected Float"):
        F.binary_cross_entropy(logits.squeeze(1).sigmoid(), labels)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(2, 4), st.integers(0, 2**16))
def test_cross_entropy_reads_classes_from_dim_1(n, length, classes, seed):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, length, classes, generator=gen)  # (N, L, C): classes last
    target = torch.randint(0, classes, (n, length), generator=gen)
    right = F.cross_entropy(logits.movedim(-1, 1), target)
    loop = -sum(
        logits[i, j].log_softmax(0)[target[i, j]] for i in range(n) for j in range(length)
    ) / (n * length)
    torch.testing.assert_close(right, loop)
    torch.testing.assert_close(
        F.cross_entropy(logits.reshape(-1, classes), target.reshape(-1)), right
    )
    if length != classes:
        with pytest.raises(RuntimeError, match=r"Expected target size \[\d+, \d+\], got"):
            F.cross_entropy(logits, target)
    else:
        F.cross_entropy(logits, target)  # L == C: no error, dim 1 (L) read as the classes


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**16))
def test_batched_matrix_vector_products_agree_with_the_loop(b, n, k, seed):
    gen = torch.Generator().manual_seed(seed)
    a, v = torch.randn(b, n, k, generator=gen), torch.randn(b, k, generator=gen)
    loop = torch.tensor(
        [[sum(float(a[i, r, j] * v[i, j]) for j in range(k)) for r in range(n)] for i in range(b)]
    )
    for got in (
        (a @ v.unsqueeze(-1)).squeeze(-1),
        torch.bmm(a, v.unsqueeze(-1)).squeeze(-1),
        torch.einsum("bnk,bk->bn", a, v),
    ):
        torch.testing.assert_close(got, loop, rtol=1e-4, atol=1e-4)
    if b == k:  # a 2-D right operand is a matrix: no error, a (B, n, k) result
        assert (a @ v).shape == (b, n, k)
    if b > 1:
        with pytest.raises(RuntimeError, match="Expected size for first two dimensions of batch2"):
            torch.bmm(a, v[:1].unsqueeze(-1))
