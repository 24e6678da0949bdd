"""Which PyTorch a notebook runs on, and what the book's version matrix found on that release.

A chapter's first code cell calls ``which_pytorch("01-gather")``, which prints one line: the
release it runs on and whether that release is in the version matrix (the releases the book's
notebooks were re-run on; see the page "Verified on"), with the cells of this chapter that
print something else there. The matrix's results ship inside this package, so a Colab reader
gets them too.

The line starts with "This notebook runs on PyTorch" and the release, then says one of:

- the release the book's stored outputs were made and verified with;
- in the book's version matrix, with how many of this chapter's code cells print something
  else there, and which (or that every cell prints what the book shows);
- in the book's version matrix, but this chapter was not part of its last run;
- not in the book's version matrix (listing the releases that are).

In the last two cases its outputs may differ from the book's.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["which_pytorch"]

# The book's nbval sanitize file (tests/nbval_sanitize.cfg) masks the "This notebook runs on
# PyTorch" line in every comparison: the version matrix and the CUDA leg run other releases
# than the pin, where the line differs by design. _about_pytorch's doctests check its wording.

_SAMPLE: dict[str, Any] = {
    "pin": "2.13.0",
    "releases": {
        "2.9.1": {
            "status": "ran",
            "chapters": {"01-gather": {"cells": 42, "matched": 40, "differ": [14, 21]}},
        },
        "2.13.0": {
            "status": "ran",
            "chapters": {"01-gather": {"cells": 42, "matched": 42, "differ": []}},
        },
        "2.14.1": {
            "status": "ran",
            "chapters": {"01-gather": {"cells": 42, "matched": 42, "differ": []}},
        },
        "2.12.1": {"status": "failed to install"},
    },
}


def _public_release(version: str) -> str:
    """``"2.13.0+cpu"`` -> ``"2.13.0"``: the release, without the build label.

    >>> _public_release("2.14.1+cu128")
    '2.14.1'
    """
    if not isinstance(version, str):
        raise TypeError(f"version must be a str, got {type(version).__name__}")
    match = re.match(r"\d+\.\d+(\.\d+)?", version)
    if not match:
        raise ValueError(f"version: cannot read a release from {version!r}")
    return match.group(0)


def _matrix() -> dict[str, Any]:
    try:
        from snippets.matrix_data import MATRIX
    except ImportError:  # no matrix published yet
        return {"pin": None, "releases": {}}
    return MATRIX


def _about_pytorch(
    chapter: str, version: str | None = None, matrix: dict[str, Any] | None = None
) -> str:
    """The line :func:`which_pytorch` prints, for ``chapter`` (a notebook name such as
    ``"01-gather"``) on ``version`` (default: the running ``torch.__version__``).

    >>> print(_about_pytorch("01-gather", version="2.13.0+cpu", matrix=_SAMPLE))
    This notebook runs on PyTorch 2.13.0: the release the book's stored outputs were made and verified with.
    >>> print(_about_pytorch("01-gather", version="2.9.1", matrix=_SAMPLE))
    This notebook runs on PyTorch 2.9.1: in the book's version matrix, 2 of this chapter's 42 code cells print something else there ([14], [21]; see the page "Verified on").
    >>> print(_about_pytorch("01-gather", version="2.14.1+cu128", matrix=_SAMPLE))
    This notebook runs on PyTorch 2.14.1: in the book's version matrix, every cell of this chapter prints what the book shows.
    >>> print(_about_pytorch("09-new", version="2.9.1", matrix=_SAMPLE))
    This notebook runs on PyTorch 2.9.1: in the book's version matrix, but this chapter was not part of its last run; its outputs may differ from the book's.
    >>> print(_about_pytorch("01-gather", version="2.6.0", matrix=_SAMPLE))
    This notebook runs on PyTorch 2.6.0: not in the book's version matrix (2.9.1, 2.13.0, 2.14.1); its outputs may differ from the book's.
    """
    if not isinstance(chapter, str):
        raise TypeError(f"chapter must be a notebook name (str), got {type(chapter).__name__}")
    if version is None:
        import torch

        version = torch.__version__
    release = _public_release(version)
    matrix = _matrix() if matrix is None else matrix
    start = f"This notebook runs on PyTorch {release}"
    if release == matrix.get("pin"):
        return f"{start}: the release the book's stored outputs were made and verified with."
    ran = {r: e for r, e in matrix.get("releases", {}).items() if e.get("status") == "ran"}
    if release not in ran:
        listed = ", ".join(sorted(ran, key=lambda r: tuple(int(p) for p in r.split(".")))) or "none"
        return (
            f"{start}: not in the book's version matrix ({listed}); "
            "its outputs may differ from the book's."
        )
    chapters = ran[release]["chapters"]
    if chapter not in chapters:
        # A chapter newer than the last matrix run: say so, never stop the reader's notebook.
        return (
            f"{start}: in the book's version matrix, but this chapter was not part of its last "
            "run; its outputs may differ from the book's."
        )
    entry = chapters[chapter]
    if not entry["differ"]:
        return f"{start}: in the book's version matrix, every cell of this chapter prints what the book shows."
    cells = ", ".join(f"[{c}]" for c in entry["differ"])
    return (
        f"{start}: in the book's version matrix, {len(entry['differ'])} of this chapter's "
        f"{entry['cells']} code cells print something else there ({cells}; "
        'see the page "Verified on").'
    )


def which_pytorch(chapter: str) -> None:
    """Print the PyTorch this notebook runs on and what the version matrix found there.

    The line depends on the installed release (the module's description lists each wording):

    >>> which_pytorch("01-gather")  # doctest: +ELLIPSIS
    This notebook runs on PyTorch ...: ...
    """
    print(_about_pytorch(chapter))
