"""Attribution maps (ISM, DeepLIFT/SHAP and its refusal), their files, the MEME / TOMTOM helpers
and `mtmixg explain`, on small real models (the demo proof is tests/test_explain_demo.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from mtmixg.checkpoint import save_model
from mtmixg.cli import main
from mtmixg.data.dataset import load_windows
from mtmixg.interpret import attributions, deeplift, jaspar
from mtmixg.interpret.deeplift import deeplift_shap, with_module_activations
from mtmixg.interpret.ism import ism
from mtmixg.interpret.maps import load_maps
from mtmixg.interpret.motifs import pool_maps
from mtmixg.interpret.score import HighScore
from mtmixg.core.model_config import ModelConfig
from mtmixg.models.architectures import build_model
from mtmixg.data.sequence import codes_to_one_hot_batch, one_hot
from mtmixg.core.window_spec import WindowSpec
from training_data import SPEC, tiny_model


def _x(n: int, length: int, seed: int = 0) -> torch.Tensor:
    codes = np.random.default_rng(seed).integers(0, 4, size=(n, length)).astype(np.uint8)
    return torch.from_numpy(codes_to_one_hot_batch(codes))


def test_ism_equals_one_forward_pass_per_mutation():
    torch.manual_seed(0)
    score = HighScore(build_model(tiny_model()), "binary").eval()
    x = _x(2, SPEC.length)
    x[1, :, 5] = 0.0  # an N: no map there
    out = ism(score, x, start=3, end=9, batch_size=7)
    with torch.no_grad():
        for g in range(2):
            for i in range(3, 9):
                scores = []
                for b in range(4):
                    y = x[g : g + 1].clone()
                    y[0, :, i] = 0.0
                    y[0, b, i] = 1.0
                    scores.append(float(score(y)[0, 0]))
                expect = np.array(scores) - np.mean(scores) if x[g, :, i].sum() > 0 else np.zeros(4)
                np.testing.assert_allclose(out[g, :, i].numpy(), expect, atol=1e-5)
    assert out[:, :, :3].abs().sum() == 0 and out[:, :, 9:].abs().sum() == 0
    with pytest.raises(ValueError, match="sub-window"):
        ism(score, x, start=5, end=500)


def test_functional_relu_becomes_module_with_the_same_outputs():
    torch.manual_seed(0)
    model = build_model(tiny_model()).eval()
    x = _x(4, SPEC.length)
    before = model(x).detach()
    with_module_activations(model)
    assert sum(isinstance(m, nn.ReLU) for m in model.modules()) >= 2 * 2 + 1  # two per block, one in the head
    torch.testing.assert_close(model(x), before)


def test_deeplift_deltas_converge_for_cnn_and_fail_for_an_unhandled_nonlinearity():
    torch.manual_seed(0)
    spec = WindowSpec(60, 30, 10, 30, 60)
    score = with_module_activations(HighScore(build_model(tiny_model(seq_len=spec.length)), "binary").eval())
    x = _x(3, spec.length)
    x[:, :, 90:100] = 0.0  # the spacer
    hyp, deltas = deeplift_shap(score, x, spec, n_shuffles=4, seed=1)
    assert hyp.shape == x.shape and deltas.shape == (3, 4)
    assert deltas.abs().max() < deeplift.TOLERANCE
    assert hyp[:, :, 90:100].abs().sum() == 0
    # efficiency: contributions sum to score(x) - mean score(reference)
    refs = deeplift.shuffled_references(x, spec, 4, 1)
    with torch.no_grad():
        gap = score(x)[:, 0] - torch.stack([score(r)[:, 0] for r in refs.transpose(0, 1)]).mean(0)
    torch.testing.assert_close((hyp * x).sum((1, 2)), gap, atol=1e-4, rtol=1e-4)

    class Squash(nn.Module):  # a functional non-linearity DeepLIFT's hooks cannot see
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(4, 4, 5, padding=2)
            self.head = nn.Linear(4 * spec.length, 1)

        def forward(self, x):
            return self.head(torch.exp(torch.tanh(self.conv(x))).flatten(1))

    _, bad = deeplift_shap(Squash().eval(), x, spec, n_shuffles=4, seed=1)
    assert bad.abs().max() > deeplift.TOLERANCE


def test_explain_fold_maps_held_out_genes_only(fold, tmp_path):
    info = attributions.explain_fold(fold / "model", fold / "windows", tmp_path / "maps", n_shuffles=4)
    maps = load_maps(tmp_path / "maps")
    test = pd.read_csv(fold / "model" / "predictions.tsv", sep="\t").query("set == 'test'")
    assert list(maps.genes["gene_id"]) == list(test["gene_id"]) and set(maps.genes["chrom"]) == {"chr1"}
    assert info["method"] == "deeplift_shap" and info["max_abs_delta"] < deeplift.TOLERANCE
    assert maps.ohe.dtype == np.int8 and maps.attr.dtype == np.float16 and maps.ohe.shape == (len(test), 4, SPEC.length)
    windows = load_windows(fold / "windows")
    rows = windows.genes.reset_index().set_index("gene_id").loc[maps.genes["gene_id"], "index"].to_numpy()
    np.testing.assert_array_equal(maps.ohe, codes_to_one_hot_batch(np.asarray(windows.codes[rows])))
    with np.load(tmp_path / "maps" / "attr.npz") as f:  # modisco reads arr_0, (N, 4, L)
        assert f["arr_0"].shape == maps.ohe.shape
    assert json.loads((tmp_path / "maps" / "explain.json").read_text())["n_genes"] == len(test)
    pooled = pool_maps([tmp_path / "maps", tmp_path / "maps"])
    np.testing.assert_allclose(pooled.attr, maps.attr.astype(np.float32), atol=1e-3)
    assert (pooled.genes["n_maps"] == 2).all()


def test_failed_deltas_are_never_reported(fold, tmp_path, monkeypatch):
    monkeypatch.setattr(attributions, "TOLERANCE", -1.0)  # every delta fails
    with pytest.raises(ValueError, match="convergence deltas .* not written"):
        attributions.explain_fold(fold / "model", fold / "windows", tmp_path / "dl", method="deeplift", n_shuffles=2, max_genes=3)
    assert not (tmp_path / "dl").exists()
    info = attributions.explain_fold(fold / "model", fold / "windows", tmp_path / "auto", n_shuffles=2, max_genes=3, ism_window=(0, 20))
    assert info["method"] == "ism" and "exceed" in info["why"] and info["ism_window"] == [0, 20]
    assert "max_abs_delta" not in load_maps(tmp_path / "auto").genes.columns


def test_deeplift_refused_for_mamba_architectures(fold, tmp_path):
    assert not deeplift.supports_deeplift("mtmixg") and deeplift.supports_deeplift("cnn")
    cfg = ModelConfig(arch="mtmixg", seq_len=SPEC.length, channels=8, cnn_channels=8, cnn_blocks=2, pools=[4, 4],
                      heads=1, d_state=4, fc_hidden=[16])
    root = tmp_path / "m"  # an untrained mtmixg standing in for the fold's model
    save_model(root / "model.pt", build_model(cfg), {"model": cfg.to_dict(), "task": "binary", "window": SPEC.to_dict(), "fold": "chr1", "seed": 0})
    shutil.copy(fold / "model" / "predictions.tsv", root / "predictions.tsv")
    with pytest.raises(ValueError, match="does not handle its non-linearities"):
        attributions.explain_fold(root, fold / "windows", tmp_path / "x", method="deeplift")
    info = attributions.explain_fold(root, fold / "windows", tmp_path / "y", max_genes=2, ism_window=(10, 30))
    assert info["method"] == "ism" and "mtmixg" in info["why"]


def test_explain_command(fold, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["explain", "--model", str(fold / "model" / "model.pt"), "--windows", str(fold / "windows"), "--out", str(out),
                 "--method", "ism", "--ism-window", "0:30", "--max-genes", "2", "--threads", "1"]) == 0
    assert "2 genes by ism" in capsys.readouterr().out
    assert main(["explain", "--model", str(tmp_path / "none.pt"), "--windows", str(fold / "windows"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "none" in err[0]
    assert main(["explain", "--model", str(fold / "model"), "--windows", str(fold / "windows"), "--out", str(out), "--ism-window", "x"]) == 2


def test_meme_round_trip_bad_file_and_tomtom_match(tmp_path):
    act = one_hot("CGCACGTGAC").T.astype(float) * 0.97 + 0.0075
    jaspar.write_meme(tmp_path / "m.meme", [("ACT", "demo activator", act)])
    (mid, name, prob), = jaspar.read_meme(tmp_path / "m.meme")
    assert (mid, name) == ("ACT", "demo activator") and np.allclose(prob, act / act.sum(0), atol=1e-6)
    (tmp_path / "bad.meme").write_text("MEME version 4\n\nMOTIF X\nletter-probability matrix: alength= 4 w= 1\n0.5 0.5 x 0\n")
    with pytest.raises(ValueError, match=r"bad.meme:5: not a row of 4 numbers"):
        jaspar.read_meme(tmp_path / "bad.meme")
    release, plants = jaspar.jaspar_plants()  # offline: pyjaspar's bundled SQLite
    assert release.startswith("JASPAR") and len(plants) > 300
    table = jaspar.match([("ACT", "", act)], plants, n_best=3)
    assert len(table) == 3 and table["q_value"].iloc[0] < 0.05
    # CACGTG is the E-box of plant bHLH factors: the best match is one
    best = [p for p in plants if p[0] == table["match_id"].iloc[0]][0][2]
    assert "CACGTG" in "".join("ACGT"[i] for i in best.argmax(0)) or "CACGTG" in "".join("ACGT"[i] for i in best.argmax(0))[::-1]


def test_deeplift_deltas_converge_for_deepcre():
    """DeepCRE's Keras 'same' pools (pad + MaxPool1d) and its codon mask are modules DeepLIFT handles."""
    torch.manual_seed(0)
    spec = WindowSpec(256, 64, 0, 64, 256)  # 640 = 8 * 80: pools 640 -> 80 -> 10 -> 2
    cfg = ModelConfig(arch="deepcre", seq_len=spec.length, tss_index=spec.tss_index, tts_index=spec.tts_index)
    score = with_module_activations(HighScore(build_model(cfg), "binary").eval())
    x = _x(2, spec.length)
    hyp, deltas = deeplift_shap(score, x, spec, n_shuffles=4, seed=1)
    assert hyp.shape == x.shape
    assert deltas.abs().max() < deeplift.TOLERANCE


def test_attributions_job_maps_into_the_info_folder(fold, tmp_path):
    from mtmixg.data.dataset import WindowsFiles
    from mtmixg.interpret.attributions import attributions_job
    from mtmixg.interpret.maps import MapsFiles

    model = fold / "model" / "model.pt"
    info = attributions_job(model, model.with_suffix(".json"), fold / "model" / "predictions.tsv",
                            WindowsFiles.in_folder(fold / "windows"), MapsFiles.in_folder(tmp_path / "maps"),
                            method="ism", ism_window=[0, 8], threads=1)
    assert json.loads((tmp_path / "maps" / "explain.json").read_text())["n_genes"] == info["n_genes"] > 0
    assert info["method"] == "ism" and load_maps(tmp_path / "maps").attr.shape[0] == info["n_genes"]
