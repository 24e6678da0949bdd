"""snippets.autograd: what a forward pass saves for backward, and the switches that change it.

The report is checked against what autograd itself holds: every ``grad_fn`` node of the graph
exposes its saved tensors as ``_saved_*`` attributes, and the report must list exactly those,
with ``numel * element_size`` bytes each. The PyTorch behaviours the chapter relies on (and
the ones that surprised its author) are pinned below, so the book notices when they change.
"""

import copy
import re
import threading
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from snippets import draw, reference
from snippets.autograd import (
    _SOURCES,
    _SavedTensors,
    _trace_graph,
    ema_update_,
    evaluating,
    saved_tensors_report,
)
from snippets.device import DEVICE, _example
from snippets.draw import canvas
from snippets.exercises import ExerciseFailed, check
from tests.strategies import LAYOUTS, make_tensor
from tests.svg import arrow_paths, elements, parse

# --- helpers -----------------------------------------------------------------------------------


def saved_by_autograd(*outputs: torch.Tensor) -> list[torch.Tensor]:
    """Every tensor the graph behind ``outputs`` holds in a ``_saved_*`` attribute."""
    nodes = [o.grad_fn for o in outputs if o.grad_fn is not None]
    seen: list[object] = []
    found: list[torch.Tensor] = []
    while nodes:
        node = nodes.pop()
        if any(node is s for s in seen):
            continue
        seen.append(node)
        for attr in dir(node):
            if attr.startswith("_saved_"):
                value = getattr(node, attr)
                values = value if isinstance(value, (list, tuple)) else [value]
                found += [v for v in values if isinstance(v, torch.Tensor)]
        nodes += [f for f, _ in node.next_functions if f is not None]
    return found


def signature(tensors) -> Counter:
    return Counter((tuple(t.shape), t.dtype, t.numel() * t.element_size()) for t in tensors)


def report_signature(report: _SavedTensors) -> Counter:
    return Counter((e.shape, e.dtype, e.nbytes) for e in report.entries)


def linear(gen: torch.Generator, d_in: int, d_out: int, dtype=torch.float32) -> nn.Linear:
    layer = nn.utils.skip_init(nn.Linear, d_in, d_out, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(d_out, d_in, generator=gen, dtype=dtype))
        layer.bias.copy_(torch.randn(d_out, generator=gen, dtype=dtype))
    return layer


def mlp(seed: int, d_in: int, hidden: int, d_out: int, act: str = "relu", dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    activation = {"relu": nn.ReLU(), "tanh": nn.Tanh(), "sigmoid": nn.Sigmoid()}[act]
    return nn.Sequential(
        linear(gen, d_in, hidden, dtype), activation, linear(gen, hidden, d_out, dtype)
    ).to(DEVICE)


mlp_sizes = st.tuples(
    st.integers(0, 4),  # batch
    st.integers(1, 5),  # in
    st.integers(1, 6),  # hidden
    st.integers(1, 4),  # out
    st.integers(0, 2**31 - 1),  # seed
)


# --- the report against what autograd holds ---------------------------------------------------


@given(
    mlp_sizes,
    st.sampled_from(["relu", "tanh", "sigmoid"]),
    st.booleans(),
    st.sampled_from(LAYOUTS),
    st.sampled_from([torch.float32, torch.float64]),
)
def test_report_lists_exactly_what_autograd_saved(sizes, act, input_grad, layout, dtype):
    b, d_in, hidden, d_out, seed = sizes
    model = mlp(seed, d_in, hidden, d_out, act, dtype)
    x = make_tensor((b, d_in), layout, seed, dtype=dtype).requires_grad_(input_grad)
    captured = {}
    model.register_forward_hook(lambda module, args, out: captured.setdefault("out", out))
    report = saved_tensors_report(model, x)  # the model itself: its parameters are known
    saved = saved_by_autograd(captured["out"])
    assert report.count == len(saved)
    assert report_signature(report) == signature(saved)
    assert report.nbytes == sum(t.numel() * t.element_size() for t in saved)
    assert report.nbytes == sum(report.by_source().values())
    # the one activation (the hidden layer) is saved by the activation and by the 2nd linear,
    # and counted once in activation_nbytes
    assert report.activation_nbytes == b * hidden * x.element_size()
    assert {e.op for e in report.entries} <= {"linear", act}


@given(mlp_sizes, st.booleans(), st.sampled_from(["no_grad", "inference_mode", "set_grad"]))
def test_no_grad_and_inference_mode_save_nothing(sizes, input_grad, switch):
    b, d_in, hidden, d_out, seed = sizes
    model = mlp(seed, d_in, hidden, d_out)
    x = make_tensor((b, d_in), "contiguous", seed).requires_grad_(input_grad)
    # lazily: set_grad_enabled(False) switches grad mode off as soon as it is constructed
    off = {
        "no_grad": torch.no_grad,
        "inference_mode": torch.inference_mode,
        "set_grad": lambda: torch.set_grad_enabled(False),
    }[switch]()
    captured = {}
    with off:
        report = saved_tensors_report(lambda x: captured.setdefault("out", model(x)), x)
    assert (report.count, report.nbytes, report.activation_nbytes) == (0, 0, 0)
    assert report.entries == ()
    assert not captured["out"].requires_grad and captured["out"].grad_fn is None
    assert str(report) == "0 tensors saved for backward, 0 bytes"


def test_report_of_a_module_names_ops_and_sources():
    model = mlp(0, 4, 8, 3)
    report = saved_tensors_report(model, example_ones(5, 4))
    assert [(e.op, e.shape, e.source) for e in report.entries] == [
        ("linear", (5, 4), "input"),
        ("relu", (5, 8), "activation"),
        ("linear", (5, 8), "activation"),
        ("linear", (8, 3), "parameter"),  # the weight, transposed: a view of the parameter
    ]
    assert (report.count, report.nbytes, report.activation_nbytes) == (4, 496, 160)
    assert report.by_source() == {"input": 80, "parameter": 96, "output": 0, "activation": 320}
    assert str(report).splitlines() == [
        "4 tensors saved for backward, 496 bytes (160 bytes of activations)",
        "  op      shape   dtype    bytes  source",
        "  linear  (5, 4)  float32     80  input",
        "  relu    (5, 8)  float32    160  activation",
        "  linear  (5, 8)  float32    160  activation",
        "  linear  (8, 3)  float32     96  parameter",
    ]
    assert repr(report) == "SavedTensors(count=4, nbytes=496, activation_nbytes=160)"
    assert set(report.by_source()) == set(_SOURCES)


def example_ones(*shape: int) -> torch.Tensor:
    return torch.ones(shape).to(DEVICE)


@pytest.mark.parametrize(
    ("x_grad", "w_grad", "attrs"),
    [
        (False, True, ["_saved_self"]),  # d(x*w)/dw = x: only x is needed
        (True, False, ["_saved_other"]),  # d(x*w)/dx = w: only w is needed
        (True, True, ["_saved_self", "_saved_other"]),
    ],
)
def test_mul_saves_only_what_its_gradients_need(x_grad, w_grad, attrs):
    x = _example([1.0, 2.0, 3.0]).requires_grad_(x_grad)
    w = _example([4.0, 5.0, 6.0]).requires_grad_(w_grad)
    captured = {}
    report = saved_tensors_report(lambda x, w: captured.setdefault("y", x * w), x, w)
    node = captured["y"].grad_fn
    held = [getattr(node, a) for a in attrs]
    assert report.count == len(held) and report.nbytes == 12 * len(held)
    assert [e.source for e in report.entries] == ["input"] * len(held)
    # autograd keeps the tensor itself, not a copy
    originals = {"_saved_self": x, "_saved_other": w}
    for a, t in zip(attrs, held, strict=True):
        assert t.data_ptr() == originals[a].data_ptr()


def test_exp_saves_its_result_and_sum_saves_no_tensor():
    w = _example([0.0, 1.0]).requires_grad_()
    captured = {}

    def fn(w):
        captured["e"] = e = w.exp()
        return e.sum()

    report = saved_tensors_report(fn, w)
    assert [(e.op, e.source) for e in report.entries] == [("exp", "activation")]
    assert captured["e"].grad_fn._saved_result.data_ptr() == captured["e"].data_ptr()
    assert report.activation_nbytes == 8


def test_report_counts_element_size_of_each_dtype():
    for dtype, size in [(torch.float16, 2), (torch.bfloat16, 2), (torch.float64, 8)]:
        w = _example([1.0, 2.0, 3.0], dtype=dtype).requires_grad_()
        report = saved_tensors_report(lambda w: w.exp(), w)
        assert report.nbytes == 3 * size
        assert report.entries[0].source == "output"


def test_report_of_an_expanded_input_counts_numel_not_storage():
    w = _example([1.0, 2.0]).requires_grad_()
    x = _example([[3.0], [4.0]]).expand(2, 2)  # 4 elements, 2 in memory
    report = saved_tensors_report(lambda x: x * w, x)
    assert report.nbytes == 4 * 4 and report.entries[0].source == "input"


def test_report_removes_its_hooks_when_fn_raises():
    w = _example([1.0, 2.0]).requires_grad_()

    def boom(x):
        _ = x * w
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        saved_tensors_report(boom, _example([3.0, 4.0]))
    assert torch._C._len_torch_function_stack() == 0  # the recording mode is gone
    assert torch._C._autograd._top_saved_tensors_default_hooks(False) is None  # and the hooks
    y = _example([3.0, 4.0]) * w
    assert y.grad_fn._saved_self.tolist() == [3.0, 4.0]


def test_pytorch_dropout_saves_a_device_specific_mask():
    x = example_ones(4, 3).requires_grad_()
    report = saved_tensors_report(nn.Dropout(0.5), x)
    # the CPU multiplies by a float noise tensor; CUDA's fused kernel keeps a bool mask
    expected = torch.bool if DEVICE.type == "cuda" else torch.float32
    assert [(e.shape, e.dtype) for e in report.entries] == [((4, 3), expected)]


def test_report_errors():
    with pytest.raises(TypeError, match="fn must be callable, got str"):
        saved_tensors_report("model", _example([1.0]))


# --- trace_graph and the figure -----------------------------------------------------------------


def chapter_fn(x, w):
    y = x * w
    z = y.relu()
    return {"y": y, "z": z, "loss": z.sum()}


def test_trace_graph_of_the_chapter_function():
    x, w = _example([1.0, 2.0, 3.0]), _example([2.0, -1.0, 1.0]).requires_grad_()
    tr = _trace_graph(chapter_fn, x=x, w=w)
    assert [(o.op, o.inputs, o.outputs, o.grad_fn, o.saved) for o in tr.ops] == [
        ("mul", ("x", "w"), ("y",), "MulBackward0", ("x",)),
        ("relu", ("y",), ("z",), "ReluBackward0", ("z",)),
        ("sum", ("z",), ("loss",), "SumBackward0", ()),
    ]
    assert {n: (t.requires_grad, t.is_leaf, t.grad_fn) for n, t in tr.tensors.items()} == {
        "x": (False, True, None),
        "w": (True, True, None),
        "y": (True, False, "MulBackward0"),
        "z": (True, False, "ReluBackward0"),
        "loss": (True, False, "SumBackward0"),
    }
    assert tr.tensors["z"].value.tolist() == [2.0, 0.0, 3.0]
    with torch.no_grad():
        off = _trace_graph(chapter_fn, x=x, w=w)
    assert [(o.grad_fn, o.saved) for o in off.ops] == [(None, ())] * 3
    assert not any(t.requires_grad for n, t in off.tensors.items() if n != "w")
    assert off.saved.count == 0


def test_trace_graph_names_unnamed_tensors_and_rejects_bad_input():
    x = _example([1.0, 2.0]).requires_grad_()
    tr = _trace_graph(lambda x: (x * 2).exp().sum(), x=x)
    assert [o.outputs for o in tr.ops] == [("t1",), ("t2",), ("out",)]
    assert tr.tensors["t2"].saved_by == ("ExpBackward0",)
    with pytest.raises(TypeError, match="fn must return a tensor or a dict of tensors, got int"):
        _trace_graph(lambda x: 3, x=x)
    with pytest.raises(TypeError, match=re.escape("w must be a torch.Tensor, got list")):
        _trace_graph(lambda w: w, w=[1.0])


@given(
    st.integers(1, 4),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.integers(0, 2**31 - 1),
)
def test_figure_marks_what_autograd_saved(n, x_grad, w_grad, grad_mode, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=gen).to(DEVICE).requires_grad_(x_grad)
    w = torch.randn(n, generator=gen).to(DEVICE).requires_grad_(w_grad)
    with torch.set_grad_enabled(grad_mode):
        fig = draw.autograd_graph(chapter_fn, x=x, w=w)
        real = chapter_fn(x, w)  # the same computation, to read autograd's own answer
    root = parse(fig)
    expected = {}  # tensor name -> grad_fn names that hold it, read from the real graph
    if real["y"].grad_fn is not None:
        node = real["y"].grad_fn
        for attr, name in (("_saved_self", "x"), ("_saved_other", "w")):
            if any(a == attr for a in dir(node)) and getattr(node, attr) is not None:
                expected.setdefault(name, []).append("MulBackward0")
        assert real["z"].grad_fn._saved_result.data_ptr() == real["z"].data_ptr()
        expected["z"] = ["ReluBackward0"]
    outlines = {r.get("data-saved-tensor"): r.get("data-saved-by") for r in elements(root, "rect")}
    outlines.pop(None, None)
    assert outlines == {k: ",".join(v) for k, v in expected.items()}
    assert fig.saved == {k: tuple(v) for k, v in expected.items()}
    # every cell says whether its tensor requires grad, and is blue exactly when it does
    for name, t in {"x": x, "w": w, **real}.items():
        cells = elements(root, "rect", data_tensor=name)
        assert len(cells) == max(t.numel(), 1)
        for r in cells:
            assert r.get("data-requires-grad") == str(t.requires_grad)
            assert (r.get("fill") == canvas.PALETTE[0][0]) == t.requires_grad
    # every call box names the grad_fn of its output, or None
    boxes = {r.get("data-op"): r.get("data-grad-fn") for r in elements(root, "rect", data_op=True)}
    gf = {k: type(v.grad_fn).__name__ if v.grad_fn is not None else "None" for k, v in real.items()}
    assert boxes == {"mul#0": gf["y"], "relu#1": gf["z"], "sum#2": gf["loss"]}
    arrows = {
        (p.get("data-from").split(":")[0], p.get("data-to").split(":")[0])
        for p in arrow_paths(root)
    }
    assert arrows == {
        ("x", "mul#0"),
        ("w", "mul#0"),
        ("mul#0", "y"),
        ("y", "relu#1"),
        ("relu#1", "z"),
        ("z", "sum#2"),
        ("sum#2", "loss"),
    }


def test_figure_is_deterministic():
    x, w = _example([1.0, 2.0, 3.0]), _example([2.0, -1.0, 1.0]).requires_grad_()
    assert draw.autograd_graph(chapter_fn, x=x, w=w).svg() == (
        draw.autograd_graph(chapter_fn, x=x, w=w).svg()
    )
    assert repr(draw.autograd_graph(chapter_fn, x=x, w=w)) == (
        "<AutogradGraph 'autograd graph': 3 calls, 2 saved tensors>"
    )


# --- ema_update_ --------------------------------------------------------------------------------


@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.sampled_from([0.0, 0.5, 0.9, 0.999, 1.0]),
    st.booleans(),
    st.integers(0, 2**31 - 1),
)
def test_ema_update_matches_explicit_arithmetic(d_in, d_out, decay, ema_grad, seed):
    gen = torch.Generator().manual_seed(seed)
    model = nn.Sequential(linear(gen, d_in, d_out), nn.BatchNorm1d(d_out)).to(DEVICE)
    ema = copy.deepcopy(model).requires_grad_(ema_grad)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen).to(DEVICE))
        model[1].running_mean.add_(1.0)
    before = {n: p.detach().clone() for n, p in ema.named_parameters()}
    expected = reference.ema_update(before, dict(model.named_parameters()), decay)
    assert ema_update_(ema, model, decay) is ema
    for name, p in ema.named_parameters():
        torch.testing.assert_close(p.detach(), expected[name], atol=1e-5, rtol=1e-5)
        assert p.is_leaf and p.grad_fn is None and p.requires_grad == ema_grad
    assert torch.equal(ema[1].running_mean, model[1].running_mean)  # buffers are copied


def test_ema_update_errors_name_the_parameter():
    small, other = nn.Linear(2, 3), nn.Linear(3, 3)
    with pytest.raises(
        ValueError, match=re.escape("parameter 'weight' has shape (3, 2) in ema_model but (3, 3)")
    ):
        ema_update_(small, other, 0.9)
    with pytest.raises(ValueError, match=re.escape("missing in ema_model: ['1.bias', '1.weight']")):
        ema_update_(
            nn.Sequential(nn.Linear(2, 2)), nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), 0.9
        )
    with pytest.raises(ValueError, match=re.escape("only in ema_model: ['bias']")):
        ema_update_(nn.Linear(2, 2), nn.Linear(2, 2, bias=False), 0.9)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "buffers: missing in ema_model: ['num_batches_tracked', 'running_mean', 'running_var']"
        ),
    ):
        ema_update_(nn.BatchNorm1d(2, track_running_stats=False), nn.BatchNorm1d(2), 0.9)
    with pytest.raises(
        ValueError, match=re.escape("parameter 'weight' is torch.float64 on cpu in ema_model")
    ):
        ema_update_(nn.Linear(2, 2).double(), nn.Linear(2, 2), 0.9)
    with pytest.raises(ValueError, match=re.escape("decay must be a number in [0, 1], got 1.5")):
        ema_update_(nn.Linear(2, 2), nn.Linear(2, 2), 1.5)
    with pytest.raises(ValueError, match="got True"):
        ema_update_(nn.Linear(2, 2), nn.Linear(2, 2), True)
    with pytest.raises(TypeError, match=re.escape("ema_model must be a torch.nn.Module, got dict")):
        ema_update_({}, nn.Linear(2, 2), 0.9)


# --- evaluating -----------------------------------------------------------------------------------


def test_evaluating_restores_each_flag_even_after_an_error():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Dropout(0.5))
    model[1].eval()  # a frozen batch norm inside a model in training mode
    flags = [m.training for m in model.modules()]
    with evaluating(model) as m:
        assert m is model and not any(x.training for x in model.modules())
        assert not torch.is_grad_enabled()
    assert [m.training for m in model.modules()] == flags == [True, True, False, True]
    with pytest.raises(ZeroDivisionError), evaluating(model):
        _ = 1 / 0
    assert [m.training for m in model.modules()] == flags
    assert torch.is_grad_enabled()


def test_evaluating_with_inference_mode_makes_inference_tensors():
    model = nn.Linear(2, 2).to(DEVICE)
    with evaluating(model, inference=True):
        out = model(_example([[1.0, 2.0]]))
    assert out.is_inference() and not out.requires_grad
    with evaluating(model):
        out = model(_example([[1.0, 2.0]]))
    assert not out.is_inference() and not out.requires_grad
    with (
        pytest.raises(TypeError, match=re.escape("model must be a torch.nn.Module, got function")),
        evaluating(lambda x: x),
    ):
        pass


# --- PyTorch behaviours the chapter relies on (pinned) ---------------------------------------------


def test_pytorch_factory_tensor_with_requires_grad_inside_no_grad_requires_grad():
    with torch.no_grad():
        a = torch.zeros(3, device=DEVICE, requires_grad=True)
        b = a * 2  # an op result: not recorded
    assert a.requires_grad and a.is_leaf and a.grad_fn is None
    assert not b.requires_grad
    assert (a * 2).requires_grad  # outside no_grad, a is an ordinary leaf


def test_pytorch_inference_mode_factory_with_requires_grad_is_an_inference_tensor_that_requires_grad():
    with torch.inference_mode():
        a = torch.zeros(3, device=DEVICE, requires_grad=True)
        b = a * 2
    assert a.requires_grad and a.is_inference()  # surprising: both at once
    assert not b.requires_grad and b.is_inference()


def test_pytorch_enable_grad_works_inside_no_grad_but_not_inside_inference_mode():
    w = _example([1.0]).requires_grad_()
    with torch.no_grad(), torch.enable_grad():
        assert (w * 2).requires_grad
    with torch.inference_mode(), torch.enable_grad():
        out = w * 2
        assert torch.is_grad_enabled()  # the flag says yes ...
    assert not out.requires_grad and out.is_inference()  # ... inference mode wins


def test_pytorch_decorator_forms_and_set_grad_enabled():
    w = _example([1.0]).requires_grad_()

    @torch.no_grad()
    def called(v):
        return v * 2

    @torch.no_grad
    def bare(v):
        return v * 2

    assert not called(w).requires_grad and not bare(w).requires_grad
    for mode in (False, True):
        with torch.set_grad_enabled(mode):
            assert (w * 2).requires_grad is mode
    torch.set_grad_enabled(False)  # as a plain function call it switches until switched back
    try:
        assert not (w * 2).requires_grad
    finally:
        torch.set_grad_enabled(True)


INFERENCE_SAVED = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead of "
    "`torch.inference_mode()`."
)
INFERENCE_INPLACE = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details."
)


def test_pytorch_inference_tensor_error_messages():
    w = _example([1.0, 2.0]).requires_grad_()
    with torch.inference_mode():
        t = _example([3.0, 4.0]) * 1
    assert t.is_inference()
    with pytest.raises(RuntimeError) as err:
        t * w
    assert str(err.value) == INFERENCE_SAVED
    with pytest.raises(RuntimeError) as err:
        t.add_(1)
    assert str(err.value) == INFERENCE_INPLACE
    assert t.tolist() == [4.0, 5.0]  # surprise: the update happened, the error came after it
    with pytest.raises(RuntimeError) as err:
        t.requires_grad_()
    assert str(err.value) == (
        "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed."
    )
    with pytest.raises(RuntimeError, match=r"^Inference tensors do not track version counter\.$"):
        _ = t._version
    # what works: an op that saves nothing, a clone, and in-place inside inference mode
    (t + w).sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]
    c = t.clone()
    assert not c.is_inference() and (c * w).requires_grad
    with torch.inference_mode():
        t.add_(1)
    assert t.tolist() == [5.0, 6.0]


def test_pytorch_other_error_messages_of_the_chapter():
    w = _example([1.0, 2.0]).requires_grad_()
    with torch.no_grad():
        out = (w * 2).sum()
    with pytest.raises(RuntimeError) as err:
        out.backward()
    assert (
        str(err.value) == "element 0 of tensors does not require grad and does not have a grad_fn"
    )
    with pytest.raises(RuntimeError) as err:
        w.add_(1)
    assert (
        str(err.value)
        == "a leaf Variable that requires grad is being used in an in-place operation."
    )
    assert w.tolist() == [1.0, 2.0]  # checked before the kernel: nothing changed
    h = w * 1
    with torch.no_grad():
        view = h[:1]
    with pytest.raises(
        RuntimeError,
        match=r"^A view was created in no_grad mode and is being modified inplace with grad mode",
    ):
        view.mul_(2)


def test_pytorch_no_grad_still_bumps_the_version_counter():
    x = _example([1.0, 2.0]).requires_grad_()
    w = _example([3.0, 4.0]).requires_grad_()
    y = x * w  # saves w (for dx) and x (for dw)
    assert w._version == 0
    with torch.no_grad():
        w.mul_(2)
    assert w._version == 1
    with pytest.raises(RuntimeError) as err:
        y.sum().backward()
    assert str(err.value).split(":")[0] == (
        "one of the variables needed for gradient computation has been modified by an "
        "inplace operation"
    )


def test_pytorch_grad_mode_is_thread_local():
    seen = {}

    def worker():
        seen["grad mode in another thread"] = torch.is_grad_enabled()

    with torch.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen == {"grad mode in another thread": True}


@pytest.mark.parametrize("optimizer", [torch.optim.SGD, torch.optim.Adam])
def test_pytorch_optimizer_step_updates_leaves_in_place_without_recording(optimizer):
    p = nn.Parameter(_example([1.0, 2.0]))
    opt = optimizer([p], lr=0.1)
    (p * p).sum().backward()
    before = p.detach().clone()
    opt.step()  # with grad mode on here: the step itself switches it off
    assert p.is_leaf and p.grad_fn is None and not torch.equal(p.detach(), before)


def test_pytorch_in_place_update_without_no_grad_gives_a_parameter_grad_history():
    ema = nn.Parameter(_example([1.0, 1.0]), requires_grad=False)
    p = nn.Parameter(_example([3.0, 5.0]))
    ema.mul_(0.5).add_(p, alpha=0.5)  # silently recorded: p requires grad
    assert isinstance(ema, nn.Parameter) and ema.requires_grad and not ema.is_leaf
    assert type(ema.grad_fn).__name__ == "AddBackward0"


def test_pytorch_no_grad_leaves_dropout_and_batch_norm_in_training_mode():
    torch.manual_seed(0)
    x = _example(torch.arange(1.0, 1001.0))
    drop = nn.Dropout(0.5)
    with torch.no_grad():
        out = drop(x)
    kept = out != 0
    assert bool((~kept).any()) and bool(kept.any())  # still drops under no_grad
    assert torch.equal(out[kept], x[kept] / (1 - 0.5))
    drop.eval()
    assert drop(x) is x  # eval: the very same tensor back
    bn = nn.BatchNorm1d(2).to(DEVICE)
    with torch.no_grad():
        bn(_example([[1.0, 2.0], [3.0, 6.0]]))
    assert bn.running_mean.tolist() == pytest.approx([0.2, 0.4])  # updated under no_grad
    assert bn.running_var.tolist() == pytest.approx([1.1, 1.7])
    assert int(bn.num_batches_tracked) == 1
    bn.eval()
    y = bn(_example([[1.0, 2.0]]))
    assert y.requires_grad  # eval() does not switch off autograd
    assert int(bn.num_batches_tracked) == 1


def test_pytorch_requires_grad_of_results():
    w = _example([1.0, -2.0]).requires_grad_()
    assert (w * 2).requires_grad and not w.argmax().requires_grad  # integer result
    assert not (w > 0).requires_grad
    assert not w.detach().requires_grad and w.detach().data_ptr() == w.data_ptr()


# --- exercises ----------------------------------------------------------------------------------------


def good_ema(ema, param, decay):
    with torch.no_grad():
        return ema.mul_(decay).add_(param, alpha=1 - decay)


def good_proba(model, x):
    with evaluating(model):
        return model(x).softmax(-1)


def good_loss(model, x, target, train):
    with torch.set_grad_enabled(train):
        return F.mse_loss(model(x), target)


def test_exercise_answers_pass(capsys):
    check(good_ema, "ema_step_")
    check(torch.no_grad()(lambda e, p, d: e.lerp_(p, 1 - d)), "ema_step_")
    check(good_proba, "predict_proba")
    check(good_loss, "loss_for")
    assert capsys.readouterr().out.count("✓") == 4


@pytest.mark.parametrize(
    ("name", "answer", "message"),
    [
        ("ema_step_", lambda e, p, d: e.mul_(d).add_(p, alpha=1 - d), "ema now has grad history"),
        ("ema_step_", lambda e, p, d: d * e + (1 - d) * p.detach(), "expected ema itself"),
        (
            "predict_proba",
            lambda m, x: m.eval()(x).softmax(-1),
            "the probabilities carry grad history",
        ),
        (
            "predict_proba",
            lambda m, x: m.eval()(x).softmax(-1).detach(),
            "model was left in eval mode",
        ),
        ("loss_for", lambda m, x, t, train: F.mse_loss(m(x), t), "with train=False the loss"),
        (
            "loss_for",
            lambda m, x, t, train: F.mse_loss(m(x), t).detach(),
            "with train=True the loss must be differentiable",
        ),
    ],
)
def test_exercise_checks_catch_the_autograd_mistakes(name, answer, message):
    with pytest.raises(ExerciseFailed, match=re.escape(message)):
        check(answer, name)


def test_predict_proba_check_catches_dropout_left_on():
    def train_mode(model, x):
        with torch.no_grad():
            return model(x).softmax(-1)

    with pytest.raises(ExerciseFailed, match="first difference at position"):
        check(train_mode, "predict_proba")


@given(st.integers(0, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_references_match_the_builtins(b, d, k, seed):
    gen = torch.Generator().manual_seed(seed)
    model = nn.Sequential(linear(gen, d, k), nn.Dropout(0.5)).to(DEVICE)
    x = torch.randn(b, d, generator=gen).to(DEVICE)
    with evaluating(model):
        expected = model(x).softmax(-1)
    torch.testing.assert_close(reference.predict_proba(model, x), expected)
    if b:
        target = torch.randn(b, k, generator=gen).to(DEVICE)
        torch.testing.assert_close(
            reference.loss_for(model, x, target, True), F.mse_loss(model[0](x), target).detach()
        )
    e, p = torch.randn(b, d, generator=gen).to(DEVICE), torch.randn(b, d, generator=gen).to(DEVICE)
    torch.testing.assert_close(reference.ema_step_(e, p, 0.9), torch.lerp(e, p, 0.1))


# --- issue 9: no silent wrong answer ----------------------------------------------------------


def test_ema_update_refuses_a_model_that_shares_parameters_with_the_live_one():
    live = nn.Linear(2, 1).to(DEVICE)
    with torch.no_grad():
        live.weight.fill_(1.0)
    with pytest.raises(
        ValueError, match=re.escape("ema_model parameter 'weight' shares its memory with model")
    ):
        ema_update_(live, live, 0.5)  # would give 0.75 where 1.0 is right
    assert live.weight.tolist() == [[1.0, 1.0]]
    shallow = copy.copy(live)
    with pytest.raises(ValueError, match=re.escape("copy.deepcopy(model)")):
        ema_update_(shallow, live, 0.5)
    assert live.weight.tolist() == [[1.0, 1.0]]  # the live weights are untouched
    deep = copy.deepcopy(live)
    assert ema_update_(deep, live, 0.5) is deep


def test_saved_tensors_report_counts_under_the_callers_save_on_cpu_and_keeps_it_working():
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True, device=DEVICE)
    plain = saved_tensors_report(lambda x: (x * w).exp().sum(), torch.ones(3, device=DEVICE))
    packed = []

    def pack(t):
        packed.append(tuple(t.shape))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        report = saved_tensors_report(lambda x: (x * w).exp().sum(), torch.ones(3, device=DEVICE))
    assert report.count == plain.count == 2
    assert len(packed) == 2  # the caller's own hook still saw every saved tensor
    with torch.autograd.graph.save_on_cpu():
        report = saved_tensors_report(lambda x: (x * w).exp().sum(), torch.ones(3, device=DEVICE))
    assert (report.count, report.nbytes) == (plain.count, plain.nbytes)


def test_saved_tensors_report_sees_saves_under_hooks_that_fn_pushes_itself():
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True, device=DEVICE)

    def fn(x):
        with torch.autograd.graph.save_on_cpu():
            return (x * w).exp().sum()

    report = saved_tensors_report(fn, torch.ones(3, device=DEVICE))
    assert [(e.op, e.source) for e in report.entries] == [("mul", "input"), ("exp", "activation")]
    # and backward still works through save_on_cpu's own unpack
    out = fn(torch.ones(3, device=DEVICE))
    (grad,) = torch.autograd.grad(out, w)
    assert grad.shape == (3,)


def test_saved_tensors_report_on_meta_tensors_tells_inputs_from_activations():
    w = torch.ones(3, device="meta", requires_grad=True)
    report = saved_tensors_report(lambda x: (x * w).exp().sum(), torch.ones(3, device="meta"))
    assert [(e.op, e.source) for e in report.entries] == [("mul", "input"), ("exp", "activation")]


# --- forward-mode AD under the switches, and what train()/eval() change (chapter 5) -----------


def _square_sum(p: torch.Tensor) -> torch.Tensor:
    return (p**2).sum()


@pytest.mark.parametrize(
    "switch, has_tangent",
    [(torch.enable_grad, True), (torch.no_grad, True), (torch.inference_mode, False)],
)
def test_forward_ad_dual_tensors_under_each_switch(switch, has_tangent):
    import torch.autograd.forward_ad as fwAD

    primal = torch.tensor([1.0, 2.0], device=DEVICE)
    tangent = torch.tensor([1.0, 0.0], device=DEVICE)
    with switch(), fwAD.dual_level():
        out = fwAD.unpack_dual(_square_sum(fwAD.make_dual(primal, tangent))).tangent
    if has_tangent:
        assert out is not None and float(out) == 2.0
    else:
        assert out is None


@pytest.mark.parametrize("switch", [torch.enable_grad, torch.no_grad, torch.inference_mode])
def test_pytorch_func_jvp_computes_the_derivative_even_under_inference_mode(switch):
    # Seen on 2.13.0 (CPU): torch.func.jvp returns the derivative under inference_mode,
    # where forward_ad's dual tensors come out with no tangent (the test above), and its
    # results are not inference tensors. The version matrix shows the release dependence
    # (chapter 5's cell prints 2.0 on 2.12.1 and 2.13.0, 0.0 on 2.9.1, 2.10.0, 2.11.0 and
    # 2.14.1): chapter 5 (nograd-forward-ad) says so; an upgrade of the pin fails here.
    primal = torch.tensor([1.0, 2.0], device=DEVICE)
    tangent = torch.tensor([1.0, 0.0], device=DEVICE)
    with switch():
        value, derivative = torch.func.jvp(_square_sum, (primal,), (tangent,))
    assert float(value) == 5.0 and float(derivative) == 2.0
    assert not value.is_inference() and not derivative.is_inference()


def _nested_model() -> nn.Module:
    return nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))


@given(st.sampled_from(["eval", "train_false", "train_true", "train_default"]))
def test_train_and_eval_set_every_flag_and_leave_requires_grad(call):
    model = _nested_model()
    model[1][1].requires_grad_(False)
    before = [p.requires_grad for p in model.parameters()]
    model.eval() if call != "eval" else model.train()
    result = {
        "eval": lambda: model.eval(),
        "train_false": lambda: model.train(False),
        "train_true": lambda: model.train(True),
        "train_default": lambda: model.train(),
    }[call]()
    expected = call in ("train_true", "train_default")
    assert result is model
    assert [m.training for m in model.modules()] == [expected] * len(list(model.modules()))
    assert [p.requires_grad for p in model.parameters()] == before


def test_assigning_training_changes_the_top_module_only():
    model = _nested_model().eval()
    model.training = True
    assert [m.training for m in model.modules()] == [True, False, False, False, False]
