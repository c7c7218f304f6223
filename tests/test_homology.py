"""mtmixg.data.homology.build_test_genes: the homology filter's test_genes.tsv (rule homology)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtmixg.data.homology import build_test_genes


def random_dna(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGT"), size=n))


@pytest.mark.workflow  # runs BLAST
@pytest.mark.skipif(shutil.which("blastn") is None, reason="ncbi-blast+ not installed")
def test_duplicate_across_chromosomes_is_not_eligible(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    dup = random_dna(rng, 600)
    seqs = {"gA": dup, "gB": dup, "gC": random_dna(rng, 600), "gD": random_dna(rng, 600), "gS": dup}
    chrom = {"gA": "1", "gB": "2", "gC": "1", "gD": "2", "gS": "scaf"}
    gff = tmp_path / "a.gff3"
    gff.write_text("##gff-version 3\n" + "".join(
        f"{c}\tt\tgene\t{100 * i + 1}\t{100 * i + 50}\t.\t+\t.\tID=gene:{g};biotype=protein_coding\n"
        for i, (g, c) in enumerate(chrom.items())))
    cdna = tmp_path / "cdna.fa"
    cdna.write_text("".join(f">{g}.1\n{s}\n" for g, s in seqs.items()))
    tx2gene = tmp_path / "tx2gene.tsv"
    pd.DataFrame({"transcript_id": [f"{g}.1" for g in seqs], "gene_id": list(seqs)}).to_csv(tx2gene, sep="\t", index=False)
    out = tmp_path / "windows" / "test_genes.tsv"
    out.parent.mkdir()
    lines = []
    build_test_genes(gff, cdna, tx2gene, ["1", "2"], "blastn", out, log=lines.append)
    table = pd.read_csv(out, sep="\t", dtype={"chrom": str})
    # gS (off the configured chromosomes) is neither judged nor a homolog: gA and gB hit each other
    assert dict(zip(table["gene_id"], table["test_eligible"])) == {"gA": False, "gB": False, "gC": True, "gD": True}
    assert table["chrom"].tolist() == ["1", "2", "1", "2"]
    assert "2 of 4 genes are test-eligible" in lines
    assert [p.name for p in out.parent.iterdir()] == ["test_genes.tsv"]  # the longest-sequence FASTA is gone


def test_blastn_needs_tx2gene(tmp_path: Path) -> None:
    gff = tmp_path / "a.gff3"
    gff.write_text("1\tt\tgene\t1\t50\t.\t+\t.\tID=gene:gA;biotype=protein_coding\n")
    with pytest.raises(ValueError, match="tx2gene"):
        build_test_genes(gff, tmp_path / "cdna.fa", None, ["1"], "blastn", tmp_path / "t.tsv")
