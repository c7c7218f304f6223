"""TF-MoDISco motifs of one species and experiment (rule motifs): mtmixg.interpret.motifs."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.interpret.motifs import motifs_job

motifs_job(
    maps=snakemake.input.maps,
    spec=snakemake.input.spec,
    table=snakemake.output.table,
    max_seqlets=snakemake.params.max_seqlets,
    meme_db=snakemake.params.motif_db,
)
