"""Sphinx extension: the ``{verified-runs}`` directive renders ``book/verified/*.json``.

Each JSON file is the report of a published test run (written by ``tests/report_plugin.py``,
copied by ``make publish-report``). The directive turns them into two tables, so the page
"Verified on" is never typed by hand:

- one row per run (``<tr id="verified-run-<file stem>" class="verified-run">``): device, GPU,
  PyTorch, Python, notebook cells compared, unit tests, date, commit;
- one row per notebook: the cells compared on each run.

It says plainly when no run, or no GPU run, is recorded. A malformed report is a build error.
Registered in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

DEFAULT_FOLDER = "book/verified"
REQUIRED = (
    "device_type",
    "torch_version",
    "python_version",
    "date",
    "notebook_cells",
    "notebooks",
    "unit_tests",
)
REPOSITORY_COMMIT_URL = "{url}/commit/{commit}"


def load_runs(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file stem, report) for each ``*.json`` in ``folder``: CPU runs first, then by name."""
    runs = []
    for path in sorted(folder.glob("*.json")):
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
        missing = [key for key in REQUIRED if key not in report]
        if missing:
            raise ValueError(f"{path}: missing {', '.join(missing)}")
        runs.append((path.stem, report))
    runs.sort(key=lambda run: (run[1]["device_type"] != "cpu", run[0]))
    return runs


def _count(counts: dict[str, int]) -> str:
    passed, failed = counts.get("passed", 0), counts.get("failed", 0)
    total = passed + failed
    if failed:
        return f"{passed} passed, {failed} failed"
    return f"{total} passed" if total else "none"


def _device(report: dict[str, Any]) -> str:
    if report["device_type"] == "cuda":
        return f"CUDA ({report.get('gpu_name') or 'unknown GPU'})"
    return report["device_type"].upper()


def _text_cell(text: str) -> nodes.entry:
    return nodes.entry("", nodes.paragraph("", text))


def _table(headers: list[str], rows: list[tuple[list[nodes.Node], dict[str, Any]]]) -> nodes.table:
    table = nodes.table(classes=["verified-runs"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    group += [nodes.colspec(colwidth=1) for _ in headers]
    head = nodes.thead()
    head += nodes.row("", *[_text_cell(h) for h in headers])
    group += head
    body = nodes.tbody()
    for cells, attributes in rows:
        row = nodes.row("", *cells)
        row.update_basic_atts(attributes)
        body += row
    group += body
    return table


class VerifiedRuns(SphinxDirective):
    """``{verified-runs}``: the published test runs, read from ``:folder:`` (default
    ``book/verified``, relative to the book's root)."""

    has_content = False
    option_spec = {"folder": directives.unchanged}  # noqa: RUF012 (docutils API)

    def run(self) -> list[nodes.Node]:
        folder = Path(self.env.srcdir) / self.options.get("folder", DEFAULT_FOLDER)
        # The folder itself is a dependency too: its mtime changes when a report is added or
        # removed, so an incremental build re-reads this page.
        self.env.note_dependency(str(folder))
        try:
            runs = load_runs(folder) if folder.is_dir() else []
        except ValueError as exc:
            raise self.error(str(exc)) from exc
        for stem, _ in runs:
            self.env.note_dependency(str(folder / f"{stem}.json"))

        result: list[nodes.Node] = []
        if not runs:
            result.append(
                nodes.paragraph("", "No verified run is recorded yet.", classes=["verified-none"])
            )
        gpus = [report for _, report in runs if report["device_type"] == "cuda"]
        if not gpus:
            note = nodes.important(classes=["verified-no-gpu"])
            note += nodes.paragraph(
                "",
                "No GPU run is recorded: the book's outputs have not been verified on CUDA yet.",
            )
            result.append(note)
        if runs:
            result.append(self._runs_table(runs))
            result.append(self._notebooks_table(runs))
        return result

    def _runs_table(self, runs: list[tuple[str, dict[str, Any]]]) -> nodes.table:
        # Jupyter Book passes _config.yml's repository.url to the theme.
        repository = (self.config.html_theme_options or {}).get("repository_url", "")
        rows = []
        for stem, report in runs:
            commit = report.get("commit")
            if commit:
                label = commit[:10] + (" (with local changes)" if report.get("dirty") else "")
                if repository and not report.get("dirty"):
                    link = nodes.reference(
                        "",
                        label,
                        refuri=REPOSITORY_COMMIT_URL.format(url=repository, commit=commit),
                    )
                    commit_cell = nodes.entry("", nodes.paragraph("", "", link))
                else:
                    commit_cell = _text_cell(label)
            else:
                commit_cell = _text_cell("not recorded")
            cells = [
                _text_cell(_device(report)),
                _text_cell(report["torch_version"]),
                _text_cell(report["python_version"]),
                _text_cell(_count(report["notebook_cells"])),
                _text_cell(_count(report["unit_tests"])),
                _text_cell(report["date"][:10]),
                commit_cell,
            ]
            rows.append((cells, {"ids": [f"verified-run-{stem}"], "classes": ["verified-run"]}))
        headers = ["Device", "PyTorch", "Python", "Notebook cells", "Unit tests", "Date", "Commit"]
        return _table(headers, rows)

    def _notebooks_table(self, runs: list[tuple[str, dict[str, Any]]]) -> nodes.table:
        notebooks = sorted({name for _, report in runs for name in report["notebooks"]})
        rows = []
        for name in notebooks:
            cells = [_text_cell(name)]
            for _, report in runs:
                counts = report["notebooks"].get(name)
                cells.append(_text_cell(_count(counts) if counts else "not run"))
            rows.append((cells, {"classes": ["verified-notebook"]}))
        return _table(["Notebook cells compared"] + [_device(r) for _, r in runs], rows)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("verified-runs", VerifiedRuns)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
