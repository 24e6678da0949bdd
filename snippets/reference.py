"""The specification of each operation the book explains, written as plain Python loops.

These are slow on purpose: a loop over every output position says exactly what the operation
means, with nothing hidden in broadcasting or strides. The tests compare the book's helpers and
PyTorch's own operations against them, and ``snippets.exercises.check`` compares the reader's
answers against them. Nothing else in the book loops over elements.

>>> import torch
>>> gather(torch.tensor([[10, 20, 30], [40, 50, 60]]), 1, torch.tensor([[0, 2], [1, 0]]))
tensor([[10, 30],
        [50, 40]])
"""

from __future__ import annotations

import itertools
import math

import torch

__all__ = [
    "gather",
    "pick_per_column",
    "select_patches",
    "sequence_logprob",
    "taken_action_values",
    "token_logprobs",
    "top_k_rows",
]


def _positions(shape: torch.Size) -> itertools.product:
    return itertools.product(*(range(s) for s in shape))


def gather(input: torch.Tensor, dim: int, index: torch.Tensor) -> torch.Tensor:
    """``out[p] = input[p with p[dim] replaced by index[p]]`` for every position ``p`` of index.

    For dim=1 on 2-D tensors that is ``out[i][j] = input[i][index[i][j]]``.
    """
    dim = dim % max(input.dim(), 1)
    out = torch.empty(index.shape, dtype=input.dtype, device=input.device)
    for p in _positions(index.shape):
        source = list(p)
        if source:
            source[dim] = int(index[p])
        out[p] = input[tuple(source)]
    return out


def pick_per_column(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """``out[j] = x[rows[j], j]``: one chosen row in every column."""
    out = torch.empty(x.shape[1], dtype=x.dtype, device=x.device)
    for j in range(x.shape[1]):
        out[j] = x[int(rows[j]), j]
    return out


def _log_softmax_row(row: list[float]) -> list[float]:
    top = max(row)
    total = sum(math.exp(v - top) for v in row)
    return [v - top - math.log(total) for v in row]


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """``out[b, t] = log softmax(logits[b, t])[tokens[b, t + 1]]`` for t in 0 .. T-2.

    The logits at position t predict the token at position t + 1 (the next-token shift).
    """
    batch, steps, _ = logits.shape
    out = torch.zeros(batch, max(steps - 1, 0), dtype=torch.float64)
    for b in range(batch):
        for t in range(steps - 1):
            row = _log_softmax_row([float(v) for v in logits[b, t]])
            out[b, t] = row[int(tokens[b, t + 1])]
    return out.to(logits.dtype).to(logits.device)


def sequence_logprob(
    logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``out[b] = sum over t >= 1 with mask[b, t] of log p(tokens[b, t] | tokens[b, :t])``."""
    per_token = token_logprobs(logits, tokens)
    out = torch.zeros(logits.shape[0], dtype=torch.float64)
    for b in range(logits.shape[0]):
        for t in range(1, tokens.shape[1]):
            if bool(mask[b, t]):
                out[b] += float(per_token[b, t - 1])
    return out.to(logits.dtype).to(logits.device)


def taken_action_values(q_values: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """``out[b] = q_values[b, actions[b]]``: the value of the action each transition took."""
    out = torch.empty(q_values.shape[0], dtype=q_values.dtype, device=q_values.device)
    for b in range(q_values.shape[0]):
        out[b] = q_values[b, int(actions[b])]
    return out


def select_patches(patches: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``out[b, k, :] = patches[b, idx[b, k], :]``: whole feature vectors, chosen per sample."""
    batch, k = idx.shape
    out = torch.empty(batch, k, patches.shape[2], dtype=patches.dtype, device=patches.device)
    for b in range(batch):
        for j in range(k):
            for d in range(patches.shape[2]):
                out[b, j, d] = patches[b, int(idx[b, j]), d]
    return out


def top_k_rows(x: torch.Tensor, scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For each b, the k rows of ``x[b]`` with the highest ``scores[b]``, best first.

    Returns ``(rows, indices)`` with shapes (B, k, D) and (B, k). Ties go to the lower index.
    """
    batch = x.shape[0]
    indices = torch.empty(batch, k, dtype=torch.int64)
    for b in range(batch):
        order = sorted(range(scores.shape[1]), key=lambda n: (-float(scores[b, n]), n))
        for j in range(k):
            indices[b, j] = order[j]
    indices = indices.to(x.device)
    return select_patches(x, indices), indices
