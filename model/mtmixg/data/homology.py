"""DeepCRE-style non-homologous test genes.

A gene may be a test gene of its chromosome's fold only if none of its homologs sits on another
chromosome (else the homolog, in the training set, leaks the answer). Homologs are BLAST hits,
with e-value < 1e-3 and bitscore >= 50, the gene itself excluded, of an all-vs-all search of one
sequence per gene (its longest), by one of METHODS:

    blastp   DeepCRE's protocol: the species' proteins (Ensembl `pep`), blastp defaults.
    blastn   the longest cDNA, blastn's default task (megablast: word size 28). Cheaper, but it
             misses paralogs whose DNA diverged while their proteins stayed similar.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..core.atomic import atomic_write
from ..core.log import log_stderr
from .fasta import iter_records
from .gff import protein_coding_genes, tx2gene_from_cdna

BLAST6_COLUMNS: tuple[str, ...] = (
    "qseqid", "sseqid", "pident", "length", "mismatch", "gapopen",
    "qstart", "qend", "sstart", "send", "evalue", "bitscore",
)
MAX_EVALUE = 1e-3
MIN_BITSCORE = 50.0
METHODS: dict[str, tuple[str, str]] = {"blastp": ("blastp", "prot"), "blastn": ("blastn", "nucl")}
"""homology method -> (BLAST program, makeblastdb -dbtype)."""


def read_blast6(path: str | Path) -> pd.DataFrame:
    """BLAST tabular output (-outfmt 6, 12 standard columns) -> DataFrame with BLAST6_COLUMNS."""
    path = Path(path)
    if path.stat().st_size == 0:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("qseqid", "sseqid") else float) for c in BLAST6_COLUMNS})
    table = pd.read_csv(path, sep="\t", header=None, comment="#", dtype={0: str, 1: str})
    if table.shape[1] != len(BLAST6_COLUMNS):
        raise ValueError(f"{path}: expected {len(BLAST6_COLUMNS)} columns of BLAST -outfmt 6, found {table.shape[1]}")
    table.columns = list(BLAST6_COLUMNS)
    return table


def non_homologous_genes(
    blast: pd.DataFrame,
    gene_chrom: Mapping[str, str],
    seq_to_gene: Mapping[str, str] | None = None,
    max_evalue: float = MAX_EVALUE,
    min_bitscore: float = MIN_BITSCORE,
) -> set[str]:
    """Genes whose significant hits (evalue < max_evalue, bitscore >= min_bitscore, self excluded)
    all lie on the gene's own chromosome.

    blast: table with qseqid, sseqid, evalue, bitscore. gene_chrom: gene -> chromosome, the genes to
    judge. seq_to_gene: sequence ID -> gene (e.g. tx2gene when sequences are transcripts); None when
    sequences are named by gene. A hit to another sequence of the same gene counts as self. A hit to
    a sequence whose gene or chromosome is unknown counts as off-chromosome (conservative). Genes
    with no hits at all are non-homologous.
    """
    def to_gene(ids: pd.Series) -> pd.Series:
        ids = ids.astype(str)
        return ids.map(seq_to_gene) if seq_to_gene is not None else ids

    hits = blast[(blast["evalue"] < max_evalue) & (blast["bitscore"] >= min_bitscore)]
    q_gene = to_gene(hits["qseqid"])
    s_gene = to_gene(hits["sseqid"])
    keep = q_gene.notna() & (q_gene != s_gene)
    q_gene, s_gene = q_gene[keep], s_gene[keep]
    q_chrom = q_gene.map(gene_chrom)
    s_chrom = s_gene.map(gene_chrom)
    off = q_chrom.notna() & (s_chrom.isna() | (s_chrom != q_chrom))
    homologous_elsewhere = set(q_gene[off])
    return {g for g in gene_chrom if g not in homologous_elsewhere}


def run_blast(
    fasta: str | Path,
    out_tsv: str | Path | None = None,
    threads: int = 1,
    max_evalue: float = MAX_EVALUE,
    max_target_seqs: int = 500,
    method: str = "blastn",
) -> pd.DataFrame:
    """All-vs-all BLAST of a FASTA against itself (makeblastdb + blastn or blastp, ncbi-blast+).

    method: "blastn" (nucleotide FASTA, megablast) or "blastp" (protein FASTA), see METHODS.

    Returns the -outfmt 6 table (BLAST6_COLUMNS); also writes it to out_tsv when given (atomically).
    Raises RuntimeError with BLAST's stderr when a tool fails.
    """
    if method not in METHODS:
        raise ValueError(f"homology method must be one of {', '.join(METHODS)}, got {method!r}")
    program, dbtype = METHODS[method]
    fasta = Path(fasta)
    with tempfile.TemporaryDirectory(prefix="mtmixg_blast_") as tmp:
        db = Path(tmp) / "db"
        hits = Path(tmp) / "hits.tsv"
        commands = [
            ["makeblastdb", "-in", str(fasta), "-dbtype", dbtype, "-out", str(db)],
            [
                program, "-query", str(fasta), "-db", str(db), "-outfmt", "6",
                "-evalue", str(max_evalue), "-num_threads", str(threads),
                "-max_target_seqs", str(max_target_seqs), "-out", str(hits),
            ],
        ]
        for cmd in commands:
            try:
                done = subprocess.run(cmd, capture_output=True, text=True)
            except FileNotFoundError:
                raise RuntimeError(f"{cmd[0]} not found; install ncbi-blast+ (conda: blast)") from None
            if done.returncode != 0:
                raise RuntimeError(f"{cmd[0]} failed on {fasta} (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        table = read_blast6(hits)
        if out_tsv is not None:
            atomic_write(Path(out_tsv), lambda t: table.to_csv(t, sep="\t", header=False, index=False))
    return table


def longest_sequence_per_gene(
    fasta: str | Path, seq_to_gene: Mapping[str, str], out_fasta: str | Path, genes: set[str] | None = None
) -> int:
    """Write the longest sequence of each gene (named by the gene ID) to out_fasta; returns how many.

    fasta: e.g. the cDNA or protein set; seq_to_gene: sequence ID -> gene (tx2gene, or the
    `gene:` fields of an Ensembl pep file); genes: restrict to these.
    """
    best: dict[str, str] = {}
    for name, seq in iter_records(fasta):
        gene = seq_to_gene.get(name)
        if gene is None or (genes is not None and gene not in genes):
            continue
        if len(seq) > len(best.get(gene, "")):
            best[gene] = seq
    def write(tmp: str) -> None:
        with open(tmp, "w") as handle:
            for gene, seq in best.items():
                handle.write(f">{gene}\n")
                for i in range(0, len(seq), 60):
                    handle.write(seq[i : i + 60] + "\n")

    atomic_write(Path(out_fasta), write)
    return len(best)


def build_test_genes(
    gff: str | Path,
    sequences: str | Path,
    tx2gene: str | Path | None,
    chromosomes: Sequence[str],
    method: str,
    out: str | Path,
    threads: int = 1,
    max_evalue: float = MAX_EVALUE,
    min_bitscore: float = MIN_BITSCORE,
    log: Callable[[str], None] = log_stderr,
) -> pd.DataFrame:
    """Write test_genes.tsv (gene_id, chrom, test_eligible) of the protein-coding genes on chromosomes.

    sequences: the proteins (method blastp; Ensembl pep headers name the gene) or the cDNA (blastn,
    mapped to genes by the tx2gene TSV). The longest sequence per gene goes through an all-vs-all
    run_blast; a gene is eligible when non_homologous_genes keeps it. Returns the table.
    """
    out = Path(out)
    genes = protein_coding_genes(gff)
    genes = genes[genes["chrom"].astype(str).isin([str(c) for c in chromosomes])]
    gene_chrom = dict(zip(genes["gene_id"], genes["chrom"].astype(str)))
    if method == "blastp":  # Ensembl pep headers name the gene ('gene:AT1G01010')
        table = tx2gene_from_cdna(sequences, kind="protein")
    else:
        if tx2gene is None:
            raise ValueError(f"homology method {method}: needs the tx2gene table of {sequences}")
        table = pd.read_csv(tx2gene, sep="\t", dtype=str)
    seq_to_gene = dict(zip(table["transcript_id"], table["gene_id"]))
    longest = out.with_name(f".{out.name}.longest.fa")
    try:
        n = longest_sequence_per_gene(sequences, seq_to_gene, longest, set(gene_chrom))
        kind = "protein" if method == "blastp" else "cDNA"
        log(f"{method} all-vs-all of {n} genes' longest {kind}")
        hits = run_blast(longest, threads=threads, max_evalue=max_evalue, method=method)
    finally:
        longest.unlink(missing_ok=True)
    eligible = non_homologous_genes(hits, gene_chrom, None, max_evalue=max_evalue, min_bitscore=min_bitscore)
    result = genes[["gene_id", "chrom"]].assign(test_eligible=genes["gene_id"].isin(eligible))
    log(f"{int(result['test_eligible'].sum())} of {len(result)} genes are test-eligible")
    atomic_write(out, lambda tmp: result.to_csv(tmp, sep="\t", index=False))
    return result
