"""Shared test settings: hypothesis profiles, and the device every test runs on.

Tests make their data on the CPU and move it to ``snippets.device.DEVICE`` (from
``TORCH_DEVICE``), so the same tests check the helpers on CUDA when `make test` runs them there.

Hypothesis profiles (``HYPOTHESIS_PROFILE``): ``default`` is derandomised, so CI runs are
reproducible; ``thorough`` explores 20x more random examples for a local bug hunt.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    max_examples=100,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough", parent=settings.get_profile("default"), max_examples=2000, derandomize=False
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
