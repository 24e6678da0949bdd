"""Would a stored tensor repr print differently on CUDA, beyond the sanitized device suffix?

PyTorch appends suffixes to a tensor's repr (``device=``, ``dtype=``, ``grad_fn=``, ...) and
moves a suffix to a new line when it would pass the print width. On CUDA ``device='cuda:0'``
comes first, so a suffix that fits on the CPU line may wrap on CUDA, and a long last line may
push the device suffix itself onto a new line, where nbval's sanitize rule (which removes
``, device='cuda:N'`` and nothing else) cannot undo it. This module replays PyTorch's wrapping
rule on every stored repr, so the CPU run catches what only the CUDA leg would otherwise see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

LINEWIDTH = 80  # torch's default print width; snippets.device.setup() keeps the default
INDENT = len("tensor(")
SUFFIX = re.compile(
    r",(?: |\n +)((?:device|size|nnz|dtype|layout|grad_fn|requires_grad|names)="
    r"(?:\([^)]*\)|<[^>]*>|'[^']*'|[^,)\s]+))"
)
SANITIZE = re.compile(r", device='cuda:\d+'")


def add_suffixes(tensor_str: str, suffixes: list[str]) -> str:
    """PyTorch's rule (torch/_tensor_str.py, ``_add_suffixes``), for tensors that are not sparse."""
    parts = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * INDENT + suffix)
            last_line_len = INDENT + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_reprs(text: str) -> Iterator[str]:
    """Each ``tensor(...)`` in ``text``, with balanced parentheses."""
    for match in re.finditer(r"\btensor\(", text):
        depth = 0
        for i in range(match.start() + len("tensor"), len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0:
                yield text[match.start() : i + 1]
                break


def split(rep: str) -> tuple[str, list[str]] | None:
    """``("tensor(" + data, [suffix, ...])`` or None when ``rep`` is not a plain tensor repr."""
    body = rep[len("tensor(") : -1]
    if body.startswith("["):
        depth, end = 0, 0
        for end, ch in enumerate(body):  # noqa: B007 (end is used after the loop)
            depth += {"[": 1, "]": -1}.get(ch, 0)
            if depth == 0:
                break
        data, rest = body[: end + 1], body[end + 1 :]
    else:
        m = re.match(r"[^,]+", body)
        if m is None:
            return None
        data, rest = m.group(0), body[m.end() :]
    suffixes = []
    while rest:
        m = SUFFIX.match(rest)
        if m is None:
            return None
        suffixes.append(m.group(1))
        rest = rest[m.end() :]
    return "tensor(" + data, suffixes


def cuda_differences(text: str) -> list[str]:
    """The tensor reprs in ``text`` that would not survive the trip to CUDA and back."""
    problems = []
    for rep in tensor_reprs(text):
        parsed = split(rep)
        if parsed is None:
            problems.append(f"cannot parse this tensor repr: {rep!r}")
            continue
        head, suffixes = parsed
        if add_suffixes(head, suffixes) != rep:
            problems.append(f"tensor repr not printed by PyTorch's rule: {rep!r}")
            continue
        on_cuda = SANITIZE.sub("", add_suffixes(head, ["device='cuda:0'", *suffixes]))
        if on_cuda != rep:
            problems.append(f"on CUDA {rep!r} would print as {on_cuda!r} after sanitizing")
    return problems
