"""The hyper-parameter sweep as the paper's Fig. 3 (issue 22 item 4): depth entries keep the total
pooling, so the dense head has the same width at every depth."""

from __future__ import annotations

import math

import yaml
from torch import nn

from mtmixg.core.experiments import config_window, experiment_variant, resolve_experiment
from mtmixg.models import build_model
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
        base = experiment_variant(name, SHIPPED)
        model_cfg, _ = resolve_experiment(name, SHIPPED, window=config_window(SHIPPED))
        base_cfg, _ = resolve_experiment(base, SHIPPED, window=config_window(SHIPPED))
        assert model_cfg.cnn_blocks != base_cfg.cnn_blocks
        assert math.prod(model_cfg.pools) == math.prod(base_cfg.pools) == 256
        assert _head_width(name) == _head_width(base) == 11 * base_cfg.cnn_channels  # 3020 -> 11 positions
