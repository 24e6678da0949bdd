"""tests/cuda_repr.py replays PyTorch's repr wrapping; these tests pin that it is PyTorch's rule."""

import torch

from tests.cuda_repr import add_suffixes, cuda_differences, split, tensor_reprs

SAMPLES = [
    torch.tensor([1.0, 2.0, 0.7, 0.6], requires_grad=True).mul(1),
    torch.arange(30).reshape(3, 10).to(torch.int32),
    torch.zeros(2, 0, dtype=torch.int64),
    torch.tensor(5, dtype=torch.int16),
    torch.tensor([[0.1234, 5.0, 1e3]] * 2, requires_grad=True),
    torch.tensor([True, False]),
]


def test_the_replayed_rule_reproduces_pytorchs_reprs():
    for t in SAMPLES:
        rep = repr(t)
        head, suffixes = split(rep)
        assert add_suffixes(head, suffixes) == rep


def test_a_suffix_that_would_wrap_on_cuda_is_flagged():
    rep = "tensor([1.0000, 2.0000, 0.7000, 0.6000], grad_fn=<SqueezeBackward1>)"
    (problem,) = cuda_differences(rep)
    assert "grad_fn=<SqueezeBackward1>)" in problem and ",\\n       grad_fn" in problem


def test_a_long_last_line_pushes_the_device_suffix_to_a_new_line():
    rep = repr(torch.arange(100, 113))  # one line of 73 characters
    assert len(rep) == 73 and "\n" not in rep
    assert len(cuda_differences(rep)) == 1  # no room for ", device='cuda:0'"
    assert cuda_differences(repr(torch.arange(100, 110))) == []


def test_reprs_inside_tuples_and_prints_are_found():
    text = "(tensor([8, 8, 5]), tensor([[1, 2],\n        [3, 4]], dtype=torch.int32))"
    assert list(tensor_reprs(text)) == [
        "tensor([8, 8, 5])",
        "tensor([[1, 2],\n        [3, 4]], dtype=torch.int32)",
    ]
    assert cuda_differences(text) == []
