"""The content hash of what a run report verified: the files of ``notebooks/`` and ``snippets/``.

A report (``book/verified/*.json``) records it as ``content_hash``; the page "Verified on"
compares it with the hash of the files the book is built from, and marks a report whose hash
differs as stale. A hash, not a commit id: a commit that changes only prose, tests or the
build leaves the notebooks and helpers, and so the report, valid.

``snippets/matrix_data.py`` is left out: it is written from the version matrix's results, so
publishing a matrix would otherwise make that matrix stale at once. Caches
(``__pycache__``, ``.ipynb_checkpoints``) are left out too.

Standalone (standard library only): imported by ``tests/report_plugin.py``, ``tools/matrix.py``,
``tools/publish_report.py`` and the Sphinx extension ``book/_ext/verified_runs.py``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

FOLDERS = ("notebooks", "snippets")
EXCLUDED = frozenset({"snippets/matrix_data.py"})
SKIPPED_PARTS = frozenset({"__pycache__", ".ipynb_checkpoints"})
SUFFIXES = frozenset({".ipynb", ".py"})


def hashed_files(root: Path) -> list[str]:
    """The files the hash covers, as sorted paths relative to ``root``."""
    files = []
    for folder in FOLDERS:
        for path in (root / folder).rglob("*"):
            rel = path.relative_to(root).as_posix()
            if (
                path.is_file()
                and path.suffix in SUFFIXES
                and rel not in EXCLUDED
                and not SKIPPED_PARTS.intersection(path.parts)
            ):
                files.append(rel)
    return sorted(files)


def content_hash(root: Path) -> str:
    """``sha256:<hex>`` over the path and bytes of every file of :func:`hashed_files`."""
    digest = hashlib.sha256()
    for rel in hashed_files(root):
        digest.update(rel.encode() + b"\0")
        digest.update((root / rel).read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def short(value: str | None) -> str:
    """The first 12 hex digits of a content hash, for display.

    >>> short("sha256:0123456789abcdef")
    '0123456789ab'
    >>> short(None)
    'not recorded'
    """
    if not value:
        return "not recorded"
    return value.split(":", 1)[-1][:12]
