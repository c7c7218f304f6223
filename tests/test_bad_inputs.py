"""Bad inputs as a user meets them: one case per input, through the real `mtmixg` command (its
entry point, in process) or Snakemake. Each case asserts the exit code, the first line of the
message and that no output was left behind (no result file, no hidden temporary file).

The causes are listed, with their count, in README.md's "Reliability" section.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mtmixg.cli import main
from mtmixg.data.dataset import load_windows, save_windows
from training_data import SPEC, make_windows
from workflow_helpers import no_leftovers as _no_leftovers
from workflow_helpers import run_tiny as _run

MODEL_YAML = "arch: cnn\nchannels: 8\ncnn_channels: 8\ncnn_blocks: 2\npools: [4, 4]\nfc_hidden: [16]\n"
QUICK = ["--epochs", "1", "--threads", "1", "--lr", "1e-3", "--set", "warmup_steps=0", "--set", "max_restarts=0"]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory) -> dict:
    """A windows folder, a model trained on it (fold chr1) by `mtmixg train`, a FASTA of its windows."""
    root = tmp_path_factory.mktemp("bad_inputs")
    gw = make_windows(root / "windows", n_per_chrom=60)
    (root / "model.yaml").write_text(MODEL_YAML)
    assert main(["train", str(root / "windows"), "--fold", "chr1", "--out", str(root / "model"),
                 "--model-config", str(root / "model.yaml"), *QUICK]) == 0
    seqs = ["".join("ACGTN"[c] for c in gw.codes[i]) for i in range(3)]
    (root / "ok.fa").write_text("".join(f">g{i}\n{s}\n" for i, s in enumerate(seqs)))
    return {"root": root, "windows": root / "windows", "model": root / "model", "seq": seqs[0]}


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ------------------------------------------------------------------ the cases
# Each builder gets (ctx, tmp) and returns the command line; outputs go under tmp / "out*".
def _train(c, t, *extra, windows=None):
    return ["train", windows or c["windows"], "--fold", "chr1", "--out", t / "out", "--model-config",
            c["root"] / "model.yaml", *QUICK, *extra]


def _windows_with(c, t, edit) -> Path:
    w = _copy(c["windows"], t / "w")
    edit(w)
    return w


def _codes_out_of_range(w: Path):
    codes = np.load(w / "windows.npy")
    codes[7, 11] = 9
    np.save(w / "windows.npy", codes)


def _one_class(w: Path):
    gw = load_windows(w, mmap=False)
    genes = gw.genes.copy()
    genes.loc[genes["chrom"] != "chr1", "label"] = -1  # every training gene low
    save_windows(w, type(gw)(np.asarray(gw.codes), genes, gw.spec))


def _model_with(c, t, edit) -> Path:
    m = _copy(c["model"], t / "m")
    edit(m)
    return m


def _edit_json(m: Path, change):
    meta = json.loads((m / "model.json").read_text())
    change(meta)
    (m / "model.json").write_text(json.dumps(meta, indent=2))


def _shift_window(meta):
    meta["window"]["upstream_tss"] += 6
    meta["window"]["downstream_tss"] -= 6


def _fasta(t: Path, text: str) -> Path:
    (t / "in.fa").write_text(text)
    return t / "in.fa"


def _eval(c, t, *extra, model=None, windows=None):
    return ["evaluate", model or c["model"], windows or c["windows"], "--metrics", t / "out.json", *extra]


def _predict(c, t, fasta, model=None, out=None):
    return ["predict", model or c["model"], "--fasta", fasta, "--out", out or t / "out.tsv"]


CASES = {
    # train: options and config files
    "train_windows_folder_missing": (lambda c, t: _train(c, t, windows=t / "nowhere"), r"nowhere: no such windows folder"),
    "train_unknown_arch": (lambda c, t: _train(c, t, "--arch", "bogus"), r"argument --arch: invalid choice"),
    "train_unknown_model_key": (lambda c, t: _train(c, t, "--model", "bogus=1"), r"model.yaml: unknown model key\(s\): bogus"),
    "train_unknown_training_key": (lambda c, t: _train(c, t, "--set", "bogus=1"), r"training options: unknown train key\(s\): bogus"),
    "train_batch_size_zero": (lambda c, t: _train(c, t, "--batch-size", "0"), r"argument --batch-size: must be an integer >= 1"),
    "train_negative_lr": (lambda c, t: _train(c, t, "--lr", "-1"), r"training options: train key 'lr' must be > 0"),
    "train_negative_warmup_steps": (lambda c, t: _train(c, t, "--set", "warmup_steps=-5"),
                                    r"train key 'warmup_steps' must be an integer >= 0"),
    "train_seed_out_of_range": (lambda c, t: _train(c, t, "--seed", str(10**9)), r"seed 1000000000: seeds must be in 0..999999999"),
    "train_config_missing": (lambda c, t: _train(c, t, "--train-config", t / "none.yaml"),
                                   r"none.yaml: no such training config file"),
    "train_config_not_yaml": (lambda c, t: (t / "bad.yaml").write_text("a: [1,\n") and _train(c, t, "--train-config", t / "bad.yaml"),
                              r"bad.yaml: not valid YAML"),
    "train_config_not_a_mapping": (lambda c, t: (t / "l.yaml").write_text("- 1\n") and _train(c, t, "--train-config", t / "l.yaml"),
                                   r"l.yaml: must hold a mapping of training keys"),
    "train_unknown_fold": (lambda c, t: ["train", c["windows"], "--fold", "chr9", "--out", t / "out", *QUICK],
                           r"fold 'chr9': no binary genes have this fold; folds in the gene table: chr1, chr2, chr3"),
    "train_out_is_a_file": (lambda c, t: (t / "f").write_text("x") and ["train", c["windows"], "--fold", "chr1", "--out", t / "f", *QUICK],
                            r"--out .*f: is a file; give the output folder"),
    # train: the windows folder
    "windows_code_out_of_range": (lambda c, t: _train(c, t, windows=_windows_with(c, t, _codes_out_of_range)),
                                  r"windows.npy: row 7, column 11 holds code 9; codes must be 0..4"),
    "windows_npy_truncated": (lambda c, t: _train(c, t, windows=_windows_with(
        c, t, lambda w: (w / "windows.npy").write_bytes((w / "windows.npy").read_bytes()[:500]))),
        r"windows.npy: not a readable .npy array"),
    "windows_genes_tsv_lacks_column": (lambda c, t: _train(c, t, windows=_windows_with(
        c, t, lambda w: (w / "genes.tsv").write_text((w / "genes.tsv").read_text().replace("label", "lab")))),
        r"genes.tsv: lacks column\(s\) label"),
    "windows_genes_and_windows_disagree": (lambda c, t: _train(c, t, windows=_windows_with(
        c, t, lambda w: (w / "genes.tsv").write_text("".join((w / "genes.tsv").read_text().splitlines(True)[:-5])))),
        r"175 genes but 180 windows"),
    "windows_window_json_missing": (lambda c, t: _train(c, t, windows=_windows_with(c, t, lambda w: (w / "window.json").unlink())),
                                    r"window.json: missing; is .* a windows folder"),
    "training_fold_of_one_class": (lambda c, t: _train(c, t, windows=_windows_with(c, t, _one_class)),
                                   r"genes.tsv: fold chr1: the training genes hold only part of the binary classes "
                                   r"\(low \d+, high 0; chr2: low \d+, high 0; chr3: low \d+, high 0\)"),
    "resume_state_garbage": (lambda c, t: (t / "s.pt").write_bytes(b"junk") and _train(c, t, "--resume", t / "s.pt"),
                             r"s.pt: unreadable resume state"),
    # evaluate / predict: the model files
    "model_pt_missing": (lambda c, t: _eval(c, t, model=_model_with(c, t, lambda m: (m / "model.pt").unlink())),
                         r"model.pt: no such model file"),
    "model_pt_truncated": (lambda c, t: _eval(c, t, model=_model_with(
        c, t, lambda m: (m / "model.pt").write_bytes((m / "model.pt").read_bytes()[:300]))), r"model.pt: corrupt or not an mtmixg model.pt"),
    "model_pt_pickled_object": (lambda c, t: _eval(c, t, model=_model_with(
        c, t, lambda m: (m / "model.pt").write_bytes(pickle.dumps({"w": object()})))), r"model.pt: is not a weights-only checkpoint: it holds pickled Python objects"),
    "model_pt_without_digest": (lambda c, t: _eval(c, t, model=_model_with(
        c, t, lambda m: torch.save({"w": torch.zeros(1)}, m / "model.pt"))), r"model.pt: not an mtmixg model.pt of format mtmixg-weights"),
    "model_json_missing": (lambda c, t: _eval(c, t, model=_model_with(c, t, lambda m: (m / "model.json").unlink())),
                           r"model.json: missing; a model.pt needs its model.json"),
    "model_json_not_json": (lambda c, t: _eval(c, t, model=_model_with(c, t, lambda m: (m / "model.json").write_text("{"))),
                            r"model.json: not valid JSON"),
    "model_json_window_split_edited": (lambda c, t: _predict(c, t, c["root"] / "ok.fa", model=_model_with(
        c, t, lambda m: _edit_json(m, _shift_window))), r"model.json: does not match model.pt \(its content was edited"),
    "model_json_mask_codons_edited": (lambda c, t: _predict(c, t, c["root"] / "ok.fa", model=_model_with(
        c, t, lambda m: _edit_json(m, lambda meta: meta["window"].update(mask_codons=True)))),
        r"model.json: does not match model.pt"),
    "model_json_unknown_key": (lambda c, t: _eval(c, t, model=_model_with(
        c, t, lambda m: _edit_json(m, lambda meta: meta["model"].update(bogus=1)))), r"model.json: invalid model description: unknown model key"),
    # evaluate: what is scored
    "evaluate_windows_of_another_spec": (lambda c, t: (make_windows(t / "w2", n_per_chrom=30, spec=type(SPEC)(50, 40, 0, 30, 60)),
                                                       _eval(c, t, windows=t / "w2"))[1], r"window.json: window .* differs from the model's"),
    "evaluate_training_fold": (lambda c, t: _eval(c, t, "--fold", "chr2"),
                               r"--fold chr2: fold chr2 of .*genes.tsv includes genes the model trained on; .*use --fold chr1"),
    "evaluate_every_gene_of_training_data": (lambda c, t: _eval(c, t), r"--fold None: every gene of .*genes.tsv includes genes the model trained on"),
    "evaluate_unknown_fold": (lambda c, t: (make_windows(t / "w3", n_per_chrom=30, seed=3), _eval(c, t, "--fold", "chrZ", windows=t / "w3"))[1],
                              r"--fold chrZ: no gene of .*genes.tsv has this fold; folds: chr1, chr2, chr3"),
    "evaluate_metrics_path_is_a_folder": (lambda c, t: (t / "out.json").mkdir() or _eval(c, t, "--fold", "chr1"),
                                          r"out.json: is a folder; give a file name"),
    # predict: the FASTA
    "fasta_protein_letters": (lambda c, t: _predict(c, t, _fasta(t, ">p1\n" + ("MKLVE" * 100)[: SPEC.length] + "\n")),
                              r"in.fa:2: record 'p1': character 'L' \(column 3\) is not an IUPAC nucleotide letter"),
    "fasta_missing": (lambda c, t: _predict(c, t, t / "none.fa"), r"none.fa: no such FASTA file"),
    "fasta_empty": (lambda c, t: _predict(c, t, _fasta(t, "")), r"in.fa: no FASTA records"),
    "fasta_wrong_length": (lambda c, t: _predict(c, t, _fasta(t, ">a\nACGT\n")), r"in.fa:1: record 'a' is 4 bases long but the model takes windows of 180"),
    "fasta_text_before_header": (lambda c, t: _predict(c, t, _fasta(t, "ACGT\n>a\nACGT\n")), r"in.fa:1: sequence before the first '>' header"),
    "fasta_repeated_record": (lambda c, t: _predict(c, t, _fasta(t, f">a\n{c['seq']}\n>a\n{c['seq']}\n")), r"in.fa:3: record 'a' appears twice"),
    "fasta_record_without_sequence": (lambda c, t: _predict(c, t, _fasta(t, f">a\n>b\n{c['seq']}\n")), r"in.fa:1: record 'a' has no sequence"),
    "predict_out_is_a_folder": (lambda c, t: (t / "out.tsv").mkdir() or _predict(c, t, c["root"] / "ok.fa"),
                                r"out.tsv: is a folder; give a file name"),
    "predict_genome_without_gff3": (lambda c, t: ["predict", c["model"], "--genome", c["root"] / "ok.fa", "--out", t / "out.tsv"],
                                    r"--genome: needs --gff3"),
    "predict_gff3_without_genome": (lambda c, t: ["predict", c["model"], "--fasta", c["root"] / "ok.fa", "--gff3", t / "a.gff3",
                                                  "--out", t / "out.tsv"], r"--gff3: only used with --genome"),
}


def _message(stderr: str) -> str:
    """The one error line, last on stderr (training may have logged its progress before it)."""
    lines = stderr.splitlines()
    assert lines and lines[-1].startswith("mtmixg: error: "), stderr
    assert sum("error" in line.lower() for line in lines) == 1 and "Traceback" not in stderr, stderr
    return lines[-1]


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(ctx, tmp_path, capsys, name):
    build, first_line = CASES[name]
    argv = [str(a) for a in build(ctx, tmp_path)]
    before = _files(tmp_path)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    message = _message(err)
    assert re.search(first_line, message), message
    assert _files(tmp_path) == before, "output left behind"
    assert _files(ctx["model"]) == ["metrics.json", "model.json", "model.pt", "predictions.tsv"]


def test_resume_of_changed_windows_is_refused(ctx, tmp_path, capsys):
    """A resume state of the same split and labels but other window contents (the genome changed and
    the windows rule reran) is refused, naming the dataset digest."""
    from mtmixg.train import train_fold
    from mtmixg.core.train_config import TrainConfig
    from mtmixg.fit import TrainingInterrupted

    w = _copy(ctx["windows"], tmp_path / "w")
    cfg = {"epochs": 3, "threads": 1, "lr": 1e-3, "warmup_steps": 0, "max_restarts": 0}
    with pytest.raises(TrainingInterrupted):
        train_fold(w, "chr1", "binary", {**_model_keys(), "arch": "cnn"}, TrainConfig(**cfg), 0, tmp_path / "o",
                   tmp_path / "s.pt", log=None, stop_after_epochs=1)
    codes = np.load(w / "windows.npy")
    codes[:, :10] = (codes[:, :10] + 1) % 4  # other sequences, same genes, labels and split
    np.save(w / "windows.npy", codes)
    (tmp_path / "t.yaml").write_text(json.dumps(cfg))
    code = main([str(a) for a in ["train", w, "--fold", "chr1", "--out", tmp_path / "o", "--model-config",
                                  ctx["root"] / "model.yaml", "--train-config", tmp_path / "t.yaml", "--resume", tmp_path / "s.pt"]])
    message = _message(capsys.readouterr().err)
    assert code == 2 and "s.pt: resume state belongs to a different run (differs in: dataset)" in message
    assert not (tmp_path / "o").exists()


def _model_keys() -> dict:
    import yaml

    return yaml.safe_load(MODEL_YAML)


def test_disk_full_names_the_file(ctx, tmp_path):
    """`mtmixg train` writing to a full disk (a 32 KiB tmpfs): one line saying the disk is full and
    naming the file; nothing left in the output folder."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare")
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=32k tmpfs {tmp_path}"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {probe.stderr.decode().strip()}")
    train = [sys.executable, "-m", "mtmixg.cli", *map(str, _train(ctx, tmp_path))]
    script = f"mount -t tmpfs -o size=32k tmpfs {tmp_path} && \"$@\"; code=$?; find {tmp_path} -type f; exit $code"
    r = subprocess.run(["unshare", "-rm", "sh", "-c", script, "sh", *train], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    message = _message(r.stderr)
    assert "the disk is full" in message and str(tmp_path / "out") in message and ".tmp" not in message, message
    assert r.stdout.strip() == "", f"left behind: {r.stdout}"


# ------------------------------------------------------------------ through Snakemake (data half)
# The tiny TPM-table species (conftest fixture `tiny`); one small target per case.


def _log(tiny: dict, name: str) -> str:
    return (tiny["dir"] / "work" / "logs" / "tiny" / name).read_text()


def test_reference_path_with_a_space_is_refused_in_words(tiny: dict) -> None:
    spaced = tiny["dir"] / "my genome.fa"
    shutil.copy(tiny["dir"] / "genome.fa", spaced)
    tiny["config"]["species"]["tiny"]["genome"] = str(spaced)
    done = _run(tiny, "-n", "data")
    assert done.returncode != 0
    assert f"config key species.tiny.genome: '{spaced}' holds a space; reference paths may not contain spaces" in done.output
    assert "[^\\s]" not in done.output and not (tiny["dir"] / "work" / "resources").exists()


def test_sample_sheet_with_a_byte_order_mark_is_read(tiny: dict) -> None:
    (tiny["dir"] / "samples.tsv").write_text("\ufeffspecies\tsample\tlayout\n", encoding="utf-8")
    done = _run(tiny, "-n", "data")
    assert done.returncode == 0, done.output[-3000:]


@pytest.mark.parametrize("text, line", [
    ("gene_id\trun1\t\nG1\t1\nG2\t10\nG3\t100\nG4\t1000\n", "tpm.tsv:1: the header line ends in a tab"),
    ("gene_id\trun1\nG1\t1\t\nG2\t10\t\nG3\t100\t\nG4\t1000\t\n", "tpm.tsv:2: every data line ends in a tab"),
    ("gene_id\trun1\nG1\t1\nG2\t10\n\nG3\t100\nG4\t1000\n", "tpm.tsv:4: blank line inside the table"),
], ids=["header_trailing_tab", "rows_trailing_tab", "blank_line_inside"])
def test_tpm_table_layout_is_named(tiny: dict, text: str, line: str) -> None:
    (tiny["dir"] / "tpm.tsv").write_text(text)
    done = _run(tiny, "results/tiny/expression/tpm.tsv")
    assert done.returncode != 0
    assert line in _log(tiny, "import_tpm_table.log")
    assert _no_leftovers(tiny["dir"] / "work/results") == []


def test_tpm_table_ending_in_blank_lines_is_read(tiny: dict) -> None:
    (tiny["dir"] / "tpm.tsv").write_text("gene_id\trun1\nG1\t1\nG2\t10\nG3\t100\nG4\t1000\n\n\n")
    done = _run(tiny, "results/tiny/expression/tpm.tsv")
    assert done.returncode == 0, done.output[-3000:]
    assert (tiny["dir"] / "work/results/tiny/expression/tpm.tsv").read_text().count("\n") == 5


def test_genome_with_cr_only_line_ends_is_named(tiny: dict) -> None:
    genome = tiny["dir"] / "genome.fa"
    genome.write_bytes(genome.read_bytes().replace(b"\n", b"\r"))
    done = _run(tiny, "resources/tiny/genome.fa")
    assert done.returncode != 0
    log = _log(tiny, "references/genome.log")
    assert "genome.fa:1: lines end in a lone carriage return (CR" in log and "truncated" not in log
    assert _no_leftovers(tiny["dir"] / "work/resources/tiny") == []


def test_genome_with_ragged_lines_is_rewrapped(tiny: dict) -> None:
    genome = tiny["dir"] / "genome.fa"
    ragged = "".join(f">{c}\n{s[:50]}\n{s[50:1000]}\n{s[1000:]}\n" for c, s in tiny["genome"].items())
    genome.write_text(ragged)
    done = _run(tiny, "resources/tiny/genome.fa")
    assert done.returncode == 0, done.output[-3000:]
    assert "lines of unequal length; rewrapped to 60 letters per line" in _log(tiny, "references/genome.log")
    out = (tiny["dir"] / "work/resources/tiny/genome.fa").read_text()
    assert out == "".join(f">{c}\n" + "".join(s[i:i + 60] + "\n" for i in range(0, len(s), 60)) for c, s in tiny["genome"].items())
