"""Helpers to run the workflow from tests: Snakemake in a temporary working directory.

    from workflow_helpers import REPO, DEMO_CONFIG, run_snakemake
    done = run_snakemake(tmp_path, "data", configfile=DEMO_CONFIG)
    assert done.returncode == 0, done.output

Only tests of the `workflow` tier may start Snakemake (tests/conftest.py marks them and sets
SNAKEMAKE_ALLOWED per test); elsewhere run_snakemake and snakemake_command fail at once.
Also here: the tiny TPM-table species (make_tiny, run_tiny) and a real paired-end .sra
(build_sra_pe) behind the conftest fixtures `tiny` and `sra_pe`.

Nothing is copied: Snakemake runs the repository's Snakefile with `-d WORKDIR`, so every
relative path of the config (resources/, results/, logs/) lands in WORKDIR. The command is
wrapped in `timeout -k 10 N` because Snakemake ignores SIGTERM while it waits for jobs.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
DEMO_CONFIG = REPO / "config" / "demo" / "config.yaml"


SNAKEMAKE_ALLOWED = True
"""False while a test outside the workflow and slurm tiers runs (set by tests/conftest.py)."""


class SnakemakeRun(subprocess.CompletedProcess):
    """A finished Snakemake run; .output is stdout + stderr (for assertion messages)."""

    @property
    def output(self) -> str:
        return (self.stdout or "") + (self.stderr or "")


def snakemake_command(
    workdir: str | Path,
    *args: str,
    configfile: str | Path | None = None,
    cores: int = 2,
    timeout: int = 900,
) -> list[str]:
    """The command line of run_snakemake (for logging or running it yourself)."""
    if not SNAKEMAKE_ALLOWED:
        raise RuntimeError("this test starts Snakemake but is not in the workflow tier: give it a workflow fixture "
                           "(tests/conftest.py) or @pytest.mark.workflow")
    cmd = ["timeout", "-k", "10", str(timeout), sys.executable, "-m", "snakemake"]
    cmd += ["-s", str(SNAKEFILE), "-d", str(workdir), "--cores", str(cores), *map(str, args)]
    if configfile is not None:  # last: --configfile takes several values and would eat targets
        cmd += ["--configfile", str(configfile)]
    return cmd


def run_snakemake(
    workdir: str | Path,
    *args: str,
    configfile: str | Path | None = None,
    cores: int = 2,
    timeout: int = 900,
    env: dict[str, str] | None = None,
) -> SnakemakeRun:
    """Run the repository's workflow in workdir; returns the finished process (never raises).

    args: targets and options (e.g. "data", "-n", "--keep-going"). configfile replaces
    config/config.yaml. timeout: seconds before `timeout` kills Snakemake (exit 124 / 137).
    """
    Path(workdir).mkdir(parents=True, exist_ok=True)
    cmd = snakemake_command(workdir, *args, configfile=configfile, cores=cores, timeout=timeout)
    done = subprocess.run(
        cmd, cwd=workdir, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    return SnakemakeRun(done.args, done.returncode, done.stdout, done.stderr)


def job_counts(output: str) -> dict[str, int]:
    """Job stats table of a Snakemake (dry) run -> {rule: count}."""
    table = output.split("Job stats:", 1)[1] if "Job stats:" in output else ""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M) if m[1] != "total"}


def write_config(path: str | Path, config: dict) -> Path:
    """Write a config dict as YAML; returns the path."""
    path = Path(path)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def demo_config(**changes) -> dict:
    """The demo config (config/demo/config.yaml) with top-level keys replaced by changes."""
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config.update(changes)
    return config


DEMO_VCF = "resources/demo/variants.vcf.gz"  # made by rule demo_variants
OFFLINE_RUN = "SRR000001"  # a real accession; prefetch fails without network (unshare -n)


def run_demo_workflow(workdir: Path) -> dict:
    """The whole demo workflow in workdir, as the test session's shared run.

    Run A: the demo samples plus an unreachable SRA run, quantifications only, with --keep-going:
    the offline prefetch fails, the other samples finish. Run B: the demo config (config/demo/config.yaml) and its default target
    (data half + training half) in the same folder, re-using A's quantifications, and the demo's VCF
    by name: a config path that is missing in the working folder falls back to the repository's
    (rules/common.smk resolve_config_path), so after a demo run in the repository the default
    target alone would score the repository's resources/demo/variants.vcf.gz and make none here.
    Returns {"dir", "run_a", "quantified_after_a", "run_b", "seconds_b"}.
    """
    import time

    import pandas as pd

    sheet = pd.read_csv(REPO / "config/demo/samples.tsv", sep="\t", dtype=str)
    offline = pd.DataFrame([{"species": "demo", "sample": OFFLINE_RUN, "run": OFFLINE_RUN, "layout": "SE"}])
    pd.concat([sheet, offline]).to_csv(workdir / "samples_offline.tsv", sep="\t", index=False)
    config_a = write_config(workdir / "offline.yaml", demo_config(samples=str(workdir / "samples_offline.tsv")))
    quants = [f"results/demo/kallisto/{s}/abundance.tsv" for s in [*sheet["sample"], OFFLINE_RUN]]
    run_a = run_snakemake(workdir, *quants, "--keep-going", configfile=config_a)
    quantified_after_a = {s: (workdir / f"results/demo/kallisto/{s}/abundance.tsv").is_file() for s in sheet["sample"]}
    start = time.monotonic()
    run_b = run_snakemake(workdir, "all", DEMO_VCF, configfile=DEMO_CONFIG, timeout=1500)
    seconds_b = time.monotonic() - start
    return {"dir": workdir, "run_a": run_a, "quantified_after_a": quantified_after_a, "run_b": run_b, "seconds_b": seconds_b}


# ------------------------------------------------------------------ the tiny TPM-table species

TINY_WINDOW = {"upstream_tss": 200, "downstream_tss": 100, "spacer": 20, "upstream_tts": 100, "downstream_tts": 200}
TINY_GENES = [
    ("G1", "1", 1001, 1600, "+", "protein_coding"),
    ("G2", "1", 2001, 2500, "-", "protein_coding"),
    ("G3", "2", 1001, 1700, "+", "protein_coding"),
    ("G4", "2", 2001, 2600, "-", "protein_coding"),
]


def random_dna(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGT"), size=n))


def gene_lines(genes: list[tuple[str, str, int, int, str, str]]) -> str:
    """A GFF3 of genes (gene_id, chrom, start, end, strand, biotype), one mRNA each."""
    lines = ["##gff-version 3"]
    for gene_id, chrom, start, end, strand, biotype in genes:
        lines.append(f"{chrom}\tt\tgene\t{start}\t{end}\t.\t{strand}\t.\tID=gene:{gene_id};biotype={biotype}")
        lines.append(f"{chrom}\tt\tmRNA\t{start}\t{end}\t.\t{strand}\t.\tID=transcript:{gene_id}.1;Parent=gene:{gene_id}")
    return "\n".join(lines) + "\n"


def make_tiny(folder: Path) -> dict:
    """A tiny species 'tiny' whose expression is a TPM table (no reads): its files in folder and a
    config; returns {"dir", "config", "genome"} (the fixture `tiny`; run it with run_tiny)."""
    rng = np.random.default_rng(0)
    genome = {c: random_dna(rng, 3600) for c in ("1", "2")}
    (folder / "genome.fa").write_text("".join(f">{c}\n{s}\n" for c, s in genome.items()))
    (folder / "annotation.gff3").write_text(gene_lines(TINY_GENES))
    (folder / "cdna.fa").write_text("".join(f">{g[0]}.1 gene:{g[0]}\n{random_dna(rng, 300)}\n" for g in TINY_GENES))
    (folder / "tpm.tsv").write_text("gene_id\trun1\nG1\t1\nG2\t10\nG3\t100\nG4\t1000\n")
    (folder / "samples.tsv").write_text("species\tsample\tlayout\n")
    config = {
        "species": {
            "tiny": {
                "genome": str(folder / "genome.fa"),
                "annotation": str(folder / "annotation.gff3"),
                "cdna": str(folder / "cdna.fa"),
                "chromosomes": ["1", "2"],
                "tpm_table": str(folder / "tpm.tsv"),
            }
        },
        "samples": str(folder / "samples.tsv"),
        "sra_command_prefix": "unshare -n",
        "window": TINY_WINDOW,
        "task": "ternary",  # binary leaves one class per chromosome (G2, G3 are medium): refused
    }
    return {"dir": folder, "config": config, "genome": genome}


def run_tiny(tiny: dict, *args: str) -> SnakemakeRun:
    """Snakemake on the tiny species (its config as it is now) in tiny["dir"]/work."""
    configfile = write_config(tiny["dir"] / "config.yaml", tiny["config"])
    return run_snakemake(tiny["dir"] / "work", *args, configfile=configfile, timeout=300)


def no_leftovers(folder: Path) -> list[str]:
    """Files in folder (recursively), hidden temporary ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# ------------------------------------------------------------------ a real paired-end .sra

SRA_RUN = "ERR0000001"
SRA_PAIRS = 8


def build_sra_pe(folder: Path) -> Path:
    """folder/pe.sra: a real paired-end .sra of SRA_PAIRS read pairs of run SRA_RUN, built offline
    with latf-load and kar (under `unshare -n`: sra-tools always try the network)."""
    for mate in (1, 2):
        with gzip.open(folder / f"r{mate}.fastq.gz", "wt") as handle:
            for i in range(1, SRA_PAIRS + 1):
                seq = ("ACGTTGCA" * 7)[i : i + 40]
                handle.write(f"@{SRA_RUN}.{i}/{mate}\n{seq}\n+\n{'I' * len(seq)}\n")
    build = (
        "unshare -n latf-load --platform ILLUMINA --quality PHRED_33 -o pe.vdb -1 r1.fastq.gz -2 r2.fastq.gz"
        " && unshare -n kar --create pe.sra -d pe.vdb"
    )
    subprocess.run(build, shell=True, cwd=folder, check=True, capture_output=True)
    return folder / "pe.sra"
