"""Confusion matrices per experiment (rule plot_confusion)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)
sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "model"))

import pandas as pd  # noqa: E402

from mtmixg.plots import confusion_figure, save_figure  # noqa: E402

preds = pd.read_csv(snakemake.input.predictions, sep="\t", dtype={"fold": str, "chrom": str})
fig = confusion_figure(preds, snakemake.params.order, snakemake.params.task,
                       title=f"Held-out confusion matrices ({snakemake.wildcards.species})")
save_figure(fig, snakemake.output.png, *snakemake.output.svg)
