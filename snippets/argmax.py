"""Where is the maximum? ``argmax`` indices turned into full coordinates, and the values fetched.

``x.argmax()`` (no dim) is a *flat* index into ``x.flatten()``; ``torch.unravel_index`` turns it
into one coordinate per dim. ``x.argmax(dim)`` gives only the coordinate *along* ``dim``: for
every position ``p`` of the result, the maximum of that row sits at ``p`` with ``argmax[p]``
inserted at ``dim``. The other coordinates are the result's own positions, so they need no
index tensors of their own: ``torch.arange`` views that broadcast are enough.

Ties go to the first (lowest) index, and NaN counts as larger than everything, ``inf``
included (the first NaN wins). The helpers below follow PyTorch exactly in both cases.

>>> import torch
>>> x = torch.tensor([[3, 8, 1],
...                   [9, 2, 5]])
>>> argmax_coordinates(x)                 # the largest element, 9, is at row 1, column 0
tensor([1, 0])
>>> argmax_coordinates(x, dim=1)          # the largest of each row: (row, column) pairs
tensor([[0, 1],
        [1, 0]])
>>> max_along(x, dim=1)
tensor([8, 9])
>>> argmax_coordinates(torch.zeros(2, 0), dim=1)
Traceback (most recent call last):
...
ValueError: x.shape[1] is 0 (x shape (2, 0)): along dim 1 there is nothing to take the maximum of
"""

from __future__ import annotations

import torch

from snippets.validate import check_bool, check_dim, check_tensor, shape_str

__all__ = [
    "argmax_coordinates",
    "argmax_index",
    "argmax_over",
    "max_along",
    "nbytes",
    "storage_nbytes",
]


def _check_input(x: object, dim: int | None, op: str) -> int | None:
    """Validate ``x`` and ``dim`` for an argmax; return ``dim`` as ``0..n-1`` (or None)."""
    x = check_tensor(x, "x")
    if x.dtype == torch.bool or x.is_complex():
        got = str(x.dtype).removeprefix("torch.")
        hint = "; compare magnitudes with x.abs()" if x.is_complex() else " (use x.to(torch.uint8))"
        raise TypeError(
            f"{op} needs real numbers, but x is {got}: argmax does not order {got}{hint}"
        )
    if dim is None:
        if x.numel() == 0:
            raise ValueError(
                f"x of shape {shape_str(x.shape)} has no elements: an empty tensor has no maximum"
            )
        return None
    dim = check_dim(dim, x, tensor_name="x")
    if x.dim() > 0 and x.size(dim) == 0:
        raise ValueError(
            f"x.shape[{dim}] is 0 (x shape {shape_str(x.shape)}): along dim {dim} there is "
            "nothing to take the maximum of"
        )
    return dim


def _positions_along(x: torch.Tensor, dim: int) -> list[torch.Tensor]:
    """For each dim ``d != dim`` of ``x``: ``arange(x.size(d))`` as a view that broadcasts over
    the shape of ``x.argmax(dim)`` (size ``x.size(d)`` in its own place, 1 elsewhere)."""
    rest = [d for d in range(x.dim()) if d != dim]
    out = []
    for place, d in enumerate(rest):
        view = [1] * len(rest)
        view[place] = x.size(d)
        out.append(torch.arange(x.size(d), device=x.device).view(view))
    return out


def argmax_index(x: torch.Tensor, dim: int | None = None) -> tuple[torch.Tensor, ...]:
    """An index tuple with ``x[argmax_index(x, dim)] == x.max(dim).values``: one tensor per dim.

    With ``dim=None`` these are 0-d tensors: ``torch.unravel_index(x.argmax(), x.shape)``.
    With a ``dim``, the entry for ``dim`` is ``x.argmax(dim)`` and every other entry is an
    ``arange`` shaped to *broadcast* against it (``(N, 1, 1)``, ``(1, H, 1)``, ``(1, 1, W)`` for an
    ``(N, C, H, W)`` input and dim=1). Nothing is repeated: apart from the argmax itself, the
    tuple holds ``sum(x.shape) - x.shape[dim]`` numbers.

    >>> x = torch.tensor([[[1, 7], [4, 2]],
    ...                   [[6, 0], [3, 5]]])            # (C, H, W) = (2, 2, 2)
    >>> [tuple(t.shape) for t in argmax_index(x, dim=0)]
    [(2, 2), (2, 1), (1, 2)]
    >>> x[argmax_index(x, dim=0)]
    tensor([[6, 7],
            [4, 5]])
    >>> argmax_index(x)
    (tensor(0), tensor(0), tensor(1))
    """
    return _argmax_index(x, _check_input(x, dim, "argmax_index"))


def _argmax_index(x: torch.Tensor, dim: int | None) -> tuple[torch.Tensor, ...]:
    """``argmax_index`` for checked arguments (``dim`` None or in ``0 .. x.dim() - 1``)."""
    if dim is None:
        return torch.unravel_index(x.argmax(), x.shape)
    if x.dim() == 0:
        return ()
    positions = _positions_along(x, dim)
    return (*positions[:dim], x.argmax(dim), *positions[dim:])


def argmax_coordinates(x: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    """Full coordinates of the maximum, as int64.

    - ``dim=None``: the coordinates of the largest element, shape ``(x.dim(),)``;
    - a ``dim``: for every position of ``x.argmax(dim)``, the coordinates of the largest element
      of that row, shape ``(*x.shape without dim, x.dim())``. Each row of the result indexes
      ``x``: ``x[tuple(coords.unbind(-1))] == x.max(dim).values``.

    The coordinates are built from broadcast views (``argmax_index``) and written once into the
    result by ``torch.stack``: no index tensor is repeated along the way.

    Ties go to the first index and NaN counts as the maximum, as in ``torch.argmax``.

    >>> x = torch.tensor([[[1, 7], [4, 2]],
    ...                   [[6, 0], [3, 5]]])            # (C, H, W) = (2, 2, 2)
    >>> argmax_coordinates(x, dim=0)                      # (H, W, 3): rows are (c, h, w)
    tensor([[[1, 0, 0],
             [0, 0, 1]],
    <BLANKLINE>
            [[0, 1, 0],
             [1, 1, 1]]])
    >>> argmax_coordinates(x)
    tensor([0, 0, 1])
    >>> argmax_coordinates(x, dim=3)
    Traceback (most recent call last):
    ...
    IndexError: dim=3 is out of range for x of shape (2, 2, 2): valid dims are -3..2
    """
    d = _check_input(x, dim, "argmax_coordinates")
    if x.dim() == 0:  # a single value has no coordinates
        return torch.zeros(0, dtype=torch.int64, device=x.device)
    if d is None:
        return torch.stack(_argmax_index(x, None))
    index = _argmax_index(x, d)
    shape = index[d].shape  # the shape of x.argmax(d); the aranges broadcast to it
    return torch.stack([t.expand(shape) for t in index], dim=-1)


def argmax_over(x: torch.Tensor, dims: tuple[int, ...] | list[int]) -> torch.Tensor:
    """Coordinates, along several ``dims`` at once, of the first maximum: ``argmax`` over a tuple.

    ``x.argmax(dim)`` takes one dim; ``x.amax(dims)`` takes a tuple but gives the value only.
    This moves ``dims`` to the end (in the order given), flattens them into one dim, takes
    ``argmax`` there and splits the flat index with ``torch.unravel_index``. The result has the
    shape ``(*x.shape without dims, len(dims))``: for each position of the other dims, one
    coordinate per entry of ``dims``, in that order. "First" is in row-major order over ``dims``
    as given; NaN counts as the maximum, as in ``torch.argmax``.

    >>> t = torch.tensor([[[4, 9, 1], [9, 2, 3]],
    ...                   [[5, 0, 8], [7, 8, 6]]])       # (2, 2, 3)
    >>> argmax_over(t, (1, 2))                            # per t[a]: (row, column) of its max
    tensor([[0, 1],
            [0, 2]])
    >>> t.amax(dim=(1, 2))
    tensor([9, 8])
    >>> argmax_over(t, (0, 2))                            # per row index: (a, column)
    tensor([[0, 1],
            [0, 0]])
    >>> argmax_over(t, 1)
    Traceback (most recent call last):
    ...
    TypeError: dims must be a tuple or list of ints, got int (for one dim use x.argmax(dim))
    """
    x = check_tensor(x, "x")
    if isinstance(dims, list):
        dims = tuple(dims)
    if not isinstance(dims, tuple):
        hint = " (for one dim use x.argmax(dim))" if isinstance(dims, int) else ""
        raise TypeError(f"dims must be a tuple or list of ints, got {type(dims).__name__}{hint}")
    if x.dtype == torch.bool or x.is_complex():
        _check_input(x, None, "argmax_over")  # the same TypeError as the other helpers
    if not dims:
        raise ValueError("dims is empty: name at least one dim to take the maximum over")
    if x.dim() == 0:
        raise ValueError(f"x is 0-d: it has no dims {dims} to take the maximum over")
    ds = [check_dim(d, x, name=f"dims[{i}]", tensor_name="x") for i, d in enumerate(dims)]
    if len(set(ds)) != len(ds):
        raise ValueError(f"dims {dims} name the same dim of x (shape {shape_str(x.shape)}) twice")
    for d in ds:
        if x.size(d) == 0:
            raise ValueError(
                f"x.shape[{d}] is 0 (x shape {shape_str(x.shape)}): over dims {dims} there is "
                "nothing to take the maximum of"
            )
    n = len(ds)
    moved = x.movedim(ds, list(range(x.dim() - n, x.dim())))
    flat = moved.flatten(x.dim() - n).argmax(dim=-1)
    return torch.stack(torch.unravel_index(flat, moved.shape[x.dim() - n :]), dim=-1)


def max_along(x: torch.Tensor, dim: int, keepdim: bool = False) -> torch.Tensor:
    """The maximum of ``x`` along ``dim``, read back at ``x.argmax(dim, keepdim=True)``.

    The same values as ``x.max(dim).values`` (NaN included), written as ``gather`` with the
    kept dim: ``argmax(dim, keepdim=True)`` has as many dims as ``x``, which is what
    ``gather`` and ``take_along_dim`` need.

    >>> x = torch.tensor([[3, 8, 1],
    ...                   [9, 2, 5]])
    >>> max_along(x, dim=0)
    tensor([9, 8, 5])
    >>> max_along(x, dim=-1, keepdim=True)
    tensor([[8],
            [9]])
    """
    d = _check_input(x, dim, "max_along")
    check_bool(keepdim, "keepdim")
    if x.dim() == 0:
        return x.clone()
    values = x.gather(d, x.argmax(d, keepdim=True))
    return values if keepdim else values.squeeze(d)


def nbytes(*tensors: torch.Tensor) -> int:
    """Bytes of the elements the tensors show: ``sum(t.numel() * t.element_size())``.

    A stride-0 view (``expand``) counts every element it shows, as if it were materialised;
    ``storage_nbytes`` counts the memory really behind it.

    >>> nbytes(torch.zeros(2, 3, dtype=torch.int64), torch.zeros(4, dtype=torch.float32))
    64
    """
    for i, t in enumerate(tensors):
        check_tensor(t, f"tensors[{i}]")
    return sum(t.numel() * t.element_size() for t in tensors)


def storage_nbytes(*tensors: torch.Tensor) -> int:
    """Bytes of memory behind the tensors: each distinct storage counted once.

    On the ``meta`` device, where nothing is allocated, it is the memory the same tensors would
    take on a real device.

    >>> a = torch.arange(5)
    >>> storage_nbytes(a.view(1, 5).expand(1000, 5)), nbytes(a.view(1, 5).expand(1000, 5))
    (40, 40000)
    >>> storage_nbytes(a, a[1:], a.clone())           # a view shares a's storage; a clone does not
    80
    """
    seen: dict[tuple[str, int], int] = {}
    for i, t in enumerate(tensors):
        check_tensor(t, f"tensors[{i}]")
        storage = t.untyped_storage()
        # a meta tensor has no memory, so every one has the address 0: tell them apart by
        # their storage object (a view shares its base's)
        seen[(str(t.device), storage.data_ptr() or storage._cdata)] = storage.nbytes()
    return sum(seen.values())
