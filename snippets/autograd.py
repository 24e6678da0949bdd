"""What autograd records during a forward pass, and the switches that turn parts of it off.

``saved_tensors_report(fn, *args)`` runs ``fn(*args)`` and reports every tensor that autograd
saved for the backward pass: which call saved it, its shape, dtype and bytes, and whether it is
an input, a parameter, the output, or an *activation* made during the call (memory that only
the graph keeps alive). It counts with ``torch.autograd.graph.saved_tensors_hooks``, so the
numbers are the same on every run, unlike timings or allocator statistics, and the same on every
device for most layers (linear, activations, elementwise ops). A few ops have device-specific
kernels that can save different things: on the CPU dropout saves a float mask, while PyTorch's
fused CUDA kernel keeps a bool mask (no run of this book on a GPU has shown that yet).

>>> import torch
>>> w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> print(saved_tensors_report(lambda x: (x * w).exp().sum(), torch.ones(3)))
2 tensors saved for backward, 24 bytes (12 bytes of activations)
  op   shape  dtype    bytes  source
  mul  (3,)   float32     12  input
  exp  (3,)   float32     12  activation
>>> with torch.no_grad():
...     print(saved_tensors_report(lambda x: (x * w).exp().sum(), torch.ones(3)))
0 tensors saved for backward, 0 bytes

``snippets.draw.autograd_graph`` draws the same records for a small function, together with
the forward structure (which call made which tensor). ``ema_update_`` is the
exponential moving average of a model's parameters, done in place under ``torch.no_grad()``,
and ``evaluating`` runs a block with a model in eval mode and grad mode off, then puts every
submodule's training flag back as it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from snippets.validate import _tensors_in, check_bool, check_module, check_tensor, shape_str

__all__ = ["ema_update_", "evaluating", "saved_tensors_report"]

# The dropout masks of the module docstring are pinned in tests/test_autograd.py
# (test_pytorch_dropout_saves_a_device_specific_mask); its CUDA branch runs only on a GPU.

# Where a saved tensor's memory comes from, in the order the report explains them.
_SOURCES = ("input", "parameter", "output", "activation")


@dataclass(frozen=True)
class _SavedTensor:
    """One tensor that autograd saved for backward."""

    op: str  # the torch call during which it was saved, e.g. "linear", "relu", "mul"
    shape: tuple[int, ...]
    dtype: torch.dtype
    nbytes: int  # numel * element_size
    source: str  # one of SOURCES


@dataclass(frozen=True)
class _SavedTensors:
    """Everything one call saved for backward; ``count`` and ``nbytes`` sum it up.

    ``nbytes`` adds up every saved tensor, so a tensor saved twice (by two ops) counts twice.
    ``activation_nbytes`` counts the memory of the distinct activations once: tensors made
    during the call, other than the output, that are alive only because the graph saved them.
    Under ``torch.no_grad()`` they are freed as soon as the next op has used them.
    """

    entries: tuple[_SavedTensor, ...]
    activation_nbytes: int

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def nbytes(self) -> int:
        return sum(e.nbytes for e in self.entries)

    def by_source(self) -> dict[str, int]:
        """Bytes per source, for every source in ``SOURCES``."""
        return {s: sum(e.nbytes for e in self.entries if e.source == s) for s in _SOURCES}

    def __str__(self) -> str:
        noun = "tensor" if self.count == 1 else "tensors"
        head = f"{self.count} {noun} saved for backward, {self.nbytes} bytes"
        if not self.entries:
            return head
        head += f" ({self.activation_nbytes} bytes of activations)"
        rows = [("op", "shape", "dtype", "bytes", "source")] + [
            (
                e.op,
                shape_str(e.shape),
                str(e.dtype).removeprefix("torch."),
                str(e.nbytes),
                e.source,
            )
            for e in self.entries
        ]
        widths = [max(len(r[k]) for r in rows) for k in range(5)]
        lines = [
            "  "
            + "  ".join(
                cell.rjust(w) if k == 3 else cell.ljust(w)
                for k, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in rows
        ]
        return "\n".join([head, *lines])

    def __repr__(self) -> str:
        return (
            f"SavedTensors(count={self.count}, nbytes={self.nbytes}, "
            f"activation_nbytes={self.activation_nbytes})"
        )


# --- recording: one TorchFunctionMode for the calls, one pack hook for the saves ---------------


def _op_name(func: Callable[..., Any]) -> str:
    """``mul`` for Tensor.mul / Tensor.__mul__, ``linear`` for F.linear, ``T`` for Tensor.T."""
    name = getattr(func, "__name__", repr(func))
    if name in ("__get__", "__set__"):
        qual = getattr(func, "__qualname__", "") or torch.overrides.resolve_name(func) or ""
        name = qual.split(".")[-2] if "." in qual else qual
    return name.strip("_") or name


def _storage_key(t: torch.Tensor) -> tuple[str, int] | None:
    """Which memory ``t`` lives in (None for a tensor that holds none).

    The address of the data, or, for a tensor without any (``meta``), the storage object
    itself: every meta tensor has the address 0.
    """
    if t.numel() == 0:
        return None
    storage = t.untyped_storage()
    return str(t.device), storage.data_ptr() or storage._cdata


def _view_key(t: torch.Tensor) -> tuple[Any, ...] | None:
    """Which exact view of memory ``t`` is: same key, same tensor as far as the figure cares."""
    storage = _storage_key(t)
    if storage is None:
        return None
    return storage, t.storage_offset(), tuple(t.shape), t.stride(), t.dtype


@dataclass
class _Call:
    op: str
    inputs: list[torch.Tensor]
    outputs: list[torch.Tensor]
    saved: list[torch.Tensor] = field(default_factory=list)


class _Recorder(TorchFunctionMode):
    """Records each top-level torch call and the tensors autograd saved during it.

    Only the outermost call is seen (``F.linear``, not the ``addmm`` inside it), which is the
    name a reader wrote. Saved tensors are kept referenced until the recorder is dropped, so
    their memory cannot be reused by a later tensor while the call is being classified.
    """

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[_Call] = []
        self.stray: list[torch.Tensor] = []  # saved outside any recorded call
        self._current: _Call | None = None
        self._ours: tuple[Callable[..., Any], Callable[..., Any]] | None = None

    def _record(self, t: torch.Tensor) -> None:
        (self._current.saved if self._current is not None else self.stray).append(t)

    def _hooks_over(
        self, below: tuple[Callable[..., Any], Callable[..., Any]] | None
    ) -> tuple[Callable[..., Any], Callable[..., Any]]:
        """A pack/unpack pair that records each saved tensor, then hands it to ``below`` (the
        hooks that were in force, e.g. ``save_on_cpu``), so that those keep working."""
        if below is None:

            def pack(t: torch.Tensor) -> Any:
                self._record(t)
                return t

            def unpack(packed: Any) -> Any:
                return packed

            return pack, unpack
        below_pack, below_unpack = below

        def pack_over(t: torch.Tensor) -> Any:
            self._record(t)
            return below_pack(t)

        return pack_over, below_unpack

    def __torch_function__(self, func, types, args=(), kwargs=None):
        # The mode is switched off while ``func`` runs, so calls made inside it are not seen.
        kwargs = kwargs or {}
        call = _Call(_op_name(func), _tensors_in(args) + _tensors_in(kwargs), [])
        self._current = call
        top = torch._C._autograd._top_saved_tensors_default_hooks(False)
        # ``fn`` pushed saved-tensor hooks of its own (``with save_on_cpu(): ...``): they hide
        # ours, so record on top of them for the length of this call
        shadowed = top is not None and (self._ours is None or top[0] is not self._ours[0])
        try:
            if shadowed:
                with torch.autograd.graph.saved_tensors_hooks(*self._hooks_over(top)):
                    result = func(*args, **kwargs)
            else:
                result = func(*args, **kwargs)
        finally:
            self._current = None
        call.outputs = _tensors_in(result)
        if call.outputs or call.saved:
            self.calls.append(call)
        return result

    def __enter__(self) -> _Recorder:
        # the caller's own hooks (if any) keep doing their work under ours
        self._ours = self._hooks_over(torch._C._autograd._top_saved_tensors_default_hooks(False))
        torch._C._autograd._push_saved_tensors_default_hooks(*self._ours)
        try:
            super().__enter__()
        except BaseException:
            torch._C._autograd._pop_saved_tensors_default_hooks()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)
        finally:
            torch._C._autograd._pop_saved_tensors_default_hooks()


def _parameters_of(fn: Callable[..., Any]) -> list[torch.Tensor]:
    owner = fn if isinstance(fn, nn.Module) else getattr(fn, "__self__", None)
    if isinstance(owner, nn.Module):
        return [*owner.parameters(), *owner.buffers()]
    return []


def _report(
    recorder: _Recorder,
    inputs: list[torch.Tensor],
    parameters: list[torch.Tensor],
    outputs: list[torch.Tensor],
) -> _SavedTensors:
    known = {
        "input": {_storage_key(t) for t in inputs},
        "parameter": {_storage_key(t) for t in parameters},
        "output": {_storage_key(t) for t in outputs},
    }
    for keys in known.values():
        keys.discard(None)
    entries = []
    activations: dict[tuple[str, int], int] = {}
    pairs = [(c.op, t) for c in recorder.calls for t in c.saved]
    pairs += [("(untraced)", t) for t in recorder.stray]
    for op, t in pairs:
        key = _storage_key(t)
        source = next((s for s, keys in known.items() if key in keys), "activation")
        if source == "activation" and key is not None:
            activations[key] = t.untyped_storage().nbytes()
        entries.append(
            _SavedTensor(op, tuple(t.shape), t.dtype, t.numel() * t.element_size(), source)
        )
    return _SavedTensors(tuple(entries), sum(activations.values()))


def saved_tensors_report(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> _SavedTensors:
    """Run ``fn(*args, **kwargs)`` and report what autograd saved for backward.

    Grad mode is whatever it is where you call this: inside ``torch.no_grad()`` (or
    ``inference_mode``) the report is empty. Saved-tensor hooks keep working: the caller's own
    (``with torch.autograd.graph.save_on_cpu(): saved_tensors_report(...)``) still get every
    saved tensor, and hooks that ``fn`` pushes itself do not hide the saves from the report;
    either way it lists the tensors autograd handed to the hooks, before any of them moved
    one elsewhere. When ``fn`` is a module (or a method of one), its
    parameters and buffers are recognised as such; tensors among ``args`` and ``kwargs`` are
    inputs; what ``fn`` returns is the output. The rest are activations.

    The report prints as a table. ``.entries`` has one entry per saved tensor, with ``op``
    (the torch call during which it was saved), ``shape``, ``dtype``, ``nbytes`` and ``source``
    (``"input"``, ``"parameter"``, ``"output"`` or ``"activation"``); ``.count`` and ``.nbytes``
    sum them up (a tensor saved by two ops counts twice); ``.activation_nbytes`` counts the
    memory of the distinct activations once; ``.by_source()`` gives the bytes per source.

    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    >>> report = saved_tensors_report(model, torch.ones(5, 4))
    >>> [(e.op, e.shape, e.source) for e in report.entries]
    [('linear', (5, 4), 'input'), ('relu', (5, 8), 'activation'), ('linear', (5, 8), 'activation'), ('linear', (8, 3), 'parameter')]
    >>> report.count, report.nbytes, report.activation_nbytes
    (4, 496, 160)
    >>> saved_tensors_report("model", torch.ones(1))
    Traceback (most recent call last):
    ...
    TypeError: fn must be callable, got str
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    with _Recorder() as recorder:
        result = fn(*args, **kwargs)
    report = _report(
        recorder, _tensors_in(args) + _tensors_in(kwargs), _parameters_of(fn), _tensors_in(result)
    )
    del recorder, result
    return report


# --- a traced graph, for the figure ------------------------------------------------------------


@dataclass(frozen=True)
class _TracedTensor:
    """One tensor of a traced function, as autograd left it."""

    name: str
    value: torch.Tensor  # a detached CPU copy, for drawing
    requires_grad: bool
    is_leaf: bool
    grad_fn: str | None  # the class name of its grad_fn, e.g. "MulBackward0"
    saved_by: tuple[str, ...]  # the grad_fn names of the ops that saved it for backward


@dataclass(frozen=True)
class _TracedOp:
    """One torch call of a traced function."""

    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    grad_fn: str | None  # the grad_fn of its (first) output, None when nothing was recorded
    saved: tuple[str, ...]  # names of the tensors it saved ("?" for one the trace did not name)


@dataclass(frozen=True)
class _GraphTrace:
    """The tensors and calls of one run of a small function, and what autograd saved."""

    tensors: dict[str, _TracedTensor]
    ops: tuple[_TracedOp, ...]
    saved: _SavedTensors


def _grad_fn_name(t: torch.Tensor) -> str | None:
    return type(t.grad_fn).__name__ if t.grad_fn is not None else None


def _trace_graph(fn: Callable[..., Any], /, **inputs: torch.Tensor) -> _GraphTrace:
    """Run ``fn(**inputs)`` and record which call made which tensor and what it saved.

    ``fn`` returns a tensor (named ``out``) or a dict of named tensors; other tensors made on
    the way are named ``t1``, ``t2``, ... Meant for the small functions a figure can show.

    >>> x, w = torch.tensor([1.0, 2.0]), torch.tensor([3.0, -4.0], requires_grad=True)
    >>> tr = _trace_graph(lambda x, w: {"y": x * w, "loss": (x * w).relu().sum()}, x=x, w=w)
    >>> [(op.op, op.inputs, op.outputs, op.grad_fn, op.saved) for op in tr.ops][:2]
    [('mul', ('x', 'w'), ('y',), 'MulBackward0', ('x',)), ('mul', ('x', 'w'), ('t1',), 'MulBackward0', ('x',))]
    >>> tr.tensors["x"].saved_by, tr.tensors["w"].requires_grad
    (('MulBackward0', 'MulBackward0'), True)
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    for name, value in inputs.items():
        check_tensor(value, name)
    with _Recorder() as recorder:
        result = fn(**inputs)
    if isinstance(result, torch.Tensor):
        returned = {"out": result}
    elif isinstance(result, Mapping) and all(isinstance(v, torch.Tensor) for v in result.values()):
        returned = dict(result)
    else:
        raise TypeError(
            f"fn must return a tensor or a dict of tensors, got {type(result).__name__}"
        )
    names: dict[int, str] = {id(t): n for n, t in inputs.items()}
    names.update({id(t): n for n, t in returned.items()})
    order: list[torch.Tensor] = []
    by_view: dict[Any, str] = {}

    def name_of(t: torch.Tensor) -> str:
        if id(t) not in names:
            names[id(t)] = f"t{sum(1 for s in order if id(s) not in named) + 1}"
        if all(t is not s for s in order):
            order.append(t)
        key = _view_key(t)
        if key is not None:
            by_view.setdefault(key, names[id(t)])
        return names[id(t)]

    named = set(names)
    for t in inputs.values():
        name_of(t)
    calls = [
        (c, [name_of(t) for t in c.inputs], [name_of(t) for t in c.outputs]) for c in recorder.calls
    ]
    saved_by: dict[str, list[str]] = {}
    ops = []
    for call, ins, outs in calls:
        grad_fn = _grad_fn_name(call.outputs[0]) if call.outputs else None
        saved = []
        for t in call.saved:
            match = next((names[id(s)] for s in order if s is t), None)
            match = match or by_view.get(_view_key(t), "?")
            saved.append(match)
            if match != "?":
                saved_by.setdefault(match, []).append(grad_fn or call.op)
        ops.append(_TracedOp(call.op, tuple(ins), tuple(outs), grad_fn, tuple(saved)))
    tensors = {
        names[id(t)]: _TracedTensor(
            names[id(t)],
            t.detach().cpu().clone(),
            t.requires_grad,
            t.is_leaf,
            _grad_fn_name(t),
            tuple(saved_by.get(names[id(t)], ())),
        )
        for t in order
    }
    report = _report(recorder, list(inputs.values()), [], _tensors_in(returned))
    return _GraphTrace(tensors, tuple(ops), report)


# --- no_grad inside training: an exponential moving average of the parameters ------------------


def _named(module: nn.Module, what: str) -> dict[str, torch.Tensor]:
    return dict(module.named_parameters() if what == "parameter" else module.named_buffers())


def _check_same_tensors(ema_model: nn.Module, model: nn.Module, what: str) -> None:
    ema, live = _named(ema_model, what), _named(model, what)
    missing = sorted(set(live) - set(ema))
    extra = sorted(set(ema) - set(live))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing in ema_model: {missing}")
        if extra:
            parts.append(f"only in ema_model: {extra}")
        raise ValueError(f"ema_model and model have different {what}s: " + "; ".join(parts))
    for name, e in ema.items():
        p = live[name]
        if e.shape != p.shape:
            raise ValueError(
                f"{what} {name!r} has shape {shape_str(e.shape)} in ema_model but "
                f"{shape_str(p.shape)} in model"
            )
        if e.dtype != p.dtype or e.device != p.device:
            raise ValueError(
                f"{what} {name!r} is {e.dtype} on {e.device} in ema_model but "
                f"{p.dtype} on {p.device} in model"
            )


def _memory_of(t: torch.Tensor) -> tuple[str, int]:
    storage = t.untyped_storage()
    return str(t.device), storage.data_ptr() or storage._cdata


def _check_no_shared_memory(ema_model: nn.Module, model: nn.Module) -> None:
    """A ValueError when a parameter of ``ema_model`` lives in the memory of a tensor of
    ``model``: updating it in place would change the live model (and read its own writes)."""
    live = {}
    for what in ("parameter", "buffer"):
        for name, t in _named(model, what).items():
            if t.numel():
                live.setdefault(_memory_of(t), f"{what} {name!r}")
    for name, e in ema_model.named_parameters():
        owner = live.get(_memory_of(e)) if e.numel() else None
        if owner is not None:
            same = " (they are the same model)" if ema_model is model else ""
            raise ValueError(
                f"ema_model parameter {name!r} shares its memory with model {owner}{same}: "
                "the update would overwrite the live weights. Make ema_model with "
                "copy.deepcopy(model), not copy.copy or the model itself"
            )


def ema_update_(ema_model: nn.Module, model: nn.Module, decay: float) -> nn.Module:
    """``e ← decay * e + (1 - decay) * p`` for every parameter, in place; buffers are copied.

    Runs under ``torch.no_grad()``: the update is bookkeeping, not part of any loss, so it
    must not be recorded (and an in-place update of a leaf that requires grad is an error when
    grad mode is on). Returns ``ema_model``. Parameters are matched by name; a missing name or
    a different shape, dtype or device is an error that names the parameter, and so is an
    ``ema_model`` parameter that shares memory with ``model`` (``ema_update_(m, m, 0.5)``, or
    ``ema_model = copy.copy(model)``): updating it would change the live model.

    >>> from torch import nn
    >>> model, ema = nn.Linear(2, 1), nn.Linear(2, 1)
    >>> _ = nn.init.ones_(model.weight), nn.init.zeros_(ema.weight)
    >>> ema_update_(ema, model, decay=0.75).weight
    Parameter containing:
    tensor([[0.2500, 0.2500]], requires_grad=True)
    >>> ema_update_(ema, nn.Linear(3, 1), decay=0.75)
    Traceback (most recent call last):
    ...
    ValueError: parameter 'weight' has shape (1, 2) in ema_model but (1, 3) in model
    """
    check_module(ema_model, "ema_model")
    check_module(model, "model")
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay <= 1:
        raise ValueError(f"decay must be a number in [0, 1], got {decay!r}")
    _check_same_tensors(ema_model, model, "parameter")
    _check_same_tensors(ema_model, model, "buffer")
    _check_no_shared_memory(ema_model, model)
    live_params, live_buffers = _named(model, "parameter"), _named(model, "buffer")
    with torch.no_grad():
        for name, e in ema_model.named_parameters():
            e.mul_(decay).add_(live_params[name], alpha=1 - decay)
        for name, b in ema_model.named_buffers():
            b.copy_(live_buffers[name])
    return ema_model


# --- evaluation: eval() and no_grad together, undone afterwards --------------------------------


@contextlib.contextmanager
def evaluating(model: nn.Module, *, inference: bool = False) -> Iterator[nn.Module]:
    """Run a block with ``model.eval()`` and grad mode off; restore each training flag after.

    ``model.train()`` afterwards would switch *every* submodule to training mode, including
    one you had put in eval mode on purpose (a frozen batch norm, say). This puts back each
    submodule's own flag, also when the block raises. ``inference=True`` uses
    ``torch.inference_mode()`` instead of ``torch.no_grad()``.

    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    >>> with evaluating(model):
    ...     out = model(torch.ones(1, 2))
    ...     model.training, torch.is_grad_enabled()
    (False, False)
    >>> model.training, out.requires_grad
    (True, False)
    """
    check_module(model, "model")
    check_bool(inference, "inference")
    flags = [(m, m.training) for m in model.modules()]
    grad_off = torch.inference_mode() if inference else torch.no_grad()
    model.eval()
    try:
        with grad_off:
            yield model
    finally:
        for m, flag in flags:
            m.training = flag
