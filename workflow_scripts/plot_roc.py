"""ROC curves per experiment (rule plot_roc)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.plots import roc_plot

roc_plot(
    predictions=snakemake.input.predictions,
    order=snakemake.params.order,
    species=snakemake.wildcards.species,
    png=snakemake.output.png,
    svg=snakemake.output.svg,
)
