"""The specification of each operation the book explains, written as plain Python loops.

These are slow on purpose: a loop over every output position says exactly what the operation
means, with nothing hidden in broadcasting or strides. The tests compare the book's helpers and
PyTorch's own operations against them, and ``snippets.exercises.check`` compares the reader's
answers against them. Nothing else in the book loops over elements.

>>> import torch
>>> gather(torch.tensor([[10, 20, 30], [40, 50, 60]]), 1, torch.tensor([[0, 2], [1, 0]]))
tensor([[10, 30],
        [50, 40]])
"""

from __future__ import annotations

import itertools
import math

import torch

__all__ = [
    "advanced_index",
    "answer_rank",
    "argmax_coordinates",
    "batch_pick",
    "broadcast_binary",
    "cat",
    "channel_argmax_coordinates",
    "class_counts",
    "count_occurrences",
    "ema_step_",
    "ema_update",
    "gather",
    "keep_top_k",
    "layer_output",
    "layer_output_grad",
    "length_mask",
    "loss_for",
    "normalize_channels",
    "pairwise_sq_dists",
    "patch_layer",
    "peak_coordinates",
    "pick_channel",
    "pick_per_column",
    "predict_proba",
    "scatter",
    "segment_max",
    "select_patches",
    "sequence_logprob",
    "sliding_windows",
    "sort_by_key",
    "take_along_dim",
    "top_k_labels",
    "undo_shuffle",
    "values_at_best",
]


def _positions(shape: torch.Size) -> itertools.product:
    return itertools.product(*(range(s) for s in shape))


# ---------------------------------------------------------------------------------------------
# notebooks/00-indexing.ipynb ("Indexing with tensors"): advanced indexing as a loop over the
# output's positions. The layout rule is written out step by step: ints drop their dim, slices and
# None keep (or add) one, a bool mask stands for the tensors of its nonzero positions, and the index
# tensors' broadcast dims go in place when the tensors are next to each other, first otherwise.


def _mask_positions(mask: torch.Tensor) -> list[tuple[int, ...]]:
    """The coordinates of the True elements of ``mask``, in row-major order."""
    return [p for p in _positions(mask.shape) if bool(mask[p])]


def _expand_items(shape: tuple[int, ...], indices: object) -> list[tuple[str, int, object]]:
    items = list(indices) if isinstance(indices, tuple) else [indices]
    named = 0
    for item in items:
        if isinstance(item, torch.Tensor) and item.dtype == torch.bool:
            named += item.dim()
        elif item is not None and item is not Ellipsis:
            named += 1
    if named > len(shape):
        raise IndexError(f"too many indices: {named} for {len(shape)} dims")
    expanded: list[object] = []
    for item in items:
        if item is Ellipsis:
            expanded += [slice(None)] * (len(shape) - named)
        else:
            expanded.append(item)
    if Ellipsis not in items:
        expanded += [slice(None)] * (len(shape) - named)
    # (kind, dim, value): "int", "slice", "none", "adv" (value: a function of the broadcast
    # position giving the coordinate along dim, and the tensor's shape)
    out: list[tuple[str, int, object]] = []
    d = 0
    for item in expanded:
        if item is None:
            out.append(("none", d, None))
        elif isinstance(item, slice):
            out.append(("slice", d, list(range(*item.indices(shape[d])))))
            d += 1
        elif isinstance(item, int) or (isinstance(item, torch.Tensor) and item.dim() == 0):
            i = int(item)
            if not -shape[d] <= i < shape[d]:
                raise IndexError(f"index {i} is out of range for dim {d} of size {shape[d]}")
            out.append(("int", d, i % shape[d]))
            d += 1
        elif item.dtype == torch.bool:
            if tuple(item.shape) != shape[d : d + item.dim()]:
                raise IndexError(f"mask of shape {tuple(item.shape)} does not fit dims from {d}")
            found = _mask_positions(item)
            for j in range(item.dim()):
                column = torch.tensor([p[j] for p in found], dtype=torch.long)
                out.append(("adv", d + j, column))
            d += item.dim()
        else:
            out.append(("adv", d, item))
            d += 1
    return out


def advanced_index(x: torch.Tensor, indices: object) -> torch.Tensor:
    """``x[indices]`` element by element, for ints, slices, None, ``...``, integer index
    tensors (broadcast together) and bool masks.

    Let ``B`` be the broadcast shape of the index tensors. An output position is split into
    the slice/None coordinates and a position ``b`` of ``B``; the source element of ``x`` takes,
    along each dim, the slice's value, the int, or ``tensor[b]`` (negative values counted from
    the end). ``B``'s dims stand where the index tensors stand when they are next to each other
    (ints do not count: they are gone first), and first otherwise.

    >>> x = torch.arange(24).reshape(2, 3, 4)
    >>> i = (torch.tensor([1, 0]), slice(None), torch.tensor([3, 0]))
    >>> advanced_index(x, i)  # the index tensors stand apart: their dim comes first
    tensor([[15, 19, 23],
            [ 0,  4,  8]])
    >>> torch.equal(advanced_index(x, i), x[i])
    True
    """
    shape = tuple(x.shape)
    items = _expand_items(shape, indices)
    kept = [it for it in items if it[0] != "int"]
    adv = [k for k, it in enumerate(kept) if it[0] == "adv"]
    b_shape = (
        _broadcast_shape(*(tuple(it[2].shape) for it in kept if it[0] == "adv")) if adv else ()
    )
    in_place = bool(adv) and adv == list(range(adv[0], adv[-1] + 1))
    # the output's dims, in order: ("basic", k) for kept item k, or ("b", j) for dim j of B
    order: list[tuple[str, int]] = []
    basic = [("basic", k) for k, it in enumerate(kept) if it[0] != "adv"]
    bdims = [("b", j) for j in range(len(b_shape))]
    if not adv:
        order = basic
    elif in_place:
        before = [o for o in basic if o[1] < adv[0]]
        order = before + bdims + [o for o in basic if o[1] > adv[-1]]
    else:
        order = bdims + basic
    sizes = []
    for kind, k in order:
        if kind == "b":
            sizes.append(b_shape[k])
        else:
            sizes.append(1 if kept[k][0] == "none" else len(kept[k][2]))
    out = torch.empty(sizes, dtype=x.dtype, device=x.device)
    for p in _positions(torch.Size(sizes)):
        coords = dict(zip(order, p, strict=True))
        b = tuple(coords[("b", j)] for j in range(len(b_shape)))
        source = [0] * len(shape)
        for kind, d, value in items:
            if kind == "int":
                source[d] = value
        for k, (kind, d, value) in enumerate(kept):
            if kind == "slice":
                source[d] = value[coords[("basic", k)]]
            elif kind == "adv":
                t_pos = _broadcast_source(b, tuple(value.shape))
                i = int(value[t_pos])
                if not -shape[d] <= i < shape[d]:
                    raise IndexError(f"index {i} is out of range for dim {d} of size {shape[d]}")
                source[d] = i % shape[d]
        out[p] = x[tuple(source)]
    return out


def batch_pick(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``out[b, :] = x[b, idx[b], :]`` for x ``(B, N, D)`` and idx ``(B,)``: one item per row.

    >>> x, idx = torch.arange(12).reshape(2, 3, 2), torch.tensor([2, 0])
    >>> batch_pick(x, idx)
    tensor([[4, 5],
            [6, 7]])
    >>> torch.equal(batch_pick(x, idx), x[torch.arange(2), idx])
    True
    """
    out = torch.empty(x.shape[0], x.shape[2], dtype=x.dtype, device=x.device)
    for b in range(x.shape[0]):
        for d in range(x.shape[2]):
            out[b, d] = x[b, int(idx[b]), d]
    return out


def sliding_windows(x: torch.Tensor, k: int) -> torch.Tensor:
    """``out[i, j] = x[i + j]`` for x ``(N,)``: the ``N - k + 1`` windows of length ``k``.

    >>> sliding_windows(torch.arange(5), 3)
    tensor([[0, 1, 2],
            [1, 2, 3],
            [2, 3, 4]])
    >>> torch.equal(sliding_windows(torch.arange(5), 3), torch.arange(5).unfold(0, 3, 1))
    True
    """
    n = max(x.shape[0] - k + 1, 0)
    out = torch.empty(n, k, dtype=x.dtype, device=x.device)
    for i in range(n):
        for j in range(k):
            out[i, j] = x[i + j]
    return out


def count_occurrences(idx: torch.Tensor, n: int) -> torch.Tensor:
    """``out[v]`` = how many times ``v`` appears in ``idx``, for ``v`` in ``0 .. n - 1``.

    >>> idx = torch.tensor([1, 1, 3])
    >>> count_occurrences(idx, 5)
    tensor([0, 2, 0, 1, 0])
    >>> torch.equal(count_occurrences(idx, 5), torch.bincount(idx, minlength=5))
    True
    """
    out = torch.zeros(n, dtype=torch.int64, device=idx.device)
    for i in range(idx.shape[0]):
        out[int(idx[i])] += 1
    return out


# ---------------------------------------------------------------------------------------------
# notebooks/01-gather.ipynb: gather, and the jobs it does (log-probs, Q-values, patches).


def gather(input: torch.Tensor, dim: int, index: torch.Tensor) -> torch.Tensor:
    """``out[p] = input[p with p[dim] replaced by index[p]]`` for every position ``p`` of index.

    For dim=1 on 2-D tensors that is ``out[i][j] = input[i][index[i][j]]``. A 0-d tensor,
    input or index, counts as 1-d with one element (as in PyTorch); the output has the shape
    of ``index``. An index outside ``0 .. input.size(dim) - 1`` is an IndexError.

    >>> x, i = torch.tensor([[1, 2], [3, 4]]), torch.tensor([[1], [0]])
    >>> gather(x, 1, i)
    tensor([[2],
            [3]])
    >>> torch.equal(gather(x, 1, i), torch.gather(x, 1, i))
    True
    """
    dim = dim % max(input.dim(), 1)
    flat_input = input.reshape(1) if input.dim() == 0 else input
    flat_index = index.reshape(1) if index.dim() == 0 else index
    size = flat_input.shape[dim]
    out = torch.empty(flat_index.shape, dtype=input.dtype, device=input.device)
    for p in _positions(flat_index.shape):
        source = list(p)
        i = int(flat_index[p])
        if not 0 <= i < size:
            raise IndexError(f"index {i} is out of bounds for dim {dim} with size {size}")
        source[dim] = i
        out[p] = flat_input[tuple(source)]
    return out.reshape(index.shape)


def pick_per_column(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``out[j] = x[rows[j], j]``: one chosen row in every column.

    >>> x, rows = torch.tensor([[1, 2, 3], [4, 5, 6]]), torch.tensor([1, 0, 1])
    >>> pick_per_column(x, rows)
    tensor([4, 2, 6])
    >>> torch.equal(pick_per_column(x, rows), x.gather(0, rows.unsqueeze(0)).squeeze(0))
    True
    """
    out = torch.empty(x.shape[1], dtype=x.dtype, device=x.device)
    for j in range(x.shape[1]):
        out[j] = x[int(rows[j]), j]
    return out


def _log_softmax_row(row: list[float]) -> list[float]:
    top = max(row)
    total = sum(math.exp(v - top) for v in row)
    return [v - top - math.log(total) for v in row]


def _token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """``out[b, t] = log softmax(logits[b, t])[tokens[b, t + 1]]`` for t in 0 .. T-2.

    The logits at position t predict the token at position t + 1 (the next-token shift).
    """
    batch, steps, _ = logits.shape
    out = torch.zeros(batch, max(steps - 1, 0), dtype=torch.float64)
    for b in range(batch):
        for t in range(steps - 1):
            row = _log_softmax_row([float(v) for v in logits[b, t]])
            out[b, t] = row[int(tokens[b, t + 1])]
    return out.to(logits.dtype).to(logits.device)


def sequence_logprob(
    logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``out[b] = sum over t >= 1 with mask[b, t] of log p(tokens[b, t] | tokens[b, :t])``.

    >>> logits = torch.zeros(1, 3, 4)  # uniform over 4 tokens: each counted one is log(1/4)
    >>> sequence_logprob(logits, torch.tensor([[0, 1, 2]]), torch.tensor([[True, True, False]]))
    tensor([-1.3863])
    """
    per_token = _token_logprobs(logits, tokens)
    out = torch.zeros(logits.shape[0], dtype=torch.float64)
    for b in range(logits.shape[0]):
        for t in range(1, tokens.shape[1]):
            if bool(mask[b, t]):
                out[b] += float(per_token[b, t - 1])
    return out.to(logits.dtype).to(logits.device)


def _taken_action_values(q_values: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``out[b] = q_values[b, actions[b]]``: the value of the action each transition took."""
    out = torch.empty(q_values.shape[0], dtype=q_values.dtype, device=q_values.device)
    for b in range(q_values.shape[0]):
        out[b] = q_values[b, int(actions[b])]
    return out


def select_patches(patches: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``out[b, k, :] = patches[b, idx[b, k], :]``: whole feature vectors, chosen per sample.

    >>> patches, idx = torch.arange(12).reshape(1, 3, 4), torch.tensor([[2, 0]])
    >>> select_patches(patches, idx)
    tensor([[[ 8,  9, 10, 11],
             [ 0,  1,  2,  3]]])
    >>> torch.equal(select_patches(patches, idx), patches[torch.arange(1)[:, None], idx])
    True
    """
    batch, k = idx.shape
    out = torch.empty(batch, k, patches.shape[2], dtype=patches.dtype, device=patches.device)
    for b in range(batch):
        for j in range(k):
            for d in range(patches.shape[2]):
                out[b, j, d] = patches[b, int(idx[b, j]), d]
    return out


def _first_bad_class_index(
    indices: torch.Tensor, num_classes: int, ignore_index: int | None = None
) -> tuple[tuple[int, ...], int] | None:
    """The first (row-major) position and value outside ``0 .. num_classes - 1``, or None."""
    for p in _positions(indices.shape):
        v = int(indices[p])
        if v == ignore_index:
            continue
        if not 0 <= v < num_classes:
            return p, v
    return None


# ---------------------------------------------------------------------------------------------
# notebooks/02-take-along-dim.ipynb. The broadcasting is written out: no expand, no broadcasting op.


def _stretched(size: int, out_size: int, coordinate: int) -> int:
    """The coordinate to read in a dim of ``size`` when the output has ``out_size`` there."""
    return 0 if size == 1 and out_size != 1 else coordinate


def _take_along_dim_shape(
    input_shape: tuple[int, ...], indices_shape: tuple[int, ...], dim: int
) -> tuple[int, ...]:
    if len(input_shape) != len(indices_shape):
        raise ValueError(f"ndim differs: input {input_shape}, indices {indices_shape}")
    out = []
    for d in range(len(input_shape)):
        a, b = input_shape[d], indices_shape[d]
        if d == dim:
            out.append(b)
        elif a == b or b == 1:
            out.append(a)
        elif a == 1:
            out.append(b)
        else:
            raise ValueError(f"sizes {a} and {b} do not broadcast in dim {d}")
    return tuple(out)


def _take_along_dim_source(
    input_shape: tuple[int, ...], indices: torch.Tensor, dim: int, p: tuple[int, ...]
) -> tuple[int, ...]:
    """The coordinate of ``input`` that output position ``p`` reads."""
    out_shape = _take_along_dim_shape(input_shape, tuple(indices.shape), dim)
    r = tuple(_stretched(indices.shape[d], out_shape[d], p[d]) for d in range(len(p)))
    q = [_stretched(input_shape[d], out_shape[d], p[d]) for d in range(len(p))]
    i = int(indices[r])
    if not 0 <= i < input_shape[dim]:
        raise IndexError(f"index {i} is out of bounds for dim {dim} with size {input_shape[dim]}")
    q[dim] = i
    return tuple(q)


def take_along_dim(
    input: torch.Tensor, indices: torch.Tensor, dim: int | None = None
) -> torch.Tensor:
    """``torch.take_along_dim`` as loops, with its broadcasting spelled out.

    ``dim=None``: ``out[k] = input.flatten()[indices.flatten()[k]]``, 1-D.

    Else the output has ``indices.size(dim)`` entries along ``dim`` and, in every other dim
    ``d``, the larger of ``input.size(d)`` and ``indices.size(d)`` (they are equal or one is 1).
    At output position ``p``: the index is read at ``p`` with 0 in every dim where ``indices``
    has size 1 (it is stretched), and the value at ``p`` with 0 in every dim where ``input`` has
    size 1, except that along ``dim`` the coordinate is that index.

    Every index must lie in ``0 .. size - 1`` (``size`` is ``input.size(dim)``, or
    ``input.numel()`` with ``dim=None``); any other is an IndexError, negative ones included.
    That is the rule of ``snippets.indexing.checked_take_along_dim`` and of ``gather``.
    PyTorch itself, with a ``dim``, reads -1 as the last element and wraps ``size`` to 0 on
    2.10.0 to 2.14.1 (on the CPU, in the book's version matrix), and raises on both on 2.9.1;
    with ``dim=None`` it raises on both.

    >>> x, i = torch.tensor([[10, 20, 30], [40, 50, 60]]), torch.tensor([[2, 0]])
    >>> take_along_dim(x, i, dim=1)  # i has one row: it is stretched over both rows of x
    tensor([[30, 10],
            [60, 40]])
    >>> torch.equal(take_along_dim(x, i, dim=1), torch.take_along_dim(x, i, dim=1))
    True
    >>> take_along_dim(x, torch.tensor([5, 0]))  # dim=None: indices into x.flatten()
    tensor([60, 10])
    """
    if dim is None:
        flat_input = [input[p] for p in _positions(input.shape)]
        flat_indices = [int(indices[p]) for p in _positions(indices.shape)]
        out = torch.empty(len(flat_indices), dtype=input.dtype, device=input.device)
        for k, i in enumerate(flat_indices):
            if not 0 <= i < len(flat_input):
                raise IndexError(f"index {i} is out of bounds for size {len(flat_input)}")
            out[k] = flat_input[i]
        return out
    dim = dim % input.dim()
    input_shape = tuple(input.shape)
    out_shape = _take_along_dim_shape(input_shape, tuple(indices.shape), dim)
    out = torch.empty(out_shape, dtype=input.dtype, device=input.device)
    for p in _positions(torch.Size(out_shape)):
        out[p] = input[_take_along_dim_source(input_shape, indices, dim, p)]
    return out


def _take_along_dim_sources(input: torch.Tensor, indices: torch.Tensor, dim: int) -> torch.Tensor:
    """``out[p] = the coordinate of input that take_along_dim's output position p reads``.

    Indices outside ``0 .. input.size(dim) - 1`` are an IndexError, as in ``take_along_dim``.
    """
    dim = dim % input.dim()
    input_shape = tuple(input.shape)
    out_shape = _take_along_dim_shape(input_shape, tuple(indices.shape), dim)
    out = torch.empty(*out_shape, input.dim(), dtype=torch.int64)
    for p in _positions(torch.Size(out_shape)):
        out[p] = torch.tensor(_take_along_dim_source(input_shape, indices, dim, p))
    return out.to(input.device)


def _sort_rows_by_key(
    x: torch.Tensor, key: torch.Tensor, *, descending: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """For every leading position q: the rows ``x[q, n, :]`` in the order of ``key[q, n]``.

    Ties keep their original order (a stable sort). Returns ``(rows, order)``.
    """
    n = x.shape[-2]
    rows = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    order = torch.empty(key.shape, dtype=torch.int64)
    for q in _positions(key.shape[:-1]):
        sign = -1.0 if descending else 1.0
        ranked = sorted(range(n), key=lambda m, q=q: (sign * float(key[(*q, m)]), m))
        for j, m in enumerate(ranked):
            order[(*q, j)] = m
            for d in range(x.shape[-1]):
                rows[(*q, j, d)] = x[(*q, m, d)]
    return rows, order.to(x.device)


def sort_by_key(values: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """``out[b] = values[b]`` reordered so that ``key[b]`` ascends (ties: lower index first).

    >>> values, key = torch.tensor([[10, 20, 30]]), torch.tensor([[3.0, 1.0, 2.0]])
    >>> sort_by_key(values, key)
    tensor([[20, 30, 10]])
    >>> torch.equal(sort_by_key(values, key), values.gather(1, key.argsort(dim=1, stable=True)))
    True
    """
    out = torch.empty(values.shape, dtype=values.dtype, device=values.device)
    for b in range(values.shape[0]):
        ranked = sorted(range(values.shape[1]), key=lambda n, b=b: (float(key[b, n]), n))
        for j, n in enumerate(ranked):
            out[b, j] = values[b, n]
    return out


def undo_shuffle(shuffled: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """The ``x`` with ``shuffled[b, t, :] = x[b, perm[b, t], :]``: ``out[b, perm[b, t]] = ...``.

    >>> x, perm = torch.arange(6).reshape(1, 3, 2), torch.tensor([[2, 0, 1]])
    >>> shuffled = x[:, perm[0]]  # shuffled[0, t] = x[0, perm[0, t]]
    >>> torch.equal(undo_shuffle(shuffled, perm), x)
    True
    """
    out = torch.empty(shuffled.shape, dtype=shuffled.dtype, device=shuffled.device)
    for b in range(shuffled.shape[0]):
        for t in range(shuffled.shape[1]):
            for d in range(shuffled.shape[2]):
                out[b, int(perm[b, t]), d] = shuffled[b, t, d]
    return out


def top_k_labels(scores: torch.Tensor, labels: torch.Tensor, k: int) -> torch.Tensor:
    """``out[b, j] = labels[n]`` for the n with the j-th largest ``scores[b, n]``.

    >>> scores, labels = torch.tensor([[0.1, 0.9, 0.5]]), torch.tensor([7, 8, 9])
    >>> top_k_labels(scores, labels, 2)
    tensor([[8, 9]])
    >>> torch.equal(top_k_labels(scores, labels, 2), labels[scores.topk(2, dim=1).indices])
    True
    """
    out = torch.empty(scores.shape[0], k, dtype=labels.dtype, device=labels.device)
    for b in range(scores.shape[0]):
        ranked = sorted(range(scores.shape[1]), key=lambda n, b=b: (-float(scores[b, n]), n))
        for j in range(k):
            out[b, j] = labels[ranked[j]]
    return out


# ---------------------------------------------------------------------------------------------
# notebooks/03-argmax-coordinates.ipynb. "Larger" here is PyTorch's order for argmax: NaN beats
# every number (inf included), and among equal values (or among NaNs) the first position wins.


def _beats(value: float, best: float) -> bool:
    """Whether ``value`` replaces ``best`` as the maximum so far (``best`` came earlier)."""
    if best != best:  # a NaN already holds the place: nothing later beats it
        return False
    if value != value:
        return True
    return value > best


def _value_at(values: object, p: tuple[int, ...]) -> float:
    for i in p:
        values = values[i]  # type: ignore[index]
    return values  # type: ignore[return-value]


def argmax_coordinates(x: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Full coordinates of the first maximum, found by visiting every element in order.

    ``dim=None``: the coordinates ``p`` of the largest ``x[p]``, shape ``(x.dim(),)``.
    A ``dim``: for every position ``q`` of ``x`` with ``dim`` left out, the coordinates of the
    largest ``x[q with k inserted at dim]`` over ``k``, shape ``(*q-shape, x.dim())``.

    >>> x = torch.tensor([[1, 9, 9], [3, 0, 2]])
    >>> argmax_coordinates(x)  # the first of the two 9s
    tensor([0, 1])
    >>> torch.stack(torch.unravel_index(x.argmax(), x.shape))
    tensor([0, 1])
    >>> argmax_coordinates(x, dim=1)  # per row: (row, column) of its maximum
    tensor([[0, 1],
            [1, 0]])
    """
    values = x.detach().cpu().tolist()
    if dim is None:
        best: tuple[int, ...] | None = None
        for p in _positions(x.shape):
            if best is None or _beats(_value_at(values, p), _value_at(values, best)):
                best = p
        return torch.tensor(best, dtype=torch.int64, device=x.device)
    if x.dim() == 0:
        return torch.zeros(0, dtype=torch.int64, device=x.device)
    dim = dim % x.dim()
    rest = x.shape[:dim] + x.shape[dim + 1 :]
    rows = []
    for q in _positions(rest):
        best = None
        for k in range(x.shape[dim]):
            p = (*q[:dim], k, *q[dim:])
            if best is None or _beats(_value_at(values, p), _value_at(values, best)):
                best = p
        rows.extend(best)
    return torch.tensor(rows, dtype=torch.int64).reshape(*rest, x.dim()).to(x.device)


def _argmax_over(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """For every position ``q`` of the dims not in ``dims``: the coordinates ``k`` (one per entry
    of ``dims``, in that order) of the largest ``x[q with k put at dims]``, visiting ``k`` in
    row-major order; the first maximum wins. Shape ``(*q-shape, len(dims))``."""
    values = x.detach().cpu().tolist()
    dims = tuple(d % x.dim() for d in dims)
    rest = [d for d in range(x.dim()) if d not in dims]
    rows = []
    for q in _positions(torch.Size([x.shape[d] for d in rest])):
        best: tuple[int, ...] | None = None
        best_value = 0.0
        for k in _positions(torch.Size([x.shape[d] for d in dims])):
            p = [0] * x.dim()
            for d, v in zip(rest, q, strict=True):
                p[d] = v
            for d, v in zip(dims, k, strict=True):
                p[d] = v
            value = _value_at(values, tuple(p))
            if best is None or _beats(value, best_value):
                best, best_value = k, value
        rows.extend(best)  # type: ignore[arg-type]
    shape = [x.shape[d] for d in rest]
    return torch.tensor(rows, dtype=torch.int64).reshape(*shape, len(dims)).to(x.device)


def _max_along(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``out[q] = max over k of x[q with k inserted at dim]`` (NaN if the row holds a NaN)."""
    coords = argmax_coordinates(x, dim)
    out = torch.empty(coords.shape[:-1], dtype=x.dtype, device=x.device)
    for q in _positions(out.shape):
        out[q] = x[tuple(int(c) for c in coords[q])]
    return out


def peak_coordinates(heatmaps: torch.Tensor) -> torch.Tensor:
    """``out[b] = (i, j)`` of the largest ``heatmaps[b, i, j]``: the peak of each (H, W) map.

    >>> heatmaps = torch.tensor([[[0, 1, 0], [0, 0, 7]], [[5, 0, 0], [0, 0, 0]]])
    >>> peak_coordinates(heatmaps)
    tensor([[1, 2],
            [0, 0]])
    >>> torch.stack(torch.unravel_index(heatmaps.flatten(1).argmax(dim=1), (2, 3)), dim=1)
    tensor([[1, 2],
            [0, 0]])
    """
    out = torch.empty(heatmaps.shape[0], 2, dtype=torch.int64)
    for b in range(heatmaps.shape[0]):
        out[b] = argmax_coordinates(heatmaps[b])
    return out.to(heatmaps.device)


def values_at_best(scores: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``out[b, :] = values[b, n, :]`` where ``scores[b, n]`` is the largest score of row b.

    >>> scores, values = torch.tensor([[0.1, 0.8, 0.3]]), torch.arange(6).reshape(1, 3, 2)
    >>> values_at_best(scores, values)
    tensor([[2, 3]])
    >>> torch.equal(values_at_best(scores, values), values[torch.arange(1), scores.argmax(dim=1)])
    True
    """
    out = torch.empty(values.shape[0], values.shape[2], dtype=values.dtype, device=values.device)
    for b in range(values.shape[0]):
        n = int(argmax_coordinates(scores[b])[0])
        for d in range(values.shape[2]):
            out[b, d] = values[b, n, d]
    return out


def channel_argmax_coordinates(x: torch.Tensor) -> torch.Tensor:
    """``out[n, h, w] = (n, c, h, w)`` with ``x[n, c, h, w]`` the largest over c: (N, H, W, 4).

    >>> x = torch.tensor([[[[1.0, 5.0]], [[4.0, 2.0]]]])  # (N, C, H, W) = (1, 2, 1, 2)
    >>> channel_argmax_coordinates(x)
    tensor([[[[0, 1, 0, 0],
              [0, 0, 0, 1]]]])
    >>> x.argmax(dim=1)  # PyTorch gives the c of each row above
    tensor([[[1, 0]]])
    """
    return argmax_coordinates(x, 1)


# ---------------------------------------------------------------------------------------------
# notebooks/04-broadcasting.ipynb


def _broadcast_shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast rule, one dim at a time from the right.

    In each dim, a shape that is too short counts as 1; the sizes must be equal or 1, and the 1s
    are stretched. Raises ValueError naming the rightmost dim that fails (counted from the right)
    and the sizes there: ``"cannot broadcast at dim -1: sizes [3, 2]"``.
    """
    ndim = max((len(s) for s in shapes), default=0)
    out: list[int] = []
    failed: list[str] = []
    for dim in range(-1, -ndim - 1, -1):
        sizes = [s[dim] if len(s) >= -dim else 1 for s in shapes]
        big = {n for n in sizes if n != 1}
        if len(big) > 1:
            failed.append(f"cannot broadcast at dim {dim}: sizes {sizes}")
            out.insert(0, -1)
        else:
            out.insert(0, big.pop() if big else 1)
    if failed:
        raise ValueError(failed[0])
    return tuple(out)


def _broadcast_source(position: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The element of an operand of ``shape`` that broadcasting reads at result ``position``:
    drop the leading coordinates the operand does not have, then use 0 where its size is 1."""
    own = position[len(position) - len(shape) :]
    return tuple(0 if size == 1 else i for i, size in zip(own, shape, strict=True))


def broadcast_binary(op, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``out[p] = op(a[source of p in a], b[source of p in b])`` for every result position p.

    >>> a, b = torch.tensor([[0], [10]]), torch.tensor([1, 2, 3])
    >>> broadcast_binary(lambda u, v: u + v, a, b)
    tensor([[ 1,  2,  3],
            [11, 12, 13]])
    >>> torch.equal(broadcast_binary(lambda u, v: u + v, a, b), a + b)
    True
    """
    shape = _broadcast_shape(tuple(a.shape), tuple(b.shape))
    values = {}
    for p in _positions(torch.Size(shape)):
        values[p] = op(
            a[_broadcast_source(p, tuple(a.shape))].item(),
            b[_broadcast_source(p, tuple(b.shape))].item(),
        )
    dtype = torch.result_type(a, b)
    if values and isinstance(next(iter(values.values())), bool):
        dtype = torch.bool
    out = torch.empty(shape, dtype=dtype)
    for p, v in values.items():
        out[p] = v
    return out.to(a.device)


def _triangular_mask(rows: int, cols: int, diagonal: int = 0, upper: bool = True) -> torch.Tensor:
    """``out[i, j] = (j - i >= diagonal)`` when ``upper``, else ``(j - i <= diagonal)``."""
    out = torch.zeros(rows, cols, dtype=torch.bool)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (j - i >= diagonal) if upper else (j - i <= diagonal)
    return out


def _band_mask(n: int, below: int, above: int) -> torch.Tensor:
    """``out[i, j] = (-below <= j - i <= above)``."""
    out = torch.zeros(n, n, dtype=torch.bool)
    for i in range(n):
        for j in range(n):
            out[i, j] = -below <= j - i <= above
    return out


def pairwise_sq_dists(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``out[i, j] = sum over d of (x[i, d] - y[j, d]) ** 2``, for x (N, D) and y (M, D).

    >>> x, y = torch.tensor([[0.0, 0.0], [1.0, 1.0]]), torch.tensor([[3.0, 4.0]])
    >>> pairwise_sq_dists(x, y)
    tensor([[25.],
            [13.]])
    >>> torch.allclose(pairwise_sq_dists(x, y), torch.cdist(x, y) ** 2)
    True
    """
    out = torch.zeros(x.shape[0], y.shape[0], dtype=torch.float64)
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            out[i, j] = sum((float(x[i, d]) - float(y[j, d])) ** 2 for d in range(x.shape[1]))
    return out.to(x.dtype).to(x.device)


def normalize_channels(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """``out[n, c, h, w] = (x[n, c, h, w] - mean[c]) / std[c]``, for x (N, C, H, W).

    >>> x = torch.arange(4.0).reshape(1, 2, 1, 2)
    >>> mean, std = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    >>> normalize_channels(x, mean, std)
    tensor([[[[-1.0000,  0.0000]],
    <BLANKLINE>
             [[ 0.0000,  0.5000]]]])
    >>> torch.equal(normalize_channels(x, mean, std), (x - mean[:, None, None]) / std[:, None, None])
    True
    """
    out = torch.empty(x.shape, dtype=torch.float64)
    for n, c, h, w in _positions(x.shape):
        out[n, c, h, w] = (float(x[n, c, h, w]) - float(mean[c])) / float(std[c])
    return out.to(x.dtype).to(x.device)


def length_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """``out[b, t] = t < lengths[b]``: True on the real tokens of each padded sequence.

    >>> lengths = torch.tensor([2, 0, 3])
    >>> length_mask(lengths, 3)
    tensor([[ True,  True, False],
            [False, False, False],
            [ True,  True,  True]])
    >>> torch.equal(length_mask(lengths, 3), torch.arange(3) < lengths[:, None])
    True
    """
    out = torch.zeros(lengths.shape[0], max_len, dtype=torch.bool)
    for b in range(lengths.shape[0]):
        for t in range(max_len):
            out[b, t] = t < int(lengths[b])
    return out.to(lengths.device)


# ---------------------------------------------------------------------------------------------
# notebooks/05-no-grad.ipynb. Explicit arithmetic, one element (or one parameter) at a time; the
# results never carry grad history, whatever the arguments require.


def ema_step_(ema: torch.Tensor, param: torch.Tensor, decay: float) -> torch.Tensor:
    """``out[p] = decay * ema[p] + (1 - decay) * param[p]`` for every position ``p``.

    >>> ema, param = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 6.0])
    >>> ema_step_(ema, param, 0.75)
    tensor([1.5000, 3.0000])
    >>> torch.equal(ema_step_(ema, param, 0.75), torch.lerp(ema, param, 0.25))
    True
    """
    ema, param = ema.detach(), param.detach()  # read the numbers only
    out = torch.empty(ema.shape, dtype=ema.dtype)
    for p in _positions(ema.shape):
        out[p] = decay * float(ema[p]) + (1 - decay) * float(param[p])
    return out.to(ema.device)


def ema_update(
    ema_params: dict[str, torch.Tensor], params: dict[str, torch.Tensor], decay: float
) -> dict[str, torch.Tensor]:
    """The EMA step for every named parameter: ``{name: ema_step(ema[name], params[name])}``.

    >>> ema_update({"w": torch.tensor([0.0, 4.0])}, {"w": torch.tensor([2.0, 0.0])}, 0.5)
    {'w': tensor([1., 2.])}
    """
    return {name: ema_step_(e, params[name], decay) for name, e in ema_params.items()}


def _linear_scores(model: torch.nn.Module, x: torch.Tensor) -> list[list[float]]:
    """``s[b][k] = sum over d of x[b][d] * W[k][d] + bias[k]``, W and bias of the first Linear."""
    linear = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    w, bias, x = linear.weight.detach(), linear.bias.detach(), x.detach()
    return [
        [
            sum(float(x[b, d]) * float(w[k, d]) for d in range(x.shape[1])) + float(bias[k])
            for k in range(w.shape[0])
        ]
        for b in range(x.shape[0])
    ]


def predict_proba(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``out[b][k] = exp(s[b][k]) / sum over j of exp(s[b][j])``, with the scores ``s`` of the
    model's Linear layer: dropout plays no part (the model as in eval mode).

    >>> model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(0.5))
    >>> x = torch.tensor([[1.0, -1.0], [0.5, 2.0]])
    >>> torch.allclose(predict_proba(model, x), torch.softmax(model.eval()(x), dim=1))
    True
    """
    classes = next(m for m in model.modules() if isinstance(m, torch.nn.Linear)).out_features
    out = torch.zeros(x.shape[0], classes, dtype=torch.float64)
    for b, scores in enumerate(_linear_scores(model, x)):
        for k, v in enumerate(_log_softmax_row(scores)):
            out[b, k] = math.exp(v)
    return out.to(x.dtype).to(x.device)


def loss_for(
    model: torch.nn.Module, x: torch.Tensor, target: torch.Tensor, train: bool
) -> torch.Tensor:
    """``mean over b, k of (s[b][k] - target[b][k]) ** 2`` with the model's Linear scores.

    ``train`` decides only whether the result should carry grad history, not its value.

    >>> model = torch.nn.Linear(2, 1)
    >>> x, target = torch.tensor([[1.0, -1.0], [0.5, 2.0]]), torch.tensor([[0.0], [1.0]])
    >>> loss = torch.nn.functional.mse_loss(model(x), target)
    >>> torch.allclose(loss_for(model, x, target, train=True), loss)
    True
    """
    scores, target = _linear_scores(model, x), target.detach()
    total = sum(
        (scores[b][k] - float(target[b, k])) ** 2
        for b in range(target.shape[0])
        for k in range(target.shape[1])
    )
    count = target.shape[0] * target.shape[1]
    value = total / count if count else float("nan")
    return torch.tensor(value, dtype=x.dtype, device=x.device)


# ---------------------------------------------------------------------------------------------
# notebooks/06-hooks.ipynb. The references run a Sequential-like model's children one by one, by
# hand, calling each child's ``forward`` directly (which, unlike ``child(h)``, fires no hooks).


def _children(model: torch.nn.Module, name: str) -> list[tuple[str, torch.nn.Module]]:
    children = list(model.named_children())
    if name not in dict(children):
        raise LookupError(
            f"{name!r} is not a child of the model; its children are {[n for n, _ in children]}"
        )
    return children


def layer_output(model: torch.nn.Module, name: str, x: torch.Tensor) -> torch.Tensor:
    """The output of the child called ``name``, when the children run one after another on ``x``.

    >>> model = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Hardtanh())  # children "0", "1"
    >>> x = torch.tensor([-2.0, 0.5, 3.0])
    >>> layer_output(model, "0", x), model(x)  # the ReLU's output, then the model's
    (tensor([0.0000, 0.5000, 3.0000]), tensor([0.0000, 0.5000, 1.0000]))
    """
    h = x
    for child_name, child in _children(model, name):
        h = child.forward(h)
        if child_name == name:
            return h.detach()
    raise AssertionError("unreachable")


def patch_layer(
    model: torch.nn.Module, name: str, x: torch.Tensor, value: torch.Tensor
) -> torch.Tensor:
    """The model's output on ``x`` when the child ``name`` outputs ``value`` instead of its own.

    >>> model = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Hardtanh())  # children "0", "1"
    >>> patch_layer(model, "0", torch.ones(3), torch.tensor([5.0, -5.0, 0.5]))  # Hardtanh clips
    tensor([ 1.0000, -1.0000,  0.5000])
    """
    h = x
    for child_name, child in _children(model, name):
        h = child.forward(h)
        if child_name == name:
            h = value
    return h.detach()


def layer_output_grad(model: torch.nn.Module, name: str, x: torch.Tensor) -> torch.Tensor:
    """d model(x).sum() / d (output of the child ``name``), same shape as that output.

    >>> model = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Hardtanh())  # children "0", "1"
    >>> layer_output_grad(model, "0", torch.tensor([-2.0, 0.5, 3.0]))  # Hardtanh is flat at 3
    tensor([1., 1., 0.])
    """
    h = x
    leaf = None
    for child_name, child in _children(model, name):
        h = child.forward(h)
        if child_name == name:
            leaf = h = h.detach().requires_grad_()
    (grad,) = torch.autograd.grad(h.sum(), leaf)
    return grad


# ---------------------------------------------------------------------------------------------
# notebooks/07-scatter.ipynb. Writing by index, one source element at a time, in the order of the
# source's positions. Plain scatter is specified only when no two source elements name the same
# output cell (PyTorch leaves the winner unspecified), so its reference refuses that case.


def _scatter_target(p: tuple[int, ...], dim: int, i: int) -> tuple[int, ...]:
    target = list(p)
    target[dim] = i
    return tuple(target)


def _scatter_groups(
    input: torch.Tensor, dim: int, index: torch.Tensor, src: torch.Tensor
) -> tuple[int, torch.Tensor, dict[tuple[int, ...], list]]:
    """(dim, input as >= 1-d, the src values written to each output cell, in src order)."""
    dim = dim % max(input.dim(), 1)
    flat_input = input.reshape(1) if input.dim() == 0 else input
    flat_index = index.reshape(1) if index.dim() == 0 else index
    flat_src = src.reshape(1) if src.dim() == 0 else src
    size = flat_input.shape[dim]
    groups: dict[tuple[int, ...], list] = {}
    for p in _positions(flat_index.shape):
        i = int(flat_index[p])
        if not 0 <= i < size:
            raise IndexError(f"index {i} is out of bounds for dim {dim} with size {size}")
        groups.setdefault(_scatter_target(p, dim, i), []).append(flat_src[p].item())
    return dim, flat_input, groups


def scatter(input: torch.Tensor, dim: int, index: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
    """``out[p with p[dim] replaced by index[p]] = src[p]`` for every position ``p`` of index;
    every other cell keeps input's value. For dim=1 on 2-D tensors:
    ``out[i][index[i][j]] = src[i][j]``. Two positions that write one cell are a ValueError:
    which of them PyTorch keeps is unspecified.

    >>> x = torch.zeros(2, 3, dtype=torch.int64)
    >>> index, src = torch.tensor([[2, 0], [1, 2]]), torch.tensor([[1, 2], [3, 4]])
    >>> scatter(x, 1, index, src)
    tensor([[2, 0, 1],
            [0, 3, 4]])
    >>> torch.equal(scatter(x, 1, index, src), torch.scatter(x, 1, index, src))
    True
    >>> scatter(torch.zeros(3), 0, torch.tensor([1, 1]), torch.tensor([5.0, 6.0]))
    Traceback (most recent call last):
    ...
    ValueError: cell (1,) is written 2 times: unspecified
    """
    dim, flat_input, groups = _scatter_groups(input, dim, index, src)
    out = flat_input.clone()
    for target, written in groups.items():
        if len(written) > 1:
            raise ValueError(f"cell {target} is written {len(written)} times: unspecified")
        out[target] = written[0]
    return out.reshape(input.shape)


def _scatter_add(
    input: torch.Tensor, dim: int, index: torch.Tensor, src: torch.Tensor
) -> torch.Tensor:
    """``out[p with p[dim] replaced by index[p]] += src[p]`` for every position ``p`` of index."""
    return _scatter_reduce(input, dim, index, src, "sum", include_self=True)


def _reduce(values: list, reduce: str, is_float: bool):
    if reduce == "sum":
        return sum(values)
    if reduce == "prod":
        return math.prod(values)
    if reduce == "amax":
        return max(values)
    if reduce == "amin":
        return min(values)
    if reduce == "mean":  # PyTorch floors an integer mean
        return sum(values) / len(values) if is_float else sum(values) // len(values)
    raise ValueError(f"reduce must be sum, prod, mean, amax or amin, got {reduce!r}")


def _scatter_reduce(
    input: torch.Tensor,
    dim: int,
    index: torch.Tensor,
    src: torch.Tensor,
    reduce: str,
    include_self: bool = True,
) -> torch.Tensor:
    """Each output cell that some ``index[p]`` names becomes ``reduce`` of the src values
    written to it, and of input's own value when ``include_self``; every other cell keeps
    input's value. ``mean`` divides by the number of values reduced (floored for integers)."""
    dim, flat_input, groups = _scatter_groups(input, dim, index, src)
    out = flat_input.clone()
    for target, written in groups.items():
        values = ([flat_input[target].item()] if include_self else []) + written
        out[target] = _reduce(values, reduce, input.is_floating_point())
    return out.reshape(input.shape)


def _segment_sum(
    values: torch.Tensor, segment_ids: torch.Tensor, num_segments: int
) -> torch.Tensor:
    """``out[s] = sum of values[n] over the n with segment_ids[n] == s`` (0 for none)."""
    out = torch.zeros((num_segments, *values.shape[1:]), dtype=values.dtype)
    for n in range(values.shape[0]):
        s = int(segment_ids[n])
        if not 0 <= s < num_segments:
            raise IndexError(f"segment id {s} is out of bounds for {num_segments} segments")
        out[s] += values[n].cpu()
    return out.to(values.device)


def _segment_mean(
    values: torch.Tensor, segment_ids: torch.Tensor, num_segments: int
) -> torch.Tensor:
    """The mean of ``values[n]`` over the n with ``segment_ids[n] == s``; 0 for no n."""
    out = _segment_sum(values, segment_ids, num_segments).cpu()
    for s in range(num_segments):
        count = sum(1 for n in range(values.shape[0]) if int(segment_ids[n]) == s)
        if count:
            out[s] /= count
    return out.to(values.device)


def _put_along_dim(
    input: torch.Tensor, indices: torch.Tensor, values: torch.Tensor, dim: int
) -> torch.Tensor:
    """A copy of input with ``out[p with p[dim] replaced by indices[p]] = values[p]`` for every
    position ``p`` of the indices stretched (size 1 away from ``dim``) to input's sizes; values
    broadcast to that shape. Two positions that write one cell are a ValueError."""
    dim = dim % input.dim()
    shape = [indices.shape[d] if d == dim else input.shape[d] for d in range(input.dim())]
    vals = values.broadcast_to(shape)
    out = input.clone()
    written: set[tuple[int, ...]] = set()
    for p in _positions(torch.Size(shape)):
        q = tuple(0 if indices.shape[d] == 1 and d != dim else c for d, c in enumerate(p))
        i = int(indices[q])
        if not 0 <= i < input.shape[dim]:
            raise IndexError(f"index {i} is out of bounds for dim {dim}")
        target = _scatter_target(p, dim, i)
        if target in written:
            raise ValueError(f"cell {target} is written twice")
        written.add(target)
        out[target] = vals[p]
    return out


def class_counts(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``out[c]`` = how many entries of ``labels`` equal ``c``, for c in 0 .. num_classes - 1.

    >>> labels = torch.tensor([2, 0, 2, 2])
    >>> class_counts(labels, 4)
    tensor([1, 0, 3, 0])
    >>> torch.equal(class_counts(labels, 4), torch.bincount(labels, minlength=4))
    True
    """
    out = torch.zeros(num_classes, dtype=torch.int64)
    for n in range(labels.shape[0]):
        out[int(labels[n])] += 1
    return out.to(labels.device)


def segment_max(values: torch.Tensor, segment_ids: torch.Tensor, num_segments: int) -> torch.Tensor:
    """``out[s]`` = the largest ``values[n]`` with ``segment_ids[n] == s``; ``-inf`` for none.

    >>> values, ids = torch.tensor([1.0, 5.0, 2.0]), torch.tensor([0, 0, 2])
    >>> segment_max(values, ids, 3)  # segment 1 is empty
    tensor([5., -inf, 2.])
    >>> torch.full((3,), -torch.inf).scatter_reduce(0, ids, values, "amax")
    tensor([5., -inf, 2.])
    """
    out = torch.full((num_segments,), -math.inf, dtype=values.dtype)
    for n in range(values.shape[0]):
        s = int(segment_ids[n])
        out[s] = max(float(out[s]), float(values[n]))
    return out.to(values.device)


def keep_top_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Each row keeps its ``k`` largest values in place; every other entry becomes 0.

    >>> scores = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    >>> keep_top_k(scores, 2)
    tensor([[3., 0., 2.],
            [0., 5., 4.]])
    >>> top = scores.topk(2, dim=1)
    >>> torch.equal(keep_top_k(scores, 2), torch.zeros_like(scores).scatter(1, top.indices, top.values))
    True
    """
    out = torch.zeros_like(scores, device="cpu")
    for b in range(scores.shape[0]):
        row = [float(v) for v in scores[b]]
        for j in sorted(range(len(row)), key=lambda j: row[j], reverse=True)[:k]:
            out[b, j] = row[j]
    return out.to(scores.device)


# ---------------------------------------------------------------------------------------------
# notebooks/08-recipes.ipynb: recipes from the field.


def cat(tensors: list[torch.Tensor], dim: int) -> torch.Tensor:
    """``torch.cat``: position ``p`` of tensor ``k`` lands at ``p`` shifted along ``dim`` by the
    sizes of tensors ``0 .. k - 1`` along ``dim``.

    >>> a, b = torch.tensor([[1, 2]]), torch.tensor([[3, 4], [5, 6]])
    >>> cat([a, b], 0)
    tensor([[1, 2],
            [3, 4],
            [5, 6]])
    >>> torch.equal(cat([a, b], 0), torch.cat([a, b], 0))
    True
    """
    dim = dim % tensors[0].dim()
    shape = list(tensors[0].shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    out = torch.empty(shape, dtype=tensors[0].dtype)
    offset = 0
    for t in tensors:
        for p in _positions(t.shape):
            q = list(p)
            q[dim] += offset
            out[tuple(q)] = t[p].item()
        offset += t.shape[dim]
    return out.to(tensors[0].device)


def pick_channel(data: torch.Tensor, index_map: torch.Tensor) -> torch.Tensor:
    """``out[h][w] = data[h][w][index_map[h][w]]``.

    >>> data, index_map = torch.arange(8).reshape(2, 2, 2), torch.tensor([[1, 0], [0, 1]])
    >>> pick_channel(data, index_map)
    tensor([[1, 2],
            [4, 7]])
    >>> torch.equal(pick_channel(data, index_map), data.gather(2, index_map.unsqueeze(2)).squeeze(2))
    True
    """
    out = torch.empty(tuple(index_map.shape), dtype=data.dtype)
    for h, w in _positions(index_map.shape):
        out[h, w] = data[h, w, int(index_map[h, w])].item()
    return out.to(data.device)


def answer_rank(scores: torch.Tensor, answer: torch.Tensor) -> torch.Tensor:
    """For each row of ``scores`` (candidates along the last dim): how many candidates score
    strictly higher than the one at ``answer``.

    >>> scores, answer = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.9]]), torch.tensor([2, 2])
    >>> answer_rank(scores, answer)  # row 0: only 0.7 beats 0.2; row 1: nothing beats 0.9
    tensor([1, 0])
    >>> torch.equal(answer_rank(scores, answer), (scores > scores.gather(1, answer[:, None])).sum(dim=1))
    True
    """
    out = torch.zeros(tuple(answer.shape), dtype=torch.int64)
    for p in _positions(answer.shape):
        row = scores[p]
        own = float(row[int(answer[p])])
        out[p] = sum(1 for v in row.tolist() if v > own)
    return out.to(scores.device)
