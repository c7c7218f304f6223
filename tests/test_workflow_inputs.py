"""Real-world inputs through the data half (the tiny species: conftest fixture `tiny`): chromosome
names spelt differently in the FASTA and the GFF3, chromosomes unfit as test folds, discontinuous
GFF3 genes, and the published thresholds logged beside ours."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from workflow_helpers import TINY_GENES
from workflow_helpers import gene_lines as _gene_lines
from workflow_helpers import no_leftovers as _no_leftovers
from workflow_helpers import run_tiny as _run

pytestmark = pytest.mark.workflow


def test_gff_chr_prefix_against_fasta_names_is_one_clear_error(tiny: dict) -> None:
    renamed = [(g, f"Chr{c}", *rest) for g, c, *rest in TINY_GENES]
    (tiny["dir"] / "annotation.gff3").write_text(_gene_lines(renamed))
    done = _run(tiny, "data")
    assert done.returncode != 0
    log = (tiny["dir"] / "work/logs/tiny/windows.log").read_text()
    assert "config key species.tiny.chromosomes say '1' but the GFF3" in log and "calls it 'Chr1'" in log
    assert _no_leftovers(tiny["dir"] / "work/results/tiny/windows") == []


def test_one_class_chromosomes_are_named_in_the_data_half(tiny: dict) -> None:
    tiny["config"]["task"] = "binary"  # chromosome 1: low + medium, 2: medium + high
    done = _run(tiny, "data")
    assert done.returncode != 0
    log = (tiny["dir"] / "work/logs/tiny/windows.log").read_text()
    assert "configured chromosome(s) '1' (only low genes), '2' (only high genes)" in log
    assert "species.tiny.chromosomes" in log


def test_discontinuous_genes_are_read_and_thresholds_compared(tiny: dict) -> None:
    gff = tiny["dir"] / "annotation.gff3"
    lines = gff.read_text().splitlines()
    g1 = next(line for line in lines if "\tgene\t" in line and "ID=gene:G1;" in line)
    part = g1.replace("\t1001\t1600\t", "\t1700\t1750\t")  # G1 continues downstream: TTS moves
    split = "scaf9\tt\tgene\t10\t20\t.\t+\t.\tID=gene:S1;biotype=protein_coding"  # unconfigured scaffold
    gff.write_text("\n".join([*lines, part, split, split.replace("\t+\t", "\t-\t")]) + "\n")
    tiny["config"]["species"]["tiny"]["expected_thresholds"] = {"p25": 0.9, "p75": 2.0}
    done = _run(tiny, "data")
    assert done.returncode == 0, done.output[-3000:]
    genes = pd.read_csv(tiny["dir"] / "work/results/tiny/windows/genes.tsv", sep="\t", dtype={"chrom": str})
    assert genes.set_index("gene_id").loc["G1", ["start", "end"]].tolist() == [1000, 1750]
    assert "S1" not in set(genes["gene_id"])
    labels_log = (tiny["dir"] / "work/logs/tiny/labels.log").read_text()
    # ours: log10(TPM + 1) of 1, 10, 100, 1000 -> p25 0.301 + 0.75 (1.041 - 0.301) = 0.856, p75 2.253
    assert re.search(r"WARNING: thresholds: ours p25 0\.856, p75 2\.253; expected p25 0\.900, p75 2\.000 "
                     r"\(diff -0\.044, \+0\.253\): p75 differ by more than 0\.1", labels_log), labels_log
    assert "tiny: WARNING: thresholds" in done.output
