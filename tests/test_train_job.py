"""mtmixg.train.train_job: the workflow's training job (experiment from the config, device, outputs)."""

from __future__ import annotations

import json

import pytest
import torch

from mtmixg.core.experiments import experiment_param
from mtmixg.train import train_job
from training_data import SPEC, make_windows


def job_config(use_gpu) -> dict:
    return {
        "task": "binary",
        "architectures": ["cnn"],
        "model": {"channels": 8, "cnn_channels": 8, "cnn_blocks": 2, "pools": [4, 4], "fc_hidden": [16]},
        "training": {"epochs": 1, "batch_size": 32, "warmup_epochs": 0, "warmup_steps": 0, "patience": 1,
                     "lr_patience": 1, "max_restarts": 0, "resources": {"threads": 1}},
        "gpu": {"use": use_gpu, "per_job": 1},
        "window": SPEC.to_dict(),
    }


def job(tmp_path, config: dict, fold: str, seed: str, lines: list) -> dict:
    """train_job as rule train calls it: the experiment resolved from config, every path given."""
    w, o = tmp_path / "windows", tmp_path / "out"
    return train_job(experiment_param("cnn", config),
                     {"windows": w / "windows.npy", "genes": w / "genes.tsv", "spec": w / "window.json"},
                     {"model": o / "model.pt", "meta": o / "model.json", "metrics": o / "metrics.json",
                      "predictions": o / "predictions.tsv"},
                     fold, seed, config["gpu"], 1, tmp_path / "resume" / "state.pt", log=lines.append)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a visible GPU")
def test_required_gpu_absent_exits_with_the_reason_before_reading_data(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # claim_gpu leaves the choice as it is
    lines = []
    with pytest.raises(SystemExit) as exit_info:
        job(tmp_path, job_config(True), "chr1", "0", lines)  # no windows folder
    message = str(exit_info.value.code)
    assert message.startswith("ERROR: a GPU is required") and "require_gpu: false" in message
    assert not (tmp_path / "out").exists()  # nothing trained, no windows read (the folder does not exist)


def test_cpu_job_trains_every_chromosome_for_fold_all(tmp_path):
    make_windows(tmp_path / "windows", n_per_chrom=60)
    lines = []
    metrics = job(tmp_path, job_config(False), "all", "3", lines)
    assert metrics["fold"] is None and metrics["seed"] == 3 and metrics["device"] == "cpu"
    assert metrics["train_config"]["threads"] == 1 and metrics["train_config"]["device"] == "cpu"
    assert "device cpu, 1 thread(s)" in lines
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["n_test"] == 0
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"model.pt", "model.json", "metrics.json",
                                                             "predictions.tsv"}
    assert not (tmp_path / "resume" / "state.pt").exists()  # deleted after success
