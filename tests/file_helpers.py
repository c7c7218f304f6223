"""Small files for the unit tests: a FASTA, fake predictions, fold tables and metrics.json files
of trained runs, and the check that a figure is a real PNG."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


def write_fasta(path: Path, records: dict[str, str], width: int = 60, newline: str = "\n") -> Path:
    """A FASTA of records (name -> sequence), width bases a line."""
    with open(path, "w", newline="") as handle:
        for name, seq in records.items():
            handle.write(f">{name} some description{newline}")
            for i in range(0, len(seq), width):
                handle.write(seq[i : i + width] + newline)
    return path


def fake_predictions(task: str = "binary") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frames = []
    for name, skill in (("cnn", 1.0), ("mtmixg", 2.0)):
        for seed in (0, 1):
            for fold in ("1", "2", "3"):
                n = 40
                if task == "binary":
                    target = rng.integers(0, 2, n)
                    prob = 1 / (1 + np.exp(-(skill * (2 * target - 1) + rng.normal(size=n))))
                    frame = pd.DataFrame({"target": target, "prob": prob, "predicted": (prob >= 0.5).astype(int)})
                else:
                    target = rng.integers(0, 3, n)
                    p = rng.dirichlet(np.ones(3), n) + np.eye(3)[target] * skill
                    p /= p.sum(1, keepdims=True)
                    frame = pd.DataFrame({"target": target, "prob_low": p[:, 0], "prob_medium": p[:, 1],
                                          "prob_high": p[:, 2], "predicted": p.argmax(1)})
                frames.append(frame.assign(experiment=name, seed=seed, fold=fold))
    return pd.concat(frames, ignore_index=True)


def fake_folds() -> pd.DataFrame:
    rows = []
    for name, base in (("cnn", 0.7), ("mtmixg", 0.8)):
        for seed in (0, 1):
            for k, fold in enumerate(("1", "2", "3")):
                rows.append({"experiment": name, "arch": name, "seed": seed, "fold": fold,
                             "accuracy": base + 0.01 * k, "auc": base + 0.05, "f1": base - 0.05,
                             "failed": name == "cnn" and seed == 1 and fold == "3"})
    return pd.DataFrame(rows)


def check_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def write_metrics(folder: Path, experiment: str, seed: int, fold: str, acc: float, auc: float, f1: float,
                  failed: bool = False, arch: str | None = None, n_attempts: int = 1) -> dict:
    path = folder / experiment / f"seed{seed}" / fold / "metrics.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"arch": arch or experiment, "fold": fold, "seed": seed, "accuracy": acc,
                                "auc": auc, "f1": f1, "failed": failed, "n_test": 100, "epochs_run": 5,
                                "best_epoch": 3, "device": "cpu", "wall_seconds": 1.5, "seq_per_s": 900.0,
                                "n_attempts": n_attempts}))
    return {"experiment": experiment, "seed": seed, "fold": fold, "metrics": path}
