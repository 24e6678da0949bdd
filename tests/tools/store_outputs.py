"""Execute notebooks and store their outputs deterministically (``make outputs``).

Usage: python tests/tools/store_outputs.py [NOTEBOOK ...]   (default: notebooks/*.ipynb)

Each notebook runs top to bottom in a fresh kernel of this Python, from its own folder, on the
CPU, with the same environment nbval uses in ``make test``. Only a notebook that ran without an
unexpected error is written; when a cell fails, the old file stays untouched and the failing
cell and its error are printed. Volatile metadata (timings, Python version) is stripped, so
running it twice writes the same bytes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

ROOT = Path(__file__).resolve().parents[2]
# Same values as notebooks/conftest.py sets for nbval.
KERNEL_ENV = {
    "TORCH_DEVICE": "cpu",
    "IPYKERNEL_CELL_NAME": "<IPY-INPUT>",
    "PYTHONHASHSEED": "0",
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
}


def normalise(nb: nbformat.NotebookNode) -> None:
    """Drop what changes from machine to machine or run to run."""
    nb.metadata.pop("widgets", None)
    nb.metadata.get("language_info", {}).pop("version", None)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.metadata.pop("collapsed", None)
            cell.metadata.pop("scrolled", None)


def execute(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run the notebook at ``path``; raise CellExecutionError on an unexpected error."""
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(
        kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager()
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    saved = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        client.execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    normalise(nb)
    return nb


def store(path: Path) -> bool:
    """Execute ``path`` and write it back; False (file untouched) when a cell failed."""
    try:
        nb = execute(path)
    except CellExecutionError as err:
        print(
            f"FAILED {path}: not written, the stored notebook is unchanged.\n{err}", file=sys.stderr
        )
        return False
    text = nbformat.writes(nb) + "\n"
    if path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
        print(f"stored  {path}")
    else:
        print(f"same    {path}")
    return True


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    results = [store(p) for p in paths]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
