"""The build itself (no browser): zero warnings, and every chapter in the table of contents."""

from __future__ import annotations

import re

import pytest

from tests.site.sitekit import HTML, ROOT, toc_pages

pytestmark = pytest.mark.site


def test_build_has_no_warnings(site_build: str) -> None:
    # -W turns warnings into errors, so a build that passed should print none; this also
    # catches what reaches the log without going through Sphinx's warning machinery.
    problems = [
        line
        for line in site_build.splitlines()
        if re.search(r"\b(WARNING|ERROR|CRITICAL)\b", line) or "with problems" in line
    ]
    assert not problems, "the build printed warnings:\n" + "\n".join(problems)
    assert "build succeeded" in site_build


def test_every_notebook_is_in_the_toc() -> None:
    listed = {page.source.as_posix() for page in toc_pages()}
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("notebooks/*.ipynb"))
    missing = [nb for nb in notebooks if nb not in listed]
    assert notebooks, "no notebook found in notebooks/"
    assert not missing, f"notebooks missing from _toc.yml: {missing}"


def test_toc_pages_were_built(site_build: str) -> None:
    missing = [page.html for page in toc_pages() if not (HTML / page.html).is_file()]
    assert not missing, f"pages of _toc.yml without HTML in {HTML}: {missing}"
