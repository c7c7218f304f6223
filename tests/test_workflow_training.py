"""The training half of the workflow on the demo species, end to end (run once per module):
every fold model, the summary tables, held-out accuracy well above chance, figures, the report,
the rerun plan of one forced fold, a killed training job that resumes, the cross-species plan."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from workflow_helpers import DEMO_CONFIG, demo_config, job_counts, run_snakemake, snakemake_command, write_config

pytestmark = pytest.mark.workflow

CONFIG = yaml.safe_load(DEMO_CONFIG.read_text())
ARCHITECTURES = CONFIG["architectures"]
SEEDS = CONFIG["seeds"]
FOLDS = [str(c) for c in CONFIG["species"]["demo"]["chromosomes"]]
# Measured on the demo (2 CPU cores, torch 2.13 CPU, 12 epochs): cnn 0.924, mtmixg 0.909 mean held-out
# accuracy over 3 folds x 2 seeds; chance is 0.5 (balanced low/high).
MIN_FULL_MODEL_ACCURACY = 0.85
MIN_FULL_MODEL_AUC = 0.90


def model_dir(experiment: str, seed: int, fold: str) -> str:
    return f"results/demo/models/{experiment}/seed{seed}/{fold}"


@pytest.fixture(scope="module")
def demo(demo_workflow: dict) -> Path:
    """The working folder of the session's demo run (tests/conftest.py): data + training."""
    return demo_workflow["dir"]


def test_every_fold_model_exists(demo: Path) -> None:
    for arch in ARCHITECTURES:
        for seed in SEEDS:
            for fold in FOLDS:
                folder = demo / model_dir(arch, seed, fold)
                for name in ("model.pt", "model.json", "metrics.json", "predictions.tsv"):
                    assert (folder / name).is_file(), folder / name
                metrics = json.loads((folder / "metrics.json").read_text())
                assert (metrics["arch"], metrics["seed"], metrics["fold"]) == (arch, seed, fold)
                assert metrics["mtmixg_version"] and metrics["device"] == "cpu"
                assert metrics["epochs_run"] >= 1 and metrics["wall_seconds"] > 0 and metrics["seq_per_s"] > 0
                assert (demo / f"benchmarks/demo/train/{arch}/seed{seed}/{fold}.tsv").is_file()
                # resume states are removed once a fold has finished
                assert not (demo / f"results/demo/resume/{arch}/seed{seed}/{fold}/state.pt").exists()


def test_test_set_is_the_fold_chromosome(demo: Path) -> None:
    preds = pd.read_csv(demo / model_dir("mtmixg", 0, "2") / "predictions.tsv", sep="\t", dtype={"chrom": str})
    assert set(preds.loc[preds["set"] == "test", "chrom"]) == {"2"}
    assert "2" not in set(preds.loc[preds["set"] == "val", "chrom"])
    assert set(preds["label"]) == {-1, 1}  # binary task: medium genes dropped


def test_summary_tables(demo: Path) -> None:
    summary = pd.read_csv(demo / "results/demo/summary.tsv", sep="\t")
    assert list(summary["experiment"]) == ARCHITECTURES
    assert (summary["n_runs"] == len(SEEDS) * len(FOLDS)).all()
    for metric in ("accuracy", "auc", "f1"):
        assert summary[f"{metric}_mean"].between(0, 1).all() and (summary[f"{metric}_sd"] >= 0).all()
    folds = pd.read_csv(demo / "results/demo/summary_folds.tsv", sep="\t", dtype={"fold": str})
    assert len(folds) == len(ARCHITECTURES) * len(SEEDS) * len(FOLDS)
    # the per-experiment means are the means of the runs that did not fail
    ok = folds[~folds["failed"]]
    means = ok.groupby("experiment")["accuracy"].mean()
    for row in summary.itertuples():
        assert row.accuracy_mean == pytest.approx(means[row.experiment], abs=1e-5)
        assert row.n_failed == int(folds.loc[folds["experiment"] == row.experiment, "failed"].sum())


def test_full_model_beats_chance_on_held_out_chromosomes(demo: Path) -> None:
    summary = pd.read_csv(demo / "results/demo/summary.tsv", sep="\t").set_index("experiment")
    print(summary[["n_runs", "n_failed", "accuracy_mean", "auc_mean", "f1_mean"]].to_string())
    full = summary.loc["mtmixg"]
    assert full.n_failed < full.n_runs
    assert full.accuracy_mean >= MIN_FULL_MODEL_ACCURACY
    assert full.auc_mean >= MIN_FULL_MODEL_AUC


def test_figures_and_report(demo: Path) -> None:
    for name in ("roc", "confusion", "fold_accuracy", "ablation"):
        png = demo / f"results/demo/plots/{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000, png
        assert (demo / f"results/demo/plots/{name}.svg").stat().st_size > 5000
    done = run_snakemake(demo, "--report", "report.html", configfile=DEMO_CONFIG, timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    html = (demo / "report.html").read_text()
    for needle in ("summary.tsv", "summary_folds.tsv", "ablation.png", "roc.png", "Held-out performance"):
        assert needle in html, needle


def test_forcing_one_fold_plans_exactly_that_job(demo: Path) -> None:
    target = f"{model_dir('mtmixg', 1, '3')}/model.pt"
    done = run_snakemake(demo, "-n", "-f", target, configfile=DEMO_CONFIG, timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    assert job_counts(done.output) == {"train": 1}
    assert "wildcards: species=demo, experiment=mtmixg, seed=1, fold=3" in done.output
    # with the outputs in place nothing is planned
    done = run_snakemake(demo, "-n", configfile=DEMO_CONFIG, timeout=300)
    assert done.returncode == 0 and "Nothing to be done" in done.output, done.output[-4000:]


def test_cross_species_plan(demo: Path, tmp_path: Path) -> None:
    """Two species (the demo genome twice; the second from the first's TPM table): the plan holds
    the all-chromosome models, the cross predictions and one matrix and heatmap per experiment."""
    config = dict(CONFIG)
    config["species"] = {
        "demo": CONFIG["species"]["demo"],
        "demo2": {**CONFIG["species"]["demo"], "tpm_table": "results/demo/expression/tpm.tsv"},
    }
    config["samples"] = str(DEMO_CONFIG.parent / "samples.tsv")
    config["cross_species"] = {"species": ["demo", "demo2"], "experiments": ["mtmixg"]}
    configfile = write_config(tmp_path / "cross.yaml", config)
    done = run_snakemake(demo, "-n", configfile=configfile, timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    counts = job_counts(done.output)
    n_seeds = len(SEEDS)
    assert counts["cross_species_predict"] == 2 * n_seeds  # demo -> demo2 and demo2 -> demo
    assert counts["cross_species_matrix"] == 1 and counts["cross_species_heatmap"] == 1
    # demo2: every fold of both architectures, plus the all-chromosome mtmixg models of both species
    assert counts["train"] == len(ARCHITECTURES) * n_seeds * len(FOLDS) + 2 * n_seeds
    assert "results/demo/models/mtmixg/seed0/all/model.pt" in done.output
    assert "results/cross_species/mtmixg/heatmap.png" in done.output
    bad = dict(config, cross_species={"species": ["demo", "nope"], "experiments": ["mtmixg"]})
    done = run_snakemake(demo, "-n", configfile=write_config(tmp_path / "bad.yaml", bad), timeout=300)
    assert done.returncode != 0 and "cross_species.species': 'nope'" in done.output


def test_cross_species_runs_end_to_end(demo: Path, tmp_path: Path) -> None:
    """Cross-species for real, in a copy of the demo folder: a second species 'demo2' (the demo
    genome with the demo's TPM table as its expression), cnn with seed 0; the matrix holds both
    directions off the diagonal and each species' own leave-one-chromosome-out score on it."""
    work = tmp_path / "work"
    shutil.copytree(demo, work, symlinks=True)
    config = dict(CONFIG, seeds=[0], architectures=["cnn"])
    config["species"] = {
        "demo": CONFIG["species"]["demo"],
        "demo2": {**CONFIG["species"]["demo"], "tpm_table": "results/demo/expression/tpm.tsv"},
    }
    config["samples"] = str(DEMO_CONFIG.parent / "samples.tsv")
    config["cross_species"] = {"species": ["demo", "demo2"], "experiments": ["cnn"]}
    configfile = write_config(tmp_path / "cross.yaml", config)
    targets = ["results/cross_species/cnn/matrix.tsv", "results/cross_species/cnn/heatmap.png"]
    done = run_snakemake(work, *targets, configfile=configfile, timeout=900)
    assert done.returncode == 0, done.output[-6000:]
    counts = job_counts(done.output)
    assert counts["cross_species_predict"] == 2 and counts["train"] == len(FOLDS) + 2  # demo2's folds + 2 "all"
    matrix = pd.read_csv(work / targets[0], sep="\t")
    assert len(matrix) == 4 and set(matrix["train_species"]) == {"demo", "demo2"}
    # the same genome and labels: a model of one species scores the other far above chance
    off_diagonal = matrix[matrix["train_species"] != matrix["test_species"]]
    assert (off_diagonal["accuracy"] > 0.8).all(), matrix
    assert (work / targets[1]).read_bytes()[:4] == b"\x89PNG"


def test_sweep_entries_are_planned_like_architectures_and_key_order_is_irrelevant(demo: Path, tmp_path: Path) -> None:
    sweep = [{"name": "k16", "model": {"kernel_size": 16}}, {"name": "cnn_lr_low", "arch": "cnn", "training": {"lr": 1e-4}}]
    config = demo_config(samples=str(DEMO_CONFIG.parent / "samples.tsv"), sweep=sweep)
    done = run_snakemake(demo, "-n", configfile=write_config(tmp_path / "sweep.yaml", config), timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    counts = job_counts(done.output)
    assert counts["train"] == len(sweep) * len(SEEDS) * len(FOLDS)  # the architectures' folds stay
    assert counts["plot_sweep"] == 1 and counts["summary"] == 1
    assert "results/demo/models/k16/seed0/1/model.pt" in done.output
    # the same settings written in another key order: nothing to rerun
    config = demo_config(samples=str(DEMO_CONFIG.parent / "samples.tsv"))
    config["model"] = dict(reversed(list(config["model"].items())))
    config["training"] = dict(reversed(list(config["training"].items())))
    done = run_snakemake(demo, "-n", configfile=write_config(tmp_path / "reordered.yaml", config), timeout=300)
    assert done.returncode == 0 and "Nothing to be done" in done.output, done.output[-4000:]


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the failure without a GPU")
def test_gpu_required_without_gpu_fails_fast(demo: Path, tmp_path: Path) -> None:
    config = demo_config(samples=str(DEMO_CONFIG.parent / "samples.tsv"), gpu={"use": True, "per_job": 1})
    target = "results/demo/models/cnn/seed7/1/model.pt"  # a seed of its own: the demo's models stay
    done = run_snakemake(demo, target, configfile=write_config(tmp_path / "gpu.yaml", config), timeout=300)
    assert done.returncode != 0
    assert "gpu=1" in done.output  # the job asked for a GPU
    log = (demo / "logs/demo/train/cnn/seed7/1.log").read_text()
    assert "ERROR: a GPU is required" in log and "CUDA_VISIBLE_DEVICES" in log, log
    assert "train," not in log  # failed before reading the data
    assert not (demo / target).exists()


@pytest.fixture
def demo_copy(demo: Path, tmp_path: Path) -> Path:
    """A copy of the demo folder, for a test that reruns a job: a newer model in the shared folder
    would leave its downstream files out of date for the tests after it."""
    work = tmp_path / "demo"
    shutil.copytree(demo, work, symlinks=True)
    return work


def test_killed_training_job_resumes(demo_copy: Path) -> None:
    """SIGKILL Snakemake and its training job once the resume state holds an epoch; the rerun
    continues from that epoch and ends with the model of the uninterrupted run."""
    demo = demo_copy
    folder = model_dir("cnn", 0, "2")
    target = f"{folder}/model.pt"
    state = demo / "results/demo/resume/cnn/seed0/2/state.pt"
    before = pd.read_csv(demo / folder / "predictions.tsv", sep="\t")
    cmd = snakemake_command(demo, "-f", target, configfile=DEMO_CONFIG, timeout=600)
    proc = subprocess.Popen(cmd, cwd=demo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    epoch = 0
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if state.is_file():
                try:
                    epoch = int(torch.load(state, weights_only=True)["counters"]["epoch"])
                except Exception:  # noqa: BLE001 (being replaced right now)
                    epoch = 0
                if epoch >= 1:
                    break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert epoch >= 1, "the training job finished or failed before writing a resume state"
    assert state.is_file() and not (demo / target).exists()
    time.sleep(1)
    assert run_snakemake(demo, "--unlock", configfile=DEMO_CONFIG, timeout=120).returncode == 0
    done = run_snakemake(demo, target, configfile=DEMO_CONFIG, timeout=600)
    assert done.returncode == 0, done.output[-4000:]
    assert job_counts(done.output) == {"train": 1}
    log = (demo / "logs/demo/train/cnn/seed0/2.log").read_text()
    resumed = re.search(r"resuming from \S+state\.pt after epoch (\d+)", log)
    assert resumed, log[-3000:]
    k = int(resumed[1])
    assert k >= epoch
    assert f"epoch {k + 1}/" in log and f"epoch {k}/" not in log
    metrics = json.loads((demo / folder / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] == k
    assert not state.exists()
    after = pd.read_csv(demo / folder / "predictions.tsv", sep="\t")
    assert list(after["gene_id"]) == list(before["gene_id"])
    np.testing.assert_allclose(after["prob"], before["prob"], atol=1e-5)
