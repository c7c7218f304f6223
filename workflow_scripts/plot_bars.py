"""Accuracy / AUC-ROC / F1 bars with sd error bars (rules plot_ablation, plot_sweep)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.plots import metric_bars_figure, save_figure
from mtmixg.summary import read_summary

summary = read_summary(snakemake.input.summary)
fig = metric_bars_figure(summary, snakemake.params.order, title=snakemake.params.title)
save_figure(fig, snakemake.output.png, *snakemake.output.svg)
