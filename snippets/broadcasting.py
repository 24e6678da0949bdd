"""Broadcasting, explained step by step, and the masks it builds.

The rule, for any number of shapes:

1. write the shapes one under the other, **aligned from the right**;
2. a shape that is too short gets **1** in the missing (leading) dims;
3. in each dim the sizes must be **equal or 1**: the 1s are stretched to the other size.

``explain_broadcast`` applies the rule in front of you: the aligned table, what happens in each
dim, and the result shape, or the exact dim that fails and why. ``causal_mask``,
``triangular_mask`` and ``band_mask`` build masks by comparing a column of row numbers with a
row of column numbers, the most common use of broadcasting there is.

>>> explain_broadcast((3, 1), (4,))
dim        -2  -1
a  (3, 1)   3   1
b    (4,)   -   4
result      3   4
dim -2 -> 3: b has no dim here (counts as 1) and is stretched
dim -1 -> 4: a stretches 1 to 4
result shape: (3, 4)
>>> causal_mask(3).int()
tensor([[1, 0, 0],
        [1, 1, 0],
        [1, 1, 1]], dtype=torch.int32)
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from snippets.validate import check_bool, check_int, is_int, shape_str

__all__ = [
    "band_mask",
    "causal_mask",
    "checked_broadcast_shapes",
    "explain_broadcast",
    "triangular_mask",
]

ShapeLike = torch.Size | Sequence[int] | torch.Tensor | int
MISSING = "-"  # a dim a shape does not have (it counts as 1)
FAILED = "X"  # a dim in which the sizes cannot be broadcast
# The table is plain ASCII: it is also the text of an exception, and Pygments' traceback lexer
# (which renders error outputs in the book) cannot read other characters there.


def _default_names(n: int) -> tuple[str, ...]:
    letters = string.ascii_lowercase
    return tuple(letters[i] if i < len(letters) else f"s{i}" for i in range(n))


def _as_shape(value: object, position: int, name: str) -> tuple[int, ...]:
    """A tuple of non-negative ints from a shape, a tensor (its shape) or an int (one dim)."""
    if isinstance(value, torch.Tensor):
        return tuple(value.shape)
    if is_int(value):
        value = (value,)
    if not isinstance(value, (tuple, list, torch.Size)):
        raise TypeError(
            f"shape {position} ({name}) must be a tuple of ints, a torch.Size, a tensor or an "
            f"int, got {type(value).__name__}"
        )
    for d, size in enumerate(value):
        if not is_int(size):
            raise TypeError(
                f"shape {position} ({name}) = {tuple(value)!r} has a {type(size).__name__} at "
                f"dim {d}; sizes must be ints"
            )
        if size < 0:
            raise ValueError(
                f"shape {position} ({name}) = {shape_str(value)} has the negative size {size} "
                f"at dim {d}; sizes must be >= 0"
            )
    return tuple(value)


def _join(names: Sequence[str]) -> str:
    return ", ".join(names)


@dataclass(frozen=True)
class _DimStep:
    """What the rule does in one dim (counted from the right: -1 is the last dim).

    ``sizes`` holds each shape's size there, or None where the shape has no such dim;
    ``result`` is the broadcast size, or None when the sizes conflict.
    """

    dim: int
    sizes: tuple[int | None, ...]
    result: int | None
    note: str

    @property
    def ok(self) -> bool:
        return self.result is not None


def _step(dim: int, sizes: tuple[int | None, ...], names: tuple[str, ...]) -> _DimStep:
    present = [s for s in sizes if s is not None]
    big = sorted({s for s in present if s != 1})
    if len(big) > 1:
        has = ", ".join(f"{n} has {s}" for n, s in zip(names, sizes, strict=True) if s is not None)
        differ = ", ".join(map(str, big[:-1])) + f" and {big[-1]}"
        nobody = "neither is 1" if len(big) == 2 else "none of them is 1"
        return _DimStep(dim, sizes, None, f"dim {dim} fails: {has}; {differ} differ and {nobody}")
    target = big[0] if big else 1
    missing = [n for n, s in zip(names, sizes, strict=True) if s is None]
    ones = [n for n, s in zip(names, sizes, strict=True) if s == 1] if target != 1 else []
    parts = []
    if ones:
        parts.append(f"{_join(ones)} {'stretches' if len(ones) == 1 else 'stretch'} 1 to {target}")
    if missing:
        verb = "has" if len(missing) == 1 else "have"
        counts = "counts" if len(missing) == 1 else "count"
        tail = " and is stretched" if len(missing) == 1 else " and are stretched"
        parts.append(
            f"{_join(missing)} {verb} no dim here ({counts} as 1)" + (tail if target != 1 else "")
        )
    if not parts:
        parts.append(f"all sizes are {target}" if len(present) > 1 else f"only {target}")
    return _DimStep(dim, sizes, target, f"dim {dim} -> {target}: " + "; ".join(parts))


@dataclass(frozen=True, repr=False)
class _BroadcastExplanation:
    """The broadcast rule applied to some shapes: the aligned table, step by step.

    ``result`` is the broadcast shape, or None when the shapes do not broadcast; then
    ``failing_dim`` is the rightmost dim that fails (negative: counted from the right, the way
    the shapes are aligned), and ``conflicts`` lists every failing dim.
    Printing it (or its repr, in a notebook) shows the table and the verdict.
    """

    shapes: tuple[tuple[int, ...], ...]
    names: tuple[str, ...]
    steps: tuple[_DimStep, ...]

    @property
    def ndim(self) -> int:
        """The number of dims of the result: that of the longest shape."""
        return len(self.steps)

    @property
    def ok(self) -> bool:
        """Whether the shapes broadcast."""
        return all(step.ok for step in self.steps)

    @property
    def result(self) -> tuple[int, ...] | None:
        """The broadcast shape, or None when the shapes do not broadcast."""
        if not self.ok:
            return None
        return tuple(int(step.result) for step in self.steps)  # type: ignore[arg-type]

    @property
    def conflicts(self) -> tuple[int, ...]:
        """Every failing dim, counted from the right (-1 is the last), left to right."""
        return tuple(step.dim for step in self.steps if not step.ok)

    @property
    def failing_dim(self) -> int | None:
        """The rightmost failing dim (negative), the one PyTorch names for two tensors."""
        return self.conflicts[-1] if self.conflicts else None

    def result_dim(self, dim: int) -> int:
        """A dim counted from the right, as a dim of the result (``ndim + dim``): the number
        PyTorch prints in "at non-singleton dimension ..."."""
        if not -self.ndim <= dim < 0:
            raise IndexError(f"dim={dim} is not one of the dims -{self.ndim}..-1")
        return self.ndim + dim

    @property
    def reason(self) -> str:
        """One sentence: the result shape, or why the shapes do not broadcast."""
        if self.ok:
            return f"result shape: {shape_str(self.result or ())}"
        step = self.steps[self.failing_dim]  # type: ignore[index]
        sizes = ", ".join(
            f"{n} has {s}" for n, s in zip(self.names, step.sizes, strict=True) if s is not None
        )
        where = f"dim {step.dim} (dim {self.result_dim(step.dim)} of the result)"
        return (
            f"cannot broadcast: at {where} {sizes}; sizes must be equal or 1 "
            "(aligned from the right)"
        )

    @property
    def table(self) -> str:
        """The shapes aligned from the right, one row per shape, and the result row."""
        shape_texts = [shape_str(s) for s in self.shapes]
        name_w = max([len(n) for n in self.names], default=0)
        shape_w = max([len(t) for t in shape_texts], default=0)
        labels = [
            f"{n.ljust(name_w)}  {t.rjust(shape_w)}"
            for n, t in zip(self.names, shape_texts, strict=True)
        ]
        label_w = max([len(x) for x in labels] + [len("result")])
        rows = [[str(step.dim) for step in self.steps]]
        rows += [
            [MISSING if step.sizes[k] is None else str(step.sizes[k]) for step in self.steps]
            for k in range(len(self.shapes))
        ]
        rows.append([FAILED if step.result is None else str(step.result) for step in self.steps])
        col_w = max([2] + [len(c) for row in rows for c in row])
        lines = [
            (label.ljust(label_w) + "".join(c.rjust(col_w + 2) for c in row)).rstrip()
            for label, row in zip(["dim", *labels, "result"], rows, strict=True)
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return "\n".join([self.table, *(step.note for step in self.steps), self.reason])

    def __repr__(self) -> str:
        return str(self)


def explain_broadcast(
    *shapes: ShapeLike, names: Sequence[str] | None = None
) -> _BroadcastExplanation:
    """Apply the broadcast rule to ``shapes`` and say, dim by dim, what happens.

    Each shape may be a tuple or list of ints, a ``torch.Size``, a tensor (its shape is used) or
    an int (one dim), as in ``torch.broadcast_shapes``. ``names`` labels the shapes (default
    ``a``, ``b``, ``c``, ...: the names PyTorch's own message uses for two tensors).
    Shapes that do not broadcast are not an error here: the explanation says which dim fails.
    Use ``checked_broadcast_shapes`` to raise instead.

    The explanation prints as the aligned table, one line per dim and the verdict. ``.ok`` says
    whether the shapes broadcast; ``.result`` is the broadcast shape, or None; ``.failing_dim``
    is the rightmost dim that fails, counted from the right (negative, the way the shapes are
    aligned), and ``.conflicts`` lists every failing dim; ``.result_dim(d)`` turns such a dim
    into a dim of the result (the number PyTorch's message prints); ``.reason`` is the verdict.

    >>> e = explain_broadcast((2, 3), (2,))
    >>> e.ok, e.failing_dim, e.result_dim(-1)
    (False, -1, 1)
    >>> print(e)
    dim        -2  -1
    a  (2, 3)   2   3
    b    (2,)   -   2
    result      2   X
    dim -2 -> 2: b has no dim here (counts as 1) and is stretched
    dim -1 fails: a has 3, b has 2; 2 and 3 differ and neither is 1
    cannot broadcast: at dim -1 (dim 1 of the result) a has 3, b has 2; sizes must be equal or 1 (aligned from the right)
    >>> explain_broadcast((8, 1, 6, 1), (7, 1, 5), (1,)).result
    (8, 7, 6, 5)
    """
    if names is None:
        names = _default_names(len(shapes))
    else:
        names = tuple(names)
        if len(names) != len(shapes) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"names must be {len(shapes)} strings, one per shape, got {names!r}")
    parsed = tuple(_as_shape(s, k, n) for k, (s, n) in enumerate(zip(shapes, names, strict=True)))
    ndim = max((len(s) for s in parsed), default=0)
    steps = []
    for dim in range(-ndim, 0):
        sizes = tuple(s[dim] if len(s) >= -dim else None for s in parsed)
        steps.append(_step(dim, sizes, tuple(names)))
    return _BroadcastExplanation(parsed, tuple(names), tuple(steps))


def checked_broadcast_shapes(*shapes: ShapeLike, names: Sequence[str] | None = None) -> torch.Size:
    """``torch.broadcast_shapes(*shapes)``, or a ValueError that shows the aligned table and
    names the failing dim and the sizes there.

    >>> checked_broadcast_shapes((5, 1, 3), (4, 3))
    torch.Size([5, 4, 3])
    >>> checked_broadcast_shapes((2, 3, 4), (5, 4), names=("x", "y"))
    Traceback (most recent call last):
    ...
    ValueError: cannot broadcast: at dim -2 (dim 1 of the result) x has 3, y has 5; sizes must be equal or 1 (aligned from the right)
    ...
    """
    explanation = explain_broadcast(*shapes, names=names)
    if not explanation.ok:
        raise ValueError(f"{explanation.reason}\n{explanation}")
    return torch.Size(explanation.result or ())


def _broadcast_sources(
    shape: ShapeLike, out_shape: ShapeLike, *, device: torch.device | str | None = None
) -> torch.Tensor:
    """For every position ``p`` of a result of ``out_shape``, the position of the element of an
    operand of ``shape`` that broadcasting reads there.

    Returns an int64 tensor of shape ``(*out_shape, len(shape))``. The rule: keep the last
    ``len(shape)`` coordinates of ``p`` (the missing leading dims are dropped), then put 0 in
    every dim where ``shape`` has size 1.

    >>> _broadcast_sources((3, 1), (2, 3, 4))[1, 2, 3].tolist()
    [2, 0]
    >>> _broadcast_sources((2,), (3,))
    Traceback (most recent call last):
    ...
    ValueError: shape (2,) cannot be broadcast to (3,): at dim -1 it has 2, not 1 or 3
    """
    src = _as_shape(shape, 0, "shape")
    out = _as_shape(out_shape, 1, "out_shape")
    device = _check_device(device)
    if len(src) > len(out):
        raise ValueError(
            f"shape {shape_str(src)} has more dims than out_shape {shape_str(out)}: broadcasting "
            "only adds dims on the left"
        )
    offset = len(out) - len(src)
    for k, size in enumerate(src):
        if size not in (1, out[offset + k]):
            raise ValueError(
                f"shape {shape_str(src)} cannot be broadcast to {shape_str(out)}: at dim "
                f"{k - len(src)} it has {size}, not 1 or {out[offset + k]}"
            )
    coords = []
    for k, size in enumerate(src):
        n = out[offset + k]
        if size == 1:
            axis = torch.zeros(n, dtype=torch.int64, device=device)
        else:
            axis = torch.arange(n, dtype=torch.int64, device=device)
        view = [1] * len(out)
        view[offset + k] = n
        coords.append(axis.view(view).expand(out))
    if not coords:
        return torch.zeros((*out, 0), dtype=torch.int64, device=device)
    return torch.stack(coords, dim=-1)


# --- masks from arange comparisons ---------------------------------------------------------


def _int64(value: object, name: str, *, minimum: int | None = None) -> int:
    """``check_int``, and small enough for the int64 arange it is compared with."""
    value = check_int(value, name, minimum=minimum)
    if not -(2**63) < value < 2**63:
        raise ValueError(f"{name}={value} does not fit in an int64")
    return value


def _check_device(device: object) -> torch.device | None:
    """``device`` as a ``torch.device`` (None stays None), or an error naming the argument."""
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)) or isinstance(device, bool):
        raise TypeError(f"device must be a str or a torch.device, got {type(device).__name__}")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device={device!r} is not a device: {err}") from None


def _offsets(rows: int, cols: int, device: torch.device | str | None) -> torch.Tensor:
    """``j - i`` for every (i, j): a column of row numbers against a row of column numbers."""
    i = torch.arange(rows, device=device).unsqueeze(1)  # (rows, 1)
    j = torch.arange(cols, device=device)  # (cols,)  -> broadcasts to (rows, cols)
    return j - i


def triangular_mask(
    rows: int,
    cols: int | None = None,
    *,
    diagonal: int = 0,
    upper: bool = True,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A (rows, cols) bool mask: True where ``j - i >= diagonal`` (``upper``) or
    ``j - i <= diagonal`` (lower). The same as ``torch.triu`` / ``torch.tril`` of ones, with the
    same meaning of ``diagonal`` (0 is the main diagonal, positive is above it).

    >>> triangular_mask(2, 3, diagonal=1).int()
    tensor([[0, 1, 1],
            [0, 0, 1]], dtype=torch.int32)
    >>> torch.equal(triangular_mask(4, upper=False), torch.tril(torch.ones(4, 4)).bool())
    True
    """
    rows = _int64(rows, "rows", minimum=0)
    cols = rows if cols is None else _int64(cols, "cols", minimum=0)
    diagonal = _int64(diagonal, "diagonal")
    check_bool(upper, "upper")
    offsets = _offsets(rows, cols, _check_device(device))
    return offsets >= diagonal if upper else offsets <= diagonal


def causal_mask(n: int, *, device: torch.device | str | None = None) -> torch.Tensor:
    """The (n, n) causal attention mask, **True where attention is allowed**: query ``i`` may
    look at key ``j`` when ``j <= i`` (the lower triangle). This is the convention of
    ``F.scaled_dot_product_attention``'s boolean ``attn_mask``; ``nn.MultiheadAttention`` uses
    the opposite one (True = blocked), so pass ``~causal_mask(n)`` there.

    >>> torch.equal(causal_mask(5), torch.tril(torch.ones(5, 5, dtype=torch.bool)))
    True
    """
    n = _int64(n, "n", minimum=0)
    return triangular_mask(n, diagonal=0, upper=False, device=device)


def band_mask(
    n: int, below: int, above: int, *, device: torch.device | str | None = None
) -> torch.Tensor:
    """An (n, n) bool mask, True where ``-below <= j - i <= above``: ``below`` diagonals under
    the main one, the main one, and ``above`` diagonals over it (a sliding attention window when
    ``above == 0``). Equal to ``triu(ones, -below) & tril(ones, above)``.

    >>> band_mask(4, 1, 0).int()
    tensor([[1, 0, 0, 0],
            [1, 1, 0, 0],
            [0, 1, 1, 0],
            [0, 0, 1, 1]], dtype=torch.int32)
    """
    n = _int64(n, "n", minimum=0)
    below = _int64(below, "below")
    above = _int64(above, "above")
    offsets = _offsets(n, n, _check_device(device))
    return (offsets >= -below) & (offsets <= above)
