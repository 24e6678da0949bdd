"""nbval runs each notebook in a kernel that inherits this environment.

The values are defined once, in tools/kernel_env.py, and used when outputs are stored too
(tools/store_outputs.py), so a stored output and a checked one come from the same settings.
TORCH_DEVICE is left as the caller set it: `make test` runs the notebooks with TORCH_DEVICE=cpu
and, when a GPU is present, with cuda.
"""

import os

from tools.kernel_env import KERNEL_ENV

for _name, _value in KERNEL_ENV.items():
    if _name == "CUBLAS_WORKSPACE_CONFIG":
        os.environ.setdefault(_name, _value)
    else:
        os.environ[_name] = _value
