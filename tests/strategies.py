"""Hypothesis strategies for tensors and index arguments, shared by the test modules.

Every strategy draws shapes that include empty sizes, draws dims that may be negative, and
builds tensors on the CPU from a drawn seed before moving them to ``DEVICE``, in one of three
layouts: contiguous, non-contiguous (a permuted or strided view) or expanded (stride 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from snippets.device import DEVICE

LAYOUTS = ("contiguous", "permuted", "strided", "expanded")
INDEX_DTYPES = (torch.int64, torch.int32)


def sizes(*, max_side: int = 4, allow_empty: bool = True) -> st.SearchStrategy[int]:
    return st.integers(0 if allow_empty else 1, max_side)


def shapes(
    *, min_dims: int = 1, max_dims: int = 4, max_side: int = 4, allow_empty: bool = True
) -> st.SearchStrategy[tuple[int, ...]]:
    return st.lists(
        sizes(max_side=max_side, allow_empty=allow_empty), min_size=min_dims, max_size=max_dims
    ).map(tuple)


def _generator(seed: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


def make_tensor(
    shape: tuple[int, ...], layout: str, seed: int, *, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """A tensor of ``shape`` with the given memory layout, values from ``seed``, on DEVICE."""
    gen = _generator(seed)

    def values(s: tuple[int, ...]) -> torch.Tensor:
        if dtype.is_floating_point:
            return torch.randn(s, generator=gen, dtype=dtype)
        return torch.randint(-50, 50, s, generator=gen, dtype=dtype)

    n = len(shape)
    if layout == "permuted" and n >= 2:
        order = list(range(n))[::-1]  # store reversed, view back: same shape, other strides
        t = values(tuple(shape[i] for i in order)).permute(*order)
    elif layout == "strided" and n >= 1:
        t = values((*shape[:-1], shape[-1] * 2))[..., ::2]
    elif layout == "expanded" and n >= 1:
        t = values((*shape[:-1], 1)).expand(*shape)
    else:
        t = values(shape)
    assert tuple(t.shape) == tuple(shape)
    return t.to(DEVICE) if DEVICE.type == "cpu" else _to_device_keep_layout(t)


def _to_device_keep_layout(t: torch.Tensor) -> torch.Tensor:
    """``.to(device)`` makes a contiguous copy of a view; rebuild the same view on the device."""
    if t.is_contiguous():
        return t.to(DEVICE)
    storage = t.as_strided((t.untyped_storage().nbytes() // t.element_size(),), (1,), 0)
    moved = storage.to(DEVICE)
    return moved.as_strided(t.shape, t.stride(), t.storage_offset())


@dataclass
class GatherCase:
    input: torch.Tensor
    dim: int
    index: torch.Tensor

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return (
            f"GatherCase(input shape={tuple(self.input.shape)} strides={self.input.stride()}, "
            f"dim={self.dim}, index shape={tuple(self.index.shape)} "
            f"dtype={self.index.dtype} strides={self.index.stride()}, "
            f"index={self.index.cpu().tolist()})"
        )


@st.composite
def gather_cases(
    draw, *, max_dims: int = 4, max_side: int = 4, zero_dim: bool = True
) -> GatherCase:
    """Valid arguments for ``torch.gather``: any layout, negative dims, empty sizes, and (with
    ``zero_dim``) 0-d tensors, which gather counts as 1-d with one element, on either side."""
    in_shape = draw(shapes(min_dims=0 if zero_dim else 1, max_dims=max_dims, max_side=max_side))
    eff_shape = in_shape or (1,)  # a 0-d input counts as (1,)
    ndim = len(eff_shape)
    dim = draw(st.integers(-ndim, ndim - 1))
    d = dim % ndim
    idx_shape = []
    for k, size in enumerate(eff_shape):
        if k == d:
            idx_shape.append(draw(st.integers(0, max_side + 2)))
        else:
            idx_shape.append(draw(st.integers(0, size)))
    if eff_shape[d] == 0:  # no valid index value: the index must be empty
        idx_shape[d] = 0
    if zero_dim and idx_shape == [1] and draw(st.booleans()):
        idx_shape = []  # a 0-d index counts as (1,)
    seed = draw(st.integers(0, 2**31 - 1))
    layout = draw(st.sampled_from(LAYOUTS))
    x = make_tensor(in_shape, layout, seed)
    dtype = draw(st.sampled_from(INDEX_DTYPES))
    high = max(eff_shape[d], 1)
    index = torch.randint(0, high, tuple(idx_shape), generator=_generator(seed + 1), dtype=dtype)
    if draw(st.booleans()) and len(idx_shape) >= 1 and idx_shape[-1] > 0:
        # an expanded index (stride 0), as produced by unsqueeze(-1).expand(...)
        index = index[..., :1].expand(*idx_shape)
    return GatherCase(x, dim, index.to(DEVICE))
