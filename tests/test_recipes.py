"""snippets.recipes and draw.cat: the field recipes against their loops and PyTorch; the
surprises of PyTorch 2.13.0 that chapter 8 shows, pinned."""

import re
import warnings

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from snippets import draw, reference
from snippets.device import DEVICE
from snippets.draw import canvas
from snippets.recipes import answer_rank, cat_shape, pick_channel
from tests.strategies import make_tensor
from tests.svg import crossings, panels, parse, rects, shown_px

PINNED = "2.13.0"
pinned = pytest.mark.skipif(
    torch.__version__.split("+")[0] != PINNED, reason=f"pins PyTorch {PINNED} behaviour"
)
LAYOUTS = ["contiguous", "permuted", "strided", "expanded"]


@st.composite
def cat_cases(draw_):
    ndim = draw_(st.integers(1, 3))
    base = [draw_(st.integers(0, 3)) for _ in range(ndim)]
    dim = draw_(st.integers(-ndim, ndim - 1))
    d = dim % ndim
    tensors = []
    for _ in range(draw_(st.integers(1, 3))):
        shape = list(base)
        shape[d] = draw_(st.integers(0, 3))
        seed = draw_(st.integers(0, 2**31 - 1))
        tensors.append(make_tensor(tuple(shape), draw_(st.sampled_from(LAYOUTS)), seed))
    return tensors, dim


@given(cat_cases())
def test_cat_shape_matches_torch_cat_and_the_loop(case):
    tensors, dim = case
    out = torch.cat(tensors, dim=dim)
    assert cat_shape([tuple(t.shape) for t in tensors], dim) == tuple(out.shape)
    assert torch.equal(out, reference.cat(tensors, dim))


@given(cat_cases())
def test_stack_is_cat_of_unsqueezed_tensors(case):
    tensors, dim = case
    same = [tensors[0]] * len(tensors)
    d = dim % (tensors[0].dim() + 1)
    assert torch.equal(torch.stack(same, d), torch.cat([t.unsqueeze(d) for t in same], d))


@pytest.mark.parametrize(
    ("shapes", "dim", "error", "message"),
    [
        ([(3,), (3,)], 1, IndexError, "use torch.stack(tensors, dim=1)"),
        (
            [(2, 3), (3, 2)],
            1,
            ValueError,
            "tensor 1 has shape (3, 2) but tensor 0 has shape (2, 3)",
        ),
        ([(2, 3), (3,)], 0, ValueError, "tensor 1 has 1 dims (shape (3,)) but tensor 0 has 2"),
        ([], 0, ValueError, "non-empty list"),
        ([(), ()], 0, ValueError, "cannot join 0-d tensors"),
    ],
)
def test_cat_shape_names_the_tensor_and_dim(shapes, dim, error, message):
    with pytest.raises(error, match=re.escape(message)):
        cat_shape(shapes, dim)


@st.composite
def channel_cases(draw_):
    h, w = draw_(st.integers(0, 4)), draw_(st.integers(0, 4))
    c = draw_(st.integers(1, 4))
    seed = draw_(st.integers(0, 2**31 - 1))
    data = make_tensor((h, w, c), draw_(st.sampled_from(LAYOUTS)), seed)
    dtype = draw_(st.sampled_from([torch.int64, torch.int32]))
    gen = torch.Generator().manual_seed(seed + 1)
    return data, torch.randint(0, c, (h, w), generator=gen, dtype=dtype).to(DEVICE)


@given(channel_cases())
def test_pick_channel_matches_the_loop_and_advanced_indexing(case):
    data, index_map = case
    out = pick_channel(data, index_map)
    assert torch.equal(out, reference.pick_channel(data, index_map))
    h, w = index_map.shape
    rows = torch.arange(h, device=DEVICE)[:, None]
    cols = torch.arange(w, device=DEVICE)[None, :]
    assert torch.equal(out, data[rows, cols, index_map.long()])
    # the recipe that expands the index to C reads the same channel C times
    wrong = data.gather(2, index_map.long().unsqueeze(-1).expand(-1, -1, data.shape[2]))
    assert torch.equal(wrong, out.unsqueeze(-1).expand_as(wrong))


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long)), ValueError, "data must have 3 dims (H, W, C)"),
        ((torch.zeros(2, 2, 3), torch.zeros(2, 3, dtype=torch.long)), ValueError, "index_map has shape (2, 3) but data has shape (2, 2, 3)"),
        ((torch.zeros(2, 2, 3), torch.zeros(2, 2)), TypeError, "index_map must be int64 or int32"),
        ((torch.zeros(2, 2, 3), torch.full((2, 2), -1)), IndexError, "index_map holds -1 at position (0, 0)"),
    ],
)  # fmt: skip
def test_pick_channel_bad_arguments_are_named(args, error, message):
    with pytest.raises(error, match=re.escape(message)):
        pick_channel(*args)


@st.composite
def rank_cases(draw_):
    b, v = draw_(st.integers(0, 4)), draw_(st.integers(1, 6))
    seed = draw_(st.integers(0, 2**31 - 1))
    gen = torch.Generator().manual_seed(seed)
    scores = torch.randint(0, 3, (b, v), generator=gen).float()  # ties on purpose
    return scores.to(DEVICE), torch.randint(0, v, (b,), generator=gen).to(DEVICE)


@given(rank_cases())
def test_answer_rank_matches_the_loop_and_a_stable_sort_without_ties(case):
    scores, answer = case
    rank = answer_rank(scores, answer)
    assert torch.equal(rank, reference.answer_rank(scores, answer))
    assert torch.equal(answer_rank(scores.t(), answer, dim=0), rank)
    # with distinct scores, the rank is the answer's position in the descending order
    distinct = scores + torch.arange(scores.shape[1], device=DEVICE) * 1e-3
    order = distinct.argsort(dim=1, descending=True, stable=True)
    position = (order == answer[:, None]).nonzero()[:, 1]
    assert torch.equal(answer_rank(distinct, answer), position)


def test_answer_rank_bad_arguments_are_named():
    with pytest.raises(
        ValueError, match=re.escape("answer must have the shape of scores without dim 1, (2,)")
    ):
        answer_rank(torch.zeros(2, 3), torch.zeros(3, dtype=torch.long))
    with pytest.raises(IndexError, match="answer holds 3"):
        answer_rank(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="at least 1 dim"):
        answer_rank(torch.tensor(1.0), torch.tensor(0))


# --- draw.cat ---------------------------------------------------------------------------------


@given(cat_cases())
def test_cat_figure_colours_each_output_cell_like_its_input(case):
    tensors, dim = case
    if tensors[0].dim() > 2:
        with pytest.raises(ValueError, match="draws 1-D and 2-D tensors"):
            draw.cat(tensors, dim)
        return
    fig = draw.cat(tensors, dim)
    root = parse(fig)
    out = rects(root, "output")
    expected = torch.cat(tensors, dim).cpu()
    for c, r in out.items():
        k, *p = fig.cell("output", c).source
        assert r.get("fill") == rects(root, f"t{k}")[tuple(p)].get("fill")
        assert fig.cell("output", c).text == canvas.format_value(expected[c].item())
    assert len(panels(fig)) == 2


# --- PyTorch 2.13.0 surprises that chapter 8 shows --------------------------------------------


@pinned
def test_cat_of_1d_tensors_along_dim_1_is_an_index_error():
    with pytest.raises(
        IndexError,
        match=re.escape("Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ):
        torch.cat([torch.ones(3), torch.ones(3)], dim=1)


@pinned
def test_cat_promotes_mixed_dtypes():
    out = torch.cat([torch.zeros(2), torch.zeros(2, dtype=torch.long)])
    assert out.dtype == torch.float32


@pinned
def test_the_old_addcmul_overload_warns_and_computes_input_plus_value_times_product():
    c, a, b = torch.tensor([7.0, 8.0]), torch.tensor([1.0, 2.0]), torch.tensor([4.0, 5.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = torch.addcmul(c, 2, a, b)
    assert "This overload of addcmul is deprecated" in str(caught[0].message)
    assert torch.equal(old, torch.addcmul(c, a, b, value=2))
    assert torch.equal(old, c + 2 * a * b)


@pinned
def test_masked_fill_refuses_a_uint8_mask():
    with pytest.raises(
        RuntimeError,
        match="masked_fill_ only supports boolean masks, but got mask with dtype unsigned char",
    ):
        torch.zeros(2, 2).masked_fill(torch.ones(2, 2, dtype=torch.uint8), 1.0)


@pinned
def test_an_in_place_op_on_a_saved_tensor_fails_at_backward():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    h = w.sigmoid()
    h.add_(1)
    with pytest.raises(
        RuntimeError,
        match=re.escape(
            "which is output 0 of Sigmoid, is at version 1; expected version 0 instead"
        ),
    ):
        h.sum().backward()


@pinned
def test_gathering_embeddings_with_a_3d_index_fails():
    emb, ids = torch.zeros(4, 3), torch.tensor([[0, 3], [2, 2]])
    with pytest.raises(
        RuntimeError, match="Index tensor must have the same number of dimensions as input tensor"
    ):
        emb.gather(0, ids.unsqueeze(-1).expand(-1, -1, 3))
    assert torch.equal(F.embedding(ids, emb), emb[ids])


@pytest.mark.parametrize("column", [688 - 16, 358 - 16])  # the output box at 1280 and 390 px
def test_the_chapter_figure_reads_at_11_px(column):

    fig = draw.cat([torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.tensor([[7], [8]])], dim=1)
    for panel in panels(fig):
        assert shown_px(panel, column) >= 11
        assert crossings(panel) == []
