"""Generate the demo species (rule demo_species): mtmixg.demo.demo_job moves its files to the rule's outputs."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.demo import demo_job

demo_job(
    outputs=list(snakemake.output),
    meta=snakemake.output.meta,
    seed=snakemake.params.seed,
    genes_per_chromosome=snakemake.params.genes_per_chromosome,
    read_pairs=snakemake.params.read_pairs,
)
