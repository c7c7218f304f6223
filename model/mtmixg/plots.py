"""Figures of trained models (matplotlib, Agg backend): ROC curves, confusion matrices, the ablation
bar chart (paper Fig. 2), the sweep (Fig. 3, one panel per hyper-parameter), per-fold accuracy and
cross-species heatmaps (Fig. 4).

Inputs are the tables of mtmixg.summary: pooled predictions (columns experiment, seed, fold, target,
prob | prob_low prob_medium prob_high), summary (experiment, <metric>_mean, <metric>_sd) and per-run
folds (experiment, seed, fold, accuracy, failed). Each function returns a Figure; save_figure writes it.
For the ternary task ROC curves are high-vs-rest (prob_high against target == 2).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve  # noqa: E402

from .core.names import PAPER_NAMES  # noqa: E402
from .summary import MEAN_LABELS, METRIC_LABELS, METRICS, read_summary  # noqa: E402
from .tasks import CLASS_NAMES  # noqa: E402

METRIC_COLORS: dict[str, str] = {"accuracy": "#4C72B0", "auc": "#DD8452", "f1": "#55A868"}


def _label(name: str) -> str:
    return f"{name}\n({PAPER_NAMES[name]})" if name in PAPER_NAMES else name


def _grid(n: int, max_cols: int = 3, size: float = 3.4) -> tuple[Figure, list]:
    n = max(n, 1)
    cols = min(n, max_cols)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        fig.delaxes(ax)
    return fig, flat[:n]


def _score(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(binary truth, score): P(high) for binary, prob_high vs high-vs-rest for ternary."""
    if "prob" in frame.columns:
        return frame["target"].to_numpy(int), frame["prob"].to_numpy(float)
    return (frame["target"].to_numpy(int) == 2).astype(int), frame["prob_high"].to_numpy(float)


def roc_figure(preds: pd.DataFrame, order: list[str], title: str = "") -> Figure:
    """One panel per experiment; one ROC curve per seed, test predictions pooled over the folds."""
    fig, axes = _grid(len(order))
    for ax, name in zip(axes, order):
        sub = preds[preds["experiment"] == name]
        for seed, runs in sub.groupby("seed", sort=True):
            y, score = _score(runs)
            if y.min() == y.max():
                continue
            fpr, tpr, _ = roc_curve(y, score)
            ax.plot(fpr, tpr, lw=1.5, label=f"seed {seed} (AUC {roc_auc_score(y, score):.3f})")
        ax.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
        ax.set(title=name, xlabel="False positive rate", ylabel="True positive rate", xlim=(0, 1), ylim=(0, 1.01))
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right", fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def confusion_figure(preds: pd.DataFrame, order: list[str], task: str, title: str = "") -> Figure:
    """One panel per experiment: confusion matrix (rows = true class, normalised per row; counts
    annotated) of the test predictions pooled over folds and seeds."""
    classes = CLASS_NAMES[task]
    fig, axes = _grid(len(order))
    for ax, name in zip(axes, order):
        sub = preds[preds["experiment"] == name]
        cm = confusion_matrix(sub["target"], sub["predicted"], labels=list(range(len(classes))))
        share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, vmin=0, vmax=1, cmap="Blues")
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, f"{share[i, j]:.2f}\n({cm[i, j]})", ha="center", va="center",
                        color="white" if share[i, j] > 0.5 else "black", fontsize=8)
        ax.set(title=name, xticks=range(len(classes)), yticks=range(len(classes)),
               xticklabels=classes, yticklabels=classes, xlabel="Predicted", ylabel="True")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _draw_metric_bars(ax, rows: pd.DataFrame, suffix: str = "") -> np.ndarray:
    """Accuracy / AUC-ROC / F1 bars (mean, error bar = sd) of rows (summary rows in x order) on ax,
    and the dashed 0.5 line; returns the x positions."""
    x = np.arange(len(rows))
    width = 0.8 / len(METRICS)
    for k, metric in enumerate(METRICS):
        mean = rows[f"{metric}_mean{suffix}"].to_numpy(float)
        sd = np.nan_to_num(rows[f"{metric}_sd{suffix}"].to_numpy(float))
        ax.bar(x + (k - 1) * width, mean, width, yerr=sd, capsize=3, label=METRIC_LABELS[metric],
               color=METRIC_COLORS[metric])
    ax.axhline(0.5, ls="--", c="grey", lw=0.8)
    return x


def metric_bars_figure(summary: pd.DataFrame, order: list[str], title: str = "", which: str = "trained") -> Figure:
    """Grouped bars: accuracy, AUC-ROC and F1 (mean, error bar = sd over folds x seeds) per experiment.

    which: "trained" (runs that trained) or "all" (failed runs scored as they are); the y label says
    which, and each tick names its failed runs."""
    suffix = {"trained": "", "all": "_all"}[which]
    rows = summary.set_index("experiment").reindex(order)
    fig, ax = plt.subplots(figsize=(max(4.0, 1.3 * len(order) + 1.5), 3.8))
    x = _draw_metric_bars(ax, rows, suffix)
    failed = rows["n_failed"].fillna(0).astype(int) if "n_failed" in rows else pd.Series(0, index=rows.index)
    ticks = [_label(n) + (f"\n({failed[n]} of {int(rows.loc[n, 'n_runs'])} failed)" if failed[n] else "") for n in order]
    ax.set_xticks(x, ticks, fontsize=8)
    ax.set(ylim=(0, 1), ylabel=f"Held-out score, {MEAN_LABELS[which].split(' (')[0]} (± sd)", title=title)
    ax.text(0.0, 1.01, MEAN_LABELS[which], transform=ax.transAxes, fontsize=7, va="bottom")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


SWEEP_KEY_LABELS: dict[str, str] = {"cnn_blocks": "Residual CNN blocks", "kernel_size": "Kernel size", "lr": "Learning rate"}


def _value_label(value: Any) -> str:
    """A swept value as a tick label: numbers in %g (1e-05, 0.0001, 8), anything else as str."""
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def sweep_figure(summary: pd.DataFrame, panels: Sequence[tuple[str, str, Sequence[tuple[str, Any]]]],
                 title: str = "") -> Figure:
    """Paper Fig. 3: one panel per swept hyper-parameter (mtmixg.core.experiments.sweep_panels), its
    values in ascending order, each with accuracy / AUC-ROC / F1 bars (mean over the runs that trained,
    error bar = sd); a tick names the value and the experiment (the architecture's own value among them)."""
    fig, axes = _grid(len(panels), size=3.8)
    rows = summary.set_index("experiment")
    for ax, (arch, key, points) in zip(axes, panels):
        names = [str(name) for name, _ in points]
        shown = rows.reindex(names)
        x = _draw_metric_bars(ax, shown)
        failed = shown["n_failed"].fillna(0).astype(int) if "n_failed" in shown else pd.Series(0, index=shown.index)
        ticks = [_value_label(value) + f"\n{name}" + (f"\n({failed[name]} failed)" if failed[name] else "")
                 for name, value in points]
        ax.set_xticks(x, ticks, fontsize=7)
        ax.set(ylim=(0, 1), title=f"{SWEEP_KEY_LABELS.get(key, key)} ({arch})", ylabel="Held-out score (± sd)")
    if axes:
        axes[0].legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def fold_accuracy_figure(folds: pd.DataFrame, order: list[str], title: str = "") -> Figure:
    """Test accuracy per fold (x) and experiment: a dot per seed (hollow = failed run) and the mean
    over the seeds that trained (line); the y label says so."""
    fold_names = list(dict.fromkeys(folds["fold"].astype(str)))
    x_of = {f: i for i, f in enumerate(fold_names)}
    fig, ax = plt.subplots(figsize=(max(4.0, 0.8 * len(fold_names) + 2.5), 3.6))
    n = max(len(order), 1)
    for k, name in enumerate(order):
        sub = folds[folds["experiment"] == name]
        offset = (k - (n - 1) / 2) * 0.6 / n
        color = f"C{k % 10}"
        xs = sub["fold"].astype(str).map(x_of).to_numpy(float) + offset
        failed = sub["failed"].astype(bool).to_numpy()
        ax.scatter(xs[~failed], sub["accuracy"].to_numpy(float)[~failed], s=14, color=color)
        ax.scatter(xs[failed], sub["accuracy"].to_numpy(float)[failed], s=14, facecolors="none", edgecolors=color)
        means = sub[~sub["failed"].astype(bool)].groupby(sub["fold"].astype(str))["accuracy"].mean()
        ax.plot([x_of[f] + offset for f in means.index], means.to_numpy(), "-", color=color, lw=1.2, label=name)
    ax.axhline(0.5, ls="--", c="grey", lw=0.8)
    ax.set_xticks(range(len(fold_names)), fold_names)
    ax.set(xlabel="Held-out chromosome (fold)", ylabel="Test accuracy (line: mean over trained runs;\nhollow dot: failed run)",
           ylim=(0, 1), title=title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def cross_heatmap_figure(matrix: pd.DataFrame, title: str = "") -> Figure:
    """Three heatmaps (accuracy, AUC-ROC, F1): train species (rows) x test species (columns), values
    annotated (means over the runs that trained); a shared colour bar. matrix: columns train_species,
    test_species, accuracy, auc, f1 (and n_failed: cells with failed runs are marked)."""
    species = list(dict.fromkeys(list(matrix["train_species"]) + list(matrix["test_species"])))
    fig, axes = plt.subplots(1, 3, figsize=(3.2 * 3 + 1.0, 3.2), squeeze=False)
    image = None
    nfail = (matrix.assign(n_failed=matrix.get("n_failed", 0)).pivot(index="train_species", columns="test_species",
             values="n_failed").reindex(index=species, columns=species).fillna(0).to_numpy(float))
    for ax, metric in zip(axes[0], METRICS):
        grid = (matrix.pivot(index="train_species", columns="test_species", values=metric)
                .reindex(index=species, columns=species).to_numpy(float))
        image = ax.imshow(grid, vmin=0.5, vmax=1.0, cmap="viridis")
        for i in range(len(species)):
            for j in range(len(species)):
                if not np.isnan(grid[i, j]):
                    ax.text(j, i, f"{grid[i, j]:.2f}" + ("*" if nfail[i, j] > 0 else ""), ha="center", va="center", fontsize=8,
                            color="black" if grid[i, j] > 0.8 else "white")
        ax.set(title=METRIC_LABELS[metric], xticks=range(len(species)), yticks=range(len(species)),
               xlabel="Test species", ylabel="Train species")
        ax.set_xticklabels(species, rotation=45, ha="right")
        ax.set_yticklabels(species)
    fig.colorbar(image, ax=list(axes[0]), shrink=0.8)
    fig.suptitle((title + "\n" if title else "") + "mean over the runs that trained; * = some runs failed (see n_failed)",
                 fontsize=9)
    return fig


def save_figure(fig: Figure, *paths: str | Path) -> None:
    """Save fig to each path (format from the suffix), atomically; then close it."""
    for path in paths:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")
        try:
            fig.savefig(tmp, dpi=150, bbox_inches="tight")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    plt.close(fig)


# the plot rules' jobs: files in, figure files out


def _predictions(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", dtype={"fold": str, "chrom": str})


def roc_plot(predictions: str | Path, order: list[str], species: str, png: str | Path,
             svg: Sequence[str | Path] = ()) -> None:
    """ROC curves per experiment of test_predictions.tsv (rule plot_roc)."""
    save_figure(roc_figure(_predictions(predictions), order, title=f"Held-out ROC ({species})"), png, *svg)


def confusion_plot(predictions: str | Path, order: list[str], task: str, species: str, png: str | Path,
                   svg: Sequence[str | Path] = ()) -> None:
    """Confusion matrices per experiment of test_predictions.tsv (rule plot_confusion)."""
    fig = confusion_figure(_predictions(predictions), order, task, title=f"Held-out confusion matrices ({species})")
    save_figure(fig, png, *svg)


def bars_plot(summary: str | Path, order: list[str], title: str, png: str | Path,
              svg: Sequence[str | Path] = ()) -> None:
    """Accuracy / AUC-ROC / F1 bars with sd error bars of summary.tsv (rule plot_ablation)."""
    save_figure(metric_bars_figure(read_summary(summary), order, title=title), png, *svg)


def sweep_plot(summary: str | Path, panels: Sequence[tuple[str, str, Sequence[tuple[str, Any]]]], title: str,
               png: str | Path, svg: Sequence[str | Path] = ()) -> None:
    """The sweep figure (paper Fig. 3) of summary.tsv (rule plot_sweep)."""
    save_figure(sweep_figure(read_summary(summary), panels, title=title), png, *svg)


def fold_accuracy_plot(folds: str | Path, order: list[str], species: str, png: str | Path,
                       svg: Sequence[str | Path] = ()) -> None:
    """Test accuracy per fold of summary_folds.tsv (rule plot_fold_accuracy)."""
    fig = fold_accuracy_figure(read_summary(folds), order, title=f"Accuracy per fold ({species})")
    save_figure(fig, png, *svg)
