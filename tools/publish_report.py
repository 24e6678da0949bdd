"""``make publish-report``: copy the reports of passing runs into ``book/verified/``.

Each pytest run writes ``_build/reports/<device>.json`` (``tests/report_plugin.py``); a run
that failed writes ``failed/<device>.json`` instead. This copies each report of a run that
passed and compared every notebook of the book to ``book/verified/<run id>.json``, from which
the page "Verified on" and the footer are rendered at build time
(``book/_ext/verified_runs.py``). Reports of failed runs are named, never published.

    python tools/publish_report.py                       # from _build/reports (or $BOOK_REPORT_DIR)
    python tools/publish_report.py --from fetched/reports   # reports of another machine (CUDA)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: `tools` is then importable

from tools.content_hash import content_hash  # noqa: E402
from tools.report_schema import (  # noqa: E402
    DEVICE_TYPES,
    PUBLISHED,
    SCHEMA,
    missing_keys,
    report_dir,
)

PUBLISHED_DIR = ROOT / PUBLISHED


def slug(text: str) -> str:
    """A file-name-safe lower-case form of ``text``.

    >>> slug("NVIDIA H100 80GB HBM3")
    'nvidia-h100-80gb-hbm3'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def run_id(report: dict[str, Any]) -> str:
    """The name a published report is stored under: ``cpu``, or ``cuda-<gpu name>``.

    >>> run_id({"device_type": "cpu", "gpu_name": None})
    'cpu'
    >>> run_id({"device_type": "cuda", "gpu_name": "NVIDIA H200"})
    'cuda-nvidia-h200'
    """
    parts = [report["device_type"]]
    if report.get("gpu_name"):
        parts.append(report["gpu_name"])
    return slug("-".join(parts))


def chapter_notebooks(root: Path = ROOT) -> list[str]:
    """The book's notebooks, as test ids name them: ``notebooks/01-gather.ipynb``, ..."""
    return sorted(p.relative_to(root).as_posix() for p in root.glob("notebooks/*.ipynb"))


def publishable(report: dict[str, Any], notebooks: list[str]) -> str | None:
    """Why ``report`` may not be published, or None when it may: a published run passed and
    compared every notebook of the book.

    >>> ok = {"schema": 1, "device_type": "cpu", "exit_status": 0, "torch_version": "2.13.0",
    ...       "python_version": "3.11.2", "date": "2026-11-30T00:00:00Z",
    ...       "notebook_cells": {"passed": 3, "failed": 0}, "unit_tests": {"passed": 5, "failed": 0},
    ...       "notebooks": {"notebooks/01-a.ipynb": {"passed": 3, "failed": 0}}}
    >>> publishable(ok, ["notebooks/01-a.ipynb"]) is None
    True
    >>> publishable(ok, ["notebooks/01-a.ipynb", "notebooks/02-b.ipynb"])
    'not every notebook was run (missing notebooks/02-b.ipynb)'
    >>> publishable({**ok, "exit_status": 1}, [])
    'the run failed (0 failed, exit status 1)'
    >>> publishable({k: v for k, v in ok.items() if k != "date"}, [])
    'missing date'
    """
    if report.get("schema") != SCHEMA:
        return f"schema {report.get('schema')!r}, expected {SCHEMA}"
    missing = missing_keys(report)
    if missing:
        return f"missing {', '.join(missing)}"
    if report.get("device_type") not in DEVICE_TYPES:
        return f"unknown device {report.get('device_type')!r}"
    failed = report["notebook_cells"]["failed"] + report["unit_tests"]["failed"]
    if failed or report.get("exit_status") != 0:
        return f"the run failed ({failed} failed, exit status {report.get('exit_status')})"
    if not report["notebook_cells"]["passed"]:
        return "no notebook cell was compared"
    missing = sorted(set(notebooks) - set(report.get("notebooks", {})))
    if missing:
        return f"not every notebook was run (missing {', '.join(missing)})"
    return None


def publish(source: Path, target: Path = PUBLISHED_DIR) -> int:
    """Copy each passing report in ``source`` to ``target/<run id>.json``.

    Reports of failed runs (``source/failed/``) are named, never published. Returns 0 when at
    least one report was published, 1 when none was (a refused report is named either way).
    """
    failed = sorted((source / "failed").glob("*.json"))
    for path in failed:
        print(f"publish-report: not publishing {path}: the run failed")
    reports = sorted(source.glob("*.json"))
    if not reports:
        print(f"publish-report: no passing report in {source}: run `make test` (or make cpu) first")
        return 1
    target.mkdir(parents=True, exist_ok=True)
    published = 0
    current = content_hash(ROOT)
    for path in reports:
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            print(f"publish-report: not publishing {path}: not valid JSON ({exc})")
            continue
        reason = publishable(report, chapter_notebooks())
        if reason:
            print(f"publish-report: not publishing {path}: {reason}")
            continue
        dest = target / f"{run_id(report)}.json"
        shutil.copyfile(path, dest)
        published += 1
        cells = report["notebook_cells"]["passed"]
        print(f"publish-report: {path} -> {dest} ({cells} cells passed)")
        if report.get("content_hash") != current:
            print(
                f"publish-report: note: {dest.name} verified other notebooks/helpers than these "
                "(content hash differs); the page will mark it stale"
            )
    return 0 if published else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/publish_report.py",
        description="copy the reports of passing runs into book/verified/",
    )
    parser.add_argument("--from", dest="source", type=Path, default=report_dir(ROOT))
    parser.add_argument("--to", dest="target", type=Path, default=PUBLISHED_DIR)
    args = parser.parse_args(argv)
    return publish(args.source, args.target)


if __name__ == "__main__":
    sys.exit(main())
