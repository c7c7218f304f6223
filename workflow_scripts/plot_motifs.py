"""Meta-profile and motif logos of one species and experiment (rule motif_figures)."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import pandas as pd

from mtmixg.interpret.figures import logos_figure, metaprofile_figure
from mtmixg.interpret.jaspar import read_meme
from mtmixg.plots import save_figure

wc = snakemake.wildcards
profile = pd.read_csv(snakemake.input.profile, sep="\t")
save_figure(metaprofile_figure(profile, f"Mean attribution of held-out genes ({wc.species}, {wc.variant})"), snakemake.output.profile)
table = pd.read_csv(snakemake.input.table, sep="\t")
motifs = read_meme(snakemake.input.meme) if len(table) else []
save_figure(logos_figure(motifs, table, f"Learned motifs ({wc.species}, {wc.variant})"), snakemake.output.logos)
