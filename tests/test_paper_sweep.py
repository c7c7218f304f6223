"""The hyper-parameter sweep as the paper's Fig. 3 (issue 22 item 4): depth entries keep the total
pooling, so the dense head has the same width at every depth; one panel per swept hyper-parameter,
its values in order."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from torch import nn

from mtmixg import plots
from mtmixg.core.experiments import config_window, experiment_arch, resolve_experiment, sweep_panels
from mtmixg.models.architectures import build_model
from mtmixg.summary import METRICS
from file_helpers import check_png
from workflow_helpers import REPO

SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def _head_width(name: str) -> int:
    """Input features of the experiment's first dense layer, built for the shipped window."""
    model_cfg, _ = resolve_experiment(name, SHIPPED, window=config_window(SHIPPED))
    return next(m for m in build_model(model_cfg).head.modules() if isinstance(m, nn.Linear)).in_features


def test_every_depth_of_the_shipped_sweep_has_the_same_head_width() -> None:
    depth = [entry["name"] for entry in SHIPPED["sweep"] if "cnn_blocks" in (entry.get("model") or {})]
    assert len(depth) == 2  # 3 and 7 blocks around the default 5
    for name in depth:
        base = experiment_arch(name, SHIPPED)
        model_cfg, _ = resolve_experiment(name, SHIPPED, window=config_window(SHIPPED))
        base_cfg, _ = resolve_experiment(base, SHIPPED, window=config_window(SHIPPED))
        assert model_cfg.cnn_blocks != base_cfg.cnn_blocks
        assert math.prod(model_cfg.pools) == math.prod(base_cfg.pools) == 256
        assert _head_width(name) == _head_width(base) == 11 * base_cfg.cnn_channels  # 3020 -> 11 positions


def test_the_sweep_figure_has_one_panel_per_hyper_parameter_in_value_order(tmp_path) -> None:
    panels = sweep_panels(SHIPPED)
    assert panels == [
        ("mtmixg", "cnn_blocks", [("mtmixg_blocks3", 3), ("mtmixg", 5), ("mtmixg_blocks7", 7)]),
        ("mtmixg", "kernel_size", [("mtmixg_kernel5", 5), ("mtmixg", 8), ("mtmixg_kernel16", 16)]),
        ("mtmixg", "lr", [("mtmixg_lr1e-5", 1e-5), ("mtmixg", 1e-4), ("mtmixg_lr1e-3", 1e-3)]),
    ]
    names = list(dict.fromkeys(name for _, _, points in panels for name, _ in points))
    summary = pd.DataFrame({"experiment": names, "n_runs": 5, "n_failed": [1] + [0] * (len(names) - 1),
                            **{f"{m}_{s}": np.linspace(0.6, 0.9, len(names)) for m in METRICS for s in ("mean", "sd")}})
    fig = plots.sweep_figure(summary, panels, title="sweep")
    assert [ax.get_title() for ax in fig.axes] == ["Residual CNN blocks (mtmixg)", "Kernel size (mtmixg)",
                                                   "Learning rate (mtmixg)"]  # fmt: skip
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["3\nmtmixg_blocks3\n(1 failed)", "5\nmtmixg", "7\nmtmixg_blocks7"]
    assert [t.get_text().split("\n")[0] for t in fig.axes[2].get_xticklabels()] == ["1e-05", "0.0001", "0.001"]
    lr_accuracy = [b.get_height() for b in fig.axes[2].patches[:3]]  # accuracy bars, in value order
    assert lr_accuracy == pytest.approx(list(summary.set_index("experiment").loc[["mtmixg_lr1e-5", "mtmixg", "mtmixg_lr1e-3"], "accuracy_mean"]))
    plots.save_figure(fig, tmp_path / "sweep.png")
    check_png(tmp_path / "sweep.png")
