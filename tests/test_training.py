"""Training: learning a planted motif, exact resume after a kill, warm-up, failed folds, GPU rules."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mtmixg.checkpoint import load_model, load_state
from mtmixg.train import train_fold
from mtmixg.predict import predict
from mtmixg.core.train_config import TrainConfig
from mtmixg.fit import GPUUnavailableError, TrainingInterrupted, resolve_device
from training_data import make_windows, tiny_model

FAST = dict(batch_size=32, lr=1e-3, threads=1, warmup_epochs=2, warmup_steps=0, patience=2, lr_patience=1, max_restarts=0)


@pytest.fixture(scope="module")
def windows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data") / "windows"
    make_windows(folder, n_per_chrom=300)
    return folder


def test_train_config_dict_round_trip_and_unknown_key():
    cfg = TrainConfig(epochs=3, warmup_epochs=1)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown train key.*bogus"):
        TrainConfig.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="lr_factor"):
        TrainConfig(lr_factor=2.0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a visible GPU")
def test_require_gpu_without_gpu_raises():
    with pytest.raises(GPUUnavailableError, match="CUDA_VISIBLE_DEVICES.*require_gpu"):
        resolve_device(TrainConfig(require_gpu=True))
    with pytest.raises(GPUUnavailableError):
        resolve_device(TrainConfig(device="cuda"))
    assert resolve_device(TrainConfig()).type == "cpu"


def test_learns_planted_motif(windows, tmp_path):
    """A tiny CNN finds the motif: held-out-chromosome AUC >= 0.9; outputs are complete."""
    out, state = tmp_path / "out", tmp_path / "resume" / "state.pt"
    lines = []
    t0 = time.perf_counter()
    m = train_fold(windows, "chr1", "binary", tiny_model(), TrainConfig(epochs=40, **{**FAST, "warmup_epochs": 8, "patience": 6, "lr_patience": 3}),
                   seed=0, out_dir=out, resume_path=state, log=lines.append)
    seconds = time.perf_counter() - t0
    print(f"learning test: test AUC {m['auc']:.3f} in {seconds:.1f} s, {m['epochs_run']} epochs")
    assert m["auc"] >= 0.9, m["history"]
    assert m["failed"] is False and m["chance_level"] is False
    assert not state.exists()  # deleted after success
    assert {p.name for p in out.iterdir()} == {"model.pt", "model.json", "metrics.json", "predictions.tsv"}
    disk = json.loads((out / "metrics.json").read_text())
    for key in ("accuracy", "auc", "f1", "val", "mtmixg_version", "device", "epochs_run", "best_epoch",
                "wall_seconds", "seq_per_s", "n_train", "n_val", "n_test", "failed"):
        assert key in disk, key
    assert disk["n_test"] == 200 and disk["device"] == "cpu"
    assert any(line.startswith("epoch 1/40 loss") and "val_auc" in line and "seq/s" in line for line in lines)
    # the saved model reproduces the test predictions
    table = pd.read_csv(out / "predictions.tsv", sep="\t", dtype={"gene_id": str})
    test = table[table["set"] == "test"]
    assert (test["chrom"] == "chr1").all() and (table[table["set"] == "val"]["chrom"] != "chr1").all()
    model, meta = load_model(out / "model.pt")
    assert meta["fold"] == "chr1" and meta["train"]["epochs"] == 40
    from mtmixg.data.dataset import load_windows

    gw = load_windows(windows)
    rows = gw.genes.reset_index().set_index("gene_id").loc[test["gene_id"], "index"].to_numpy()
    prob = predict(model, gw.codes, "binary", index=rows)
    np.testing.assert_allclose(prob, test["prob"].to_numpy(), rtol=1e-5, atol=1e-6)


def _weights(path):
    return torch.load(path, weights_only=True)["state_dict"]


def _same_run(a_dir, b_dir):
    wa, wb = _weights(a_dir / "model.pt"), _weights(b_dir / "model.pt")
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a_dir, b_dir))
    for key in ("accuracy", "auc", "f1", "val", "test", "best_epoch", "epochs_run", "stopped_early"):
        assert ma[key] == mb[key], key
    strip = lambda h: [{k: v for k, v in r.items() if k not in ("seconds", "seq_per_s")} for r in h]
    assert strip(ma["history"]) == strip(mb["history"])
    assert (a_dir / "predictions.tsv").read_text() == (b_dir / "predictions.tsv").read_text()


KILL_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from mtmixg.train import train_fold
    windows, out, state, model, train, kill_at = sys.argv[1:7]
    def hold(record):
        if record["epoch"] == int(kill_at):
            Path(state + ".reached").write_text("x")
            time.sleep(600)  # the test kills us here
    train_fold(windows, "chr2", "binary", json.loads(model), json.loads(train), 7, out, state, on_epoch_end=hold)
""")


def test_resume_after_sigkill_is_exact(windows, tmp_path):
    """Straight run == run SIGKILLed after epoch 3 and started again (weights, metrics, history)."""
    cfg = TrainConfig(epochs=7, **FAST)
    model = tiny_model()
    straight = tmp_path / "straight"
    train_fold(windows, "chr2", "binary", model, cfg, 7, straight, tmp_path / "s0.pt", log=None)

    state = tmp_path / "resume" / "state.pt"
    resumed = tmp_path / "resumed"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(windows), str(resumed), str(state),
                             json.dumps(model.to_dict()), json.dumps(cfg.to_dict()), "3"],
                            stderr=subprocess.PIPE, text=True)
    marker = Path(str(state) + ".reached")
    deadline = time.time() + 120
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    assert marker.exists(), proc.stderr.read() if proc.poll() is not None else "timeout"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not resumed.exists() or not (resumed / "model.pt").exists()
    assert load_state(state)["counters"]["epoch"] == 3

    lines = []
    m = train_fold(windows, "chr2", "binary", model, cfg, 7, resumed, state, log=lines.append)
    assert any("resuming" in line and "after epoch 3" in line for line in lines)
    assert m["resumed_from_epoch"] == 3
    assert not state.exists()
    _same_run(straight, resumed)


def test_stop_hook_resume_ternary_and_mismatch_refused(windows, tmp_path):
    """stop_after_epochs + resume is exact for the ternary task; a resume file of another run is refused."""
    cfg = TrainConfig(epochs=4, **FAST)
    model = tiny_model()
    straight, resumed, state = tmp_path / "a", tmp_path / "b", tmp_path / "state.pt"
    m = train_fold(windows, "chr3", "ternary", model, cfg, 1, straight, None, log=None)
    assert 0.0 <= m["auc"] <= 1.0 and m["test"]["n"] == 300
    with pytest.raises(TrainingInterrupted):
        train_fold(windows, "chr3", "ternary", model, cfg, 1, resumed, state, log=None, stop_after_epochs=2)
    assert state.exists() and not resumed.exists()
    other = TrainConfig(epochs=4, **{**FAST, "lr": 5e-4})
    with pytest.raises(ValueError, match=r"state.pt: resume state belongs to a different run \(differs in: train.lr\)"):
        train_fold(windows, "chr3", "ternary", model, other, 1, resumed, state, log=None)
    with pytest.raises(ValueError, match=r"differs in: data, seed\)"):
        train_fold(windows, "chr3", "ternary", model, cfg, 2, resumed, state, log=None)
    # execution settings (device, threads, require_gpu) may change between the two halves (exact only
    # for the same device and thread count)
    train_fold(windows, "chr3", "ternary", model, TrainConfig(epochs=4, device="cpu", **FAST), 1, resumed, state, log=None)
    cols = pd.read_csv(resumed / "predictions.tsv", sep="\t").columns
    assert {"prob_low", "prob_medium", "prob_high", "predicted"} <= set(cols)
    _same_run(straight, resumed)


def test_warmup_delays_early_stopping(windows, tmp_path):
    """With a constant validation loss (zero lr), stopping happens exactly patience epochs after warm-up."""
    cfg = TrainConfig(epochs=20, batch_size=64, lr=1e-12, threads=1, warmup_epochs=4, warmup_steps=0, patience=2,
                      lr_patience=1, min_delta=1e-3, max_restarts=0)
    m = train_fold(windows, "chr1", "binary", tiny_model(dropout=0.0), cfg, 0, tmp_path / "o", None, log=None)
    assert m["stopped_early"] and m["epochs_run"] == 4 + 2
    lrs = [r["lr"] for r in m["history"]]
    assert lrs[:5] == [1e-12] * 5 and lrs[5] == pytest.approx(1e-13)


def test_fold_stuck_at_chance_restarts_then_is_flagged_failed(tmp_path):
    """Windows that carry no information (all N): each attempt stays at the ln 2 plateau, the run
    restarts with seeds that no configured seed can reach, records every attempt, and is reported
    failed; a run interrupted in its second attempt resumes there and ends as the straight run."""
    from mtmixg.data.dataset import save_windows
    from mtmixg.fit import ATTEMPT_SEED_STEP

    gw = make_windows(tmp_path / "w0", n_per_chrom=60)
    gw.codes[:] = 4
    save_windows(tmp_path / "w", gw)
    cfg = TrainConfig(epochs=2, **{**FAST, "max_restarts": 2})
    lines = []
    m = train_fold(tmp_path / "w", "chr1", "binary", tiny_model(), cfg, 3, tmp_path / "o", None, log=lines.append)
    assert m["failed"] is True and m["chance_level"] is True and "chance" in m["failure_reason"]
    assert "within 0.01 of the chance loss 0.6931" in m["failure_reason"]
    assert [a["seed"] for a in m["attempts"]] == [3, 3 + ATTEMPT_SEED_STEP, 3 + 2 * ATTEMPT_SEED_STEP]
    assert m["n_attempts"] == 3 and m["restarted"] is True and m["trained_seed"] == 3 + 2 * ATTEMPT_SEED_STEP
    assert sum("re-initialising with seed" in line for line in lines) == 2
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["failed"] is True

    state = tmp_path / "state.pt"
    with pytest.raises(TrainingInterrupted):  # epoch 1 of attempt 2
        train_fold(tmp_path / "w", "chr1", "binary", tiny_model(), cfg, 3, tmp_path / "r", state, log=None,
                   stop_after_epochs=3)
    assert load_state(state)["attempt"]["index"] == 1
    lines = []
    r = train_fold(tmp_path / "w", "chr1", "binary", tiny_model(), cfg, 3, tmp_path / "r", state, log=lines.append)
    assert any("after epoch 1 (attempt 2)" in line for line in lines)
    val_losses = lambda run: [[h["val_loss"] for h in a["history"]] for a in run["attempts"]]
    assert val_losses(r) == val_losses(m)
    _same_run(tmp_path / "o", tmp_path / "r")


def test_warmup_covers_warmup_steps(windows, tmp_path):
    """The warm-up lasts max(warmup_epochs, ceil(warmup_steps / steps per epoch)) epochs."""
    from mtmixg.fit import warmup_length

    assert warmup_length(TrainConfig(batch_size=64, warmup_epochs=6, warmup_steps=1200), 1000) == 75
    assert warmup_length(TrainConfig(batch_size=64, warmup_epochs=6, warmup_steps=1200), 14000 * 64) == 6
    cfg = TrainConfig(epochs=20, **{**FAST, "lr": 1e-12, "warmup_epochs": 1, "warmup_steps": 30, "min_delta": 1e-3})
    m = train_fold(windows, "chr1", "binary", tiny_model(dropout=0.0), cfg, 0, tmp_path / "o", None, log=None)
    steps = -(-m["n_train"] // 32)
    assert m["warmup_epochs"] == -(-30 // steps) and m["epochs_run"] == m["warmup_epochs"] + 2


def test_no_test_fold_trains_on_all_chromosomes(windows, tmp_path):
    m = train_fold(windows, None, "binary", tiny_model(), TrainConfig(epochs=1, **FAST), 0, tmp_path / "o", None, log=None)
    assert m["n_test"] == 0 and m["auc"] is None and m["fold"] is None
    table = pd.read_csv(tmp_path / "o" / "predictions.tsv", sep="\t")
    assert set(table["set"]) == {"val"} and set(table["chrom"]) == {"chr1", "chr2", "chr3"}


def test_homology_filter_tests_only_eligible_genes(windows, tmp_path):
    genes = pd.read_csv(windows / "genes.tsv", sep="\t", dtype={"gene_id": str})
    on_fold = genes[genes["fold"] == "chr2"]["gene_id"]
    excluded = set(on_fold.iloc[::2])  # every other gene of chr2 has a "homolog" elsewhere
    table = genes[["gene_id", "chrom"]].assign(test_eligible=~genes["gene_id"].isin(excluded))
    table = table[table["gene_id"] != on_fold.iloc[1]]  # a gene missing from the table: not eligible
    (tmp_path / "test_genes.tsv").write_text(table.to_csv(sep="\t", index=False))
    metrics = train_fold(windows, "chr2", "binary", tiny_model(), TrainConfig(epochs=1, **FAST), 0, tmp_path / "out",
                         log=None, test_genes=tmp_path / "test_genes.tsv")
    tested = pd.read_csv(tmp_path / "out/predictions.tsv", sep="\t", dtype={"gene_id": str})
    tested = set(tested.loc[tested["set"] == "test", "gene_id"])
    assert tested and not tested & (excluded | {on_fold.iloc[1]})
    assert metrics["homology_filter"] is True and metrics["n_test"] == len(tested)


def test_diverged_training_stops_with_a_message(tmp_path):
    make_windows(tmp_path / "w", n_per_chrom=60)
    cfg = TrainConfig(epochs=2, lr=1e30, batch_size=32, threads=1, warmup_epochs=0)
    with pytest.raises(ValueError, match=r"fold chr1, epoch 1: validation loss is nan: training diverged.*lower"):
        train_fold(tmp_path / "w", "chr1", "binary", tiny_model(), cfg, 0, tmp_path / "out", log=None)
    assert not (tmp_path / "out" / "model.pt").exists()


def test_require_gpu_on_cpu_device_is_refused():
    with pytest.raises(ValueError, match="require_gpu.*device is 'cpu'"):
        TrainConfig(require_gpu=True, device="cpu")
