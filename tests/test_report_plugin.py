"""The run report (tests/report_plugin.py) counts what ran, on which device, and is published
only when the run passed."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = """
import pytest
import torch

def test_passes():
    pass

def test_fails():
    assert False

@pytest.mark.skip(reason="sample")
def test_skipped():
    pass

@pytest.mark.site
def test_site_is_not_counted():
    pass
"""


def run_sample(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    site: sample\n", encoding="utf-8"
    )
    reports = tmp_path / "reports"
    env = {
        **os.environ,
        "BOOK_REPORT_DIR": str(reports),
        "TORCH_DEVICE": "cpu",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.report_plugin",
            "-p",
            "no:cacheprovider",
            *args,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc, reports / "cpu.json"


@pytest.fixture(scope="module")
def xdist_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """The sample run under pytest-xdist (as ``make test`` runs), where only the controller
    may write the report; a serial run where xdist is not installed (the GPU machines)."""
    workers = ["-n", "2"] if importlib.util.find_spec("xdist") else []
    return run_sample(tmp_path_factory.mktemp("xdist"), *workers)


def test_report_counts_the_run(xdist_run) -> None:
    proc, path = xdist_run
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["device_type"] == "cpu"
    assert report["gpu_name"] is None
    assert report["torch_version"] == torch.__version__
    assert report["python_version"] == platform.python_version()
    assert report["unit_tests"] == {"passed": 1, "failed": 1, "skipped": 1}
    assert report["notebook_cells"] == {"passed": 0, "failed": 0, "skipped": 0}
    assert report["exit_status"] == 1


def test_site_tests_alone_write_no_report(tmp_path: Path) -> None:
    proc, path = run_sample(tmp_path, "-m", "site")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not path.exists()


def test_publish_refuses_a_failed_run(xdist_run, tmp_path: Path) -> None:
    _, path = xdist_run
    target = tmp_path / "published"
    publish = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.report_plugin",
            "publish",
            "--from",
            str(path.parent),
            "--to",
            str(target),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert publish.returncode == 1
    assert "the run failed" in publish.stdout
    assert not list(target.glob("*.json"))
