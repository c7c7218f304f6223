"""SRA runs as they arrive: a .sra.vdbcache beside the downloaded .sra, and a run whose layout
disagrees with the sample sheet. prefetch is a stand-in (no network here) that writes what the
real one writes for such runs; fasterq-dump, latf-load and kar are the real tools. Every
sra-tools call runs under `unshare -n`.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from workflow_helpers import SRA_PAIRS as PAIRS
from workflow_helpers import SRA_RUN as RUN
from workflow_helpers import run_snakemake, write_config

pytestmark = pytest.mark.workflow

SE_RUN = "ERR0000002"  # the stand-in prefetch gives it the same paired-end .sra
STANDIN_PREFETCH = """#!/bin/sh
# stand-in for prefetch RUN ... -O DIR: DIR/RUN/RUN.sra and the .sra.vdbcache the real one writes
# for some runs
run=$1
while [ $# -gt 0 ]; do [ "$1" = -O ] && out=$2; shift; done
mkdir -p "$out/$run" && cp "$MTMIXG_TEST_SRA" "$out/$run/$run.sra" && echo stand-in > "$out/$run/$run.sra.vdbcache"
"""


def test_vdbcache_stays_beside_the_sra_and_layout_mismatch_names_the_run(tmp_path: Path, sra_pe: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "prefetch").write_text(STANDIN_PREFETCH)
    (bin_dir / "prefetch").chmod(0o755)
    (tmp_path / "samples.tsv").write_text(
        "species\tsample\trun\tlayout\n"
        f"leafy\tleaf_pe\t{RUN}\tPE\n"
        f"leafy\tleaf_se\t{SE_RUN}\tSE\n"  # a paired-end run declared single-end: a mismatch
    )
    refs = {k: str(tmp_path / f"{k}.fa") for k in ("genome", "annotation", "cdna")}  # not needed here
    config = {"species": {"leafy": {**refs, "chromosomes": ["1"]}}, "samples": str(tmp_path / "samples.tsv"),
              "sra_command_prefix": "unshare -n"}
    targets = ["results/leafy/reads/leaf_pe/R1.fastq.gz", "results/leafy/reads/leaf_se/single.fastq.gz"]
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "MTMIXG_TEST_SRA": str(sra_pe)}
    work = tmp_path / "work"
    done = run_snakemake(work, *targets, "--keep-going", "--notemp",
                         configfile=write_config(tmp_path / "config.yaml", config), timeout=300, env=env)
    assert done.returncode != 0  # the SE sample fails, the PE one is done
    folder = work / "resources/sra" / RUN
    assert sorted(p.name for p in folder.iterdir()) == [f"{RUN}.sra", f"{RUN}.sra.vdbcache"]
    assert (folder / f"{RUN}.sra").read_bytes() == sra_pe.read_bytes()
    with gzip.open(work / targets[0], "rt") as handle:
        assert sum(1 for _ in handle) == 4 * PAIRS
    log = (work / "logs/leafy/fasterq_dump/leaf_se.log").read_text()
    assert f"sample leaf_se (run {SE_RUN}): fasterq-dump gave no single reads" in log
    assert "layout PE" in log and not (work / targets[1]).exists()
