"""ROC curves per experiment (rule plot_roc)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from mtmixg.plots import roc_figure, save_figure

preds = pd.read_csv(snakemake.input.predictions, sep="\t", dtype={"fold": str, "chrom": str})
fig = roc_figure(preds, snakemake.params.order, title=f"Held-out ROC ({snakemake.wildcards.species})")
save_figure(fig, snakemake.output.png, *snakemake.output.svg)
