"""Score the species' VCF with one experiment's fold models (rule variant_effects): mtmixg score-variants."""

import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from mtmixg.cli import main
from mtmixg.variant_effects.models import run_models

sys.exit(
    main(
        ["score-variants", *run_models(snakemake.params.runs), "--genome", snakemake.input.genome, "--gff3", snakemake.input.gff,
         "--vcf", snakemake.input.vcf, "--out", snakemake.output.tsv, "--vcf-out", snakemake.output.vcf,
         "--threads", str(snakemake.threads), "--device", "cpu"]
    )
)
