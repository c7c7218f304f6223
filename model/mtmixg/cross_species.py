"""Cross-species evaluation (paper Fig. 4): a model trained on every chromosome of species A predicts
every gene of species B that the task uses; the matrix collects train x test species scores.

Off-diagonal cells (A != B) come from the all-chromosome model of A on all of B's genes. A diagonal
cell (A == A) cannot use that model (its genes were its training data); it is the species' own
leave-one-chromosome-out result instead, marked source = "loco" in the matrix.

Each cell gives two means, as summary.tsv does: <metric> (sd <metric>_sd) over the runs whose model
trained, and <metric>_all (sd <metric>_sd_all) over every run, failed ones scored as they are;
n_failed counts the runs whose model stayed at chance level.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import compute_metrics, predictions_frame
from .summary import METRICS, mean_sd

MATRIX_COLUMNS: list[str] = [
    "train_species", "test_species", "source", "n_runs", "n_failed", *METRICS, *[f"{m}_sd" for m in METRICS],
    *[f"{m}_all" for m in METRICS], *[f"{m}_sd_all" for m in METRICS],
]


def predict_species(model_path: str | Path, windows_dir: str | Path, batch_size: int = 256,
                    device: str = "cpu") -> tuple[pd.DataFrame, dict]:
    """Predict every gene of a windows dataset the model's task uses -> (predictions, metrics).

    ValueError naming both files when the windows were cut with another WindowSpec than the model's.
    metrics["same_dataset"] is true (and a warning printed) when they are the very windows the model
    trained on.
    """
    from .checkpoint import load_model, meta_path, resolve_model_path
    from .dataset import load_windows
    from .train import all_targets
    from .predict import predict

    model, meta = load_model(model_path, device=device)
    gw = load_windows(windows_dir)
    if gw.spec.to_dict() != meta["window_spec"].to_dict():
        raise ValueError(
            f"{Path(windows_dir) / 'window.json'}: window {gw.spec.to_dict()} differs from the model's "
            f"({meta_path(resolve_model_path(model_path))}: {meta['window_spec'].to_dict()}); cross-species "
            "evaluation needs every species cut with the same window settings"
        )
    # the very windows the model trained on (e.g. two config entries of one species): said, not hidden
    same = meta.get("dataset_digest") is not None and meta["dataset_digest"] == gw.digest
    if same:
        print(f"WARNING: {windows_dir}: the model {resolve_model_path(model_path)} was trained on these very windows; "
              "its scores here are training scores (metrics: same_dataset true)", file=sys.stderr)
    task = meta["task"]
    y = all_targets(gw.genes["label"].to_numpy(), task)
    index = np.flatnonzero(y >= 0)
    prob = predict(model, gw.codes, task, index=index, batch_size=batch_size)
    metrics = compute_metrics(y[index], prob, task)
    # a model that never left chance level on its own validation genes is reported, not averaged in
    trained = Path(resolve_model_path(model_path)).with_name("metrics.json")
    metrics["failed"] = bool(json.loads(trained.read_text()).get("failed")) if trained.is_file() else False
    metrics["same_dataset"] = same
    frame = predictions_frame(gw.genes.iloc[index], y[index], prob, task)
    return frame, metrics


def cross_matrix(cross: pd.DataFrame, loco: pd.DataFrame | None = None) -> pd.DataFrame:
    """Train x test species table.

    cross: one row per (train_species, test_species, seed) with accuracy, auc, f1 (A != B) and
           optionally failed (the all-chromosome model stayed at chance level).
    loco:  per-run rows of each species' own folds (species, accuracy, auc, f1, failed) for the
           diagonal. Means (and sample sd) over seeds / runs: trained runs, and all runs (_all).
    """
    rows = []
    for (a, b), runs in cross.groupby(["train_species", "test_species"], sort=False):
        if a == b:
            raise ValueError(f"cross-species row {a} -> {b}: a species' own genes were its training data; "
                             "the diagonal comes from its leave-one-chromosome-out runs")
        failed = runs["failed"].astype(bool) if "failed" in runs else pd.Series(False, index=runs.index)
        rows.append(_cell(a, b, "cross", runs, failed))
    if loco is not None:
        for species, runs in loco.groupby("species", sort=False):
            failed = runs["failed"].astype(bool)
            rows.append(_cell(species, species, "loco", runs, failed))
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS)


def _cell(a: str, b: str, source: str, runs: pd.DataFrame, failed: pd.Series) -> dict:
    row = {"train_species": a, "test_species": b, "source": source, "n_runs": int(len(runs)),
           "n_failed": int(failed.sum())}
    for m in METRICS:
        row[m], row[f"{m}_sd"] = mean_sd(runs.loc[~failed, m])
        row[f"{m}_all"], row[f"{m}_sd_all"] = mean_sd(runs[m])
    return row
