"""Generate the demo species with mtmixg.demo and move its files to the rule's outputs."""

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.demo import make_demo

out = Path(snakemake.output.meta).parent
out.parent.mkdir(parents=True, exist_ok=True)
tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=".demo."))
try:
    meta = make_demo(
        tmp / "demo",
        seed=snakemake.params.seed,
        genes_per_chromosome=snakemake.params.genes_per_chromosome,
        read_pairs=snakemake.params.read_pairs,
    )
    # move file by file: resources/demo/ also holds files of other rules (the .sra)
    for target in snakemake.output:
        source = tmp / "demo" / Path(target).relative_to(out)
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    print(f"demo: {meta['n_genes']} genes, {len(meta['runs'])} runs", file=sys.stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
