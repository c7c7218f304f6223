"""The warm-up ends when learning starts (validation loss below the chance loss minus warmup_margin,
at the latest after its most epochs), and the best epoch and early stopping use the median validation
loss of the last select_window epochs (mtmixg.fit). Real training loop on synthetic windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import yaml
from mtmixg.checkpoint import load_state, save_state
from mtmixg.cli import main
from mtmixg.tasks import loss
from mtmixg.core.train_config import TrainConfig
from mtmixg.train import train_fold
from mtmixg.fit import EarlyStopping, TrainingInterrupted, chance_loss
from training_data import make_windows, tiny_model

# lr 5e-4 learns the planted motif (4 copies) after 2-3 epochs near the plateau; warmup_steps 10**5:
# the most warm-up epochs (thousands) is never reached, so only the loss rule can end the warm-up.
LEARN = {"batch_size": 32, "lr": 5e-4, "threads": 1, "warmup_epochs": 1, "warmup_steps": 10**5,
         "patience": 2, "lr_patience": 1, "max_restarts": 0}


@pytest.fixture(scope="module")
def windows(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data") / "windows"
    make_windows(folder, n_per_chrom=300, copies=4)
    return folder


def _chance(metrics: dict, windows) -> float:
    """The chance loss of the run's validation genes, from its predictions.tsv."""
    import pandas as pd

    table = pd.read_csv(metrics["out"] / "predictions.tsv", sep="\t")
    return chance_loss(table.loc[table["set"] == "val", "target"].to_numpy(), metrics["task"])


def _train(windows, tmp_path, name: str, lines: list | None = None, **train) -> dict:
    out = tmp_path / name
    m = train_fold(windows, "chr1", "binary", tiny_model(dropout=0.0), TrainConfig(**train), 0, out, None,
                   log=None if lines is None else lines.append)
    return {**m, "out": out}


def test_warmup_ends_at_first_epoch_below_chance_minus_margin(windows, tmp_path):
    """The warm-up ends at the first epoch whose validation loss is below chance - warmup_margin; the
    history marks its epochs, metrics.json records the epoch, the log says why."""
    lines: list[str] = []
    m = _train(windows, tmp_path, "o", lines, epochs=12, **LEARN)
    threshold = _chance(m, windows) - TrainConfig().warmup_margin
    losses = [r["val_loss"] for r in m["history"]]
    first = next(e for e, v in enumerate(losses, 1) if v < threshold)
    assert 1 < first < len(losses), losses  # it sat on the plateau at first, then learned
    assert m["warmup_epochs"] == first
    assert [r["warmup"] for r in m["history"]] == [e <= first for e in range(1, len(losses) + 1)]
    assert any(f"warm-up ended after epoch {first} (validation loss below chance - warmup_margin)" in line
               for line in lines)


def test_warmup_ends_at_its_most_epochs_when_the_loss_stays_at_chance(windows, tmp_path):
    """A run that never leaves the plateau (lr 1e-12) ends its warm-up at
    max(warmup_epochs, ceil(warmup_steps / steps per epoch)); the counters start only then."""
    lines: list[str] = []
    m = _train(windows, tmp_path, "o", lines, epochs=20, batch_size=64, lr=1e-12, threads=1, warmup_epochs=1,
               warmup_steps=20, patience=2, lr_patience=1, min_delta=1e-3, max_restarts=0)
    most = math.ceil(20 / math.ceil(m["n_train"] / 64))
    assert most > 1 and m["warmup_epochs"] == most and m["epochs_run"] == most + 2 and m["stopped_early"]
    assert [r["warmup"] for r in m["history"]] == [True] * most + [False] * 2
    assert any(f"warm-up ended after epoch {most} (its most epochs)" in line for line in lines)
    assert m["failed"]  # still at chance at the end: a failure, as before


def test_counters_do_not_start_before_the_warmup_ends(windows, tmp_path):
    """Epochs without a gain inside the warm-up neither decay the LR nor stop the run (unit level, an
    exact sequence), and in the real loop every warm-up epoch runs at the configured lr."""
    s = EarlyStopping(patience=2, lr_patience=1, lr_factor=0.1, warmup=100, lr=1.0, leave_below=0.65)
    for epoch, val_loss in enumerate([0.69, 0.68, 0.70, 0.71, 0.72, 0.69], 1):  # no gain after epoch 2
        s.update(epoch, val_loss)
        assert (s.lr, s.stopped, s.warmup_end) == (1.0, False, None)
    s.update(7, 0.60)  # learning starts: the warm-up ends here
    assert s.warmup_end == 7 and s.lr == 1.0
    s.update(8, 0.62)
    assert s.lr == pytest.approx(0.1) and not s.stopped
    s.update(9, 0.63)
    assert s.stopped and s.best_epoch == 7

    m = _train(windows, tmp_path, "o", epochs=12, **{**LEARN, "patience": 1})
    end = m["warmup_epochs"]
    assert all(r["lr"] == LEARN["lr"] for r in m["history"][: end + 1])
    assert m["epochs_run"] > end


def test_best_epoch_is_robust_against_one_outlier_epoch(windows, tmp_path):
    """One lucky epoch (validation loss far below its neighbours) is not taken as the best epoch and
    does not stop the run; in the real loop the best epoch is the minimum of the 3-epoch median and its
    weights are the ones restored."""
    s = EarlyStopping(patience=3, lr_patience=10, lr_factor=0.1, warmup=0, lr=1.0, window=3)
    for epoch, val_loss in enumerate([0.60, 0.55, 0.30, 0.56, 0.50, 0.48, 0.47, 0.49, 0.50, 0.51], 1):
        s.update(epoch, val_loss)
    assert (s.best_epoch, s.best_loss) == (7, 0.48)  # not epoch 3 (0.30), nor a neighbour it drags down
    assert s.stopped and s.bad == 3

    m = _train(windows, tmp_path, "o", epochs=10, **LEARN)
    losses = [r["val_loss"] for r in m["history"]]
    medians = [np.median(losses[max(0, e - 3): e]) for e in range(1, len(losses) + 1)]
    assert m["best_epoch"] == int(np.argmin(medians)) + 1
    assert [r["selection_loss"] for r in m["history"]] == pytest.approx(medians)
    assert m["best_val_loss"] == pytest.approx(losses[m["best_epoch"] - 1])
    assert m["val"]["auc"] == pytest.approx(m["history"][m["best_epoch"] - 1]["val_auc"])  # its weights


def test_resume_state_from_before_the_warmup_rule_is_refused(windows, tmp_path, capsys):
    """A resume state of version 2 (no warm-up end, no recent losses) is refused by `mtmixg train`
    with one line saying why, and no output is written; a current one resumes."""
    train = {"epochs": 3, **LEARN}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(train))
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(tiny_model(dropout=0.0).to_dict()))
    state = tmp_path / "s.pt"
    with pytest.raises(TrainingInterrupted):
        train_fold(windows, "chr1", "binary", tiny_model(dropout=0.0), TrainConfig(**train), 0, tmp_path / "x",
                   state, log=None, stop_after_epochs=1)
    old = load_state(state)
    old["version"] = 2
    for key in ("warmup_end", "recent"):
        old["counters"].pop(key, None)
    save_state(tmp_path / "old.pt", old)
    argv = ["train", str(windows), "--fold", "chr1", "--model-config", str(tmp_path / "m.yaml"),
            "--train-config", str(tmp_path / "t.yaml")]
    assert main([*argv, "--out", str(tmp_path / "o"), "--resume", str(tmp_path / "old.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("mtmixg: error: ") and "old.pt: resume state of version 2, written before the warm-up" in err
    assert "delete it to start the run afresh" in err
    assert not (tmp_path / "o").exists()
    assert main([*argv, "--out", str(tmp_path / "r"), "--resume", str(state)]) == 0


def test_chance_loss_is_the_loss_of_the_best_constant_prediction():
    """Binary: ln 2 for balanced classes. Ternary (one BCE per class): the mean of the per-class binary
    entropies, 0.6365 for balanced classes, not ln 3; each equals tasks.loss of the best constant logits."""
    for task, y in (("binary", np.array([0, 1] * 6 + [1] * 3)), ("ternary", np.array([0, 1, 2] * 5 + [2] * 4))):
        freq = np.bincount(y) / len(y)
        p = freq[1:] if task == "binary" else freq
        logits = torch.tensor(np.log(p / (1 - p)), dtype=torch.float32).expand(len(y), len(p))
        assert chance_loss(y, task) == pytest.approx(float(loss(logits, torch.from_numpy(y), task)), rel=1e-5)
    assert chance_loss(np.array([0, 1, 2] * 5), "ternary") == pytest.approx(0.6365, abs=1e-4)
    assert chance_loss(np.array([0, 1] * 5), "binary") == pytest.approx(math.log(2))


def test_batchnorm_statistics_are_those_of_the_training_genes(windows, tmp_path):
    """The kept model's batch-norm statistics are the training genes' at its weights (one more pass
    changes nothing), not the momentum statistics of its epoch's last batches (bn_recompute false)."""
    from mtmixg.checkpoint import load_model
    from mtmixg.splits import make_split
    from mtmixg.fit import recompute_batchnorm

    def stats(model) -> list[torch.Tensor]:
        return [m.running_mean.clone() for m in model.modules() if isinstance(m, torch.nn.BatchNorm1d)]

    cfg = TrainConfig(epochs=3, **LEARN)
    m = _train(windows, tmp_path, "o", epochs=3, **LEARN)
    model, meta = load_model(m["out"] / "model.pt")
    import pandas as pd

    genes = pd.read_csv(windows / "genes.tsv", sep="\t", dtype={"gene_id": str})
    split = make_split(genes, "chr1", "binary", cfg.val_fraction, 0, cfg.balance)
    codes = np.load(windows / "windows.npy")
    kept = stats(model)
    assert kept
    recompute_batchnorm(model, codes, split.train, cfg, torch.device("cpu"), False, torch.bfloat16)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(kept, stats(model)))
    momentum = _train(windows, tmp_path, "p", epochs=3, **LEARN, bn_recompute=False)
    other, _ = load_model(momentum["out"] / "model.pt")
    before = stats(other)
    recompute_batchnorm(other, codes, split.train, cfg, torch.device("cpu"), False, torch.bfloat16)
    assert not all(torch.allclose(a, b, atol=1e-3) for a, b in zip(before, stats(other)))
