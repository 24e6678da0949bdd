"""Where the book's tensors live, and how a notebook prints the same on every device.

``DEVICE`` comes from the ``TORCH_DEVICE`` environment variable: ``cpu``, ``cuda``,
``cuda:1``, ... When it is unset, CUDA is used if PyTorch sees a GPU, else the CPU.

Example data is always made on the CPU (fixed values, or a generator seeded explicitly) and
then moved to ``DEVICE``: ``torch.manual_seed(0); torch.randn(3, device="cuda")`` prints other
numbers than the same call on the CPU, so the book never draws random numbers on the GPU.
``example_normal`` draws its values that way.

>>> import torch
>>> x = torch.tensor([[1, 2], [3, 4]]).to(DEVICE)  # made on the CPU, then moved
>>> x.device.type == DEVICE.type  # "cuda" is cuda:0 once a tensor is there
True
>>> x.cpu()
tensor([[1, 2],
        [3, 4]])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch

from snippets.validate import check_int

__all__ = ["DEVICE", "example_normal", "resolve_device", "setup"]

ENV_VAR = "TORCH_DEVICE"


def resolve_device(name: str | torch.device | None = None) -> torch.device:
    """The device named by ``name`` (or by ``$TORCH_DEVICE`` when ``name`` is None).

    ``name`` is a string such as ``"cuda:0"`` or a ``torch.device``. An empty or missing name
    means CUDA when PyTorch sees a GPU, else the CPU. Asking for a device that this machine does
    not have is an error, not a silent fallback: a run that was meant to use CUDA must not
    quietly use the CPU.

    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device(torch.device("cpu"))
    device(type='cpu')
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: TORCH_DEVICE='tpu' is not a device PyTorch knows (use cpu, cuda or cuda:N)
    >>> resolve_device(0)
    Traceback (most recent call last):
    ...
    TypeError: resolve_device: name must be a str, a torch.device or None, got int
    """
    if name is None:
        name = os.environ.get(ENV_VAR, "")
    if isinstance(name, torch.device):
        name = str(name)
    if not isinstance(name, str):
        raise TypeError(
            f"resolve_device: name must be a str, a torch.device or None, got {type(name).__name__}"
        )
    name = name.strip()
    if not name:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(
            f"{ENV_VAR}={name!r} is not a device PyTorch knows (use cpu, cuda or cuda:N)"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{ENV_VAR}={name!r} but torch.cuda.is_available() is False")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(
                f"{ENV_VAR}={name!r} but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
    elif device.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"{ENV_VAR}={name!r} but torch.backends.mps.is_available() is False")
    elif device.type != "cpu":
        raise ValueError(f"{ENV_VAR}={name!r}: the book runs on cpu, cuda or mps only")
    return device


#: The device the book's tensors live on: ``resolve_device()`` when this module is imported, so
#: ``TORCH_DEVICE`` if it is set, else CUDA when PyTorch sees a GPU, else the CPU.
DEVICE: torch.device = resolve_device()


def setup(seed: int = 0) -> None:
    """Make a notebook's printed output the same on every run and every device.

    - ``torch.use_deterministic_algorithms(True)``: an op without a deterministic kernel raises
      instead of printing different numbers from run to run (on CUDA this needs
      ``CUBLAS_WORKSPACE_CONFIG``, which is set here unless already set);
    - TF32 off for matmul and cuDNN (cuDNN convolutions use TF32 by default on Ampere and newer);
    - the default print options (4 decimals), without scientific notation;
    - the global seed, for code that uses the default generator (model initialisation).

    - in IPython (a notebook), short tracebacks: the exception type and message, without the
      library frames and file paths behind them.

    >>> setup()
    >>> torch.are_deterministic_algorithms_enabled()
    True
    >>> setup(1.5)
    Traceback (most recent call last):
    ...
    TypeError: seed must be an int, got float
    """
    check_int(seed, "seed")
    _short_tracebacks()
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.set_printoptions(profile="default", sci_mode=False)
    torch.manual_seed(seed)


def _short_tracebacks() -> None:
    """Show errors as ``Type: message`` in IPython; outside IPython do nothing."""
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: its tracebacks are the caller's business
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "InteractiveTB"):
        shell.InteractiveTB.set_mode("Minimal")


def _generator(seed: int) -> torch.Generator:
    check_int(seed, "seed")
    return torch.Generator(device="cpu").manual_seed(seed)


def _shape(shape: Sequence[int], what: str) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, torch.Size)):
        shape = tuple(shape[0])
    if not all(isinstance(s, int) and s >= 0 for s in shape):
        raise ValueError(f"{what}: shape must be non-negative ints, got {tuple(shape)}")
    return tuple(shape)


def _example(values: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Fixed example data: ``torch.tensor(values)`` made on the CPU, then moved to ``DEVICE``.

    A tensor is accepted too (it is copied, so the example never aliases the caller's data).

    >>> _example([[1, 2], [3, 4]]).cpu()
    tensor([[1, 2],
            [3, 4]])
    >>> _example([0.5, 1.5], dtype=torch.float64).dtype
    torch.float64
    """
    if isinstance(values, torch.Tensor):
        t = values.detach().to("cpu", copy=True)
        if dtype is not None:
            t = t.to(dtype)
    else:
        t = torch.tensor(values, dtype=dtype, device="cpu")
    return t.to(DEVICE)


def example_normal(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal values from a CPU generator seeded with ``seed``, moved to ``DEVICE``.

    >>> example_normal(2, 2, seed=0).cpu()
    tensor([[ 1.5410, -0.2934],
            [-2.1788,  0.5684]])
    """
    size = _shape(shape, "example_normal")
    return torch.randn(size, generator=_generator(seed), dtype=dtype).to(DEVICE)
