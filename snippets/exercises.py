"""Auto-checked exercises: your function against a loop reference, on random cases.

Each exercise has a name, the signature you implement, a loop-based reference from
``snippets.reference`` (the function of the exercise's name) and a generator of random cases
(empty sizes and non-contiguous inputs included). ``check(your_function, "name")`` runs both on
every case and stops at the first difference, saying which case failed and why: the argument
shapes, then expected vs actual.

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

from snippets.device import DEVICE
from snippets.validate import check_int, shape_str

__all__ = ["ExerciseFailed", "check"]

# This module is the checking machinery: check and the ExerciseFailed it raises are public;
# Exercise, register and EXERCISES are what snippets.exercise_catalogue (the exercises
# themselves, in chapter order) uses to add one.

Case = tuple[Any, ...]


class ExerciseFailed(AssertionError):
    """Raised by ``check`` with a message that names the failing case.

    >>> try:
    ...     check(lambda x, rows: x[rows, 0], "pick_per_column")  # reads column 0 only
    ... except ExerciseFailed as failure:
    ...     print(str(failure).splitlines()[0])
    pick_per_column failed on case 1 of 100 (seed 0) with
    >>> issubclass(ExerciseFailed, AssertionError)
    True
    """


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
    # An extra requirement on the answer beyond its values, e.g. "no grad history":
    # verify(arguments given to the solution, its result) -> why it fails, or None.
    verify: Callable[[Case, Any], str | None] | None = None


EXERCISES: dict[str, Exercise] = {}


def register(exercise: Exercise) -> Exercise:
    """Add ``exercise`` to ``EXERCISES`` (names are unique across the book)."""
    if exercise.name in EXERCISES:
        raise ValueError(f"an exercise named {exercise.name!r} is already registered")
    EXERCISES[exercise.name] = exercise
    return exercise


def _values(values: Any) -> str:
    """Nested lists as Python writes them, floats with 4 decimals (as PyTorch prints them)."""
    if isinstance(values, list):
        return "[" + ", ".join(_values(v) for v in values) + "]"
    if isinstance(values, float):
        return f"{values:.4f}"
    return repr(values)


def _describe(name: str, value: Any) -> str:
    """``name: dtype shape``, and the values of a small tensor.

    >>> print(_describe("x", torch.tensor([[0.123456, 2.0]])))
    x: float32 (1, 2) = [[0.1235, 2.0000]]
    """
    if isinstance(value, torch.Tensor):
        dtype = str(value.dtype).removeprefix("torch.")
        layout = "" if value.is_contiguous() else ", non-contiguous"
        text = f"{name}: {dtype} {shape_str(value.shape)}{layout}"
        if value.numel() <= 12:
            text += f" = {_values(value.cpu().tolist())}"
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
    so a failure names a case that you can rebuild and inspect. A stub that still raises
    ``NotImplementedError`` is not a failure but work not done yet: ``check`` prints "not yet"
    with the first case and returns, so "Run all" carries on past an unfinished exercise.

    >>> def pick_per_column(x, rows):
    ...     raise NotImplementedError("your code here")
    >>> check(pick_per_column, "pick_per_column", n_cases=3)  # doctest: +ELLIPSIS
    … pick_per_column: not yet. Your function raised NotImplementedError on case 1 of 3 (seed 0):
    ...
    >>> check(pick_per_column, "pick_per_column", n_cases=0)
    Traceback (most recent call last):
    ...
    ValueError: n_cases must be an int >= 1, got 0
    """
    if exercise not in EXERCISES:
        raise KeyError(f"no exercise named {exercise!r}; the exercises are {sorted(EXERCISES)}")
    ex = EXERCISES[exercise]
    total = check_int(ex.n_cases if n_cases is None else n_cases, "n_cases", minimum=1)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    passed = 0
    for number in range(1, total + 1):
        args = tuple(a.to(DEVICE) if isinstance(a, torch.Tensor) else a for a in ex.make_case(gen))
        described = "\n".join(
            "  " + _describe(n, a) for n, a in zip(ex.arg_names, args, strict=True)
        )
        header = f"{ex.name} failed on case {number} of {total} (seed {seed}) with\n{described}\n"
        expected = ex.reference(*args)
        given = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)
        try:
            actual = solution(*given)
        except NotImplementedError:
            print(
                f"… {ex.name}: not yet. Your function raised NotImplementedError on case "
                f"{number} of {total} (seed {seed}):\n{described}\n"
                f"Write it (signature: {ex.signature}), then run this cell again."
            )
            return
        except Exception as err:  # the reader's code: report any error with the case
            raise ExerciseFailed(
                f"{header}your function raised {type(err).__name__}: {err}"
            ) from err
        problem = _difference(expected, actual, ex.atol)
        if problem is None and ex.verify is not None:
            problem = ex.verify(given, actual)
        if problem is not None:
            raise ExerciseFailed(f"{header}{problem}\n(signature: {ex.signature})")
        passed += 1
    print(f"✓ {ex.name}: all {passed} random cases match the reference.")


# The catalogue registers every exercise into EXERCISES; imported last, as it imports the
# machinery above.
from snippets import exercise_catalogue  # noqa: E402, F401
