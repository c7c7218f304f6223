"""Test accuracy per fold (rule plot_fold_accuracy)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.plots import fold_accuracy_plot

fold_accuracy_plot(
    folds=snakemake.input.folds,
    order=snakemake.params.order,
    species=snakemake.wildcards.species,
    png=snakemake.output.png,
    svg=snakemake.output.svg,
)
