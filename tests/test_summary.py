"""Summary tables from metrics.json files with known values; failed runs excluded and counted;
the cross-species matrix."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtmixg.cross_species import cross_matrix
from mtmixg.summary import fold_table, read_summary, summarize, write_tsv
from file_helpers import write_metrics


@pytest.fixture
def runs(tmp_path: Path) -> list[dict]:
    out = []
    # mtmixg: 2 seeds x 3 folds; accuracy = 0.80 + 0.01 * (3 * seed + fold index)
    for seed in (0, 1):
        for k, fold in enumerate(("1", "2", "3")):
            v = 0.80 + 0.01 * (3 * seed + k)
            out.append(write_metrics(tmp_path, "mtmixg", seed, fold, v, v + 0.1, v - 0.1))
    # cnn: one of four runs failed at chance level
    out.append(write_metrics(tmp_path, "cnn", 0, "1", 0.70, 0.75, 0.60))
    out.append(write_metrics(tmp_path, "cnn", 0, "2", 0.50, 0.50, 0.00, failed=True, n_attempts=3))
    out.append(write_metrics(tmp_path, "cnn", 1, "1", 0.74, 0.79, 0.64, n_attempts=2))  # trained on a restart
    out.append(write_metrics(tmp_path, "cnn", 1, "2", 0.72, 0.77, 0.62))
    # a sweep entry (architecture mtmixg)
    out.append(write_metrics(tmp_path, "lr_high", 0, "1", 0.60, 0.65, None, arch="mtmixg"))
    return out


def test_fold_table_has_one_row_per_run(runs) -> None:
    folds = fold_table(runs)
    assert len(folds) == 11
    row = folds[(folds.experiment == "cnn") & (folds.seed == 0) & (folds.fold == "2")].iloc[0]
    assert bool(row.failed) and row.accuracy == 0.5
    assert folds[folds.experiment == "lr_high"].iloc[0].arch == "mtmixg"
    assert math.isnan(folds[folds.experiment == "lr_high"].iloc[0].f1)


def test_summary_mean_sd_over_folds_and_seeds(runs) -> None:
    summary = summarize(fold_table(runs)).set_index("experiment")
    # ARCHITECTURES order first (cnn before mtmixg), then other experiments in order of appearance
    assert list(summary.index) == ["cnn", "mtmixg", "lr_high"]
    acc = 0.80 + 0.01 * np.arange(6)
    m = summary.loc["mtmixg"]
    assert (m.n_runs, m.n_failed) == (6, 0)
    assert m.accuracy_mean == pytest.approx(acc.mean())
    assert m.accuracy_sd == pytest.approx(acc.std(ddof=1))
    assert m.auc_mean == pytest.approx(acc.mean() + 0.1)
    assert m.f1_sd == pytest.approx(acc.std(ddof=1))


def test_failed_runs_are_counted_and_reported_both_ways(runs) -> None:
    c = summarize(fold_table(runs)).set_index("experiment").loc["cnn"]
    assert (c.n_runs, c.n_failed, c.n_restarted) == (4, 1, 2)
    assert c.accuracy_mean_all == pytest.approx(np.mean([0.70, 0.74, 0.72, 0.50]))
    assert c.f1_sd_all == pytest.approx(np.std([0.60, 0.64, 0.62, 0.00], ddof=1))
    assert c.accuracy_mean == pytest.approx(np.mean([0.70, 0.74, 0.72]))
    assert c.accuracy_sd == pytest.approx(np.std([0.70, 0.74, 0.72], ddof=1))
    assert c.f1_mean == pytest.approx(np.mean([0.60, 0.64, 0.62]))


def test_single_run_has_no_sd_and_tables_round_trip(runs, tmp_path: Path) -> None:
    folds = fold_table(runs)
    summary = summarize(folds)
    single = summary.set_index("experiment").loc["lr_high"]
    assert single.accuracy_mean == pytest.approx(0.60) and math.isnan(single.accuracy_sd)
    assert math.isnan(single.f1_mean)
    write_tsv(summary, tmp_path / "out" / "summary.tsv")
    write_tsv(folds, tmp_path / "out" / "summary_folds.tsv")
    back = read_summary(tmp_path / "out" / "summary.tsv")
    pd.testing.assert_frame_equal(back[["experiment", "n_runs", "n_failed"]],
                                  summary[["experiment", "n_runs", "n_failed"]])
    assert back["accuracy_mean"].to_numpy() == pytest.approx(summary["accuracy_mean"].to_numpy(), nan_ok=True)
    assert read_summary(tmp_path / "out" / "summary_folds.tsv")["fold"].tolist() == folds["fold"].tolist()
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_unreadable_metrics_named(tmp_path: Path) -> None:
    bad = tmp_path / "metrics.json"
    bad.write_text('{"accuracy": 0.5}')
    with pytest.raises(ValueError, match=r"metrics.json: metrics lack auc, f1, failed"):
        fold_table([{"experiment": "cnn", "seed": 0, "fold": "1", "metrics": bad}])
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"metrics.json: unreadable"):
        fold_table([{"experiment": "cnn", "seed": 0, "fold": "1", "metrics": bad}])


def test_cross_matrix_means_over_seeds_and_loco_diagonal() -> None:
    cross = pd.DataFrame({
        "train_species": ["a", "a", "b"], "test_species": ["b", "b", "a"], "seed": [0, 1, 0],
        "accuracy": [0.6, 0.7, 0.8], "auc": [0.65, 0.75, 0.85], "f1": [0.5, 0.6, 0.7],
    })
    loco = pd.DataFrame({"species": ["a", "a", "a", "b"], "accuracy": [0.9, 0.8, 0.5, 0.85],
                         "auc": [0.95, 0.85, 0.5, 0.9], "f1": [0.9, 0.8, 0.0, 0.8],
                         "failed": [False, False, True, False]})
    m = cross_matrix(cross, loco).set_index(["train_species", "test_species"])
    assert m.loc[("a", "b"), "accuracy"] == pytest.approx(0.65)
    assert m.loc[("a", "b"), "accuracy_sd"] == pytest.approx(np.std([0.6, 0.7], ddof=1))
    assert m.loc[("a", "b"), "n_runs"] == 2 and m.loc[("a", "b"), "source"] == "cross"
    assert m.loc[("a", "a"), "accuracy"] == pytest.approx(0.85)  # the failed run is left out
    assert m.loc[("a", "a"), "accuracy_all"] == pytest.approx(np.mean([0.9, 0.8, 0.5]))
    assert m.loc[("a", "a"), "source"] == "loco" and m.loc[("a", "a"), "n_runs"] == 3
    assert len(m) == 4
    with pytest.raises(ValueError, match="a -> a"):
        cross_matrix(cross.assign(test_species="a", train_species="a"))
