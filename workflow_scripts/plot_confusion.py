"""Confusion matrices per experiment (rule plot_confusion)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.plots import confusion_plot

confusion_plot(
    predictions=snakemake.input.predictions,
    order=snakemake.params.order,
    task=snakemake.params.task,
    species=snakemake.wildcards.species,
    png=snakemake.output.png,
    svg=snakemake.output.svg,
)
