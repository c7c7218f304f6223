"""Shared fixtures and the test tiers.

Fixtures: a `device` parameter (cpu, and cuda when present), a fixed torch seed, the demo workflow
run once per test session, the tiny TPM-table species (`tiny`), a real paired-end .sra (`sra_pe`)
and the one-node Slurm cluster (`slurm_cluster`, tests/slurm_cluster.py).

Tiers: a test that starts Snakemake or a real bioinformatics tool (kallisto, sickle, sra-tools,
Rscript, BLAST, samtools) is marked `workflow`, one that needs the Slurm cluster `slurm`. The marks
are given here, by the fixtures a test uses: every fixture that needs those tools requests
`workflow_tools` (directly or through another fixture). A test that calls them itself carries
@pytest.mark.workflow. Tests of the session's demo run (`demo_workflow`) are also marked `demo`.
`pytest -m "not workflow and not slurm"` runs the rest, with none of the tools installed; there
run_snakemake refuses to start Snakemake (workflow_helpers.SNAKEMAKE_ALLOWED).

Workers: pyproject's addopts run the suite in two pytest-xdist workers (`-n 0`: one process).
Each module is one group, so its module fixtures run once; the tests of the demo run and of the
Slurm cluster are one group each and go first (SHARED_RUNS).
"""

from pathlib import Path

import pytest
import torch
import workflow_helpers
from slurm_cluster import slurm_cluster  # noqa: F401 (the session fixture of tests/test_slurm.py)
from training_data import trained_fold
from windows_species import windows_species
from workflow_helpers import build_sra_pe, make_tiny, run_demo_workflow

TIER_FIXTURES = {"slurm_cluster": "slurm", "workflow_tools": "workflow", "demo_workflow": "demo"}
"""fixture -> the mark of every test that uses it, directly or through other fixtures."""


SHARED_RUNS = ("demo_workflow", "slurm_cluster")
"""Session fixtures that must exist once: under pytest-xdist their tests form one group each
(one worker), scheduled first, as they are the longest."""


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the fixtures it uses (see TIER_FIXTURES) and give it its xdist group:
    the shared run it uses (SHARED_RUNS), else its module (so module fixtures run once)."""
    groups: dict[str, str] = {}
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, mark in TIER_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(mark)
        shared = [f for f in SHARED_RUNS if f in fixtures]
        if len(shared) > 1:
            raise pytest.UsageError(f"{item.nodeid} uses {shared}: one shared run per test")
        groups[item.nodeid] = shared[0] if shared else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
    first = {name: rank for rank, name in enumerate(SHARED_RUNS)}
    items.sort(key=lambda item: first.get(groups[item.nodeid], len(first)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Let only the tests of the workflow and slurm tiers start Snakemake."""
    workflow_helpers.SNAKEMAKE_ALLOWED = any(item.get_closest_marker(name) for name in ("workflow", "slurm"))


@pytest.fixture(scope="session")
def workflow_tools() -> None:
    """Requested by every fixture (or test) that starts Snakemake or a real bioinformatics tool:
    marks its tests `workflow` (pytest_collection_modifyitems)."""


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
def demo_workflow(workflow_tools: None, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo workflow, end to end with the real tools, once per session (see run_demo_workflow)."""
    run = run_demo_workflow(Path(tmp_path_factory.mktemp("demo_workflow")))
    assert run["run_b"].returncode == 0, run["run_b"].output[-6000:]
    print(f"\ndemo workflow (data + training): {run['seconds_b']:.0f} s")
    return run


@pytest.fixture
def tiny(workflow_tools: None, tmp_path: Path) -> dict:
    """A tiny species 'tiny' whose expression is a TPM table (no reads): files + a config
    (workflow_helpers.make_tiny; run Snakemake on it with workflow_helpers.run_tiny)."""
    return make_tiny(tmp_path)


@pytest.fixture
def sra_pe(workflow_tools: None, tmp_path: Path) -> Path:
    """A real paired-end .sra of workflow_helpers.SRA_PAIRS read pairs, built offline with latf-load and kar."""
    return build_sra_pe(tmp_path)


@pytest.fixture(scope="module")
def fold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A windows folder and a cnn trained 2 epochs with chr1 held out (training_data.trained_fold)."""
    return trained_fold(tmp_path_factory.mktemp("explain"))


@pytest.fixture()
def species(tmp_path: Path) -> dict:
    """The tiny species of tests/windows_species.py: build_windows' keyword arguments."""
    return windows_species(tmp_path)
