"""snippets.validate: the public checks name the argument, whatever they are given."""

import contextlib
import re
from collections import Counter
from unittest import mock

import pytest
import torch

from snippets import argmax, draw, indexing, recipes, scatter, validate
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


X = torch.tensor([[10, 20, 30], [40, 50, 60]])
F = torch.tensor([1.0, 2.0, 3.0])
IDS = torch.tensor([0, 2, 0])
# One valid call of each public helper and figure that uses the checks of snippets.validate.
PUBLIC_CALLS = {
    "draw.take_along_dim": _take_along_dim_figure,
    "draw.gather": lambda: draw.gather(X, 1, torch.tensor([[0, 2], [1, 0]])),
    "draw.argmax_along": lambda: draw.argmax_along(torch.tensor([[3, 9, 2], [5, 1, 7]]), 0),
    "draw.scatter": lambda: draw.scatter(torch.zeros(3), 0, torch.tensor([0, 2]), F[:2]),
    "checked_take_along_dim": lambda: indexing.checked_take_along_dim(X, torch.tensor([[2]]), 1),
    "checked_gather": lambda: indexing.checked_gather(X, 1, torch.tensor([[2, 0], [1, 1]])),
    "broadcast_along_dim": lambda: indexing.broadcast_along_dim(X, torch.tensor([[2, 0]]), 1),
    "select_patches": lambda: indexing.select_patches(
        torch.zeros(2, 3, 4), torch.tensor([[0, 2], [1, 1]])
    ),
    "token_logprobs": lambda: indexing.token_logprobs(torch.zeros(1, 3, 4), X[:1, :3] % 4),
    "taken_action_values": lambda: indexing.taken_action_values(X, torch.tensor([0, 2])),
    "sort_rows_by_key": lambda: indexing.sort_rows_by_key(X.t(), torch.tensor([0.3, 0.1, 0.2])),
    "checked_scatter_add": lambda: scatter.checked_scatter_add(torch.zeros(3), 0, IDS, F),
    "segment_sum": lambda: scatter.segment_sum(F, IDS, 3),
    "segment_mean": lambda: scatter.segment_mean(F, IDS, 3),
    "put_along_dim": lambda: scatter.put_along_dim(
        torch.zeros(2, 3), torch.tensor([[0], [2]]), torch.tensor([[1.0], [2.0]]), 1
    ),
    "argmax_coordinates": lambda: argmax.argmax_coordinates(X, 1),
    "argmax_index": lambda: argmax.argmax_index(X, 0),
    "argmax_over": lambda: argmax.argmax_over(torch.zeros(2, 3, 4), (1, 2)),
    "max_along": lambda: argmax.max_along(X, 1),
    "pick_channel": lambda: recipes.pick_channel(torch.zeros(2, 2, 3), X[:, :2] % 3),
    "answer_rank": lambda: recipes.answer_rank(torch.zeros(2, 3), torch.tensor([0, 1])),
}


@pytest.mark.parametrize("name", sorted(PUBLIC_CALLS))
def test_each_argument_is_checked_once_per_public_call(name):
    """Issue 11: one draw.take_along_dim call used to run check_tensor 9 times, check_dim 5
    times and take_along_dim's shape rule 4 times (counted on eaa4bcd this way); segment_mean
    and argmax_coordinates checked their tensors twice. Public functions check at the entry;
    what they call trusts them."""
    with counted_checks() as counts:
        PUBLIC_CALLS[name]()
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
