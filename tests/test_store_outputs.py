"""`make outputs` stores outputs deterministically and never writes a notebook that failed."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("store_outputs", ROOT / "tools/store_outputs.py")
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


def run_tool(path: Path, timeout_s: int) -> tuple[subprocess.CompletedProcess, float]:
    """``python tools/store_outputs.py path`` in its own process group, killed with its
    kernel after 90 s, so that a hang fails this test instead of hanging the suite."""
    env = {**os.environ, "STORE_OUTPUTS_TIMEOUT": str(timeout_s)}
    args = [sys.executable, str(ROOT / "tools/store_outputs.py"), str(path)]
    start = time.monotonic()
    with subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the tool and the kernel it started
            proc.communicate()
            raise
    return subprocess.CompletedProcess(args, proc.returncode, out, err), time.monotonic() - start


def test_a_dead_kernel_fails_promptly_names_the_cell_and_writes_nothing(tmp_path):
    """Issue 9: with the synchronous kernel manager this hung for over 16 minutes."""
    path = tmp_path / "dies.ipynb"
    write(path, "print('fine')", "import os\nos._exit(1)", "print('never')")
    before = path.read_bytes()
    done, seconds = run_tool(path, timeout_s=60)
    assert done.returncode == 1
    assert "dies.ipynb: cell 1 (code cell 2: 'import os') killed the kernel" in done.stderr
    assert "not written" in done.stderr
    assert path.read_bytes() == before
    assert seconds < 30, seconds  # about 3 s here; the kernel start is most of it


def test_a_cell_past_the_timeout_fails_promptly_names_the_cell_and_writes_nothing(tmp_path):
    """Issue 9: the timeout used not to be enforced (a 40 s cell under 5 s ran to the end)."""
    path = tmp_path / "slow.ipynb"
    write(path, "print('fine')", "import time\ntime.sleep(60)", "print('never')")
    before = path.read_bytes()
    done, seconds = run_tool(path, timeout_s=2)
    assert done.returncode == 1
    assert (
        "slow.ipynb: cell 1 (code cell 2: 'import time') ran longer than the cell timeout of 2 s"
        in done.stderr
    )
    assert path.read_bytes() == before
    assert seconds < 40, seconds  # the cell would sleep for 60 s


def test_writes_to_one_stream_are_merged_into_one_output(tmp_path):
    """Three flushed prints 0.2 s apart reach the kernel client as three stream messages."""
    path = tmp_path / "chunks.ipynb"
    write(path, "import time\nfor i in range(3):\n    print(i, flush=True)\n    time.sleep(0.2)")
    assert store_outputs.store(path) is True
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [(o["name"], o["text"]) for o in outputs] == [("stdout", "0\n1\n2\n")]


def test_merge_streams_keeps_the_order_of_different_streams():
    out = nbformat.v4.new_output
    merged = store_outputs.merge_streams(
        [
            out("stream", name="stdout", text="a"),
            out("stream", name="stdout", text="b\n"),
            out("stream", name="stderr", text="e\n"),
            out("execute_result", data={"text/plain": "1"}, execution_count=1),
            out("stream", name="stdout", text="c\n"),
        ]
    )
    assert [(o["output_type"], o.get("text")) for o in merged] == [
        ("stream", "ab\n"),
        ("stream", "e\n"),
        ("execute_result", None),
        ("stream", "c\n"),
    ]
