"""The environment of the kernel that runs a chapter: one definition for both places that run one.

``notebooks/conftest.py`` sets it for nbval (``make test``), ``tools/store_outputs.py`` for
``make outputs``, so a stored output and a checked one come from the same settings.
"""

from __future__ import annotations

KERNEL_ENV = {
    "IPYKERNEL_CELL_NAME": "<IPY-INPUT>",  # a stable file name in warnings and tracebacks
    "PYTHONHASHSEED": "0",
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",  # deterministic cuBLAS (use_deterministic_algorithms)
}
# make outputs stores from the CPU; nbval leaves TORCH_DEVICE as the caller set it (make test
# runs the notebooks with TORCH_DEVICE=cpu and, when a GPU is present, with cuda).
STORE_DEVICE = "cpu"
