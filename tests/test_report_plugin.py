"""The run report (tests/report_plugin.py) counts what ran, on which device, and is published
(tools/publish_report.py, ``make publish-report``) only when the run passed; both follow
tools/report_schema.py."""

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


def run_sample(
    tmp_path: Path, *args: str, device: str = "cpu", reports: Path | None = None
) -> tuple[subprocess.CompletedProcess, Path]:
    """Run SAMPLE (one test fails) with the report plugin; the path of its (failed) report."""
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nmarkers =\n    site: sample\n", encoding="utf-8"
    )
    reports = reports or tmp_path / "reports"
    env = {
        **os.environ,
        "BOOK_REPORT_DIR": str(reports),
        "TORCH_DEVICE": device,
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
    return proc, reports / "failed" / "cpu.json"


def publish(source: Path, target: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "publish_report.py"),
            "--from",
            str(source),
            "--to",
            str(target),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def passing_report() -> dict:
    """A report of a run that passed and compared every notebook (as the plugin writes it)."""
    from tools.content_hash import content_hash
    from tools.publish_report import chapter_notebooks
    from tools.report_schema import SCHEMA

    notebooks = {nb: {"passed": 2, "failed": 0, "skipped": 0} for nb in chapter_notebooks()}
    return {
        "schema": SCHEMA,
        "device_type": "cpu",
        "gpu_name": None,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "date": "2026-11-30T00:00:00Z",
        "content_hash": content_hash(ROOT),
        "exit_status": 0,
        "notebook_cells": {"passed": 2 * len(notebooks), "failed": 0, "skipped": 0},
        "notebooks": notebooks,
        "unit_tests": {"passed": 1, "failed": 0, "skipped": 0},
    }


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
    assert not (path.parent.parent / "cpu.json").exists()  # a failed run is never publishable


def test_report_has_every_required_key(xdist_run) -> None:
    """The keys the publisher and the "Verified on" page require (tools/report_schema.py)."""
    from tools.report_schema import REQUIRED, SCHEMA, missing_keys

    _, path = xdist_run
    report = json.loads(path.read_text(encoding="utf-8"))
    assert missing_keys(report) == []
    assert report["schema"] == SCHEMA
    assert "device_type" in REQUIRED and "notebooks" in REQUIRED


def test_publish_refuses_a_report_without_a_required_key(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    report = passing_report()
    del report["torch_version"]
    (reports / "cpu.json").write_text(json.dumps(report), encoding="utf-8")
    target = tmp_path / "published"
    done = publish(reports, target)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "missing torch_version" in done.stdout
    assert not list(target.glob("*.json"))


def test_publish_report_is_what_make_publish_report_runs() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(PY) tools/publish_report.py --from $(REPORTS)" in makefile


def test_report_carries_the_content_hash(xdist_run) -> None:
    from tools.content_hash import content_hash

    _, path = xdist_run
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["content_hash"] == content_hash(ROOT)
    assert report["content_hash"].startswith("sha256:")


def test_content_hash_follows_notebooks_and_helpers(tmp_path: Path) -> None:
    from tools.content_hash import content_hash

    for folder in ("notebooks", "snippets", "book"):
        (tmp_path / folder).mkdir()
    (tmp_path / "notebooks" / "01-a.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "snippets" / "x.py").write_text("A = 1\n", encoding="utf-8")
    first = content_hash(tmp_path)
    (tmp_path / "book" / "page.md").write_text("prose", encoding="utf-8")  # not covered
    (tmp_path / "snippets" / "matrix_data.py").write_text("MATRIX = {}", encoding="utf-8")
    assert content_hash(tmp_path) == first
    (tmp_path / "snippets" / "x.py").write_text("A = 2\n", encoding="utf-8")
    second = content_hash(tmp_path)
    assert second != first
    (tmp_path / "notebooks" / "01-a.ipynb").write_text('{"cells": []}', encoding="utf-8")
    assert content_hash(tmp_path) not in (first, second)


def test_a_failed_cuda_attempt_leaves_nothing_for_publish_to_trip_over(tmp_path: Path) -> None:
    """Issue 8: TORCH_DEVICE=cuda on a machine without that GPU used to leave unknown.json,
    and `make publish-report` then published cpu.json and exited 1."""
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "cpu.json").write_text(json.dumps(passing_report()), encoding="utf-8")
    proc, _ = run_sample(tmp_path, device="cuda:99", reports=reports)  # no machine has it
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "no report written: the device could not be resolved" in proc.stdout
    assert sorted(p.name for p in reports.rglob("*.json")) == ["cpu.json"]
    target = tmp_path / "published"
    done = publish(reports, target)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [p.name for p in target.glob("*.json")] == ["cpu.json"]
    assert "not publishing" not in done.stdout


def test_a_pass_clears_an_earlier_failure_and_the_other_way(tmp_path: Path) -> None:
    from tests.report_plugin import write_report

    report = passing_report()
    write_report({**report, "exit_status": 1}, tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")) == [
        "failed/cpu.json"
    ]
    write_report(report, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")] == ["cpu.json"]
    write_report({**report, "exit_status": 1}, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")] == [
        "failed/cpu.json"
    ]
    assert write_report({**report, "device_type": "unknown"}, tmp_path)[0] is None


def test_site_tests_alone_write_no_report(tmp_path: Path) -> None:
    proc, path = run_sample(tmp_path, "-m", "site")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not path.exists()


def test_publish_refuses_a_failed_run(xdist_run, tmp_path: Path) -> None:
    _, path = xdist_run
    target = tmp_path / "published"
    done = publish(path.parent.parent, target)
    assert done.returncode == 1  # nothing was published
    assert "the run failed" in done.stdout
    assert not list(target.glob("*.json"))


def test_the_examples_of_the_report_tools() -> None:
    """The doctests of tools/publish_report.py and tools/report_schema.py (``make cpu`` collects
    doctests from tests/ and snippets/ only)."""
    import doctest

    import tools.publish_report
    import tools.report_schema

    for module in (tools.publish_report, tools.report_schema):
        result = doctest.testmod(module)
        assert result.attempted and not result.failed, (module.__name__, result)
