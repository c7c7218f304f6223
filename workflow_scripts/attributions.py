"""Attribution maps of one fold's held-out genes (rule attributions): mtmixg.interpret.attributions."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.interpret.attributions import attributions_job

attributions_job(
    model=snakemake.input.model,
    windows=snakemake.input.windows,
    info=snakemake.output.info,
    method=snakemake.params.method,
    n_shuffles=snakemake.params.shuffles,
    ism_window=snakemake.params.ism_window,
    threads=snakemake.threads,
)
