"""mtmixg.fit.EarlyStopping on its own: warm-up, patience, LR decay, min_delta (no model is trained)."""

from __future__ import annotations

import math

import pytest

from mtmixg.core.train_config import TrainConfig
from mtmixg.fit import EarlyStopping


def _run(stopping: EarlyStopping, losses: list[float]) -> list[bool]:
    """Feed one validation loss per epoch (epochs 1, 2, ...) until stopped; the improved flags."""
    flags = []
    for epoch, val_loss in enumerate(losses, 1):
        flags.append(stopping.update(epoch, val_loss))
        if stopping.stopped:
            break
    return flags


def _stopping(**kw) -> EarlyStopping:
    values = dict(patience=2, lr_patience=10, lr_factor=0.1, warmup=0, lr=1.0, min_delta=0.0)
    values.update(kw)
    return EarlyStopping(**values)


def test_warmup_epochs_are_not_counted_but_their_best_is_kept() -> None:
    s = _stopping(warmup=3, patience=1, lr_patience=1)
    assert _run(s, [0.5, 0.6, 0.7]) == [True, False, False]
    assert (s.bad, s.lr_bad, s.lr, s.stopped) == (0, 0, 1.0, False)
    assert (s.best_loss, s.best_epoch) == (0.5, 1)
    assert s.update(4, 0.6) is False  # first counted epoch: no gain over the warm-up's best
    assert s.stopped and s.bad == 1 and s.lr == pytest.approx(0.1)


def test_patience_counts_epochs_without_gain_and_a_gain_resets_it() -> None:
    s = _stopping(patience=3)
    assert _run(s, [1.0, 1.1, 1.2, 0.9, 1.0, 1.0, 1.0, 0.1]) == [True, False, False, True, False, False, False]
    assert s.stopped and s.bad == 3 and (s.best_loss, s.best_epoch) == (0.9, 4)


def test_lr_decays_after_lr_patience_epochs_and_the_count_restarts() -> None:
    s = _stopping(patience=100, lr_patience=2, lr_factor=0.5)
    lrs = []
    for epoch, val_loss in enumerate([1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 0.5, 2.0], 1):
        s.update(epoch, val_loss)
        lrs.append(s.lr)
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]
    assert (s.bad, s.lr_bad, s.stopped) == (1, 1, False)


def test_min_delta_a_smaller_gain_is_no_improvement() -> None:
    s = _stopping(patience=2, min_delta=0.1)
    assert _run(s, [1.0, 0.95, 0.91]) == [True, False, False]
    assert s.stopped and (s.best_loss, s.best_epoch) == (1.0, 1)
    s = _stopping(patience=2, min_delta=0.1)
    assert _run(s, [1.0, 0.85, 0.8]) == [True, True, False]
    assert not s.stopped and s.best_epoch == 2


def test_from_config_and_state_round_trip() -> None:
    cfg = TrainConfig(patience=4, lr_patience=2, lr_factor=0.5, lr=1e-3, min_delta=0.01)
    s = EarlyStopping.from_config(cfg, warmup=7)
    assert (s.patience, s.lr_patience, s.lr_factor, s.warmup, s.lr, s.min_delta) == (4, 2, 0.5, 7, 1e-3, 0.01)
    assert s.best_loss == math.inf and s.best_epoch == 0 and not s.stopped
    for epoch, val_loss in enumerate([0.7, 0.6, 0.65, 0.66, 0.7, 0.69, 0.68, 0.7, 0.8, 0.9], 1):
        s.update(epoch, val_loss)
    state = s.state()
    assert list(state) == ["best_loss", "best_epoch", "bad", "lr_bad", "lr", "stopped", "warmup_end", "recent"]  # resume-state order
    back = EarlyStopping.from_config(cfg, warmup=7)
    back.load_state(state)
    assert back == s
