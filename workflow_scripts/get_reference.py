"""Fetch one reference file of a species (download or local), check it, store it decompressed."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.data.references import fetch_reference

fetch_reference(
    kind=snakemake.params.kind,
    source=snakemake.params.ref["source"],
    sha256=snakemake.params.ref["sha256"],
    output=snakemake.output[0],
    species=snakemake.wildcards.species,
)
