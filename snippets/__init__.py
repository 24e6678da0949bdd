"""Verified helpers for the book *PyTorch, verified*.

Import what a chapter needs from its topic module::

    from snippets.device import DEVICE, setup, example
    from snippets.indexing import checked_gather
    from snippets import draw, reference
    from snippets.exercises import check

Every public function is tested against a plain-loop reference (``snippets.reference``) and
against the PyTorch built-in it explains.
"""

__version__ = "0.1.0"
