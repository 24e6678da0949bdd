"""Verified helpers for the book *PyTorch, verified*.

Import what a chapter needs from its topic module::

    from snippets.device import DEVICE, setup, example_normal
    from snippets.indexing import checked_gather
    from snippets import draw, reference
    from snippets.exercises import check

The public API is small: a name is public when a chapter uses it (each module's ``__all__``
lists them), or, in ``snippets.reference``, when a chapter's exercise checks against it; the
few other public names are in ``ALSO_PUBLIC`` with the reason. Everything else is internal
(a leading underscore, or a module whose ``__all__`` is empty: ``snippets.validate``,
``snippets.exercise_catalogue``), and the public functions check their arguments once, at the
entry.

How the public functions are tested (``tests/test_<topic>.py``):

- the operations and helpers of ``argmax``, ``indexing``, ``scatter``, ``broadcasting``
  (``checked_broadcast_shapes``, the masks), ``tensor_index`` and ``recipes`` against their
  plain-loop specification in ``snippets.reference`` (public there when a chapter names it,
  private otherwise) and against the PyTorch built-in they explain, with hypothesis;
- ``autograd``, ``hooks`` and ``explain_broadcast`` against what PyTorch records or computes
  (saved tensors, hook calls, ``torch.broadcast_shapes``), since they report rather than
  compute; ``ema_update_`` against ``reference.ema_update``;
- the figures of ``draw`` by reading the SVG back (each output cell's source cell against the
  helpers' ``*_sources``), ``exercises.check`` with right and wrong solutions,
  ``reference`` itself against PyTorch, ``device`` and ``versions`` by their own tests.
"""

__version__ = "0.1.0"

# Public names that no chapter imports, each with why it is public.
ALSO_PUBLIC: dict[str, str] = {
    "snippets.exercises.ExerciseFailed": "check raises it to the reader on a wrong answer",
    "snippets.hooks.HookEvent": "what record_hook_order returns and draw.hook_timeline draws",
    "snippets.hooks.StopForward": "Trace(stop=True) raises it; chapter 06's prose names it",
    "snippets.device.resolve_device": "the TORCH_DEVICE rule of the README; the run report uses it",
}
