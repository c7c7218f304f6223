"""A species' ready TPM table -> results/{species}/expression/tpm.tsv, annotated genes only (rule import_tpm_table)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.data.labels import import_tpm_table

import_tpm_table(table=snakemake.input.table, gff=snakemake.input.gff, out=snakemake.output.tpm)
