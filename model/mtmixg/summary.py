"""Summaries of trained folds: the paper's Table 1/2 (experiment x accuracy, AUC-ROC, F1) from metrics.json files.

Two tables per species:
    summary_folds.tsv  one row per run (experiment, seed, fold): test accuracy, auc, f1, n_test,
                       failed, n_attempts, restarted, epochs_run, best_epoch, device, wall_seconds,
                       seq_per_s
    summary.tsv        one row per experiment: n_runs, n_failed, n_restarted, then two means, each
                       with its sample sd (ddof 1; NaN with fewer than two runs):
                       <metric>_mean, <metric>_sd          over the runs that trained (not failed)
                       <metric>_mean_all, <metric>_sd_all  over every run, failed runs scored as
                                                           they are
                       Fractions (0..1), not %.
A run is failed when its metrics.json says so (it stayed at chance level after its restarts,
mtmixg.fit); it is never dropped silently: n_failed counts it and the _all means include it.
A metric a run could not compute (an AUC on a one-class test set) is left out of both means.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .core.model_config import rename_former_keys
from .core.names import ARCHITECTURES

METRICS: tuple[str, ...] = ("accuracy", "auc", "f1")
METRIC_LABELS: dict[str, str] = {"accuracy": "Accuracy", "auc": "AUC-ROC", "f1": "F1"}
FOLD_COLUMNS: list[str] = [
    "experiment", "arch", "seed", "fold", "n_test", *METRICS, "failed", "n_attempts", "restarted",
    "epochs_run", "best_epoch",
    "device", "wall_seconds", "seq_per_s",
]
SUMMARY_COLUMNS: list[str] = [
    "experiment", "arch", "n_runs", "n_failed", "n_restarted",
    *[f"{m}_{s}" for m in METRICS for s in ("mean", "sd")],
    *[f"{m}_{s}_all" for m in METRICS for s in ("mean", "sd")],
]
MEAN_LABELS: dict[str, str] = {
    "trained": "mean over the runs that trained (failed runs left out)",
    "all": "mean over all runs (failed runs scored as they are)",
}


def read_metrics(path: str | Path) -> dict:
    """One metrics.json; ValueError naming the file when unreadable or lacking test metrics."""
    path = Path(path)
    try:
        m = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: unreadable metrics file ({err}); rerun the training job that writes it") from None
    missing = [k for k in (*METRICS, "failed") if k not in m]
    if missing:
        raise ValueError(f"{path}: metrics lack {', '.join(missing)}; rerun the training job that writes it")
    return m


def _num(value) -> float:
    return float("nan") if value is None else float(value)


def fold_table(runs: list[dict]) -> pd.DataFrame:
    """Per-run table from records {experiment, seed, fold, metrics} (metrics: a metrics.json).

    Rows keep the given order; the architecture comes from the metrics file.
    """
    rows = []
    for run in runs:
        m = rename_former_keys(read_metrics(run["metrics"]))  # a metrics.json from before the rename
        rows.append({
            "experiment": str(run["experiment"]),
            "arch": m.get("arch", run["experiment"]),
            "seed": int(run["seed"]),
            "fold": str(run["fold"]),
            "n_test": int(m.get("n_test", (m.get("test") or {}).get("n", 0)) or 0),
            **{k: _num(m[k]) for k in METRICS},
            "failed": bool(m["failed"]),
            "n_attempts": int(m.get("n_attempts", 1)),
            "restarted": int(m.get("n_attempts", 1)) > 1,
            "epochs_run": m.get("epochs_run"),
            "best_epoch": m.get("best_epoch"),
            "device": m.get("device"),
            "wall_seconds": m.get("wall_seconds"),
            "seq_per_s": m.get("seq_per_s"),
        })
    return pd.DataFrame(rows, columns=FOLD_COLUMNS)


def mean_sd(values: pd.Series) -> tuple[float, float]:
    """Mean and sample sd of the non-missing values (NaN when there are none / fewer than two)."""
    v = values.dropna().to_numpy(dtype=float)
    return (float(v.mean()) if len(v) else float("nan"), float(v.std(ddof=1)) if len(v) > 1 else float("nan"))


def summarize(folds: pd.DataFrame, order: list[str] | None = None) -> pd.DataFrame:
    """Per-experiment mean/sd of each metric, over the runs that trained and over all runs.

    order: experiments in output order (default: ARCHITECTURES order, then the rest as they appear).
    """
    if order is None:
        seen = list(dict.fromkeys(folds["experiment"]))
        order = [v for v in ARCHITECTURES if v in seen] + [e for e in seen if e not in ARCHITECTURES]
    rows = []
    for name in order:
        runs = folds[folds["experiment"] == name]
        failed = runs["failed"].astype(bool)
        restarted = runs["restarted"].astype(bool) if "restarted" in runs else pd.Series(False, index=runs.index)
        row = {
            "experiment": name,
            "arch": runs["arch"].iloc[0] if len(runs) else name,
            "n_runs": int(len(runs)),
            "n_failed": int(failed.sum()),
            "n_restarted": int(restarted.sum()),
        }
        for metric in METRICS:
            row[f"{metric}_mean"], row[f"{metric}_sd"] = mean_sd(runs.loc[~failed, metric])
            row[f"{metric}_mean_all"], row[f"{metric}_sd_all"] = mean_sd(runs[metric])
        rows.append(row)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def write_tsv(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a table atomically (temp file in the same folder, then rename); NaN written as 'NA'."""
    from .core.atomic import atomic_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: frame.to_csv(tmp, sep="\t", index=False, na_rep="NA", float_format="%.6g"))


def read_summary(path: str | Path) -> pd.DataFrame:
    """Read a summary.tsv or summary_folds.tsv written by write_tsv."""
    return pd.read_csv(path, sep="\t", na_values=["NA"], keep_default_na=False, dtype={"fold": str})


def pooled_predictions(paths: list[str | Path], labels: list[dict] | None = None, test_only: bool = True) -> pd.DataFrame:
    """Concatenate predictions.tsv files (test rows only by default), adding the columns of labels[i]."""
    frames = []
    for i, path in enumerate(paths):
        frame = pd.read_csv(path, sep="\t", dtype={"chrom": str})
        if test_only and "set" in frame.columns:
            frame = frame[frame["set"] == "test"]
        for key, value in (labels[i] if labels else {}).items():
            frame = frame.assign(**{key: value})
        frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def check_runs(runs: Sequence[dict], keys: Sequence[str]) -> None:
    """ValueError naming the first run record that lacks one of keys."""
    for i, run in enumerate(runs):
        missing = [key for key in keys if key not in run]
        if missing:
            raise ValueError(f"run {i} ({run}) lacks {', '.join(missing)}; each run record carries {', '.join(keys)}")


def summary_job(
    runs: Sequence[dict],
    summary_out: str | Path,
    folds_out: str | Path,
    predictions_out: str | Path,
) -> pd.DataFrame:
    """Per-species tables (rule summary): summary.tsv, summary_folds.tsv and test_predictions.tsv.

    runs: one record per run, {experiment, seed, fold, metrics, predictions} (its metrics.json and
    predictions.tsv); experiments keep the order of runs. Failed runs are warned about on stderr.
    Returns the summary table.
    """
    check_runs(runs, ("experiment", "seed", "fold", "metrics", "predictions"))
    folds = fold_table(list(runs))
    summary = summarize(folds, order=list(dict.fromkeys(run["experiment"] for run in runs)))
    labels = [{"experiment": r["experiment"], "seed": r["seed"], "fold": r["fold"]} for r in runs]
    pooled = pooled_predictions([run["predictions"] for run in runs], labels)
    write_tsv(folds, folds_out)
    write_tsv(summary, summary_out)
    write_tsv(pooled, predictions_out)
    print(summary.to_string(index=False), file=sys.stderr)
    for row in folds[folds["failed"]].itertuples():
        print(f"WARNING: {row.experiment} seed {row.seed} fold {row.fold} failed (chance level after {row.n_attempts} "
              "attempt(s)); counted in n_failed and the *_all means, left out of the trained means", file=sys.stderr)
    return summary
