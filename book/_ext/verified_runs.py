"""Sphinx extension: the ``{verified-runs}`` directive renders ``book/verified/*.json``.

Each JSON file is the report of a published test run (written by ``tests/report_plugin.py``,
copied by ``make publish-report``, ``tools/publish_report.py``; the keys every report has are
``tools/report_schema.py``'s ``REQUIRED``). The directive turns them into two tables, so the page
"Verified on" is never typed by hand:

- one row per run (``<tr id="verified-run-<file stem>" class="verified-run">``): device, GPU,
  PyTorch, Python, notebook cells compared, unit tests, date, commit;
- one row per notebook: the cells compared on each run.

It says plainly when no run, or no GPU run, is recorded. A malformed report is a build error.
Each run says whether it covers the notebooks and helpers the book is built from: its content
hash (``tools/content_hash.py``) against the hash of ``notebooks/`` and ``snippets/`` now; a
report whose hash differs, or that has none, is marked stale.

``book/verified/matrix.json`` (written by ``make matrix``, ``tools/matrix.py``) is rendered by
``{verified-matrix}``: chapters x PyTorch releases, each cell "42/42" or "40/42" with the
differing outputs in a ``<details>``, stale releases marked.

The footer of every page is rendered from the same reports (``html_theme_options
["extra_footer"]``, set at ``config-inited``): it names only the devices and PyTorch releases
that a published report shows.

Registered in ``_config.yml`` under ``sphinx: local_extensions``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective
from tool_import import load_tool

_ROOT = Path(__file__).resolve().parents[2]
_SCHEMA = load_tool(_ROOT, "report_schema")
DEFAULT_FOLDER = _SCHEMA.PUBLISHED
MATRIX_FILE = "matrix.json"
REPOSITORY_COMMIT_URL = "{url}/commit/{commit}"


def current_hash(root: Path) -> str | None:
    """The content hash of ``root``'s notebooks and helpers (``tools/content_hash.py``)."""
    if not (root / "tools" / "content_hash.py").exists():
        return None
    return load_tool(root, "content_hash").content_hash(root)


def short_hash(value: str | None) -> str:
    """The first 12 hex digits of a content hash.

    >>> short_hash("sha256:0123456789abcdef")
    '0123456789ab'
    """
    return value.split(":", 1)[-1][:12] if value else "none"


def coverage(report: dict[str, Any], now: str | None) -> tuple[bool, str]:
    """(current, text): whether ``report`` verified the notebooks and helpers as built.

    >>> coverage({"content_hash": "sha256:aa"}, "sha256:aa")
    (True, 'yes (aa)')
    >>> coverage({"content_hash": "sha256:aa"}, "sha256:bb")
    (False, 'stale: verified aa, the book is bb')
    >>> coverage({}, "sha256:bb")
    (False, 'stale: no content hash recorded')
    """
    recorded = report.get("content_hash")
    if not recorded:
        return False, "stale: no content hash recorded"
    if now is None:
        return False, f"unknown (verified {short_hash(recorded)})"
    if recorded == now:
        return True, f"yes ({short_hash(recorded)})"
    return False, f"stale: verified {short_hash(recorded)}, the book is {short_hash(now)}"


def load_matrix(folder: Path) -> dict[str, Any] | None:
    """``folder/matrix.json``, or None when there is none."""
    path = folder / MATRIX_FILE
    if not path.exists():
        return None
    try:
        matrix = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    for key in ("pin", "chapters", "releases"):
        if key not in matrix:
            raise ValueError(f"{path}: missing {key}")
    return matrix


def load_runs(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """(file stem, report) for each run report in ``folder`` (every ``*.json`` except the
    matrix): CPU runs first, then by name."""
    runs = []
    for path in sorted(folder.glob("*.json")):
        if path.name == MATRIX_FILE:
            continue
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
        missing = _SCHEMA.missing_keys(report)
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

        self.now = current_hash(Path(self.env.srcdir))
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
            current, covers = coverage(report, self.now)
            covers_cell = _text_cell(covers)
            covers_cell["classes"].append("verified-current" if current else "verified-stale")
            cells = [
                _text_cell(_device(report)),
                _text_cell(report["torch_version"]),
                _text_cell(report["python_version"]),
                _text_cell(_count(report["notebook_cells"])),
                _text_cell(_count(report["unit_tests"])),
                _text_cell(report["date"][:10]),
                covers_cell,
                commit_cell,
            ]
            rows.append((cells, {"ids": [f"verified-run-{stem}"], "classes": ["verified-run"]}))
        headers = [
            "Device",
            "PyTorch",
            "Python",
            "Notebook cells",
            "Unit tests",
            "Date",
            "Covers these notebooks and helpers",
            "Commit",
        ]
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


# --- The version matrix ----------------------------------------------------------------------


# Long differing outputs scroll inside their cell instead of widening the table.
PRE = '<pre style="max-width: 36rem; max-height: 24rem; overflow: auto">'


def _fraction(entry: dict[str, Any]) -> str:
    return f"{entry['matched']}/{entry['cells']}"


def matrix_html(matrix: dict[str, Any], now: str | None) -> str:
    """The matrix as an HTML table: one row per chapter, one column per release."""
    esc = html.escape
    releases = list(matrix["releases"].items())
    head = ['<th class="head">Chapter</th>']
    for release, entry in releases:
        label = f"PyTorch {esc(release)}"
        if release == matrix["pin"]:
            label += " (pin)"
        marks = []
        if entry.get("status") == "ran":
            current, covers = coverage(entry, now)
            if not current:
                # One word in the header (the warning above the table says what it means);
                # the whole sentence is the tooltip, so the table still fits the article.
                marks.append(f'<span class="verified-stale" title="{esc(covers)}">stale</span>')
            marks.append(f'<span class="verified-date">{esc(entry.get("date", "")[:10])}</span>')
        else:
            marks.append(
                f'<span class="verified-failed">{esc(entry.get("status", "not run"))}</span>'
            )
        head.append(
            f'<th class="head verified-release" data-release="{esc(release)}">{label}<br>'
            + "<br>".join(marks)
            + "</th>"
        )
    rows = []
    for chapter in matrix["chapters"]:
        cells = [f"<td>{esc(chapter)}</td>"]
        for _release, entry in releases:
            nb = entry.get("notebooks", {}).get(chapter) if entry.get("status") == "ran" else None
            if nb is None:
                cells.append('<td class="verified-cell verified-not-run">not run</td>')
                continue
            if not nb["differ"]:
                cells.append(f'<td class="verified-cell verified-match">{esc(_fraction(nb))}</td>')
                continue
            details = "\n\n".join(
                f"Code cell {d.get('code_cell', d['cell'])} (nbval's Cell {d['cell']}):\n"
                + "\n".join(d["lines"])
                for d in nb["differ"]
            )
            cells.append(
                '<td class="verified-cell verified-differ"><details>'
                f"<summary>{esc(_fraction(nb))}</summary>{PRE}{esc(details)}</pre></details></td>"
            )
        rows.append('<tr class="verified-matrix-chapter">' + "".join(cells) + "</tr>")
    pins = ["<td>behaviour pins (<code>test_pytorch_*</code>)</td>"]
    for _, entry in releases:
        if entry.get("status") != "ran":
            pins.append('<td class="verified-cell verified-not-run">not run</td>')
            continue
        results = entry.get("pins", {})
        failed = {k: v for k, v in results.items() if v["outcome"] == "failed"}
        passed = len([v for v in results.values() if v["outcome"] == "passed"])
        text = f"{passed}/{passed + len(failed)} hold"
        if not failed:
            pins.append(f'<td class="verified-cell verified-match">{esc(text)}</td>')
            continue
        details = "\n\n".join(
            f"{k.split('::')[-1]}:\n" + "\n".join(v.get("message", [])) for k, v in failed.items()
        )
        pins.append(
            '<td class="verified-cell verified-differ"><details>'
            f"<summary>{esc(text)}</summary>{PRE}{esc(details)}</pre></details></td>"
        )
    rows.append('<tr class="verified-matrix-pins">' + "".join(pins) + "</tr>")
    return (
        # pst-scrollable-table-container: the theme's scrolling box, which custom.css gives the
        # scroll cue (a phone scrolls the matrix sideways).
        '<div class="verified-matrix-wrapper pst-scrollable-table-container">'
        '<table class="table verified-matrix">'
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


class VerifiedMatrix(SphinxDirective):
    """``{verified-matrix}``: chapters x PyTorch releases, from ``:folder:/matrix.json``."""

    has_content = False
    option_spec = {"folder": directives.unchanged}  # noqa: RUF012 (docutils API)

    def run(self) -> list[nodes.Node]:
        folder = Path(self.env.srcdir) / self.options.get("folder", DEFAULT_FOLDER)
        self.env.note_dependency(str(folder / MATRIX_FILE))
        try:
            matrix = load_matrix(folder)
        except ValueError as exc:
            raise self.error(str(exc)) from exc
        if matrix is None:
            return [
                nodes.paragraph(
                    "", "No version matrix is published yet.", classes=["verified-no-matrix"]
                )
            ]
        now = current_hash(Path(self.env.srcdir))
        stale = [
            r
            for r, e in matrix["releases"].items()
            if e.get("status") == "ran" and not coverage(e, now)[0]
        ]
        result: list[nodes.Node] = []
        if stale:
            note = nodes.warning(classes=["verified-matrix-stale"])
            note += nodes.paragraph(
                "",
                "Stale: the notebooks or helpers changed after the matrix ran on "
                + ", ".join(stale)
                + "; those columns describe an earlier version of the book.",
            )
            result.append(note)
        result.append(nodes.raw("", matrix_html(matrix, now), format="html"))
        return result


# --- The footer -------------------------------------------------------------------------------


def footer_html(folder: Path, now: str | None) -> str:
    """The footer: what the published reports show, and nothing more."""
    esc = html.escape
    runs = load_runs(folder) if folder.is_dir() else []
    parts = []
    if runs:
        shown = []
        for _, report in runs:
            current, _ = coverage(report, now)
            text = f"{_device(report)} with PyTorch {report['torch_version']}"
            if not current:
                text += " (stale: an earlier version of the notebooks)"
            shown.append(text)
        parts.append(
            "Every printed output in this book is a test. Published runs: "
            + "; ".join(esc(t) for t in shown)
            + "."
        )
    else:
        parts.append("No verified run of this book is published yet.")
    if not any(r["device_type"] == "cuda" for _, r in runs):
        parts.append("No GPU run is published.")
    matrix = load_matrix(folder) if folder.is_dir() else None
    if matrix:
        ran = [r for r, e in matrix["releases"].items() if e.get("status") == "ran"]
        if ran:
            parts.append("Version matrix (CPU): PyTorch " + esc(", ".join(ran)) + ".")
    return '<p class="verified-footer">' + " ".join(parts) + "</p>"


def set_footer(app: Sphinx, config: Any) -> None:
    root = Path(app.srcdir)
    options = dict(config.html_theme_options or {})
    options["extra_footer"] = footer_html(root / DEFAULT_FOLDER, current_hash(root))
    config.html_theme_options = options


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("verified-runs", VerifiedRuns)
    app.add_directive("verified-matrix", VerifiedMatrix)
    app.connect("config-inited", set_footer)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
