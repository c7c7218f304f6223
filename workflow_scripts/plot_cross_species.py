"""Cross-species heatmaps: accuracy, AUC-ROC, F1 (rule plot_cross_species)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.plots import cross_heatmap_figure, save_figure
from mtmixg.summary import read_summary

matrix = read_summary(snakemake.input.matrix)
fig = cross_heatmap_figure(matrix, title=f"Cross-species ({snakemake.wildcards.variant})")
save_figure(fig, snakemake.output.png, *snakemake.output.svg)
