"""Helpers of the site tests: the pages of ``_toc.yml`` and the ids of built HTML pages.

Imported by ``conftest.py`` and the ``test_site_*`` modules as ``tests.site.sitekit``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
SHOTS = BUILD / "screenshots"
BUILD_LOG = BUILD / "site-build.log"
SOURCE_SUFFIXES = (".md", ".ipynb", ".rst")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


# --- The table of contents ------------------------------------------------------------------


@dataclass(frozen=True)
class TocPage:
    docname: str  # "notebooks/01-gather"
    source: Path  # the source file, relative to ROOT

    @property
    def html(self) -> str:
        return f"{self.docname}.html"

    @property
    def is_chapter(self) -> bool:
        return self.source.suffix == ".ipynb"

    @property
    def slug(self) -> str:
        return self.docname.replace("/", "-")

    def __str__(self) -> str:
        return self.docname


def _source_of(docname: str) -> Path:
    for suffix in SOURCE_SUFFIXES:
        path = Path(docname + suffix)
        if (ROOT / path).is_file():
            return path
    return Path(docname)  # missing: the build and test_toc_pages_were_built report it


def _walk(entry: Any) -> Iterator[str]:
    if isinstance(entry, list):
        for item in entry:
            yield from _walk(item)
    elif isinstance(entry, dict):
        if "file" in entry:
            yield str(entry["file"])
        if "glob" in entry:
            for path in sorted(ROOT.glob(str(entry["glob"]))):
                if path.suffix in SOURCE_SUFFIXES:
                    yield path.relative_to(ROOT).with_suffix("").as_posix()
        for key in ("parts", "chapters", "sections"):
            yield from _walk(entry.get(key, []))


def toc_pages() -> list[TocPage]:
    """Every page of ``_toc.yml``, root first, in reading order."""
    import yaml  # here, not at import: collecting `make cpu` needs no book toolchain

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docnames = [str(toc["root"]), *_walk(toc)]
    docnames = [re.sub(r"\.(md|ipynb|rst)$", "", d) for d in docnames]
    return [TocPage(d, _source_of(d)) for d in dict.fromkeys(docnames)]


# --- Static HTML --------------------------------------------------------------------------


class _IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name == "id" or (tag == "a" and name == "name")):
                self.ids.add(value)


@functools.cache
def ids_in(path: Path) -> frozenset[str]:
    """Every ``id`` (and ``<a name>``) in the HTML file at ``path``."""
    parser = _IdCollector()
    parser.feed(path.read_text(encoding="utf-8"))
    return frozenset(parser.ids)
