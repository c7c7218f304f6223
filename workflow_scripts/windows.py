"""Windows of a species' protein-coding genes with an expression label (rule windows): mtmixg.data.windows."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.data.windows import build_windows

build_windows(
    genome=snakemake.input.genome,
    gff=snakemake.input.gff,
    labels=snakemake.input.labels,
    spec=snakemake.params.window,
    chromosomes=snakemake.params.chromosomes,
    task=snakemake.params.task,
    species=snakemake.wildcards.species,
    windows=snakemake.output.windows,
    genes_out=snakemake.output.genes,
    spec_out=snakemake.output.spec,
    skipped=snakemake.output.skipped,
)
