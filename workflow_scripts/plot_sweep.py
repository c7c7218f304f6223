"""The hyper-parameter sweep figure, one panel per swept key (rule plot_sweep): mtmixg.plots.sweep_plot."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.plots import sweep_plot

sweep_plot(
    summary=snakemake.input.summary,
    panels=snakemake.params.panels,
    title=snakemake.params.title,
    png=snakemake.output.png,
    svg=snakemake.output.svg,
)
