"""Indexing with tensors (advanced indexing): the result's shape, and checked indexing.

``x[rows, cols]`` with integer tensors reads ``out[p] = x[rows[p], cols[p]]`` for every
position ``p`` of the index tensors' broadcast shape. Mixed with slices, ``None`` and ``...``,
the broadcast dims replace the indexed dims *in place* when the index tensors sit next to each
other, and go *first* when a slice or ``None`` separates them. An int (or a 0-d integer tensor,
as PyTorch 2.13.0 reads one on the CPU) removes its dim before that rule is applied, as
``x.select`` would: unlike NumPy, it never separates two index tensors. A bool mask of ``k`` dims stands for the ``k`` tensors of
``mask.nonzero(as_tuple=True)``.

``index_shape`` computes the result's shape from the shapes alone (and a mask's count of
``True``); ``checked_index`` validates first and names the index, the shapes and the dim at
fault; ``snippets.draw.advanced_index`` draws which element of ``x`` each output element was
read from. None of them loops over elements; ``snippets.reference.advanced_index`` is the rule
written as a loop.

>>> import torch
>>> x = torch.arange(12).reshape(3, 4)
>>> index_shape((3, 4), (torch.tensor([[0], [2]]), torch.tensor([1, 3])))
(2, 2)
>>> checked_index(x, (torch.tensor([0, 2]), torch.tensor([1, 4])))
Traceback (most recent call last):
...
IndexError: indices[1] holds 4 at position (1,), but x.shape[1] is 4 (x shape (3, 4)): valid values are -4..3
"""

from __future__ import annotations

import types
from collections.abc import Sequence

import torch

from snippets.validate import is_int, shape_str

__all__ = ["checked_index", "index_shape"]

_Index = int | slice | None | types.EllipsisType | torch.Tensor

_INT_DTYPES = (torch.int64, torch.int32)


def _item_name(k: int, single: bool) -> str:
    return "indices" if single else f"indices[{k}]"


def _check_shape(x_shape: object) -> tuple[int, ...]:
    if isinstance(x_shape, torch.Tensor) or not isinstance(x_shape, Sequence):
        raise TypeError(
            f"x_shape must be a sequence of ints (such as x.shape), got {type(x_shape).__name__}"
        )
    dims = tuple(x_shape)
    for d, s in enumerate(dims):
        if not is_int(s):
            raise TypeError(f"x_shape[{d}] must be an int, got {type(s).__name__}")
        if s < 0:
            raise ValueError(f"x_shape[{d}] must be >= 0, got {s} (x_shape {dims})")
    return dims


def _normalize_indices(
    x_shape: Sequence[int], indices: _Index | tuple[_Index, ...]
) -> list[tuple[str, int | None, object]]:
    """One entry per item after ``...`` is expanded: ``(kind, dim of x, value)``.

    ``kind`` is ``"int"`` (also a 0-d integer tensor; value the int), ``"slice"``, ``"none"``
    (dim None: it consumes no dim of x), ``"tensor"`` (an integer tensor) or ``"mask"`` (a
    bool tensor covering ``mask.dim()`` dims from ``dim``). Dims of x that no item names are
    appended as full slices. Every item is validated; values of integer tensors are not (see
    ``checked_index``).

    >>> [(k, d) for k, d, _ in _normalize_indices((2, 3, 4), (None, ..., torch.tensor([1])))]
    [('none', None), ('slice', 0), ('slice', 1), ('tensor', 2)]
    >>> _normalize_indices((2, 3), [0, 1])
    Traceback (most recent call last):
    ...
    TypeError: indices is a list: write a tuple (x[(rows, cols)] is x[rows, cols]) or a tensor (torch.tensor([...])), so it is not read as either by a rule that depends on the release
    """
    shape = _check_shape(x_shape)
    if isinstance(indices, list):
        raise TypeError(
            "indices is a list: write a tuple (x[(rows, cols)] is x[rows, cols]) or a tensor "
            "(torch.tensor([...])), so it is not read as either by a rule that depends on the "
            "release"
        )
    single = not isinstance(indices, tuple)
    items: tuple = (indices,) if single else indices
    consumed = 0
    ellipses = 0
    for k, item in enumerate(items):
        name = _item_name(k, single)
        if isinstance(item, bool):
            raise TypeError(f"{name} is a Python bool ({item}): write None to add a dim")
        if item is None:
            continue
        if item is Ellipsis:
            ellipses += 1
            if ellipses > 1:
                raise IndexError(f"{name} is a second '...': an index may hold one at most")
            continue
        if isinstance(item, (int, slice)):
            consumed += 1
        elif isinstance(item, torch.Tensor):
            if item.dtype == torch.bool:
                if item.dim() == 0:
                    raise IndexError(f"{name} is a 0-d bool tensor: write None to add a dim")
                consumed += item.dim()
            elif item.dtype in _INT_DTYPES:
                consumed += 1
            else:
                got = str(item.dtype).removeprefix("torch.")
                hint = " (uint8 masks are deprecated: use .bool())" if got == "uint8" else ""
                raise TypeError(f"{name} must be an int64, int32 or bool tensor, got {got}{hint}")
        else:
            raise TypeError(
                f"{name} must be an int, slice, None, ..., or an integer or bool tensor, got "
                f"{type(item).__name__}"
            )
    if consumed > len(shape):
        raise IndexError(
            f"indices name {consumed} dims but x has {len(shape)} (x shape {shape_str(shape)})"
        )
    out: list[tuple[str, int | None, object]] = []
    d = 0
    for k, item in enumerate(items):
        name = _item_name(k, single)
        if item is None:
            out.append(("none", None, None))
        elif item is Ellipsis:
            for _ in range(len(shape) - consumed):
                out.append(("slice", d, slice(None)))
                d += 1
        elif isinstance(item, int):
            out.append(("int", d, _int_position(f"{name} is {item}", item, d, shape)))
            d += 1
        elif isinstance(item, slice):
            if item.step is not None and item.step <= 0:
                raise ValueError(f"{name} has step {item.step}: slice steps must be >= 1")
            out.append(("slice", d, item))
            d += 1
        elif item.dtype == torch.bool:
            want = shape[d : d + item.dim()]
            if tuple(item.shape) != want:
                raise IndexError(
                    f"{name} is a bool mask of shape {shape_str(item.shape)}, but it covers "
                    f"dims {d}..{d + item.dim() - 1} of x, of sizes {shape_str(want)} (x shape "
                    f"{shape_str(shape)})"
                )
            out.append(("mask", d, item))
            d += item.dim()
        elif item.dim() == 0:  # a 0-d integer tensor acts as an int
            value = int(item)
            what = f"{name} is a 0-d tensor holding {value}"
            out.append(("int", d, _int_position(what, value, d, shape)))
            d += 1
        else:
            out.append(("tensor", d, item))
            d += 1
    while d < len(shape):
        out.append(("slice", d, slice(None)))
        d += 1
    return out


def _int_position(what: str, value: int, d: int, shape: tuple[int, ...]) -> int:
    """``value`` (an int index into dim ``d``) as ``0..size-1``, or an IndexError that starts
    with ``what`` (how the caller gave it) and gives the valid range."""
    if not -shape[d] <= value < shape[d]:
        raise IndexError(
            f"{what}, but x.shape[{d}] is {shape[d]} (x shape {shape_str(shape)}): "
            f"valid values are {_valid(shape[d])}"
        )
    return value % shape[d]


def _valid(size: int) -> str:
    return f"{-size}..{size - 1}" if size else "none (the dim is empty)"


def _layout(
    shape: tuple[int, ...], entries: list[tuple[str, int | None, object]], single: bool
) -> tuple[list[tuple[str, object]], tuple[int, ...], bool]:
    """(columns, broadcast shape, in place): one column per kept dim, ``("adv", shapes)`` for
    an index tensor or one dim of a mask, ``("dim", size)`` for a slice or None."""
    columns: list[tuple[str, object]] = []
    shapes: list[tuple[int, ...]] = []
    labels: list[str] = []
    for kind, d, value in entries:
        if kind == "int":
            continue
        if kind == "none":
            columns.append(("dim", 1))
        elif kind == "slice":
            columns.append(("dim", len(range(*value.indices(shape[d])))))
        elif kind == "tensor":
            columns.append(("adv", None))
            shapes.append(tuple(value.shape))
            labels.append(f"dim {d}: {shape_str(value.shape)}")
        else:  # a mask: one index tensor per dim it covers, each of length count
            count = int(value.sum()) if value.numel() else 0
            for _ in range(value.dim()):
                columns.append(("adv", None))
                shapes.append((count,))
            labels.append(
                f"dims {d}..{d + value.dim() - 1}: mask {shape_str(value.shape)} with {count} True"
            )
    try:
        broadcast = tuple(torch.broadcast_shapes(*shapes)) if shapes else ()
    except RuntimeError:
        raise IndexError(
            "the index tensors do not broadcast together: " + ", ".join(labels)
        ) from None
    where = [i for i, (kind, _) in enumerate(columns) if kind == "adv"]
    in_place = bool(where) and where == list(range(where[0], where[-1] + 1))
    return columns, broadcast, in_place


def index_shape(x_shape: Sequence[int], indices: _Index | tuple[_Index, ...]) -> tuple[int, ...]:
    """The shape of ``x[indices]`` for ``x`` of shape ``x_shape``.

    Ints drop their dim; a slice keeps its dim (with the slice's length); ``None`` adds a dim of
    size 1; ``...`` stands for every dim no other item names. The index tensors (a bool mask of
    ``k`` dims counts as ``k`` tensors of length ``mask.sum()``) broadcast together to a shape
    ``B``; ``B`` takes the place of the dims they index when they are next to each other, and
    goes first when a slice or ``None`` separates them.

    >>> x_shape = (5, 6, 7, 8)
    >>> i = torch.tensor([[0, 1, 2]])          # shape (1, 3)
    >>> j = torch.tensor([[0], [1]])           # shape (2, 1): i and j broadcast to (2, 3)
    >>> index_shape(x_shape, (slice(None), i, j))          # next to each other: in place
    (5, 2, 3, 8)
    >>> index_shape(x_shape, (i, slice(None), j))          # a slice between them: first
    (2, 3, 6, 8)
    >>> index_shape(x_shape, (slice(None), 0, slice(None), i))   # an int drops its dim
    (5, 7, 1, 3)
    >>> index_shape((2, 3), torch.tensor([[True, False, True], [False, False, True]]))
    (3,)
    >>> index_shape((2, 3), (torch.tensor([0, 1]), torch.tensor([0, 1, 2])))
    Traceback (most recent call last):
    ...
    IndexError: the index tensors do not broadcast together: dim 0: (2,), dim 1: (3,)
    """
    shape = _check_shape(x_shape)
    entries = _normalize_indices(shape, indices)
    columns, broadcast, in_place = _layout(shape, entries, not isinstance(indices, tuple))
    kept = [size for kind, size in columns if kind == "dim"]
    if not any(kind == "adv" for kind, _ in columns):
        return tuple(kept)
    if in_place:
        first = next(i for i, (kind, _) in enumerate(columns) if kind == "adv")
        before = [size for kind, size in columns[:first] if kind == "dim"]
        return (*before, *broadcast, *kept[len(before) :])
    return (*broadcast, *kept)


def _check_values(x: torch.Tensor, indices: _Index | tuple[_Index, ...]) -> None:
    single = not isinstance(indices, tuple)
    items = (indices,) if single else indices
    entries = _normalize_indices(x.shape, indices)
    dims = iter(d for kind, d, _ in entries if kind == "tensor")  # in the order of items
    for k, item in enumerate(items):
        if isinstance(item, torch.Tensor) and item.dtype in _INT_DTYPES and item.dim() > 0:
            d = next(dims)
            if item.device != x.device:
                raise ValueError(
                    f"{_item_name(k, single)} is on {item.device} but x is on {x.device}"
                )
            size = x.shape[d]
            bad = (item < -size) | (item >= size)
            if item.numel() and bool(bad.any()):
                position = tuple(int(p) for p in bad.nonzero()[0].tolist())
                raise IndexError(
                    f"{_item_name(k, single)} holds {int(item[position])} at position "
                    f"{position}, but x.shape[{d}] is {size} (x shape {shape_str(x.shape)}): "
                    f"valid values are {_valid(size)}"
                )
        elif (
            isinstance(item, torch.Tensor)
            and item.dtype == torch.bool
            and item.device not in (x.device, torch.device("cpu"))
        ):
            raise ValueError(f"{_item_name(k, single)} is on {item.device} but x is on {x.device}")


def checked_index(x: torch.Tensor, indices: _Index | tuple[_Index, ...]) -> torch.Tensor:
    """``x[indices]``, after checks that name the index, the shapes and the dim at fault.

    Checked before PyTorch runs: every item's type and dtype, the number of dims named, each
    bool mask's shape against the dims it covers, that the index tensors broadcast, and that
    every index value lies in ``-size .. size - 1`` of its dim (negative values count from
    the end, as in PyTorch). The value check runs on any device, so a bad index is an
    IndexError on CUDA too, not a device-side assert. A list is refused, with a TypeError:
    write a tuple (``x[(rows, cols)]`` is ``x[rows, cols]``) or a tensor, because PyTorch reads
    a list as one or the other by a rule that depends on the release.

    >>> x = torch.tensor([[10, 20, 30], [40, 50, 60]])
    >>> checked_index(x, (torch.tensor([1, 0, -1]), torch.tensor([2, 2, 0])))
    tensor([60, 30, 40])
    >>> checked_index(x, torch.tensor([True, False, True]))
    Traceback (most recent call last):
    ...
    IndexError: indices is a bool mask of shape (3,), but it covers dims 0..0 of x, of sizes (2,) (x shape (2, 3))
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    expected = index_shape(tuple(x.shape), indices)
    _check_values(x, indices)
    out = x[indices]
    assert tuple(out.shape) == expected, (tuple(out.shape), expected)
    return out


def _index_sources(x_shape: Sequence[int], indices: _Index | tuple[_Index, ...]) -> torch.Tensor:
    """Where each element of ``x[indices]`` is read from: a tensor of shape
    ``(*index_shape(x_shape, indices), len(x_shape))`` whose last dim holds a coordinate of
    ``x`` (negative index values made non-negative). Tensors in ``indices`` stay on their
    device, and so does the result.

    >>> _index_sources((2, 3), (torch.tensor([1, 0]), torch.tensor([-1, 1]))).tolist()
    [[1, 2], [0, 1]]
    """
    shape = _check_shape(x_shape)
    expected = index_shape(shape, indices)
    items = indices if isinstance(indices, tuple) else (indices,)
    devices = {t.device for t in items if isinstance(t, torch.Tensor)}
    if len(devices) > 1:
        raise ValueError(f"the index tensors are on several devices: {sorted(map(str, devices))}")
    device = devices.pop() if devices else torch.device("cpu")
    # One coordinate tensor per dim of x, indexed like x: its value at p is the dim-d
    # coordinate that x[indices][p] was read from.
    if not shape:
        return torch.zeros((*expected, 0), dtype=torch.long, device=device)
    grids = torch.meshgrid(*(torch.arange(s, device=device) for s in shape), indexing="ij")
    return torch.stack([g[indices] for g in grids], dim=-1)
