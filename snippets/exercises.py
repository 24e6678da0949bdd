"""Auto-checked exercises: your function against a loop reference, on random cases.

Each exercise has a name, the signature you implement, a loop-based reference from
``snippets.reference`` and a generator of random cases (empty sizes and non-contiguous inputs
included). ``check(your_function, "name")`` runs both on every case and stops at the first
difference, saying which case failed and why: the argument shapes, then expected vs actual.

>>> import torch
>>> check(lambda x, rows: x.gather(0, rows.unsqueeze(0)).squeeze(0), "pick_per_column")
✓ pick_per_column: all 100 random cases match the reference.
>>> check(lambda x, rows: x[rows, 0], "pick_per_column")
Traceback (most recent call last):
...
snippets.exercises.ExerciseFailed: pick_per_column failed on case 1 of 100 ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from snippets import reference
from snippets.device import DEVICE
from snippets.validate import shape_str

__all__ = ["EXERCISES", "Exercise", "ExerciseFailed", "check", "register"]

Case = tuple[Any, ...]


class ExerciseFailed(AssertionError):
    """Raised by ``check`` with a message that names the failing case."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: what to implement, how to check it."""

    name: str
    signature: str
    reference: Callable[..., Any]
    make_case: Callable[[torch.Generator], Case]
    arg_names: tuple[str, ...]
    n_cases: int = 100
    atol: float = 1e-5


EXERCISES: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add ``exercise`` to ``EXERCISES`` (names are unique across the book)."""
    if exercise.name in EXERCISES:
        raise ValueError(f"an exercise named {exercise.name!r} is already registered")
    EXERCISES[exercise.name] = exercise
    return exercise


def _describe(name: str, value: Any) -> str:
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        layout = "" if value.is_contiguous() else ", non-contiguous"
        text = f"{name}: {dtype} {shape_str(value.shape)}{layout}"
        if value.numel() <= 12:
            text += f" = {value.cpu().tolist()}"
        return text
    return f"{name} = {value!r}"


def _difference(expected: Any, actual: Any, atol: float) -> str | None:
    """Why ``actual`` is not ``expected``, or None when they match."""
    if not isinstance(actual, torch.Tensor):
        return f"expected a tensor, got {type(actual).__name__}"
    if actual.shape != expected.shape:
        return f"expected shape {shape_str(expected.shape)}, got shape {shape_str(actual.shape)}"
    if actual.dtype != expected.dtype:
        return f"expected dtype {expected.dtype}, got {actual.dtype}"
    if actual.device != expected.device:
        return f"expected a tensor on {expected.device}, got one on {actual.device}"
    exp, act = expected.cpu(), actual.cpu()
    if exp.is_floating_point():
        close = torch.isclose(act, exp, atol=atol, rtol=1e-5, equal_nan=True)
    else:
        close = act == exp
    if bool(close.all()):
        return None
    where = tuple(int(i) for i in (~close).nonzero()[0].tolist())
    return f"first difference at position {where}: expected {exp[where].item()}, got {act[where].item()}"


def check(
    solution: Callable[..., Any], exercise: str, *, n_cases: int | None = None, seed: int = 0
) -> None:
    """Run ``solution`` and the exercise's reference on random cases; raise on the first miss.

    Cases are made on the CPU from a generator seeded with ``seed`` and moved to ``DEVICE``,
    so a failure names a case that you can rebuild and inspect.
    """
    if exercise not in EXERCISES:
        raise KeyError(f"no exercise named {exercise!r}; the exercises are {sorted(EXERCISES)}")
    ex = EXERCISES[exercise]
    total = ex.n_cases if n_cases is None else n_cases
    gen = torch.Generator(device="cpu").manual_seed(seed)
    for number in range(1, total + 1):
        args = tuple(a.to(DEVICE) if isinstance(a, torch.Tensor) else a for a in ex.make_case(gen))
        described = "\n".join(
            "  " + _describe(n, a) for n, a in zip(ex.arg_names, args, strict=True)
        )
        header = f"{ex.name} failed on case {number} of {total} (seed {seed}) with\n{described}\n"
        expected = ex.reference(*args)
        try:
            actual = solution(*(a.clone() if isinstance(a, torch.Tensor) else a for a in args))
        except Exception as err:  # the reader's code: report any error with the case
            raise ExerciseFailed(
                f"{header}your function raised {type(err).__name__}: {err}"
            ) from err
        problem = _difference(expected, actual, ex.atol)
        if problem is not None:
            raise ExerciseFailed(f"{header}{problem}\n(signature: {ex.signature})")
    print(f"✓ {ex.name}: all {total} random cases match the reference.")


# ---------------------------------------------------------------------------------------------
# Case generators shared by the chapters. Every generator draws from the CPU generator it is
# given, so a case number and a seed always rebuild the same case.


def _sizes(gen: torch.Generator, n: int, high: int, *, allow_empty: bool = True) -> list[int]:
    low = 0 if allow_empty else 1
    return [int(v) for v in torch.randint(low, high + 1, (n,), generator=gen)]


def _maybe_transposed(gen: torch.Generator, rows: int, cols: int) -> torch.Tensor:
    """A (rows, cols) float tensor that is non-contiguous half of the time."""
    if int(torch.randint(0, 2, (1,), generator=gen)):
        return torch.randn(cols, rows, generator=gen).t()
    return torch.randn(rows, cols, generator=gen)


def _pick_case(gen: torch.Generator) -> Case:
    n, m = _sizes(gen, 2, 6)
    n = max(n, 1) if m else n  # every column needs a row to pick
    x = _maybe_transposed(gen, n, m)
    rows = torch.randint(0, max(n, 1), (m,), generator=gen)
    return x, rows


def _sequence_case(gen: torch.Generator) -> Case:
    b, t = _sizes(gen, 2, 5)
    v = _sizes(gen, 1, 6, allow_empty=False)[0]
    logits = 3 * torch.randn(b, t, v, generator=gen)
    tokens = torch.randint(0, v, (b, t), generator=gen)
    mask = torch.rand(b, t, generator=gen) < 0.8
    return logits, tokens, mask


def _patches_case(gen: torch.Generator) -> Case:
    b, n, d = _sizes(gen, 3, 5)
    n = max(n, 1)
    k = _sizes(gen, 1, 6)[0]
    patches = torch.randn(b, n, d, generator=gen)
    if int(torch.randint(0, 2, (1,), generator=gen)):
        patches = torch.randn(b, d, n, generator=gen).transpose(1, 2)
    idx = torch.randint(0, n, (b, k), generator=gen)
    return patches, idx


# ---------------------------------------------------------------------------------------------
# Chapter 1: gather

register(
    Exercise(
        name="pick_per_column",
        signature="pick_per_column(x: (N, M) tensor, rows: (M,) int64) -> (M,)",
        reference=reference.pick_per_column,
        make_case=_pick_case,
        arg_names=("x", "rows"),
    )
)
register(
    Exercise(
        name="sequence_logprob",
        signature="sequence_logprob(logits: (B, T, V), tokens: (B, T) int64, mask: (B, T) bool) -> (B,)",
        reference=reference.sequence_logprob,
        make_case=_sequence_case,
        arg_names=("logits", "tokens", "mask"),
        atol=1e-4,
    )
)
register(
    Exercise(
        name="select_patches",
        signature="select_patches(patches: (B, N, D), idx: (B, K) int64) -> (B, K, D)",
        reference=reference.select_patches,
        make_case=_patches_case,
        arg_names=("patches", "idx"),
    )
)
