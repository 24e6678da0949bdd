"""Every public helper, called as a careless user would call it (issue 9).

For each public function of the helper modules (found from their ``__all__``, so that a new
helper cannot escape; the exclusions are listed below with a reason), the calls in
``tests/fuzz_specs.py`` start from one valid call and put one wrong argument in: another type,
another dtype or rank, a 0-d, empty, NaN, non-contiguous or ``meta`` tensor. Each call must

- return what the loop reference or PyTorch returns (on ``meta`` tensors: the same shapes and
  dtypes as on zeros of those shapes on the CPU), or
- raise TypeError, ValueError or IndexError (LookupError for a layer name) with a message that
  names the argument.

Anything else (a bare ``AttributeError``, a RuntimeError from inside PyTorch, an answer that
differs, an answer where PyTorch and the loop refuse) fails. One pass tries every wrong value
of every argument once; hypothesis then tries pairs of wrong arguments. Both are bounded to a
few seconds. ``python -m tests.test_fuzz`` prints the counts of the exhaustive pass.
"""

from __future__ import annotations

import copy
import inspect
from collections import Counter
from typing import Any

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snippets import argmax, autograd, broadcasting, hooks, indexing, validate
from tests.fuzz_specs import SPECS, Spec, mutations

MODULES = (argmax, autograd, broadcasting, hooks, indexing, validate)

# Public names that are not fuzzed, each with its reason.
EXCLUDED = {
    "hooks.HookEvent": "the NamedTuple record_hook_order returns (fuzzed there)",
    "hooks.StopForward": "an exception type that Trace raises and catches itself",
}
# Package-internal functions fuzzed as well, because checking is their job: the public helpers
# (and the figures) call them at their entry. Every function of snippets.validate (whose
# __all__ is empty) is fuzzed too. The other internal functions trust their callers.
INTERNAL_CHECKS = {
    "indexing._check_gather_args",
    "indexing._check_take_along_dim_args",
    "broadcasting._broadcast_sources",
    "autograd._trace_graph",
    "hooks._get_module",
}
# The modules this fuzz test does not cover, each with where its bad input is tested instead.
# A new module of snippets must be added to MODULES (with specs) or here, with its reason.
NOT_FUZZED_HERE = {
    "snippets.reference": "the oracle: a specification written as loops, for valid arguments only",
    "snippets.matrix_data": "generated data (the version matrix's summary), no functions",
    "snippets.draw": "figures: tests/test_draw_errors.py passes wrong arguments to every figure",
    "snippets.device": "tests/test_device.py (setup's seed, resolve_device's names and types)",
    "snippets.exercises": "tests/test_exercises.py (check's names, n_cases, the 'not yet' path)",
    "snippets.exercise_catalogue": "the exercises check registers: no function a reader calls",
    "snippets.versions": "tests/test_matrix.py (_about_pytorch's chapter, release and matrix)",
    "snippets.tensor_index": "tests/test_tensor_index.py (each argument named in its error)",
    "snippets.scatter": "tests/test_scatter.py (_check_scatter_args, put_along_dim's arguments)",
    "snippets.recipes": "tests/test_recipes.py (cat_shape, pick_channel, answer_rank's arguments)",
    "snippets.bench": "tests/test_bench.py (run's device, sizes, jobs; the results' invariants)",
}


def test_every_module_is_fuzzed_here_or_tested_for_bad_input_elsewhere():
    import pkgutil

    import snippets

    modules = {f"snippets.{m.name}" for m in pkgutil.iter_modules(snippets.__path__)}
    fuzzed = {m.__name__ for m in MODULES}
    assert modules == fuzzed | set(NOT_FUZZED_HERE), (
        f"neither fuzzed nor listed: {sorted(modules - fuzzed - set(NOT_FUZZED_HERE))}; "
        f"stale: {sorted((fuzzed | set(NOT_FUZZED_HERE)) - modules)}"
    )
    assert not fuzzed & set(NOT_FUZZED_HERE)


def _defined(module) -> set[str]:
    return {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    }


def public_names() -> set[str]:
    names = set()
    for module in MODULES:
        short = module.__name__.removeprefix("snippets.")
        if module is validate:  # package-internal: every check it defines is fuzzed
            assert module.__all__ == [], "snippets.validate is internal: its __all__ stays empty"
            names |= {f"{short}.{n}" for n in _defined(module)}
            continue
        exported = set(module.__all__)
        missing = _defined(module) - exported
        assert not missing, f"{module.__name__} defines public {sorted(missing)} not in __all__"
        names |= {f"{short}.{n}" for n in exported}
    return names


def test_every_public_helper_is_fuzzed_or_excluded_with_a_reason():
    names = public_names() | INTERNAL_CHECKS
    assert set(SPECS) | set(EXCLUDED) == names, (
        f"not fuzzed: {sorted(names - set(SPECS) - set(EXCLUDED))}; "
        f"stale: {sorted((set(SPECS) | set(EXCLUDED)) - names)}"
    )
    assert not set(SPECS) & set(EXCLUDED)
    for name, spec in SPECS.items():
        module, attr = name.split(".")
        assert getattr(globals()[module], attr) is spec.fn, name


# --- one call, judged -------------------------------------------------------------------------


def _copy(value: Any) -> Any:
    """A copy for the oracle, so that a helper that works in place cannot change its input."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    try:
        return copy.deepcopy(value)
    except Exception:
        return value


def _materialise(value: Any) -> Any:
    """Meta tensors as CPU zeros of the same shape and dtype (everything else unchanged)."""
    if isinstance(value, torch.Tensor) and value.device.type == "meta":
        return torch.zeros(value.shape, dtype=value.dtype)
    if isinstance(value, list):
        return [_materialise(v) for v in value]
    if isinstance(value, dict):
        return {k: _materialise(v) for k, v in value.items()}
    return value


def _same(got: Any, expected: Any, *, meta: bool) -> None:
    if isinstance(expected, torch.Tensor):
        assert isinstance(got, torch.Tensor), f"got {type(got).__name__}, expected a tensor"
        assert got.shape == expected.shape, f"shape {tuple(got.shape)} != {tuple(expected.shape)}"
        assert got.dtype == expected.dtype, f"dtype {got.dtype} != {expected.dtype}"
        if meta:
            assert got.device.type == "meta", f"device {got.device}"
            return
        assert got.device == expected.device, f"device {got.device} != {expected.device}"
        torch.testing.assert_close(got, expected, equal_nan=True, check_stride=False)
    elif isinstance(expected, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(expected), f"{got!r}"
        for g, e in zip(got, expected, strict=True):
            _same(g, e, meta=meta)
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected), f"{got!r}"
        for k in expected:
            _same(got[k], expected[k], meta=meta)
    else:
        assert got == expected and type(got) is type(expected), f"{got!r} != {expected!r}"


def judge(spec: Spec, name: str, args: list[Any], kwargs: dict[str, Any], slots: list[str]) -> str:
    """'correct', 'clean error', or a sentence saying what went wrong."""
    tensors = validate._tensors_in([args, kwargs])
    meta = spec.materialise and bool(tensors) and all(t.device.type == "meta" for t in tensors)
    o_args, o_kwargs = (_copy(args), _copy(kwargs)) if spec.copy_for_oracle else (args, kwargs)
    if meta:
        o_args, o_kwargs = _materialise(o_args), _materialise(o_kwargs)
    try:
        expected, refused = spec.oracle(*o_args, **o_kwargs), None
    except Exception as err:
        expected, refused = None, err
    try:
        got = spec.run(args, kwargs)
    except spec.errors as err:
        words = [w for s in slots for w in spec.words.get(s, (s,))]
        if any(w in str(err) for w in words):
            return "clean error"
        if spec.passthrough and refused is not None and type(err) is type(refused):
            return "clean error"
        return f"{type(err).__name__} not naming {slots}: {err}"
    except Exception as err:
        if spec.passthrough and refused is not None and type(err) is type(refused):
            return "error of the caller's own code, passed on"
        return f"{type(err).__name__} (not a clean error): {str(err)[:300]}"
    if refused is not None:
        return f"returned, where the oracle refuses: {type(refused).__name__}: {refused}"[:400]
    try:
        if spec.compare is not None:
            spec.compare(got, expected, args, kwargs, meta)
        else:
            _same(got, expected, meta=meta)
    except AssertionError as err:
        return f"wrong answer: {str(err)[:300]}"
    return "correct"


def slot_values(spec: Spec, args: list[Any], kwargs: dict[str, Any]) -> list[tuple[str, Any]]:
    named = [(_slot(spec, i), v) for i, v in enumerate(args)]
    return [(n, v) for n, v in named + list(kwargs.items()) if n not in spec.labels]


def _slot(spec: Spec, i: int) -> str:
    """The name of positional argument ``i``: its parameter name, or ``args[i]``."""
    return spec.argnames[i] if i < len(spec.argnames) else f"args[{i}]"


def mutated(spec: Spec, slot: str, value: Any) -> tuple[list[Any], dict[str, Any]]:
    args, kwargs = spec.make()
    return _put(spec, args, kwargs, slot, value)


def exhaustive() -> tuple[Counter, list[str]]:
    """Every wrong value of every argument of every helper, once; and each valid call."""
    counts: Counter = Counter()
    problems = []
    for name, spec in SPECS.items():
        args, kwargs = spec.make()
        verdict = judge(spec, name, args, kwargs, ["(valid call)"])
        counts["calls"] += 1
        counts[verdict if verdict in ("correct", "clean error") else "anything else"] += 1
        if verdict != "correct":
            problems.append(f"{name} valid call: {verdict}")
        for slot, value in slot_values(spec, *spec.make()):
            for label, bad in mutations(value):
                args, kwargs = mutated(spec, slot, bad)
                verdict = judge(spec, name, args, kwargs, [slot])
                counts["calls"] += 1
                ok = verdict in (
                    "correct",
                    "clean error",
                    "error of the caller's own code, passed on",
                )
                counts[verdict if ok else "anything else"] += 1
                if not ok:
                    problems.append(f"{name}({slot}={label}): {verdict}")
    return counts, problems


def test_every_wrong_argument_of_every_helper_is_answered_right_or_named():
    counts, problems = exhaustive()
    assert not problems, f"{len(problems)} of {counts['calls']} calls:\n" + "\n".join(problems)
    assert counts["correct"] and counts["clean error"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SPECS)), st.data())
def test_two_wrong_arguments_at_once(name, data):
    spec = SPECS[name]
    args, kwargs = spec.make()
    slots = slot_values(spec, args, kwargs)
    chosen = data.draw(
        st.lists(st.sampled_from(range(len(slots))), min_size=1, max_size=2, unique=True)
    )
    names = []
    for k in chosen:
        slot, value = slots[k]
        options = list(mutations(value))
        if not options:
            continue
        _, bad = data.draw(st.sampled_from(options))
        args, kwargs = _put(spec, args, kwargs, slot, bad)
        names.append(slot)
    verdict = judge(spec, name, args, kwargs, names or ["(valid call)"])
    assert verdict in ("correct", "clean error", "error of the caller's own code, passed on"), (
        f"{name} with wrong {names}: {verdict}"
    )


def _put(spec, args, kwargs, slot, value):
    """``args, kwargs`` with the argument named ``slot`` (positional or keyword) set to ``value``."""
    for i in range(len(args)):
        if _slot(spec, i) == slot:
            args[i] = value
            return args, kwargs
    kwargs[slot] = value
    return args, kwargs


if __name__ == "__main__":
    counts, problems = exhaustive()
    print("\n".join(problems))
    print(dict(counts))
