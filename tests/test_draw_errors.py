"""snippets.draw: bad input raises TypeError, ValueError or IndexError naming the argument,
never an error from deep inside Python or PyTorch (issue: "max() arg is an empty sequence")."""

from __future__ import annotations

import re

import pytest
import torch

from snippets import draw
from snippets.draw import canvas
from snippets.draw import hooks as draw_hooks
from snippets.hooks import HookEvent

X = torch.tensor([[1, 2, 3], [4, 5, 6]])
IDX = torch.tensor([[0, 2]])
META = torch.empty(2, 3, device="meta")
META_I = torch.empty(1, 2, dtype=torch.long, device="meta")


def square(x):
    return x * 2


# (call, exception, a regular expression the message must match: it names the argument)
CASES = {
    "gather input not a tensor": (lambda: draw.gather([[1]], 0, IDX), TypeError, r"^input must"),
    "gather meta input": (lambda: draw.gather(META, 1, IDX), ValueError, r"^input is a meta"),
    "gather meta index": (lambda: draw.gather(X, 1, META_I), ValueError, r"^index is a meta"),
    "gather dim None": (lambda: draw.gather(X, None, IDX), TypeError, r"^dim must be an int"),
    "gather dim str": (lambda: draw.gather(X, "1", IDX), TypeError, r"^dim must be an int"),
    "gather 4-D": (
        lambda: draw.gather(torch.zeros(1, 1, 1, 1), 0, torch.zeros(1, 1, 1, 1, dtype=torch.long)),
        ValueError,
        r"input has shape \(1, 1, 1, 1\)",
    ),
    "gather float index": (lambda: draw.gather(X, 1, IDX.float()), TypeError, r"^index must be"),
    "gather arrows": (lambda: draw.gather(X, 1, IDX, arrows="no"), TypeError, r"^arrows must"),
    "take indices list": (
        lambda: draw.take_along_dim(X, [[0]], 1),
        TypeError,
        r"^indices must be a torch.Tensor",
    ),
    "take meta input": (lambda: draw.take_along_dim(META, IDX, 1), ValueError, r"^input is a meta"),
    "take dim str": (lambda: draw.take_along_dim(X, IDX, "1"), TypeError, r"^dim must be"),
    "take arrows": (lambda: draw.take_along_dim(X, IDX, 1, arrows=1), TypeError, r"^arrows must"),
    "argmax dim None": (
        lambda: draw.argmax_along(X, None),
        TypeError,
        r"^dim must be an int: draw.argmax_along draws the argmax along one dim",
    ),
    "argmax empty dim": (
        lambda: draw.argmax_along(torch.zeros(0, 3), 0),
        ValueError,
        r"^x.shape\[0\] is 0",
    ),
    "argmax no elements": (
        lambda: draw.argmax_along(torch.zeros(0, 3), 1),
        ValueError,
        r"^x has no elements \(shape \(0, 3\)\)",
    ),
    "argmax x list": (lambda: draw.argmax_along([[1]], 0), TypeError, r"^x must be a torch"),
    "argmax meta": (lambda: draw.argmax_along(META, 0), ValueError, r"^x is a meta tensor"),
    "argmax 1-D": (
        lambda: draw.argmax_along(torch.zeros(3), 0),
        ValueError,
        r"x has shape \(3,\)",
    ),
    "argmax dim out of range": (lambda: draw.argmax_along(X, 5), IndexError, r"^dim=5"),
    "argmax names str": (
        lambda: draw.argmax_along(X, 0, names="ij"),
        TypeError,
        r"^names must be a tuple of strings",
    ),
    "argmax names ints": (
        lambda: draw.argmax_along(X, 0, names=(1, 2)),
        TypeError,
        r"^names must be a tuple of strings",
    ),
    "argmax arrows": (lambda: draw.argmax_along(X, 0, arrows=None), TypeError, r"^arrows must"),
    "broadcast a list": (lambda: draw.broadcast([1], X), TypeError, r"a is list"),
    "broadcast devices": (
        lambda: draw.broadcast(X, torch.zeros(3, device="meta")),
        ValueError,
        r"^a is on cpu but b is on meta",
    ),
    "broadcast devices, named": (
        lambda: draw.broadcast(META, X, names=("i", "j")),
        ValueError,
        r"^i is on meta but j is on cpu",
    ),
    "broadcast op": (lambda: draw.broadcast(X, X, "%"), ValueError, r"^op must be one of"),
    "broadcast op int": (lambda: draw.broadcast(X, X, 1), ValueError, r"^op must be one of"),
    "broadcast names": (
        lambda: draw.broadcast(X, X, names="ab"),
        TypeError,
        r"^names must be two strings",
    ),
    "broadcast shapes": (
        lambda: draw.broadcast(X, torch.zeros(4)),
        ValueError,
        r"a has 3, b has 4",
    ),
    "broadcast & on floats": (
        lambda: draw.broadcast(X.float(), X.float(), "&"),
        TypeError,
        r"^a & b is not defined for dtypes torch.float32 and torch.float32",
    ),
    "hook_timeline None": (lambda: draw.hook_timeline(None), TypeError, r"^events must"),
    "hook_timeline ints": (lambda: draw.hook_timeline([1, 2]), TypeError, r"^events\[0\] must"),
    "hook_timeline kind": (
        lambda: draw.hook_timeline([HookEvent(0, "forward", "nope", "fc")]),
        ValueError,
        r"^kind must be one of",
    ),
    "hook_timeline layer": (
        lambda: draw.hook_timeline([HookEvent(0, "forward", "forward", 3)]),
        TypeError,
        r"^layer must be a str",
    ),
    "hook_timeline title": (lambda: draw.hook_timeline([], title=3), TypeError, r"^title must"),
    "hook_colour": (lambda: draw_hooks.hook_colour(1), ValueError, r"^kind must be one of"),
    "autograd_graph fn": (
        lambda: draw.autograd_graph(None, x=X.float()),
        TypeError,
        r"^fn must be callable",
    ),
    "autograd_graph meta": (
        lambda: draw.autograd_graph(square, x=META),
        ValueError,
        r"^x is a meta tensor",
    ),
    "autograd_graph title": (
        lambda: draw.autograd_graph(square, x=X.float(), title=5),
        TypeError,
        r"^title must be a str or None",
    ),
    "format_value": (lambda: canvas.format_value(object()), TypeError, r"^v must be a number"),
    "text_width content": (lambda: canvas.text_width(3, 10), TypeError, r"^content must be a str"),
    "text_width size": (lambda: canvas.text_width("a", -1), ValueError, r"^size must be positive"),
    "grid not a tensor": (
        lambda: canvas.Figure("t").panel("p").grid("x", [1], 0, 0),
        TypeError,
        r"^x must be a torch.Tensor",
    ),
    "grid meta": (
        lambda: canvas.Figure("t").panel("p").grid("x", META, 0, 0),
        ValueError,
        r"^x is a meta tensor",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_named(name):
    call, error, message = CASES[name]
    with pytest.raises(error, match=message):
        call()


def test_argmax_along_dim_none_was_an_empty_sequence_error():
    """The issue's case: dim=None used to end in "max() arg is an empty sequence"."""
    with pytest.raises(TypeError) as info:
        draw.argmax_along(torch.tensor([[1.0, 2.0]]), None)
    assert "empty sequence" not in str(info.value)
    assert re.search(r"\bdim\b", str(info.value))
