"""TF-MoDISco motifs of one species and experiment (rule motifs): mtmixg.interpret.motifs."""

import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w", buffering=1)

import json

from mtmixg.interpret.motifs import find_motifs
from mtmixg.sequence import WindowSpec

meta = json.loads(Path(snakemake.input.spec).read_text())
meta.pop("mtmixg_version", None)
find_motifs(
    [Path(path).parent for path in snakemake.input.maps],
    WindowSpec.from_dict(meta),
    Path(snakemake.output.table).parent,
    max_seqlets=snakemake.params.max_seqlets,
    meme_db=snakemake.params.motif_db,
)
