"""Test-eligible genes of a species (DeepCRE's homology filter) -> test_genes.tsv."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from mtmixg.core.atomic import atomic_write
from mtmixg.gff import protein_coding_genes, tx2gene_from_cdna
from mtmixg.homology import longest_sequence_per_gene, non_homologous_genes, run_blast

out = Path(snakemake.output[0])
method = snakemake.params.method
genes = protein_coding_genes(snakemake.input.gff)
genes = genes[genes["chrom"].astype(str).isin(snakemake.params.chromosomes)]
gene_chrom = dict(zip(genes["gene_id"], genes["chrom"].astype(str)))
if method == "blastp":  # Ensembl pep headers name the gene ('gene:AT1G01010')
    tx2gene = tx2gene_from_cdna(snakemake.input.sequences, kind="protein")
else:
    tx2gene = pd.read_csv(snakemake.input.tx2gene, sep="\t", dtype=str)
seq_to_gene = dict(zip(tx2gene["transcript_id"], tx2gene["gene_id"]))
longest = out.with_name(f".{out.name}.longest.fa")
try:
    n = longest_sequence_per_gene(snakemake.input.sequences, seq_to_gene, longest, set(gene_chrom))
    kind = "protein" if method == "blastp" else "cDNA"
    print(f"{method} all-vs-all of {n} genes' longest {kind}", file=sys.stderr)
    hits = run_blast(longest, threads=snakemake.threads, max_evalue=snakemake.params.evalue, method=method)
finally:
    longest.unlink(missing_ok=True)
eligible = non_homologous_genes(
    hits, gene_chrom, None, max_evalue=snakemake.params.evalue, min_bitscore=snakemake.params.bitscore
)
table = genes[["gene_id", "chrom"]].assign(test_eligible=genes["gene_id"].isin(eligible))
print(f"{int(table['test_eligible'].sum())} of {len(table)} genes are test-eligible", file=sys.stderr)
atomic_write(out, lambda tmp: table.to_csv(tmp, sep="\t", index=False))
