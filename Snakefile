from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


# A --configfile replaces config/config.yaml instead of merging into it (merged species maps
# would mix the demo with the real species); override single keys with --config.
if not workflow.config_settings.configfiles:

    configfile: str(Path(workflow.basedir) / "config" / "config.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"


rule all:
    default_target: True
    input:
        all_targets,


rule data:
    input:
        data_targets,


include: "rules/demo.smk"
include: "rules/references.smk"
include: "rules/reads.smk"
include: "rules/trim.smk"
include: "rules/quant.smk"
include: "rules/expression.smk"
include: "rules/windows.smk"
include: "rules/homology.smk"


# the training half, included when present
for stage in (
    "train",
    "evaluate",
    "cross_species",
    "plots",
    "variant_effects",
    "attributions",
    "motifs",
):
    if Path(workflow.basedir, "rules", f"{stage}.smk").exists():

        include: f"rules/{stage}.smk"
