"""Cross-species heatmaps: accuracy, AUC-ROC, F1 (rule plot_cross_species)."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)
sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "model"))

from mtmixg.plots import cross_heatmap_figure, save_figure  # noqa: E402
from mtmixg.summary import read_summary  # noqa: E402

matrix = read_summary(snakemake.input.matrix)
fig = cross_heatmap_figure(matrix, title=f"Cross-species ({snakemake.wildcards.variant})")
save_figure(fig, snakemake.output.png, *snakemake.output.svg)
