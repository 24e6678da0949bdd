"""`make outputs` stores outputs deterministically and never writes a notebook that failed."""

import importlib.util
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location(
    "store_outputs", ROOT / "tests/tools/store_outputs.py"
)
store_outputs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(store_outputs)


def write(path: Path, *sources: str) -> None:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def test_a_failing_notebook_is_not_written(tmp_path, capsys):
    path = tmp_path / "bad.ipynb"
    write(path, "print('fine')", "1 / 0", "print('never')")
    before = path.read_bytes()
    assert store_outputs.store(path) is False
    assert path.read_bytes() == before
    err = capsys.readouterr().err
    assert "FAILED" in err and "1 / 0" in err and "ZeroDivisionError" in err


def test_outputs_are_stored_and_a_second_run_writes_the_same_bytes(tmp_path, capsys):
    path = tmp_path / "good.ipynb"
    write(
        path,
        "import os\nprint(os.environ['TORCH_DEVICE'], os.getcwd() == os.path.dirname(os.path.abspath('good.ipynb')))",
        "1 / 0",
        "{'a': 1}",
    )
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = ["raises-exception"]
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    assert store_outputs.store(path) is True
    first = path.read_bytes()
    stored = nbformat.read(path, as_version=4)
    assert [c.execution_count for c in stored.cells] == [1, 2, 3]
    assert stored.cells[0].outputs[0]["text"] == "cpu True\n"  # on the CPU, from its own folder
    assert stored.cells[1].outputs[0]["ename"] == "ZeroDivisionError"
    assert "execution" not in stored.cells[0].metadata
    assert "version" not in stored.metadata.get("language_info", {})
    assert store_outputs.store(path) is True
    assert path.read_bytes() == first
    assert capsys.readouterr().out.splitlines()[-1].startswith("same")
