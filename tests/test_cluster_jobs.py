"""Cluster-facing behaviour of the workflow that a CPU machine can check with real Snakemake and
real tools (issue 21): training retries that continue from the resume state with a longer time
limit, downloads as local rules or as jobs, fasterq-dump's temp files on $TMPDIR.

The retry test trains a small TPM-table species 'retry' (3 chromosomes x 40 genes of random
DNA); its first training attempt is killed by PID (SIGKILL, as a Slurm time limit ends it) once
its resume state holds an epoch.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from workflow_helpers import SRA_PAIRS as PAIRS
from workflow_helpers import run_snakemake, snakemake_command, write_config

pytestmark = pytest.mark.workflow

WINDOW = {"upstream_tss": 200, "downstream_tss": 100, "spacer": 20, "upstream_tts": 100, "downstream_tts": 200}
CHROMS = ("1", "2", "3")
GENES_PER_CHROM = 40


def _dna(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGT"), size=n))


@pytest.fixture
def retry_species(tmp_path: Path) -> dict:
    """Files and config of species 'retry': genes every 1000 bases, TPMs spread over 4 decades."""
    rng = np.random.default_rng(3)
    genome, gff, cdna, tpm = [], ["##gff-version 3"], [], ["gene_id\trun1"]
    for chrom in CHROMS:
        genome.append(f">{chrom}\n{_dna(rng, 1000 * GENES_PER_CHROM + 1000)}\n")
        for i in range(GENES_PER_CHROM):
            gene, start = f"G{chrom}_{i}", 1000 * i + 601
            strand = "+" if i % 2 else "-"
            gff.append(f"{chrom}\tt\tgene\t{start}\t{start + 399}\t.\t{strand}\t.\tID=gene:{gene};biotype=protein_coding")
            gff.append(f"{chrom}\tt\tmRNA\t{start}\t{start + 399}\t.\t{strand}\t.\tID=transcript:{gene}.1;Parent=gene:{gene}")
            cdna.append(f">{gene}.1 gene:{gene}\n{_dna(rng, 300)}\n")
            tpm.append(f"{gene}\t{10 ** rng.uniform(-1, 3):.3f}")
    (tmp_path / "genome.fa").write_text("".join(genome))
    (tmp_path / "annotation.gff3").write_text("\n".join(gff) + "\n")
    (tmp_path / "cdna.fa").write_text("".join(cdna))
    (tmp_path / "tpm.tsv").write_text("\n".join(tpm) + "\n")
    (tmp_path / "samples.tsv").write_text("species\tsample\tlayout\n")
    config = {
        "species": {
            "retry": {
                "genome": str(tmp_path / "genome.fa"),
                "annotation": str(tmp_path / "annotation.gff3"),
                "cdna": str(tmp_path / "cdna.fa"),
                "chromosomes": list(CHROMS),
                "tpm_table": str(tmp_path / "tpm.tsv"),
            }
        },
        "samples": str(tmp_path / "samples.tsv"),
        "sra_command_prefix": "unshare -n",
        "window": WINDOW,
        "task": "binary",
        "architectures": ["cnn"],
        "seeds": [0],
        "model": {"cnn_blocks": 2, "cnn_channels": 8, "pools": [4, 4], "fc_hidden": [8]},
        "training": {
            "epochs": 40, "patience": 40, "lr_patience": 40, "warmup_epochs": 0, "warmup_steps": 0,
            "max_restarts": 0, "batch_size": 16,
            "resources": {"threads": 1, "mem_mb": 1000, "runtime": 10, "retries": 1, "runtime_growth": 2},
        },
        "gpu": {"use": False},
    }
    return {"dir": tmp_path, "config": config}


def _training_job_pids(workdir: Path) -> list[int]:
    """PIDs of the Python processes running the train rule's script in workdir."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if cwd == str(workdir) and any(arg.endswith(b".train.py") for arg in cmdline):
            pids.append(int(proc.name))
    return pids


def _state_epoch(state: Path) -> int:
    try:
        return int(torch.load(state, weights_only=True)["counters"]["epoch"])
    except Exception:  # noqa: BLE001 (absent, or being replaced right now)
        return 0


def test_killed_training_attempt_is_retried_and_resumes(retry_species: dict) -> None:
    """Attempt 1 is SIGKILLed after an epoch: Snakemake retries the job (training.resources.retries)
    with runtime * runtime_growth minutes, and attempt 2 continues from the resume state."""
    work = retry_species["dir"] / "work"
    work.mkdir()
    configfile = write_config(retry_species["dir"] / "config.yaml", retry_species["config"])
    target = "results/retry/models/cnn/seed0/1/model.pt"
    windows = run_snakemake(work, "results/retry/windows/windows.npy", configfile=configfile, timeout=300)
    assert windows.returncode == 0, windows.output[-4000:]
    state = work / "results/retry/resume/cnn/seed0/1/state.pt"
    cmd = snakemake_command(work, target, configfile=configfile, cores=1, timeout=300)
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed, epoch = [], 0
    deadline = time.monotonic() + 240
    while not killed and time.monotonic() < deadline and proc.poll() is None:
        epoch = _state_epoch(state) if state.is_file() else 0
        if epoch >= 1:
            for pid in _training_job_pids(work):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.05)
    output, _ = proc.communicate(timeout=300)
    assert killed, f"the training job finished or failed before writing a resume state:\n{output[-4000:]}"
    assert proc.returncode == 0, output[-4000:]
    # Snakemake's job listing shows each attempt's time limit: 10 min, then 10 * 2
    runtimes = re.findall(r"runtime=(\d+)", output)
    assert runtimes == ["10", "20"], output[-4000:]
    log = (work / "logs/retry/train/cnn/seed0/1.log").read_text()
    resumed = re.search(r"resuming from \S+state\.pt after epoch (\d+)", log)
    assert resumed, log[-3000:]
    assert int(resumed[1]) >= epoch >= 1
    assert "epoch 1/" not in log, "attempt 2 started over from epoch 1"
    assert (work / target).stat().st_size > 0 and not state.exists()


# ------------------------------------------------------------------ fasterq-dump's temp files

# sra_pe: a real paired-end .sra, built offline (conftest fixture)

TEMP_LINE = re.compile(r"^fasterq-dump temp dir: (\S+)$", re.M)


def _dump(tmp_path: Path, sra: Path, tmpdir: Path) -> tuple[int, str, str]:
    """fasterq-dump one paired-end sample (sheet column sra_file) with TMPDIR=tmpdir; (exit, output, log)."""
    (tmp_path / "samples.tsv").write_text(f"species\tsample\tsra_file\tlayout\nleafy\tleaf\t{sra}\tPE\n")
    refs = {k: str(tmp_path / f"{k}.fa") for k in ("genome", "annotation", "cdna")}  # not needed here
    config = {"species": {"leafy": {**refs, "chromosomes": ["1"]}}, "samples": str(tmp_path / "samples.tsv"),
              "sra_command_prefix": "unshare -n"}
    work = tmp_path / "work"
    done = run_snakemake(work, "results/leafy/reads/leaf/R1.fastq.gz", "--notemp",
                         configfile=write_config(tmp_path / "config.yaml", config), timeout=300,
                         env={"TMPDIR": str(tmpdir)})
    log = work / "logs/leafy/fasterq_dump/leaf.log"
    return done.returncode, done.output, log.read_text() if log.exists() else ""


def test_fasterq_dump_temp_files_go_to_tmpdir(tmp_path: Path, sra_pe: Path) -> None:
    """fasterq-dump's -t folder is made under $TMPDIR (Snakemake passes it on as its tmpdir
    resource; node-local on a cluster) and removed after the job. (A $TMPDIR that is no writable
    folder cannot be tested: Python's tempfile, and so Snakemake, replaces it with /tmp.)"""
    scratch = tmp_path / "node_local"
    scratch.mkdir()
    code, output, log = _dump(tmp_path, sra_pe, scratch)
    assert code == 0, output[-4000:]
    used = TEMP_LINE.search(log)
    assert used and Path(used[1]).parent == scratch, log
    assert list(scratch.iterdir()) == [], "the temp folder is removed after the job"
    with gzip.open(tmp_path / "work/results/leafy/reads/leaf/R1.fastq.gz", "rt") as handle:
        assert sum(1 for _ in handle) == 4 * PAIRS
