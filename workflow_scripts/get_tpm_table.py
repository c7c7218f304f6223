"""Fetch a species' tpm_table (download or local, SHA-256 checked) as it is (rule get_tpm_table)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.data.references import fetch_table

fetch_table(
    source=snakemake.params.ref["source"],
    sha256=snakemake.params.ref["sha256"],
    output=snakemake.output.table,
    species=snakemake.wildcards.species,
)
