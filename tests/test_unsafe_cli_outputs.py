"""Issue 19, the `mtmixg` commands: no command writes over one of its inputs; a killed `train` or
`explain` leaves its output folder either the old whole result or the new whole one; numbers,
pickled checkpoints and write errors get one line naming the flag or the user's file; evaluate and
explain know the windows a model was trained on by gene IDs, folds and sequences, not bytes.

Everything runs through the real entry point (`mtmixg.cli.main`, or `python -m mtmixg.cli` in a
subprocess for the kills) on tiny models.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
import torch

from mtmixg.checkpoint import save_model
from mtmixg.cli import main
from mtmixg.interpret.maps import load_maps
from mtmixg.models.architectures import build_model
from training_data import SPEC, make_windows, tiny_model

MODEL_YAML = "arch: cnn\nchannels: 8\ncnn_channels: 8\ncnn_blocks: 2\npools: [4, 4]\nfc_hidden: [16]\n"
QUICK = ["--epochs", "1", "--threads", "1", "--lr", "1e-3", "--set", "warmup_steps=0", "--set", "max_restarts=0"]
EXPLAIN = ["--method", "ism", "--ism-window", "0:4", "--threads", "1"]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> dict:
    """Windows, a model trained on them (fold chr1), its maps, a FASTA of windows, and a small
    genome + GFF3 + VCF with an untrained model of the same window for score-variants."""
    root = tmp_path_factory.mktemp("unsafe_outputs")
    gw = make_windows(root / "windows", n_per_chrom=60)
    (root / "model.yaml").write_text(MODEL_YAML)
    assert main(["train", str(root / "windows"), "--fold", "chr1", "--out", str(root / "model"),
                 "--model-config", str(root / "model.yaml"), *QUICK]) == 0
    assert main(["explain", "--model", str(root / "model"), "--windows", str(root / "windows"),
                 "--out", str(root / "maps"), "--max-genes", "3", *EXPLAIN]) == 0
    seqs = ["".join("ACGTN"[c] for c in gw.codes[i]) for i in range(3)]
    (root / "win.fa").write_text("".join(f">g{i}\n{s}\n" for i, s in enumerate(seqs)))
    rng = np.random.default_rng(4)
    chrom = "".join(rng.choice(list("ACGT"), 3000))
    (root / "g.fa").write_text(f">1\n{chrom}\n")
    (root / "a.gff3").write_text("##gff-version 3\n1\tt\tgene\t501\t1400\t.\t+\t.\tID=gene:gA;biotype=protein_coding\n")
    cfg = tiny_model()
    save_model(root / "vmodel" / "model.pt", build_model(cfg),
               {"task": "binary", "window": SPEC.to_dict(), "model": cfg.to_dict(), "fold": "1", "seed": 0})
    (root / "calls.vcf").write_text("##fileformat=VCFv4.2\n##contig=<ID=1,length=3000>\n"
                                    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                                    f"1\t480\tv1\t{chrom[479]}\t{'A' if chrom[479] != 'A' else 'C'}\t.\t.\t.\n")
    pysam.tabix_index(str(root / "calls.vcf"), preset="vcf", force=True)  # -> calls.vcf.gz (+ .tbi)
    return {"root": root}


def _digest(path: Path) -> str:
    """sha256 of a file, or of a folder's (name, bytes) pairs."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _message(capsys) -> str:
    """The one error line (progress and log lines aside), which ends stderr."""
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("mtmixg")]
    assert len(errors) == 1 and err[-1] == errors[0], err
    return errors[0]


def _sv(r: Path, *extra, model: Path | None = None) -> list:
    return ["score-variants", model or r / "vmodel", "--genome", r / "g.fa", "--gff3", r / "a.gff3", "--threads", "1",
            "--device", "cpu", *extra]


def _link(t: Path, target: Path, name: str, hard: bool = False) -> Path:
    (os.link if hard else os.symlink)(target, t / name)
    return t / name


# ------------------------------------------------------------------ 4. never write over an input
# Each builder gets (root, tmp) and returns (command line, the input that must stay as it was).
def _copy(src: Path, dst: Path) -> Path:
    (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    return dst


def _json_config(folder: Path) -> Path:
    """The tiny model's config as model.json inside folder (which train would replace)."""
    folder.mkdir()
    (folder / "model.json").write_text(json.dumps({"arch": "cnn", "channels": 8, "cnn_channels": 8, "cnn_blocks": 2,
                                                   "pools": [4, 4], "fc_hidden": [16]}))
    return folder / "model.json"


OVERWRITES = {
    "predict_out_is_its_fasta": (
        lambda r, t: (["predict", r / "model", "--fasta", _copy(r / "win.fa", t / "w.fa"), "--out", t / "w.fa"], t / "w.fa"),
        r"--out .*w.fa: is the same file as --fasta .*w.fa; a command never writes over its input"),
    "predict_out_is_a_hard_link_of_its_fasta": (
        lambda r, t: (["predict", r / "model", "--fasta", _copy(r / "win.fa", t / "w.fa"), "--out",
                       _link(t, t / "w.fa", "h.tsv", hard=True)], t / "w.fa"),
        r"--out .*h.tsv: is the same file as --fasta .*w.fa"),
    "predict_out_is_the_model_json": (
        lambda r, t: (["predict", _copy(r / "model", t / "m"), "--fasta", r / "win.fa", "--out", t / "m" / "model.json"], t / "m"),
        r"--out .*model.json: is the same file as model.json .*m/model.json"),
    "score_variants_out_is_its_vcf": (
        lambda r, t: (_sv(r, "--vcf", _copy(r / "calls.vcf.gz", t / "x.vcf.gz"), "--out", t / "x.vcf.gz"), t / "x.vcf.gz"),
        r"--out .*x.vcf.gz: is the same file as --vcf .*x.vcf.gz"),
    "score_variants_vcf_out_is_a_symlink_to_its_vcf": (
        lambda r, t: (_sv(r, "--vcf", _copy(r / "calls.vcf.gz", t / "x.vcf.gz"), "--out", t / "o.tsv",
                          "--vcf-out", _link(t, t / "x.vcf.gz", "l.vcf.gz")), t / "x.vcf.gz"),
        r"--vcf-out .*l.vcf.gz: is the same file as --vcf .*x.vcf.gz"),
    "score_variants_out_is_the_model_json": (
        lambda r, t: (_sv(r, "--vcf", r / "calls.vcf.gz", "--out", t / "vm" / "model.json",
                          model=_copy(r / "vmodel", t / "vm")), t / "vm"),
        r"--out .*vm/model.json: is the same file as .*vm/model.json of MODELS .*vm;"),
    "evaluate_predictions_is_the_windows_genes_tsv": (
        lambda r, t: (["evaluate", r / "model", _copy(r / "windows", t / "w"), "--fold", "chr1", "--metrics", t / "m.json",
                       "--predictions", t / "w" / "genes.tsv"], t / "w"),
        r"--predictions .*w/genes.tsv: is the same file as .*w/genes.tsv of windows .*w; a command never writes"),
    "evaluate_metrics_and_predictions_one_file": (
        lambda r, t: (["evaluate", r / "model", r / "windows", "--fold", "chr1", "--metrics", t / "o",
                       "--predictions", t / "o"], r / "model"),
        r"--predictions .*o: is the same file as --metrics .*o; give each output its own file"),
    "train_out_is_the_windows_folder": (
        lambda r, t: (["train", _copy(r / "windows", t / "w"), "--fold", "chr1", "--out", t / "w", "--model-config", r / "model.yaml", *QUICK], t / "w"),
        r"--out .*w: holds windows .*w; the output folder is replaced whole"),
    "train_resume_is_the_windows_npy": (
        lambda r, t: (["train", _copy(r / "windows", t / "w"), "--fold", "chr1", "--out", t / "o", "--resume",
                       t / "w" / "windows.npy", "--model-config", r / "model.yaml", *QUICK], t / "w"),
        r"--resume .*w/windows.npy: is the same file as .*windows.npy of windows"),
    "train_resume_is_the_model_it_writes": (
        lambda r, t: (["train", _copy(r / "windows", t / "w"), "--fold", "chr1", "--out", t / "m", "--resume",
                       t / "m" / "model.pt", "--model-config", r / "model.yaml", *QUICK], t / "w"),
        r"--resume .*m/model.pt: is the same file as result .*m/model.pt"),
    "train_model_config_inside_out": (
        lambda r, t: (["train", r / "windows", "--fold", "chr1", "--out", t / "o", "--model-config",
                       _json_config(t / "o"), *QUICK], t / "o"),
        r"--out .*o: holds --model-config .*o/model.json"),
    "explain_out_is_the_model_folder": (
        lambda r, t: (["explain", "--model", _copy(r / "model", t / "m"), "--windows", r / "windows", "--out", t / "m",
                       *EXPLAIN], t / "m"),
        r"--out .*m: holds --model .*m/model.pt"),
}


@pytest.mark.parametrize("case", OVERWRITES)
def test_no_command_writes_over_its_input(ctx, tmp_path, capsys, case):
    build, expected = OVERWRITES[case]
    argv, kept = build(ctx["root"], tmp_path)
    before = _digest(kept)
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 2
    message = _message(capsys)
    assert message.startswith("mtmixg: error: ") and re.search(expected, message), message
    assert _digest(kept) == before


def test_score_variants_default_vcf_out_is_never_the_input(ctx, tmp_path, capsys):
    """--vcf calls.vcf.gz --out calls.tsv: the annotated copy goes to calls.mtmixg.vcf.gz and the
    input stays as it was, so the same command runs again."""
    vcf = _copy(ctx["root"] / "calls.vcf.gz", tmp_path / "calls.vcf.gz")
    before = _digest(vcf)
    for _ in range(2):
        assert main([str(a) for a in _sv(ctx["root"], "--vcf", vcf, "--out", tmp_path / "calls.tsv")]) == 0
        assert _digest(vcf) == before
    with pysam.VariantFile(str(tmp_path / "calls.mtmixg.vcf.gz")) as annotated:
        assert [rec.id for rec in annotated] == ["v1"]
    help_text = subprocess.run([sys.executable, "-m", "mtmixg.cli", "score-variants", "--help"], capture_output=True,
                               text=True, env={**os.environ, "COLUMNS": "200"}).stdout
    assert "default: in --out's folder, named after --vcf with .mtmixg.vcf.gz" in help_text


# ------------------------------------------------------------------ 5, 6. folders whole or not at all
KILL = """
import os, signal, sys
import {module} as target
real = target.{name}

def die(*args, **kwargs):
    {condition}
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)

target.{name} = die
from mtmixg.cli import main
main(sys.argv[1:])
"""


def _killed(module: str, name: str, condition: str, argv: list) -> None:
    """Run `mtmixg argv` in a subprocess that SIGKILLs itself when module.name is called (and
    condition holds): mid-write of its output folder."""
    code = KILL.format(module=module, name=name, condition=condition)
    proc = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr


def test_killed_train_leaves_the_old_whole_model_then_a_new_one(ctx, tmp_path, capsys):
    """Fold chr2 into a folder holding fold chr1's model, killed after its predictions and metrics
    are written: the folder is still fold chr1's, byte for byte; explain reads it. A finished run
    replaces it whole and keeps a foreign file (a log) that was in it."""
    out = _copy(ctx["root"] / "model", tmp_path / "model")
    (out / "train.log").write_text("my log\n")
    before = _digest(out)
    argv = ["train", ctx["root"] / "windows", "--fold", "chr2", "--out", out, "--model-config", ctx["root"] / "model.yaml", *QUICK]
    _killed("mtmixg.train", "save_model", "if True:", argv)
    assert _digest(out) == before
    assert main(["explain", "--model", str(out), "--windows", str(ctx["root"] / "windows"), "--out", str(tmp_path / "maps"),
                 "--max-genes", "2", *EXPLAIN]) == 0
    assert main([str(a) for a in argv]) == 0
    folds = {json.loads((out / "model.json").read_text())["fold"], json.loads((out / "metrics.json").read_text())["fold"]}
    assert folds == {"chr2"} and (out / "train.log").read_text() == "my log\n"
    test = pd.read_csv(out / "predictions.tsv", sep="\t")
    assert set(test.loc[test["set"] == "test", "chrom"]) == {"chr2"}
    hidden = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(hidden) == 1 and hidden[0].startswith(".model.") and hidden[0].endswith(".tmp")  # the killed run's


def test_killed_explain_leaves_the_old_whole_maps_then_new_ones(ctx, tmp_path, capsys):
    """Maps of 4 genes into a folder holding maps of 3, killed after ohe.npz and attr.npz are
    written: the folder holds the 3-gene maps, byte for byte, and load_maps reads them."""
    out = _copy(ctx["root"] / "maps", tmp_path / "maps")
    before = _digest(out)
    argv = ["explain", "--model", ctx["root"] / "model", "--windows", ctx["root"] / "windows", "--out", out,
            "--max-genes", "4", *EXPLAIN]
    _killed("mtmixg.interpret.maps", "atomic_write", "if str(args[0]).endswith('genes.tsv'):", argv)
    assert _digest(out) == before and len(load_maps(out).genes) == 3
    assert main([str(a) for a in argv]) == 0
    maps = load_maps(out)
    assert len(maps.genes) == maps.ohe.shape[0] == 4


def test_explain_refuses_a_predictions_tsv_of_another_fold(ctx, tmp_path, capsys):
    """A folder mixed by an older mtmixg (fold chr2's predictions beside fold chr1's model): explain
    says so instead of explaining training genes as held-out ones."""
    mixed = _copy(ctx["root"] / "model", tmp_path / "m")
    assert main(["train", str(ctx["root"] / "windows"), "--fold", "chr2", "--out", str(tmp_path / "m2"),
                 "--model-config", str(ctx["root"] / "model.yaml"), *QUICK]) == 0
    shutil.copy(tmp_path / "m2" / "predictions.tsv", mixed / "predictions.tsv")
    capsys.readouterr()
    assert main(["explain", "--model", str(mixed), "--windows", str(ctx["root"] / "windows"), "--out",
                 str(tmp_path / "maps"), *EXPLAIN]) == 2
    assert re.search(r"m/predictions.tsv: test gene \S+ is not of the model's held-out fold chr1", _message(capsys))
    assert not (tmp_path / "maps").exists()


# ------------------------------------------------------------------ the windows a model trained on
def _resaved(ctx, t: Path) -> Path:
    """The training windows with genes.tsv re-saved with other float formatting."""
    w = _copy(ctx["root"] / "windows", t / "w")
    genes = pd.read_csv(w / "genes.tsv", sep="\t", dtype=str)
    genes["logMaxTPM"] = genes["logMaxTPM"].astype(float)
    genes.to_csv(w / "genes.tsv", sep="\t", index=False, float_format="%.3f")
    assert _digest(w / "genes.tsv") != _digest(ctx["root"] / "windows" / "genes.tsv")
    return w


def test_evaluate_refuses_training_genes_of_a_resaved_genes_tsv(ctx, tmp_path, capsys):
    w = _resaved(ctx, tmp_path)
    capsys.readouterr()
    assert main(["evaluate", str(ctx["root"] / "model"), str(w), "--metrics", str(tmp_path / "m.json")]) == 2
    assert re.search(r"--fold None: every gene of .*genes.tsv includes genes the model trained on", _message(capsys))
    assert not (tmp_path / "m.json").exists()
    assert main(["evaluate", str(ctx["root"] / "model"), str(w), "--fold", "chr1", "--metrics", str(tmp_path / "m.json")]) == 0


def test_explain_refuses_windows_the_model_did_not_train_on(ctx, tmp_path, capsys):
    make_windows(tmp_path / "other", n_per_chrom=60, seed=1)  # same gene IDs and folds, other sequences
    capsys.readouterr()
    assert main(["explain", "--model", str(ctx["root"] / "model"), "--windows", str(tmp_path / "other"), "--out",
                 str(tmp_path / "maps"), *EXPLAIN]) == 2
    assert re.search(r"other: not the windows .*model.pt was trained on", _message(capsys))
    assert not (tmp_path / "maps").exists()
    assert main(["explain", "--model", str(ctx["root"] / "model"), "--windows", str(_resaved(ctx, tmp_path)),
                 "--out", str(tmp_path / "maps"), "--max-genes", "1", *EXPLAIN]) == 0


# ------------------------------------------------------------------ numbers, pickles, write errors
def _train(r, *extra):
    return ["train", r / "windows", "--fold", "chr1", "--out", r / "never", "--model-config", r / "model.yaml", *QUICK, *extra]


def _explain(r, *extra):
    return ["explain", "--model", r / "model", "--windows", r / "windows", "--out", r / "never", *EXPLAIN, *extra]


NUMBERS = {
    "train_threads_zero": (lambda r: _train(r, "--threads", "0"), "argument --threads: must be an integer >= 1, got 0"),
    "train_seed_negative": (lambda r: _train(r, "--seed", "-1"), "argument --seed: must be an integer >= 0, got -1"),
    "explain_max_genes_zero": (lambda r: _explain(r, "--max-genes", "0"), "argument --max-genes: must be an integer >= 1, got 0"),
    "explain_max_genes_negative": (lambda r: _explain(r, "--max-genes", "-2"),
                                   "argument --max-genes: must be an integer >= 1, got -2"),
    "explain_threads_negative": (lambda r: _explain(r, "--threads", "-1"), "argument --threads: must be an integer >= 1, got -1"),
    "explain_seed_negative": (lambda r: _explain(r, "--seed", "-3"), "argument --seed: must be an integer >= 0, got -3"),
    "score_variants_max_indel_zero": (lambda r: _sv(r, "--vcf", r / "calls.vcf.gz", "--out", r / "never.tsv", "--max-indel", "0"),
                                      "argument --max-indel: must be an integer >= 1, got 0"),
    "score_variants_batch_size_negative": (
        lambda r: _sv(r, "--vcf", r / "calls.vcf.gz", "--out", r / "never.tsv", "--batch-size", "-8"),
        "argument --batch-size: must be an integer >= 1, got -8"),
    "score_variants_threads_zero": (lambda r: _sv(r, "--vcf", r / "calls.vcf.gz", "--out", r / "never.tsv", "--threads", "0"),
                                    "argument --threads: must be an integer >= 1, got 0"),
    "predict_batch_size_zero": (lambda r: ["predict", r / "model", "--fasta", r / "win.fa", "--out", r / "never.tsv",
                                           "--batch-size", "0"], "argument --batch-size: must be an integer >= 1, got 0"),
}


@pytest.mark.parametrize("case", NUMBERS)
def test_numbers_out_of_range_name_the_flag(ctx, capsys, case):
    build, expected = NUMBERS[case]
    capsys.readouterr()
    assert main([str(a) for a in build(ctx["root"])]) == 2
    assert expected in _message(capsys)
    assert not any(p.name.startswith("never") for p in ctx["root"].iterdir())


class Payload:
    """Any Python object: what a weights-only load must refuse."""


def test_pickled_resume_state_is_named_plainly(ctx, tmp_path, capsys):
    torch.save({"epoch": Payload()}, tmp_path / "state.pt")
    capsys.readouterr()
    assert main([str(a) for a in _train(ctx["root"], "--resume", tmp_path / "state.pt")]) == 2
    message = _message(capsys)
    assert "state.pt: is not a weights-only checkpoint: it holds pickled Python objects, which can run code when " \
           "loaded, and must never be loaded that way; delete it" in message
    assert "weights_only" not in message and "Re-running" not in message


@pytest.mark.skipif(not os.access("/sys", os.F_OK) or os.access("/sys", os.W_OK) and not os.path.ismount("/sys"),
                    reason="needs a read-only folder: /sys")
@pytest.mark.parametrize("command", ["predict", "explain"])
def test_write_error_names_the_file_asked_for(ctx, capsys, command):
    """An unwritable output folder: the one line names the user's path, not a hidden .tmp."""
    r = ctx["root"]
    argv = (["predict", r / "model", "--fasta", r / "win.fa", "--out", "/sys/p.tsv"] if command == "predict"
            else ["explain", "--model", r / "model", "--windows", r / "windows", "--out", "/sys/maps", "--max-genes", "1", *EXPLAIN])
    capsys.readouterr()
    assert main([str(a) for a in argv]) == 2
    message = _message(capsys)
    assert re.fullmatch(r"mtmixg: error: /sys/(p\.tsv|maps): (Permission denied|Operation not permitted|"
                        r"Read-only file system)", message), message
