"""Cross-species prediction: an all-chromosome model scores every gene of another species."""

from __future__ import annotations

import pytest
from training_data import make_windows, tiny_model

from mtmixg.cross_species import predict_species
from mtmixg.train import train_fold
from mtmixg.core.window_spec import WindowSpec
from mtmixg.core.train_config import TrainConfig


@pytest.fixture(scope="module")
def model_a(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cross")
    make_windows(root / "a", n_per_chrom=90, seed=0)
    cfg = TrainConfig(epochs=30, lr=3e-3, batch_size=32, warmup_epochs=3, warmup_steps=0, patience=4, device="cpu",
                      threads=1)
    metrics = train_fold(root / "a", None, "binary", tiny_model(), cfg, 0, root / "model", log=None)
    assert metrics["n_test"] == 0
    return root


def test_predicts_every_task_gene_of_the_other_species(model_a) -> None:
    gw_b = make_windows(model_a / "b", n_per_chrom=60, chroms=("c1", "c2"), seed=5)
    frame, metrics = predict_species(model_a / "model" / "model.pt", model_a / "b")
    labels = gw_b.genes["label"].to_numpy()
    assert metrics["n"] == int((labels != 0).sum()) == len(frame)
    assert set(frame["gene_id"]) == set(gw_b.genes.loc[labels != 0, "gene_id"])
    assert frame["prob"].between(0, 1).all()
    assert list(frame["target"]) == [int(x == 1) for x in frame["label"]]
    # the same planted motif in species b: the model transfers well above chance
    assert metrics["auc"] > 0.8, metrics


def test_own_training_windows_are_flagged(model_a, capsys) -> None:
    assert predict_species(model_a / "model", model_a / "a")[1]["same_dataset"] is True
    assert "model.pt was trained on these very windows" in capsys.readouterr().err
    make_windows(model_a / "d", n_per_chrom=30, seed=9)
    assert predict_species(model_a / "model", model_a / "d")[1]["same_dataset"] is False


def test_window_mismatch_names_both_files(model_a) -> None:
    make_windows(model_a / "c", n_per_chrom=30, seed=3, spec=WindowSpec(50, 40, 0, 30, 60))
    with pytest.raises(ValueError, match=r"c/window.json: window .* differs from the model's .*model.json"):
        predict_species(model_a / "model", model_a / "c")


def test_matrix_leaves_failed_models_out_and_counts_them() -> None:
    import pandas as pd

    from mtmixg.cross_species import cross_matrix

    cross = pd.DataFrame({"train_species": ["a", "a", "b"], "test_species": ["b", "b", "a"], "seed": [0, 1, 0],
                          "accuracy": [0.9, 0.5, 0.8], "auc": [0.95, 0.5, 0.85], "f1": [0.9, 0.5, 0.8],
                          "failed": [False, True, False]})
    loco = pd.DataFrame({"species": ["a", "a", "b"], "accuracy": [0.7, 0.5, 0.6], "auc": [0.8, 0.5, 0.7],
                         "f1": [0.7, 0.5, 0.6], "failed": [False, True, False]})
    m = cross_matrix(cross, loco).set_index(["train_species", "test_species"])
    assert m.loc[("a", "b"), "accuracy"] == 0.9 and m.loc[("a", "b"), "n_runs"] == 2 and m.loc[("a", "b"), "n_failed"] == 1
    assert m.loc[("a", "b"), "accuracy_all"] == pytest.approx(0.7)  # the failed run scored as it is
    assert m.loc[("a", "a"), "accuracy"] == 0.7 and m.loc[("a", "a"), "n_failed"] == 1
    assert m.loc[("a", "a"), "accuracy_all"] == pytest.approx(0.6)
    assert m.loc[("b", "a"), "n_failed"] == 0


def test_prediction_metrics_carry_the_training_failed_flag(model_a) -> None:
    make_windows(model_a / "d", n_per_chrom=30, chroms=("c1",), seed=7)
    _, metrics = predict_species(model_a / "model" / "model.pt", model_a / "d")
    assert metrics["failed"] is False
    # a model that stayed at chance level: one epoch, and any loss within 0.99 of chance counts as chance
    cfg = TrainConfig(epochs=1, batch_size=32, warmup_epochs=0, warmup_steps=0, chance_margin=0.99, max_restarts=0,
                      device="cpu", threads=1)
    trained = train_fold(model_a / "a", None, "binary", tiny_model(), cfg, 0, model_a / "failed_model", log=None)
    assert trained["failed"] is True
    _, metrics = predict_species(model_a / "failed_model" / "model.pt", model_a / "d")
    assert metrics["failed"] is True


def test_predict_job_writes_both_files_and_needs_the_training_metrics(model_a, tmp_path) -> None:
    import json

    from mtmixg.cross_species import predict_job

    make_windows(model_a / "e" / "windows", n_per_chrom=30, chroms=("c1",), seed=11)
    from mtmixg.data.dataset import WindowsFiles

    args = dict(model=model_a / "model" / "model.pt", meta=model_a / "model" / "model.json",
                windows=WindowsFiles.in_folder(model_a / "e" / "windows"),
                predictions_out=tmp_path / "p.tsv", metrics_out=tmp_path / "m.json", train_species="a",
                test_species="e", experiment="cnn", seed="2", log=lambda line: None)
    metrics = predict_job(trained_metrics=model_a / "model" / "metrics.json", **args)
    assert json.loads((tmp_path / "m.json").read_text()) == metrics
    assert (metrics["train_species"], metrics["test_species"], metrics["seed"], metrics["failed"]) == ("a", "e", 2, False)
    assert len((tmp_path / "p.tsv").read_text().splitlines()) == metrics["n"] + 1
    with pytest.raises(FileNotFoundError, match="nothing.json: the training metrics of .*model.pt are missing"):
        predict_job(trained_metrics=tmp_path / "nothing.json", **args)


def test_build_matrix_reads_runs_and_the_experiments_folds(tmp_path) -> None:
    import json

    import pandas as pd

    from mtmixg.cross_species import build_matrix

    runs = [{"train_species": "a", "test_species": "b", "seed": 0, "metrics": tmp_path / "m0.json"},
            {"train_species": "b", "test_species": "a", "seed": 0, "metrics": tmp_path / "m1.json"}]
    for run, failed in zip(runs, [False, True]):
        run["metrics"].write_text(json.dumps({"accuracy": 0.8, "auc": 0.9, "f1": 0.7, "failed": failed}))
    loco = [{"species": name, "folds": tmp_path / f"{name}_folds.tsv"} for name in ("a", "b")]
    for record in loco:
        pd.DataFrame({"experiment": ["cnn", "other"], "accuracy": [0.6, 0.1], "auc": [0.7, 0.1], "f1": [0.5, 0.1],
                      "failed": [False, False]}).to_csv(record["folds"], sep="\t", index=False)
    matrix = build_matrix(runs, loco, "cnn", tmp_path / "matrix.tsv", log=lambda line: None)
    m = matrix.set_index(["train_species", "test_species"])
    assert m.loc[("a", "b"), "accuracy"] == 0.8 and m.loc[("b", "a"), "n_failed"] == 1
    assert m.loc[("a", "a"), "accuracy"] == 0.6 and m.loc[("b", "b"), "source"] == "loco"  # the experiment's rows only
    assert (tmp_path / "matrix.tsv").is_file()
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"accuracy": 0.8, "auc": 0.9, "f1": 0.7}))  # no failed flag: not taken as trained
    with pytest.raises(KeyError, match="failed"):
        build_matrix([{**runs[0], "metrics": broken}], loco, "cnn", tmp_path / "matrix.tsv", log=lambda line: None)
