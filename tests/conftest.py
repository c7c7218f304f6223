"""Shared fixtures: a `device` parameter (cpu, and cuda when present), a fixed torch seed, and the
demo workflow run once per test session (used by the data-half and training-half tests)."""

from pathlib import Path

import pytest
import torch
from slurm_cluster import slurm_cluster  # noqa: F401 (the session fixture of tests/test_slurm.py)
from workflow_helpers import run_demo_workflow


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request: pytest.FixtureRequest) -> torch.device:
    if request.param == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def seed() -> int:
    torch.manual_seed(0)
    return 0


@pytest.fixture(scope="session")
def demo_workflow(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo workflow, end to end with the real tools, once per session (see run_demo_workflow)."""
    run = run_demo_workflow(Path(tmp_path_factory.mktemp("demo_workflow")))
    assert run["run_b"].returncode == 0, run["run_b"].output[-6000:]
    print(f"\ndemo workflow (data + training): {run['seconds_b']:.0f} s")
    return run
