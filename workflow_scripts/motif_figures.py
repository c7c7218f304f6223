"""Meta-profile and motif logos of one species and experiment (rule motif_figures): mtmixg.interpret.figures."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.interpret.figures import motif_figures

motif_figures(
    profile=snakemake.input.profile,
    table=snakemake.input.table,
    meme=snakemake.input.meme,
    species=snakemake.wildcards.species,
    experiment=snakemake.wildcards.experiment,
    profile_png=snakemake.output.profile,
    logos_png=snakemake.output.logos,
)
