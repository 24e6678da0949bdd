"""Recipes from the field, made correct: joining shapes, one channel per pixel, the rank of an
answer.

Each helper is one or two PyTorch calls plus checks whose errors name the argument, the shapes
and the dim at fault, and each is tested against the loop in ``snippets.reference``.

>>> import torch
>>> cat_shape([(2, 3), (2, 5)], dim=1)
(2, 8)
>>> pick_channel(torch.arange(12).reshape(2, 2, 3), torch.tensor([[0, 2], [1, 1]]))
tensor([[ 0,  5],
        [ 7, 10]])
"""

from __future__ import annotations

import torch

from snippets.validate import (
    _check_leading_dims,
    check_dim,
    check_index_dtype,
    check_index_values,
    check_int,
    check_ndim,
    check_same_device,
    check_tensor,
    shape_str,
)

__all__ = ["answer_rank", "cat_shape", "pick_channel"]


def cat_shape(shapes: list[tuple[int, ...]], dim: int) -> tuple[int, ...]:
    """The shape of ``torch.cat`` of tensors with these ``shapes`` along ``dim``.

    Every shape has the same number of dims, and ``dim`` is one of them (so 1-D tensors have
    only ``dim=0``: to put them side by side as columns, ``torch.stack(ts, dim=1)``). Along
    ``dim`` the sizes add up; every other size must be equal.

    >>> cat_shape([(2, 3), (4, 3)], dim=0)
    (6, 3)
    >>> cat_shape([(3,), (3,)], dim=1)
    Traceback (most recent call last):
    ...
    IndexError: dim=1 is out of range for tensors of 1 dim (shape (3,)): valid dims are -1..0; to join 1-D tensors as columns, use torch.stack(tensors, dim=1)
    >>> cat_shape([(2, 3), (3, 2)], dim=1)
    Traceback (most recent call last):
    ...
    ValueError: tensor 1 has shape (3, 2) but tensor 0 has shape (2, 3): away from dim=1 the sizes must be equal (dim 0: 3 vs 2)
    """
    if not isinstance(shapes, (list, tuple)) or not shapes:
        raise ValueError(f"shapes must be a non-empty list of shapes, got {shapes!r}")
    shapes = [tuple(int(n) for n in s) for s in shapes]
    check_int(dim, "dim")
    first = shapes[0]
    for k, s in enumerate(shapes):
        if len(s) != len(first):
            raise ValueError(
                f"tensor {k} has {len(s)} dims (shape {shape_str(s)}) but tensor 0 has "
                f"{len(first)} (shape {shape_str(first)}): cat joins tensors of the same number "
                "of dims"
            )
    ndim = len(first)
    if ndim == 0:
        raise ValueError("cat cannot join 0-d tensors: use torch.stack(tensors)")
    if not -ndim <= dim < ndim:
        hint = (
            "; to join 1-D tensors as columns, use torch.stack(tensors, dim=1)" if ndim == 1 else ""
        )
        raise IndexError(
            f"dim={dim} is out of range for tensors of {ndim} dim{'s' if ndim > 1 else ''} "
            f"(shape {shape_str(first)}): valid dims are {-ndim}..{ndim - 1}{hint}"
        )
    d = dim % ndim
    for k, s in enumerate(shapes):
        for j in range(ndim):
            if j != d and s[j] != first[j]:
                raise ValueError(
                    f"tensor {k} has shape {shape_str(s)} but tensor 0 has shape "
                    f"{shape_str(first)}: away from dim={d} the sizes must be equal (dim {j}: "
                    f"{s[j]} vs {first[j]})"
                )
    return tuple(sum(s[j] for s in shapes) if j == d else first[j] for j in range(ndim))


def pick_channel(data: torch.Tensor, index_map: torch.Tensor) -> torch.Tensor:
    """One channel per pixel: ``out[h][w] = data[h][w][index_map[h][w]]``.

    ``data`` is ``(H, W, C)``, ``index_map`` is ``(H, W)`` (int64 or int32, values in
    ``0 .. C - 1``); the result is ``(H, W)``. A gather along the channel dim with an index of
    shape ``(H, W, 1)``. Expanding that index to ``(H, W, C)`` does not read C channels: it
    reads the *same* channel C times.

    >>> pick_channel(torch.zeros(2, 2, 3), torch.tensor([[0, 3], [1, 1]]))
    Traceback (most recent call last):
    ...
    IndexError: index_map holds 3 at position (0, 1), but data.shape[2] is 3 (shape (2, 2, 3)): along dim 2 the valid indices are 0..2
    """
    check_ndim(data, 3, name="data", what="(H, W, C)")
    check_ndim(index_map, 2, name="index_map", what="(H, W)")
    check_same_device(index_map, data, names=("index_map", "data"))
    check_index_dtype(index_map, name="index_map", op="pick_channel")
    _check_leading_dims(index_map, data, names=("index_map", "data"), what="(H, W)")
    check_index_values(
        index_map, data.shape[2], dim=2, name="index_map", tensor_name="data", shape=data.shape
    )
    return data.gather(2, index_map.unsqueeze(-1)).squeeze(-1)


def answer_rank(scores: torch.Tensor, answer: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """The rank of the right answer among the candidates: 0 when it has the highest score.

    ``scores`` holds one score per candidate along ``dim``; ``answer`` holds the position of the
    right candidate, with the shape of ``scores`` without ``dim``. The rank is the number of
    candidates that score **strictly higher** than the answer, so a tie does not push the
    answer down (sorting would place tied candidates in an order that ``sort`` does not promise
    unless ``stable=True``). The result is int64, shaped like ``answer``.

    >>> answer_rank(torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.5, 0.0]]), torch.tensor([2, 1]))
    tensor([1, 0])
    >>> answer_rank(torch.tensor([0.1, 0.7]), torch.tensor([0, 1]))
    Traceback (most recent call last):
    ...
    ValueError: answer has shape (2,) but scores has shape (2,): answer must have the shape of scores without dim 0, ()
    """
    check_tensor(scores, "scores")
    check_tensor(answer, "answer")
    check_same_device(answer, scores, names=("answer", "scores"))
    if scores.dim() == 0:
        raise ValueError("scores must have at least 1 dim (the candidates), got a 0-d tensor")
    dim = check_dim(dim, scores, tensor_name="scores")
    check_index_dtype(answer, name="answer", op="answer_rank")
    rest = tuple(n for j, n in enumerate(scores.shape) if j != dim)
    if tuple(answer.shape) != rest:
        raise ValueError(
            f"answer has shape {shape_str(answer.shape)} but scores has shape "
            f"{shape_str(scores.shape)}: answer must have the shape of scores without dim "
            f"{dim}, {shape_str(rest)}"
        )
    check_index_values(answer, scores.shape[dim], dim=dim, name="answer", tensor_name="scores")
    own = scores.gather(dim, answer.unsqueeze(dim).long())
    return (scores > own).sum(dim=dim)
