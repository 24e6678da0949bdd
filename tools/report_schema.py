"""The run report's format, defined once: what ``tests/report_plugin.py`` writes, what
``tools/publish_report.py`` (``make publish-report``) checks before publishing, and what the
Sphinx extension ``book/_ext/verified_runs.py`` requires of each published report.

Standalone (standard library only): the Sphinx extension loads it from its file during
``make book``.
"""

from __future__ import annotations

import os
from pathlib import Path

SCHEMA = 1
# The devices a report may name (its file name: cpu.json, cuda.json).
DEVICE_TYPES = ("cpu", "cuda")
# How a test ended, as the report counts it (notebook cells and unit tests).
OUTCOMES = ("passed", "failed", "skipped")
# The keys every report has besides "schema" (checked on its own): the "Verified on" page and
# the footer are rendered from them.
REQUIRED = (
    "device_type",
    "torch_version",
    "python_version",
    "date",
    "notebook_cells",
    "notebooks",
    "unit_tests",
)
# Where a run writes its report: $BOOK_REPORT_DIR, else _build/reports under the project root.
REPORT_DIR_ENV = "BOOK_REPORT_DIR"
# Where make publish-report copies the reports of passing runs (relative to the project root).
PUBLISHED = "book/verified"


def report_dir(root: Path) -> Path:
    """Where reports are written: ``$BOOK_REPORT_DIR``, else ``root/_build/reports``."""
    return Path(os.environ.get(REPORT_DIR_ENV) or root / "_build" / "reports")


def missing_keys(report: dict) -> list[str]:
    """The required keys ``report`` lacks.

    >>> missing_keys({"device_type": "cpu"})
    ['torch_version', 'python_version', 'date', 'notebook_cells', 'notebooks', 'unit_tests']
    """
    return [key for key in REQUIRED if key not in report]
