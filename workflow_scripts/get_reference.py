"""Fetch one reference file of a species (download or local), check it, store it decompressed."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")
sys.path.insert(0, str(Path(snakemake.scriptdir).parent / "model"))

from mtmixg.references import fetch_reference  # noqa: E402

fetch_reference(
    kind=snakemake.params.kind,
    source=snakemake.params.ref["source"],
    sha256=snakemake.params.ref["sha256"],
    output=snakemake.output[0],
    species=snakemake.wildcards.species,
)
