"""Cross-species prediction: an all-chromosome model scores every gene of another species."""

from __future__ import annotations

import pytest
from training_data import make_windows, tiny_model

from mtmixg.cross_species import predict_species
from mtmixg.fold import train_fold
from mtmixg.sequence import WindowSpec
from mtmixg.training import TrainConfig


@pytest.fixture(scope="module")
def model_a(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cross")
    make_windows(root / "a", n_per_chrom=90, seed=0)
    cfg = TrainConfig(epochs=30, lr=3e-3, batch_size=32, warmup_epochs=3, patience=4, device="cpu", threads=1)
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


def test_window_mismatch_names_both_files(model_a) -> None:
    make_windows(model_a / "c", n_per_chrom=30, seed=3, spec=WindowSpec(50, 40, 0, 30, 60))
    with pytest.raises(ValueError, match=r"c/window.json: window .* differs from the model's .*model.json"):
        predict_species(model_a / "model", model_a / "c")
