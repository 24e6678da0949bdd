"""snippets.device: the device comes from TORCH_DEVICE; example data is the same everywhere."""

import pytest
import torch

from snippets import device
from snippets.device import DEVICE, _example, example_normal, resolve_device, setup


def test_default_is_cuda_when_available(monkeypatch):
    monkeypatch.delenv("TORCH_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device() == torch.device("cuda")


def test_asking_for_a_missing_gpu_is_an_error_not_a_fallback(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"TORCH_DEVICE='cuda' but torch.cuda.is_available\(\)"):
        resolve_device("cuda")


def test_unknown_device_names_the_variable():
    with pytest.raises(ValueError, match="TORCH_DEVICE='gpu0' is not a device PyTorch knows"):
        resolve_device("gpu0")


def test_device_follows_the_environment(monkeypatch):
    monkeypatch.setenv("TORCH_DEVICE", "cpu")
    assert resolve_device() == torch.device("cpu")


def test_examples_live_on_device_and_match_the_cpu_generator():
    assert _example([1, 2]).device.type == DEVICE.type
    expected = torch.randn(3, 2, generator=torch.Generator().manual_seed(7))
    assert torch.equal(example_normal(3, 2, seed=7).cpu(), expected)


def test_example_copies_a_tensor_and_converts_dtype():
    src = torch.tensor([1, 2])
    out = _example(src, dtype=torch.float64)
    src[0] = 9
    assert out.dtype == torch.float64
    assert out.cpu().tolist() == [1.0, 2.0]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"shape must be non-negative ints, got \(2, -1\)"):
        example_normal(2, -1)
    with pytest.raises(TypeError, match="seed must be an int, got float"):
        example_normal(2, seed=1.5)


def test_setup_makes_runs_deterministic():
    setup()
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cudnn.allow_tf32
    assert not torch.backends.cuda.matmul.allow_tf32
    assert (
        torch.randn(1).item() == torch.randn(1, generator=torch.Generator().manual_seed(0)).item()
    )


def test_module_exports():
    assert set(device.__all__) == {"DEVICE", "example_normal", "resolve_device", "setup"}


def test_setup_refuses_a_seed_that_is_not_an_int():
    with pytest.raises(TypeError, match="seed must be an int, got float"):
        setup(1.5)
    with pytest.raises(TypeError, match="seed must be an int, got bool"):
        setup(True)


def test_mps_without_mps_is_refused(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"TORCH_DEVICE='mps' but torch.backends.mps.is_available"):
        resolve_device("mps")


def test_mps_is_accepted_when_present(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("mps") == torch.device("mps")


def test_a_torch_device_is_accepted():
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_a_name_of_another_type_is_a_type_error():
    with pytest.raises(TypeError, match=r"name must be a str, a torch\.device or None, got int"):
        resolve_device(0)


def test_setup_shortens_tracebacks_in_ipython(monkeypatch):
    """In IPython, setup() switches to the minimal traceback: the exception type and message."""
    import types

    import IPython

    modes = []
    shell = types.SimpleNamespace(InteractiveTB=types.SimpleNamespace(set_mode=modes.append))
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    setup()
    assert modes == ["Minimal"]
    monkeypatch.setattr(IPython, "get_ipython", lambda: None)  # plain Python: nothing to set
    setup()
    assert modes == ["Minimal"]
