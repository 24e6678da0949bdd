"""snippets.validate: the public checks name the argument, whatever they are given."""

import contextlib
import re
from collections import Counter
from unittest import mock

import pytest
import torch

from snippets import draw, indexing, validate
from snippets.validate import (
    check_dim,
    check_index_dtype,
    check_index_values,
    check_ndim,
    check_same_device,
    check_tensor,
    shape_str,
)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_dim(0, [1, 2], tensor_name="input"), "input must be a torch.Tensor"),
        (lambda: check_ndim([1], 1, name="logits"), "logits must be a torch.Tensor, got list"),
        (lambda: check_index_dtype([0], op="gather"), "index must be a torch.Tensor, got list"),
        (
            lambda: check_same_device(torch.zeros(1), 3, names=("x", "scores")),
            "scores must be a torch.Tensor, got int",
        ),
        (
            lambda: check_index_values([0], 3, dim=0, name="actions"),
            "actions must be a torch.Tensor, got list",
        ),
        (lambda: check_tensor(None, "x"), "x must be a torch.Tensor, got NoneType"),
        (lambda: shape_str(5), "shape must be a sequence of ints, got int"),
    ],
)
def test_public_checks_name_a_non_tensor(call, message):
    """Issue 9: these ended in bare AttributeErrors ("'list' object has no attribute ...")."""
    with pytest.raises(TypeError, match=re.escape(message)):
        call()


def test_check_index_values_wants_int_size_and_dim():
    with pytest.raises(TypeError, match=re.escape("size must be an int, got float")):
        check_index_values(torch.tensor([0]), 3.0, dim=0)
    with pytest.raises(ValueError, match=re.escape("size must be an int >= 0, got -1")):
        check_index_values(torch.tensor([0]), -1, dim=0)
    with pytest.raises(TypeError, match=re.escape("dim must be an int, got NoneType")):
        check_index_values(torch.tensor([0]), 3, dim=None)


# --- each argument is checked once, at the public entry ----------------------------------------


@contextlib.contextmanager
def counted_checks():
    """Count the checks of ``snippets.validate`` (and take_along_dim's shape rule) that the
    helpers call, by the argument they check: ``{("check_tensor", "input"): 1, ...}``.

    Every module of the package that imported a check gets a counting wrapper in its place
    (the helpers import the checks by name, so patching ``snippets.validate`` alone would
    count nothing). Calls from inside ``snippets.validate`` are not counted: a check may use
    another check on its own arguments."""
    import importlib
    import pkgutil

    import snippets

    checks = {
        "check_tensor": (validate.check_tensor, lambda a, k: a[1] if len(a) > 1 else k["name"]),
        "check_dim": (validate.check_dim, lambda a, k: k.get("name", "dim")),
        "check_index_values": (
            validate.check_index_values,
            lambda a, k: k.get("name", "index"),
        ),
        "check_index_dtype": (validate.check_index_dtype, lambda a, k: k.get("name", "index")),
        "check_same_device": (validate.check_same_device, lambda a, k: tuple(k.get("names", ()))),
        "shape rule": (indexing._away_from_dim_shapes, lambda a, k: "shapes"),
    }
    counts: Counter = Counter()
    names = [m.name for m in pkgutil.walk_packages(snippets.__path__, "snippets.")]
    modules = [importlib.import_module(n) for n in names if n != "snippets.validate"]
    with contextlib.ExitStack() as stack:
        for check, (fn, argument) in checks.items():

            def counting(*args, _fn=fn, _check=check, _argument=argument, **kwargs):
                counts[(_check, _argument(args, kwargs))] += 1
                return _fn(*args, **kwargs)

            for module in modules:
                for attr, value in list(vars(module).items()):
                    if value is fn:
                        stack.enter_context(mock.patch.object(module, attr, counting))
        yield counts


def _take_along_dim_figure():
    x = torch.tensor([[10, 20, 30], [40, 50, 60]])  # as chapter 02 draws it
    draw.take_along_dim(x, torch.tensor([[2, 0]]), dim=1)


def _gather_figure():
    draw.gather(torch.tensor([[10, 20, 30], [40, 50, 60]]), 1, torch.tensor([[0, 2], [1, 0]]))


def _checked_take_along_dim():
    indexing.checked_take_along_dim(torch.zeros(2, 3), torch.tensor([[2, 0]]), 1)


def _checked_gather():
    indexing.checked_gather(torch.zeros(2, 3), 1, torch.tensor([[2, 0], [1, 1]]))


def _broadcast_along_dim():
    indexing.broadcast_along_dim(torch.zeros(2, 3), torch.tensor([[2, 0]]), 1)


@pytest.mark.parametrize(
    "call",
    [
        _take_along_dim_figure,
        _gather_figure,
        _checked_take_along_dim,
        _checked_gather,
        _broadcast_along_dim,
    ],
)
def test_each_argument_is_checked_once_per_public_call(call):
    """Issue 11: one draw.take_along_dim call used to run check_tensor 9 times, check_dim 5
    times and take_along_dim's shape rule 4 times (counted on eaa4bcd this way). Public
    functions check at the entry; what they call trusts them."""
    with counted_checks() as counts:
        call()
    assert counts, "no check counted: the counting wrappers are not in place"
    twice = {key: n for key, n in counts.items() if n > 1}
    assert not twice, f"checked more than once: {twice} (all: {dict(counts)})"


def test_the_take_along_dim_figure_checks_each_argument():
    with counted_checks() as counts:
        _take_along_dim_figure()
    assert counts == {
        ("check_tensor", "input"): 1,
        ("check_tensor", "indices"): 1,
        ("check_same_device", ("indices", "input")): 1,
        ("check_dim", "dim"): 1,
        ("check_index_dtype", "indices"): 1,
        ("shape rule", "shapes"): 1,
        ("check_index_values", "indices"): 1,
    }
