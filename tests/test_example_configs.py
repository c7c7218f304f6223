"""The development-set example configs: the paper schedule alone, and the CPU schedule layered over
it as a second --configfile (README, "Real A. thaliana development set"). Snakemake merges the
files key by key (snakemake.utils.update_config), and the train rule's param is
experiments.experiment_param of the merged config."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import yaml
from snakemake.utils import update_config

from mtmixg.core import experiments

EXAMPLES = Path(__file__).resolve().parents[1] / "config" / "examples"


def _load(name: str) -> dict:
    return yaml.safe_load((EXAMPLES / name).read_text())


def _train(config: dict, arch: str) -> dict:
    return json.loads(experiments.experiment_param(arch, config))["train"]


def test_cpu_schedule_overrides_the_schedule_only() -> None:
    paper = _load("arabidopsis_chr1.yaml")
    overlay = _load("cpu_schedule.yaml")
    assert set(overlay) == {"training"}, "the CPU schedule changes the training schedule only"
    cpu = copy.deepcopy(paper)
    update_config(cpu, overlay)
    for arch in paper["architectures"]:
        before, after = _train(paper, arch), _train(cpu, arch)
        assert before["lr"] == 1e-4 and before["epochs"] == 100 and before["patience"] == 10
        assert {k: after[k] for k in overlay["training"]} == overlay["training"]
        unchanged = set(before) - set(overlay["training"])
        assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
        model = json.loads(experiments.experiment_param(arch, cpu))["model"]
        assert model == json.loads(experiments.experiment_param(arch, paper))["model"]
