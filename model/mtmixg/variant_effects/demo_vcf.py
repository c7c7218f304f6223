"""The demo's proof VCF: SNPs that break a planted activator, and SNPs where no motif is.

From the demo's truth table (mtmixg.demo writes truth/genes.tsv) it picks n genes that are highly
expressed (labelled high in the workflow's labels.tsv when given, else true logMaxTPM in the top
quarter of protein-coding genes), carry exactly one planted ACT (CGCACGTGAC, raises expression)
and have a whole, N-free window on a configured chromosome. One copy, because the demo counts a
motif once however many copies a gene has (mtmixg.demo): breaking one ACT of several changes
nothing true, breaking the only one turns the gene low. Per gene:
- one SNP at the centre of its ACT (ID ACT_break:<gene>): the CACGTG core is broken;
- one SNP at a random window base at least MARGIN bases from every planted motif of every gene
  (ID background:<gene>).
No SNP creates a motif (checked on both strands). Written bgzipped and tabix-indexed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pysam

from ..core.atomic import atomic_write
from ..demo import CHROMOSOMES, DEMO_WINDOW, MOTIF_ANCHOR, MOTIFS, gene_to_genome
from ..data.fasta import iter_records
from ..data.sequence import reverse_complement

ACT_BREAK = "ACT_break"
BACKGROUND = "background"
MARGIN = 12
_SWAP = {"A": "C", "C": "A", "G": "T", "T": "G"}  # a transversion


def _motif_spans(truth: pd.DataFrame) -> dict[str, list[tuple[int, int]]]:
    """Genomic [lo, hi) of every planted motif, per chromosome."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for row in truth.itertuples():
        gene = _gene(row)
        for item in str(row.motifs).split(","):
            if "@" not in item:
                continue
            name, offset = item.split("@")
            spans.setdefault(row.chrom, []).append(gene_to_genome(gene, MOTIF_ANCHOR[name], int(offset), len(MOTIFS[name])))
    return spans


def _gene(row) -> SimpleNamespace:
    """A truth-table row as the (start, end, strand) that mtmixg.demo's coordinate helper takes."""
    return SimpleNamespace(start=int(row.start0), end=int(row.end), strand=row.strand)


def _creates_motif(seq: str, lo: int, pos: int, alt: str) -> bool:
    """Would base pos (genomic) -> alt create a motif in seq around it? seq starts at genome lo."""
    i = pos - lo
    before, after = seq[max(i - 10, 0) : i + 11], seq[max(i - 10, 0) : i] + alt + seq[i + 1 : i + 11]
    return any(after.count(m) + after.count(reverse_complement(m)) > before.count(m) + before.count(reverse_complement(m))
               for m in MOTIFS.values())


def proof_variants(genome: dict[str, str], truth: pd.DataFrame, n: int = 20, seed: int = 0,
                   high_genes: set[str] | None = None) -> pd.DataFrame:
    """The proof SNPs -> DataFrame(chrom, pos (1-based), id, ref, alt), sorted by chrom and pos.
    high_genes: the genes labelled high (None: the top quarter of true logMaxTPM)."""
    rng = np.random.default_rng(seed)
    truth = truth.astype({"chrom": str})
    coding = truth[truth.biotype == "protein_coding"]
    if high_genes is None:
        high = coding.log_max_tpm_true >= coding.log_max_tpm_true.quantile(0.75)
    else:
        high = coding.gene_id.isin(high_genes)
    ok = (coding.n_act == 1) & (coding.window_off_end == 0) & (coding.window_has_n == 0) & coding.chrom.isin(CHROMOSOMES)
    candidates = coding[high & ok].sort_values("gene_id")
    if len(candidates) < n:
        raise ValueError(f"only {len(candidates)} high genes with one planted ACT; the demo is too small for {n}")
    chosen = candidates.iloc[np.sort(rng.choice(len(candidates), size=n, replace=False))]
    spans = _motif_spans(truth)
    rows = []
    for row in chosen.itertuples():
        seq, gene = genome[row.chrom], _gene(row)
        (act,) = [int(item.split("@")[1]) for item in row.motifs.split(",") if item.startswith("ACT@")]
        lo, hi = gene_to_genome(gene, "TSS", act, len(MOTIFS["ACT"]))
        pos = lo + 5  # the motif's centre (CGCAC|GTGAC) on either strand
        rows.append((row.chrom, pos, f"{ACT_BREAK}:{row.gene_id}", seq[pos], _SWAP[seq[pos]]))
        near = spans[row.chrom]
        pieces = DEMO_WINDOW.genomic_pieces(gene.start, gene.end, gene.strand)
        while True:
            plo, phi = pieces[int(rng.integers(2))]
            pos = int(rng.integers(plo, phi))
            if seq[pos] not in _SWAP or any(a - MARGIN <= pos < b + MARGIN for a, b in near):
                continue
            if not _creates_motif(seq, 0, pos, _SWAP[seq[pos]]):
                break
        rows.append((row.chrom, pos, f"{BACKGROUND}:{row.gene_id}", seq[pos], _SWAP[seq[pos]]))
    table = pd.DataFrame(rows, columns=["chrom", "pos0", "id", "ref", "alt"])
    table["pos"] = table["pos0"] + 1
    return table.sort_values(["chrom", "pos"]).drop(columns="pos0")[["chrom", "pos", "id", "ref", "alt"]]


def write_vcf(path: str | Path, variants: pd.DataFrame, contigs: dict[str, int]) -> None:
    """Write variants (chrom, pos 1-based, id, ref, alt) as a bgzipped VCF plus its tabix index."""
    path = Path(path)
    header = pysam.VariantHeader()
    for name, length in contigs.items():
        header.contigs.add(name, length=length)

    def write(tmp: str) -> None:
        with pysam.VariantFile(tmp, "wz", header=header) as out:
            for v in variants.itertuples():
                rec = out.new_record(contig=v.chrom, start=int(v.pos) - 1, alleles=(v.ref, v.alt), id=v.id)
                out.write(rec)

    atomic_write(path, write)
    pysam.tabix_index(str(path), preset="vcf", force=True)


def make_proof_vcf(genome_fasta: str | Path, truth_genes: str | Path, out: str | Path, labels: str | Path | None = None,
                   n: int = 20, seed: int = 0) -> pd.DataFrame:
    """Read the demo genome (plain or gzip FASTA), truth/genes.tsv and optionally the workflow's
    labels.tsv (gene_id, label; 1 = high); write the proof VCF to out."""
    genome = dict(iter_records(genome_fasta))
    truth = pd.read_csv(truth_genes, sep="\t", dtype={"chrom": str, "gene_id": str})
    high = None
    if labels is not None:
        table = pd.read_csv(labels, sep="\t", dtype={"gene_id": str})
        high = set(table.loc[table["label"] == 1, "gene_id"])
    variants = proof_variants(genome, truth, n, seed, high)
    write_vcf(out, variants, {name: len(seq) for name, seq in genome.items()})
    return variants


def proof_vcf_job(genome: str | Path, truth: str | Path, labels: str | Path | None, vcf: str | Path) -> pd.DataFrame:
    """The demo's proof VCF (rule demo_variants): make_proof_vcf, and one line on stderr."""
    variants = make_proof_vcf(genome, truth, vcf, labels)
    print(f"{len(variants)} SNPs -> {vcf}", file=sys.stderr)
    return variants
