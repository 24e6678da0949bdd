"""A pytest plugin for ``make matrix``: records every notebook cell and behaviour-pin test.

Loaded by ``tools/matrix.py`` with ``-p tools.matrix_plugin`` in each release's virtual
environment. It writes ``$MATRIX_RESULT`` (JSON): per notebook, the cells that matched and, for
each cell that did not, the first differing lines; per behaviour-pin test, its outcome and, on
failure, the first lines of the message. As each notebook finishes it prints one progress line
(``matrix: 01-gather 42/42``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

DIFF_LINES = 12  # how many lines of a differing output are kept
# nbval's repr names the cell; what follows "Traceback:" (or the exception) is the difference.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_difference(longrepr: str, limit: int = DIFF_LINES) -> list[str]:
    """The lines of nbval's failure text that show how the output differs, at most ``limit``.

    nbval writes "Cell N: Cell outputs differ", the cell's input, then after "Traceback:" the
    mismatching outputs; for a cell that raised it writes the error instead. The input is left
    out (it is the same on every release).

    >>> text = "Notebook cell execution failed\\nCell 3: Cell outputs differ\\n\\nInput:\\nx\\n\\n"
    >>> text += "Traceback:\\n mismatch 'stdout'\\n\\n assert reference_output == test_output failed:\\n\\n  'a' == 'b'"
    >>> first_difference(text)
    ["mismatch 'stdout'", 'assert reference_output == test_output failed:', "'a' == 'b'"]

    A cell that raised where the book shows none keeps the end of the traceback (the error):

    >>> first_difference("Cell 2: Error\\nTraceback:\\nFile a\\nline 1\\nValueError: no", 2)
    ['line 1', 'ValueError: no']
    """
    text = _ANSI.sub("", longrepr)
    differ = "Cell outputs differ" in text
    if "Traceback:" in text:
        text = text.split("Traceback:", 1)[1]
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    return lines[:limit] if differ else lines[-limit:]


def notebook_name(nodeid: str) -> str | None:
    """``01-gather`` for ``notebooks/01-gather.ipynb::Cell 3``; None for other tests.

    >>> notebook_name("notebooks/01-gather.ipynb::Cell 3")
    '01-gather'
    >>> notebook_name("tests/test_pytorch_releases.py::test_x") is None
    True
    """
    path = nodeid.split("::", 1)[0]
    return Path(path).stem if path.endswith(".ipynb") else None


def cell_number(nodeid: str) -> int | None:
    """The cell number nbval gives a test id (``Cell 3`` -> 3).

    >>> cell_number("notebooks/01-gather.ipynb::Cell 3")
    3
    """
    match = re.search(r"::Cell (\d+)$", nodeid)
    return int(match.group(1)) if match else None


class MatrixRecorder:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.notebooks: dict[str, dict[str, Any]] = {}
        self.pins: dict[str, dict[str, Any]] = {}
        self._current: str | None = None

    def _progress(self, name: str) -> None:
        entry = self.notebooks[name]
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        line = f"matrix: {name} {entry['matched']}/{entry['cells']} cells match"
        if reporter is not None:
            reporter.write_line(line)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        failed_setup = report.when == "setup" and not report.passed
        if not (report.when == "call" or failed_setup):
            return
        name = notebook_name(report.nodeid)
        if name is None:
            entry = {"outcome": report.outcome}
            if report.failed:
                entry["message"] = first_difference(str(report.longrepr), 20)
            self.pins[report.nodeid] = entry
            return
        if self._current not in (None, name):
            self._progress(self._current)
        self._current = name
        entry = self.notebooks.setdefault(name, {"cells": 0, "matched": 0, "differ": []})
        entry["cells"] += 1
        if report.passed:
            entry["matched"] += 1
        elif not report.skipped:
            entry["differ"].append(
                {
                    "cell": cell_number(report.nodeid),
                    "lines": first_difference(str(report.longrepr)),
                }
            )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self._current is not None:
            self._progress(self._current)
        target = os.environ.get("MATRIX_RESULT")
        if not target:
            return
        import torch

        result = {
            "torch_version": torch.__version__,
            "exit_status": int(exitstatus),
            "notebooks": self.notebooks,
            "pins": self.pins,
        }
        Path(target).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(MatrixRecorder(config), "book-matrix-recorder")
