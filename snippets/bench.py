"""The book's benchmark: the ways to do each job, timed side by side in one process.

``python -m snippets.bench`` (``make bench``) times every way of each job below, interleaved
(each round runs every way once, in a rotated order, so a noisy neighbour slows them all
alike), after a warm-up, and keeps the minimum and the median of the rounds. It writes the
results as JSON, ``snippets/bench_results/<device>.json``, which the performance chapter
plots; ``--quick`` is a short run (fewer sizes and rounds), written elsewhere unless ``--out``
says otherwise.

What a result holds, per job, size and way:

- ``median_s``, ``min_s``: seconds per call (a sample times ``number`` calls in a row, so that
  it lasts at least ``min_sample_s``; on CUDA the device is synchronised around it);
- ``bytes_moved``: what the *job* must read and write at least (its inputs read once, its
  result written once), the same for every way of a job, so a way that moves more than that,
  or moves it slowly, shows as a lower bandwidth; ``clone`` moves its tensor twice (read,
  write). ``None`` where the job is not a memory job (a view, a matmul);
- ``bandwidth_gbs`` = ``bytes_moved / median_s / 1e9``, and ``fraction_of_clone``: that
  bandwidth over ``clone``'s in the same job at the same size (a plain copy of the same
  bytes: a yardstick, not a limit);
- ``peak_bytes``: the most memory the call's own tensors held at once. CPU: from PyTorch's
  profiler (``profile_memory=True``), the running sum of every allocation and free the call
  made, its maximum; CUDA: ``torch.cuda.max_memory_allocated`` over the call, less what was
  allocated before it.

The results record the machine, the PyTorch release, the thread count, the date, the git commit
(and ``code_changed``: whether the measured files differed from it) and a hash of the
benchmark's and the measured helpers' source files, so a test can tell when they are stale.

>>> results = load_results()
>>> list(results["jobs"])
['select', 'argmax', 'expand', 'broadcast_index', 'broadcast_input_backward', 'grad_mode']
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from snippets.argmax import argmax_coordinates
from snippets.autograd import saved_tensors_report
from snippets.indexing import _check_gather_args, checked_gather, checked_take_along_dim

__all__ = ["checked_overhead", "load_results", "rows"]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "bench_results"  # the committed full runs
SCHEMA = 1
# The files whose code the benchmark measures (or counts with): results made from other bytes
# of these files are stale.
CODE_FILES = (
    "snippets/bench.py",
    "snippets/validate.py",
    "snippets/indexing.py",
    "snippets/argmax.py",
    "snippets/autograd.py",
)
FULL_SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)
QUICK_SIZES = (10**3, 10**5, 10**6)
COLS = 100  # columns of the row-wise jobs: sizes are rows * COLS elements

MEMORY_METHOD = {
    "cpu": "torch.profiler (profile_memory=True): the maximum of the running sum of the "
    "allocations and frees the call made (its [memory] records, in time order)",
    "cuda": "torch.cuda.max_memory_allocated over the call, less torch.cuda.memory_allocated "
    "before it",
}
BYTES_METHOD = (
    "bytes the job must move at least: its inputs read once and its result written once, the "
    "same for every way of a job; clone reads and writes its tensor once; bandwidth = "
    "bytes_moved / median_s"
)


@dataclass(frozen=True)
class Way:
    """One way to do a job: its key, the code it runs, and the largest size it is run at."""

    name: str
    code: str
    max_size: int | None = None
    compare: bool = True  # gives the job's answer (False: a baseline such as argmax alone)


@dataclass(frozen=True)
class Case:
    """A job at one size: a call per way, and the bytes each moves (None: not a memory job)."""

    calls: dict[str, Callable[[], Any]]
    moved: dict[str, int | None]
    extra: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Job:
    name: str
    title: str
    ways: tuple[Way, ...]
    make: Callable[[int, torch.device, torch.Generator], Case]


def _randn(shape: tuple[int, ...], gen: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.randn(shape, generator=gen).to(device)


def _randint(
    high: int, shape: tuple[int, ...], gen: torch.Generator, device: torch.device
) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=gen).to(device)


def _make_select(n: int, device: torch.device, gen: torch.Generator) -> Case:
    rows = n // COLS
    x = _randn((rows, COLS), gen, device)
    idx = _randint(COLS, (rows, COLS), gen, device)

    def indexing() -> torch.Tensor:
        return x[torch.arange(rows, device=device)[:, None], idx]

    def index_select() -> torch.Tensor:
        offsets = idx + COLS * torch.arange(rows, device=device)[:, None]
        return x.reshape(-1).index_select(0, offsets.reshape(-1)).view(rows, COLS)

    def one_hot() -> torch.Tensor:
        return (F.one_hot(idx, COLS).to(x.dtype) @ x.unsqueeze(-1)).squeeze(-1)

    def loop() -> torch.Tensor:
        return torch.stack([x[r, idx[r]] for r in range(rows)])

    calls = {
        "gather": lambda: torch.gather(x, 1, idx),
        "indexing": indexing,
        "take_along_dim": lambda: torch.take_along_dim(x, idx, dim=1),
        "index_select": index_select,
        "one_hot": one_hot,
        "loop": loop,
        "checked_gather": lambda: checked_gather(x, 1, idx),
        # what checked_gather does off the CPU: every index value checked before the op
        "values_first_gather": lambda: torch.gather(x, _check_gather_args(x, 1, idx), idx),
        "checked_take_along_dim": lambda: checked_take_along_dim(x, idx, dim=1),
        "clone": x.clone,
    }
    job = idx.nbytes + 2 * x.nbytes  # the index, the picked values, the result
    return Case(calls, {k: 2 * x.nbytes if k == "clone" else job for k in calls}, {})


ARGMAX_SHAPE = (100, 10)  # (C, L) of an input (B, C, L): coordinates of the maximum along C


def _make_argmax(n: int, device: torch.device, gen: torch.Generator) -> Case:
    c, length = ARGMAX_SHAPE
    b = n // (c * length)
    x = _randn((b, c, length), gen, device)

    def unravel() -> torch.Tensor:
        am = x.argmax(1)
        bi, li = torch.unravel_index(torch.arange(am.numel(), device=device), am.shape)
        return torch.stack([bi.view_as(am), am, li.view_as(am)], dim=-1)

    def repeat_stack() -> torch.Tensor:
        am = x.argmax(1)
        bi = torch.arange(b, device=device).view(b, 1).repeat(1, length)
        li = torch.arange(length, device=device).view(1, length).repeat(b, 1)
        return torch.stack([bi, am, li], dim=-1)

    calls = {
        "argmax": lambda: x.argmax(1),
        "arange_views": lambda: argmax_coordinates(x, dim=1),
        "unravel_index": unravel,
        "repeat_stack": repeat_stack,
        "clone": x.clone,
    }
    job = x.nbytes + b * length * 3 * 8  # read x, write (B, L, 3) int64 coordinates
    moved = {k: 2 * x.nbytes if k == "clone" else job for k in calls}
    moved["argmax"] = x.nbytes + b * length * 8
    return Case(calls, moved, {})


def _make_expand(n: int, device: torch.device, gen: torch.Generator) -> Case:
    rows = n // COLS
    x = _randn((rows, 1), gen, device)
    full = _randn((rows, COLS), gen, device)
    calls = {
        "expand": lambda: x.expand(rows, COLS),
        "repeat": lambda: x.repeat(1, COLS),
        "clone": full.clone,
    }
    moved = {"expand": None, "repeat": x.nbytes + full.nbytes, "clone": 2 * full.nbytes}
    return Case(calls, moved, {})


def _make_broadcast_index(n: int, device: torch.device, gen: torch.Generator) -> Case:
    rows = n // COLS
    x = _randn((rows, COLS), gen, device)
    idx = _randint(COLS, (1, COLS), gen, device)  # one index row, the same for every row
    calls = {
        "take_along_dim": lambda: torch.take_along_dim(x, idx, dim=1),
        "gather_expanded": lambda: torch.gather(x, 1, idx.expand(rows, COLS)),
        "index_select": lambda: x.index_select(1, idx[0]),
        "clone": x.clone,
    }
    job = idx.nbytes + 2 * x.nbytes
    return Case(calls, {k: 2 * x.nbytes if k == "clone" else job for k in calls}, {})


def _make_broadcast_input_backward(n: int, device: torch.device, gen: torch.Generator) -> Case:
    rows = n // COLS
    x = _randn((1, COLS), gen, device).requires_grad_()  # the broadcast side is the input
    idx = _randint(COLS, (rows, COLS), gen, device)

    def grad_of(forward: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
        def call() -> torch.Tensor:
            x.grad = None
            forward().sum().backward()
            return x.grad

        return call

    calls = {
        "take_along_dim": grad_of(lambda: torch.take_along_dim(x, idx, dim=1)),
        "gather_expanded": grad_of(lambda: torch.gather(x.expand(rows, COLS), 1, idx)),
        "indexing": grad_of(lambda: x[0][idx]),
    }
    return Case(calls, dict.fromkeys(calls), {})


MLP_WIDTH = 100


def _make_grad_mode(n: int, device: torch.device, gen: torch.Generator) -> Case:
    batch = n // MLP_WIDTH
    torch.manual_seed(0)
    layers = [torch.nn.Linear(MLP_WIDTH, MLP_WIDTH) for _ in range(3)]
    model = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(), layers[2])
    model = model.to(device)
    x = _randn((batch, MLP_WIDTH), gen, device)

    def under(switch: Callable[[], Any]) -> Callable[[], torch.Tensor]:
        def call() -> torch.Tensor:
            with switch():
                return model(x)

        return call

    switches = {
        "grad": torch.enable_grad,
        "no_grad": torch.no_grad,
        "inference_mode": torch.inference_mode,
    }
    saved = {}
    for name, switch in switches.items():
        with switch():
            report = saved_tensors_report(model, x)  # counted exactly, once
        saved[name] = {"saved_bytes": report.nbytes, "saved_tensors": report.count}
    calls = {name: under(switch) for name, switch in switches.items()}
    return Case(calls, dict.fromkeys(calls), saved)


JOBS: tuple[Job, ...] = (
    Job(
        "select",
        "row-wise selection: one value per (row, index) of a (rows, 100) float32 input, "
        "int64 index of the same shape",
        (
            Way("gather", "torch.gather(x, 1, idx)"),
            Way("indexing", "x[torch.arange(rows)[:, None], idx]"),
            Way("take_along_dim", "torch.take_along_dim(x, idx, dim=1)"),
            Way("index_select", "x.reshape(-1).index_select(0, flat offsets).view(rows, 100)"),
            Way("one_hot", "(F.one_hot(idx, 100).float() @ x.unsqueeze(-1)).squeeze(-1)", 10**5),
            Way("loop", "torch.stack([x[r, idx[r]] for r in range(rows)])", 10**5),
            Way("checked_gather", "checked_gather(x, 1, idx)"),
            Way(
                "values_first_gather",
                "torch.gather after checking every index value (checked_gather off the CPU)",
            ),
            Way("checked_take_along_dim", "checked_take_along_dim(x, idx, dim=1)"),
            Way("clone", "x.clone()", compare=False),
        ),
        _make_select,
    ),
    Job(
        "argmax",
        "argmax coordinates: (b, c, l) of the maximum along dim 1 of a (B, 100, 10) float32 input",
        (
            Way("argmax", "x.argmax(1)", compare=False),
            Way("arange_views", "argmax_coordinates(x, dim=1)"),
            Way("unravel_index", "stack of unravel_index(arange(B * 10)) and argmax"),
            Way("repeat_stack", "stack of arange(B).repeat, argmax, arange(10).repeat"),
            Way("clone", "x.clone()", compare=False),
        ),
        _make_argmax,
    ),
    Job(
        "expand",
        "a (rows, 1) float32 column made (rows, 100)",
        (
            Way("expand", "x.expand(rows, 100)"),
            Way("repeat", "x.repeat(1, 100)"),
            Way("clone", "y.clone() of a (rows, 100) tensor", compare=False),
        ),
        _make_expand,
    ),
    Job(
        "broadcast_index",
        "one index row (1, 100) picked from every row of a (rows, 100) float32 input",
        (
            Way("take_along_dim", "torch.take_along_dim(x, idx, dim=1)"),
            Way("gather_expanded", "torch.gather(x, 1, idx.expand(rows, 100))"),
            Way("index_select", "x.index_select(1, idx[0])"),
            Way("clone", "x.clone()", compare=False),
        ),
        _make_broadcast_index,
    ),
    Job(
        "broadcast_input_backward",
        "forward and backward when the input (1, 100) is the broadcast side of a (rows, 100) index",
        (
            Way("take_along_dim", "torch.take_along_dim(x, idx, dim=1).sum().backward()"),
            Way("gather_expanded", "torch.gather(x.expand(rows, 100), 1, idx).sum().backward()"),
            Way("indexing", "x[0][idx].sum().backward()"),
        ),
        _make_broadcast_input_backward,
    ),
    Job(
        "grad_mode",
        "forward pass of a 3-layer MLP (width 100) on a (B, 100) float32 batch",
        (
            Way("grad", "model(x)"),
            Way("no_grad", "with torch.no_grad(): model(x)"),
            Way("inference_mode", "with torch.inference_mode(): model(x)"),
        ),
        _make_grad_mode,
    ),
)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _seconds(call: Callable[[], Any], number: int, device: torch.device) -> float:
    """Seconds per call of ``number`` calls in a row."""
    _sync(device)
    start = time.perf_counter()
    for _ in range(number):
        call()
    _sync(device)
    return (time.perf_counter() - start) / number


def _peak_bytes(call: Callable[[], Any], device: torch.device) -> int:
    """The most memory the call's tensors held at once (see MEMORY_METHOD)."""
    if device.type == "cuda":
        _sync(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        out = call()
        _sync(device)
        peak = torch.cuda.max_memory_allocated(device) - before
        del out
        return int(peak)
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        out = call()
        del out
    # every allocation (+bytes) and free (-bytes), in time order
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    live = peak = 0
    for e in sorted(events, key=lambda e: e.start_ns()):
        live += e.nbytes()
        peak = max(peak, live)
    return int(peak)


def _same(a: Any, b: Any) -> bool:
    return (
        isinstance(a, torch.Tensor)
        and isinstance(b, torch.Tensor)
        and a.shape == b.shape
        and torch.equal(a.detach(), b.detach())
    )


def code_hash(root: Path = ROOT) -> str:
    """``sha256:<hex>`` over the path and bytes of each of ``CODE_FILES``."""
    digest = hashlib.sha256()
    for rel in CODE_FILES:
        digest.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def _git_commit(root: Path) -> dict[str, Any]:
    """The commit checked out, and whether the measured files differ from it (None: no git)."""
    changed = _git(root, "status", "--porcelain", "--", *CODE_FILES)
    return {
        "commit": _git(root, "rev-parse", "HEAD"),
        "code_changed": None if changed is None else bool(changed),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _machine(device: torch.device) -> dict[str, Any]:
    machine = {"cpu": _cpu_model(), "cores": os.cpu_count(), "platform": platform.platform()}
    if device.type == "cuda":
        machine["gpu"] = torch.cuda.get_device_name(device)
        machine["cuda"] = torch.version.cuda
    return machine


class _Progress:
    """One line on stderr, rewritten in place: the job, the size and how far the rounds are."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled
        self.start = time.perf_counter()

    def step(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            spent = time.perf_counter() - self.start
            bar = "#" * (20 * self.done // self.total)
            sys.stderr.write(f"\r[{bar:<20}] {self.done}/{self.total} {spent:5.0f} s  {label:<40}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _run_job(
    job: Job,
    n: int,
    device: torch.device,
    *,
    repeats: int,
    warmup: int,
    min_sample_s: float,
    progress: _Progress,
) -> list[dict[str, Any]]:
    gen = torch.Generator().manual_seed(n)
    case = job.make(n, device, gen)
    ways = [w for w in job.ways if w.max_size is None or n <= w.max_size]
    reference = next(w for w in ways if w.compare)
    expected = case.calls[reference.name]()
    number = {}
    for way in ways:
        call = case.calls[way.name]
        out = call()
        if way.compare and not _same(out, expected):
            raise RuntimeError(f"{job.name}: {way.name} disagrees with {reference.name} at {n}")
        for _ in range(warmup):
            call()
        once = max(_seconds(call, 1, device), 1e-9)
        number[way.name] = max(1, math.ceil(min_sample_s / once))
    samples: dict[str, list[float]] = {w.name: [] for w in ways}
    for r in range(repeats):
        for way in ways[r % len(ways) :] + ways[: r % len(ways)]:  # a rotated order each round
            samples[way.name].append(_seconds(case.calls[way.name], number[way.name], device))
        progress.step(f"{job.name} n={n:.0e} round {r + 1}/{repeats}")
    results = []
    for way in ways:
        times = samples[way.name]
        median = statistics.median(times)
        moved = case.moved[way.name]
        results.append(
            {
                "size": n,
                "way": way.name,
                "median_s": median,
                "min_s": min(times),
                "number": number[way.name],
                "bytes_moved": moved,
                "bandwidth_gbs": None if moved is None else moved / median / 1e9,
                "peak_bytes": _peak_bytes(case.calls[way.name], device),
                **case.extra.get(way.name, {}),
            }
        )
    clone = next((r for r in results if r["way"] == "clone"), None)
    for row in results:
        row["fraction_of_clone"] = (
            None
            if clone is None or row["bandwidth_gbs"] is None
            else row["bandwidth_gbs"] / clone["bandwidth_gbs"]
        )
    return results


def run(
    *,
    device: str = "cpu",
    sizes: tuple[int, ...] = FULL_SIZES,
    jobs: tuple[str, ...] | None = None,
    repeats: int = 30,
    warmup: int = 3,
    min_sample_s: float = 0.002,
    threads: int = 1,
    quick: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the benchmark; return the results (the JSON ``main`` writes)."""
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but PyTorch sees no GPU on this machine")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be cpu or cuda, got {device!r}")
    if repeats < 1 or warmup < 0 or threads < 1 or not sizes:
        raise ValueError(
            f"need repeats >= 1, warmup >= 0, threads >= 1 and sizes; got "
            f"{repeats}, {warmup}, {threads}, {sizes}"
        )
    chosen = [j for j in JOBS if jobs is None or j.name in jobs]
    unknown = set(jobs or ()) - {j.name for j in JOBS}
    if unknown:
        raise ValueError(f"unknown jobs {sorted(unknown)}; the jobs are {[j.name for j in JOBS]}")
    torch.set_num_threads(threads)
    bar = _Progress(len(chosen) * len(sizes) * repeats, progress)
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "device": dev.type,
        "machine": _machine(dev),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **_git_commit(ROOT),  # commit, and code_changed: the measured files differ from it
        "code_hash": code_hash(),
        "code_files": list(CODE_FILES),
        "quick": quick,
        "sizes": list(sizes),
        "repeats": repeats,
        "warmup": warmup,
        "min_sample_s": min_sample_s,
        "memory_method": MEMORY_METHOD[dev.type],
        "bytes_method": BYTES_METHOD,
        "jobs": {},
    }
    for job in chosen:
        results = []
        for n in sizes:
            results += _run_job(
                job,
                n,
                dev,
                repeats=repeats,
                warmup=warmup,
                min_sample_s=min_sample_s,
                progress=bar,
            )
        out["jobs"][job.name] = {
            "title": job.title,
            "ways": {w.name: {"code": w.code, "max_size": w.max_size} for w in job.ways},
            "results": results,
        }
    bar.close()
    return out


def rows(results: dict[str, Any], job: str, way: str) -> list[dict[str, Any]]:
    """The results of one way of a job, by size.

    >>> [r["size"] for r in rows(load_results(), "select", "gather")]
    [1000, 10000, 100000, 1000000, 10000000]
    """
    return [r for r in results["jobs"][job]["results"] if r["way"] == way]


def _at(results: dict[str, Any], job: str, way: str, size: int) -> dict[str, Any]:
    found = [r for r in rows(results, job, way) if r["size"] == size]
    if not found:
        raise KeyError(f"no result for {job}/{way} at size {size}")
    return found[0]


def checked_overhead(results: dict[str, Any]) -> dict[int, dict[str, float]]:
    """Per size: median time of each checked helper over the op it wraps.

    >>> sorted(checked_overhead(load_results())[10**6])
    ['checked_gather', 'checked_take_along_dim', 'values_first_gather']
    """
    table = {}
    for n in results["sizes"]:
        table[n] = {
            helper: _at(results, "select", helper, n)["median_s"]
            / _at(results, "select", op, n)["median_s"]
            for helper, op in (
                ("checked_gather", "gather"),
                ("values_first_gather", "gather"),
                ("checked_take_along_dim", "take_along_dim"),
            )
        }
    return table


def fmt_ratio(x: float) -> str:
    """A ratio of times or bytes: one decimal below 10, none above.

    >>> fmt_ratio(1.4449), fmt_ratio(74.83), fmt_percent(0.6251)
    ('1.4×', '75×', '63 %')
    """
    return f"{x:.1f}×" if x < 10 else f"{x:.0f}×"


def fmt_percent(x: float) -> str:
    return f"{100 * x:.0f} %"


def _ratio(job: str, a: str, b: str, size: int, key: str = "median_s") -> Callable[[dict], str]:
    return lambda r: fmt_ratio(_at(r, job, a, size)[key] / _at(r, job, b, size)[key])


def _fraction(job: str, way: str, size: int) -> Callable[[dict], str]:
    return lambda r: fmt_percent(_at(r, job, way, size)["fraction_of_clone"])


def _mib(job: str, way: str, size: int, key: str = "peak_bytes") -> Callable[[dict], str]:
    return lambda r: f"{_at(r, job, way, size)[key] / 2**20:.1f} MiB"


BIG = 10**6
# The numbers the performance chapter's prose states: each template, with {} where the value goes, must
# appear in the chapter's markdown with the value of the committed results (tests/test_bench.py;
# `python -m snippets.bench --update-prose` rewrites them).
CLAIMS: dict[str, tuple[str, Callable[[dict], str]]] = {
    "gather_fraction": (
        "`gather` reaches {} of `clone`'s bandwidth at 10⁶ elements",
        _fraction("select", "gather", BIG),
    ),
    "indexing_vs_gather": (
        "advanced indexing takes {} the time of `gather`",
        _ratio("select", "indexing", "gather", BIG),
    ),
    "take_vs_gather": (
        "`take_along_dim` takes {} the time of `gather`",
        _ratio("select", "take_along_dim", "gather", BIG),
    ),
    "index_select_vs_gather": (
        "`index_select` on flat offsets takes {}",
        _ratio("select", "index_select", "gather", BIG),
    ),
    "one_hot_vs_gather": (
        "the one-hot matmul takes {} the time of `gather` at 10⁵ elements",
        _ratio("select", "one_hot", "gather", 10**5),
    ),
    "loop_vs_gather": (
        "the Python loop over rows takes {}",
        _ratio("select", "loop", "gather", 10**5),
    ),
    "checked_gather_1e6": (
        "`checked_gather` takes {} the time of `gather` at 10⁶ elements",
        _ratio("select", "checked_gather", "gather", BIG),
    ),
    "values_first_1e6": (
        "checking every value first takes {} the time of `gather` at 10⁶ elements",
        _ratio("select", "values_first_gather", "gather", BIG),
    ),
    "checked_take_1e6": (
        "`checked_take_along_dim` takes {} the time of `take_along_dim`",
        _ratio("select", "checked_take_along_dim", "take_along_dim", BIG),
    ),
    "checked_gather_1e3": (
        "at 10³ elements the check costs {} of `gather`",
        _ratio("select", "checked_gather", "gather", 10**3),
    ),
    "argmax_time": (
        "the `repeat`/`stack` recipe takes {} the time of `argmax_coordinates`",
        _ratio("argmax", "repeat_stack", "arange_views", BIG),
    ),
    "argmax_memory": (
        "and {} its peak memory, the repeated index tensors",
        _ratio("argmax", "repeat_stack", "arange_views", BIG, "peak_bytes"),
    ),
    "repeat_memory": (
        "`repeat` allocates {} at 10⁶ elements",
        _mib("expand", "repeat", BIG),
    ),
    "broadcast_index_time": (
        "`take_along_dim` with a broadcast index takes {} the time of `gather` with an expanded one",
        _ratio("broadcast_index", "take_along_dim", "gather_expanded", BIG),
    ),
    "broadcast_index_memory": (
        "and {} its peak memory: it materialises the broadcast index",
        _ratio("broadcast_index", "take_along_dim", "gather_expanded", BIG, "peak_bytes"),
    ),
    "backward_memory": (
        "the backward through `take_along_dim` peaks at {}",
        _mib("broadcast_input_backward", "take_along_dim", BIG),
    ),
    "backward_memory_indexing": (
        "indexing its one row (`x[0][idx]`) peaks at {}",
        _mib("broadcast_input_backward", "indexing", BIG),
    ),
    "saved_bytes": (
        "`saved_tensors_report` counts {} saved for backward",
        _mib("grad_mode", "grad", BIG, "saved_bytes"),
    ),
    "no_grad_small": (
        "for a batch of 10 (10³ elements), `no_grad` takes {} the time of grad mode",
        _ratio("grad_mode", "no_grad", "grad", 10**3),
    ),
    "no_grad_time": (
        "for a batch of 1000 (10⁵ elements), `no_grad` takes {} the time of grad mode",
        _ratio("grad_mode", "no_grad", "grad", 10**5),
    ),
    "inference_time": (
        "and `inference_mode` {} of it",
        _ratio("grad_mode", "inference_mode", "grad", 10**5),
    ),
    "grad_peak": (
        "grad mode's peak memory is {} that of `no_grad`",
        _ratio("grad_mode", "grad", "no_grad", BIG, "peak_bytes"),
    ),
}


def claims(results: dict[str, Any]) -> dict[str, str]:
    """Each claim of CLAIMS as the sentence fragment the chapter must state."""
    return {key: template.format(value(results)) for key, (template, value) in CLAIMS.items()}


_VALUE = r"[-+]?\d[\d.,]*(?: ?(?:×|%|MiB|KiB|bytes))?"


def _pattern(template: str) -> re.Pattern[str]:
    before, after = template.split("{}")
    return re.compile(re.escape(before) + "(" + _VALUE + ")" + re.escape(after))


def stale_prose(results: dict[str, Any], prose: str) -> list[str]:
    """What is wrong in ``prose`` (a chapter's markdown): one line per claim, with the sentence
    found and the value it should state, or that the claim is missing or stated twice."""
    problems = []
    for key, (template, value) in CLAIMS.items():
        expected = template.format(value(results))
        found = list(_pattern(template).finditer(prose))
        if not found:
            problems.append(f"{key}: missing; the chapter must say: {expected!r}")
        elif len(found) > 1:
            problems.append(f"{key}: stated {len(found)} times; state {expected!r} once")
        elif found[0].group(0) != expected:
            start = prose.rfind("\n", 0, found[0].start()) + 1
            end = prose.find("\n", found[0].end())
            line = prose[start : end if end >= 0 else len(prose)].strip()
            problems.append(
                f"{key}: states {found[0].group(1)!r}, the results say {value(results)!r}: "
                f"in {line!r}"
            )
    return problems


def update_prose(results: dict[str, Any], notebook: Path) -> int:
    """Rewrite the claims in the markdown cells of ``notebook`` with the values of ``results``;
    return how many changed. Outputs are left alone (``make outputs`` stores them)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    changed = 0
    values = {key: value(results) for key, (_, value) in CLAIMS.items()}
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        src = cell["source"]
        new = src
        for key, (template, _) in CLAIMS.items():
            new = _pattern(template).sub(lambda _m, k=key, t=template: t.format(values[k]), new)
        if new != src:
            changed += 1
            cell["source"] = new
    if changed:
        nbformat.write(nb, notebook)
    return changed


def load_results(path: str | Path | None = None, device: str = "cpu") -> dict[str, Any]:
    """The committed results, ``snippets/bench_results/<device>.json`` (package data, so a
    ``pip install`` of the helpers, as in Colab, has them too).

    >>> results = load_results()
    >>> results["device"], results["sizes"][0], results["repeats"]
    ('cpu', 1000, 30)
    """
    file = Path(path) if path is not None else RESULTS / f"{device}.json"
    if not file.is_file():
        raise FileNotFoundError(
            f"no benchmark results at {file}: this copy of the helpers has no "
            "committed results; run `python -m snippets.bench` to make your own"
        )
    return json.loads(file.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m snippets.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="3 sizes, 5 rounds")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--repeats", type=int, help="rounds (default 30; quick: 5)")
    parser.add_argument("--jobs", nargs="*", help="only these jobs")
    parser.add_argument("--sizes", type=int, nargs="*", help="only these sizes (elements)")
    parser.add_argument("--out", type=Path, help="the JSON to write")
    parser.add_argument(
        "--update-prose",
        type=Path,
        nargs="?",
        const=ROOT / "notebooks" / "09-performance.ipynb",
        help="rewrite the numbers in the performance chapter's prose (after a full CPU run)",
    )
    args = parser.parse_args(argv)
    device = torch.device(args.device).type
    default_out = (ROOT / "_build/bench" if args.quick else RESULTS) / f"{device}.json"
    out = args.out or default_out
    results = run(
        device=args.device,
        sizes=tuple(args.sizes) if args.sizes else QUICK_SIZES if args.quick else FULL_SIZES,
        jobs=tuple(args.jobs) if args.jobs else None,
        repeats=args.repeats or (5 if args.quick else 30),
        min_sample_s=0.001 if args.quick else 0.002,
        threads=args.threads,
        quick=args.quick,
        progress=True,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    for n, ratios in checked_overhead(results).items():
        print(f"  {n:>9}: " + ", ".join(f"{k} {fmt_ratio(v)}" for k, v in ratios.items()))
    partial = args.quick or args.jobs or args.sizes or device != "cpu"
    if args.update_prose is not None and partial:
        print("prose not rewritten: the performance chapter states the numbers of a full CPU run")
    elif args.update_prose is not None:
        changed = update_prose(results, args.update_prose)
        print(f"{changed} markdown cells of {args.update_prose.name} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
