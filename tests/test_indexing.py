"""snippets.indexing: gather and its everyday uses, against the loop references and PyTorch."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from snippets import reference
from snippets.device import DEVICE, _example, example_normal
from snippets.indexing import (
    _check_gather_args,
    _gather_sources,
    check_class_indices,
    checked_gather,
    select_patches,
    taken_action_values,
    token_logprobs,
)
from tests.strategies import gather_cases, make_tensor

# --- gather -----------------------------------------------------------------------------


@given(gather_cases())
def test_checked_gather_matches_torch_and_the_loop(case):
    out = checked_gather(case.input, case.dim, case.index)
    assert out.shape == case.index.shape
    assert torch.equal(out, torch.gather(case.input, case.dim, case.index))
    assert torch.equal(out, reference.gather(case.input, case.dim, case.index))


@given(gather_cases())
def test_gather_sources_are_where_each_output_came_from(case):
    out = torch.gather(case.input, case.dim, case.index)
    sources = _gather_sources(case.index, case.dim)
    assert sources.shape == (*case.index.shape, max(case.index.dim(), 1))
    # reading input at the source coordinates is gather itself (a 0-d tensor counts as 1-d)
    flat = case.input.reshape(1) if case.input.dim() == 0 else case.input
    assert torch.equal(flat[tuple(sources.unbind(-1))].reshape(out.shape), out)
    # away from dim, a source coordinate is the output's own coordinate
    d = case.dim % max(case.input.dim(), 1)
    for k in range(case.index.dim()):
        if k != d and sources.numel():
            positions = torch.arange(case.index.size(k), device=DEVICE)
            shape = [1] * case.index.dim()
            shape[k] = -1
            assert torch.equal(sources[..., k], positions.view(shape).expand(case.index.shape))


X = torch.tensor([[10, 20, 30], [40, 50, 60]])


@pytest.mark.parametrize(
    ("dim", "index", "error", "message"),
    [
        (
            1,
            [0, 1],
            ValueError,
            "index has 1 dims but input has 2 (index shape (2,), input shape (2, 3))",
        ),
        (1, [[0], [1], [2]], ValueError, "index.shape[0] is 3 but input.shape[0] is 2"),
        (1, [[0, 3]], IndexError, "index holds 3 at position (0, 1), but input.shape[1] is 3"),
        (1, [[0, 0], [-1, 0]], IndexError, "index holds -1 at position (1, 0)"),
        (0, [[2, 0, 0]], IndexError, "along dim 0 the valid indices are 0..1"),
        (
            2,
            [[0]],
            IndexError,
            "dim=2 is out of range for input of shape (2, 3): valid dims are -2..1",
        ),
        (-3, [[0]], IndexError, "dim=-3 is out of range"),
    ],
)
def test_checked_gather_names_argument_shapes_and_dim(dim, index, error, message):
    with pytest.raises(error, match=re.escape(message)):
        checked_gather(_example(X), dim, _example(index))


def test_checked_gather_rejects_float_and_int16_index():
    with pytest.raises(TypeError, match="index must be int64 or int32 for gather, got float32"):
        checked_gather(_example(X), 1, _example([[0.0]]))
    with pytest.raises(TypeError, match="got int16"):
        checked_gather(_example(X), 1, _example([[0]], dtype=torch.int16))


def test_checked_gather_rejects_non_tensors_and_bool_dim():
    with pytest.raises(TypeError, match=re.escape("index must be a torch.Tensor, got list")):
        checked_gather(_example(X), 1, [[0]])
    with pytest.raises(TypeError, match=re.escape("input must be a torch.Tensor, got list")):
        checked_gather([[1]], 1, _example([[0]]))
    with pytest.raises(TypeError, match="dim must be an int, got bool"):
        checked_gather(_example(X), True, _example([[0]]))


def test_check_gather_args_returns_the_non_negative_dim():
    assert _check_gather_args(_example(X), -1, _example([[0]])) == 1
    assert _check_gather_args(_example(X), 0, _example([[0]])) == 0


# --- what PyTorch itself does (pinned: the chapter relies on it) -------------------------


def test_pytorch_gather_accepts_int32_and_rejects_int16():
    assert torch.equal(
        torch.gather(_example(X), 1, _example([[2]], dtype=torch.int32)), _example([[30]])
    )
    with pytest.raises(
        RuntimeError, match=re.escape("gather(): Expected dtype int32/int64 for index")
    ):
        torch.gather(_example(X), 1, _example([[2]], dtype=torch.int16))


def test_pytorch_gather_does_not_broadcast_a_size_one_index_dim():
    out = torch.gather(_example(X), 1, _example([[2, 0]]))
    assert out.shape == (1, 2)  # one row, silently: not (2, 2)


def test_pytorch_gather_rejects_negative_index_values_on_cpu():
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 1 with size 3"):
        torch.gather(X, 1, torch.tensor([[-1]]))


def test_pytorch_gather_backward_accumulates_repeated_indices():
    w = _example([1.0, 2.0, 3.0]).requires_grad_()
    torch.gather(w, 0, _example([0, 0, 2])).sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 1.0]


# --- token log-probs ----------------------------------------------------------------------


@given(st.integers(0, 3), st.integers(0, 5), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_token_logprobs_matches_the_loop_and_cross_entropy(b, t, v, seed):
    logits = example_normal(b, t, v, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, v, (b, t), generator=gen).to(DEVICE)
    out = token_logprobs(logits, tokens)
    assert out.shape == (b, max(t - 1, 0))
    torch.testing.assert_close(out, reference._token_logprobs(logits, tokens))
    if b and t > 1:
        ce = F.cross_entropy(
            logits[:, :-1].reshape(-1, v), tokens[:, 1:].reshape(-1), reduction="none"
        )
        torch.testing.assert_close(out, -ce.view(b, t - 1))


def test_token_logprobs_errors_name_the_argument():
    logits = example_normal(2, 4, 5)
    with pytest.raises(
        ValueError, match=re.escape("logits must have 3 dims (B, T, V), got shape (2, 4)")
    ):
        token_logprobs(logits[:, :, 0], _example([[0] * 4] * 2))
    with pytest.raises(
        ValueError, match=re.escape("tokens has shape (2, 3) but logits has shape (2, 4, 5)")
    ):
        token_logprobs(logits, _example([[0] * 3] * 2))
    with pytest.raises(IndexError, match=re.escape("tokens holds 5 at position (1, 2)")):
        token_logprobs(logits, _example([[0, 0, 0, 0], [0, 0, 5, 0]]))


# --- Q-values -----------------------------------------------------------------------------


@given(
    st.integers(0, 6),
    st.integers(1, 5),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["contiguous", "permuted"]),
)
def test_taken_action_values_matches_the_loop(b, a, seed, layout):
    q = make_tensor((b, a), layout, seed)
    actions = torch.randint(0, a, (b,), generator=torch.Generator().manual_seed(seed)).to(DEVICE)
    out = taken_action_values(q, actions)
    assert torch.equal(out, reference._taken_action_values(q, actions))
    assert torch.equal(out, q[torch.arange(b, device=DEVICE), actions])


def test_taken_action_values_errors():
    q = _example([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(
        ValueError, match=re.escape("actions has 3 entries but q_values has 2 rows")
    ):
        taken_action_values(q, _example([0, 1, 0]))
    with pytest.raises(
        IndexError, match=re.escape("actions holds 2 at position (1,), but q_values.shape[1] is 2")
    ):
        taken_action_values(q, _example([0, 2]))
    with pytest.raises(
        ValueError, match=re.escape("actions must have 1 dims (B,), got shape (2, 1)")
    ):
        taken_action_values(q, _example([[0], [1]]))


# --- patches and top-k --------------------------------------------------------------------


@given(
    st.integers(0, 3),
    st.integers(1, 5),
    st.integers(0, 4),
    st.integers(0, 6),
    st.integers(0, 2**31 - 1),
    st.sampled_from(["contiguous", "permuted", "strided", "expanded"]),
    st.sampled_from([torch.int64, torch.int32]),
)
def test_select_patches_matches_the_loop(b, n, d, k, seed, layout, dtype):
    patches = make_tensor((b, n, d), layout, seed)
    idx = torch.randint(0, n, (b, k), generator=torch.Generator().manual_seed(seed), dtype=dtype)
    idx = idx.to(DEVICE)
    assert torch.equal(select_patches(patches, idx), reference.select_patches(patches, idx))


def test_select_patches_expanded_index_is_a_view():
    idx = _example([[1, 0]])
    expanded = idx.unsqueeze(-1).expand(-1, -1, 7)
    assert expanded.stride()[-1] == 0
    assert expanded.data_ptr() == idx.data_ptr()


def test_select_patches_errors():
    patches = example_normal(2, 3, 4)
    with pytest.raises(ValueError, match=re.escape("idx has batch size 1 but patches has 2")):
        select_patches(patches, _example([[0]]))
    with pytest.raises(
        IndexError, match=re.escape("idx holds 3 at position (0, 1), but patches.shape[1] is 3")
    ):
        select_patches(patches, _example([[0, 3], [0, 0]]))


# --- issue 9: the away-from-dim size rule, for every dim d (the last one included) ----------


@pytest.mark.parametrize(
    ("ndim", "dim", "d"),
    [(n, dim, d) for n in range(2, 5) for dim in range(n) for d in range(n) if d != dim],
)
def test_check_gather_args_refuses_a_larger_index_in_every_dim_but_dim(ndim, dim, d):
    in_shape = [2] * ndim
    idx_shape = [1] * ndim
    idx_shape[d] = 3  # larger than input.size(d) = 2
    x = torch.zeros(in_shape, device=DEVICE)
    index = torch.zeros(idx_shape, dtype=torch.long, device=DEVICE)
    message = f"index.shape[{d}] is 3 but input.shape[{d}] is 2"
    with pytest.raises(ValueError, match=re.escape(message)):
        _check_gather_args(x, dim, index)
    # PyTorch refuses it too (CPU, 2.13.0), with its own words
    with pytest.raises(RuntimeError, match=f"Size does not match at dimension {d}"):
        torch.gather(x.cpu(), dim, index.cpu())
    # one less is fine, in the same dim
    idx_shape[d] = 2
    assert (
        _check_gather_args(x, dim, torch.zeros(idx_shape, dtype=torch.long, device=DEVICE)) == dim
    )


# --- issue 8: a 0-d tensor counts as 1-d for gather (PyTorch 2.13.0) ----------------------


def test_pytorch_gather_counts_a_0d_tensor_as_1d():
    """Seen on PyTorch 2.13.0 (CPU): either side may be 0-d; the output has index's shape."""
    assert torch.gather(torch.tensor(5.0), 0, torch.tensor([0])).tolist() == [5.0]
    out = torch.gather(torch.tensor([10.0, 20.0, 30.0]), 0, torch.tensor(1))
    assert out.shape == () and out.item() == 20.0
    assert torch.gather(torch.tensor(5.0), -1, torch.tensor(0)).shape == ()
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        torch.gather(torch.tensor(5.0), 0, torch.tensor([[0]]))
    with pytest.raises(RuntimeError, match="index 1 is out of bounds for dimension 0 with size 1"):
        torch.gather(torch.tensor(5.0), 0, torch.tensor(1))


@pytest.mark.parametrize(
    ("input", "dim", "index"),
    [
        (torch.tensor(5.0), 0, torch.tensor([0])),
        (torch.tensor(5.0), 0, torch.tensor([0, 0])),
        (torch.tensor([10.0, 20.0, 30.0]), 0, torch.tensor(1)),
        (torch.tensor([10.0, 20.0, 30.0]), -1, torch.tensor(2)),
        (torch.tensor(5.0), -1, torch.tensor(0)),
    ],
)
def test_checked_gather_and_the_loop_accept_0d_tensors(input, dim, index):
    input, index = input.to(DEVICE), index.to(DEVICE)
    expected = torch.gather(input, dim, index)
    assert torch.equal(checked_gather(input, dim, index), expected)
    assert torch.equal(reference.gather(input, dim, index), expected)
    assert _gather_sources(index, dim).shape == (*index.shape, max(index.dim(), 1))


def test_checked_gather_0d_messages_say_a_0d_tensor_counts_as_1d():
    with pytest.raises(
        ValueError,
        match=re.escape("index has 2 dims but input has 0 (a 0-d tensor counts as 1) "),
    ):
        checked_gather(_example(5.0), 0, _example([[0]]))
    with pytest.raises(
        ValueError,
        match=re.escape("index has 0 dims (a 0-d tensor counts as 1) but input has 2 "),
    ):
        checked_gather(_example(X), 0, _example(0))
    with pytest.raises(IndexError, match=re.escape("index holds 1 at position (), but input")):
        checked_gather(_example(5.0), 0, _example(1))


# --- issue 9: token_logprobs wants floating logits and keeps their precision ----------------


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
def test_token_logprobs_refuses_logits_that_are_not_floating_point(dtype):
    logits = torch.zeros(1, 2, 3, dtype=dtype, device=DEVICE)
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        token_logprobs(logits, _example([[0, 1]]))


def test_token_logprobs_keeps_float64_precision():
    logits = _example([[[1e8, 1e8 + 1], [0.0, 0.0]]], dtype=torch.float64)
    out = token_logprobs(logits, _example([[0, 0]]))
    assert out.dtype == torch.float64
    # log(1 / (1 + e)) = -1.3133: float32 cannot tell 1e8 from 1e8 + 1 and gives log(1/2)
    expected = -math.log1p(math.e)
    assert abs(out.item() - expected) < 1e-12
    torch.testing.assert_close(out, reference._token_logprobs(logits, _example([[0, 0]])))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_token_logprobs_half_precision_keeps_the_dtype(dtype):
    logits = example_normal(2, 4, 5).to(dtype)
    tokens = _example([[0, 1, 2, 3], [4, 3, 2, 1]])
    out = token_logprobs(logits, tokens)
    assert out.dtype == dtype
    torch.testing.assert_close(out, reference._token_logprobs(logits, tokens))


# --- class indices: cross_entropy targets and embedding ids (chapter 1, gather-device-assert) --

class_cases = st.tuples(
    st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple),  # shape
    st.integers(0, 5),  # num_classes
    st.sampled_from([None, -100, 0, 2]),  # ignore_index
    st.sampled_from([torch.int64, torch.int32, torch.int16]),
    st.integers(0, 2**16),  # seed
)


@given(class_cases)
def test_check_class_indices_raises_exactly_where_the_loop_finds_a_bad_value(case):
    shape, num_classes, ignore_index, dtype, seed = case
    gen = torch.Generator().manual_seed(seed)
    values = torch.randint(-2, num_classes + 2, shape, generator=gen)
    if ignore_index is not None:  # put the ignored value in a few places
        values = torch.where(torch.rand(shape, generator=gen) < 0.3, ignore_index, values)
    indices = values.to(dtype).to(DEVICE)
    expected = reference._first_bad_class_index(values, num_classes, ignore_index)
    if expected is None:
        assert check_class_indices(indices, num_classes, ignore_index=ignore_index) is indices
    else:
        position, value = expected
        with pytest.raises(
            IndexError,
            match=rf"^labels holds {value} at position {re.escape(str(position))}, but num_classes is {num_classes}",
        ):
            check_class_indices(indices, num_classes, ignore_index=ignore_index, name="labels")


@given(class_cases)
def test_check_class_indices_agrees_with_cross_entropy_and_embedding_on_the_cpu(case):
    shape, num_classes, _, _, seed = case
    gen = torch.Generator().manual_seed(seed)
    targets = torch.randint(-2, num_classes + 2, shape, generator=gen)
    targets = torch.where(torch.rand(shape, generator=gen) < 0.2, -100, targets)
    logits = torch.randn((shape[0], num_classes, *shape[1:]), generator=gen)

    def raises(fn):
        try:
            fn()
        except IndexError:
            return True
        return False

    helper = raises(lambda: check_class_indices(targets, num_classes, ignore_index=-100))
    if num_classes > 0 and targets.numel() > 0:  # cross_entropy over 0 classes: not a case
        assert helper == raises(lambda: F.cross_entropy(logits, targets))
    ids = targets.clamp(min=-2)  # embedding ids: no ignore_index
    emb = torch.nn.Embedding(max(num_classes, 1), 2)
    assert raises(lambda: check_class_indices(ids, emb.num_embeddings)) == raises(lambda: emb(ids))


def test_check_class_indices_errors_name_the_argument():
    with pytest.raises(TypeError, match=r"^target must hold integer class indices, got float32"):
        check_class_indices(torch.tensor([0.0]), 3, name="target")
    with pytest.raises(TypeError, match=r"^num_classes must be an int"):
        check_class_indices(torch.tensor([0]), 3.0)
    with pytest.raises(
        IndexError,
        match=r"^indices holds -1 at position \(0,\), but num_classes is 3: valid values are 0..2$",
    ):
        check_class_indices(torch.tensor([-1]), 3)


def test_pytorch_cpu_messages_of_the_usual_device_side_assert_causes():
    # Seen on 2.13.0 (CPU): the messages chapter 1 shows for a label >= the number of
    # classes and a token id >= the vocabulary size; neither names the size, the embedding's
    # names neither the value nor the position. int32 targets are refused by cross_entropy.
    logits = torch.zeros(2, 3)
    with pytest.raises(IndexError, match=r"^Target 3 is out of bounds\.$"):
        F.cross_entropy(logits, torch.tensor([0, 3]))
    with pytest.raises(IndexError, match=r"^index out of range in self$"):
        torch.nn.Embedding(5, 2)(torch.tensor([[1, 5]]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        F.cross_entropy(logits, torch.tensor([0, 2], dtype=torch.int32))


def test_checked_gather_on_the_cpu_reads_the_index_only_after_gather_fails(monkeypatch):
    # On the CPU torch.gather checks every index itself (2.13.0 raises "index 3 is out of
    # bounds for dimension 1 with size 3"), so checked_gather reads the values only to say
    # which one is bad; on other devices it reads them first (see _check_gather_args).
    import snippets.indexing as indexing

    calls = []
    real = indexing.check_index_values
    monkeypatch.setattr(
        indexing, "check_index_values", lambda *a, **k: (calls.append(1), real(*a, **k))[1]
    )
    x = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
    valid = torch.tensor([[1], [2]])
    assert torch.equal(indexing.checked_gather(x, 1, valid), torch.gather(x, 1, valid))
    assert calls == []
    with pytest.raises(IndexError, match=r"index holds 3 at position \(1, 0\)") as info:
        indexing.checked_gather(x, 1, torch.tensor([[1], [3]]))
    assert calls == [1]
    assert info.value.__context__ is None and info.value.__cause__ is None  # not chained


def test_pytorch_gather_on_the_cpu_raises_on_an_out_of_range_index():
    # checked_gather relies on this on the CPU (seen on 2.9.1 to 2.14.1 in the version matrix's
    # chapter-2 cells): a negative index is not wrapped, a large one not clamped.
    x = torch.zeros(2, 3)
    for bad in (3, -1):
        with pytest.raises(
            RuntimeError, match=f"index {bad} is out of bounds for dimension 1 with size 3"
        ):
            torch.gather(x, 1, torch.tensor([[0], [bad]]))
