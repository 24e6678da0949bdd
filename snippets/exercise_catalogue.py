"""The book's exercises, in chapter order: for each, its signature, its loop reference in
``snippets.reference`` (a function of the same name) and a generator of random cases.

Importing ``snippets.exercises`` imports this module, which registers every exercise; the
notebooks call ``check(their_function, "name")`` from ``snippets.exercises``. Package-internal:
nothing here is public API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from snippets import reference
from snippets.device import DEVICE
from snippets.exercises import Case, Exercise, register

__all__: list[str] = []


def _add(
    name: str,
    signature: str,
    make_case: Callable[[torch.Generator], Case],
    arg_names: tuple[str, ...],
    **options: Any,
) -> None:
    """Register the exercise ``name``, checked against ``reference.<name>``, the loop of the
    same name."""
    register(Exercise(name, signature, getattr(reference, name), make_case, arg_names, **options))


# ---------------------------------------------------------------------------------------------
# Case generators shared by the chapters. Every generator draws from the CPU generator it is
# given, so a case number and a seed always rebuild the same case.


def _sizes(gen: torch.Generator, n: int, high: int, *, allow_empty: bool = True) -> list[int]:
    low = 0 if allow_empty else 1
    return [int(v) for v in torch.randint(low, high + 1, (n,), generator=gen)]


def _maybe_transposed(gen: torch.Generator, rows: int, cols: int) -> torch.Tensor:
    """A (rows, cols) float tensor that is non-contiguous half of the time."""
    if int(torch.randint(0, 2, (1,), generator=gen)):
        return torch.randn(cols, rows, generator=gen).t()
    return torch.randn(rows, cols, generator=gen)


def _pick_case(gen: torch.Generator) -> Case:
    n, m = _sizes(gen, 2, 6)
    n = max(n, 1) if m else n  # every column needs a row to pick
    x = _maybe_transposed(gen, n, m)
    rows = torch.randint(0, max(n, 1), (m,), generator=gen)
    return x, rows


def _sequence_case(gen: torch.Generator) -> Case:
    b, t = _sizes(gen, 2, 5)
    v = _sizes(gen, 1, 6, allow_empty=False)[0]
    logits = 3 * torch.randn(b, t, v, generator=gen)
    tokens = torch.randint(0, v, (b, t), generator=gen)
    mask = torch.rand(b, t, generator=gen) < 0.8
    return logits, tokens, mask


def _patches_case(gen: torch.Generator) -> Case:
    b, n, d = _sizes(gen, 3, 5)
    n = max(n, 1)
    k = _sizes(gen, 1, 6)[0]
    patches = torch.randn(b, n, d, generator=gen)
    if int(torch.randint(0, 2, (1,), generator=gen)):
        patches = torch.randn(b, d, n, generator=gen).transpose(1, 2)
    idx = torch.randint(0, n, (b, k), generator=gen)
    return patches, idx


# ---------------------------------------------------------------------------------------------
# notebooks/00-indexing.ipynb ("Indexing with tensors"). count_occurrences draws its indices from
# few values, so repeated indices (the case `out[idx] += 1` gets wrong) are the rule, not the
# exception.


def _batch_pick_case(gen: torch.Generator) -> Case:
    b, d = _sizes(gen, 2, 4)
    n = _sizes(gen, 1, 5, allow_empty=False)[0]
    if int(torch.randint(0, 2, (1,), generator=gen)):
        x = torch.randn(b, d, n, generator=gen).transpose(1, 2)
    else:
        x = torch.randn(b, n, d, generator=gen)
    idx = torch.randint(-n, n, (b,), generator=gen)  # negative values count from the end
    return x, idx


def _windows_case(gen: torch.Generator) -> Case:
    n = _sizes(gen, 1, 8)[0]
    k = int(torch.randint(1, n + 2, (1,), generator=gen))  # k may exceed n: no windows
    x = torch.randn(2 * n, generator=gen)[::2]  # non-contiguous
    return x, k


def _occurrences_case(gen: torch.Generator) -> Case:
    n = _sizes(gen, 1, 5, allow_empty=False)[0]
    k = _sizes(gen, 1, 10)[0]
    return torch.randint(0, n, (k,), generator=gen), n


_add(
    "batch_pick",
    "batch_pick(x: (B, N, D), idx: (B,) int64) -> (B, D), out[b] = x[b, idx[b]]",
    _batch_pick_case,
    ("x", "idx"),
)
_add(
    "sliding_windows",
    "sliding_windows(x: (N,), k: int) -> (max(N - k + 1, 0), k), out[i, j] = x[i + j]",
    _windows_case,
    ("x", "k"),
)
_add(
    "count_occurrences",
    "count_occurrences(idx: (K,) int64, n: int) -> (n,) int64, out[v] = number of times v is in idx",
    _occurrences_case,
    ("idx", "n"),
)


# ---------------------------------------------------------------------------------------------
# notebooks/01-gather.ipynb.

_add(
    "pick_per_column",
    "pick_per_column(x: (N, M) tensor, rows: (M,) int64) -> (M,)",
    _pick_case,
    ("x", "rows"),
)
_add(
    "sequence_logprob",
    "sequence_logprob(logits: (B, T, V), tokens: (B, T) int64, mask: (B, T) bool) -> (B,)",
    _sequence_case,
    ("logits", "tokens", "mask"),
    atol=1e-4,
)
_add(
    "select_patches",
    "select_patches(patches: (B, N, D), idx: (B, K) int64) -> (B, K, D)",
    _patches_case,
    ("patches", "idx"),
)


# ---------------------------------------------------------------------------------------------
# notebooks/02-take-along-dim.ipynb. Keys and scores are drawn from a normal distribution, so ties
# (where argsort and topk may order equal values either way) are not what these exercises test.


def _sort_key_case(gen: torch.Generator) -> Case:
    b, n = _sizes(gen, 2, 5)
    values = _maybe_transposed(gen, b, n)
    key = torch.randn(b, n, generator=gen)
    return values, key


def _shuffle_case(gen: torch.Generator) -> Case:
    b, t, d = _sizes(gen, 3, 4)
    if int(torch.randint(0, 2, (1,), generator=gen)):
        x = torch.randn(b, d, t, generator=gen).transpose(1, 2)
    else:
        x = torch.randn(b, t, d, generator=gen)
    perm = torch.rand(b, t, generator=gen).argsort(dim=1)
    return torch.take_along_dim(x, perm.unsqueeze(-1), dim=1), perm


def _top_k_labels_case(gen: torch.Generator) -> Case:
    b = _sizes(gen, 1, 4)[0]
    n = _sizes(gen, 1, 6, allow_empty=False)[0]
    k = int(torch.randint(0, n + 1, (1,), generator=gen))
    scores = _maybe_transposed(gen, b, n)
    labels = torch.randint(0, 100, (n,), generator=gen)
    return scores, labels, k


_add(
    "sort_by_key",
    "sort_by_key(values: (B, N), key: (B, N)) -> (B, N), each row ordered by key",
    _sort_key_case,
    ("values", "key"),
)
_add(
    "undo_shuffle",
    "undo_shuffle(shuffled: (B, T, D), perm: (B, T) int64) -> (B, T, D)",
    _shuffle_case,
    ("shuffled", "perm"),
)
_add(
    "top_k_labels",
    "top_k_labels(scores: (B, N), labels: (N,) int64, k: int) -> (B, k) int64",
    _top_k_labels_case,
    ("scores", "labels", "k"),
)


# ---------------------------------------------------------------------------------------------
# notebooks/03-argmax-coordinates.ipynb. Values are drawn from a normal distribution, so ties (which
# argmax resolves to the first index) are not what these exercises test.


def _peak_case(gen: torch.Generator) -> Case:
    b = _sizes(gen, 1, 4)[0]
    h, w = _sizes(gen, 2, 5, allow_empty=False)
    if int(torch.randint(0, 2, (1,), generator=gen)):  # non-contiguous: each map transposed
        return (torch.randn(b, w, h, generator=gen).transpose(1, 2),)
    return (torch.randn(b, h, w, generator=gen),)


def _best_case(gen: torch.Generator) -> Case:
    b, d = _sizes(gen, 2, 4)
    n = _sizes(gen, 1, 5, allow_empty=False)[0]
    scores = _maybe_transposed(gen, b, n)
    values = torch.randn(b, n, d, generator=gen)
    return scores, values


def _nchw_case(gen: torch.Generator) -> Case:
    n, h, w = _sizes(gen, 3, 4)
    c = _sizes(gen, 1, 4, allow_empty=False)[0]
    if int(torch.randint(0, 2, (1,), generator=gen)):  # channels-last memory, as in conv nets
        return (torch.randn(n, h, w, c, generator=gen).permute(0, 3, 1, 2),)
    return (torch.randn(n, c, h, w, generator=gen),)


_add(
    "peak_coordinates",
    "peak_coordinates(heatmaps: (B, H, W)) -> (B, 2) int64 rows (i, j)",
    _peak_case,
    ("heatmaps",),
)
_add(
    "values_at_best",
    "values_at_best(scores: (B, N), values: (B, N, D)) -> (B, D)",
    _best_case,
    ("scores", "values"),
)
_add(
    "channel_argmax_coordinates",
    "channel_argmax_coordinates(x: (N, C, H, W)) -> (N, H, W, 4) int64 rows (n, c, h, w)",
    _nchw_case,
    ("x",),
)


# ---------------------------------------------------------------------------------------------
# notebooks/04-broadcasting.ipynb. The channel cases make C equal to W half of the time, so that the
# classic bug (a (C,) tensor aligned with W instead of C) sometimes runs and gives wrong values
# instead of failing: the check must catch both.


def _pairwise_case(gen: torch.Generator) -> Case:
    n, m = _sizes(gen, 2, 5)
    d = _sizes(gen, 1, 4)[0]
    return _maybe_transposed(gen, n, d), _maybe_transposed(gen, m, d)


def _channels_case(gen: torch.Generator) -> Case:
    n = _sizes(gen, 1, 3)[0]
    c, h, w = _sizes(gen, 3, 4, allow_empty=False)
    if int(torch.randint(0, 2, (1,), generator=gen)):
        w = c
    if int(torch.randint(0, 2, (1,), generator=gen)):  # channels-last memory: non-contiguous
        x = torch.randn(n, h, w, c, generator=gen).permute(0, 3, 1, 2)
    else:
        x = torch.randn(n, c, h, w, generator=gen)
    mean = torch.randn(c, generator=gen)
    std = torch.rand(c, generator=gen) + 0.5
    return x, mean, std


def _lengths_case(gen: torch.Generator) -> Case:
    b, max_len = _sizes(gen, 2, 6)
    lengths = torch.randint(0, max_len + 1, (b,), generator=gen)
    return lengths, max_len


_add(
    "pairwise_sq_dists",
    "pairwise_sq_dists(x: (N, D), y: (M, D)) -> (N, M)",
    _pairwise_case,
    ("x", "y"),
    atol=1e-4,
)
_add(
    "normalize_channels",
    "normalize_channels(x: (N, C, H, W), mean: (C,), std: (C,)) -> (N, C, H, W)",
    _channels_case,
    ("x", "mean", "std"),
)
_add(
    "length_mask",
    "length_mask(lengths: (B,) int64, max_len: int) -> (B, max_len) bool",
    _lengths_case,
    ("lengths", "max_len"),
)


# ---------------------------------------------------------------------------------------------
# notebooks/05-no-grad.ipynb. Each exercise checks the values against explicit arithmetic AND one
# autograd requirement through ``verify``: no grad history where there must be none (an EMA, a
# prediction), grad history where training needs it, and the model's training flag intact. Models
# are made with skip_init and filled from the case generator: no global RNG is touched.


def _history(t: torch.Tensor) -> str:
    name = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    return f"requires_grad={t.requires_grad}, grad_fn={name}"


def _linear(gen: torch.Generator, d_in: int, d_out: int) -> torch.nn.Linear:
    linear = torch.nn.utils.skip_init(torch.nn.Linear, d_in, d_out)
    with torch.no_grad():
        linear.weight.copy_(torch.randn(d_out, d_in, generator=gen) * 0.7)
        linear.bias.copy_(torch.randn(d_out, generator=gen) * 0.3)
    return linear


def _ema_case(gen: torch.Generator) -> Case:
    n_dims = int(torch.randint(0, 4, (1,), generator=gen))
    shape = _sizes(gen, n_dims, 4)
    ema = torch.randn(shape, generator=gen)
    param = torch.randn(shape, generator=gen).requires_grad_()  # a live parameter
    decay = [0.0, 0.5, 0.9, 0.99, 0.999, 1.0][int(torch.randint(0, 6, (1,), generator=gen))]
    return ema, param, decay


def _ema_verify(given: Case, actual: Any) -> str | None:
    if actual is not given[0]:
        return "expected ema itself, updated in place (return ema), got another tensor"
    if actual.requires_grad or actual.grad_fn is not None:
        return (
            f"ema now has grad history ({_history(actual)}): the update was recorded by "
            "autograd; do it under torch.no_grad()"
        )
    return None


def _proba_case(gen: torch.Generator) -> Case:
    b = _sizes(gen, 1, 4)[0]
    d, k = _sizes(gen, 2, 4, allow_empty=False)
    model = torch.nn.Sequential(_linear(gen, d, k), torch.nn.Dropout(0.5)).to(DEVICE)
    return model, _maybe_transposed(gen, b, d)  # the model is in training mode


def _proba_verify(given: Case, actual: Any) -> str | None:
    model = given[0]
    if actual.requires_grad or actual.grad_fn is not None:
        return (
            f"the probabilities carry grad history ({_history(actual)}): compute them under "
            "torch.no_grad() or torch.inference_mode()"
        )
    if not model.training:
        return (
            "model was left in eval mode: it was in training mode before the call, so put "
            "it back with model.train()"
        )
    return None


def _mse_case(gen: torch.Generator) -> Case:
    b, d, k = _sizes(gen, 3, 4, allow_empty=False)
    model = _linear(gen, d, k).to(DEVICE)
    x = _maybe_transposed(gen, b, d)
    target = torch.randn(b, k, generator=gen)
    train = bool(torch.randint(0, 2, (1,), generator=gen))
    return model, x, target, train


def _mse_verify(given: Case, actual: Any) -> str | None:
    train = given[3]
    if train and not actual.requires_grad:
        return (
            f"with train=True the loss must be differentiable, got {_history(actual)}: grad "
            "mode must be on"
        )
    if not train and (actual.requires_grad or actual.grad_fn is not None):
        return (
            f"with train=False the loss must not record a graph, got {_history(actual)}: use "
            "torch.set_grad_enabled(train)"
        )
    return None


_add(
    "ema_step_",
    "ema_step_(ema: tensor, param: tensor (requires grad), decay: float) -> ema, updated in place with no grad history",
    _ema_case,
    ("ema", "param", "decay"),
    verify=_ema_verify,
)
_add(
    "predict_proba",
    "predict_proba(model: Sequential(Linear(D, K), Dropout), x: (B, D)) -> (B, K) softmax probabilities, eval behaviour, no grad history, model.training unchanged",
    _proba_case,
    ("model", "x"),
    verify=_proba_verify,
)
_add(
    "loss_for",
    "loss_for(model: Linear(D, K), x: (B, D), target: (B, K), train: bool) -> mean squared error, with grad history only when train",
    _mse_case,
    ("model", "x", "target", "train"),
    verify=_mse_verify,
)


# ---------------------------------------------------------------------------------------------
# notebooks/06-hooks.ipynb. Each case is a small random Sequential of Linear layers and activations,
# made on the CPU from the case generator (no global RNG is touched), then moved to DEVICE.


def _small_sequential(gen: torch.Generator) -> torch.nn.Sequential:
    """A Sequential of 2 to 4 Linear layers with ReLU or Tanh between them, on DEVICE."""
    n_linear = int(torch.randint(2, 5, (1,), generator=gen))
    widths = _sizes(gen, n_linear + 1, 5, allow_empty=False)
    layers: list[torch.nn.Module] = []
    for k in range(n_linear):
        linear = torch.nn.utils.skip_init(torch.nn.Linear, widths[k], widths[k + 1])
        with torch.no_grad():
            linear.weight.copy_(torch.randn(widths[k + 1], widths[k], generator=gen) * 0.7)
            linear.bias.copy_(torch.randn(widths[k + 1], generator=gen) * 0.3)
        layers.append(linear)
        if k < n_linear - 1:
            act = (
                torch.nn.ReLU()
                if int(torch.randint(0, 2, (1,), generator=gen))
                else torch.nn.Tanh()
            )
            layers.append(act)
    return torch.nn.Sequential(*layers).to(DEVICE)


def _layer_case(gen: torch.Generator) -> Case:
    model = _small_sequential(gen)
    batch = _sizes(gen, 1, 4)[0]
    x = _maybe_transposed(gen, batch, model[0].in_features)
    k = int(torch.randint(0, len(model), (1,), generator=gen))
    return model, str(k), x


def _small_sequential_width(model: torch.nn.Sequential, k: int) -> int:
    """The width of child k's output: that of the last Linear at or before k."""
    return next(
        m.out_features for m in reversed(list(model)[: k + 1]) if hasattr(m, "out_features")
    )


def _patch_case(gen: torch.Generator) -> Case:
    model, name, x = _layer_case(gen)
    width = _small_sequential_width(model, int(name))
    value = torch.randn(x.shape[0], width, generator=gen)
    return model, name, x, value


_add(
    "layer_output",
    "layer_output(model: nn.Sequential, name: str, x: (B, D_in)) -> output of model's child `name`",
    _layer_case,
    ("model", "name", "x"),
)
_add(
    "patch_layer",
    "patch_layer(model, name: str, x: (B, D_in), value) -> model(x) with child `name` outputting value",
    _patch_case,
    ("model", "name", "x", "value"),
)
_add(
    "layer_output_grad",
    "layer_output_grad(model, name: str, x: (B, D_in)) -> d model(x).sum() / d (output of `name`)",
    _layer_case,
    ("model", "name", "x"),
)


# ---------------------------------------------------------------------------------------------
# notebooks/07-scatter.ipynb. Values are drawn from a normal distribution, so ties (where topk may
# order equal values either way) are not what these exercises test; segment and class ids leave some
# segments empty on purpose.


def _counts_case(gen: torch.Generator) -> Case:
    n = _sizes(gen, 1, 12)[0]
    c = _sizes(gen, 1, 6, allow_empty=False)[0]
    return torch.randint(0, c, (n,), generator=gen), c


def _segment_max_case(gen: torch.Generator) -> Case:
    n = _sizes(gen, 1, 10)[0]
    s = _sizes(gen, 1, 5, allow_empty=False)[0]
    if int(torch.randint(0, 2, (1,), generator=gen)):  # non-contiguous: every other element
        values = torch.randn(2 * n, generator=gen)[::2]
    else:
        values = torch.randn(n, generator=gen)
    return values, torch.randint(0, s, (n,), generator=gen), s


def _keep_top_k_case(gen: torch.Generator) -> Case:
    b = _sizes(gen, 1, 4)[0]
    n = _sizes(gen, 1, 6, allow_empty=False)[0]
    k = int(torch.randint(0, n + 1, (1,), generator=gen))
    return _maybe_transposed(gen, b, n), k


_add(
    "class_counts",
    "class_counts(labels: (N,) int64, num_classes: int) -> (num_classes,) int64",
    _counts_case,
    ("labels", "num_classes"),
)
_add(
    "segment_max",
    "segment_max(values: (N,), segment_ids: (N,) int64, num_segments: int) -> (num_segments,), -inf where a segment is empty",
    _segment_max_case,
    ("values", "segment_ids", "num_segments"),
)
_add(
    "keep_top_k",
    "keep_top_k(scores: (B, N), k: int) -> (B, N): each row's k largest values in place, 0 elsewhere",
    _keep_top_k_case,
    ("scores", "k"),
)


# ---------------------------------------------------------------------------------------------
# notebooks/08-recipes.ipynb. Scores are whole numbers in a small range, so ties happen: answer_rank
# counts only strictly higher scores, and the check must see tied cases.


def _pick_channel_case(gen: torch.Generator) -> Case:
    h, w = _sizes(gen, 2, 4)
    c = _sizes(gen, 1, 4, allow_empty=False)[0]
    if int(torch.randint(0, 2, (1,), generator=gen)):  # channels-first memory: non-contiguous
        data = torch.randn(c, h, w, generator=gen).permute(1, 2, 0)
    else:
        data = torch.randn(h, w, c, generator=gen)
    return data, torch.randint(0, c, (h, w), generator=gen)


def _answer_rank_case(gen: torch.Generator) -> Case:
    b = _sizes(gen, 1, 4)[0]
    v = _sizes(gen, 1, 6, allow_empty=False)[0]
    scores = torch.randint(0, 4, (b, v), generator=gen).float()
    return scores, torch.randint(0, v, (b,), generator=gen)


_add(
    "pick_channel",
    "pick_channel(data: (H, W, C), index_map: (H, W) int64) -> (H, W)",
    _pick_channel_case,
    ("data", "index_map"),
)
_add(
    "answer_rank",
    "answer_rank(scores: (B, V), answer: (B,) int64) -> (B,) int64, how many candidates score strictly higher",
    _answer_rank_case,
    ("scores", "answer"),
)
