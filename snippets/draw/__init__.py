"""Pictures of tensors, drawn from the very tensors a chapter uses, as plain SVG.

One function per chapter figure (below). Each returns a figure that shows as HTML in a
notebook: its panels, each its own SVG with alt text generated from the tensors, in a row that
wraps on a narrow screen, and its rule as a caption. The SVG is written by hand rather than by
matplotlib, so it is byte-for-byte the same on every machine and device (figures are drawn
from ``.cpu()`` values).

A figure can be read back, which is how the examples check what it shows: ``fig.svg()`` is the
whole figure as one SVG document (``fig.save(path)`` writes it to a file), ``fig.description``
its alt text, and ``fig.cell(tensor, coordinate)`` one drawn cell of the tensor of that name,
with its ``.text`` and, for an output cell, the ``.source`` coordinate its value came from.

>>> import torch
>>> fig = gather(torch.tensor([[10, 20, 30], [40, 50, 60]]), 1, torch.tensor([[0, 2], [1, 0]]))
>>> fig.cell("output", (0, 1)).text, fig.cell("output", (0, 1)).source
('30', (0, 2))
>>> fig.svg().startswith('<svg xmlns="http://www.w3.org/2000/svg"')
True
"""

from snippets.draw.argmax import argmax_along
from snippets.draw.autograd import autograd_graph
from snippets.draw.broadcast import broadcast
from snippets.draw.cat import cat
from snippets.draw.gather import gather
from snippets.draw.hooks import hook_timeline
from snippets.draw.scatter import scatter
from snippets.draw.take_along_dim import take_along_dim
from snippets.draw.tensor_index import advanced_index

# Inside the package: canvas holds the Figure (one or more SVG panels with rect, path, circle
# and text primitives), the palette and the text-width model; flow the input -> output ->
# arrows layout that gather, take_along_dim and argmax_along share (scatter turns it around);
# one module per figure. The submodules and the Figure classes are internal; the public API is
# __all__. nbval compares the SVG in full, and the tests read the figure's content back (which
# input cell each output cell came from, its colour, where every text and arrow lies) from the
# SVG itself.

__all__ = [
    "advanced_index",
    "argmax_along",
    "autograd_graph",
    "broadcast",
    "cat",
    "gather",
    "hook_timeline",
    "scatter",
    "take_along_dim",
]
