import os
import sys
from pathlib import Path

from snakemake.utils import min_version

# Snakemake 8.30 (the last 8.x) and 9 both plan and run this workflow (8.30 checked with a dry
# run of config/config.yaml and the demo, also with --workflow-profile profiles/slurm and
# snakemake-executor-plugin-slurm 2.8.0); older 8.x releases were not checked.
min_version("8.30")

# How rules and scripts reach the package: model/ goes first on the import path of this process
# (the rule files import the torch-free mtmixg.core) and, through PYTHONPATH, of every job's
# Python (the `script:` files, also inside --use-conda envs and on Slurm nodes, whose Snakemake
# reads this file again). The envs do not install the package: that would pull an unpinned torch.
PACKAGE_DIR = str(Path(workflow.basedir) / "model")
sys.path.insert(0, PACKAGE_DIR)
_inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
os.environ.update(PYTHONPATH=os.pathsep.join([PACKAGE_DIR] + _inherited))


# A --configfile replaces config/config.yaml instead of merging into it (merged species maps
# would mix the demo with the real species); override single keys with --config.
if not workflow.config_settings.configfiles:

    configfile: str(Path(workflow.basedir) / "config" / "config.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/training_common.smk"


rule all:
    default_target: True
    input:
        data_targets,
        training_targets,


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
include: "rules/train.smk"
include: "rules/summary.smk"
include: "rules/cross_species.smk"
include: "rules/plots.smk"
include: "rules/variant_effects.smk"
include: "rules/attributions.smk"
include: "rules/motifs.smk"
