"""Workflow jobs of the summary and plot rules: read the rule's files, call mtmixg.summary /
mtmixg.plots, write the outputs. Kept apart from those two modules only while their cleanup is
under way; each function belongs beside the code it calls.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .summary import fold_table, pooled_predictions, read_summary, summarize, write_tsv


def summary_job(
    runs: Sequence[dict],
    metrics: Sequence[str | Path],
    predictions: Sequence[str | Path],
    summary_out: str | Path,
    folds_out: str | Path,
    predictions_out: str | Path,
) -> pd.DataFrame:
    """Per-species tables (rule summary): summary.tsv, summary_folds.tsv and test_predictions.tsv.

    runs[i] ({experiment, seed, fold}) is the run of metrics[i] and predictions[i]; experiments keep
    the order of runs. Failed runs are warned about on stderr. Returns the summary table.
    """
    records = [dict(run, path=path) for run, path in zip(runs, metrics, strict=True)]
    folds = fold_table(records)
    summary = summarize(folds, order=list(dict.fromkeys(run["experiment"] for run in runs)))
    labels = [{"experiment": r["experiment"], "seed": r["seed"], "fold": r["fold"]} for r in runs]
    pooled = pooled_predictions(list(predictions), labels)
    write_tsv(folds, folds_out)
    write_tsv(summary, summary_out)
    write_tsv(pooled, predictions_out)
    print(summary.to_string(index=False), file=sys.stderr)
    for row in folds[folds["failed"]].itertuples():
        print(f"WARNING: {row.experiment} seed {row.seed} fold {row.fold} failed (chance level after {row.n_attempts} "
              "attempt(s)); counted in n_failed and the *_all means, left out of the trained means", file=sys.stderr)
    return summary


def _predictions(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype={"fold": str, "chrom": str})


def roc_plot(predictions: str | Path, order: list[str], species: str, png: str | Path,
             svg: Sequence[str | Path] = ()) -> None:
    """ROC curves per experiment of test_predictions.tsv (rule plot_roc)."""
    from .plots import roc_figure, save_figure

    save_figure(roc_figure(_predictions(predictions), order, title=f"Held-out ROC ({species})"), png, *svg)


def confusion_plot(predictions: str | Path, order: list[str], task: str, species: str, png: str | Path,
                   svg: Sequence[str | Path] = ()) -> None:
    """Confusion matrices per experiment of test_predictions.tsv (rule plot_confusion)."""
    from .plots import confusion_figure, save_figure

    fig = confusion_figure(_predictions(predictions), order, task, title=f"Held-out confusion matrices ({species})")
    save_figure(fig, png, *svg)


def bars_plot(summary: str | Path, order: list[str], title: str, png: str | Path,
              svg: Sequence[str | Path] = ()) -> None:
    """Accuracy / AUC-ROC / F1 bars with sd error bars of summary.tsv (rules plot_ablation, plot_sweep)."""
    from .plots import metric_bars_figure, save_figure

    save_figure(metric_bars_figure(read_summary(summary), order, title=title), png, *svg)


def fold_accuracy_plot(folds: str | Path, order: list[str], species: str, png: str | Path,
                       svg: Sequence[str | Path] = ()) -> None:
    """Test accuracy per fold of summary_folds.tsv (rule plot_fold_accuracy)."""
    from .plots import fold_accuracy_figure, save_figure

    fig = fold_accuracy_figure(read_summary(folds), order, title=f"Accuracy per fold ({species})")
    save_figure(fig, png, *svg)
