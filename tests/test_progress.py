"""Progress lines of long runs (mtmixg.progress; issue 21 item 11): at every tenth of the work or
every 60 s, whichever is first, none for small quick work, as whole lines on stderr; and real
`mtmixg train`, `explain` and `score-variants` runs whose stderr holds them."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest
from training_data import SPEC, make_windows, tiny_model

from mtmixg.checkpoint import save_model
from mtmixg.cli import main
from mtmixg.models.architectures import build_model
from mtmixg.progress import Progress, duration

MODEL_YAML = "arch: cnn\nchannels: 8\ncnn_channels: 8\ncnn_blocks: 2\npools: [4, 4]\nfc_hidden: [16]\n"
QUICK = ["--epochs", "1", "--threads", "1", "--lr", "1e-3", "--set", "warmup_steps=0", "--set", "max_restarts=0"]
# the documented form: "<label>: <unit> <done>/<total> (<pct>%), <rate> <what>/s, ETA <time>"
ETA = r"ETA \d+(s|m\d\ds|h\d\dm)"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _run(total: int, seconds_per_step, items: int = 1) -> tuple[list[int], list[str]]:
    """Step a Progress of `total` steps on a fake clock; (done counts that got a line, the lines)."""
    clock, lines, at = FakeClock(), [], []
    progress = Progress("epoch 3", total, log=lines.append, clock=clock)
    for step in range(1, total + 1):
        clock.now += seconds_per_step(step)
        before = len(lines)
        progress(1, items)
        if len(lines) > before:
            at.append(progress.done)
    return at, lines


def test_a_line_at_each_tenth_none_at_the_end():
    at, lines = _run(100, lambda step: 1.0, items=32)
    assert at == [10, 20, 30, 40, 50, 60, 70, 80, 90]  # the end is the caller's own summary line
    assert lines[0] == "epoch 3: batch 10/100 (10%), 32 seq/s, ETA 1m30s"
    assert lines[-1] == "epoch 3: batch 90/100 (90%), 32 seq/s, ETA 10s"


def test_a_line_after_60_seconds_between_tenths():
    at, lines = _run(100, lambda step: 100.0 if step == 15 else 1.0)
    assert at == [10, 15, 20, 30, 40, 50, 60, 70, 80, 90]
    assert lines[1] == "epoch 3: batch 15/100 (15%), 0.13 seq/s, ETA 10m46s"


def test_small_work_is_silent_unless_it_takes_longer_than_60_seconds():
    assert _run(19, lambda step: 1.0) == ([], [])  # an epoch of a few quick batches: nothing
    at, lines = _run(10, lambda step: 25.0)  # few but slow steps: a line every 60 s or more
    assert at == [3, 6, 9]
    assert lines[0] == "epoch 3: batch 3/10 (30%), 0.04 seq/s, ETA 2m55s"


def test_durations():
    assert [duration(s) for s in (0, 52.4, 250, 3599, 7500)] == ["0s", "52s", "4m10s", "59m59s", "2h05m"]


def _progress_lines(err: str, start: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(start)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """`mtmixg train` of a tiny cnn in batches of 2 (about 35 per epoch), its stderr."""
    root = tmp_path_factory.mktemp("progress")
    make_windows(root / "windows", n_per_chrom=60)
    (root / "model.yaml").write_text(MODEL_YAML)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["train", str(root / "windows"), "--fold", "chr1", "--out", str(root / "model"),
                     "--model-config", str(root / "model.yaml"), "--batch-size", "2", *QUICK]) == 0
    return {"root": root, "err": err.getvalue()}


def test_train_logs_progress_lines_inside_the_epoch(trained):
    err = trained["err"]
    lines = _progress_lines(err, "epoch 1: batch ")
    assert len(lines) == 9, err
    for line in lines:
        assert re.fullmatch(rf"epoch 1: batch \d+/\d+ \(\d+%\), [\d.,]+ seq/s, {ETA}", line), line
    assert "\r" not in err
    epoch_line = next(i for i, line in enumerate(err.splitlines()) if line.startswith("epoch 1/1 loss"))
    assert err.splitlines().index(lines[-1]) < epoch_line  # unchanged epoch line, after the progress


def test_explain_logs_progress_lines(trained, capsys):
    root = trained["root"]
    assert main(["explain", "--model", str(root / "model"), "--windows", str(root / "windows"), "--out",
                 str(root / "maps"), "--method", "ism", "--ism-window", "0:10", "--max-genes", "20", "--threads", "1"]) == 0
    lines = _progress_lines(capsys.readouterr().err, "explain cnn seed 0 fold chr1 (ISM): gene ")
    assert [line.split(": gene ")[1].split(" ")[0] for line in lines] == [f"{k}/20" for k in range(2, 20, 2)]
    assert all(re.search(rf"\), [\d.,]+ genes/s, {ETA}$", line) for line in lines), lines


def test_score_variants_logs_progress_lines(tmp_path, capsys):
    """One gene, 30 SNPs in its TSS piece, batches of 1: 31 batches of one model."""
    rng = np.random.default_rng(0)
    genome = "".join(rng.choice(list("ACGT"), 1000))
    (tmp_path / "g.fa").write_text(f">1\n{genome}\n")
    (tmp_path / "a.gff3").write_text("##gff-version 3\n1\tt\tgene\t301\t700\t.\t+\t.\tID=gene:gA;biotype=protein_coding\n")
    snps = [f"1\t{p + 1}\t.\t{genome[p]}\t{'A' if genome[p] != 'A' else 'C'}\t.\t.\t." for p in range(260, 290)]
    (tmp_path / "v.vcf").write_text("##fileformat=VCFv4.2\n##contig=<ID=1,length=1000>\n"
                                    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(snps) + "\n")
    cfg = tiny_model()
    save_model(tmp_path / "m" / "model.pt", build_model(cfg),
               {"task": "binary", "window": SPEC.to_dict(), "model": cfg.to_dict(), "fold": "all"})
    assert main(["score-variants", str(tmp_path / "m" / "model.pt"), "--genome", str(tmp_path / "g.fa"), "--gff3",
                 str(tmp_path / "a.gff3"), "--vcf", str(tmp_path / "v.vcf"), "--out", str(tmp_path / "s.tsv"),
                 "--batch-size", "1", "--threads", "1"]) == 0
    err = capsys.readouterr().err
    assert "variant x gene rows: 30" in err
    lines = _progress_lines(err, "mtmixg score-variants: batch ")
    assert [line.split(": batch ")[1].split(" ")[0] for line in lines] == [f"{k}/31" for k in (4, 7, 10, 13, 16, 19, 22, 25, 28)]
    assert all(re.search(rf"\), [\d.,]+ windows/s, {ETA}$", line) for line in lines), lines
