"""Test-eligible genes of a species, DeepCRE's homology filter (rule homology): mtmixg.data.homology.build_test_genes."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.data.homology import build_test_genes

build_test_genes(
    gff=snakemake.input.gff,
    sequences=snakemake.input.sequences,
    tx2gene=snakemake.input.get("tx2gene"),
    chromosomes=snakemake.params.chromosomes,
    method=snakemake.params.method,
    out=snakemake.output.test_genes,
    threads=snakemake.threads,
    max_evalue=snakemake.params.evalue,
    min_bitscore=snakemake.params.bitscore,
)
