"""Selecting values by index: ``gather`` and its everyday uses, checked.

``torch.gather(input, dim, index)`` reads ``out[p] = input[p with p[dim] replaced by index[p]]``
for every position ``p`` of ``index``; for dim=1 on 2-D tensors that is
``out[i][j] = input[i][index[i][j]]``, and always ``out.shape == index.shape``.

The helpers here do what the chapters do, but validate first and explain bad input in terms of
the arguments' shapes and dims. They never loop over elements: each is one PyTorch call plus
checks, and each is tested against the loop in ``snippets.reference``.

>>> import torch
>>> x = torch.tensor([[10, 20, 30], [40, 50, 60]])
>>> checked_gather(x, 1, torch.tensor([[0, 2], [1, 0]]))
tensor([[10, 30],
        [50, 40]])
>>> checked_gather(x, 1, torch.tensor([0, 1]))
Traceback (most recent call last):
...
ValueError: index has 1 dims but input has 2 (index shape (2,), input shape (2, 3)); gather never adds or broadcasts dims: use index.unsqueeze(...) to match
"""

from __future__ import annotations

import math
import operator

import torch

from snippets.validate import (
    _check_leading_dims,
    check_dim,
    check_has_dims,
    check_index_dtype,
    check_index_values,
    check_int,
    check_ndim,
    check_same_device,
    check_tensor,
    is_int,
    shape_str,
)

__all__ = [
    "broadcast_along_dim",
    "check_class_indices",
    "checked_gather",
    "checked_take_along_dim",
    "select_patches",
    "sort_rows_by_key",
    "take_along_dim_shape",
    "taken_action_values",
    "token_logprobs",
]


def check_class_indices(
    indices: torch.Tensor,
    num_classes: int,
    *,
    ignore_index: int | None = None,
    name: str = "indices",
) -> torch.Tensor:
    """``indices`` unchanged, after checking that each value lies in ``0 .. num_classes - 1``.

    For the targets of ``F.cross_entropy`` / ``nn.NLLLoss`` (``num_classes`` is
    ``logits.shape[1]``; pass ``ignore_index=-100`` as those losses do) and the token ids of an
    ``nn.Embedding`` (``num_classes`` is ``num_embeddings``). On CUDA a value out of range is a
    device-side assert that is reported later than the bad call and leaves the CUDA context
    unusable; this raises an IndexError first, naming the value and its position. A ``meta``
    tensor has no values: only its dtype is checked.

    >>> check_class_indices(torch.tensor([0, 2, 1]), 3)
    tensor([0, 2, 1])
    >>> check_class_indices(torch.tensor([[0, 3], [1, -100]]), 3, ignore_index=-100, name="target")
    Traceback (most recent call last):
    ...
    IndexError: target holds 3 at position (0, 1), but num_classes is 3: valid values are 0..2 or ignore_index=-100
    """
    check_tensor(indices, name)
    num_classes = check_int(num_classes, "num_classes", minimum=0)
    if ignore_index is not None:
        ignore_index = check_int(ignore_index, "ignore_index")
    if indices.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        got = str(indices.dtype).removeprefix("torch.")
        raise TypeError(f"{name} must hold integer class indices, got {got} (use .long())")
    if indices.numel() == 0 or indices.device.type == "meta":
        return indices
    bad = (indices < 0) | (indices >= min(num_classes, 2**63 - 1))  # no int64 reaches 2**63
    if ignore_index is not None and -(2**63) <= ignore_index < 2**63:
        bad &= indices != ignore_index
    if not bool(bad.any()):
        return indices
    position = tuple(int(p) for p in bad.nonzero()[0].tolist())
    value = int(indices[position])
    valid = f"0..{num_classes - 1}" if num_classes > 0 else "none"
    if ignore_index is not None:
        valid += f" or ignore_index={ignore_index}"
    raise IndexError(
        f"{name} holds {value} at position {position}, but num_classes is {num_classes}: "
        f"valid values are {valid}"
    )


def _check_gather_args(
    input: torch.Tensor, dim: int, index: torch.Tensor, *, values: bool = True
) -> int:
    """Validate the arguments of ``torch.gather(input, dim, index)``; return ``dim`` as ``0..n-1``.

    The rules, in the order they are checked:

    1. ``input`` and ``index`` are tensors on the same device, and ``dim`` is a valid dim;
    2. ``index`` is int64 or int32;
    3. ``index.dim() == input.dim()`` (gather never broadcasts), where a 0-d tensor counts as
       1-d with one element: ``gather(torch.tensor(5.), 0, torch.tensor([0]))`` and
       ``gather(torch.tensor([10., 20.]), 0, torch.tensor(1))`` are valid (every release of
       the version matrix, 2.9.1 to 2.14.1);
    4. ``index.size(d) <= input.size(d)`` for every ``d != dim`` (along ``dim`` it may be larger);
    5. every value of ``index`` lies in ``0 .. input.size(dim) - 1`` (no negative indices);
       ``values=False`` skips this one (``checked_gather`` on the CPU, where gather checks it).

    >>> _check_gather_args(torch.zeros(2, 3), -1, torch.zeros(2, 5, dtype=torch.long))
    1
    >>> _check_gather_args(torch.zeros(2, 3), 1, torch.zeros(3, 1, dtype=torch.long))
    Traceback (most recent call last):
    ...
    ValueError: index.shape[0] is 3 but input.shape[0] is 2 (index shape (3, 1), input shape (2, 3)): away from dim=1, index may not be larger than input
    """
    check_tensor(input, "input")
    check_tensor(index, "index")
    check_same_device(index, input, names=("index", "input"))
    dim = check_dim(dim, input, tensor_name="input")
    check_index_dtype(index, op="gather")
    shapes = f"(index shape {shape_str(index.shape)}, input shape {shape_str(input.shape)})"
    # PyTorch counts a 0-d tensor as 1-d (one element) here, on either side
    in_shape = tuple(input.shape) or (1,)
    idx_shape = tuple(index.shape) or (1,)
    if len(idx_shape) != len(in_shape):

        def dims(t: torch.Tensor, unit: str) -> str:
            return f"0{unit} (a 0-d tensor counts as 1)" if t.dim() == 0 else f"{t.dim()}{unit}"

        raise ValueError(
            f"index has {dims(index, ' dims')} but input has {dims(input, '')} {shapes}; gather never "
            "adds or broadcasts dims: use index.unsqueeze(...) to match"
        )
    for d in range(len(in_shape)):
        if d != dim and idx_shape[d] > in_shape[d]:
            raise ValueError(
                f"index.shape[{d}] is {idx_shape[d]} but input.shape[{d}] is {in_shape[d]} "
                f"{shapes}: away from dim={dim}, index may not be larger than input"
            )
    if values:
        check_index_values(index, in_shape[dim], dim=dim, shape=input.shape)
    return dim


def checked_gather(input: torch.Tensor, dim: int, index: torch.Tensor) -> torch.Tensor:
    """``torch.gather(input, dim, index)``, after checking the arguments.

    The checks, in this order, each an error that names the argument, the shapes and the dim:

    1. ``input`` and ``index`` are tensors on the same device, and ``dim`` is a dim of
       ``input`` (negative dims count from the end);
    2. ``index`` is int64 or int32;
    3. ``index`` has as many dims as ``input`` (gather never broadcasts; a 0-d tensor counts as
       1-d with one element, as in PyTorch);
    4. away from ``dim``, ``index`` is nowhere larger than ``input`` (along ``dim`` it may be);
    5. every value of ``index`` lies in ``0 .. input.size(dim) - 1``: no negative indices.

    On CUDA an out-of-range index is a device-side assert that leaves the CUDA context
    unusable; this raises a readable IndexError first. On the CPU, gather checks every index
    itself and raises at the call, so there the values are read again only when gather has
    failed, to say which one is bad: a valid call costs no extra pass over the index.

    >>> checked_gather(torch.tensor([1, 2, 3]), 0, torch.tensor([3]))
    Traceback (most recent call last):
    ...
    IndexError: index holds 3 at position (0,), but input.shape[0] is 3 (shape (3,)): along dim 0 the valid indices are 0..2
    """
    on_cpu = isinstance(input, torch.Tensor) and input.device.type == "cpu"
    dim = _check_gather_args(input, dim, index, values=not on_cpu)  # same device, or it raises
    if not on_cpu:
        return torch.gather(input, dim, index)
    try:
        return torch.gather(input, dim, index)
    except RuntimeError as exc:
        error = exc
    # outside the except block, so that the IndexError is not chained to PyTorch's error
    check_index_values(index, input.shape[dim] if input.dim() else 1, dim=dim, shape=input.shape)
    raise error


def _gather_sources(index: torch.Tensor, dim: int) -> torch.Tensor:
    """Where each output element of ``gather(input, dim, index)`` comes from in ``input``.

    Returns an int64 tensor of shape ``(*index.shape, index.dim())``: at every output position
    ``p`` the full coordinate ``p`` with ``p[dim]`` replaced by ``index[p]``. This is the rule
    of gather made visible; ``snippets.draw`` draws it. A 0-d index (which gather reads as 1-d)
    gives ``(1,)``: the one coordinate ``index`` itself. Internal: the caller has checked
    ``index`` (an int tensor) and ``dim`` (in ``0 .. index.dim() - 1``).

    >>> _gather_sources(torch.tensor([[0, 2], [1, 0]]), dim=1).tolist()
    [[[0, 0], [0, 2]], [[1, 1], [1, 0]]]
    """
    if index.dim() == 0:  # gather reads input[index] (a 0-d index counts as 1-d): one coordinate
        return index.long().reshape(1)
    axes = [torch.arange(s, device=index.device) for s in index.shape]
    grids = list(torch.meshgrid(*axes, indexing="ij"))
    grids[dim] = index.long()
    return torch.stack(grids, dim=-1)


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Log-probability a language model gave to each actual next token.

    ``logits`` (B, T, V) at position t predict the token at t + 1, so the last position has no
    target and the first token has no prediction: the result has shape (B, T - 1) with
    ``out[b, t] = log_softmax(logits[b, t])[tokens[b, t + 1]]``.

    ``logits`` must be floating point; the result has their dtype. float16 and bfloat16 are
    computed in float32 and rounded back once; float64 stays float64 throughout.

    >>> logits = torch.zeros(1, 3, 4)            # a model that knows nothing: log(1/4)
    >>> token_logprobs(logits, torch.tensor([[0, 1, 2]]))
    tensor([[-1.3863, -1.3863]])
    >>> token_logprobs(torch.zeros(1, 2, 4, dtype=torch.int64), torch.tensor([[0, 1]]))
    Traceback (most recent call last):
    ...
    TypeError: logits must be a floating-point tensor (float16, bfloat16, float32 or float64), got int64
    """
    check_tensor(logits, "logits")
    check_tensor(tokens, "tokens")
    if not logits.is_floating_point():
        got = str(logits.dtype).removeprefix("torch.")
        raise TypeError(
            "logits must be a floating-point tensor (float16, bfloat16, float32 or float64), "
            f"got {got}"
        )
    check_ndim(logits, 3, name="logits", what="(B, T, V)")
    check_ndim(tokens, 2, name="tokens", what="(B, T)")
    check_same_device(tokens, logits, names=("tokens", "logits"))
    check_index_dtype(tokens, name="tokens", op="token_logprobs")
    _check_leading_dims(tokens, logits, names=("tokens", "logits"), what="(B, T)")
    # every token must be a vocabulary id; positions in the message are positions in `tokens`
    check_index_values(
        tokens, logits.size(2), dim=2, name="tokens", tensor_name="logits", shape=logits.shape
    )
    targets = tokens[:, 1:]
    work = torch.promote_types(logits.dtype, torch.float32)  # never below float32
    logp = torch.log_softmax(logits[:, :-1].to(work), dim=-1)
    return logp.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1).to(logits.dtype)


def taken_action_values(q_values: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``q_values[b, actions[b]]`` for every transition b: Q(s, a) of the action taken.

    >>> taken_action_values(torch.tensor([[1., 5.], [7., 2.]]), torch.tensor([1, 0]))
    tensor([5., 7.])
    """
    check_tensor(q_values, "q_values")
    check_tensor(actions, "actions")
    check_ndim(q_values, 2, name="q_values", what="(B, A)")
    check_ndim(actions, 1, name="actions", what="(B,)")
    check_same_device(actions, q_values, names=("actions", "q_values"))
    check_index_dtype(actions, name="actions", op="taken_action_values")
    if actions.size(0) != q_values.size(0):
        raise ValueError(
            f"actions has {actions.size(0)} entries but q_values has {q_values.size(0)} rows "
            f"(actions shape {shape_str(actions.shape)}, q_values shape "
            f"{shape_str(q_values.shape)}): one action per row along dim 0"
        )
    check_index_values(
        actions,
        q_values.size(1),
        dim=1,
        name="actions",
        tensor_name="q_values",
        shape=q_values.shape,
    )
    return q_values.gather(1, actions.unsqueeze(1)).squeeze(1)


def select_patches(patches: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``patches[b, idx[b, k], :]`` for every b, k: whole D-vectors, chosen per sample.

    ``gather`` needs an index with as many dims as ``patches``, so ``idx`` (B, K) becomes
    ``idx.unsqueeze(-1).expand(-1, -1, D)``: a stride-0 view, no copy of the indices.

    >>> patches = torch.arange(12).reshape(1, 3, 4)
    >>> select_patches(patches, torch.tensor([[2, 0]]))
    tensor([[[ 8,  9, 10, 11],
             [ 0,  1,  2,  3]]])
    """
    check_tensor(patches, "patches")
    check_tensor(idx, "idx")
    check_ndim(patches, 3, name="patches", what="(B, N, D)")
    check_ndim(idx, 2, name="idx", what="(B, K)")
    check_same_device(idx, patches, names=("idx", "patches"))
    check_index_dtype(idx, name="idx", op="select_patches")
    if idx.size(0) != patches.size(0):
        raise ValueError(
            f"idx has batch size {idx.size(0)} but patches has {patches.size(0)} (idx shape "
            f"{shape_str(idx.shape)}, patches shape {shape_str(patches.shape)}): dim 0 must match"
        )
    check_index_values(
        idx, patches.size(1), dim=1, name="idx", tensor_name="patches", shape=patches.shape
    )
    expanded = idx.unsqueeze(-1).expand(-1, -1, patches.size(2))
    return patches.gather(1, expanded)


# --- take_along_dim ---------------------------------------------------------------------------
# ``torch.take_along_dim(input, indices, dim)`` is gather after broadcasting: in every dim but
# ``dim`` the sizes of input and indices must be equal or 1, and the size-1 side is stretched.
# With ``dim=None`` both are flattened and the result is 1-D. What PyTorch does with an index
# outside ``0 .. input.size(dim) - 1`` when ``dim`` is given depends on the release (pinned in
# tests/test_pytorch_releases.py and tests/test_take_along_dim.py; book/verified/matrix.json
# has the CPU runs): 2.10.0 to 2.14.1 take it modulo the size, so -1 reads the last element
# (as NumPy's take_along_axis does) and 3 silently reads element 0 of a size-3 dim; 2.9.1
# raises "index ... is out of bounds" for both. The helpers below accept only
# ``0 .. size - 1``, gather's rule, so that they mean the same on every release.


def _away_from_dim_shapes(
    input_shape: tuple[int, ...], indices_shape: tuple[int, ...], dim: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(broadcast input shape, output shape), or a ValueError naming the dim and both shapes."""
    shapes = f"(indices shape {shape_str(indices_shape)}, input shape {shape_str(input_shape)})"
    if len(indices_shape) != len(input_shape):
        raise ValueError(
            f"indices has {len(indices_shape)} dims but input has {len(input_shape)} {shapes}; "
            "take_along_dim broadcasts sizes, never the number of dims: use "
            "indices.unsqueeze(...) to match"
        )
    out = []
    for d, (n_in, n_idx) in enumerate(zip(input_shape, indices_shape, strict=True)):
        if d == dim:
            out.append(n_idx)
        elif n_in == n_idx or n_idx == 1:
            out.append(n_in)
        elif n_in == 1:
            out.append(n_idx)
        else:
            raise ValueError(
                f"indices.shape[{d}] is {n_idx} but input.shape[{d}] is {n_in} {shapes}: away "
                f"from dim={dim} the sizes must be equal, or one of them 1 (it is stretched)"
            )
    input_b = tuple(input_shape[d] if d == dim else n for d, n in enumerate(out))
    return input_b, tuple(out)


def _shape_arg(value: object, name: str) -> tuple[int, ...]:
    """``value`` as a tuple of Python ints >= 0, or a TypeError / ValueError naming ``name``."""
    if isinstance(value, torch.Tensor) or not isinstance(value, (tuple, list, torch.Size)):
        raise TypeError(
            f"{name} must be a tuple of ints or a torch.Size, got {type(value).__name__}"
        )
    out = []
    for d, size in enumerate(value):
        if isinstance(size, (bool, torch.Tensor)) or not hasattr(type(size), "__index__"):
            raise TypeError(
                f"{name} = {tuple(value)!r} has a {type(size).__name__} at dim {d}; sizes must "
                "be ints"
            )
        size = operator.index(size)  # a NumPy integer becomes a Python int
        if size < 0:
            raise ValueError(
                f"{name} = {(*out, size, *tuple(value)[d + 1 :])!r} has the negative "
                f"size {size} at dim {d}; sizes must be >= 0"
            )
        out.append(size)
    return tuple(out)


def take_along_dim_shape(
    input_shape: tuple[int, ...] | torch.Size,
    indices_shape: tuple[int, ...] | torch.Size,
    dim: int | None = None,
) -> tuple[int, ...]:
    """The shape of ``torch.take_along_dim(input, indices, dim)``, from the two shapes alone.

    - ``dim=None``: ``(indices.numel(),)``, always 1-D;
    - else, dim by dim: ``indices.size(dim)`` along ``dim``; elsewhere the broadcast of the two
      sizes (equal, or one of them 1). Both must have the same number of dims.

    The shapes are tuples (or lists, or ``torch.Size``) of ints >= 0 (NumPy integers too); the
    result is a tuple of Python ints.

    >>> take_along_dim_shape((2, 3), (1, 5), dim=1)
    (2, 5)
    >>> take_along_dim_shape((1, 3), (4, 2), dim=-1)
    (4, 2)
    >>> take_along_dim_shape((2, 3), (2, 2), dim=None)
    (4,)
    >>> take_along_dim_shape((2, 3), (3, 1), dim=1)
    Traceback (most recent call last):
    ...
    ValueError: indices.shape[0] is 3 but input.shape[0] is 2 (indices shape (3, 1), input shape (2, 3)): away from dim=1 the sizes must be equal, or one of them 1 (it is stretched)
    """
    input_shape = _shape_arg(input_shape, "input_shape")
    indices_shape = _shape_arg(indices_shape, "indices_shape")
    if dim is None:
        return (math.prod(indices_shape),)
    meta = torch.empty(input_shape, device="meta")
    check_has_dims(meta, dim, hint="; use dim=None")
    dim = check_dim(dim, meta, tensor_name="input")
    return _away_from_dim_shapes(input_shape, indices_shape, dim)[1]


def _check_take_along_dim_args(
    input: torch.Tensor, indices: torch.Tensor, dim: int | None = None
) -> int | None:
    """Validate the arguments of ``torch.take_along_dim``; return ``dim`` as ``0..n-1`` (or None).

    The rules, in the order they are checked:

    1. ``input`` and ``indices`` are tensors on the same device; ``dim`` is None or a dim of
       ``input`` (a 0-d input has none);
    2. ``indices`` is int64, with or without ``dim`` (PyTorch also takes int32 when
       ``dim=None``, and rejects it otherwise: the helper keeps one rule);
    3. with ``dim``: ``indices.dim() == input.dim()``, and in every other dim the sizes are
       equal or one of them is 1;
    4. every value of ``indices`` lies in ``0 .. input.size(dim) - 1`` (with ``dim=None``:
       ``0 .. input.numel() - 1``): no negative index either. Why not accept ``-size .. -1``
       as NumPy's ``take_along_axis`` does? Because PyTorch does not agree with itself there:
       with a ``dim``, 2.10.0 to 2.14.1 read the element counted from the end (a side effect
       of taking every index modulo the size, which also turns ``size`` into ``0`` without a
       word), 2.9.1 raises; with ``dim=None`` every one of them raises, and so does ``gather``.
       One rule, gather's, means the same on every release.

    >>> x = torch.zeros(2, 3)
    >>> _check_take_along_dim_args(x, torch.tensor([[0, 2]]), dim=-1)
    1
    >>> _check_take_along_dim_args(x, torch.tensor([[0, 5]]), dim=1)
    Traceback (most recent call last):
    ...
    IndexError: indices holds 5 at position (0, 1), but input.shape[1] is 3 (shape (2, 3)): along dim 1 the valid indices are 0..2
    """
    check_tensor(input, "input")
    check_tensor(indices, "indices")
    check_same_device(indices, input, names=("indices", "input"))
    if dim is not None:
        if not is_int(dim):
            raise TypeError(f"dim must be an int or None, got {type(dim).__name__}")
        check_has_dims(input, dim, hint="; use dim=None")
        dim = check_dim(dim, input, tensor_name="input")
    check_index_dtype(indices, name="indices", op="take_along_dim", allowed=(torch.int64,))
    if dim is None:
        check_index_values(
            indices,
            input.numel(),
            dim=0,
            name="indices",
            tensor_name="input.reshape(-1)",
            shape=(input.numel(),),
        )
        return None
    _away_from_dim_shapes(tuple(input.shape), tuple(indices.shape), dim)
    check_index_values(indices, input.size(dim), dim=dim, name="indices", shape=input.shape)
    return dim


def checked_take_along_dim(
    input: torch.Tensor, indices: torch.Tensor, dim: int | None = None
) -> torch.Tensor:
    """``torch.take_along_dim(input, indices, dim)``, after checking the arguments.

    The checks, in this order, each an error that names the argument, the shapes and the dim:

    1. ``input`` and ``indices`` are tensors on the same device; ``dim`` is None or a dim of
       ``input`` (a 0-d input has none: use ``dim=None``);
    2. ``indices`` is int64 (PyTorch also takes int32 when ``dim=None`` and rejects it
       otherwise; the helper keeps one rule);
    3. with ``dim``: ``indices`` has as many dims as ``input``, and in every other dim the
       sizes are equal or one of them is 1 (it is stretched);
    4. every value of ``indices`` lies in ``0 .. input.size(dim) - 1`` (with ``dim=None``:
       ``0 .. input.numel() - 1``): no negative index either.

    Rule 4 is gather's rule, and it is where the helper differs from PyTorch. With a ``dim``,
    ``torch.take_along_dim`` on 2.10.0 to 2.14.1 (on the CPU, in the book's version matrix)
    takes an index outside that range modulo the size: -1 reads the last element, as NumPy's
    ``take_along_axis`` does, and ``size`` silently reads element 0. On 2.9.1 it raises for
    both. With ``dim=None`` every one of those releases raises, and so does ``gather``. The
    helper raises on every release, and with ``dim=None`` it also accepts an input that cannot
    be viewed as 1-D (PyTorch calls ``view(-1)`` and fails on, say, a transposed input). So
    whenever it returns, it returns what every one of those releases returns.

    >>> x = torch.tensor([[10, 20, 30], [40, 50, 60]])
    >>> checked_take_along_dim(x, torch.tensor([[2, 0]]), dim=1)     # (1, 2) broadcasts to (2, 2)
    tensor([[30, 10],
            [60, 40]])
    >>> checked_take_along_dim(x.t(), torch.tensor([[1, 2]]))        # dim=None: 1-D result
    tensor([40, 20])
    >>> checked_take_along_dim(x, torch.tensor([[0, 3]]), dim=1)
    Traceback (most recent call last):
    ...
    IndexError: indices holds 3 at position (0, 1), but input.shape[1] is 3 (shape (2, 3)): along dim 1 the valid indices are 0..2
    """
    dim = _check_take_along_dim_args(input, indices, dim)
    if dim is None:
        return torch.take_along_dim(input.reshape(-1), indices.reshape(-1), dim=0)
    return torch.take_along_dim(input, indices, dim=dim)


def broadcast_along_dim(
    input: torch.Tensor, indices: torch.Tensor, dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The explicit broadcast that turns ``take_along_dim`` into ``gather``.

    Returns ``(input_b, indices_b)``, views made with ``expand`` (stride 0 in the stretched
    dims, no copy), such that ``torch.gather(input_b, dim, indices_b)`` equals
    ``torch.take_along_dim(input, indices, dim)`` **when every index lies in**
    ``0 .. input.size(dim) - 1``. Outside that range gather raises, while take_along_dim
    takes the index modulo the size on PyTorch 2.10.0 to 2.14.1 (on the CPU, in the book's
    version matrix) and raises on 2.9.1. Along ``dim`` nothing is stretched: the input keeps
    its size there, and so do the indices. The device, ``dim`` and shapes are checked as in
    ``checked_take_along_dim`` (``indices`` may be int64 or int32, as gather takes), but the
    index values are not looked at: ``checked_take_along_dim`` checks those.

    >>> x = torch.tensor([[10, 20, 30], [40, 50, 60]])
    >>> xb, ib = broadcast_along_dim(x, torch.tensor([[2, 0]]), dim=1)
    >>> ib, ib.stride()
    (tensor([[2, 0],
            [2, 0]]), (0, 1))
    >>> torch.gather(xb, 1, ib)
    tensor([[30, 10],
            [60, 40]])
    """
    check_tensor(input, "input")
    check_tensor(indices, "indices")
    check_same_device(indices, input, names=("indices", "input"))
    check_index_dtype(indices, name="indices", op="broadcast_along_dim (it feeds gather)")
    check_has_dims(input, dim)
    dim = check_dim(dim, input, tensor_name="input")
    _away_from_dim_shapes(tuple(input.shape), tuple(indices.shape), dim)
    return _broadcast_along_dim(input, indices, dim)


def _broadcast_along_dim(
    input: torch.Tensor, indices: torch.Tensor, dim: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``broadcast_along_dim`` for checked arguments (``dim`` in ``0 .. input.dim() - 1``)."""
    out = [
        n_idx if d == dim or n_idx != 1 else n_in
        for d, (n_in, n_idx) in enumerate(zip(input.shape, indices.shape, strict=True))
    ]
    input_shape = [input.size(d) if d == dim else n for d, n in enumerate(out)]
    return input.expand(input_shape), indices.expand(out)


def _take_along_dim_sources(input: torch.Tensor, indices: torch.Tensor, dim: int) -> torch.Tensor:
    """Where each output element of ``take_along_dim(input, indices, dim)`` comes from.

    Returns an int64 tensor of shape ``(*out.shape, input.dim())``: for every output position
    ``p`` the coordinate of the *original* ``input`` it was read from: ``indices`` (broadcast)
    along ``dim``, ``p[d]`` in a dim where input and output have the same size, and 0 in a dim
    where a size-1 input was stretched. ``snippets.draw.take_along_dim`` draws it.

    Internal: the caller has checked the arguments with ``_check_take_along_dim_args`` (an
    index outside ``0 .. input.size(dim) - 1`` is refused there, so no coordinate here is one
    that PyTorch would not read) and passes the ``dim`` it returned.

    >>> x = torch.tensor([[10, 20, 30]])                             # (1, 3): row 0 is stretched
    >>> _take_along_dim_sources(x, torch.tensor([[2], [0]]), dim=1).tolist()
    [[[0, 2]], [[0, 0]]]
    """
    _, indices_b = _broadcast_along_dim(input, indices, dim)
    sources = _gather_sources(indices_b, dim)
    for d in range(input.dim()):
        if d != dim and input.size(d) == 1:
            sources[..., d] = 0
    return sources


def sort_rows_by_key(
    x: torch.Tensor, key: torch.Tensor, *, descending: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reorder the rows of ``x`` (its dim -2) so that ``key`` is sorted; return ``(rows, order)``.

    ``x`` is ``(..., N, D)`` and ``key`` is ``(..., N)``: one key per row. ``order`` is
    ``key.argsort(dim=-1, stable=True, descending=descending)``, so tied keys keep their
    original order, and ``torch.take_along_dim(x, order.unsqueeze(-1), dim=-2)`` broadcasts the
    ``(..., N, 1)`` index across the D features: no ``expand`` needed, as gather would need.

    >>> points = torch.tensor([[1, 1], [5, 5], [2, 2]])
    >>> sort_rows_by_key(points, torch.tensor([0.3, 0.1, 0.2]))
    (tensor([[5, 5],
            [2, 2],
            [1, 1]]), tensor([1, 2, 0]))
    """
    check_tensor(x, "x")
    check_tensor(key, "key")
    check_same_device(key, x, names=("key", "x"))
    if x.dim() < 2:
        raise ValueError(f"x must have at least 2 dims (..., N, D), got shape {shape_str(x.shape)}")
    if tuple(key.shape) != tuple(x.shape[:-1]):
        raise ValueError(
            f"key has shape {shape_str(key.shape)} but x has shape {shape_str(x.shape)}: key "
            f"must be x.shape[:-1] = {shape_str(x.shape[:-1])} (one key per row)"
        )
    order = key.argsort(dim=-1, stable=True, descending=descending)
    return torch.take_along_dim(x, order.unsqueeze(-1), dim=-2), order
