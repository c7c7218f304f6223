"""Names the whole workflow shares: the model architectures and the prediction tasks (one list each),
and the rule for names that become folder names (species, samples, runs, experiments, chromosomes).

config/schemas/training.schema.yaml holds the architecture list once (`$defs/arch`); a test checks
that it equals ARCHITECTURES.
"""

from __future__ import annotations

import re

ARCHITECTURES: tuple[str, ...] = ("cnn", "cnn_mamba", "cnn_attention", "cnn_mixenc", "mtmixg", "deepcre", "deepplantcre")
"""cnn = M1, cnn_mamba = M1+M21, cnn_attention = M1+M22, cnn_mixenc = M1+M2, mtmixg = M1+M2+M3;
deepcre and deepplantcre = the published baselines. Also the order of tables and figures (the paper's
ablation order, then the baselines)."""
BASELINES: tuple[str, ...] = ("deepcre", "deepplantcre")
"""The published baselines (DeepCRE, DeepPlantCRE): fixed layers (mtmixg.models.deepcre, .deepplantcre);
of the model keys they use only kernel_size, dropout, mask_codons and the window's."""
PAPER_NAMES: dict[str, str] = dict(
    zip(ARCHITECTURES, ("M1", "M1+M21", "M1+M22", "M1+M2", "MTMixG-Net", "DeepCRE", "DeepPlantCRE"))
)
"""The paper's name of each architecture (Table 2), for figure labels."""



def ablation_order(names: list[str]) -> list[str]:
    """The architectures among names, in the paper's Fig. 2 order (ARCHITECTURES); other names left out."""
    return [v for v in ARCHITECTURES if v in names]


TASKS: tuple[str, ...] = ("binary", "ternary")
CLASS_NAMES: dict[str, tuple[str, ...]] = {"binary": ("low", "high"), "ternary": ("low", "medium", "high")}
CLASS_LABELS: dict[str, tuple[int, ...]] = {"binary": (-1, 1), "ternary": (-1, 0, 1)}
"""Label (-1 low, 0 medium, 1 high in genes.tsv) of each class index."""


def check_task(task: str) -> str:
    """task itself; ValueError naming the choices when it is not a task."""
    if task not in TASKS:
        raise ValueError(f"unknown task '{task}'; choose one of: {', '.join(TASKS)}")
    return task


def n_outputs(task: str) -> int:
    """Number of model outputs (logits) of a task."""
    return 1 if check_task(task) == "binary" else 3


def n_classes(task: str) -> int:
    """Number of classes of a task."""
    return len(CLASS_NAMES[check_task(task)])


NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
"""Species, sample, run and experiment names (fullmatch): they become folder names and shell words."""
SEQID_PATTERN = re.compile(r"[A-Za-z0-9._:+-]+")
"""Chromosome names (fullmatch): they become fold folder names (no '/', no shell characters)."""
ALL_CHROMOSOMES = "all"
"""The fold name of a model trained on every chromosome (no test set: the cross-species models);
no chromosome may have this name."""


def name_problem(name: str) -> str:
    """Why name cannot be a species, sample, run or experiment name ('' when it can)."""
    if not NAME_PATTERN.fullmatch(name):
        return "use only letters, digits, '.', '_' and '-' (no spaces, '/' or shell characters)"
    if not name.strip("."):
        return "a name made only of dots is this folder or the one above it"
    return ""


def chromosome_problem(name: str) -> str:
    """Why a chromosome (a FASTA record name, and the name of its fold's folder) cannot be used
    ('' when it can)."""
    if "/" in name:
        return "it holds '/', so it cannot be a folder name"
    if not name.strip("."):
        return "a name made only of dots is this folder or the one above it"
    if name == ALL_CHROMOSOMES:
        return f"fold '{name}' is the model trained on every chromosome; rename the sequence"
    if not SEQID_PATTERN.fullmatch(name) or len(name) > 255:
        return "use only letters, digits, '.', '_', '-', ':' and '+' (at most 255), then rename the sequence"
    return ""
