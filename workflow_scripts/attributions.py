"""Attribution maps of one fold's held-out genes (rule attributions): mtmixg.interpret.attributions."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.data.dataset import WindowsFiles
from mtmixg.interpret.attributions import attributions_job
from mtmixg.interpret.maps import MapsFiles

attributions_job(
    model=snakemake.input.model,
    meta=snakemake.input.meta,
    predictions=snakemake.input.predictions,
    windows=WindowsFiles(snakemake.input.windows, snakemake.input.genes, snakemake.input.spec),
    maps=MapsFiles(
        snakemake.output.ohe,
        snakemake.output.attr,
        snakemake.output.genes,
        snakemake.output.info,
    ),
    method=snakemake.params.method,
    n_shuffles=snakemake.params.shuffles,
    ism_window=snakemake.params.ism_window,
    threads=snakemake.threads,
)
