"""Train x test species matrix of one experiment (rule cross_species_matrix): mtmixg.cross_species.build_matrix."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.cross_species import build_matrix

build_matrix(
    runs=snakemake.params.runs,
    loco=snakemake.params.loco,
    experiment=snakemake.wildcards.experiment,
    out=snakemake.output.matrix,
)
