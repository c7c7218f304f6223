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
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .core.log import log_stderr
from .data.dataset import WindowsFiles, load_windows
from .metrics import compute_metrics, predictions_frame
from .summary import METRICS, check_runs, mean_sd, read_summary, write_tsv

MATRIX_COLUMNS: list[str] = [
    "train_species", "test_species", "source", "n_runs", "n_failed", *METRICS, *[f"{m}_sd" for m in METRICS],
    *[f"{m}_all" for m in METRICS], *[f"{m}_sd_all" for m in METRICS],
]


def predict_species(model_path: str | Path, windows_dir: str | Path | WindowsFiles, batch_size: int = 256,
                    device: str = "cpu", trained_metrics: str | Path | None = None) -> tuple[pd.DataFrame, dict]:
    """Predict every gene of a windows dataset (its folder or files) the model's task uses ->
    (predictions, metrics).

    trained_metrics: the model's own metrics.json (default: the one beside model.pt); its failed
    flag (the model stayed at chance level) becomes metrics["failed"]. FileNotFoundError when absent.

    ValueError naming both files when the windows were cut with another WindowSpec than the model's.
    metrics["same_dataset"] is true (and a warning printed) when they are the very windows the model
    trained on.
    """
    from .checkpoint import load_model, meta_path, resolve_model_path
    from .tasks import all_targets
    from .predict import predict

    model, meta = load_model(model_path, device=device)
    gw = load_windows(windows_dir)
    if gw.spec.to_dict() != meta["window_spec"].to_dict():
        raise ValueError(
            f"{WindowsFiles.of(windows_dir).spec}: window {gw.spec.to_dict()} differs from the model's "
            f"({meta_path(resolve_model_path(model_path))}: {meta['window_spec'].to_dict()}); cross-species "
            "evaluation needs every species cut with the same window settings"
        )
    # the very windows the model trained on (e.g. two config entries of one species): said, not hidden
    same = meta.get("dataset_digest") is not None and meta["dataset_digest"] == gw.digest
    if same:
        print(f"WARNING: {WindowsFiles.of(windows_dir).windows}: the model {resolve_model_path(model_path)} was trained on these very windows; "
              "its scores here are training scores (metrics: same_dataset true)", file=sys.stderr)
    task = meta["task"]
    y = all_targets(gw.genes["label"].to_numpy(), task)
    index = np.flatnonzero(y >= 0)
    prob = predict(model, gw.codes, task, index=index, batch_size=batch_size)
    metrics = compute_metrics(y[index], prob, task)
    # a model that never left chance level on its own validation genes is reported, not averaged in
    trained = Path(trained_metrics or Path(resolve_model_path(model_path)).with_name("metrics.json"))
    if not trained.is_file():
        raise FileNotFoundError(f"{trained}: the training metrics of {resolve_model_path(model_path)} are missing; "
                                "they say whether the model stayed at chance level (failed)")
    metrics["failed"] = bool(json.loads(trained.read_text())["failed"])
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


def predict_job(
    model: str | Path,
    meta: str | Path,
    trained_metrics: str | Path,
    windows: WindowsFiles,
    predictions_out: str | Path,
    metrics_out: str | Path,
    train_species: str,
    test_species: str,
    experiment: str,
    seed: int | str,
    threads: int = 1,
    log: Callable[[str], None] = log_stderr,
) -> dict:
    """One cross-species job (rule cross_species_predict): train_species' all-chromosome model scores
    test_species' windows (their files). meta: model's model.json (the one beside it). Writes
    predictions_out and metrics_out (predict_species' metrics + the four names), atomically;
    returns the metrics."""
    import torch

    from .core.atomic import atomic_write

    from .checkpoint import check_meta_path

    check_meta_path(model, meta)
    torch.set_num_threads(int(threads))
    frame, metrics = predict_species(model, windows, trained_metrics=trained_metrics)
    metrics.update({"train_species": train_species, "test_species": test_species, "experiment": experiment,
                    "seed": int(seed)})
    atomic_write(Path(predictions_out), lambda tmp: frame.to_csv(tmp, sep="\t", index=False, float_format="%.6g"))
    atomic_write(Path(metrics_out), lambda tmp: Path(tmp).write_text(json.dumps(metrics, indent=2) + "\n"))
    log(json.dumps(metrics))
    return metrics


def build_matrix(
    runs: Sequence[dict],
    loco: Sequence[dict],
    experiment: str,
    out: str | Path,
    log: Callable[[str], None] = log_stderr,
) -> pd.DataFrame:
    """The train x test species matrix of one experiment (rule cross_species_matrix) -> out; returns it.

    runs: one record per cross-species run, {train_species, test_species, seed, metrics} (its
    metrics.json); loco: one record per species, {species, folds} (its summary_folds.tsv, whose rows
    of experiment `experiment` make the diagonal, see cross_matrix).
    """
    check_runs(runs, ("train_species", "test_species", "seed", "metrics"))
    check_runs(loco, ("species", "folds"))
    rows = []
    for run in runs:
        metrics = json.loads(Path(run["metrics"]).read_text())
        names = {k: run[k] for k in ("train_species", "test_species", "seed")}
        rows.append({**names, **{k: metrics[k] for k in ("accuracy", "auc", "f1")}, "failed": bool(metrics["failed"])})
    tables = []
    for record in loco:
        table = read_summary(record["folds"])
        tables.append(table[table["experiment"] == experiment].assign(species=record["species"]))
    matrix = cross_matrix(pd.DataFrame(rows), pd.concat(tables, ignore_index=True))
    write_tsv(matrix, out)
    log(matrix.to_string(index=False))
    return matrix


def build_heatmap(matrix: str | Path, experiment: str, png: str | Path, svg: Sequence[str | Path] = ()) -> None:
    """Accuracy / AUC-ROC / F1 heatmaps of a matrix.tsv (rule cross_species_heatmap) -> png (and svg)."""
    from .plots import cross_heatmap_figure, save_figure

    fig = cross_heatmap_figure(read_summary(matrix), title=f"Cross-species ({experiment})")
    save_figure(fig, png, *svg)
