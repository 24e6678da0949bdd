"""A pytest plugin that writes a machine-readable report of each test run.

Registered for every run by ``-p tests.report_plugin`` in pyproject.toml's ``addopts``. At the
end of a run that checked notebook cells or unit tests, it writes
``_build/reports/<device>.json`` (``cpu.json``, ``cuda.json``; the folder is ``$BOOK_REPORT_DIR``
when that is set): the device the run used (and the GPU's name), the PyTorch and Python
versions, how many notebook cells nbval compared and how many passed, the unit-test counts,
the content hash of ``notebooks/`` and ``snippets/`` (``tools/content_hash.py``: what the run
verified, which the page compares with what the book is built from), the commit (for reference)
and the date. Site tests (marker ``site``) are not counted, and a run of site tests alone writes
nothing. Under pytest-xdist only the controller writes.

Only a run that passed writes ``<device>.json``. A run that failed writes its report to
``failed/<device>.json`` instead and removes ``<device>.json`` (an earlier pass no longer
describes the tree), and a run whose device could not be resolved (``TORCH_DEVICE=cuda`` on a
machine without a GPU) writes nothing: publishing never trips over the report of a failed run.

``make publish-report`` (``tools/publish_report.py``) copies the reports of runs that passed
into ``book/verified/``; the page "Verified on" is rendered from those files at build time
(``book/_ext/verified_runs.py``). The report's schema version, outcomes and required keys are
defined once, in ``tools/report_schema.py``, which all three import.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tools.content_hash import content_hash
from tools.report_schema import DEVICE_TYPES, OUTCOMES, SCHEMA, report_dir

ROOT = Path(__file__).resolve().parents[1]


def notebook_of(nodeid: str) -> str | None:
    """The notebook a test id belongs to, or None for a unit test.

    >>> notebook_of("notebooks/01-gather.ipynb::Cell 3")
    'notebooks/01-gather.ipynb'
    >>> notebook_of("tests/test_indexing.py::test_gather[1]") is None
    True
    """
    path = nodeid.split("::", 1)[0]
    return path if path.endswith(".ipynb") else None


def describe_device() -> dict[str, Any]:
    """The device this run's tests used (from ``TORCH_DEVICE``), with versions."""
    info: dict[str, Any] = {
        "torch_device_env": os.environ.get("TORCH_DEVICE") or None,
        "device": "unknown",
        "device_type": "unknown",
        "gpu_name": None,
        "torch_version": None,
        "torch_cuda_version": None,
    }
    try:
        import torch

        from snippets.device import resolve_device

        info["torch_version"] = torch.__version__
        info["torch_cuda_version"] = torch.version.cuda
        device = resolve_device()
    except Exception as exc:  # the report must not hide the run's own result
        info["device_error"] = f"{type(exc).__name__}: {exc}"
        return info
    info["device"] = str(device)
    info["device_type"] = device.type
    if device.type == "cuda":
        info["gpu_name"] = torch.cuda.get_device_name(device)
    return info


def git_commit() -> dict[str, Any]:
    """The commit that was tested, and whether the working tree had local changes.

    Where the checkout has no ``.git`` (a copy sent to a GPU machine), ``$BOOK_COMMIT`` names
    the commit the copy was made from.
    """
    if not (ROOT / ".git").exists():
        return {"commit": os.environ.get("BOOK_COMMIT") or None, "dirty": None}
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    if head.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


class Recorder:
    """Collects the final outcome of every test and writes the report at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.time()
        self.outcomes: dict[str, tuple[str | None, str]] = {}  # nodeid -> (notebook, outcome)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "site" in report.keywords:
            return
        nodeid = report.nodeid
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = report.outcome
            if hasattr(report, "wasxfail"):  # an expected failure is not a failure of the book
                outcome = "skipped" if report.skipped else "passed"
            self.outcomes[nodeid] = (notebook_of(nodeid), outcome)
        elif report.when == "teardown" and report.failed:
            self.outcomes[nodeid] = (notebook_of(nodeid), "failed")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.outcomes or int(exitstatus) not in (0, 1):
            return  # nothing ran, or the run was interrupted or broken
        report = self.build(int(exitstatus))
        path, note = write_report(report, report_dir(ROOT))
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"book report: {path}" if path else f"book report: {note}")

    def build(self, exitstatus: int) -> dict[str, Any]:
        cells: Counter[str] = Counter()
        units: Counter[str] = Counter()
        per_notebook: dict[str, Counter[str]] = {}
        for notebook, outcome in self.outcomes.values():
            if notebook is None:
                units[outcome] += 1
            else:
                cells[outcome] += 1
                per_notebook.setdefault(notebook, Counter())[outcome] += 1
        now = dt.datetime.now(dt.timezone.utc)
        return {
            "schema": SCHEMA,
            **describe_device(),
            "python_version": platform.python_version(),
            "platform": platform.platform(terse=True),
            "date": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_s": round(time.time() - self.started, 1),
            "content_hash": content_hash(ROOT),
            **git_commit(),
            "exit_status": exitstatus,
            "pytest_args": [str(a) for a in self.config.invocation_params.args],
            "notebook_cells": {k: cells[k] for k in OUTCOMES},
            "notebooks": {
                name: {k: counts[k] for k in OUTCOMES}
                for name, counts in sorted(per_notebook.items())
            },
            "unit_tests": {k: units[k] for k in OUTCOMES},
        }


def write_report(report: dict[str, Any], folder: Path) -> tuple[Path | None, str]:
    """Write ``report`` where it belongs; return its path (None if not written) and why.

    - device not resolved: nothing is written (there is no device to name the file after);
    - the run passed: ``folder/<device>.json``;
    - the run failed: ``folder/failed/<device>.json``, and ``folder/<device>.json`` is removed
      (and the other way round: a pass removes ``failed/<device>.json``).
    """
    device = report.get("device_type")
    if device not in DEVICE_TYPES:
        error = report.get("device_error") or f"device {device!r}"
        return None, f"no report written: the device could not be resolved ({error})"
    passed = report.get("exit_status") == 0
    target = folder if passed else folder / "failed"
    target.mkdir(parents=True, exist_ok=True)
    # Only the latest run of a device counts: a pass clears an earlier failure, and the other way.
    stale = folder / (f"failed/{device}.json" if passed else f"{device}.json")
    stale.unlink(missing_ok=True)
    path = target / f"{device}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return path, "passed" if passed else "failed"


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the controller sees every result
        return
    config.pluginmanager.register(Recorder(config), "book-report-recorder")
