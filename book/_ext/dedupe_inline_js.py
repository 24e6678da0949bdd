"""Sphinx extension: include each inline ``<script>`` once (a workaround for Sphinx 7.4).

Sphinx 7.4 registers a script added with ``app.add_js_file(None, body=...)`` after the builder
started twice: once under the name ``None`` and again, when it prepares writing, under ``''``.
Each page then declares sphinx-thebe's ``const THEBE_JS_URL`` twice, and the browser reports
"Identifier 'THEBE_JS_URL' has already been declared" on every page (the site tests load every
page and fail on any console error). This drops the second copy. Registered in ``_config.yml``
under ``sphinx: local_extensions``; remove it when the book moves to a Sphinx without the bug.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _dedupe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for script in scripts:
        attributes = getattr(script, "attributes", {})
        key = (
            getattr(script, "filename", script) or "",
            getattr(script, "priority", None),
            tuple(sorted((k, str(v)) for k, v in attributes.items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _dedupe, priority=900)  # after the themes' own handlers
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
