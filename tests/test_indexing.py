"""snippets.indexing: gather and its everyday uses, against the loop references and PyTorch."""

import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from snippets import reference
from snippets.device import DEVICE, example, example_normal
from snippets.indexing import (
    check_gather_args,
    checked_gather,
    gather_sources,
    select_patches,
    taken_action_values,
    token_logprobs,
    top_k_rows,
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
    sources = gather_sources(case.index, case.dim)
    assert sources.shape == (*case.index.shape, case.index.dim())
    # reading input at the source coordinates is gather itself
    assert torch.equal(case.input[tuple(sources.unbind(-1))], out)
    # away from dim, a source coordinate is the output's own coordinate
    d = case.dim % case.input.dim()
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
        checked_gather(example(X), dim, example(index))


def test_checked_gather_rejects_float_and_int16_index():
    with pytest.raises(TypeError, match="index must be int64 or int32 for gather, got float32"):
        checked_gather(example(X), 1, example([[0.0]]))
    with pytest.raises(TypeError, match="got int16"):
        checked_gather(example(X), 1, example([[0]], dtype=torch.int16))


def test_checked_gather_rejects_non_tensors_and_bool_dim():
    with pytest.raises(TypeError, match=re.escape("index must be a torch.Tensor, got list")):
        checked_gather(example(X), 1, [[0]])
    with pytest.raises(TypeError, match=re.escape("input must be a torch.Tensor, got list")):
        checked_gather([[1]], 1, example([[0]]))
    with pytest.raises(TypeError, match="dim must be an int, got bool"):
        checked_gather(example(X), True, example([[0]]))


def test_check_gather_args_returns_the_non_negative_dim():
    assert check_gather_args(example(X), -1, example([[0]])) == 1
    assert check_gather_args(example(X), 0, example([[0]])) == 0


# --- what PyTorch itself does (pinned: the chapter relies on it) -------------------------


def test_pytorch_gather_accepts_int32_and_rejects_int16():
    assert torch.equal(
        torch.gather(example(X), 1, example([[2]], dtype=torch.int32)), example([[30]])
    )
    with pytest.raises(
        RuntimeError, match=re.escape("gather(): Expected dtype int32/int64 for index")
    ):
        torch.gather(example(X), 1, example([[2]], dtype=torch.int16))


def test_pytorch_gather_does_not_broadcast_a_size_one_index_dim():
    out = torch.gather(example(X), 1, example([[2, 0]]))
    assert out.shape == (1, 2)  # one row, silently: not (2, 2)


def test_pytorch_gather_rejects_negative_index_values_on_cpu():
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 1 with size 3"):
        torch.gather(X, 1, torch.tensor([[-1]]))


def test_pytorch_gather_backward_accumulates_repeated_indices():
    w = example([1.0, 2.0, 3.0]).requires_grad_()
    torch.gather(w, 0, example([0, 0, 2])).sum().backward()
    assert w.grad.tolist() == [2.0, 0.0, 1.0]


# --- token log-probs ----------------------------------------------------------------------


@given(st.integers(0, 3), st.integers(0, 5), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_token_logprobs_matches_the_loop_and_cross_entropy(b, t, v, seed):
    logits = example_normal(b, t, v, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, v, (b, t), generator=gen).to(DEVICE)
    out = token_logprobs(logits, tokens)
    assert out.shape == (b, max(t - 1, 0))
    torch.testing.assert_close(out, reference.token_logprobs(logits, tokens))
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
        token_logprobs(logits[:, :, 0], example([[0] * 4] * 2))
    with pytest.raises(
        ValueError, match=re.escape("tokens has shape (2, 3) but logits has shape (2, 4, 5)")
    ):
        token_logprobs(logits, example([[0] * 3] * 2))
    with pytest.raises(IndexError, match=re.escape("tokens holds 5 at position (1, 2)")):
        token_logprobs(logits, example([[0, 0, 0, 0], [0, 0, 5, 0]]))


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
    assert torch.equal(out, reference.taken_action_values(q, actions))
    assert torch.equal(out, q[torch.arange(b, device=DEVICE), actions])


def test_taken_action_values_errors():
    q = example([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(
        ValueError, match=re.escape("actions has 3 entries but q_values has 2 rows")
    ):
        taken_action_values(q, example([0, 1, 0]))
    with pytest.raises(
        IndexError, match=re.escape("actions holds 2 at position (1,), but q_values.shape[1] is 2")
    ):
        taken_action_values(q, example([0, 2]))
    with pytest.raises(
        ValueError, match=re.escape("actions must have 1 dims (B,), got shape (2, 1)")
    ):
        taken_action_values(q, example([[0], [1]]))


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
    idx = example([[1, 0]])
    expanded = idx.unsqueeze(-1).expand(-1, -1, 7)
    assert expanded.stride()[-1] == 0
    assert expanded.data_ptr() == idx.data_ptr()


def test_select_patches_errors():
    patches = example_normal(2, 3, 4)
    with pytest.raises(ValueError, match=re.escape("idx has batch size 1 but patches has 2")):
        select_patches(patches, example([[0]]))
    with pytest.raises(
        IndexError, match=re.escape("idx holds 3 at position (0, 1), but patches.shape[1] is 3")
    ):
        select_patches(patches, example([[0, 3], [0, 0]]))


@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 3), st.data())
def test_top_k_rows_matches_the_loop(b, n, d, data):
    k = data.draw(st.integers(0, n))
    seed = data.draw(st.integers(0, 2**31 - 1))
    x = make_tensor((b, n, d), "contiguous", seed)
    # distinct scores: topk does not promise an order among ties
    scores = (
        torch.stack(
            [torch.randperm(n, generator=torch.Generator().manual_seed(seed + i)) for i in range(b)]
        )
        .float()
        .to(DEVICE)
    )
    rows, indices = top_k_rows(x, scores, k)
    ref_rows, ref_indices = reference.top_k_rows(x, scores, k)
    assert torch.equal(indices, ref_indices)
    assert torch.equal(rows, ref_rows)


def test_top_k_rows_errors():
    x = example_normal(1, 3, 2)
    with pytest.raises(ValueError, match=re.escape("k must be an int in 0..3 (x.shape[1]), got 4")):
        top_k_rows(x, example([[0.1, 0.2, 0.3]]), 4)
    with pytest.raises(
        ValueError, match=re.escape("scores has shape (1, 2) but x has shape (1, 3, 2)")
    ):
        top_k_rows(x, example([[0.1, 0.2]]), 1)
