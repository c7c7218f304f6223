"""Test accuracy per fold (rule plot_fold_accuracy)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)
sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "model"))

from mtmixg.plots import fold_accuracy_figure, save_figure  # noqa: E402
from mtmixg.summary import read_summary  # noqa: E402

folds = read_summary(snakemake.input.folds)
fig = fold_accuracy_figure(folds, snakemake.params.order, title=f"Accuracy per fold ({snakemake.wildcards.species})")
save_figure(fig, snakemake.output.png, *snakemake.output.svg)
