"""Shared fixtures: a `device` parameter (cpu, and cuda when present) and a fixed torch seed."""

import pytest
import torch


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request: pytest.FixtureRequest) -> torch.device:
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def seed() -> int:
    torch.manual_seed(0)
    return 0
