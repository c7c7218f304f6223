"""Test accuracy per fold (rule plot_fold_accuracy)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.plots import fold_accuracy_figure, save_figure
from mtmixg.summary import read_summary

folds = read_summary(snakemake.input.folds)
fig = fold_accuracy_figure(folds, snakemake.params.order, title=f"Accuracy per fold ({snakemake.wildcards.species})")
save_figure(fig, snakemake.output.png, *snakemake.output.svg)
