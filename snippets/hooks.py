"""A small tracing API over PyTorch's own hooks, in the spirit of baukit's ``nethook``.

PyTorch provides the mechanism: ``Module.register_forward_pre_hook``,
``register_forward_hook``, ``register_full_backward_pre_hook``,
``register_full_backward_hook``, ``Tensor.register_hook`` and the global
``torch.nn.modules.module.register_module_*`` hooks. Each returns a handle whose ``remove()``
takes the hook off again. This module adds no new mechanism. ``Trace`` registers **one
forward hook** on one module, found by its name in ``model.named_modules()``; ``TraceDict``
does the same for several modules. Both are context managers that remove their hooks when the
``with`` block ends, however it ends: normally, by an exception, or by ``StopForward``.

>>> import torch
>>> from torch import nn
>>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
>>> with Trace(model, "0") as tr:
...     _ = model(torch.ones(5, 3))
...     hook_counts(model)["forward"]
1
>>> tr.output.shape, hook_counts(model)["forward"]
(torch.Size([5, 4]), 0)

Not part of PyTorch: the same few lines are easy to write yourself, and the chapter shows how.
"""

from __future__ import annotations

import contextlib
import difflib
import inspect
import weakref
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn.modules import module as _module_globals

from snippets.validate import _tensors_in, check_bool, check_module, shape_str

__all__ = [
    "HookEvent",
    "StopForward",
    "Trace",
    "TraceDict",
    "forward_arguments",
    "forward_calls",
    "hook_counts",
    "record_hook_order",
]

# The hook kinds counted by hook_counts, in the order the chapter introduces them.
_HOOK_KINDS = ("forward_pre", "forward", "backward_pre", "backward", "tensor", "global")
# The kinds record_hook_order records (every kind but "global"), in the order they fire on one
# layer: forward pre-hook, forward hook, then in the backward pass the tensor hook on the
# layer's output, the backward pre-hook and the backward hook. snippets.draw.hook_timeline
# styles exactly these.
_RECORDED_KINDS = ("forward_pre", "forward", "tensor", "backward_pre", "backward")

_GLOBAL_DICTS = (
    "_global_forward_pre_hooks",
    "_global_forward_hooks",
    "_global_backward_pre_hooks",
    "_global_backward_hooks",
)


def _check_model(model: object) -> nn.Module:
    return check_module(model, "model")


def hook_counts(model: nn.Module) -> dict[str, int]:
    """How many hooks are registered on ``model``, its submodules and its tensors, right now.

    Counts the entries of each module's hook dicts (``_forward_pre_hooks``, ``_forward_hooks``,
    ``_backward_pre_hooks``, ``_backward_hooks``), the tensor hooks on its parameters and
    buffers (``Tensor.register_hook``), and the global module hooks, which fire for every
    module of every model (``torch.nn.modules.module._global_*_hooks``). A helper that cleans
    up after itself leaves every count where it found it.

    >>> from torch import nn
    >>> model = nn.Linear(2, 2)
    >>> handle = model.register_forward_hook(lambda module, args, output: None)
    >>> hook_counts(model)
    {'forward_pre': 0, 'forward': 1, 'backward_pre': 0, 'backward': 0, 'tensor': 0, 'global': 0}
    >>> handle.remove()
    >>> sum(hook_counts(model).values())
    0
    """
    _check_model(model)
    counts = dict.fromkeys(_HOOK_KINDS, 0)
    for m in model.modules():
        counts["forward_pre"] += len(m._forward_pre_hooks)
        counts["forward"] += len(m._forward_hooks)
        counts["backward_pre"] += len(m._backward_pre_hooks)
        counts["backward"] += len(m._backward_hooks)
    for t in (*model.parameters(), *model.buffers()):
        counts["tensor"] += len(t._backward_hooks or {})
    counts["global"] = sum(len(getattr(_module_globals, name)) for name in _GLOBAL_DICTS)
    return counts


def _names(model: nn.Module) -> list[str]:
    return [name for name, _ in model.named_modules(remove_duplicate=False)]


def _list_names(names: list[str], limit: int = 24) -> str:
    shown = ", ".join("'' (the model itself)" if n == "" else repr(n) for n in names[:limit])
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return shown + more


def _get_module(model: nn.Module, layer: str) -> nn.Module:
    """The submodule of ``model`` called ``layer`` (a name from ``model.named_modules()``).

    ``""`` is the model itself; nested modules use dots (``"encoder.0.fc"``). A wrong name is a
    ``LookupError`` that lists the valid names and suggests the closest ones.

    >>> from collections import OrderedDict
    >>> from torch import nn
    >>> model = nn.Sequential(OrderedDict(fc1=nn.Linear(2, 3), act=nn.ReLU(), fc2=nn.Linear(3, 1)))
    >>> _get_module(model, "act")
    ReLU()
    >>> _get_module(model, "fc3")
    Traceback (most recent call last):
    ...
    LookupError: no module named 'fc3' in Sequential; the valid names are '' (the model itself), 'fc1', 'act', 'fc2' (did you mean 'fc2' or 'fc1'?)
    """
    _check_model(model)
    if not isinstance(layer, str):
        hint = f" (write {str(layer)!r})" if isinstance(layer, int) else ""
        raise TypeError(
            f"layer must be a str, a name from model.named_modules(), got "
            f"{type(layer).__name__} {layer!r}{hint}"
        )
    modules = dict(model.named_modules(remove_duplicate=False))
    if layer in modules:
        return modules[layer]
    names = list(modules)
    close = difflib.get_close_matches(layer, [n for n in names if n], n=3, cutoff=0.5)
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
    raise LookupError(
        f"no module named {layer!r} in {type(model).__name__}; the valid names are "
        f"{_list_names(names)}{hint}"
    )


class StopForward(Exception):
    """Raised by a hook to end the forward pass early; the ``Trace`` that raised it catches it.

    ``owner`` is the ``Trace`` or ``TraceDict`` whose ``with`` block swallows it.

    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> with Trace(model, "1", stop=True) as tr:
    ...     model(torch.ones(5, 3))  # raises StopForward after layer "1"; the block catches it
    ...     print("not printed")
    >>> tr.output.shape
    torch.Size([5, 4])
    >>> tr = Trace(model, "1", stop=True)  # no with block: nothing catches it
    >>> try:
    ...     model(torch.ones(5, 3))
    ... except StopForward as stop:
    ...     print(stop, stop.owner is tr)
    forward pass stopped after layer '1' True
    >>> tr.close()
    """

    def __init__(self, owner: object, layer: str) -> None:
        super().__init__(f"forward pass stopped after layer {layer!r}")
        self.owner = owner
        self.layer = layer


def _copy(value: Any, *, clone: bool, detach: bool) -> Any:
    """``value`` with each tensor in it detached and/or cloned (tuples, lists, dicts walked)."""
    if isinstance(value, torch.Tensor):
        if detach:
            value = value.detach()
        return value.clone() if clone else value
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple
        return type(value)(*(_copy(v, clone=clone, detach=detach) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(_copy(v, clone=clone, detach=detach) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v, clone=clone, detach=detach) for k, v in value.items()}
    return value


def _structure(value: Any) -> Any:
    """The shapes of the tensors in ``value``, kept in its nesting; other values as their type."""
    if isinstance(value, torch.Tensor):
        return shape_str(value.shape)
    if isinstance(value, (tuple, list)):
        return tuple(_structure(v) for v in value)
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in value.items()}
    return type(value).__name__


def _check_edit(layer: str, before: Any, after: Any) -> None:
    if after is None:
        raise ValueError(
            f"edit_output for layer {layer!r} returned None; return the edited output "
            f"(after an in-place edit, return the tensor you changed)"
        )
    if isinstance(before, torch.Tensor):
        if not isinstance(after, torch.Tensor):
            raise TypeError(
                f"edit_output for layer {layer!r} returned {type(after).__name__}, but the "
                f"layer's output is a tensor of shape {shape_str(before.shape)}"
            )
        if after.shape != before.shape:
            raise ValueError(
                f"edit_output for layer {layer!r} returned shape {shape_str(after.shape)}, but "
                f"the layer's output has shape {shape_str(before.shape)}; an edit must keep "
                f"the output's shape"
            )
        return
    if _structure(after) != _structure(before):
        raise ValueError(
            f"edit_output for layer {layer!r} returned {_structure(after)}, but the layer's "
            f"output is {_structure(before)}; an edit must keep the output's structure and shapes"
        )


EditFn = Callable[[Any, str], Any]


def _check_flags(**flags: object) -> None:
    for name, value in flags.items():
        check_bool(value, name)


class _ClosingContext(contextlib.AbstractContextManager):
    """Leaving the ``with`` block always calls ``close()``, and swallows this object's own
    ``StopForward`` (the early stop it asked for) but no other exception."""

    def close(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def active(self) -> bool:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __enter__(self):
        if not self.active:
            raise ValueError(
                f"{self!r} is closed: its hooks were removed when it was closed (or its "
                "``with`` block ended), so it would record nothing; make a new one"
            )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        self.close()
        if exc is None and getattr(self, "must_fire", False) and self.missing:
            raise RuntimeError(_never_fired(self.missing, self._modules_by_name()))
        return isinstance(exc, StopForward) and exc.owner is self


def _never_fired(layers: list[str], modules: dict[str, nn.Module]) -> str:
    which = ", ".join(f"{n!r} ({type(modules[n]).__name__})" for n in layers)
    return (
        f"the forward hook on {which} never fired: the model ran without calling that module. "
        "Its parent may use the module's weights directly (nn.MultiheadAttention uses "
        "out_proj.weight) or take a fused path; trace the parent module instead"
    )


class Trace(_ClosingContext):
    """Retain (and optionally edit) what one named module of ``model`` computes.

    ``Trace(model, layer)`` registers a forward hook at once on the module that
    ``model.named_modules()`` calls ``layer`` (``""`` is the model itself; nested modules use
    dots, ``"encoder.0.fc"``); a wrong name is a ``LookupError`` that lists the valid names
    and suggests the closest ones. Leaving the ``with`` block (or calling ``close()``) removes
    the hook, also when the block raises.

    - ``retain_output`` (default True): ``.output`` is the module's output, after any edit.
    - ``retain_input``: ``.input`` is its positional input (the tensor itself when there is one,
      else the tuple of arguments).
    - ``detach``: retain ``.detach()``-ed tensors (no graph, no gradient). By default they stay
      attached to the autograd graph, so a loss computed from them can be backpropagated.
    - ``clone``: retain copies, so that a later in-place op in the model (``ReLU(inplace=True)``)
      cannot change what you retained.
    - ``edit_output``: ``fn(output, layer) -> new_output``; the rest of the model sees the new
      output. It must keep the output's shape (checked, with an error naming the layer).
    - ``stop``: raise ``StopForward`` right after this module runs; the ``with`` block catches
      it, so ``model(x)`` inside the block simply ends early.

    - ``must_fire``: leaving the ``with`` block without an exception raises ``RuntimeError``
      if the hook never fired (the module was never called), instead of leaving ``.output``
      ``None`` without a word.

    ``.calls`` counts how often the module ran; a module used twice keeps its last output.
    ``.fired`` says whether it ran at all.

    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> x = torch.ones(5, 3)
    >>> with Trace(model, "1", edit_output=lambda out, layer: out * 0) as tr:
    ...     y = model(x)
    >>> torch.equal(y, model[2].bias.expand(5, 2)), tr.calls
    (True, 1)
    >>> with Trace(model, "0", stop=True, detach=True) as tr:
    ...     model(x)      # stops after layer "0"
    >>> tr.output.shape, tr.output.requires_grad
    (torch.Size([5, 4]), False)
    """

    def __init__(
        self,
        model: nn.Module,
        layer: str,
        *,
        retain_output: bool = True,
        retain_input: bool = False,
        clone: bool = False,
        detach: bool = False,
        edit_output: EditFn | None = None,
        stop: bool = False,
        must_fire: bool = False,
    ) -> None:
        self.module = _get_module(model, layer)
        _check_flags(
            retain_output=retain_output,
            retain_input=retain_input,
            clone=clone,
            detach=detach,
            stop=stop,
            must_fire=must_fire,
        )
        if edit_output is not None and not callable(edit_output):
            raise TypeError(
                f"edit_output must be a function (output, layer) -> output, got "
                f"{type(edit_output).__name__}"
            )
        self.layer = layer
        self.retain_output = retain_output
        self.retain_input = retain_input
        self.clone = clone
        self.detach = detach
        self.edit_output = edit_output
        self.stop = stop
        self.must_fire = must_fire
        self.output: Any = None
        self.input: Any = None
        self.calls = 0
        self._parent_ref: weakref.ref[TraceDict] | None = None
        # The module holds the hook, the hook holds only a weak reference to this Trace: a
        # Trace that is dropped without close() is collected, and its hook removed with it.
        ref = weakref.ref(self)

        def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
            trace = ref()
            return None if trace is None else trace._hook(module, args, output)

        hook.__qualname__ = "Trace._hook"  # it stands for that method, as the chapter shows
        handle = self.module.register_forward_hook(hook)
        self._remove = weakref.finalize(self, handle.remove)

    def _hook(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
        self.calls += 1
        if self.retain_input:
            given = args[0] if len(args) == 1 else args
            self.input = _copy(given, clone=self.clone, detach=self.detach)
        result = None
        if self.edit_output is not None:
            result = self.edit_output(output, self.layer)
            _check_edit(self.layer, output, result)
            output = result
        if self.retain_output:
            self.output = _copy(output, clone=self.clone, detach=self.detach)
        parent = self._parent_ref() if self._parent_ref is not None else None
        if parent is not None:
            parent._ran(self.layer)
        elif self.stop:
            raise StopForward(self, self.layer)
        return result  # None: the output is left as it is

    @property
    def active(self) -> bool:
        """True while the hook is registered."""
        return self._remove.alive

    @property
    def fired(self) -> bool:
        """True once the hook has run at least once."""
        return self.calls > 0

    @property
    def missing(self) -> list[str]:
        """``[layer]`` while the hook has never fired, else ``[]`` (as ``TraceDict.missing``)."""
        return [] if self.fired else [self.layer]

    def _modules_by_name(self) -> dict[str, nn.Module]:
        return {self.layer: self.module}

    def close(self) -> None:
        """Remove the hook (safe to call more than once)."""
        self._remove()

    def __repr__(self) -> str:
        state = "active" if self.active else "closed"
        return f"Trace({self.layer!r}, {state}, calls={self.calls})"


class TraceDict(dict, _ClosingContext):
    """``Trace`` several named modules at once: a dict from layer name to its ``Trace``.

    Takes the same options as ``Trace``; ``edit_output(output, layer)`` is called for every
    listed layer (use ``layer`` to decide what to change). With ``stop=True`` the forward pass
    ends as soon as every listed layer has run once. ``.missing`` lists the layers whose hook
    has not fired; with ``must_fire=True`` leaving the block raises if any is left. All names
    are checked before any hook is registered, so a wrong name leaves the model untouched.

    >>> import torch
    >>> from torch import nn
    >>> model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    >>> with TraceDict(model, ["0", "1"], stop=True) as td:
    ...     model(torch.ones(5, 3))
    >>> {name: tuple(t.output.shape) for name, t in td.items()}
    {'0': (5, 4), '1': (5, 4)}
    >>> sum(hook_counts(model).values())
    0
    """

    def __init__(
        self,
        model: nn.Module,
        layers: Iterable[str],
        *,
        retain_output: bool = True,
        retain_input: bool = False,
        clone: bool = False,
        detach: bool = False,
        edit_output: EditFn | None = None,
        stop: bool = False,
        must_fire: bool = False,
    ) -> None:
        super().__init__()
        _check_flags(stop=stop, must_fire=must_fire)
        self.must_fire = must_fire
        names = _layer_names(layers)
        seen: dict[int, str] = {}
        for name in names:
            module = _get_module(model, name)  # raises for a wrong name, before any hook
            if name in seen.values():
                raise ValueError(f"layer {name!r} is listed twice in layers={names!r}")
            if id(module) in seen:
                raise ValueError(
                    f"layers {seen[id(module)]!r} and {name!r} are the same module "
                    f"({type(module).__name__}) under two names: its hooks would fire for "
                    "both names on every call, and both would keep the last output; list it once"
                )
            seen[id(module)] = name
        self.stop = stop
        self._pending: set[str] = set()
        try:
            for name in names:
                trace = Trace(
                    model,
                    name,
                    retain_output=retain_output,
                    retain_input=retain_input,
                    clone=clone,
                    detach=detach,
                    edit_output=edit_output,
                )
                trace._parent_ref = weakref.ref(self)
                self[name] = trace
        except BaseException:
            self.close()
            raise
        self._pending = set(names)

    def _ran(self, layer: str) -> None:
        self._pending.discard(layer)
        if self.stop and not self._pending:
            raise StopForward(self, layer)

    @property
    def missing(self) -> list[str]:
        """The listed layers whose hook has not fired yet, in the order they were listed."""
        return [name for name, trace in self.items() if not trace.fired]

    def _modules_by_name(self) -> dict[str, nn.Module]:
        return {name: trace.module for name, trace in self.items()}

    def close(self) -> None:
        """Remove every hook (safe to call more than once)."""
        for trace in reversed(list(self.values())):
            trace.close()
        self._closed = True

    @property
    def active(self) -> bool:
        """True until ``close()`` (or the end of the ``with`` block)."""
        return not getattr(self, "_closed", False)

    def __repr__(self) -> str:
        state = "active" if self.active else "closed"
        return f"TraceDict({list(self)!r}, {state})"


def _layer_names(layers: object) -> list[str]:
    """``layers`` as a list of names, or a TypeError: a str, None or a non-iterable is wrong."""
    if isinstance(layers, str):
        raise TypeError(f"layers must be a list of names, got the str {layers!r}")
    try:
        return list(layers)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"layers must be a list of names from model.named_modules(), got "
            f"{type(layers).__name__}"
        ) from None


def forward_arguments(
    module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The arguments of one call of ``module``, by the names in ``module.forward``'s signature.

    A hook registered with ``with_kwargs=True`` gets the positional ``args`` and the keyword
    ``kwargs`` separately, so the same argument arrives in either, depending on how the caller
    wrote the call: ``m(x, mask)`` or ``m(x, mask=mask)``. This binds both to the signature and
    fills in the defaults, so a hook can read ``arguments["mask"]`` either way. Arguments that
    do not fit the signature raise ``TypeError`` naming the module, as the call itself would.

    >>> import torch
    >>> from torch import nn
    >>> class Gate(nn.Module):
    ...     def forward(self, x, mask=None):
    ...         return x if mask is None else x * mask
    >>> x, mask = torch.ones(2), torch.tensor([1.0, 0.0])
    >>> sorted(forward_arguments(Gate(), (x, mask), {}))
    ['mask', 'x']
    >>> forward_arguments(Gate(), (x,), {"mask": mask})["mask"]
    tensor([1., 0.])
    >>> forward_arguments(Gate(), (x,))["mask"] is None
    True
    """
    check_module(module, "module")
    if not isinstance(args, tuple):
        raise TypeError(
            f"args must be the tuple of positional arguments a hook receives, got "
            f"{type(args).__name__}"
        )
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        raise TypeError(f"kwargs must be a dict of keyword arguments, got {type(kwargs).__name__}")
    signature = inspect.signature(module.forward)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as err:
        raise TypeError(
            f"args and kwargs do not fit the module's {type(module).__name__}.forward{signature}: "
            f"{err}"
        ) from None
    bound.apply_defaults()
    return dict(bound.arguments)


def forward_calls(
    model: nn.Module,
    inputs: Any,
    kwargs: dict[str, Any] | None = None,
    *,
    via: str = "module",
) -> dict[str, int]:
    """How often each module of ``model`` was called by one ``model(*inputs, **kwargs)``.

    Returns ``{name: calls}`` for every name in ``model.named_modules()`` (``""`` is the model
    itself), zeros included: a 0 is a module whose forward hook would never fire. ``inputs`` is
    one tensor or a tuple of positional arguments. ``via="module"`` counts with a forward hook
    on every module, ``via="global"`` with one global hook
    (``torch.nn.modules.module.register_module_forward_hook``), which leaves the modules' own
    hook dicts empty. The two can differ: some modules (``nn.TransformerEncoderLayer`` in eval
    mode under ``no_grad``, on 2.13.0) skip their fused fast path when a hook is attached to
    them. Every hook is removed before the function returns.

    >>> import torch
    >>> from torch import nn
    >>> mha = nn.MultiheadAttention(4, 2, batch_first=True)
    >>> x = torch.ones(1, 3, 4)
    >>> forward_calls(mha, (x, x, x))
    {'': 1, 'out_proj': 0}
    """
    _check_model(model)
    if via not in ("module", "global"):
        raise ValueError(f"via must be 'module' or 'global', got {via!r}")
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        raise TypeError(f"kwargs must be a dict of keyword arguments, got {type(kwargs).__name__}")
    args = inputs if isinstance(inputs, tuple) else (inputs,)
    names = dict(model.named_modules(remove_duplicate=False))
    counts = dict.fromkeys(names, 0)
    by_module: dict[int, list[str]] = {}
    for name, module in names.items():
        by_module.setdefault(id(module), []).append(name)

    def count(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        for name in by_module.get(id(module), []):
            counts[name] += 1

    if via == "global":
        handles = [_module_globals.register_module_forward_hook(count)]
    else:
        handles = [m.register_forward_hook(count) for m in dict.fromkeys(names.values())]
    try:
        model(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return counts


class HookEvent(NamedTuple):
    """One hook call recorded by ``record_hook_order``.

    >>> events = record_hook_order(nn.Sequential(nn.Linear(2, 2)), torch.ones(1, 2))
    >>> events[0]
    HookEvent(step=0, phase='forward', kind='forward_pre', layer='0')
    >>> events[-1].step, events[-1].phase, events[-1].kind
    (4, 'backward', 'backward')
    """

    step: int  # 0, 1, 2, ... in the order the hooks fired
    phase: str  # "forward" or "backward"
    kind: str  # one of _RECORDED_KINDS
    layer: str  # the module's name in model.named_modules()


def _loss_of(output: Any) -> torch.Tensor:
    """The sum of every floating-point tensor in ``output`` (a tensor, or tuples, lists and
    dicts of them), or a TypeError when it holds none that requires grad."""
    found = [t for t in _tensors_in(output) if t.is_floating_point() and t.requires_grad]
    if not found:
        raise TypeError(
            f"model(x) returned {_structure(output)}, with no floating-point tensor that "
            "requires grad: there is no backward pass whose hooks could be recorded"
        )
    return sum(t.sum() for t in found)


def record_hook_order(
    model: nn.Module, x: torch.Tensor, layers: Iterable[str] | None = None
) -> list[HookEvent]:
    """Run ``model(x).sum()`` forward and backward with every kind of hook on ``layers``, and
    return the hooks' calls in the order PyTorch made them. A model that returns a tuple, a
    list or a dict of tensors gets the sum of all of them.

    On each layer: a forward pre-hook, a forward hook (which also puts a ``Tensor.register_hook``
    on the layer's output), a full backward pre-hook and a full backward hook. ``layers``
    defaults to the model's direct children. The input is a copy of ``x`` that requires grad,
    so that every full backward hook has an input gradient to report. Gradients are computed
    with ``torch.autograd.grad``, so no ``.grad`` of the model changes, and every hook is
    removed before the function returns.

    >>> import torch
    >>> from torch import nn
    >>> events = record_hook_order(nn.Sequential(nn.Linear(2, 2)), torch.ones(1, 2))
    >>> [(e.phase, e.kind) for e in events]
    [('forward', 'forward_pre'), ('forward', 'forward'), ('backward', 'backward_pre'), ('backward', 'tensor'), ('backward', 'backward')]
    """
    _check_model(model)
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch.Tensor, got {type(x).__name__}")
    device = next((t.device for t in (*model.parameters(), *model.buffers())), x.device)
    if x.device != device:
        raise ValueError(f"x is on {x.device} but the model's parameters are on {device}")
    names = [n for n, _ in model.named_children()] if layers is None else _layer_names(layers)
    modules = {name: _get_module(model, name) for name in names}
    events: list[HookEvent] = []
    phase = "forward"

    def note(kind: str, layer: str) -> None:
        events.append(HookEvent(len(events), phase, kind, layer))

    def make_hooks(layer: str) -> tuple[Callable[..., None], ...]:
        def pre(module: nn.Module, args: tuple[Any, ...]) -> None:
            note("forward_pre", layer)

        def fwd(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            note("forward", layer)
            if isinstance(output, torch.Tensor) and output.requires_grad:
                output.register_hook(lambda grad: note("tensor", layer))

        def bpre(module: nn.Module, grad_output: tuple[Any, ...]) -> None:
            note("backward_pre", layer)

        def bwd(module: nn.Module, grad_input: tuple[Any, ...], grad_output: Any) -> None:
            note("backward", layer)

        return pre, fwd, bpre, bwd

    handles = []
    try:
        for layer, module in modules.items():
            pre, fwd, bpre, bwd = make_hooks(layer)
            handles += [
                module.register_forward_pre_hook(pre),
                module.register_forward_hook(fwd),
                module.register_full_backward_pre_hook(bpre),
                module.register_full_backward_hook(bwd),
            ]
        with torch.enable_grad():
            x = x.detach().clone().requires_grad_()
            loss = _loss_of(model(x))
            phase = "backward"
            torch.autograd.grad(loss, x)
    finally:
        for handle in handles:
            handle.remove()
    return events
