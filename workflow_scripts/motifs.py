"""TF-MoDISco motifs of one species and experiment (rule motifs): mtmixg.interpret.motifs."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from pathlib import Path

from mtmixg.interpret.maps import MapsFiles
from mtmixg.interpret.motifs import MotifFiles, motifs_job

out = snakemake.output
motifs_job(
    maps=[
        MapsFiles(run["ohe"], run["attr"], run["genes"], run["info"])
        for run in snakemake.params.maps
    ],
    spec=snakemake.input.spec,
    out=MotifFiles(
        table=out.table,
        matches=out.matches,
        meme=out.meme,
        positions=out.positions,
        profile=out.profile,
        h5=out.h5,
        info=out.info,
        report=out.report_dir,
        work=Path(out.table).parent,  # modisco's input and the pooled genes.tsv
    ),
    max_seqlets=snakemake.params.max_seqlets,
    meme_db=snakemake.params.motif_db,
)
