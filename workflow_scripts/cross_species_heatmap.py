"""Cross-species heatmaps: accuracy, AUC-ROC, F1 (rule cross_species_heatmap): mtmixg.cross_species.build_heatmap."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.cross_species import build_heatmap

build_heatmap(
    matrix=snakemake.input.matrix,
    experiment=snakemake.wildcards.experiment,
    png=snakemake.output.png,
    svg=snakemake.output.svg,
)
