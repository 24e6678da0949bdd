"""nbval runs each notebook in a kernel that inherits this environment.

The same values are used when outputs are stored (tests/tools/store_outputs.py), so a stored
output and a checked one come from the same settings. TORCH_DEVICE is left as the caller set it:
`make test` runs the notebooks with TORCH_DEVICE=cpu and, when a GPU is present, with cuda.
"""

import os

os.environ["IPYKERNEL_CELL_NAME"] = "<IPY-INPUT>"  # stable file name in warnings and tracebacks
os.environ["PYTHONHASHSEED"] = "0"
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
