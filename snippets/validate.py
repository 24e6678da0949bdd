"""Argument checks shared by the helpers, with errors that say what is wrong and where.

Package-internal (``__all__`` is empty): the public helpers call these at their entry, once
per argument, and what they call after that trusts the arguments.

Every message names the argument, its shape and the dimension at fault, so that
"index has 1 dims but input has 2" is what a reader sees instead of a bare RuntimeError.
The checks are vectorised; the one that looks at index *values* synchronises with the GPU
on purpose, because an out-of-range index on CUDA is a device-side assert that breaks the
whole CUDA context until the process restarts.

>>> import torch
>>> check_dim(2, torch.zeros(2, 3), name="dim", tensor_name="input")
Traceback (most recent call last):
...
IndexError: dim=2 is out of range for input of shape (2, 3): valid dims are -2..1
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

__all__ = []

INDEX_DTYPES = (torch.int64, torch.int32)


def shape_str(shape: Iterable[int]) -> str:
    """``(2, 3)`` for a shape, ``(4,)`` for one dim, ``()`` for a scalar.

    >>> shape_str(torch.Size([4]))
    '(4,)'
    """
    if isinstance(shape, (str, bytes, torch.Tensor)) or not isinstance(shape, Iterable):
        raise TypeError(f"shape must be a sequence of ints, got {type(shape).__name__}")
    dims = tuple(int(s) for s in shape)
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


def check_tensor(x: object, name: str) -> torch.Tensor:
    """``x`` itself if it is a tensor, else a TypeError naming the argument.

    >>> check_tensor([1, 2], "index")
    Traceback (most recent call last):
    ...
    TypeError: index must be a torch.Tensor, got list
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    return x


def is_int(value: object) -> bool:
    """True for a Python int, False for a bool (which Python counts as an int) and the rest.

    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool)


def check_bool(value: object, name: str) -> bool:
    """``value`` if it is True or False; otherwise a TypeError naming ``name``.

    >>> check_bool(1, "keepdim")
    Traceback (most recent call last):
    ...
    TypeError: keepdim must be True or False, got int 1
    """
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return value


def check_module(value: object, name: str) -> Any:
    """``value`` if it is a ``torch.nn.Module``; otherwise a TypeError naming ``name``.

    >>> check_module("fc1", "model")
    Traceback (most recent call last):
    ...
    TypeError: model must be a torch.nn.Module, got str
    """
    if not isinstance(value, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """``value`` if it is an int (a bool is not) and at least ``minimum``; else a clear error.

    >>> check_int(2.0, "cols")
    Traceback (most recent call last):
    ...
    TypeError: cols must be an int, got float
    >>> check_int(-1, "rows", minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: rows must be an int >= 0, got -1
    """
    if not is_int(value):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if minimum is not None:
        check_int(minimum, "minimum")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def check_dim(dim: object, x: torch.Tensor, *, name: str = "dim", tensor_name: str) -> int:
    """``dim`` as a non-negative int, or an IndexError naming the valid range.

    >>> check_dim(-1, torch.zeros(2, 3), tensor_name="input")
    1
    """
    check_int(dim, name)
    check_tensor(x, tensor_name)
    ndim = max(x.dim(), 1)  # PyTorch treats a 0-d tensor as having one dim for dim arguments
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"{name}={dim} is out of range for {tensor_name} of shape {shape_str(x.shape)}: "
            f"valid dims are {-ndim}..{ndim - 1}"
        )
    return dim % ndim


def check_has_dims(
    x: torch.Tensor, dim: object, *, verb: str = "take along", hint: str = ""
) -> None:
    """An IndexError when a ``dim`` is given for a 0-d ``input``: it has no dim to ``verb``.

    >>> check_has_dims(torch.tensor(5), 0, hint="; use dim=None")
    Traceback (most recent call last):
    ...
    IndexError: dim=0 given but input is 0-d (shape ()): it has no dim to take along; use dim=None
    """
    if check_tensor(x, "input").dim() == 0:
        raise IndexError(
            f"dim={dim} given but input is 0-d (shape ()): it has no dim to {verb}{hint}"
        )


def check_ndim(x: torch.Tensor, ndim: int, *, name: str, what: str = "") -> None:
    """A ValueError unless ``x`` has exactly ``ndim`` dims; ``what`` names them, e.g. "(B, T)".

    >>> check_ndim(torch.zeros(2, 3), 3, name="logits", what="(B, T, V)")
    Traceback (most recent call last):
    ...
    ValueError: logits must have 3 dims (B, T, V), got shape (2, 3)
    """
    check_tensor(x, name)
    check_int(ndim, "ndim", minimum=0)
    if x.dim() != ndim:
        label = f" {what}" if what else ""
        raise ValueError(f"{name} must have {ndim} dims{label}, got shape {shape_str(x.shape)}")


def check_index_dtype(
    index: torch.Tensor,
    *,
    name: str = "index",
    op: str,
    allowed: tuple[torch.dtype, ...] = INDEX_DTYPES,
) -> None:
    """A TypeError unless ``index`` has one of the ``allowed`` integer dtypes.

    >>> check_index_dtype(torch.tensor([0.0]), op="gather")
    Traceback (most recent call last):
    ...
    TypeError: index must be int64 or int32 for gather, got float32 (use .long())
    """
    check_tensor(index, name)
    if index.dtype not in allowed:
        names = " or ".join(str(d).removeprefix("torch.") for d in allowed)
        got = str(index.dtype).removeprefix("torch.")
        raise TypeError(f"{name} must be {names} for {op}, got {got} (use .long())")


def check_same_device(a: torch.Tensor, b: torch.Tensor, *, names: tuple[str, str]) -> None:
    """A ValueError when two tensors live on different devices; ``names`` are theirs, in order.

    >>> check_same_device(torch.zeros(1), torch.zeros(1, device="meta"), names=("x", "scores"))
    Traceback (most recent call last):
    ...
    ValueError: x is on cpu but scores is on meta
    """
    if (
        not isinstance(names, tuple)
        or len(names) != 2
        or not all(isinstance(n, str) for n in names)
    ):
        raise TypeError(f"names must be a pair of str, got {names!r}")
    check_tensor(a, names[0])
    check_tensor(b, names[1])
    if a.device != b.device:
        raise ValueError(f"{names[0]} is on {a.device} but {names[1]} is on {b.device}")


def check_index_values(
    index: torch.Tensor,
    size: int,
    *,
    dim: int,
    name: str = "index",
    tensor_name: str = "input",
    shape: Iterable[int] | None = None,
) -> None:
    """An IndexError unless every value of ``index`` lies in ``0 .. size - 1``.

    The message gives the first bad value, where it sits in ``index`` and the valid range.
    A ``meta`` tensor has no values, so there is nothing to check: it passes.

    >>> check_index_values(torch.tensor([[0, 3]]), 3, dim=1, shape=(2, 3))
    Traceback (most recent call last):
    ...
    IndexError: index holds 3 at position (0, 1), but input.shape[1] is 3 (shape (2, 3)): along dim 1 the valid indices are 0..2
    """
    check_tensor(index, name)
    check_int(size, "size", minimum=0)
    check_int(dim, "dim")
    if index.numel() == 0 or index.device.type == "meta":
        return
    # One read of the index (a fused min/max) and one synchronisation decide; only a bad
    # index pays for finding where its first bad value sits.
    low, high = torch.stack(torch.aminmax(index)).tolist()
    if low >= 0 and high < size:
        return
    position = _first_out_of_range(index, size)
    if position is None:  # a NaN (a float index) is neither below 0 nor past the end
        return
    value = int(index[position])
    shown = f" (shape {shape_str(shape)})" if shape is not None else ""
    valid = f"0..{size - 1}" if size > 0 else "none (the dim is empty)"
    raise IndexError(
        f"{name} holds {value} at position {position}, but {tensor_name}.shape[{dim}] is "
        f"{size}{shown}: along dim {dim} the valid indices are {valid}"
    )


def _first_out_of_range(index: torch.Tensor, size: int) -> tuple[int, ...] | None:
    """The position of the first value of ``index`` outside ``0 .. size - 1``, or None."""
    bad = (index < 0) | (index >= min(size, 2**63 - 1))  # no int64 index reaches 2**63
    found = bad.nonzero()
    return tuple(int(p) for p in found[0].tolist()) if len(found) else None


def _tensors_in(value: Any) -> list[torch.Tensor]:
    """The tensors in ``value``: a tensor, or lists / tuples / dicts of them, nested (what a
    module or a function returns). Package-internal: hooks and autograd read outputs with it.

    >>> [t.tolist() for t in _tensors_in({"a": torch.tensor([1]), "b": (torch.tensor([2]), 3)})]
    [[1], [2]]
    """
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors_in(v)]
    if isinstance(value, Mapping):
        return [t for v in value.values() for t in _tensors_in(v)]
    return []


def _check_leading_dims(
    index: torch.Tensor, x: torch.Tensor, *, names: tuple[str, str], what: str
) -> None:
    """A ValueError unless ``index``'s shape is the leading dims of ``x``'s (an index per
    position, picking along the dims after them); ``what`` names those dims, e.g. "(B, T)".
    Package-internal: token_logprobs and pick_channel check their index with it.

    >>> _check_leading_dims(torch.zeros(2, 3), torch.zeros(2, 4, 5), names=("tokens", "logits"), what="(B, T)")
    Traceback (most recent call last):
    ...
    ValueError: tokens has shape (2, 3) but logits has shape (2, 4, 5): tokens must be (B, T) = (2, 4)
    """
    leading = x.shape[: index.dim()]
    if tuple(index.shape) != tuple(leading):
        raise ValueError(
            f"{names[0]} has shape {shape_str(index.shape)} but {names[1]} has shape "
            f"{shape_str(x.shape)}: {names[0]} must be {what} = {shape_str(leading)}"
        )
