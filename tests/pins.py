"""Behaviour pins with a release range: what PyTorch does, on which releases, and what to revise.

A :class:`Pin` states one behaviour of PyTorch that the book relies on or warns about, the
releases it holds for (``since`` / ``until``), the releases it was seen on (by ``make matrix``,
which runs ``tests/test_pytorch_releases.py`` on each release of its list), and the chapter
and section that say it. A test observes the behaviour on the running PyTorch and calls
:meth:`Pin.check` with what it saw; the pin fails in both directions:

- the release is in the range but the behaviour is gone (an upgrade changed it), or
- the release is outside the range but the behaviour is there (the range is wrong),

with a message naming the behaviour, the range, the releases seen, and the section to revise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest


def release(version: str) -> tuple[int, int, int]:
    """The release numbers of a PyTorch version string, without the local build label.

    >>> release("2.13.0+cpu")
    (2, 13, 0)
    >>> release("2.14.1")
    (2, 14, 1)
    >>> release("2.15.0a0+git1234")
    (2, 15, 0)
    """
    numbers = [int(n) for n in re.findall(r"\d+", version.split("+", 1)[0])[:3]]
    if len(numbers) < 2:
        raise ValueError(f"version: cannot read a release from {version!r}")
    while len(numbers) < 3:
        numbers.append(0)
    return numbers[0], numbers[1], numbers[2]


@dataclass(frozen=True)
class Pin:
    """One release-dependent behaviour of PyTorch.

    ``what``: the behaviour, as a sentence. ``since``: the first release it holds on (None:
    every release checked); ``until``: the first release it no longer holds on (None: still
    holds). ``seen``: releases it was observed to hold on; ``seen_not``: releases observed not
    to (what they do instead is in ``otherwise``). ``revise``: the chapter and section whose
    text says it.

    >>> pin = Pin("wraps", since="2.13", seen=("2.13.0",), seen_not=("2.9.1",), revise="ch 2")
    >>> pin.holds_on("2.13.0+cpu"), pin.holds_on("2.9.1")
    (True, False)
    >>> pin.range()
    '>= 2.13'
    """

    what: str
    revise: str
    since: str | None = None
    until: str | None = None
    seen: tuple[str, ...] = ()
    seen_not: tuple[str, ...] = ()
    otherwise: str = ""

    def __post_init__(self) -> None:
        for version in self.seen:
            if not self.holds_on(version):
                raise ValueError(f"pin {self.what!r}: seen on {version}, outside {self.range()}")
        for version in self.seen_not:
            if self.holds_on(version):
                raise ValueError(f"pin {self.what!r}: seen_not {version} is inside {self.range()}")

    def holds_on(self, version: str) -> bool:
        """Whether the pin says the behaviour holds on ``version``."""
        current = release(version)
        if self.since is not None and current < release(self.since):
            return False
        return not (self.until is not None and current >= release(self.until))

    def range(self) -> str:
        """The releases it holds for, as text: ``>= 2.13``, ``< 2.12``, ``every release``."""
        parts = []
        if self.since:
            parts.append(f">= {self.since}")
        if self.until:
            parts.append(f"< {self.until}")
        return ", ".join(parts) or "every release"

    def message(self, version: str, holds: bool) -> str:
        expected = self.holds_on(version)
        seen = ", ".join(self.seen) or "none"
        seen_not = ", ".join(self.seen_not) or "none"
        if expected and not holds:
            change = f"PyTorch {version} no longer does this"
        else:
            change = f"PyTorch {version} does this, outside the pinned range"
        other = f" Otherwise: {self.otherwise}." if self.otherwise else ""
        return (
            f"Behaviour pin changed: {self.what} (pinned for {self.range()}; seen on {seen}; "
            f"not on {seen_not}).{other} {change}. Revise {self.revise}, then the pin's range "
            f"in tests/test_pytorch_releases.py."
        )

    def check(self, holds: bool, version: str | None = None) -> None:
        """Fail, naming the section to revise, if ``holds`` is not what the range says."""
        if version is None:
            import torch

            version = torch.__version__
        if holds != self.holds_on(version):
            pytest.fail(self.message(version, holds), pytrace=False)
