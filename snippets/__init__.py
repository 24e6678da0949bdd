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

How the public functions are tested (``tests/test_<topic>.py``, ``tests/test_fuzz.py``):

- against their plain-loop specification in ``snippets.reference`` and against the PyTorch
  op they explain, with hypothesis: ``argmax_coordinates``, ``argmax_over``, ``max_along``;
  ``checked_gather``, ``checked_take_along_dim``, ``take_along_dim_shape``,
  ``check_class_indices``, ``select_patches``, ``sort_rows_by_key``, ``taken_action_values``,
  ``token_logprobs``; ``checked_scatter_add``, ``segment_sum``, ``segment_mean``,
  ``put_along_dim``; ``checked_broadcast_shapes``, ``explain_broadcast``,
  ``triangular_mask``, ``band_mask``; ``checked_index``, ``index_shape``; ``cat_shape``,
  ``pick_channel``, ``answer_rank``; ``ema_update_``. (The loops are public in
  ``snippets.reference`` when a chapter or its exercise names them, private otherwise.)
- against PyTorch alone, as the identity they state: ``argmax_index``
  (``x[argmax_index(x, d)]`` is the max), ``broadcast_along_dim`` (gather of it is
  take_along_dim), ``causal_mask`` (``tril``, SDPA's ``is_causal``), ``nbytes`` and
  ``storage_nbytes`` (the storages' sizes);
- against what PyTorch records, since they report rather than compute:
  ``saved_tensors_report``, ``evaluating``, ``Trace``, ``TraceDict``, ``forward_arguments``,
  ``forward_calls``, ``hook_counts``, ``record_hook_order``;
- the figures of ``draw`` by reading their SVG back against the loops (which cell each output
  came from); ``exercises.check`` with right and wrong answers (each exercise's reference is
  the loop of its name); ``device`` and ``versions`` by their own tests.
"""

__version__ = "0.1.0"

# Public names that no chapter imports, each with why it is public.
ALSO_PUBLIC: dict[str, str] = {
    "snippets.exercises.ExerciseFailed": "check raises it to the reader on a wrong answer",
    "snippets.hooks.HookEvent": "what record_hook_order returns and draw.hook_timeline draws",
    "snippets.hooks.StopForward": "Trace(stop=True) raises it; chapter 06's prose names it",
    "snippets.device.resolve_device": "the TORCH_DEVICE rule of the README; the run report uses it",
}
