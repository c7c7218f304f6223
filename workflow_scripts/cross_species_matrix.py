"""Train x test species matrix of one variant (rule cross_species_matrix): mtmixg.cross_species.build_matrix."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.cross_species import build_matrix

build_matrix(
    runs=snakemake.params.runs,
    loco=snakemake.params.loco,
    variant=snakemake.wildcards.variant,
    out=snakemake.output.matrix,
)
