"""The summary and plot rules' jobs (mtmixg.summary.summary_job, mtmixg.plots.*_plot): files in, files out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mtmixg.plots import bars_plot, confusion_plot, fold_accuracy_plot, roc_plot
from mtmixg.summary import summary_job
from mtmixg.summary import read_summary, summarize
from file_helpers import check_png, fake_folds, fake_predictions, write_metrics


def test_summary_job_writes_three_tables_and_warns_about_failed_runs(tmp_path: Path, capsys) -> None:
    runs = []
    for experiment, fold, failed in (("mtmixg", "1", False), ("mtmixg", "2", False), ("cnn", "1", True),
                                     ("cnn", "2", False)):
        record = write_metrics(tmp_path, experiment, 0, fold, 0.8, 0.9, 0.7, failed=failed, n_attempts=3)
        runs.append({**record, "predictions": record["metrics"].with_name("predictions.tsv")})
        pd.DataFrame({"gene_id": ["a", "b", "c"], "target": [0, 1, 1], "prob": [0.2, 0.7, 0.9],
                      "set": ["test", "test", "val"]}).to_csv(runs[-1]["predictions"], sep="\t", index=False)
    out = {name: tmp_path / f"{name}.tsv" for name in ("summary", "folds", "predictions")}
    summary = summary_job(runs, out["summary"], out["folds"], out["predictions"])
    assert summary["experiment"].tolist() == ["mtmixg", "cnn"]  # the runs' order
    assert read_summary(out["summary"]).set_index("experiment").loc["cnn", "n_failed"] == 1
    assert len(read_summary(out["folds"])) == 4
    pooled = pd.read_csv(out["predictions"], sep="\t")
    assert len(pooled) == 8 and set(pooled["set"]) == {"test"} and set(pooled["experiment"]) == {"mtmixg", "cnn"}
    assert "WARNING: cnn seed 0 fold 1 failed (chance level after 3 attempt(s))" in capsys.readouterr().err
    with pytest.raises(ValueError, match="run 0 .* lacks metrics"):  # a run without its metrics.json
        summary_job([{k: v for k, v in runs[0].items() if k != "metrics"}], out["summary"], out["folds"],
                    out["predictions"])


@pytest.fixture()
def tables(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / f"{name}.tsv" for name in ("predictions", "folds", "summary")}
    fake_predictions().to_csv(paths["predictions"], sep="\t", index=False)
    fake_folds().to_csv(paths["folds"], sep="\t", index=False)
    summarize(fake_folds()).to_csv(paths["summary"], sep="\t", index=False)
    return paths


def test_plot_jobs_write_png_and_svg(tables: dict[str, Path], tmp_path: Path) -> None:
    order = ["cnn", "mtmixg"]
    roc_plot(tables["predictions"], order, "sp", tmp_path / "roc.png", [tmp_path / "roc.svg"])
    confusion_plot(tables["predictions"], order, "binary", "sp", tmp_path / "confusion.png")
    bars_plot(tables["summary"], order, "Ablation (sp)", tmp_path / "bars.png")
    fold_accuracy_plot(tables["folds"], order, "sp", tmp_path / "folds.png")
    for name in ("roc", "confusion", "bars", "folds"):
        check_png(tmp_path / f"{name}.png")
    assert (tmp_path / "roc.svg").read_text().lstrip().startswith("<?xml")
    assert not (tmp_path / "confusion.svg").exists()
