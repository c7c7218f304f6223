"""Figures: non-empty PNG/SVG files with the expected number of panels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtmixg import plots
from mtmixg.core.names import ablation_order
from mtmixg.summary import summarize
from file_helpers import check_png, fake_folds, fake_predictions

ORDER = ["cnn", "mtmixg"]


@pytest.mark.parametrize("task", ["binary", "ternary"])
def test_roc_and_confusion_one_panel_per_experiment(tmp_path: Path, task: str) -> None:
    preds = fake_predictions(task)
    fig = plots.roc_figure(preds, ORDER, title="demo")
    assert len(fig.axes) == 2
    assert len(fig.axes[1].get_lines()) == 3  # 2 seeds + the diagonal
    plots.save_figure(fig, tmp_path / "roc.png", tmp_path / "roc.svg")
    check_png(tmp_path / "roc.png")
    assert (tmp_path / "roc.svg").read_text().lstrip().startswith("<?xml")
    fig = plots.confusion_figure(preds, ORDER, task)
    assert len(fig.axes) == 2 and len(fig.axes[0].images) == 1
    assert fig.axes[0].images[0].get_array().shape == ((2, 2) if task == "binary" else (3, 3))
    plots.save_figure(fig, tmp_path / "cm.png")
    check_png(tmp_path / "cm.png")


def test_ablation_bars_in_paper_order(tmp_path: Path) -> None:
    summary = summarize(fake_folds())
    names = ["mtmixg", "deepcre", "cnn", "lr_sweep"]
    assert ablation_order(names) == ["cnn", "mtmixg", "deepcre"]
    order = ablation_order(list(summary["experiment"]))
    fig = plots.metric_bars_figure(summary, order, title="ablation")
    assert len(fig.axes) == 1
    bars = fig.axes[0].patches
    assert len(bars) == 3 * len(order)
    # first metric (accuracy) bars carry the means in order
    assert [b.get_height() for b in bars[: len(order)]] == pytest.approx(list(summary.set_index("experiment").loc[order, "accuracy_mean"]))
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["cnn\n(M1)\n(1 of 6 failed)", "mtmixg\n(MTMixG-Net)"]
    assert "mean over the runs that trained" in fig.axes[0].get_ylabel()
    every = plots.metric_bars_figure(summary, order, which="all")
    assert "mean over all runs" in every.axes[0].get_ylabel()
    assert [b.get_height() for b in every.axes[0].patches[: len(order)]] == pytest.approx(
        list(summary.set_index("experiment").loc[order, "accuracy_mean_all"]))
    plots.save_figure(fig, tmp_path / "ablation.png")
    check_png(tmp_path / "ablation.png")


def test_fold_accuracy_figure(tmp_path: Path) -> None:
    fig = plots.fold_accuracy_figure(fake_folds(), ORDER)
    assert len(fig.axes) == 1
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["1", "2", "3"]
    plots.save_figure(fig, tmp_path / "folds.png")
    check_png(tmp_path / "folds.png")


def test_cross_heatmap_three_panels(tmp_path: Path) -> None:
    matrix = pd.DataFrame({"train_species": ["a", "a", "b", "b"], "test_species": ["a", "b", "a", "b"],
                           "accuracy": [0.9, 0.7, 0.6, 0.85], "auc": [0.95, 0.75, 0.65, 0.9],
                           "f1": [0.9, 0.7, np.nan, 0.8]})
    fig = plots.cross_heatmap_figure(matrix, title="mtmixg")
    assert len(fig.axes) == 4  # three heatmaps + the shared colour bar
    assert [ax.get_title() for ax in fig.axes[:3]] == ["Accuracy", "AUC-ROC", "F1"]
    assert fig.axes[0].images[0].get_array()[0, 1] == pytest.approx(0.7)
    plots.save_figure(fig, tmp_path / "heatmap.png")
    check_png(tmp_path / "heatmap.png")
