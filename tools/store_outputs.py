"""Execute notebooks and store their outputs deterministically (``make outputs``).

Usage: python tools/store_outputs.py [NOTEBOOK ...]   (default: notebooks/*.ipynb)

Each notebook runs top to bottom in a fresh kernel of this Python, from its own folder, on the
CPU, with the same environment nbval uses in ``make test``. Only a notebook that ran without an
unexpected error is written; when a cell fails, its kernel dies, or it runs past the cell
timeout (``STORE_OUTPUTS_TIMEOUT`` seconds, default 600), the old file stays untouched, the
notebook and the cell are named on stderr, and the exit status is 1. The kernel is driven by
jupyter_client's *asynchronous* manager: with the synchronous one, nbclient neither noticed a
dead kernel (it waited for good) nor enforced the timeout. Volatile metadata (timings, Python
version) is stripped and consecutive writes to one stream are merged into one output (how
stdout is split into chunks changes from run to run), so running it twice writes the same bytes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tools` is then importable

from tools.kernel_env import KERNEL_ENV as _NBVAL_ENV  # noqa: E402
from tools.kernel_env import STORE_DEVICE  # noqa: E402

# The environment nbval's kernel gets (notebooks/conftest.py), on the CPU.
KERNEL_ENV = {"TORCH_DEVICE": STORE_DEVICE, **_NBVAL_ENV}


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
            cell.outputs = merge_streams(cell.outputs)


def merge_streams(outputs: list) -> list:
    """One output per run of consecutive writes to the same stream (stdout or stderr)."""
    merged: list = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (
            out.get("output_type") == "stream"
            and last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == out.get("name")
        ):
            last["text"] = last["text"] + out["text"]
        else:
            merged.append(out)
    return merged


class NotebookFailed(Exception):
    """A notebook could not be stored; the message names the notebook and the cell."""


def _describe(nb: nbformat.NotebookNode, index: int | None) -> str:
    if index is None:
        return "before its first cell"
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    number = code.index(index) + 1 if index in code else "?"
    first = nb.cells[index].source.strip().splitlines()[:1]
    return f"cell {index} (code cell {number}: {first[0] if first else ''!r})"


def default_timeout() -> int:
    return int(os.environ.get("STORE_OUTPUTS_TIMEOUT", "600"))


def execute(path: Path, timeout: int | None = None) -> nbformat.NotebookNode:
    """Run the notebook at ``path``; raise NotebookFailed on an unexpected error, a dead kernel
    or a cell that runs longer than ``timeout`` seconds."""
    timeout = default_timeout() if timeout is None else timeout
    nb = nbformat.read(path, as_version=4)
    km = AsyncKernelManager(
        kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager()
    )
    current: list[int] = []
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=lambda cell, cell_index: current.append(cell_index),
    )
    saved = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
        where = _describe(nb, current[-1] if current else None)
        kind = {
            CellTimeoutError: f"ran longer than the cell timeout of {timeout} s",
            DeadKernelError: "killed the kernel (it died while the cell ran)",
        }.get(type(err), "raised an error")
        raise NotebookFailed(f"{path}: {where} {kind}\n{err}") from err
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    normalise(nb)
    return nb


def store(path: Path, timeout: int | None = None) -> bool:
    """Execute ``path`` and write it back; False (file untouched) when a cell failed."""
    try:
        nb = execute(path, timeout)
    except NotebookFailed as err:
        print(f"FAILED {err}\nnot written: the stored notebook is unchanged.", file=sys.stderr)
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
