"""A species' ready TPM table -> results/{species}/expression/tpm.tsv (annotated genes only)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.core.atomic import atomic_write
from mtmixg.gff import read_genes
from mtmixg.labels import match_to_annotation, read_tpm

tpm = read_tpm(snakemake.input.table)
genes = read_genes(snakemake.input.gff)
matched, warning = match_to_annotation(tpm.index, genes["gene_id"], snakemake.input.table, snakemake.input.gff)
print(f"{len(matched)} of {len(tpm)} genes of {snakemake.input.table} are in the annotation", file=sys.stderr)
if warning:
    print(f"warning: {warning}", file=sys.stderr)
atomic_write(Path(snakemake.output[0]), lambda tmp: tpm.loc[matched].to_csv(tmp, sep="\t"))
