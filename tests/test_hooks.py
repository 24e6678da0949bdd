"""snippets.hooks (Trace, TraceDict, hook_counts, record_hook_order), the hook figure, the
chapter's exercises, and the PyTorch hook behaviours that chapter 6 relies on."""

import contextlib
import copy
import gc
import re
import warnings
import weakref
from collections import OrderedDict

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from snippets import draw, reference
from snippets.device import DEVICE
from snippets.draw import hooks as draw_hooks
from snippets.exercise_catalogue import _small_sequential
from snippets.exercises import check
from snippets.hooks import (
    _HOOK_KINDS,
    HookEvent,
    StopForward,
    Trace,
    TraceDict,
    _get_module,
    forward_arguments,
    forward_calls,
    hook_counts,
    record_hook_order,
)
from tests.strategies import LAYOUTS, make_tensor
from tests.svg import elements, parse

# --- models and cases ----------------------------------------------------------------------


def tiny_model() -> nn.Sequential:
    """The chapter's model: fc1 -> act -> fc2, built on the CPU under a fixed seed."""
    torch.manual_seed(0)
    model = nn.Sequential(OrderedDict(fc1=nn.Linear(4, 3), act=nn.ReLU(), fc2=nn.Linear(3, 2)))
    return model.to(DEVICE)


X = torch.tensor([[1.0, 2.0, 0.0, -1.0], [0.5, -1.0, 1.0, 2.0]])


def x_() -> torch.Tensor:
    return X.clone().to(DEVICE)  # a fresh tensor: tests call requires_grad_() on it


def total(model: nn.Module) -> int:
    return sum(hook_counts(model).values())


@st.composite
def model_cases(draw_):
    """A random Sequential (2-4 Linear layers, ReLU/Tanh between), a child name, and an input
    with an empty or non-empty batch in any layout (contiguous, permuted, strided, expanded)."""
    seed = draw_(st.integers(0, 2**31 - 1))
    model = _small_sequential(torch.Generator().manual_seed(seed))
    batch = draw_(st.integers(0, 4))
    x = make_tensor((batch, model[0].in_features), draw_(st.sampled_from(LAYOUTS)), seed + 1)
    name = str(draw_(st.integers(0, len(model) - 1)))
    return model, name, x


def run_by_hand_until(model, name, x):
    """Children up to and including `name`, by hand (forward() fires no hooks)."""
    h = x
    for child_name, child in model.named_children():
        h = child.forward(h)
        if child_name == name:
            return h
    raise AssertionError(name)


# --- hook_counts ----------------------------------------------------------------------------


def test_hook_counts_counts_every_kind_and_global_hooks():
    model = tiny_model()
    assert hook_counts(model) == dict.fromkeys(_HOOK_KINDS, 0)
    handles = [
        model.fc1.register_forward_pre_hook(lambda m, a: None),
        model.fc1.register_forward_hook(lambda m, a, o: None),
        model.fc2.register_forward_hook(lambda m, a, o: None),
        model.act.register_full_backward_pre_hook(lambda m, go: None),
        model.act.register_full_backward_hook(lambda m, gi, go: None),
        model.fc1.weight.register_hook(lambda g: None),
        nn.modules.module.register_module_forward_hook(lambda m, a, o: None),
    ]
    try:
        assert hook_counts(model) == {
            "forward_pre": 1,
            "forward": 2,
            "backward_pre": 1,
            "backward": 1,
            "tensor": 1,
            "global": 1,
        }
    finally:
        for h in handles:
            h.remove()
    assert total(model) == 0


def test_hook_counts_rejects_a_non_module():
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module, got list"):
        hook_counts([1, 2])


# --- Trace and TraceDict: what they retain ---------------------------------------------------


@given(model_cases())
def test_trace_retains_the_layer_output_and_input(case):
    model, name, x = case
    with Trace(model, name, retain_input=True) as tr:
        y = model(x)
    k = int(name)
    expected = reference.layer_output(model, name, x)
    assert torch.allclose(tr.output, expected, atol=1e-6)
    before = x if k == 0 else run_by_hand_until(model, str(k - 1), x)
    assert torch.allclose(tr.input, before, atol=1e-6)
    assert torch.allclose(y, model(x), atol=1e-6)
    assert tr.calls == 1 and not tr.active
    assert total(model) == 0


@given(model_cases())
def test_detach_cuts_the_graph_and_no_detach_keeps_it(case):
    model, name, x = case
    with Trace(model, name, detach=True, retain_input=True) as kept:
        model(x)
    assert not kept.output.requires_grad and kept.output.grad_fn is None
    with Trace(model, name) as attached:
        model(x)
    # every child's output depends on a Linear's weight, so the graph is there
    assert attached.output.requires_grad and attached.output.grad_fn is not None
    model.zero_grad(set_to_none=True)
    attached.output.sum().backward()
    assert model[0].weight.grad is not None
    assert total(model) == 0


def test_clone_protects_the_retained_output_from_a_later_in_place_op():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(inplace=True)).to(DEVICE)
    x = x_()
    with Trace(model, "0") as shared, Trace(model, "0", clone=True) as copied:
        y = model(x)
    assert torch.equal(shared.output, y)  # the ReLU overwrote what was retained
    assert (copied.output < 0).any() and not (shared.output < 0).any()
    assert shared.output.data_ptr() != copied.output.data_ptr()


@given(model_cases(), st.floats(-2, 2))
def test_edit_output_changes_the_model_result(case, scale):
    model, name, x = case
    value = run_by_hand_until(model, name, x).detach() * scale + 1.0
    with Trace(model, name, edit_output=lambda out, layer: value) as tr:
        y = model(x)
    assert torch.allclose(y, reference.patch_layer(model, name, x, value), atol=1e-5)
    assert torch.equal(tr.output, value)  # what is retained is what flowed on
    if name == str(len(model) - 1) and x.shape[0] > 0:  # the last layer: y is the edit itself
        assert torch.equal(y, value) and not torch.allclose(y, model(x))
    assert total(model) == 0


def test_edit_function_gets_the_layer_name_and_traced_dict_edits_each_layer():
    model, x = tiny_model(), x_()
    seen = []

    def double(out, layer):
        seen.append(layer)
        return out * 2

    with TraceDict(model, ["fc1", "fc2"], edit_output=double):
        y = model(x)
    assert seen == ["fc1", "fc2"]
    expected = 2 * model.fc2(model.act(2 * model.fc1(x)))
    assert torch.allclose(y, expected)
    assert not torch.allclose(y, model(x))  # the edit changed the result, and only inside


def test_stop_ends_the_forward_pass_after_the_layer():
    model, x = tiny_model(), x_()
    ran = []
    spy = model.fc2.register_forward_pre_hook(lambda m, a: ran.append("fc2"))
    with Trace(model, "act", stop=True) as tr:
        out = model(x)
        pytest.fail("not reached: model(x) raised StopForward")  # pragma: no cover
    assert ran == [] and tr.output.shape == (2, 3)
    assert "out" not in locals()
    spy.remove()
    assert total(model) == 0


def test_tracedict_stops_when_every_listed_layer_has_run():
    model, x = tiny_model(), x_()
    ran = []
    spy = model.fc2.register_forward_pre_hook(lambda m, a: ran.append("fc2"))
    # listed out of order: stops after "act", the later of the two to run
    with TraceDict(model, ["act", "fc1"], stop=True) as td:
        model(x)
    assert ran == [] and set(td) == {"act", "fc1"}
    assert td["fc1"].output.shape == (2, 3) and td["act"].calls == 1
    spy.remove()
    assert total(model) == 0


def test_a_module_used_twice_keeps_its_last_output():
    lin = nn.Linear(3, 3).to(DEVICE)
    model = nn.Sequential(lin, nn.Tanh(), lin)
    x = torch.ones(1, 3, device=DEVICE)
    with Trace(model, "0") as tr:
        y = model(x)
    assert tr.calls == 2 and torch.equal(tr.output, y)


# --- hooks are removed on every path -----------------------------------------------------------


def test_hooks_are_removed_when_the_body_raises():
    model, x = tiny_model(), x_()
    with pytest.raises(ZeroDivisionError), Trace(model, "fc1"):
        model(x)
        assert total(model) == 1
        _ = 1 / 0
    assert total(model) == 0
    with pytest.raises(ZeroDivisionError), TraceDict(model, ["fc1", "act", "fc2"]):
        assert hook_counts(model)["forward"] == 3
        _ = 1 / 0
    assert total(model) == 0


def test_hooks_are_removed_when_the_edit_raises_and_when_stopping_nested():
    model, x = tiny_model(), x_()

    def broken(out, layer):
        raise RuntimeError("broken edit")

    with pytest.raises(RuntimeError, match="broken edit"), Trace(model, "fc1", edit_output=broken):
        model(x)
    assert total(model) == 0
    # an inner trace that does not stop lets the outer trace's StopForward through
    with Trace(model, "act", stop=True) as outer:
        with Trace(model, "fc1") as inner:
            model(x)
        pytest.fail("not reached")  # pragma: no cover
    assert inner.output is not None and outer.output is not None
    assert total(model) == 0
    # a StopForward that belongs to another trace is not swallowed
    other = Trace(model, "fc2")
    other.close()
    with pytest.raises(StopForward), Trace(model, "fc1", stop=True):
        raise StopForward(other, "fc2")
    assert total(model) == 0


def test_close_without_with_and_twice():
    model, x = tiny_model(), x_()
    tr = Trace(model, "fc2")
    assert tr.active and total(model) == 1
    model(x)
    tr.close()
    tr.close()
    assert not tr.active and total(model) == 0 and tr.output.shape == (2, 2)
    assert repr(tr) == "Trace('fc2', closed, calls=1)"


def test_a_wrong_name_registers_nothing():
    model = tiny_model()
    with pytest.raises(LookupError):
        TraceDict(model, ["fc1", "act", "fc3"])
    assert total(model) == 0
    with pytest.raises(ValueError, match="listed twice"):
        TraceDict(model, ["fc1", "fc1"])
    assert total(model) == 0


def test_an_edit_with_the_wrong_shape_is_an_error_and_leaves_no_hook():
    model, x = tiny_model(), x_()
    with (
        pytest.raises(
            ValueError,
            match=re.escape("returned shape (2, 2), but the layer's output has shape (2, 3)"),
        ),
        Trace(model, "fc1", edit_output=lambda out, layer: out[:, :2]),
    ):
        model(x)
    assert total(model) == 0


# --- error messages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda m: Trace(m, "fc3"),
            LookupError,
            "no module named 'fc3' in Sequential; the valid names are '' (the model itself), "
            "'fc1', 'act', 'fc2' (did you mean 'fc2' or 'fc1'?)",
        ),
        (
            lambda m: _get_module(m, "encoder"),
            LookupError,
            "no module named 'encoder' in Sequential; the valid names are '' (the model itself), "
            "'fc1', 'act', 'fc2'",
        ),
        (
            lambda m: Trace(m, 0),
            TypeError,
            "layer must be a str, a name from model.named_modules(), got int 0 (write '0')",
        ),
        (
            lambda m: TraceDict(m, "fc1"),
            TypeError,
            "layers must be a list of names, got the str 'fc1'",
        ),
        (
            lambda m: Trace(m, "fc1", edit_output=3),
            TypeError,
            "edit_output must be a function (output, layer) -> output, got int",
        ),
        (lambda m: Trace([m], "fc1"), TypeError, "model must be a torch.nn.Module, got list"),
    ],
)
def test_argument_errors(call, error, message):
    model = tiny_model()
    with pytest.raises(error, match=re.escape(message)):
        call(model)
    assert total(model) == 0


def zero_in_place_and_forget_to_return(out, layer):
    out.mul_(0)


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (
            lambda out, layer: out[:, :2],
            ValueError,
            "edit_output for layer 'act' returned shape (2, 2), but the layer's output has shape "
            "(2, 3); an edit must keep the output's shape",
        ),
        (
            zero_in_place_and_forget_to_return,
            ValueError,
            "edit_output for layer 'act' returned None; return the edited output",
        ),
        (
            lambda out, layer: out.tolist(),
            TypeError,
            "edit_output for layer 'act' returned list, but the layer's output is a tensor of shape (2, 3)",
        ),
    ],
)
def test_edit_errors_name_the_layer_and_both_shapes(edit, error, message):
    model, x = tiny_model(), x_()
    with pytest.raises(error, match=re.escape(message)), Trace(model, "act", edit_output=edit):
        model(x)
    assert total(model) == 0


def test_tuple_outputs_are_retained_detached_and_edits_keep_their_structure():
    class Pair(nn.Module):
        def forward(self, x):
            return x * 2, x.sum(dim=1)

    model = nn.Sequential(OrderedDict(fc=nn.Linear(4, 3), pair=Pair())).to(DEVICE)
    x = x_()
    with Trace(model, "pair", detach=True, clone=True) as tr:
        model(x)
    assert [tuple(t.shape) for t in tr.output] == [(2, 3), (2,)]
    assert not any(t.requires_grad for t in tr.output)
    with (
        pytest.raises(
            ValueError,
            match=re.escape("returned ('(2, 3)',), but the layer's output is ('(2, 3)', '(2,)')"),
        ),
        Trace(model, "pair", edit_output=lambda out, layer: (out[0],)),
    ):
        model(x)
    assert total(model) == 0


# --- record_hook_order and its figure ---------------------------------------------------------


EXPECTED_ORDER = [
    ("forward", "forward_pre", "fc1"),
    ("forward", "forward", "fc1"),
    ("forward", "forward_pre", "act"),
    ("forward", "forward", "act"),
    ("forward", "forward_pre", "fc2"),
    ("forward", "forward", "fc2"),
    ("backward", "backward_pre", "fc2"),
    ("backward", "tensor", "fc2"),
    ("backward", "backward", "fc2"),
    ("backward", "backward_pre", "act"),
    ("backward", "tensor", "act"),
    ("backward", "backward", "act"),
    ("backward", "backward_pre", "fc1"),
    ("backward", "tensor", "fc1"),
    ("backward", "backward", "fc1"),
]


def test_record_hook_order_pins_pytorchs_order_and_cleans_up():
    model = tiny_model()
    events = record_hook_order(model, x_())
    assert [(e.phase, e.kind, e.layer) for e in events] == EXPECTED_ORDER
    assert [e.step for e in events] == list(range(len(EXPECTED_ORDER)))
    assert total(model) == 0
    assert all(p.grad is None for p in model.parameters())
    only = record_hook_order(model, x_(), layers=["act"])
    assert [e.kind for e in only] == [
        "forward_pre",
        "forward",
        "backward_pre",
        "tensor",
        "backward",
    ]


def test_record_hook_order_errors():
    with pytest.raises(TypeError, match=r"x must be a floating-point torch\.Tensor, got Tensor"):
        record_hook_order(tiny_model(), torch.ones(2, 4, dtype=torch.int64))
    with pytest.raises(LookupError, match="no module named 'fc9'"):
        record_hook_order(tiny_model(), x_(), layers=["fc9"])


def test_hook_timeline_draws_each_recorded_call_in_order_and_colour():
    events = record_hook_order(tiny_model(), x_())
    fig = draw.hook_timeline(events)
    assert fig.markers == [tuple(e) for e in events]
    root = parse(fig)
    circles = elements(root, "circle", data_step=True)
    assert [
        int(c.get("data-step")) for c in sorted(circles, key=lambda c: int(c.get("data-step")))
    ] == list(range(len(events)))
    by_step = {int(c.get("data-step")): c for c in circles}
    for e in events:
        c = by_step[e.step]
        assert (c.get("data-phase"), c.get("data-kind"), c.get("data-layer")) == (
            e.phase,
            e.kind,
            e.layer,
        )
        assert c.get("fill") == draw_hooks.hook_colour(e.kind)
    for phase in ("forward", "backward"):
        lane = [by_step[e.step] for e in events if e.phase == phase]
        xs = [float(c.get("cx")) for c in lane]
        assert xs == sorted(xs) and len(set(xs)) == len(xs)  # time runs left to right
        assert len({c.get("cy") for c in lane}) == 1  # one lane per pass
    # each layer's box surrounds exactly its own markers
    for rect in elements(root, "rect", data_span=True):
        phase, layer = rect.get("data-span").split(":")
        x0, x1 = float(rect.get("x")), float(rect.get("x")) + float(rect.get("width"))
        inside = {
            (c.get("data-phase"), c.get("data-layer"))
            for c in circles
            if x0 <= float(c.get("cx")) <= x1 and c.get("data-phase") == phase
        }
        assert inside == {(phase, layer)}
    legend = [c.get("data-legend") for c in elements(root, "circle", data_legend=True)]
    assert legend == ["forward_pre", "forward", "tensor", "backward_pre", "backward"]


def test_hook_timeline_rejects_bad_events():
    with pytest.raises(
        ValueError, match=re.escape("events must be numbered 0, 1, 2, ... in order, got steps [1]")
    ):
        draw.hook_timeline([HookEvent(1, "forward", "forward", "fc")])
    with pytest.raises(ValueError, match="kind must be one of"):
        draw.hook_timeline([HookEvent(0, "forward", "sideways", "fc")])
    with pytest.raises(ValueError, match="phase must be 'forward' or 'backward', got 'up'"):
        draw.hook_timeline([HookEvent(0, "up", "forward", "fc")])


# --- exercises -------------------------------------------------------------------------------


def test_exercise_solutions_pass_and_wrong_answers_fail(capsys):
    def layer_output(model, name, x):
        with Trace(model, name, detach=True, stop=True) as tr:
            model(x)
        return tr.output

    def patch_layer(model, name, x, value):
        with Trace(model, name, edit_output=lambda out, layer: value):
            return model(x)

    def layer_output_grad(model, name, x):
        with Trace(model, name) as tr:
            y = model(x)
        return torch.autograd.grad(y.sum(), tr.output)[0]

    check(layer_output, "layer_output", n_cases=30)
    check(patch_layer, "patch_layer", n_cases=30)
    check(layer_output_grad, "layer_output_grad", n_cases=30)
    assert capsys.readouterr().out.count("✓") == 3
    with pytest.raises(AssertionError, match="expected shape"):
        check(lambda model, name, x: model(x), "layer_output")
    with pytest.raises(AssertionError, match="patch_layer failed"):
        check(lambda model, name, x, value: model(x), "patch_layer")
    with pytest.raises(AssertionError, match="layer_output_grad failed"):  # d out / d out is 1
        check(
            lambda model, name, x: torch.ones_like(layer_output(model, name, x)),
            "layer_output_grad",
        )


@given(model_cases())
def test_references_agree_with_plain_hooks(case):
    model, name, x = case
    module = _get_module(model, name)
    outs, grads = [], []

    def keep(m, args, out):
        outs.append(out)
        out.register_hook(grads.append)

    handle = module.register_forward_hook(keep)
    try:
        model(x).sum().backward()
    finally:
        handle.remove()
    assert torch.allclose(outs[0], reference.layer_output(model, name, x), atol=1e-6)
    assert torch.allclose(grads[0], reference.layer_output_grad(model, name, x), atol=1e-5)


# --- PyTorch behaviours the chapter relies on (pin the surprise) ------------------------------


def test_pytorch_forward_pre_hook_result_is_wrapped_in_a_tuple():
    model, x = tiny_model(), x_()
    h = model.fc1.register_forward_pre_hook(lambda m, args: args[0] * 0)  # not a tuple
    try:
        y = model(x)
    finally:
        h.remove()
    assert torch.allclose(y, model.fc2(model.act(model.fc1.bias.expand(2, 3))))


def test_pytorch_a_forward_hook_returning_the_wrong_shape_fails_downstream_without_naming_the_hook():
    model, x = tiny_model(), x_()
    h = model.fc1.register_forward_hook(lambda m, a, out: out[:, :2])
    try:
        with pytest.raises(
            RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (2x2 and 3x2)")
        ):
            model(x)
    finally:
        h.remove()


def test_pytorch_full_backward_hook_returning_a_bare_tensor_is_read_as_a_sequence():
    model, x = tiny_model(), x_().requires_grad_()
    h = model.fc2.register_full_backward_hook(lambda m, gi, go: gi[0] * 2)  # should be (…,)
    try:
        with pytest.raises(
            RuntimeError,
            match=re.escape(
                "Backward hook returned an invalid number of grad_input, got 2, but expected 1"
            ),
        ):
            model(x).sum().backward()
    finally:
        h.remove()


def test_pytorch_full_backward_hook_changing_a_shape():
    model, x = tiny_model(), x_().requires_grad_()
    h = model.fc2.register_full_backward_hook(lambda m, gi, go: (gi[0][:, :2],))
    try:
        with pytest.raises(
            RuntimeError, match=re.escape("hook 'hook' has changed the size of value")
        ):
            model(x).sum().backward()
    finally:
        h.remove()


def test_pytorch_full_backward_hook_fires_early_with_a_warning_when_no_input_requires_grad():
    model, x = tiny_model(), x_()  # x does not require grad
    order, seen = [], []

    def fwd(m, a, out):
        out.register_hook(lambda g: order.append("tensor"))

    def bwd(m, gi, go):
        order.append("backward")
        seen.append(gi)

    handles = [model.fc1.register_forward_hook(fwd), model.fc1.register_full_backward_hook(bwd)]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model(x).sum().backward()
    finally:
        for h in handles:
            h.remove()
    assert order == ["backward", "tensor"]  # before the gradient of its own output is complete
    assert seen == [(None,)]
    assert any(
        "Full backward hook is firing when gradients are computed with respect to module outputs"
        in str(w.message)
        for w in caught
    )


def test_pytorch_grad_input_of_a_linear_is_the_gradient_of_its_input_only():
    model, x = tiny_model(), x_().requires_grad_()
    got = {}
    h = model.fc1.register_full_backward_hook(lambda m, gi, go: got.update(gi=gi, go=go))
    try:
        model(x).sum().backward()
    finally:
        h.remove()
    assert len(got["gi"]) == 1 and torch.allclose(got["gi"][0], x.grad)
    assert got["gi"][0].shape == x.shape and got["go"][0].shape == (2, 3)


def test_pytorch_full_backward_hook_and_an_in_place_op_on_the_output():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(inplace=True)).to(DEVICE)
    h = model[0].register_full_backward_hook(lambda m, gi, go: None)
    try:
        with pytest.raises(
            RuntimeError,
            match="Output 0 of BackwardHookFunction is a view and is being modified inplace",
        ):
            model(x_())
    finally:
        h.remove()


def test_pytorch_in_place_edit_of_a_saved_output_breaks_backward():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2)).to(DEVICE)

    def double_in_place(m, a, out):
        out.mul_(2)

    h = model[1].register_forward_hook(double_in_place)
    try:
        y = model(x_())
        with pytest.raises(
            RuntimeError, match="which is output 0 of Tanh, is at version 1; expected version 0"
        ):
            y.sum().backward()
    finally:
        h.remove()


def test_pytorch_an_in_place_edit_of_a_linear_output_is_allowed_and_seen_downstream():
    model, x = tiny_model(), x_()

    def zero(m, a, out):
        out.zero_()

    h = model.fc1.register_forward_hook(zero)
    try:
        y = model(x)
        y.sum().backward()  # addmm does not save its output: no error
    finally:
        h.remove()
    assert torch.allclose(y, model.fc2(torch.zeros(2, 3, device=DEVICE)))


def test_pytorch_tensor_hook_result_is_what_reaches_grad():
    w = torch.tensor([1.0, 2.0], device=DEVICE, requires_grad=True)
    h = w.register_hook(lambda g: g * 10)
    (w * w).sum().backward()
    h.remove()
    assert w.grad.tolist() == [20.0, 40.0]
    with pytest.raises(
        RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"
    ):
        torch.ones(2).register_hook(lambda g: g)
    z = torch.ones(2, 3, device=DEVICE, requires_grad=True) * 1
    z.register_hook(lambda g: g[:, :1])
    with pytest.raises(
        RuntimeError, match=re.escape("hook '<lambda>' has changed the size of value")
    ):
        z.sum().backward()


def test_pytorch_hooks_survive_an_exception_in_forward():
    model = tiny_model()

    def boom(m, a, out):
        raise ValueError("boom")

    h = model.fc1.register_forward_hook(boom)
    with pytest.raises(ValueError, match="boom"):
        model(x_())
    assert hook_counts(model)["forward"] == 1  # nobody removed it
    h.remove()
    h.remove()  # removing twice is harmless
    assert total(model) == 0


def test_pytorch_calling_forward_directly_skips_hooks_and_no_grad_does_not():
    model, x = tiny_model(), x_()
    calls = []
    h = model.fc1.register_forward_hook(lambda m, a, out: calls.append(out.requires_grad))
    try:
        model.fc1.forward(x)
        assert calls == []
        model.fc1(x)
        with torch.no_grad():
            model(x)
    finally:
        h.remove()
    assert calls == [True, False]


def test_pytorch_global_hooks_fire_for_every_module_global_first():
    model, x = tiny_model(), x_()
    order = []
    g = nn.modules.module.register_module_forward_hook(
        lambda m, a, out: order.append(("global", type(m).__name__))
    )
    h = model.fc1.register_forward_hook(lambda m, a, out: order.append(("module", "fc1")))
    try:
        model(x)
    finally:
        g.remove()
        h.remove()
    assert order == [
        ("global", "Linear"),
        ("module", "fc1"),
        ("global", "ReLU"),
        ("global", "Linear"),
        ("global", "Sequential"),
    ]


def test_pytorch_deepcopy_copies_hooks_and_remove_does_not_reach_the_copy():
    model, x = tiny_model(), x_()
    calls = []
    h = model.fc1.register_forward_hook(lambda m, a, out: calls.append(1))
    twin = copy.deepcopy(model)
    h.remove()
    twin(x)
    assert calls == [1] and hook_counts(model)["forward"] == 0
    assert hook_counts(twin)["forward"] == 1


def test_pytorch_a_never_removed_hook_keeps_what_its_closure_holds_alive():
    model, x = tiny_model(), x_()

    def keep_outputs(module):
        store = []
        handle = module.register_forward_hook(lambda m, a, out: store.append(out))
        return store, handle

    store, handle = keep_outputs(model.fc1)
    model(x)
    ref = weakref.ref(store[0])
    del store
    gc.collect()
    assert ref() is not None
    handle.remove()
    gc.collect()
    assert ref() is None


def test_pytorch_get_submodule_error_does_not_list_names():
    with pytest.raises(AttributeError, match="Sequential has no attribute `fc3`"):
        tiny_model().get_submodule("fc3")


def test_pytorch_torch_has_no_nethook():
    import importlib.util

    assert not hasattr(torch, "nethook") and not hasattr(torch.nn, "nethook")
    assert importlib.util.find_spec("torch.nethook") is None


def test_pytorch_a_module_remembers_its_backward_hook_kind_after_remove():
    for first, second in [
        ("register_full_backward_hook", "register_backward_hook"),
        ("register_backward_hook", "register_full_backward_hook"),
    ]:
        lin = nn.Linear(4, 3)
        getattr(lin, first)(lambda m, gi, go: None).remove()
        assert total(lin) == 0
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
            getattr(lin, second)(lambda m, gi, go: None)
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
            getattr(copy.deepcopy(lin), second)(lambda m, gi, go: None)


def test_pytorch_old_backward_hook_on_linear_reports_the_inputs_of_addmm():
    lin = nn.Linear(4, 3).to(DEVICE)
    got = {}
    x = x_().requires_grad_()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = lin.register_backward_hook(lambda m, gi, go: got.update(gi=gi))
        lin(x).sum().backward()
        h.remove()
    bias, inp, weight_t = got["gi"]
    assert torch.equal(bias, lin.bias.grad) and torch.equal(inp, x.grad)
    assert torch.equal(weight_t.t(), lin.weight.grad)
    assert [type(w.message).__name__ for w in caught] == ["FutureWarning"]


def test_pytorch_pre_hook_with_kwargs_and_prepend():
    class Scale(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale

    m = Scale()
    seen, order = {}, []
    handles = [
        m.register_forward_pre_hook(
            lambda mod, args, kwargs: seen.update(args=args, kwargs=kwargs), with_kwargs=True
        ),
        m.register_forward_pre_hook(lambda mod, args: seen.update(plain=args)),
        m.register_forward_hook(lambda mod, a, out: order.append("A")),
        m.register_forward_hook(lambda mod, a, out: order.append("B")),
        m.register_forward_hook(lambda mod, a, out: order.append("first"), prepend=True),
    ]
    m(torch.ones(1), scale=2.0)
    for h in handles:
        h.remove()
    assert seen["kwargs"] == {"scale": 2.0} and len(seen["plain"]) == 1
    assert order == ["first", "A", "B"]


def test_pytorch_a_wrong_shape_from_the_last_layers_hook_is_not_an_error_at_all():
    model, x = tiny_model(), x_()
    h = model.fc2.register_forward_hook(lambda m, a, out: out[:, :1])
    try:
        assert model(x).shape == (2, 1)
    finally:
        h.remove()


def test_pytorch_tensor_hook_may_not_change_the_dtype():
    z = torch.ones(2, device=DEVICE, requires_grad=True) * 1
    z.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the type of value"):
        z.sum().backward()


def test_pytorch_backward_hooks_fire_only_when_backward_reaches_the_module():
    model, x = tiny_model(), x_()
    fired = []
    h = model.fc2.register_full_backward_hook(lambda m, gi, go: fired.append("fc2"))
    try:
        model.fc1(x).sum().backward()  # fc2 is not on the path
        assert fired == []
        model(x).sum().backward()
        assert fired == ["fc2"]
    finally:
        h.remove()


def test_pytorch_cloning_in_the_hooked_modules_forward_hook_does_not_avoid_the_view_error():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(inplace=True)).to(DEVICE)
    x = x_().requires_grad_()
    handles = [model[0].register_full_backward_hook(lambda m, gi, go: None)]
    try:
        handles.append(model[0].register_forward_hook(lambda m, a, out: out.clone()))
        with pytest.raises(RuntimeError, match="Output 0 of BackwardHookFunction is a view"):
            model(x)  # the clone is wrapped after the forward hooks run
        handles.pop().remove()
        handles.append(model[1].register_forward_pre_hook(lambda m, args: args[0].clone()))
        model(x).sum().backward()  # cloning before the ReLU works
    finally:
        for h in handles:
            h.remove()
    assert total(model) == 0


def test_a_long_list_of_names_is_shortened_and_close_names_are_suggested():
    model = nn.Sequential(*[nn.ReLU() for _ in range(30)])
    with pytest.raises(LookupError) as info:
        _get_module(model, "31")
    message = str(info.value)
    assert "'' (the model itself), '0', '1'" in message and "... (7 more)" in message
    assert "(did you mean" in message
    assert _get_module(model, "29") is model[29]


# --- issue 9: clear errors, nothing silent ------------------------------------------------------


def _mlp():
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).to(DEVICE)


@pytest.mark.parametrize("layers", [None, 3, 1.5])
def test_trace_dict_names_a_layers_argument_that_is_not_a_list(layers):
    with pytest.raises(TypeError, match="layers must be a list of names"):
        TraceDict(_mlp(), layers)


def test_record_hook_order_names_layers_that_are_not_a_list():
    with pytest.raises(TypeError, match="layers must be a list of names, got the str '0'"):
        record_hook_order(_mlp(), torch.ones(1, 3, device=DEVICE), "0")


class _TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(3, 4)
        self.a, self.b = nn.Linear(4, 1), nn.Linear(4, 2)

    def forward(self, x):
        h = self.body(x)
        return self.a(h), {"b": self.b(h), "n": 3}


def test_record_hook_order_sums_a_model_that_returns_a_tuple():
    events = record_hook_order(_TwoHeads().to(DEVICE), torch.ones(2, 3, device=DEVICE))
    assert [e.kind for e in events if e.layer == "a"] == [
        "forward_pre",
        "forward",
        "backward_pre",
        "tensor",
        "backward",
    ]
    assert {e.layer for e in events if e.kind == "backward"} == {"body", "a", "b"}


def test_record_hook_order_refuses_a_model_with_nothing_to_backpropagate():
    model = nn.Sequential(nn.Flatten()).to(DEVICE)
    model.forward = lambda x: (x.argmax(-1),)  # an int tensor: no backward pass
    with pytest.raises(TypeError, match="no floating-point tensor that requires grad"):
        record_hook_order(model, torch.ones(2, 3, device=DEVICE))
    assert sum(hook_counts(model).values()) == 0


def test_a_closed_trace_cannot_be_entered_again():
    model = _mlp()
    with Trace(model, "0") as tr:
        model(torch.ones(1, 3, device=DEVICE))
    with pytest.raises(ValueError, match=re.escape("Trace('0', closed, calls=1) is closed")):
        tr.__enter__()
    with TraceDict(model, ["0", "2"]) as td:
        pass
    with pytest.raises(ValueError, match=re.escape("TraceDict(['0', '2'], closed) is closed")):
        td.__enter__()
    assert sum(hook_counts(model).values()) == 0


def test_trace_dict_refuses_one_module_under_two_names():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(OrderedDict(first=shared, second=shared)).to(DEVICE)
    with pytest.raises(ValueError, match="layers 'first' and 'second' are the same module"):
        TraceDict(model, ["first", "second"])
    assert sum(hook_counts(model).values()) == 0


def test_a_trace_never_closed_is_collected_and_takes_its_hook_with_it():
    model = _mlp()
    tr = Trace(model, "0")  # no `with`, no close()
    model(torch.ones(1, 3, device=DEVICE))
    assert tr.calls == 1 and hook_counts(model)["forward"] == 1
    ref = weakref.ref(tr)
    del tr
    gc.collect()
    assert ref() is None
    assert hook_counts(model)["forward"] == 0
    td = TraceDict(model, ["0", "2"])
    ref = weakref.ref(td)
    del td
    gc.collect()
    assert ref() is None
    assert hook_counts(model)["forward"] == 0
    model(torch.ones(1, 3, device=DEVICE))  # nothing left to fire


# --- submodules whose hooks never fire (chapter 6, "hooks-never-fired") ---------------------


@given(model_cases())
def test_forward_calls_counts_each_module_of_a_sequential_once_and_removes_its_hooks(case):
    model, _, x = case
    model, x = model.to(DEVICE), x.to(DEVICE)
    for via in ("module", "global"):
        counts = forward_calls(model, x, via=via)
        assert list(counts) == [n for n, _ in model.named_modules()]
        assert set(counts.values()) == {1}
        assert total(model) == 0


def test_forward_calls_counts_a_shared_module_under_each_name_and_each_call():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(OrderedDict(first=shared, act=nn.ReLU(), second=shared)).to(DEVICE)
    counts = forward_calls(model, torch.ones(2, 3, device=DEVICE))
    assert counts == {"": 1, "first": 2, "act": 1, "second": 2}


def test_forward_calls_passes_kwargs_and_names_bad_arguments():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=True).to(DEVICE)
    q = torch.ones(1, 3, 4, device=DEVICE)
    assert forward_calls(mha, (q, q, q), {"need_weights": False}) == {"": 1, "out_proj": 0}
    with pytest.raises(ValueError, match="via must be 'module' or 'global', got 'modules'"):
        forward_calls(mha, (q, q, q), via="modules")
    with pytest.raises(TypeError, match="kwargs must be a dict"):
        forward_calls(mha, (q, q, q), [("need_weights", False)])
    with pytest.raises(TypeError, match=r"model must be a torch\.nn\.Module"):
        forward_calls(lambda x: x, q)
    with pytest.raises(TypeError):  # the model's own error, passed on; no hook is left
        forward_calls(mha, (q,))
    assert total(mha) == 0


def _modes(model, inputs, via):
    runs = {}
    for mode in ("train", "eval", "no_grad"):
        model.train(mode == "train")
        with torch.set_grad_enabled(mode != "no_grad"):
            runs[mode] = forward_calls(model, inputs, via=via)
    return runs


def test_multihead_attention_never_calls_out_proj_on_2_13():
    """Pinned on torch 2.13.0: nn.MultiheadAttention passes out_proj.weight and .bias to
    F.multi_head_attention_forward, so hooks on out_proj never fire, in any mode."""
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True).to(DEVICE)
    t = torch.randn(2, 3, 8).to(DEVICE)
    for via in ("module", "global"):
        for counts in _modes(mha, (t, t, t), via).values():
            assert counts == {"": 1, "out_proj": 0}


def test_encoder_layer_fast_path_is_skipped_when_a_submodule_is_hooked_on_2_13():
    """Pinned on torch 2.13.0: TransformerEncoderLayer in eval mode under no_grad runs one fused
    op (no submodule is called) unless a forward (pre-)hook is attached to one of its modules,
    in which case it takes the ordinary path and every submodule but out_proj runs."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True).to(DEVICE)
    t = torch.randn(2, 3, 8).to(DEVICE)
    hooked, unhooked = _modes(layer, t, "module"), _modes(layer, t, "global")
    inside = [n for n, _ in layer.named_modules() if n not in ("", "self_attn.out_proj")]
    for mode in ("train", "eval"):
        for runs in (hooked, unhooked):
            assert runs[mode]["self_attn.out_proj"] == 0
            assert all(runs[mode][n] == 1 for n in inside)
    assert all(hooked["no_grad"][n] == 1 for n in inside)
    assert all(unhooked["no_grad"][n] == 0 for n in inside)
    assert hooked["no_grad"][""] == unhooked["no_grad"][""] == 1
    # the fused path and the ordinary path agree on the output
    layer.eval()
    with torch.no_grad():
        fused = layer(t)
        with Trace(layer, "linear1"):
            ordinary = layer(t)
    torch.testing.assert_close(fused, ordinary)


def test_trace_says_whether_its_hook_fired():
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=True).to(DEVICE)
    q = torch.ones(1, 3, 4, device=DEVICE)
    with TraceDict(mha, ["", "out_proj"]) as td:
        assert td.missing == ["", "out_proj"]
        mha(q, q, q)
    assert td.missing == ["out_proj"]
    assert td[""].fired and not td["out_proj"].fired and td["out_proj"].output is None
    assert td[""].missing == [] and td["out_proj"].missing == ["out_proj"]
    msg = "the forward hook on 'out_proj' (NonDynamicallyQuantizableLinear) never fired"
    with pytest.raises(RuntimeError, match=re.escape(msg)), Trace(mha, "out_proj", must_fire=True):
        mha(q, q, q)
    with (
        pytest.raises(RuntimeError, match=re.escape(msg)),
        TraceDict(mha, ["", "out_proj"], must_fire=True),
    ):
        mha(q, q, q)
    assert total(mha) == 0
    with Trace(mha, "", must_fire=True) as tr:  # fired: no error
        mha(q, q, q)
    assert tr.fired and tr.calls == 1


def test_must_fire_does_not_hide_the_blocks_own_error_or_an_early_stop():
    model = _mlp()
    # the block's own error comes out, not "never fired"
    with pytest.raises(KeyError), Trace(model, "2", must_fire=True):
        raise KeyError("mine")
    with TraceDict(model, ["0"], stop=True, must_fire=True) as td:
        model(torch.ones(1, 3, device=DEVICE))
    assert td.missing == []
    with pytest.raises(TypeError, match="must_fire must be True or False, got int 1"):
        Trace(model, "0", must_fire=1)
    with pytest.raises(TypeError, match="must_fire must be True or False, got str 'yes'"):
        TraceDict(model, ["0"], must_fire="yes")
    assert total(model) == 0


# --- gradient checkpointing (chapter 6, "hooks-checkpoint") ---------------------------------


def test_checkpoint_context_fn_tells_the_recomputation_apart_but_grad_mode_does_not():
    """Pinned on torch 2.13.0 with use_reentrant=False: the forward hook fires in the forward
    pass and again in backward; grad mode is enabled both times; only context_fn's second
    context manager marks the recomputation."""
    from torch.utils.checkpoint import checkpoint

    model = tiny_model()
    state = {"recomputing": False}

    @contextlib.contextmanager
    def recomputing():
        state["recomputing"] = True
        try:
            yield
        finally:
            state["recomputing"] = False

    calls = []
    handle = model.fc1.register_forward_hook(
        lambda module, args, output: calls.append(
            (state["recomputing"], torch.is_grad_enabled(), output.requires_grad)
        )
    )
    out = checkpoint(
        model,
        x_(),
        use_reentrant=False,
        context_fn=lambda: (contextlib.nullcontext(), recomputing()),
    )
    assert calls == [(False, True, True)]
    out.sum().backward()
    handle.remove()
    assert calls == [(False, True, True), (True, True, True)]


# --- keyword arguments (chapter 6, "hooks-kwargs") ------------------------------------------


class _Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x, mask=None, *, scale=1.0):
        y = self.fc(x) * scale
        return y if mask is None else y * mask


@given(st.booleans(), st.booleans(), st.floats(-2, 2))
def test_forward_arguments_is_the_same_however_the_call_is_written(mask_by_name, give_scale, s):
    gate = _Gate().to(DEVICE)
    x, mask = torch.ones(2, 4, device=DEVICE), torch.zeros(2, 3, device=DEVICE)
    args, kwargs = ((x,), {"mask": mask}) if mask_by_name else ((x, mask), {})
    if give_scale:
        kwargs["scale"] = s
    got = forward_arguments(gate, args, kwargs)
    assert list(got) == ["x", "mask", "scale"]
    assert got["x"] is x and got["mask"] is mask and got["scale"] == (s if give_scale else 1.0)
    # what the pre-hook sees is what forward_arguments binds
    seen = []
    handle = gate.register_forward_pre_hook(
        lambda m, a, k: seen.append(forward_arguments(m, a, k)), with_kwargs=True
    )
    gate(*args, **kwargs)
    handle.remove()
    assert seen[0].keys() == got.keys() and all(seen[0][k] is got[k] for k in got)


def test_forward_arguments_names_what_does_not_fit():
    gate = _Gate()
    x = torch.ones(1, 4)
    with pytest.raises(
        TypeError, match=r"do not fit the module.s _Gate\.forward\(x, mask=None, \*, scale=1\.0\)"
    ):
        forward_arguments(gate, (x,), {"masks": x})
    with pytest.raises(TypeError, match="args must be the tuple of positional arguments"):
        forward_arguments(gate, [x])
    with pytest.raises(TypeError, match="kwargs must be a dict"):
        forward_arguments(gate, (x,), [("mask", x)])
    with pytest.raises(TypeError, match=r"module must be a torch\.nn\.Module, got function"):
        forward_arguments(lambda x: x, (x,))


def test_with_kwargs_hooks_return_rules_on_2_13():
    """Pinned on torch 2.13.0: a with_kwargs pre-hook must return None or exactly
    (new_args, new_kwargs); a with_kwargs forward hook's return value is the new output,
    even a tuple that holds the kwargs."""
    torch.manual_seed(0)
    gate = _Gate().to(DEVICE)
    x, mask = torch.ones(2, 4, device=DEVICE), torch.zeros(2, 3, device=DEVICE)
    for bad in [(x,), {"mask": None}, ((x,), {}, 1)]:
        handle = gate.register_forward_pre_hook(lambda m, a, k, bad=bad: bad, with_kwargs=True)
        with pytest.raises(
            RuntimeError, match=r"must return None or a tuple of \(new_args, new_kwargs\)"
        ):
            gate(x, mask=mask)
        handle.remove()
    handle = gate.register_forward_pre_hook(
        lambda m, a, k: (a, {**k, "mask": torch.ones_like(mask)}), with_kwargs=True
    )
    assert torch.equal(gate(x, mask=mask), gate.fc(x))
    handle.remove()
    # a plain pre-hook sees no keyword argument, and its tuple replaces args only
    seen = []
    handle = gate.register_forward_pre_hook(lambda m, a: seen.append(len(a)) or (a[0] * 0,))
    assert torch.equal(gate(x, mask=mask), gate.fc(x * 0) * mask)
    handle.remove()
    assert seen == [1]
    handle = gate.register_forward_hook(lambda m, a, k, out: (out, k), with_kwargs=True)
    out = gate(x, mask=mask)
    handle.remove()
    assert isinstance(out, tuple) and out[1] == {"mask": mask}


# --- hook lifetime and parameter gradients (chapter 6, "hooks-alive", "hooks-param-grads") --


def test_a_handle_is_a_context_manager_that_removes_its_hook_even_on_error():
    model = tiny_model()
    calls = []
    with model.fc1.register_forward_hook(lambda m, a, o: calls.append(1)):
        model(x_())
        assert hook_counts(model)["forward"] == 1
    assert hook_counts(model)["forward"] == 0 and calls == [1]
    with pytest.raises(RuntimeError), model.fc1.register_forward_hook(lambda m, a, o: None):
        model(x_()[:, :3])
    assert total(model) == 0


def test_a_hook_holding_a_weak_reference_to_its_module_makes_no_cycle():
    class Weak(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.seen = []
            me = weakref.ref(self)
            self.register_forward_hook(lambda m, a, o: me().seen.append(o))

        def forward(self, x):
            return self.fc(x)

    gc.disable()  # prove it is freed by reference counting, not by the cycle collector
    try:
        rec = Weak().to(DEVICE)
        rec(torch.ones(1, 2, device=DEVICE))
        assert len(rec.seen) == 1
        kept, module = weakref.ref(rec.seen[0]), weakref.ref(rec)
        del rec
        assert kept() is None and module() is None
    finally:
        gc.enable()


def test_tensor_hook_sees_each_gradient_post_accumulate_hook_sees_grad_on_2_13():
    """Pinned on torch 2.13.0: Tensor.register_hook on a parameter gets each backward pass's
    gradient before accumulation; register_post_accumulate_grad_hook gets the parameter after
    .grad was updated, must return None, and refuses non-leaf tensors."""
    torch.manual_seed(0)
    lin = nn.Linear(2, 1).to(DEVICE)
    events = []
    handles = [
        lin.weight.register_hook(lambda g: events.append(("tensor", g.tolist()))),
        lin.weight.register_post_accumulate_grad_hook(
            lambda p: events.append(("post", p.grad.tolist()))
        ),
    ]
    point = torch.tensor([[1.0, 2.0]], device=DEVICE)
    for _ in range(2):
        lin(point).sum().backward()
    for h in handles:
        h.remove()
    assert events == [
        ("tensor", [[1.0, 2.0]]),
        ("post", [[1.0, 2.0]]),
        ("tensor", [[1.0, 2.0]]),
        ("post", [[2.0, 4.0]]),
    ]
    handle = lin.weight.register_post_accumulate_grad_hook(lambda p: p.grad * 0)
    with pytest.raises(RuntimeError, match="post accumulate grad hooks should return None"):
        lin(point).sum().backward()
    handle.remove()
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
        lin(point).register_post_accumulate_grad_hook(lambda p: None)


# --- torch.compile (chapter 6, "hooks-compile") ---------------------------------------------


def test_a_hook_added_after_the_first_compiled_call_does_not_run_on_2_13():
    """Pinned on torch 2.13.0 with backend="eager": Dynamo does not guard on module hooks
    (torch._dynamo.config.skip_nnmodule_hook_guards is True), so a hook added after the first
    compiled call is skipped until torch._dynamo.reset(); with the guards on, it recompiles."""
    import torch._dynamo

    assert torch._dynamo.config.skip_nnmodule_hook_guards is True
    model, x = tiny_model(), x_()
    calls = []
    torch._dynamo.reset()
    try:
        compiled = torch.compile(model, backend="eager")
        compiled(x)
        with model.fc1.register_forward_hook(lambda m, a, o: calls.append(1)):
            compiled(x)
            assert calls == []
            torch._dynamo.reset()
            compiled(x)
            assert calls == [1]
        compiled(x)  # traced with the hook; removing it is still noticed
        assert calls == [1]
        torch._dynamo.reset()
        torch._dynamo.config.skip_nnmodule_hook_guards = False
        compiled(x)
        with model.fc1.register_forward_hook(lambda m, a, o: calls.append(2)):
            torch.testing.assert_close(compiled(x), model(x))
        compiled(x)
        assert calls == [1, 2, 2]  # one compiled call and one plain call with the hook
    finally:
        torch._dynamo.config.skip_nnmodule_hook_guards = True
        torch._dynamo.reset()
    assert total(model) == 0


# --- generation with a cache (chapter 6, "hooks-generation") --------------------------------


class _TinyDecoder(nn.Module):
    """The chapter's decoder: one causal attention layer with a key/value cache."""

    def __init__(self, vocab=10, d=8):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.mlp = nn.Linear(d, d)
        self.unembed = nn.Linear(d, vocab)

    def forward(self, tokens, cache=None):
        h = self.embed(tokens)
        k, v = self.k(h), self.v(h)
        if cache is not None:
            k, v = torch.cat([cache[0], k], 1), torch.cat([cache[1], v], 1)
        new, total = h.shape[1], k.shape[1]
        causal = torch.ones(new, total, dtype=torch.bool, device=h.device).tril(total - new)
        scores = (self.q(h) @ k.transpose(1, 2)).masked_fill(~causal, float("-inf"))
        h = h + scores.softmax(-1) @ v
        h = h + torch.relu(self.mlp(h))
        return self.unembed(h), (k, v)


def _logits_with_cache(model, tokens, prompt_len):
    """Logits of every position: the prompt in one call, then one token per call."""
    logits, cache = model(tokens[:, :prompt_len])
    out = [logits]
    for j in range(prompt_len, tokens.shape[1]):
        logits, cache = model(tokens[:, j : j + 1], cache)
        out.append(logits)
    return torch.cat(out, 1)


def _zero_position(position):
    done = 0

    def hook(module, args, output):
        nonlocal done
        start, done = done, done + output.shape[1]
        if start <= position < done:
            output = output.clone()
            output[:, position - start] = 0
            return output
        return None

    return hook


@given(st.integers(0, 2**31 - 1), st.integers(1, 4), st.integers(0, 4), st.data())
def test_a_hook_under_a_cache_sees_the_prompt_then_one_position_per_call(seed, p, steps, data):
    torch.manual_seed(seed)
    model = _TinyDecoder().to(DEVICE)
    tokens = torch.randint(0, 10, (2, p + steps)).to(DEVICE)
    shapes, acts = [], []

    def hook(module, args, output):
        shapes.append(tuple(output.shape))
        acts.append(output)

    with torch.no_grad():
        with model.mlp.register_forward_hook(hook):
            cached = _logits_with_cache(model, tokens, p)
        full, _ = model(tokens)
        with Trace(model, "mlp") as tr:
            model(tokens)
    assert shapes == [(2, p, 8)] + [(2, 1, 8)] * steps
    torch.testing.assert_close(cached, full)
    torch.testing.assert_close(torch.cat(acts, 1), tr.output)
    # patching one absolute position with a running offset equals patching the full sequence
    position = data.draw(st.integers(0, p + steps - 1))

    def zero_in_full(module, args, output):
        output = output.clone()
        output[:, position] = 0
        return output

    with torch.no_grad():
        with model.v.register_forward_hook(_zero_position(position)):
            patched_cached = _logits_with_cache(model, tokens, p)
        with model.v.register_forward_hook(zero_in_full):
            patched_full, _ = model(tokens)
    torch.testing.assert_close(patched_cached, patched_full)
    assert total(model) == 0
