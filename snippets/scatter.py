"""Writing values by index: ``scatter`` and its everyday uses, checked.

``input.scatter(dim, index, src)`` is gather turned around. For every position ``p`` of
``index`` it **writes** ``src[p]`` into the output at ``p`` with ``p[dim]`` replaced by
``index[p]``; for dim=1 on 2-D tensors that is ``out[i][index[i][j]] = src[i][j]``. The output
has the shape of ``input``; cells that no index names keep their value.

The helpers validate first, and explain bad input in terms of the arguments' shapes and dims.
They never loop over elements: each is one PyTorch call plus checks, and each is tested against
the loop in ``snippets.reference``.

>>> import torch
>>> checked_scatter_add(torch.zeros(2, 3), 1, torch.tensor([[2, 2], [0, 1]]),
...                     torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
tensor([[0., 0., 3.],
        [3., 4., 0.]])
>>> segment_sum(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0, 2, 0]), 3)
tensor([4., 0., 2.])
"""

from __future__ import annotations

import torch

from snippets.validate import (
    check_dim,
    check_has_dims,
    check_index_dtype,
    check_index_values,
    check_int,
    check_ndim,
    check_same_device,
    check_tensor,
    shape_str,
)

__all__ = ["checked_scatter_add", "put_along_dim", "segment_mean", "segment_sum"]


def _check_scatter_args(
    input: torch.Tensor, dim: int, index: torch.Tensor, src: torch.Tensor, *, op: str = "scatter"
) -> int:
    """Validate the arguments of ``input.scatter(dim, index, src)`` (and of ``scatter_add``,
    ``scatter_reduce``); return ``dim`` as ``0..n-1``.

    The rules, in the order they are checked (PyTorch 2.13):

    1. ``input``, ``index`` and ``src`` are tensors on one device, and ``dim`` is a valid dim;
    2. ``index`` is int64 or int32, and ``src.dtype == input.dtype``;
    3. all three have the same number of dims (a 0-d tensor counts as 1-d): no broadcasting;
    4. ``index.size(d) <= src.size(d)`` for every ``d`` (only the leading part of ``src`` is
       written), and ``index.size(d) <= input.size(d)`` for every ``d != dim``;
    5. every value of ``index`` lies in ``0 .. input.size(dim) - 1`` (no negative indices).

    >>> _check_scatter_args(torch.zeros(2, 3), -1, torch.zeros(2, 5, dtype=torch.long),
    ...                    torch.zeros(2, 5))
    1
    >>> _check_scatter_args(torch.zeros(2, 3), 1, torch.zeros(2, 2, dtype=torch.long),
    ...                    torch.zeros(2, 1))
    Traceback (most recent call last):
    ...
    ValueError: index.shape[1] is 2 but src.shape[1] is 1 (index shape (2, 2), src shape (2, 1)): index may not be larger than src in any dim
    """
    check_tensor(input, "input")
    check_tensor(index, "index")
    check_tensor(src, "src")
    check_same_device(index, input, names=("index", "input"))
    check_same_device(src, input, names=("src", "input"))
    dim = check_dim(dim, input, tensor_name="input")
    check_index_dtype(index, op=op)
    if src.dtype != input.dtype:
        raise TypeError(
            f"src is {str(src.dtype).removeprefix('torch.')} but input is "
            f"{str(input.dtype).removeprefix('torch.')}: {op} writes src into input, so their "
            "dtypes must be equal (use src.to(input.dtype))"
        )
    in_shape = tuple(input.shape) or (1,)
    idx_shape = tuple(index.shape) or (1,)
    src_shape = tuple(src.shape) or (1,)
    if not len(in_shape) == len(idx_shape) == len(src_shape):
        raise ValueError(
            f"input, index and src must have the same number of dims, got shapes "
            f"{shape_str(input.shape)}, {shape_str(index.shape)} and {shape_str(src.shape)}; "
            f"{op} never adds or broadcasts dims: use unsqueeze(...) to match"
        )
    for d in range(len(in_shape)):
        if idx_shape[d] > src_shape[d]:
            raise ValueError(
                f"index.shape[{d}] is {idx_shape[d]} but src.shape[{d}] is {src_shape[d]} "
                f"(index shape {shape_str(index.shape)}, src shape {shape_str(src.shape)}): "
                "index may not be larger than src in any dim"
            )
        if d != dim and idx_shape[d] > in_shape[d]:
            raise ValueError(
                f"index.shape[{d}] is {idx_shape[d]} but input.shape[{d}] is {in_shape[d]} "
                f"(index shape {shape_str(index.shape)}, input shape {shape_str(input.shape)}): "
                f"away from dim={dim}, index may not be larger than input"
            )
    check_index_values(index, in_shape[dim], dim=dim, shape=input.shape)
    return dim


def checked_scatter_add(
    input: torch.Tensor, dim: int, index: torch.Tensor, src: torch.Tensor
) -> torch.Tensor:
    """``input.scatter_add(dim, index, src)``, after checking the arguments: a new tensor.

    The checks, in this order, each an error that names the argument, the shapes and the dim:

    1. ``input``, ``index`` and ``src`` are tensors on one device, and ``dim`` is a dim of
       ``input`` (negative dims count from the end);
    2. ``index`` is int64 or int32, and ``src`` has the dtype of ``input``;
    3. all three have the same number of dims (a 0-d tensor counts as 1-d): no broadcasting;
    4. ``index`` is nowhere larger than ``src`` (only the leading part of ``src`` is added),
       and away from ``dim`` nowhere larger than ``input``;
    5. every value of ``index`` lies in ``0 .. input.size(dim) - 1``: no negative indices.

    ``out[i][index[i][j]] += src[i][j]`` for dim=1: every value of ``src`` is added to the cell
    its index names, so cells named twice get both values (that is the point of it).

    >>> checked_scatter_add(torch.zeros(4), 0, torch.tensor([1, 1, 3]), torch.tensor([1., 2., 5.]))
    tensor([0., 3., 0., 5.])
    >>> checked_scatter_add(torch.zeros(4), 0, torch.tensor([1, 4]), torch.tensor([1., 2.]))
    Traceback (most recent call last):
    ...
    IndexError: index holds 4 at position (1,), but input.shape[0] is 4 (shape (4,)): along dim 0 the valid indices are 0..3
    """
    dim = _check_scatter_args(input, dim, index, src, op="scatter_add")
    return input.scatter_add(dim, index, src)


def _check_segments(
    values: torch.Tensor, segment_ids: torch.Tensor, num_segments: int, op: str
) -> None:
    check_tensor(values, "values")
    check_tensor(segment_ids, "segment_ids")
    check_same_device(segment_ids, values, names=("segment_ids", "values"))
    check_int(num_segments, "num_segments", minimum=0)
    check_index_dtype(segment_ids, name="segment_ids", op=op)
    check_ndim(segment_ids, 1, name="segment_ids", what="(N,)")
    if values.dim() == 0:
        raise ValueError("values must have at least 1 dim (N, ...), got a 0-d tensor")
    if values.shape[0] != segment_ids.shape[0]:
        raise ValueError(
            f"values.shape[0] is {values.shape[0]} but segment_ids has {segment_ids.shape[0]} "
            f"entries (values shape {shape_str(values.shape)}, segment_ids shape "
            f"{shape_str(segment_ids.shape)}): one segment id per row of values"
        )
    check_index_values(
        segment_ids,
        num_segments,
        dim=0,
        name="segment_ids",
        tensor_name="out",
        shape=(num_segments, *values.shape[1:]),
    )


def segment_sum(values: torch.Tensor, segment_ids: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Sum the rows of ``values`` by segment: ``out[s] = sum of values[n] where segment_ids[n] == s``.

    ``values`` is ``(N, ...)``, ``segment_ids`` is ``(N,)`` (int64 or int32, in any order) and
    the result is ``(num_segments, ...)``; a segment with no rows sums to 0. One
    ``index_add`` call (deterministic on the CPU; on CUDA only with
    ``torch.use_deterministic_algorithms(True)``).

    >>> segment_sum(torch.tensor([[1., 1.], [2., 2.], [5., 5.]]), torch.tensor([2, 0, 2]), 3)
    tensor([[2., 2.],
            [0., 0.],
            [6., 6.]])
    >>> segment_sum(torch.tensor([1., 2.]), torch.tensor([0, 3]), 3)
    Traceback (most recent call last):
    ...
    IndexError: segment_ids holds 3 at position (1,), but out.shape[0] is 3 (shape (3,)): along dim 0 the valid indices are 0..2
    """
    _check_segments(values, segment_ids, num_segments, "segment_sum")
    return _segment_sum(values, segment_ids, num_segments)


def _segment_sum(
    values: torch.Tensor, segment_ids: torch.Tensor, num_segments: int
) -> torch.Tensor:
    """``segment_sum`` for arguments ``_check_segments`` has checked."""
    out = values.new_zeros((num_segments, *values.shape[1:]))
    return out.index_add(0, segment_ids, values)


def segment_mean(
    values: torch.Tensor, segment_ids: torch.Tensor, num_segments: int
) -> torch.Tensor:
    """The mean of the rows of ``values`` in each segment; a segment with no rows gives 0.

    Shapes as in ``segment_sum``; ``values`` must be floating point (an integer mean would be
    rounded). The sum divided by the count, with the count clamped to 1 so that an empty
    segment is 0 rather than 0 / 0 = nan: the same as
    ``zeros.scatter_reduce(0, ids, values, "mean", include_self=False)`` for 1-D values.

    >>> segment_mean(torch.tensor([1., 2., 6.]), torch.tensor([0, 0, 2]), 4)
    tensor([1.5000, 0.0000, 6.0000, 0.0000])
    >>> segment_mean(torch.tensor([1, 2]), torch.tensor([0, 0]), 1)
    Traceback (most recent call last):
    ...
    TypeError: values must be floating point for segment_mean, got int64 (use values.float())
    """
    _check_segments(values, segment_ids, num_segments, "segment_mean")
    if not values.is_floating_point():
        raise TypeError(
            f"values must be floating point for segment_mean, got "
            f"{str(values.dtype).removeprefix('torch.')} (use values.float())"
        )
    sums = _segment_sum(values, segment_ids, num_segments)
    counts = torch.zeros(num_segments, dtype=values.dtype, device=values.device)
    counts = counts.index_add(0, segment_ids, torch.ones_like(segment_ids, dtype=values.dtype))
    return sums / counts.clamp(min=1).reshape(-1, *([1] * (values.dim() - 1)))


def put_along_dim(
    input: torch.Tensor, indices: torch.Tensor, values: torch.Tensor, dim: int
) -> torch.Tensor:
    """The inverse of ``torch.take_along_dim``: a copy of ``input`` with ``values`` written at
    ``indices`` along ``dim`` (NumPy's ``put_along_axis``, out of place).

    ``indices`` has the dims of ``input``; away from ``dim`` each size equals input's or is 1
    (stretched). ``values`` broadcasts to the stretched indices' shape. Then
    ``take_along_dim(put_along_dim(x, i, v, dim), i, dim)`` gives ``v`` back. Two indices of
    one line along ``dim`` that name the same cell are refused: plain ``scatter`` leaves
    unspecified which value lands there, so the helper never returns such a result.

    >>> x = torch.zeros(2, 4)
    >>> put_along_dim(x, torch.tensor([[3], [0]]), torch.tensor([[7.], [9.]]), dim=1)
    tensor([[0., 0., 0., 7.],
            [9., 0., 0., 0.]])
    >>> put_along_dim(x, torch.tensor([[1, 1]]), torch.tensor(5.), dim=1)
    Traceback (most recent call last):
    ...
    ValueError: indices name position 1 of dim 1 twice, at (0, 0) and (0, 1) (after stretching to (2, 2)): which value lands there would be unspecified; use scatter_add or scatter_reduce to combine them
    """
    check_tensor(input, "input")
    check_tensor(indices, "indices")
    check_tensor(values, "values")
    check_same_device(indices, input, names=("indices", "input"))
    check_same_device(values, input, names=("values", "input"))
    check_has_dims(input, dim, verb="put along")
    dim = check_dim(dim, input, tensor_name="input")
    check_index_dtype(indices, name="indices", op="put_along_dim")
    if values.dtype != input.dtype:
        raise TypeError(
            f"values is {str(values.dtype).removeprefix('torch.')} but input is "
            f"{str(input.dtype).removeprefix('torch.')}: use values.to(input.dtype)"
        )
    shapes = f"(indices shape {shape_str(indices.shape)}, input shape {shape_str(input.shape)})"
    if indices.dim() != input.dim():
        raise ValueError(
            f"indices has {indices.dim()} dims but input has {input.dim()} {shapes}: use "
            "indices.unsqueeze(...) to match"
        )
    target = []
    for d, (n_in, n_idx) in enumerate(zip(input.shape, indices.shape, strict=True)):
        if d == dim or n_idx == n_in:
            target.append(n_idx)
        elif n_idx == 1:
            target.append(n_in)
        else:
            raise ValueError(
                f"indices.shape[{d}] is {n_idx} but input.shape[{d}] is {n_in} {shapes}: away "
                f"from dim={dim} the sizes must be equal, or indices' size 1 (it is stretched)"
            )
    target_shape = tuple(target)
    check_index_values(indices, input.size(dim), dim=dim, name="indices", shape=input.shape)
    try:
        values_b = values.broadcast_to(target_shape)
    except RuntimeError:
        raise ValueError(
            f"values of shape {shape_str(values.shape)} does not broadcast to the stretched "
            f"indices' shape {shape_str(target_shape)}"
        ) from None
    indices_b = indices.expand(target_shape)
    if indices_b.size(dim) > 1 and indices_b.numel():
        ordered, order = indices_b.sort(dim=dim, stable=True)
        same = ordered.narrow(dim, 1, ordered.size(dim) - 1) == ordered.narrow(
            dim, 0, ordered.size(dim) - 1
        )
        if bool(same.any()):
            at = [int(v) for v in same.nonzero()[0].tolist()]
            first, second = list(at), list(at)
            first[dim] = int(order[tuple(at)])
            at[dim] += 1
            second[dim] = int(order[tuple(at)])
            raise ValueError(
                f"indices name position {int(ordered[tuple(at)])} of dim {dim} twice, at "
                f"{tuple(first)} and {tuple(second)} (after stretching to "
                f"{shape_str(target_shape)}): which value lands there would be unspecified; "
                "use scatter_add or scatter_reduce to combine them"
            )
    return input.scatter(dim, indices_b, values_b)
