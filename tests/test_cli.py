"""The `mtmixg` command: train -> evaluate -> predict, and one-line errors (exit 2) for bad input."""

import argparse
import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from mtmixg.cli import build_parser, main
from mtmixg.core.window_spec import WindowSpec
from training_data import SPEC, make_windows

MODEL_YAML = "arch: cnn\nchannels: 8\ncnn_channels: 8\ncnn_blocks: 2\npools: [4, 4]\nfc_hidden: [16]\n"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mtmixg.cli", *map(str, args)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A windows folder and a model trained on it through the real command line."""
    root = tmp_path_factory.mktemp("cli")
    make_windows(root / "windows", n_per_chrom=90)
    (root / "model.yaml").write_text(MODEL_YAML)
    r = _cli("train", root / "windows", "--fold", "chr1", "--task", "binary", "--seed", "3", "--out", root / "model",
             "--resume", root / "state.pt", "--model-config", root / "model.yaml", "--epochs", "2", "--lr", "1e-3",
             "--threads", "1")
    assert r.returncode == 0, r.stderr
    assert "epoch 2/2" in r.stderr and json.loads(r.stdout.strip().splitlines()[-1])["fold"] == "chr1"
    return root


def _err(capsys, argv) -> str:
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mtmixg: error: ") and err.count("\n") == 1, err
    return err


def registered_subcommands() -> list[str]:
    """The subcommands the `mtmixg` parser registers (its own list, whatever SUBCOMMANDS holds)."""
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return list(action.choices)


def test_help_for_every_subcommand(capsys):
    commands = registered_subcommands()
    assert {"train", "evaluate", "predict", "demo", "score-variants", "explain"} <= set(commands)
    for cmd in commands:
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0, cmd
        assert "usage: mtmixg " + cmd in capsys.readouterr().out, cmd


def test_evaluate_and_predict_agree(trained, tmp_path):
    root = trained
    assert (root / "model" / "model.pt").exists() and not (root / "state.pt").exists()
    assert main(["evaluate", str(root / "model"), str(root / "windows"), "--fold", "chr1",
                 "--metrics", str(tmp_path / "m.json"), "--predictions", str(tmp_path / "p.tsv")]) == 0
    m = json.loads((tmp_path / "m.json").read_text())
    fold_m = json.loads((root / "model" / "metrics.json").read_text())
    assert m["n"] == fold_m["n_test"] and m["auc"] == pytest.approx(fold_m["auc"])
    table = pd.read_csv(tmp_path / "p.tsv", sep="\t")
    # FASTA of the same windows through `mtmixg predict` (entry point, subprocess)
    from mtmixg.data.dataset import load_windows

    gw = load_windows(root / "windows")
    rows = gw.genes.index[gw.genes["gene_id"].isin(table["gene_id"])]
    fasta = tmp_path / "w.fa"
    with open(fasta, "w") as fh:
        for i in rows[:20]:
            seq = "".join("ACGTN"[c] for c in gw.codes[i])
            fh.write(f">{gw.genes.gene_id[i]} some description\n{seq[:70]}\n{seq[70:]}\n")
    exe = shutil.which("mtmixg")
    cmd = [exe] if exe else [sys.executable, "-m", "mtmixg.cli"]
    r = subprocess.run([*cmd, "predict", str(root / "model" / "model.pt"), "--fasta", str(fasta), "--out", str(tmp_path / "o.tsv")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    pred = pd.read_csv(tmp_path / "o.tsv", sep="\t")
    assert list(pred.columns) == ["gene_id", "prob", "predicted_class", "predicted_label"]
    merged = pred.merge(table, on="gene_id", suffixes=("", "_eval"))
    assert len(merged) == 20
    np.testing.assert_allclose(merged["prob"], merged["prob_eval"], rtol=1e-5)
    assert set(pred["predicted_class"]) <= {"low", "high"}


def test_unknown_arch(trained, capsys, tmp_path):
    err = _err(capsys, ["train", trained / "windows", "--fold", "chr1", "--arch", "resnet", "--out", tmp_path])
    assert "--arch" in err and "resnet" in err


def test_unknown_model_key_in_config_file(trained, capsys, tmp_path):
    cfg = tmp_path / "m.json"
    cfg.write_text(json.dumps({"arch": "cnn", "widht": 3}))
    err = _err(capsys, ["train", trained / "windows", "--fold", "chr1", "--model-config", cfg, "--out", tmp_path / "o"])
    assert "m.json" in err and "widht" in err


def test_missing_windows_folder(capsys, tmp_path):
    err = _err(capsys, ["train", tmp_path / "nope", "--fold", "chr1", "--out", tmp_path / "o"])
    assert "nope: no such windows folder" in err
    (tmp_path / "empty").mkdir()
    err = _err(capsys, ["train", tmp_path / "empty", "--fold", "chr1", "--out", tmp_path / "o"])
    assert "windows.npy: missing" in err
    assert not (tmp_path / "o").exists()


def test_unknown_fold(trained, capsys, tmp_path):
    err = _err(capsys, ["train", trained / "windows", "--fold", "chrZ", "--model-config", trained / "model.yaml",
                        "--out", tmp_path / "o", "--epochs", "1"])
    assert "chrZ" in err and "chr1, chr2, chr3" in err


def test_fasta_of_wrong_length_or_empty(trained, capsys, tmp_path):
    fa = tmp_path / "bad.fa"
    fa.write_text(">g1\n" + "A" * SPEC.length + "\n>g2\n" + "ACGT" * 10 + "\n")
    err = _err(capsys, ["predict", trained / "model", "--fasta", fa, "--out", tmp_path / "o.tsv"])
    assert "bad.fa:3: record 'g2' is 40 bases long" in err and str(SPEC.length) in err
    fa.write_text("\n")
    err = _err(capsys, ["predict", trained / "model", "--fasta", fa, "--out", tmp_path / "o.tsv"])
    assert "bad.fa: no FASTA records" in err
    assert not (tmp_path / "o.tsv").exists()


def test_corrupt_checkpoint(trained, capsys, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(trained / "model", broken)
    data = (broken / "model.pt").read_bytes()
    (broken / "model.pt").write_bytes(data[:100])
    fa = tmp_path / "w.fa"
    fa.write_text(">g1\n" + "A" * SPEC.length + "\n")
    err = _err(capsys, ["predict", broken / "model.pt", "--fasta", fa, "--out", tmp_path / "o.tsv"])
    assert "model.pt: corrupt" in err
    (broken / "model.json").unlink()
    err = _err(capsys, ["evaluate", broken, trained / "windows", "--metrics", tmp_path / "m.json"])
    assert "model.json: missing" in err


def test_windows_of_another_spec(trained, capsys, tmp_path):
    make_windows(tmp_path / "w", n_per_chrom=9, spec=WindowSpec(50, 30, 0, 30, 60))
    err = _err(capsys, ["evaluate", trained / "model", tmp_path / "w", "--metrics", tmp_path / "m.json"])
    assert "window.json" in err and "length 170" in err and "length 180" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a visible GPU")
def test_require_gpu_without_gpu(trained, tmp_path):
    r = _cli("train", trained / "windows", "--fold", "chr1", "--model-config", trained / "model.yaml",
             "--out", tmp_path / "o", "--require-gpu")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("mtmixg: error: ") and "CUDA_VISIBLE_DEVICES" in r.stderr
    assert not (tmp_path / "o").exists()


def test_predict_from_genome_and_gff3(trained, tmp_path):
    """--genome + --gff3 extracts the windows itself; they match a FASTA of the same windows."""
    from mtmixg.data.sequence import gene_window

    rng = np.random.default_rng(5)
    chroms = {c: "".join(rng.choice(list("ACGT"), 3000)) for c in ("1", "2")}
    (tmp_path / "g.fa").write_text("".join(f">{c} dna\n{s}\n" for c, s in chroms.items()))
    genes = [("gA", "1", 500, 1400, "+"), ("gB", "1", 1500, 2700, "-"), ("gC", "2", 700, 1200, "+"),
             ("gD", "2", 10, 900, "+")]  # gD's window runs off the chromosome start: skipped
    gff = ["##gff-version 3"] + [
        f"{c}\ttest\tgene\t{s + 1}\t{e}\t.\t{st}\t.\tID=gene:{g};biotype=protein_coding" for g, c, s, e, st in genes]
    (tmp_path / "a.gff3").write_text("\n".join(gff) + "\n")
    fetch = lambda c, lo, hi: chroms[c][lo:hi]
    (tmp_path / "w.fa").write_text("".join(
        f">{g}\n{gene_window(fetch, c, s, e, st, SPEC)}\n" for g, c, s, e, st in genes[:3]))
    assert main(["predict", str(trained / "model"), "--genome", str(tmp_path / "g.fa"), "--gff3",
                 str(tmp_path / "a.gff3"), "--out", str(tmp_path / "g.tsv")]) == 0
    assert main(["predict", str(trained / "model"), "--fasta", str(tmp_path / "w.fa"), "--out", str(tmp_path / "f.tsv")]) == 0
    by_genome = pd.read_csv(tmp_path / "g.tsv", sep="\t")
    by_fasta = pd.read_csv(tmp_path / "f.tsv", sep="\t")
    assert by_genome["gene_id"].tolist() == ["gA", "gB", "gC"] and by_genome["chrom"].astype(str).tolist() == ["1", "1", "2"]
    np.testing.assert_allclose(by_genome["prob"], by_fasta["prob"], rtol=1e-6)


def test_unwritable_output_is_one_line(trained, capsys, tmp_path):
    (tmp_path / "taken").write_text("a file where a folder is needed")
    err = _err(capsys, ["predict", trained / "model" / "model.pt", "--fasta", tmp_path / "none.fa",
                        "--out", tmp_path / "taken" / "p.tsv"])
    assert "none.fa" in err or "taken" in err


def test_set_accepts_exponent_numbers_and_refuses_batch_size_zero(trained, capsys, tmp_path):
    from mtmixg.cli import _key_values

    assert _key_values(["lr=1e-4", "balance=false", "epochs=3"], "--set") == {"lr": 1e-4, "balance": False, "epochs": 3}
    err = _err(capsys, ["train", trained / "windows", "--fold", "chr1", "--out", tmp_path, "--batch-size", "0"])
    assert "--batch-size: must be an integer >= 1" in err
