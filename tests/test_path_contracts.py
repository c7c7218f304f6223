"""Issue 20 item 2: the package honours every path a rule declares (files outside their
conventional folder or under other names), and runs travel as records carrying their paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtmixg.cross_species import build_matrix, predict_job
from mtmixg.data.dataset import WindowsFiles, load_windows, save_windows
from mtmixg.data.windows import build_windows
from mtmixg.interpret.attributions import attributions_job, explain_fold
from mtmixg.interpret.maps import Maps, MapsFiles, load_maps, save_maps
from mtmixg.interpret.motifs import pool_maps
from mtmixg.summary import read_summary, summary_job

ROOT = Path(__file__).resolve().parents[1]


def _scattered_windows(tmp_path: Path) -> WindowsFiles:
    """A WindowsFiles whose three files lie in three folders, under other names."""
    return WindowsFiles(tmp_path / "a" / "codes.npy", tmp_path / "b" / "table.tsv", tmp_path / "c" / "spec.json")


def test_build_windows_writes_each_declared_file(species, tmp_path) -> None:
    files = _scattered_windows(tmp_path)
    build_windows(**{**species, "windows": files.windows, "genes_out": files.genes, "spec_out": files.spec})
    assert all(path.is_file() for path in (files.windows, files.genes, files.spec))
    assert not (files.windows.parent / "genes.tsv").exists() and not (files.windows.parent / "window.json").exists()
    assert load_windows(files).genes["gene_id"].tolist() == ["A", "B", "C", "D"]


def test_windows_files_round_trip_outside_a_folder(fold, tmp_path) -> None:
    gw = load_windows(fold / "windows", mmap=False)
    files = _scattered_windows(tmp_path)
    save_windows(files, gw)
    again = load_windows(files)
    np.testing.assert_array_equal(np.asarray(again.codes), np.asarray(gw.codes))
    assert again.digest == gw.digest  # the same bytes: the same dataset digest


def _declared_fold(fold: Path, tmp_path: Path, n_test: int) -> dict:
    """The fold's model alone in a folder, its predictions.tsv (the first n_test test rows) in
    another folder under another name, and a decoy predictions.tsv beside model.pt."""
    model = tmp_path / "model" / "model.pt"
    model.parent.mkdir()
    for name in ("model.pt", "model.json"):
        shutil.copy(fold / "model" / name, model.parent / name)
    pred = pd.read_csv(fold / "model" / "predictions.tsv", sep="\t", dtype={"gene_id": str})
    test = pred[pred["set"] == "test"]
    declared = tmp_path / "elsewhere" / "held_out.tsv"
    declared.parent.mkdir()
    pd.concat([test.head(n_test), pred[pred["set"] != "test"]]).to_csv(declared, sep="\t", index=False)
    pd.DataFrame({"gene_id": ["decoy"], "set": ["test"]}).to_csv(model.parent / "predictions.tsv", sep="\t", index=False)
    return {"model": model, "predictions": declared, "genes": test["gene_id"].head(n_test).tolist()}


def test_attributions_job_reads_the_declared_predictions_and_writes_the_declared_maps(fold, tmp_path) -> None:
    run = _declared_fold(fold, tmp_path, n_test=3)
    maps = MapsFiles(tmp_path / "o" / "x.npz", tmp_path / "a" / "y.npz", tmp_path / "g" / "z.tsv", tmp_path / "i" / "w.json")
    windows = WindowsFiles.in_folder(fold / "windows")
    info = attributions_job(run["model"], run["model"].with_suffix(".json"), run["predictions"], windows, maps,
                            method="ism", ism_window=[0, 4])
    assert info["n_genes"] == 3  # the declared file's test rows, not the decoy beside model.pt
    assert load_maps(maps).genes["gene_id"].tolist() == run["genes"]
    assert not (tmp_path / "o" / "ohe.npz").exists() and not (maps.info.parent / "ohe.npz").exists()


def test_attributions_job_refuses_a_model_json_that_is_not_the_models(fold, tmp_path) -> None:
    run = _declared_fold(fold, tmp_path, n_test=2)
    other = tmp_path / "other.json"
    shutil.copy(run["model"].with_suffix(".json"), other)
    with pytest.raises(ValueError, match=r"other\.json: not the model\.json of .*model\.pt"):
        attributions_job(run["model"], other, run["predictions"], WindowsFiles.in_folder(fold / "windows"),
                         MapsFiles.in_folder(tmp_path / "maps"), method="ism")
    assert not (tmp_path / "maps").exists()


def test_explain_fold_takes_predictions_from_another_folder(fold, tmp_path) -> None:
    run = _declared_fold(fold, tmp_path, n_test=2)
    info = explain_fold(run["model"], fold / "windows", tmp_path / "maps", method="ism", ism_window=(0, 4),
                        predictions=run["predictions"])
    assert info["n_genes"] == 2 and load_maps(tmp_path / "maps").genes["gene_id"].tolist() == run["genes"]


def test_maps_files_under_other_names_pool(tmp_path) -> None:
    genes = pd.DataFrame({"gene_id": ["g1", "g2"], "label": [1, 0], "score": [0.5, 0.1]})
    maps = Maps(np.eye(4, dtype=np.int8)[None].repeat(2, 0), np.ones((2, 4, 4), np.float32), genes, {"method": "ism"})
    files = [MapsFiles(*(tmp_path / f"s{seed}" / name for name in ("o.npz", "a.npz", "g.tsv", "i.json")))
             for seed in (0, 1)]
    for f in files:
        save_maps(f, maps)
    pooled = pool_maps(files)
    assert pooled.genes["n_maps"].tolist() == [2, 2] and pooled.info["n_maps"] == 4


def _metrics(path: Path, accuracy: float, failed: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"accuracy": accuracy, "auc": 0.9, "f1": 0.7, "failed": failed, "n_test": 3}))
    return path


def test_summary_job_pairs_each_run_with_its_own_predictions(tmp_path) -> None:
    """Each run's predictions lie in their own folder under another name; the records, not an
    order, say which file is whose."""
    runs = []
    for i, (experiment, fold_name) in enumerate([("cnn", "1"), ("cnn", "2"), ("mtmixg", "1")]):
        predictions = tmp_path / "preds" / f"{i}.tsv"
        predictions.parent.mkdir(exist_ok=True)
        pd.DataFrame({"gene_id": [f"{experiment}{fold_name}"], "target": [1], "prob": [0.9],
                      "set": ["test"]}).to_csv(predictions, sep="\t", index=False)
        runs.append({"experiment": experiment, "seed": 0, "fold": fold_name, "predictions": predictions,
                     "metrics": _metrics(tmp_path / "m" / f"{experiment}_{fold_name}.json", 0.5 + i / 10)})
    out = {name: tmp_path / f"{name}.tsv" for name in ("summary", "folds", "predictions")}
    summary_job(runs[::-1], out["summary"], out["folds"], out["predictions"])
    pooled = pd.read_csv(out["predictions"], sep="\t", dtype=str)
    assert (pooled["experiment"] + pooled["fold"] == pooled["gene_id"]).all()
    folds = read_summary(out["folds"]).set_index(["experiment", "fold"])
    assert folds.loc[("mtmixg", "1"), "accuracy"] == pytest.approx(0.7)


def test_build_matrix_takes_each_species_folds_from_its_record(tmp_path) -> None:
    runs = [{"train_species": "a", "test_species": "b", "seed": 0, "metrics": _metrics(tmp_path / "x.json", 0.8)},
            {"train_species": "b", "test_species": "a", "seed": 0, "metrics": _metrics(tmp_path / "y.json", 0.6)}]
    loco = []
    for name, accuracy in (("b", 0.3), ("a", 0.4)):  # not in the runs' species order
        loco.append({"species": name, "folds": tmp_path / f"{name}" / "any_name.tsv"})
        loco[-1]["folds"].parent.mkdir()
        pd.DataFrame({"experiment": ["cnn"], "accuracy": [accuracy], "auc": [0.5], "f1": [0.5],
                      "failed": [False]}).to_csv(loco[-1]["folds"], sep="\t", index=False)
    m = build_matrix(runs, loco, "cnn", tmp_path / "matrix.tsv", log=lambda line: None)
    m = m.set_index(["train_species", "test_species"])["accuracy"]
    assert (m[("a", "a")], m[("b", "b")], m[("a", "b")], m[("b", "a")]) == (0.4, 0.3, 0.8, 0.6)


def test_predict_job_reads_the_declared_windows_files(fold, tmp_path) -> None:
    files = _scattered_windows(tmp_path)
    save_windows(files, load_windows(fold / "windows", mmap=False))
    metrics = predict_job(fold / "model" / "model.pt", fold / "model" / "model.json", fold / "model" / "metrics.json",
                          files, tmp_path / "p.tsv", tmp_path / "m.json", "a", "b", "cnn", 0, log=lambda line: None)
    assert metrics["same_dataset"] is True and (tmp_path / "p.tsv").is_file()


@pytest.mark.parametrize("script, names", [
    ("attributions.py", ["input.model", "input.meta", "input.predictions", "input.windows", "input.genes",
                         "input.spec", "output.ohe", "output.attr", "output.genes", "output.info"]),
    ("windows.py", ["output.windows", "output.genes", "output.spec", "output.skipped"]),
    ("cross_species_predict.py", ["input.meta", "input.windows", "input.genes", "input.spec"]),
])
def test_scripts_pass_every_declared_path(script: str, names: list[str]) -> None:
    """The rule's declared files each reach the package call (not one path and a naming convention)."""
    text = (ROOT / "workflow_scripts" / script).read_text()
    assert [name for name in names if f"snakemake.{name}" not in text] == []
