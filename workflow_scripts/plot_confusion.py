"""Confusion matrices per experiment (rule plot_confusion)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from mtmixg.plots import confusion_figure, save_figure

preds = pd.read_csv(snakemake.input.predictions, sep="\t", dtype={"fold": str, "chrom": str})
fig = confusion_figure(preds, snakemake.params.order, snakemake.params.task,
                       title=f"Held-out confusion matrices ({snakemake.wildcards.species})")
save_figure(fig, snakemake.output.png, *snakemake.output.svg)
