"""snippets.validate: the public checks name the argument, whatever they are given."""

import re

import pytest
import torch

from snippets.validate import (
    check_dim,
    check_index_dtype,
    check_index_values,
    check_ndim,
    check_same_device,
    check_tensor,
    shape_str,
)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: check_dim(0, [1, 2], tensor_name="input"), "input must be a torch.Tensor"),
        (lambda: check_ndim([1], 1, name="logits"), "logits must be a torch.Tensor, got list"),
        (lambda: check_index_dtype([0], op="gather"), "index must be a torch.Tensor, got list"),
        (
            lambda: check_same_device(torch.zeros(1), 3, names=("x", "scores")),
            "scores must be a torch.Tensor, got int",
        ),
        (
            lambda: check_index_values([0], 3, dim=0, name="actions"),
            "actions must be a torch.Tensor, got list",
        ),
        (lambda: check_tensor(None, "x"), "x must be a torch.Tensor, got NoneType"),
        (lambda: shape_str(5), "shape must be a sequence of ints, got int"),
    ],
)
def test_public_checks_name_a_non_tensor(call, message):
    """Issue 9: these ended in bare AttributeErrors ("'list' object has no attribute ...")."""
    with pytest.raises(TypeError, match=re.escape(message)):
        call()


def test_check_index_values_wants_int_size_and_dim():
    with pytest.raises(TypeError, match=re.escape("size must be an int, got float")):
        check_index_values(torch.tensor([0]), 3.0, dim=0)
    with pytest.raises(ValueError, match=re.escape("size must be an int >= 0, got -1")):
        check_index_values(torch.tensor([0]), -1, dim=0)
    with pytest.raises(TypeError, match=re.escape("dim must be an int, got NoneType")):
        check_index_values(torch.tensor([0]), 3, dim=None)
