"""What tests/test_fuzz.py calls: one valid call per public helper, an oracle, wrong arguments.

Each ``Spec`` makes a fresh valid call (``make``), knows the answer from the loop reference in
``snippets.reference`` or from PyTorch itself (``oracle``: it returns the expected result, or
raises where PyTorch or the loop refuses the arguments), and names the words an error about
each argument may use. ``mutations`` turns one valid argument into wrong ones: other types,
other dtypes and ranks, 0-d and empty tensors, NaN, non-contiguous views and ``meta`` tensors.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from snippets import argmax, autograd, broadcasting, hooks, indexing, reference, validate

# --- the specs ----------------------------------------------------------------------------------


@dataclass
class Spec:
    fn: Callable[..., Any]
    make: Callable[[], tuple[list[Any], dict[str, Any]]]
    oracle: Callable[..., Any]
    argnames: tuple[str, ...]  # the names of the positional arguments ``make`` returns
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)  # what an error may say
    call: Callable[..., Any] | None = None  # how to call ``fn`` (default: fn(*args, **kwargs))
    errors: tuple[type[BaseException], ...] = (TypeError, ValueError, IndexError)
    compare: Callable[..., None] | None = None  # (got, expected, args, kwargs, meta)
    copy_for_oracle: bool = True  # False for helpers that look at storage, not values
    materialise: bool = True  # meta tensors become CPU zeros for the oracle
    passthrough: bool = False  # runs the caller's own code: its errors are passed on
    labels: tuple[str, ...] = ()  # names printed in messages, given by the helpers: not fuzzed

    def run(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        return (self.call or self.fn)(*args, **kwargs)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=gen(seed))


def randint(high: int, *shape: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=gen(seed))


def cpu_only(*values: Any) -> None:
    """The loop references read values: they run on the CPU only (a meta tensor has none)."""
    for v in values:
        if isinstance(v, torch.Tensor) and v.device.type != "cpu":
            raise NotImplementedError("the loop reference needs values")


def mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


# oracles that first run PyTorch itself (which raises where it refuses), then the loop


def o_gather(input, dim, index):
    expected = torch.gather(input, dim, index)
    if input.device.type == "cpu":
        torch.testing.assert_close(reference.gather(input, dim, index), expected, equal_nan=True)
    return expected


def o_check_gather_args(input, dim, index):
    torch.gather(input, dim, index)
    return dim % max(input.dim(), 1)


def o_take_along_dim(input, indices, dim=None):
    cpu_only(input, indices)
    if dim is not None and indices.dtype != torch.int64:
        raise TypeError("PyTorch wants int64 indices with a dim")
    torch.take_along_dim(input.reshape(-1) if dim is None else input, indices, dim)
    return reference.take_along_dim(input, indices, dim)


def o_check_take_along_dim_args(input, indices, dim=None):
    o_take_along_dim(input, indices, dim)
    return None if dim is None else dim % input.dim()


def o_broadcast_along_dim(input, indices, dim):
    if indices.dtype not in (torch.int64, torch.int32):
        raise TypeError("gather wants int64 or int32")
    d = dim % input.dim()
    out = reference._take_along_dim_shape(tuple(input.shape), tuple(indices.shape), d)
    input_b = tuple(input.shape[k] if k == d else n for k, n in enumerate(out))
    torch.take_along_dim(input.to("meta"), indices.to("meta", torch.int64), dim)  # agrees
    return input.expand(input_b), indices.expand(out)


def o_sources(input, indices, dim):
    cpu_only(input, indices)
    torch.take_along_dim(input, indices, dim)
    return reference._take_along_dim_sources(input, indices, dim)


def o_gather_sources(index, dim):
    cpu_only(index)
    torch.gather(torch.zeros(index.shape), dim, torch.zeros_like(index))  # dtype and dim
    if index.dim() == 0:
        return index.long().reshape(1)
    d = dim % index.dim()
    out = torch.empty(*index.shape, index.dim(), dtype=torch.int64)
    for p in reference._positions(index.shape):
        q = list(p)
        q[d] = int(index[p])
        out[p] = torch.tensor(q)
    return out


def o_token_logprobs(logits, tokens):
    cpu_only(logits, tokens)
    b, t, _ = logits.shape
    logp = torch.log_softmax(logits[:, :-1], dim=-1)
    logp.gather(-1, tokens[:, 1:].unsqueeze(-1))  # PyTorch's own checks
    if tokens.shape != (b, t):
        raise ValueError("tokens must be (B, T)")
    return reference._token_logprobs(logits, tokens)


def o_taken_action_values(q_values, actions):
    cpu_only(q_values, actions)
    q_values.gather(1, actions.unsqueeze(1))
    if q_values.dim() != 2 or actions.dim() != 1 or actions.shape[0] != q_values.shape[0]:
        raise ValueError("shapes")
    return reference._taken_action_values(q_values, actions)


def o_select_patches(patches, idx):
    cpu_only(patches, idx)
    patches.gather(1, idx.unsqueeze(-1).expand(-1, -1, patches.shape[2]))
    if patches.dim() != 3 or idx.shape[0] != patches.shape[0]:
        raise ValueError("shapes")
    return reference.select_patches(patches, idx)


def o_sort_rows_by_key(x, key, *, descending=False):
    cpu_only(x, key)
    key.argsort(dim=-1, stable=True, descending=descending)
    if x.dim() < 2 or key.shape != x.shape[:-1]:
        raise ValueError("shapes")
    return reference._sort_rows_by_key(x, key, descending=descending)


def o_take_along_dim_shape(input_shape, indices_shape, dim=None):
    for s in (*input_shape, *indices_shape):
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError("sizes are ints")
    x = torch.empty(input_shape, device="meta")
    i = torch.empty(indices_shape, dtype=torch.long, device="meta")
    if dim is not None and x.dim() == 0:
        raise IndexError("0-d")
    return tuple(torch.take_along_dim(x, i, dim).shape)


# validate


def o_check_tensor(x, name):
    if not isinstance(x, torch.Tensor):
        raise TypeError(name)
    return x


def o_check_int(value, name, *, minimum=None):
    if minimum is not None and (not isinstance(minimum, int) or isinstance(minimum, bool)):
        raise TypeError("minimum")
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(name)
    if minimum is not None and value < minimum:
        raise ValueError(name)
    return value


def o_check_bool(value, name):
    if not isinstance(value, bool):
        raise TypeError(name)
    return value


def o_check_module(value, name):
    if not isinstance(value, nn.Module):
        raise TypeError(name)
    return value


def o_check_has_dims(x, dim, *, verb="take along", hint=""):
    if not isinstance(x, torch.Tensor):
        raise TypeError("input")
    if x.dim() == 0:
        raise IndexError("dim=")


def o_check_dim(dim, x, *, name="dim", tensor_name):
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(name)
    torch.sum(x.to("meta"), dim)
    return dim % max(x.dim(), 1)


def o_check_ndim(x, ndim, *, name, what=""):
    if not isinstance(ndim, int) or isinstance(ndim, bool) or x.dim() != ndim:
        raise ValueError(name)


def o_check_index_dtype(index, *, name="index", op, allowed=validate.INDEX_DTYPES):
    if index.dtype not in allowed:
        raise TypeError(name)


def o_check_same_device(a, b, *, names):
    if not isinstance(names, tuple) or len(names) != 2:
        raise TypeError("names")
    if a.device != b.device:
        raise ValueError(names)


def o_check_index_values(index, size, *, dim, name="index", tensor_name="input", shape=None):
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise TypeError("size")
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError("dim")
    if (
        index.device.type != "meta"
        and index.numel()
        and bool(((index < 0) | (index >= min(size, 2**63 - 1))).any())
    ):
        raise IndexError(name)


def o_check_class_indices(indices, num_classes, *, ignore_index=None, name="indices"):
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 0:
        raise TypeError("num_classes")
    if ignore_index is not None and (
        not isinstance(ignore_index, int) or isinstance(ignore_index, bool)
    ):
        raise TypeError("ignore_index")
    if indices.dtype.is_floating_point or indices.dtype.is_complex or indices.dtype == torch.bool:
        raise TypeError(name)
    if indices.device.type == "cpu" and reference._first_bad_class_index(
        indices, num_classes, ignore_index
    ):
        raise IndexError(name)
    return indices


def o_shape_str(shape):
    if isinstance(shape, torch.Tensor):
        raise TypeError("a tensor is not a shape")
    dims = tuple(int(s) for s in shape)
    return "(" + ", ".join(map(str, dims)) + ("," if len(dims) == 1 else "") + ")"


# broadcasting


def _shape_of(s):
    if isinstance(s, torch.Tensor):
        return tuple(s.shape)
    if isinstance(s, (bool, str)):
        raise TypeError("not a shape")
    if isinstance(s, int):
        return (s,)
    if not isinstance(s, (tuple, list, torch.Size)) or any(
        isinstance(n, bool) or not isinstance(n, int) for n in s
    ):
        raise TypeError("not a shape")
    return tuple(s)


def o_checked_broadcast_shapes(*shapes, names=None):
    if names is not None and (
        len(names) != len(shapes) or not all(isinstance(n, str) for n in names)
    ):
        raise ValueError("names")
    return torch.broadcast_shapes(*(_shape_of(s) for s in shapes))


def o_explain_broadcast(*shapes, names=None):
    shapes = [_shape_of(s) for s in shapes]
    if any(n < 0 for s in shapes for n in s):
        raise ValueError("negative")
    if names is not None and (
        len(names) != len(shapes) or not all(isinstance(n, str) for n in names)
    ):
        raise ValueError("names")
    try:
        return tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError:
        return None


def call_explain(*shapes, names=None):
    return broadcasting.explain_broadcast(*shapes, names=names).result


def _device(device):
    if device is not None and not isinstance(device, (str, torch.device)):
        raise TypeError("device")
    return torch.device(device) if device is not None else torch.device("cpu")


def o_broadcast_sources(shape, out_shape, *, device=None):
    dev = _device(device)
    src, out = _shape_of(shape), _shape_of(out_shape)
    if any(n < 0 for n in (*src, *out)) or len(src) > len(out):
        raise ValueError("shape")
    if torch.broadcast_shapes(src, out) != torch.Size(out):
        raise ValueError("shape")
    t = torch.empty(*out, len(src), dtype=torch.int64)
    for p in reference._positions(torch.Size(out)):
        t[p] = torch.tensor(reference._broadcast_source(p, src), dtype=torch.int64)
    return t.to(dev)


def _int(v, minimum=None):
    if not isinstance(v, int) or isinstance(v, bool) or (minimum is not None and v < minimum):
        raise ValueError("int")
    if abs(v) >= 2**63:
        raise ValueError("too large")
    return v


def o_triangular_mask(rows, cols=None, *, diagonal=0, upper=True, device=None):
    dev = _device(device)
    rows = _int(rows, 0)
    cols = rows if cols is None else _int(cols, 0)
    if not isinstance(upper, bool):
        raise TypeError("upper")
    return reference._triangular_mask(rows, cols, _int(diagonal), upper).to(dev)


def o_causal_mask(n, *, device=None):
    dev = _device(device)
    return torch.tril(torch.ones(_int(n, 0), n, dtype=torch.bool)).to(dev)


def o_band_mask(n, below, above, *, device=None):
    dev = _device(device)
    return reference._band_mask(_int(n, 0), _int(below), _int(above)).to(dev)


# argmax


def _real(x):
    if x.dtype == torch.bool or x.is_complex():
        raise TypeError("dtype")


def o_argmax_over(x, dims):
    if isinstance(dims, list):
        dims = tuple(dims)
    if not isinstance(dims, tuple) or not isinstance(x, torch.Tensor):
        raise TypeError("dims")
    _real(x)
    if not dims or x.dim() == 0:
        raise ValueError("dims")
    for d in dims:
        if not isinstance(d, int) or isinstance(d, bool):
            raise TypeError("dims")
    x.amax(dim=dims)  # PyTorch's own refusals: a dim out of range, a repeated dim, an empty dim
    if any(x.size(d) == 0 for d in dims):
        raise ValueError("dims")
    cpu_only(x)
    return reference._argmax_over(x, dims)


def o_argmax_coordinates(x, dim=None):
    _real(x)
    cpu_only(x)
    x.argmax(dim)
    if dim is not None and x.dim() == 0:
        return torch.zeros(0, dtype=torch.int64)
    return reference.argmax_coordinates(x, dim)


def o_argmax_index(x, dim=None):
    coords = o_argmax_coordinates(x, dim)
    if dim is None or x.dim() == 0:
        return tuple(coords.unbind(-1))
    return tuple(coords.unbind(-1))


def c_argmax_index(got, expected, args, kwargs, meta):
    full = torch.broadcast_tensors(*got) if got else ()
    assert len(full) == len(expected)
    for g, e in zip(full, expected, strict=True):
        assert g.shape == e.shape, f"{tuple(g.shape)} != {tuple(e.shape)}"
        assert meta or torch.equal(g, e)


def c_get_module(got, expected, args, kwargs, meta):
    assert got is dict(args[0].named_modules())[args[1]]


def o_max_along(x, dim, keepdim=False):
    _real(x)
    if not isinstance(keepdim, bool):
        raise TypeError("keepdim")
    if x.dim() == 0:
        x.max(dim)
        return x.clone()
    return x.max(dim, keepdim=keepdim).values


def o_nbytes(*tensors):
    return sum(t.numel() * t.element_size() for t in tensors)


def o_storage_nbytes(*tensors):
    seen = {}
    for t in tensors:
        s = t.untyped_storage()
        seen[s._cdata] = s.nbytes()
    return sum(seen.values())


# autograd


def o_ema_update_(ema_model, model, decay):
    if not isinstance(ema_model, nn.Module) or not isinstance(model, nn.Module):
        raise TypeError("module")
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay <= 1:
        raise ValueError("decay")
    ema, live = dict(ema_model.named_parameters()), dict(model.named_parameters())
    if set(ema) != set(live) or any(ema[n].shape != live[n].shape for n in ema):
        raise ValueError("parameters")
    return reference.ema_update(ema, live, decay)


def call_ema_update_(ema_model, model, decay):
    out = autograd.ema_update_(ema_model, model, decay)
    return {n: p.detach() for n, p in out.named_parameters()}


def call_evaluating(model, *, inference=False):
    before = [m.training for m in model.modules()] if isinstance(model, nn.Module) else None
    with autograd.evaluating(model, inference=inference) as m:
        inside = (m.training, torch.is_grad_enabled(), torch.is_inference_mode_enabled())
    return inside, [m.training for m in model.modules()] == before


def o_evaluating(model, *, inference=False):
    if not isinstance(model, nn.Module) or not isinstance(inference, bool):
        raise TypeError("model")
    return (False, False, inference), True


def _saved_count(fn, *args):
    count = [0, 0]

    def pack(t):
        count[0] += 1
        count[1] += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*args)
    return tuple(count)


def o_saved_tensors_report(fn, *args):
    if not callable(fn):
        raise TypeError("fn")
    return _saved_count(fn, *args)


def call_saved_tensors_report(fn, *args):
    r = autograd.saved_tensors_report(fn, *args)
    return r.count, r.nbytes


W = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)


def f_mul_exp(x):
    return (x * W).exp().sum()


def o_trace_graph(fn, /, **inputs):
    if not callable(fn):
        raise TypeError("fn")
    for v in inputs.values():
        if not isinstance(v, torch.Tensor):
            raise TypeError("input")
    out = fn(**inputs)
    if not isinstance(out, torch.Tensor):
        raise TypeError("out")
    return sorted({*inputs, "out"})


def call_trace_graph(fn, /, **inputs):
    tr = autograd._trace_graph(fn, **inputs)
    return sorted(n for n in tr.tensors if not n.startswith("t"))


# hooks


def o_get_module(model, layer):
    if not isinstance(model, nn.Module) or not isinstance(layer, str):
        raise TypeError("model")
    return dict(model.named_modules())[layer]


def o_hook_counts(model):
    if not isinstance(model, nn.Module):
        raise TypeError("model")
    return dict.fromkeys(hooks._HOOK_KINDS, 0)


X3 = torch.ones(2, 3)
OPTIONS = ("retain_output", "retain_input", "clone", "detach", "stop")


def call_trace(model, layer, **options):
    with hooks.Trace(model, layer, **options) as tr:
        model(X3)
    return tr.output, hooks.hook_counts(model)


def o_trace(model, layer, **options):
    o_get_module(model, layer)
    for k in OPTIONS:
        if k in options and not isinstance(options[k], bool):
            raise TypeError(k)
    return reference.layer_output(model, layer, X3), dict.fromkeys(hooks._HOOK_KINDS, 0)


def call_trace_dict(model, layers, **options):
    with hooks.TraceDict(model, layers, **options) as td:
        model(X3)
    return {k: t.output for k, t in td.items()}, hooks.hook_counts(model)


def o_trace_dict(model, layers, **options):
    if isinstance(layers, str):
        raise TypeError("layers")
    layers = list(layers)
    if len(set(layers)) != len(layers):
        raise ValueError("layers")
    for k in OPTIONS:
        if k in options and not isinstance(options[k], bool):
            raise TypeError(k)
    return {n: o_trace(model, n)[0] for n in layers}, dict.fromkeys(hooks._HOOK_KINDS, 0)


def call_record_hook_order(model, x, layers=None):
    return sorted({(e.kind, e.layer) for e in hooks.record_hook_order(model, x, layers)})


class _Gate(nn.Module):
    def forward(self, x, mask=None):
        return x if mask is None else x * mask


def o_forward_arguments(module, args, kwargs=None):
    if not isinstance(module, nn.Module) or not isinstance(args, tuple):
        raise TypeError("module")
    kwargs = {} if kwargs is None else kwargs
    if not isinstance(kwargs, dict):
        raise TypeError("kwargs")
    names = ["x", "mask"]
    if len(args) > 2 or set(kwargs) - set(names) or set(kwargs) & set(names[: len(args)]):
        raise TypeError("args")
    got = dict(zip(names, args, strict=False)) | kwargs
    if "x" not in got:
        raise TypeError("args")
    return {"x": got["x"], "mask": got.get("mask")}


def o_forward_calls(model, inputs, kwargs=None, *, via="module"):
    if not isinstance(model, nn.Module):
        raise TypeError("model")
    if via not in ("module", "global"):
        raise ValueError("via")
    kwargs = {} if kwargs is None else kwargs
    if not isinstance(kwargs, dict):
        raise TypeError("kwargs")
    model(*(inputs if isinstance(inputs, tuple) else (inputs,)), **kwargs)  # its own errors
    # a Sequential calls itself and each child exactly once
    return dict.fromkeys((n for n, _ in model.named_modules(remove_duplicate=False)), 1)


def o_record_hook_order(model, x, layers=None):
    if not isinstance(model, nn.Module) or not isinstance(x, torch.Tensor):
        raise TypeError("model")
    if isinstance(layers, str):
        raise TypeError("layers")
    names = [n for n, _ in model.named_children()] if layers is None else list(layers)
    for n in names:
        o_get_module(model, n)
    if not x.is_floating_point():
        raise TypeError("x")
    model(x.detach().clone().requires_grad_())  # the model's own errors, if any
    kinds = ("forward_pre", "forward", "backward_pre", "tensor", "backward")
    return sorted({(k, n) for n in names for k in kinds})


def _specs() -> dict[str, Spec]:
    X = randn(2, 3)
    IDX = randint(3, 2, 2)
    TA = (randn(2, 3), torch.tensor([[2, 0]]))  # take_along_dim: (1, 2) stretches to (2, 2)
    ta = lambda: ([TA[0].clone(), TA[1].clone(), 1], {})  # noqa: E731
    hook_errors = (TypeError, ValueError, IndexError, LookupError)
    layer_words = {"layer": ("layer", "no module named")}
    layers_words = {"layers": ("layers", "layer", "no module named")}
    shape_words = {
        "names": ("names",),
        "shape 0": ("shape 0", "a has"),
        "shape 1": ("shape 1", "b has"),
    }
    return {
        # indexing
        "indexing.checked_gather": Spec(
            indexing.checked_gather,
            lambda: ([X.clone(), 1, IDX.clone()], {}),
            o_gather,
            ("input", "dim", "index"),
        ),
        "indexing.check_class_indices": Spec(
            indexing.check_class_indices,
            lambda: ([IDX.clone(), 3], {}),
            o_check_class_indices,
            ("indices", "num_classes"),
            labels=("name",),
        ),
        "indexing._check_gather_args": Spec(
            indexing._check_gather_args,
            lambda: ([X.clone(), 1, IDX.clone()], {}),
            o_check_gather_args,
            ("input", "dim", "index"),
        ),
        "indexing.checked_take_along_dim": Spec(
            indexing.checked_take_along_dim,
            ta,
            o_take_along_dim,
            ("input", "indices", "dim"),
        ),
        "indexing._check_take_along_dim_args": Spec(
            indexing._check_take_along_dim_args,
            ta,
            o_check_take_along_dim_args,
            ("input", "indices", "dim"),
        ),
        "indexing.broadcast_along_dim": Spec(
            indexing.broadcast_along_dim,
            ta,
            o_broadcast_along_dim,
            ("input", "indices", "dim"),
        ),
        "indexing.take_along_dim_shape": Spec(
            indexing.take_along_dim_shape,
            lambda: ([(2, 3), (1, 5), 1], {}),
            o_take_along_dim_shape,
            ("input_shape", "indices_shape", "dim"),
            words={"input_shape": ("input",), "indices_shape": ("indices",)},
        ),
        "indexing.token_logprobs": Spec(
            indexing.token_logprobs,
            lambda: ([randn(2, 4, 5), randint(5, 2, 4)], {}),
            o_token_logprobs,
            ("logits", "tokens"),
        ),
        "indexing.taken_action_values": Spec(
            indexing.taken_action_values,
            lambda: ([randn(3, 4), randint(4, 3)], {}),
            o_taken_action_values,
            ("q_values", "actions"),
        ),
        "indexing.select_patches": Spec(
            indexing.select_patches,
            lambda: ([randn(2, 3, 4), randint(3, 2, 2)], {}),
            o_select_patches,
            ("patches", "idx"),
        ),
        "indexing.sort_rows_by_key": Spec(
            indexing.sort_rows_by_key,
            lambda: ([randn(2, 4, 3), randn(2, 4, seed=5)], {"descending": False}),
            o_sort_rows_by_key,
            ("x", "key"),
        ),
        # validate
        "validate.check_tensor": Spec(
            validate.check_tensor,
            lambda: ([X.clone(), "x"], {}),
            o_check_tensor,
            ("x", "name"),
            labels=("name", "tensor_name", "op", "names", "what"),
        ),
        "validate.check_int": Spec(
            validate.check_int,
            lambda: ([2, "value"], {"minimum": 0}),
            o_check_int,
            ("value", "name"),
            words={"minimum": ("minimum", "value")},
            labels=("name", "tensor_name", "op", "names", "what"),
        ),
        "validate.check_dim": Spec(
            validate.check_dim,
            lambda: ([1, X.clone()], {"name": "dim", "tensor_name": "x"}),
            o_check_dim,
            ("dim", "x"),
            labels=("name", "tensor_name", "op", "names", "what"),
        ),
        "validate.check_ndim": Spec(
            validate.check_ndim,
            lambda: ([X.clone(), 2], {"name": "x"}),
            o_check_ndim,
            ("x", "ndim"),
            words={"ndim": ("ndim", "dims")},
            labels=("name", "tensor_name", "op", "names", "what"),
        ),
        "validate.check_index_dtype": Spec(
            validate.check_index_dtype,
            lambda: ([IDX.clone()], {"op": "gather"}),
            o_check_index_dtype,
            ("index",),
            labels=("name", "tensor_name", "op", "names", "what"),
        ),
        "validate.check_same_device": Spec(
            validate.check_same_device,
            lambda: ([X.clone(), IDX.clone()], {"names": ("a", "b")}),
            o_check_same_device,
            ("a", "b"),
            labels=("name", "tensor_name", "op", "names", "what"),
        ),
        "validate.check_index_values": Spec(
            validate.check_index_values,
            lambda: ([IDX.clone(), 3], {"dim": 1}),
            o_check_index_values,
            ("index", "size"),
            labels=("name", "tensor_name", "op", "names", "what"),
        ),
        "validate.is_int": Spec(
            validate.is_int,
            lambda: ([3], {}),
            lambda value: isinstance(value, int) and not isinstance(value, bool),
            ("value",),
        ),
        "validate.check_bool": Spec(
            validate.check_bool,
            lambda: ([True, "value"], {}),
            o_check_bool,
            ("value", "name"),
            labels=("name",),
        ),
        "validate.check_module": Spec(
            validate.check_module,
            lambda: ([mlp(), "value"], {}),
            o_check_module,
            ("value", "name"),
            labels=("name",),
            copy_for_oracle=False,
        ),
        "validate.check_has_dims": Spec(
            validate.check_has_dims,
            lambda: ([X.clone(), 1], {}),
            o_check_has_dims,
            ("x", "dim"),
            words={"x": ("input",), "dim": ("dim=",)},
            labels=("verb", "hint"),
        ),
        "validate.shape_str": Spec(
            validate.shape_str,
            lambda: ([(2, 3)], {}),
            o_shape_str,
            ("shape",),
        ),
        # broadcasting
        "broadcasting.checked_broadcast_shapes": Spec(
            broadcasting.checked_broadcast_shapes,
            lambda: ([(3, 1), (4,)], {}),
            o_checked_broadcast_shapes,
            ("shape 0", "shape 1"),
            words=shape_words,
        ),
        "broadcasting.explain_broadcast": Spec(
            broadcasting.explain_broadcast,
            lambda: ([(3, 1), (4,)], {}),
            o_explain_broadcast,
            ("shape 0", "shape 1"),
            call=call_explain,
            words=shape_words,
        ),
        "broadcasting._broadcast_sources": Spec(
            broadcasting._broadcast_sources,
            lambda: ([(3, 1), (2, 3, 4)], {"device": None}),
            o_broadcast_sources,
            ("shape", "out_shape"),
            words={"out_shape": ("out_shape", "cannot be broadcast to")},
        ),
        "broadcasting.triangular_mask": Spec(
            broadcasting.triangular_mask,
            lambda: ([3, 4], {"diagonal": 1, "upper": True, "device": None}),
            o_triangular_mask,
            ("rows", "cols"),
        ),
        "broadcasting.causal_mask": Spec(
            broadcasting.causal_mask,
            lambda: ([3], {"device": None}),
            o_causal_mask,
            ("n",),
        ),
        "broadcasting.band_mask": Spec(
            broadcasting.band_mask,
            lambda: ([4, 1, 0], {"device": None}),
            o_band_mask,
            ("n", "below", "above"),
        ),
        # argmax
        "argmax.argmax_coordinates": Spec(
            argmax.argmax_coordinates,
            lambda: ([randn(2, 3, 4), 1], {}),
            o_argmax_coordinates,
            ("x", "dim"),
        ),
        "argmax.argmax_over": Spec(
            argmax.argmax_over,
            lambda: ([randn(2, 3, 4), (0, 2)], {}),
            o_argmax_over,
            ("x", "dims"),
        ),
        "argmax.argmax_index": Spec(
            argmax.argmax_index,
            lambda: ([randn(2, 3, 4), 1], {}),
            o_argmax_index,
            ("x", "dim"),
            compare=c_argmax_index,
        ),
        "argmax.max_along": Spec(
            argmax.max_along,
            lambda: ([randn(2, 3, 4), 1], {"keepdim": False}),
            o_max_along,
            ("x", "dim"),
        ),
        "argmax.nbytes": Spec(
            argmax.nbytes,
            lambda: ([X.clone(), IDX.clone()], {}),
            o_nbytes,
            ("tensors[0]", "tensors[1]"),
            copy_for_oracle=False,
            materialise=False,
        ),
        "argmax.storage_nbytes": Spec(
            argmax.storage_nbytes,
            lambda: ([X.clone(), IDX.clone()], {}),
            o_storage_nbytes,
            ("tensors[0]", "tensors[1]"),
            copy_for_oracle=False,
            materialise=False,
        ),
        # autograd
        "autograd.ema_update_": Spec(
            autograd.ema_update_,
            lambda: ([mlp(), _other_mlp(), 0.5], {}),
            o_ema_update_,
            ("ema_model", "model", "decay"),
            call=call_ema_update_,
            words={"model": ("model", "parameter")},
        ),
        "autograd.evaluating": Spec(
            autograd.evaluating,
            lambda: ([mlp()], {"inference": False}),
            o_evaluating,
            ("model",),
            call=call_evaluating,
        ),
        "autograd.saved_tensors_report": Spec(
            autograd.saved_tensors_report,
            lambda: ([f_mul_exp, torch.ones(3)], {}),
            o_saved_tensors_report,
            ("fn", "args[0]"),
            call=call_saved_tensors_report,
            passthrough=True,
            materialise=False,
        ),
        "autograd._trace_graph": Spec(
            autograd._trace_graph,
            lambda: ([_mul], {"x": torch.ones(3), "w": W}),
            o_trace_graph,
            ("fn",),
            call=call_trace_graph,
            passthrough=True,
            materialise=False,
        ),
        # hooks
        "hooks._get_module": Spec(
            hooks._get_module,
            lambda: ([mlp(), "1"], {}),
            o_get_module,
            ("model", "layer"),
            errors=hook_errors,
            compare=c_get_module,
            copy_for_oracle=False,
            words=layer_words,
        ),
        "hooks.hook_counts": Spec(
            hooks.hook_counts,
            lambda: ([mlp()], {}),
            o_hook_counts,
            ("model",),
        ),
        "hooks.Trace": Spec(
            hooks.Trace,
            lambda: ([mlp(), "0"], {"detach": True, "stop": False}),
            o_trace,
            ("model", "layer"),
            call=call_trace,
            errors=hook_errors,
            words=layer_words,
        ),
        "hooks.TraceDict": Spec(
            hooks.TraceDict,
            lambda: ([mlp(), ["0", "2"]], {"detach": True}),
            o_trace_dict,
            ("model", "layers"),
            call=call_trace_dict,
            errors=hook_errors,
            words=layers_words,
        ),
        "hooks.forward_arguments": Spec(
            hooks.forward_arguments,
            lambda: ([_Gate(), (X3.clone(),), {"mask": X3.clone()}], {}),
            o_forward_arguments,
            ("module", "args", "kwargs"),
        ),
        "hooks.forward_calls": Spec(
            hooks.forward_calls,
            lambda: ([mlp(), X3.clone()], {"via": "module"}),
            o_forward_calls,
            ("model", "inputs"),
            passthrough=True,
            materialise=False,
        ),
        "hooks.record_hook_order": Spec(
            hooks.record_hook_order,
            lambda: ([mlp(), X3.clone(), ["0", "2"]], {}),
            o_record_hook_order,
            ("model", "x", "layers"),
            call=call_record_hook_order,
            errors=hook_errors,
            passthrough=True,
            materialise=False,
            words=layers_words,
        ),
    }


def _mul(x, w):
    return x * w


def _other_mlp() -> nn.Module:
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


SPECS = _specs()


# --- wrong arguments ----------------------------------------------------------------------------


def mutations(value: Any) -> Iterator[tuple[str, Any]]:
    """(label, wrong value) pairs for one valid argument, by the kind of that argument."""
    junk = [("None", None), ("float 1.5", 1.5), ("str", "x"), ("object", object())]
    if isinstance(value, torch.Tensor):
        yield from junk
        yield "list", value.tolist()
        yield "meta", value.detach().to("meta")
        for dtype in (
            torch.bool,
            torch.float32,
            torch.float64,
            torch.int64,
            torch.int32,
            torch.uint8,
        ):
            if dtype != value.dtype:
                yield f"dtype {dtype}", value.detach().to(dtype)
        yield "extra dim", value.unsqueeze(0)
        if value.dim():
            yield "one dim less", value.select(0, 0)
            yield "0-d", value.reshape(-1)[:1].reshape(()) if value.numel() else value.sum()
            yield "empty", value.narrow(-1, 0, 0)
            yield "transposed", value.transpose(0, -1)
            yield "expanded", value.narrow(0, 0, 1).expand(value.shape)
            if value.dim() >= 1 and value.shape[-1] > 1:
                yield "strided", value[..., ::2]
        if value.is_floating_point():
            yield "nan", value.detach().clone().fill_(math.nan)
            yield "inf", value.detach().clone().fill_(math.inf)
        else:
            yield "negative", value - 5
            yield "too large", value + 1000
    elif isinstance(value, nn.Module):
        yield from junk
        yield "other model", nn.Sequential(nn.Linear(3, 5), nn.Linear(5, 2))
        yield "Linear", nn.Linear(3, 2)
    elif isinstance(value, bool):
        yield from [("None", None), ("str", "no"), ("int 1", 1)]
    elif isinstance(value, int):
        yield from junk
        yield from [("True", True), ("-1", -1), ("-5", -5), ("50", 50), ("2**70", 2**70)]
        yield "numpy-like", torch.tensor(value)
    elif isinstance(value, float):
        yield from [("None", None), ("str", "0.5"), ("True", True), ("-0.5", -0.5), ("1.5", 1.5)]
        yield "nan", math.nan
    elif isinstance(value, str):
        yield from [("None", None), ("int 0", 0), ("nope", "nope"), ("list", [value])]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        yield from junk
        yield from [("str", value[0]), ("ints", [0]), ("twice", value + value[:1])]
        yield "unknown", ["nope"]
    elif isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        yield from junk
        yield from [("negative size", (2, -1)), ("float size", (2.0, 1)), ("bool size", (True,))]
        yield from [("0-d", ()), ("empty", (0, 3)), ("tensor", torch.zeros(value))]
    elif callable(value):
        yield from [("None", None), ("int", 3), ("str", "fn")]
    elif value is None:  # device=None, an optional argument
        yield from [("int", 3), ("bad device", "nope"), ("meta", "meta"), ("float", 1.5)]
    elif isinstance(value, tuple):  # names=(...)
        yield from [("short", value[:1]), ("ints", (1, 2)), ("None", None)]


def copy_args(args: list[Any], kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    return copy.deepcopy(args), copy.deepcopy(kwargs)
