"""Chromosome folds and DeepCRE's non-homologous test genes (handmade BLAST table, real blastn and blastp)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtmixg.data.folds import assign_folds
from mtmixg.data.homology import BLAST6_COLUMNS, longest_sequence_per_gene, non_homologous_genes, read_blast6, run_blast


def test_assign_folds() -> None:
    genes = pd.DataFrame({"gene_id": ["a", "b", "c", "d"], "chrom": ["2", "1", "2", "4"]})
    folds = assign_folds(genes, [1, 2, 3, 4])
    assert folds.tolist() == ["2", "1", "2", "4"] and folds.name == "fold"
    with pytest.raises(ValueError, match=r"1 gene\(s\) on chromosome\(s\) not in the configured list \['1', '2'\]: 4"):
        assign_folds(genes, ["1", "2"])
    with pytest.raises(ValueError, match="duplicates"):
        assign_folds(genes, ["1", "1"])


def blast_row(q: str, s: str, evalue: float, bitscore: float) -> list:
    return [q, s, 99.0, 500, 1, 0, 1, 500, 1, 500, evalue, bitscore]


def test_non_homologous_handmade_table() -> None:
    gene_chrom = {"a1": "1", "a2": "1", "b1": "2", "b2": "2", "c1": "1", "d1": "2", "e1": "1"}
    rows = [
        blast_row("a1", "a1", 0.0, 900),  # self
        blast_row("a1", "a2", 1e-50, 300),  # same chromosome
        blast_row("a2", "a1", 1e-50, 300),
        blast_row("b1", "c1", 1e-20, 120),  # other chromosome -> b1 and c1 out
        blast_row("c1", "b1", 1e-20, 120),
        blast_row("b2", "a1", 1e-2, 200),  # e-value too high: ignored
        blast_row("d1", "a1", 1e-10, 40),  # bitscore too low: ignored
        blast_row("e1", "unknown", 1e-30, 200),  # unknown subject: conservative, out
    ]
    blast = pd.DataFrame(rows, columns=list(BLAST6_COLUMNS))
    assert non_homologous_genes(blast, gene_chrom) == {"a1", "a2", "b2", "d1"}
    # transcripts mapped to genes: a hit between two transcripts of one gene is self
    tx = {"a1.1": "a1", "a1.2": "a1", "b1.1": "b1"}
    blast_tx = pd.DataFrame([blast_row("a1.1", "a1.2", 0.0, 900), blast_row("b1.1", "a1.2", 0.0, 900)], columns=list(BLAST6_COLUMNS))
    assert non_homologous_genes(blast_tx, {"a1": "1", "b1": "2"}, seq_to_gene=tx) == {"a1"}


def random_dna(rng: np.random.Generator, n: int) -> str:
    return "".join(rng.choice(list("ACGT"), size=n))


def mutate(rng: np.random.Generator, seq: str, n: int) -> str:
    chars = list(seq)
    for i in rng.choice(len(chars), size=n, replace=False):
        chars[i] = "ACGT"[("ACGT".index(chars[i]) + 1) % 4]
    return "".join(chars)


@pytest.mark.workflow  # runs BLAST
@pytest.mark.skipif(shutil.which("blastn") is None, reason="ncbi-blast+ not installed")
def test_real_blast_finds_planted_duplicates(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    base_x, base_y = random_dna(rng, 600), random_dna(rng, 600)
    seqs = {
        "gX1": base_x, "gX2": mutate(rng, base_x, 30),  # duplicated across chromosomes 1 and 2
        "gY1": base_y, "gY2": mutate(rng, base_y, 30),  # duplicated within chromosome 1
        "gU1": random_dna(rng, 600), "gU2": random_dna(rng, 600),  # unique
    }
    gene_chrom = {"gX1": "1", "gX2": "2", "gY1": "1", "gY2": "1", "gU1": "1", "gU2": "2"}
    # transcripts: two per gene for gX1 (longest kept), one for the others
    cdna = tmp_path / "cdna.fa"
    tx2gene = {f"{g}.1": g for g in seqs} | {"gX1.2": "gX1"}
    with open(cdna, "w") as handle:
        for g, s in seqs.items():
            handle.write(f">{g}.1 cdna gene:{g}\n{s}\n")
        handle.write(f">gX1.2 cdna gene:gX1\n{base_x[:200]}\n")
    reps = tmp_path / "reps.fa"
    assert longest_sequence_per_gene(cdna, tx2gene, reps) == 6
    assert reps.read_text().count(">") == 6 and ">gX1\n" in reps.read_text()
    table = run_blast(reps, out_tsv=tmp_path / "blast.tsv")
    assert set(zip(table["qseqid"], table["sseqid"])) >= {("gX1", "gX2"), ("gY2", "gY1"), ("gU1", "gU1")}
    assert read_blast6(tmp_path / "blast.tsv").shape == table.shape
    assert non_homologous_genes(table, gene_chrom) == {"gY1", "gY2", "gU1", "gU2"}


@pytest.mark.workflow  # runs BLAST
def test_run_blast_reports_tool_error(tmp_path: Path) -> None:
    if shutil.which("makeblastdb") is None:
        pytest.skip("ncbi-blast+ not installed")
    bad = tmp_path / "bad.fa"
    bad.write_text("this is not a fasta\n")
    with pytest.raises(RuntimeError, match="failed on"):
        run_blast(bad)


def _significant_pairs(table: pd.DataFrame) -> set[frozenset[str]]:
    hits = table[(table["evalue"] < 1e-3) & (table["bitscore"] >= 50) & (table["qseqid"] != table["sseqid"])]
    return {frozenset(pair) for pair in zip(hits["qseqid"], hits["sseqid"])}


@pytest.mark.workflow  # runs BLAST
@pytest.mark.skipif(shutil.which("blastp") is None, reason="ncbi-blast+ not installed")
def test_demo_paralogs_are_missed_by_megablast_and_found_by_blastp(tmp_path: Path) -> None:
    """The demo's planted paralogs: proteins 60% identical, cDNAs unrelated (diverged DNA)."""
    from mtmixg.demo import PARALOG_PAIRS, make_demo
    from mtmixg.data.gff import tx2gene_from_cdna

    make_demo(tmp_path / "demo", seed=3, genes_per_chromosome=40, read_pairs=10)
    planted = pd.read_csv(tmp_path / "demo/truth/paralogs.tsv", sep="\t", dtype=str)
    assert len(planted) == PARALOG_PAIRS and (planted["chrom_a"] != planted["chrom_b"]).all()
    pairs = {frozenset(p) for p in zip(planted["gene_a"], planted["gene_b"])}
    found = {}
    for method, name in (("blastn", "cdna.fa.gz"), ("blastp", "pep.fa.gz")):
        path = tmp_path / "demo" / name
        tx2gene = tx2gene_from_cdna(path, kind="protein" if method == "blastp" else "cDNA")
        longest = tmp_path / f"{method}.fa"
        longest_sequence_per_gene(path, dict(zip(tx2gene["transcript_id"], tx2gene["gene_id"])), longest)
        found[method] = run_blast(longest, method=method)
    assert _significant_pairs(found["blastp"]) == pairs  # every planted pair, nothing else
    assert not _significant_pairs(found["blastn"]) & pairs
    genes = pd.read_csv(tmp_path / "demo/truth/genes.tsv", sep="\t", dtype=str)
    genes = genes[genes["biotype"] == "protein_coding"]
    gene_chrom = dict(zip(genes["gene_id"], genes["chrom"]))
    excluded = set(gene_chrom) - non_homologous_genes(found["blastp"], gene_chrom)
    assert excluded == set(planted["gene_a"]) | set(planted["gene_b"])
    assert non_homologous_genes(found["blastn"], gene_chrom) == set(gene_chrom)


def test_run_blast_rejects_an_unknown_method(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="blastp, blastn"):
        run_blast(tmp_path / "x.fa", method="tblastx")
