"""The benchmark (snippets/bench.py): a tiny run's schema and invariants, its argument checks,
and the committed results that the performance chapter plots: current (made from the code as it is now) and
stated correctly by the chapter's prose."""

import json
import math
import shutil
from pathlib import Path

import nbformat
import pytest
import torch

from snippets import bench

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "snippets" / "bench_results" / "cpu.json"
CHAPTER = ROOT / "notebooks" / "09-performance.ipynb"
REFRESH = "run `make bench`, then `make outputs NOTEBOOKS=notebooks/09-performance.ipynb`"


@pytest.fixture(scope="module")
def tiny():
    """Every job once, at 1000 elements, two rounds: seconds, not minutes."""
    return bench.run(sizes=(1000,), repeats=2, warmup=1, min_sample_s=0.0)


def markdown(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_a_tiny_run_records_the_machine_and_the_code(tiny):
    assert tiny["schema"] == bench.SCHEMA and tiny["device"] == "cpu"
    assert tiny["threads"] == 1 == torch.get_num_threads()
    assert tiny["torch"] == torch.__version__
    assert tiny["code_hash"] == bench.code_hash()
    assert tiny["machine"]["cores"] >= 1 and tiny["machine"]["cpu"]
    assert tiny["date"].endswith("Z") and tiny["repeats"] == 2
    assert len(tiny["commit"]) == 40 and isinstance(tiny["code_changed"], bool)  # a git checkout
    assert list(tiny["jobs"]) == [job.name for job in bench.JOBS]
    json.dumps(tiny)  # what main writes


def test_every_way_is_timed_and_bandwidth_is_bytes_over_time(tiny):
    for job in bench.JOBS:
        results = tiny["jobs"][job.name]["results"]
        assert [r["way"] for r in results] == [w.name for w in job.ways]
        clone = next((r for r in results if r["way"] == "clone"), None)
        for r in results:
            assert 0 < r["min_s"] <= r["median_s"], r
            assert isinstance(r["peak_bytes"], int) and r["peak_bytes"] >= 0
            if r["bytes_moved"] is None:
                assert r["bandwidth_gbs"] is None and r["fraction_of_clone"] is None
                continue
            assert math.isclose(r["bandwidth_gbs"], r["bytes_moved"] / r["median_s"] / 1e9)
            expected = r["bandwidth_gbs"] / clone["bandwidth_gbs"]
            assert math.isclose(r["fraction_of_clone"], expected), (job.name, r["way"])


def test_bytes_moved_and_memory_are_what_the_tensors_hold(tiny):
    """At 1000 elements the select job's input is (10, 100) float32 (4000 bytes) and its index
    (10, 100) int64 (8000 bytes)."""
    clone = bench.rows(tiny, "select", "clone")[0]
    gather = bench.rows(tiny, "select", "gather")[0]
    assert clone["bytes_moved"] == 2 * 4000 and gather["bytes_moved"] == 8000 + 2 * 4000
    assert clone["peak_bytes"] >= 4000  # the copy itself
    assert bench.rows(tiny, "expand", "expand")[0]["peak_bytes"] == 0  # a view allocates nothing
    assert bench.rows(tiny, "expand", "repeat")[0]["peak_bytes"] >= 4000
    grad = bench.rows(tiny, "grad_mode", "grad")[0]
    assert grad["saved_bytes"] > 0 and grad["saved_tensors"] > 0
    for mode in ("no_grad", "inference_mode"):
        assert bench.rows(tiny, "grad_mode", mode)[0]["saved_bytes"] == 0


def test_a_way_that_gives_another_answer_stops_the_run(monkeypatch):
    job = bench.JOBS[2]  # expand: expand and repeat must agree

    def wrong(n, device, gen):
        case = job.make(n, device, gen)
        calls = dict(case.calls, repeat=lambda: torch.zeros(n // bench.COLS, bench.COLS))
        return bench.Case(calls, case.moved, case.extra)

    monkeypatch.setattr(bench, "JOBS", (bench.Job(job.name, job.title, job.ways, wrong),))
    with pytest.raises(RuntimeError, match="expand: repeat disagrees with expand at 1000"):
        bench.run(sizes=(1000,), repeats=1, warmup=0, min_sample_s=0.0)


def test_run_names_the_argument_at_fault():
    with pytest.raises(ValueError, match="unknown jobs \\['nope'\\]"):
        bench.run(sizes=(1000,), jobs=("nope",), repeats=1)
    with pytest.raises(ValueError, match="device must be cpu or cuda, got 'meta'"):
        bench.run(device="meta", sizes=(1000,), repeats=1)
    with pytest.raises(ValueError, match="need repeats >= 1"):
        bench.run(sizes=(1000,), repeats=0)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="PyTorch sees no GPU"):
            bench.run(device="cuda", sizes=(1000,), repeats=1)


def test_main_writes_the_json_and_prints_the_checked_overhead(tmp_path, capsys):
    out = tmp_path / "b.json"
    args = ["--jobs", "select", "--sizes", "1000", "--repeats", "1", "--out", str(out)]
    assert bench.main(args) == 0
    written = json.loads(out.read_text())
    assert list(written["jobs"]) == ["select"] and written["sizes"] == [1000]
    shown = capsys.readouterr().out
    ratio = bench.checked_overhead(written)[1000]["checked_gather"]
    assert f"checked_gather {bench.fmt_ratio(ratio)}" in shown


# The committed results and the chapter that plots them.


@pytest.fixture(scope="module")
def committed():
    assert COMMITTED.is_file(), f"no {COMMITTED.relative_to(ROOT)}: {REFRESH}"
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_committed_results_are_a_full_cpu_run(committed):
    assert committed["device"] == "cpu" and not committed["quick"]
    assert committed["sizes"] == list(bench.FULL_SIZES) and committed["repeats"] == 30
    assert list(committed["jobs"]) == [job.name for job in bench.JOBS]


def test_committed_results_are_made_from_the_code_as_it_is(committed):
    """The hash of the measured files (CODE_FILES) when the results were made is today's."""
    assert committed["code_hash"] == bench.code_hash(), (
        f"snippets/bench_results/cpu.json was measured on other code ({', '.join(bench.CODE_FILES)} "
        f"changed since): {REFRESH}"
    )


def test_the_checked_helpers_cost_at_most_one_and_a_half_times_the_op(committed):
    """At 10^6 elements and above. On the CPU checked_gather lets gather check the values (it
    reads the index again only after gather has failed), so it costs the Python checks of
    shapes and dtypes; checked_take_along_dim must read the values first (2.10.0 to 2.14.1 wrap
    them), as checked_gather does off the CPU (values_first_gather): one more read of the
    index, about 1.5x for gather, whose bytes are half index. Compared on the fastest round
    of each (medians move with a busy machine's load). A check that reads the index several
    times fails: 3.7x at 10^6 elements, in medians, before the fused min/max pass."""
    for n in committed["sizes"]:
        if n < 10**6:
            continue
        at = committed["sizes"].index(n)
        for helper, op, bound in (
            ("checked_gather", "gather", 1.5),
            ("checked_take_along_dim", "take_along_dim", 1.5),
            ("values_first_gather", "gather", 1.6),
        ):
            ratio = bench.rows(committed, "select", helper)[at]["min_s"]
            ratio /= bench.rows(committed, "select", op)[at]["min_s"]
            assert ratio <= bound, f"{helper} takes {ratio:.2f}x {op} at {n} elements"


def test_the_chapter_states_the_committed_numbers(committed):
    problems = bench.stale_prose(committed, markdown(CHAPTER))
    assert not problems, (
        "the performance chapter's prose disagrees with snippets/bench_results/cpu.json (`python -m snippets.bench "
        "--update-prose` rewrites it from the results):\n" + "\n".join(problems)
    )


def test_stale_prose_names_the_sentence_and_the_value_and_update_prose_fixes_it(
    committed, tmp_path
):
    copy = tmp_path / CHAPTER.name
    shutil.copy(CHAPTER, copy)
    expected = bench.claims(committed)["checked_gather_1e6"]
    nb = nbformat.read(copy, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and expected in c.source)
    cell.source = cell.source.replace(expected, expected.replace("takes ", "takes 9"))
    nbformat.write(nb, copy)
    problems = bench.stale_prose(committed, markdown(copy))
    assert len(problems) == 1 and problems[0].startswith("checked_gather_1e6: states '9"), problems
    assert "the results say" in problems[0] and "in '" in problems[0]
    assert bench.update_prose(committed, copy) == 1
    assert bench.stale_prose(committed, markdown(copy)) == []
    assert markdown(copy) == markdown(CHAPTER)
