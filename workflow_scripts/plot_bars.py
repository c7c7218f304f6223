"""Accuracy / AUC-ROC / F1 bars with sd error bars (rule plot_ablation)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.plots import bars_plot

bars_plot(
    summary=snakemake.input.summary,
    order=snakemake.params.order,
    title=snakemake.params.title,
    png=snakemake.output.png,
    svg=snakemake.output.svg,
)
