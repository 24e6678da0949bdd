"""Release-dependent behaviour of PyTorch, pinned with the releases it holds for.

Each test observes one behaviour on the running PyTorch (CPU tensors on purpose: ``make matrix``
runs this file on every release of its list on the CPU) and hands what it saw to its
:class:`tests.pins.Pin`, which fails, naming the chapter and section to revise, when the
release range is wrong for the running release. ``seen`` / ``seen_not`` list the releases
``make matrix`` ran this file on (``book/verified/matrix.json`` has the last results).
"""

from __future__ import annotations

import re

import pytest
import torch

from tests.pins import Pin

CH1 = "chapter 1 (notebooks/01-gather.ipynb)"
CH2 = "chapter 2 (notebooks/02-take-along-dim.ipynb)"
CH3 = "chapter 3 (notebooks/03-argmax-coordinates.ipynb)"
CH5 = "chapter 5 (notebooks/05-no-grad.ipynb)"
CH6 = "chapter 6 (notebooks/06-hooks.ipynb)"

ALL = ("2.9.1", "2.10.0", "2.11.0", "2.12.1", "2.13.0", "2.14.1")

TAKE_ALONG_DIM_WRAPS_PAST_THE_END = Pin(
    "torch.take_along_dim(x, i, dim) with an index past the end of dim wraps it modulo the size",
    since="2.10",
    seen=("2.10.0", "2.11.0", "2.12.1", "2.13.0", "2.14.1"),
    seen_not=("2.9.1",),
    otherwise="it raises RuntimeError 'index 4 is out of bounds for dimension 1 with size 4'",
    revise=f"{CH2}, 'Error gallery' (tad-out-of-range) and the cheat sheet's take_along_dim line",
)
TAKE_ALONG_DIM_COUNTS_NEGATIVE_FROM_THE_END = Pin(
    "torch.take_along_dim(x, i, dim) with an index in -size..-1 reads from the end, like "
    "numpy.take_along_axis",
    since="2.10",
    seen=("2.10.0", "2.11.0", "2.12.1", "2.13.0", "2.14.1"),
    seen_not=("2.9.1",),
    otherwise="it raises RuntimeError 'index -1 is out of bounds for dimension 1 with size 4'",
    revise=f"{CH2}, 'Shape rules' (tad-shape-rules) and 'Error gallery' (tad-out-of-range)",
)
TAKE_ALONG_DIM_NONE_CHECKS_BOUNDS = Pin(
    "torch.take_along_dim(x, i) without dim raises on an index past the end and on a negative one",
    seen=ALL,
    revise=f"{CH2}, 'dim=None' (tad-dim-none)",
)
GATHER_ACCEPTS_INT32 = Pin(
    "torch.gather accepts int32 indices (and rejects int16)",
    seen=ALL,
    revise=f"{CH1}, 'Shape rules' (gather-shape-rules)",
)
GATHER_0D_COUNTS_AS_1D = Pin(
    "torch.gather treats a 0-d input or index as 1-d (index.dim() == input.dim() is not required)",
    seen=ALL,
    revise=f"{CH1}, 'Shape rules' (gather-shape-rules)",
)
ARGMAX_REJECTS_BOOL = Pin(
    "argmax of a bool tensor raises RuntimeError 'argmax(): does not support bool input' "
    "(CPU; a check before the kernel, so expected on CUDA too: the CUDA leg checks it)",
    seen=ALL,
    revise=f"{CH3}, 'Error gallery' (argmax-errors)",
)
INFERENCE_TENSOR_IN_A_RECORDED_SUM = Pin(
    "an inference tensor added to a tensor that requires grad is recorded, and backward works",
    seen=ALL,
    revise=f"{CH5}, 'inference_mode' (nograd-inference), and the glossary's 'inference tensor'",
)
INFERENCE_TENSOR_CANNOT_BE_SAVED = Pin(
    "an op that must save an inference tensor for backward (mul by a tensor that requires "
    "grad) raises, outside inference_mode",
    seen=ALL,
    revise=f"{CH5}, 'inference_mode' (nograd-inference), and the glossary's 'inference tensor'",
)
FORWARD_AD_UNDER_NO_GRAD_AND_INFERENCE_MODE = Pin(
    "forward-mode AD computes a tangent under no_grad but not under inference_mode",
    seen=ALL,
    revise=f"{CH5}, 'Which switch does what' (nograd-rules)",
)

TAKE_ALONG_DIM_INTO_AN_EMPTY_DIM = Pin(
    "torch.take_along_dim(x, i, dim) into a dim of size 0 raises RuntimeError "
    "'ZeroDivisionError' (the index is taken modulo the size)",
    since=TAKE_ALONG_DIM_WRAPS_PAST_THE_END.since,
    seen=TAKE_ALONG_DIM_WRAPS_PAST_THE_END.seen,
    seen_not=TAKE_ALONG_DIM_WRAPS_PAST_THE_END.seen_not,
    otherwise="it raises 'index 0 is out of bounds for dimension 1 with size 0'",
    revise=f"{CH2}, 'Error gallery' (tad-errors)",
)
TAKE_ALONG_DIM_RUNS_A_REMAINDER = Pin(
    "torch.take_along_dim(x, i, dim) runs aten.remainder on the broadcast index before gather",
    since=TAKE_ALONG_DIM_WRAPS_PAST_THE_END.since,
    seen=TAKE_ALONG_DIM_WRAPS_PAST_THE_END.seen,
    seen_not=TAKE_ALONG_DIM_WRAPS_PAST_THE_END.seen_not,
    otherwise="it runs expand, expand, gather",
    revise=f"{CH2}, 'Shape rules' (the cell that lists the ATen ops)",
)
HOOK_VIEW_ERROR_NAMES_BACKWARD_HOOK_FUNCTION = Pin(
    "an in-place op on the output of a module with a full backward hook raises 'Output 0 of "
    "BackwardHookFunction is a view ...' (the node is named BackwardHookFunction)",
    since="2.13",
    seen=("2.13.0", "2.14.1"),
    seen_not=("2.9.1", "2.10.0", "2.11.0", "2.12.1"),
    otherwise="the message names BackwardHookFunctionBackward",
    revise=f"{CH6}, 'Error gallery' (the full backward hook and ReLU(inplace=True))",
)
INPLACE_ERROR_NAMES_THE_FORWARD_OP = Pin(
    "modifying a saved output in place names the op in the backward error as 'output 0 of Tanh'",
    since="2.13",
    seen=("2.13.0", "2.14.1"),
    seen_not=("2.9.1", "2.10.0", "2.11.0", "2.12.1"),
    otherwise="the message names the backward node, 'output 0 of TanhBackward0'",
    revise=f"{CH6}, 'Error gallery' (the forward hook that doubles its output in place)",
)
ANOMALY_HINT_NAMES_CHECK_NAN = Pin(
    "the in-place error's hint reads 'torch.autograd.set_detect_anomaly(True, check_nan=False)'",
    since="2.11",
    seen=("2.11.0", "2.12.1", "2.13.0", "2.14.1"),
    seen_not=("2.9.1", "2.10.0"),
    otherwise="the hint reads 'torch.autograd.set_detect_anomaly(True)'",
    revise=f"{CH6}, 'Error gallery' (the forward hook that doubles its output in place)",
)

X = [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]


def observe(call) -> tuple[bool, object]:
    """(True, result) if ``call()`` returns, (False, message) if it raises RuntimeError."""
    try:
        return True, call()
    except RuntimeError as exc:
        return False, str(exc)


def test_take_along_dim_with_dim_wraps_an_index_past_the_end():
    x = torch.tensor(X)
    returned, value = observe(lambda: torch.take_along_dim(x, torch.tensor([[4], [5]]), dim=1))
    if returned:
        assert value.tolist() == [[1.0], [6.0]]  # 4 % 4 = 0 and 5 % 4 = 1
    else:
        assert "index 4 is out of bounds for dimension 1 with size 4" in value
    TAKE_ALONG_DIM_WRAPS_PAST_THE_END.check(returned)


def test_take_along_dim_with_dim_counts_a_negative_index_from_the_end():
    x = torch.tensor(X)
    returned, value = observe(lambda: torch.take_along_dim(x, torch.tensor([[-1], [-4]]), dim=1))
    if returned:
        assert value.tolist() == [[4.0], [5.0]]
    else:
        assert "index -1 is out of bounds for dimension 1 with size 4" in value
    TAKE_ALONG_DIM_COUNTS_NEGATIVE_FROM_THE_END.check(returned)


def test_take_along_dim_without_dim_checks_bounds():
    x = torch.tensor(X)
    past, message_past = observe(lambda: torch.take_along_dim(x, torch.tensor([8])))
    negative, message_negative = observe(lambda: torch.take_along_dim(x, torch.tensor([-1])))
    raised = not past and not negative
    if raised:
        assert "index 8 is out of bounds for dimension 0 with size 8" in message_past
        assert "index -1 is out of bounds for dimension 0 with size 8" in message_negative
    TAKE_ALONG_DIM_NONE_CHECKS_BOUNDS.check(raised)


def test_gather_accepts_int32_indices():
    x = torch.tensor(X)
    returned, value = observe(
        lambda: torch.gather(x, 1, torch.tensor([[3], [0]], dtype=torch.int32))
    )
    if returned:
        assert value.tolist() == [[4.0], [5.0]]
    with pytest.raises(RuntimeError, match="Expected dtype int32/int64 for index"):
        torch.gather(x, 1, torch.tensor([[3]], dtype=torch.int16))
    GATHER_ACCEPTS_INT32.check(returned)


def test_gather_treats_0d_as_1d():
    zero_d_input, a = observe(lambda: torch.gather(torch.tensor(5.0), 0, torch.tensor([0])))
    zero_d_index, b = observe(
        lambda: torch.gather(torch.tensor([10.0, 20.0, 30.0]), 0, torch.tensor(1))
    )
    works = zero_d_input and zero_d_index
    if works:
        assert a.tolist() == [5.0]
        assert b.shape == () and b.item() == 20.0  # the index's shape: 0-d
    GATHER_0D_COUNTS_AS_1D.check(works)


def test_argmax_of_bool_raises():
    returned, message = observe(lambda: torch.tensor([False, True]).argmax())
    this_message = not returned and "argmax(): does not support bool input" in message
    ARGMAX_REJECTS_BOOL.check(this_message)


def test_an_inference_tensor_in_a_recorded_sum():
    with torch.inference_mode():
        inf = torch.ones(3)
    w = torch.ones(3, requires_grad=True)
    out = inf + w
    recorded = out.requires_grad and out.grad_fn is not None
    if recorded:
        out.sum().backward()
        assert w.grad.tolist() == [1.0, 1.0, 1.0]
    INFERENCE_TENSOR_IN_A_RECORDED_SUM.check(recorded)


def test_an_inference_tensor_cannot_be_saved_for_backward():
    with torch.inference_mode():
        inf = torch.ones(3)
    w = torch.ones(3, requires_grad=True)
    returned, message = observe(lambda: inf * w)
    if not returned:
        assert "Inference tensors cannot be saved for backward" in message
    INFERENCE_TENSOR_CANNOT_BE_SAVED.check(not returned)


def _tangent_under(mode) -> torch.Tensor | None:
    import torch.autograd.forward_ad as fwAD

    primal, tangent = torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0])
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal, tangent)
        with mode():
            out = dual * dual
        return fwAD.unpack_dual(out).tangent


def test_forward_ad_under_no_grad_and_inference_mode():
    under_no_grad = _tangent_under(torch.no_grad)
    under_inference = _tangent_under(torch.inference_mode)
    differs = under_no_grad is not None and under_inference is None
    if under_no_grad is not None:
        assert under_no_grad.tolist() == [2.0, 4.0]  # d(x*x) = 2x * tangent
    FORWARD_AD_UNDER_NO_GRAD_AND_INFERENCE_MODE.check(differs)


def test_take_along_dim_into_an_empty_dim():
    returned, message = observe(
        lambda: torch.take_along_dim(torch.zeros(2, 0), torch.zeros(2, 1, dtype=torch.long), dim=1)
    )
    assert not returned  # every release raises; which error is release-dependent
    zero_division = message == "ZeroDivisionError"
    if not zero_division:
        assert "index 0 is out of bounds for dimension 1 with size 0" in message
    TAKE_ALONG_DIM_INTO_AN_EMPTY_DIM.check(zero_division)


def test_take_along_dim_runs_a_remainder():
    from torch.utils._python_dispatch import TorchDispatchMode

    class Ops(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.names = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.names.append(str(func))
            return func(*args, **(kwargs or {}))

    with Ops() as ops:
        torch.take_along_dim(torch.zeros(2, 5, 3), torch.tensor([[[4]], [[1]]]), dim=1)
    assert ops.names[-1] == "aten.gather.default"
    TAKE_ALONG_DIM_RUNS_A_REMAINDER.check("aten.remainder.Scalar" in ops.names)


def test_the_hook_view_error_names_the_node():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(inplace=True))
    net[0].register_full_backward_hook(lambda module, grad_input, grad_output: None)
    returned, message = observe(lambda: net(torch.ones(1, 3)))
    assert not returned
    assert "is a view and is being modified inplace" in message
    HOOK_VIEW_ERROR_NAMES_BACKWARD_HOOK_FUNCTION.check(
        message.startswith("Output 0 of BackwardHookFunction is a view")
    )


def test_the_inplace_error_names_the_op_and_the_anomaly_hint():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())
    net[1].register_forward_hook(lambda module, args, output: output.mul_(2))
    returned, message = observe(lambda: net(torch.ones(1, 3)).sum().backward())
    assert not returned
    assert "modified by an inplace operation" in message
    INPLACE_ERROR_NAMES_THE_FORWARD_OP.check("which is output 0 of Tanh," in message)
    ANOMALY_HINT_NAMES_CHECK_NAN.check(
        message.endswith("set_detect_anomaly(True, check_nan=False).")
    )


def test_a_pin_fails_naming_the_section_to_revise():
    """The mechanism itself: a behaviour that changes inside the range fails loudly."""
    pin = Pin("x wraps", since="2.13", seen=("2.13.0",), revise="chapter 2, 'Shape rules'")
    with pytest.raises(pytest.fail.Exception) as failed:
        pin.check(False, version="2.15.0")
    text = str(failed.value)
    assert "PyTorch 2.15.0 no longer does this" in text
    assert "Revise chapter 2, 'Shape rules'" in text
    assert ">= 2.13" in text
    with pytest.raises(pytest.fail.Exception, match="outside the pinned range"):
        pin.check(True, version="2.9.1")
    pin.check(True, version="2.13.0+cpu")  # in range and holds: passes
    pin.check(False, version="2.12.1")
    with pytest.raises(ValueError, match=re.escape("seen on 2.9.1, outside >= 2.13")):
        Pin("x", since="2.13", seen=("2.9.1",), revise="-")
