"""Import a module of the project's ``tools/`` folder from a Sphinx extension.

The book's extensions run inside ``jupyter-book``, where the project root is not on
``sys.path``; ``tools/`` modules shared with the tests and the ``make`` targets (the content
hash, the run report's keys, the chapters' use of the helpers) are loaded from their file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_tool(root: Path, name: str) -> ModuleType:
    """``tools/<name>.py`` of the project at ``root``, as module ``tools.<name>``."""
    qualified = f"tools.{name}"
    path = root / "tools" / f"{name}.py"
    loaded = sys.modules.get(qualified)
    if loaded is not None and Path(getattr(loaded, "__file__", "")) == path:
        return loaded
    spec = importlib.util.spec_from_file_location(qualified, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
