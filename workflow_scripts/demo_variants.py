"""Write the demo's proof VCF (rule demo_variants): mtmixg.variant_effects.demo_vcf."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from mtmixg.variant_effects.demo_vcf import proof_vcf_job

proof_vcf_job(
    genome=snakemake.input.genome,
    truth=snakemake.input.truth,
    labels=snakemake.input.labels,
    vcf=snakemake.output.vcf,
)
