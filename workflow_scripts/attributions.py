"""Attribution maps of one fold's held-out genes (rule attributions): mtmixg.interpret.attributions."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import torch

from mtmixg.interpret.attributions import explain_fold

torch.set_num_threads(snakemake.threads)
window = snakemake.params.ism_window
info = explain_fold(
    snakemake.input.model,
    Path(snakemake.input.windows).parent,
    Path(snakemake.output.info).parent,
    method=snakemake.params.method,
    n_shuffles=snakemake.params.shuffles,
    ism_window=tuple(window) if window else None,
)
print(f"{info['n_genes']} genes by {info['method']} in {info['seconds']:.1f} s ({info['why']})", file=sys.stderr)
