"""Which models score which gene.

MODELS on the command line are model.pt files, folders holding one, or a species' model folder
(e.g. results/<species>/models/<experiment>) searched for every model.pt below it. A model whose
model.json names a held-out chromosome ("fold") scores only genes of that chromosome, so no gene
is scored by a model that trained on it; seeds of the same fold are averaged (all-chromosome
models, fold "all", are never used then). A single model given
by itself scores every gene; the table's held_out column says whether it held out the gene's
chromosome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from ..checkpoint import MODEL_FILE, check_meta_path, load_model


@dataclass
class ScoringModel:
    """A loaded model; fold: its held-out chromosome (None: trained on every chromosome)."""

    name: str
    model: nn.Module
    fold: str | None


RUN_KEYS: tuple[str, ...] = ("seed", "fold", "model", "meta")
"""Keys of a run record of rule variant_effects (rules/training_common.smk, variant_effect_runs)."""


def run_models(runs: Sequence[dict]) -> list[str]:
    """The model.pt of each run record {seed, fold, model, meta} (rule variant_effects), in order.
    ValueError naming the record that lacks a key, or whose meta is not its model's model.json."""
    from ..summary import check_runs

    check_runs(runs, RUN_KEYS)
    for run in runs:
        check_meta_path(run["model"], run["meta"])
    return [str(run["model"]) for run in runs]


def find_models(paths: list[str | Path]) -> list[Path]:
    """model.pt files named by paths (files, folders holding model.pt, or folders searched below)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_file():
            found.append(path)
        elif (path / MODEL_FILE).is_file():
            found.append(path / MODEL_FILE)
        elif path.is_dir():
            below = sorted(path.rglob(MODEL_FILE))
            if not below:
                raise ValueError(f"{path}: no {MODEL_FILE} in or below this folder (MODELS)")
            found.extend(below)
        else:
            raise ValueError(f"{path}: no such model file or folder (MODELS)")
    return list(dict.fromkeys(p.resolve() for p in found))


def load_scoring_models(paths: list[str | Path], device: str = "cpu") -> tuple[list[ScoringModel], dict]:
    """Load every model of paths -> (models, shared meta of the first: "task", "window_spec").

    A lone model scores every gene; among several, each scores only its held-out chromosome (one
    trained on all chromosomes, fold "all", scores none). Models must share task, window and architecture.
    """
    files = find_models(paths)
    loaded = [(path, *load_model(path, device=device)) for path in files]
    first_path, _, first = loaded[0]
    common = Path(*_common_parts([p.parent for p in files]))  # names: model folders below it
    out = []
    for path, model, meta in loaded:
        for key in ("task", "window_spec"):
            if meta[key] != first[key]:
                raise ValueError(f"{path}: {key.split('_')[0]} {meta[key]} differs from {first_path}'s {first[key]}; "
                                 "give models of one experiment")
        if meta["model_config"].arch != first["model_config"].arch:
            raise ValueError(f"{path}: architecture {meta['model_config'].arch} differs from {first_path}'s "
                             f"{first['model_config'].arch}; give one experiment's models "
                             "(e.g. results/<species>/models/<experiment>)")
        fold = meta.get("fold")
        fold = None if fold in (None, "all") else str(fold)
        out.append(ScoringModel(str(path.parent.relative_to(common)) if len(files) > 1 else str(path), model, fold))
    return out, first


def _common_parts(folders: list[Path]) -> tuple[str, ...]:
    parts = [f.parts for f in folders]
    common = []
    for group in zip(*parts):
        if len(set(group)) > 1:
            break
        common.append(group[0])
    return tuple(common)


def models_for(models: list[ScoringModel], chrom: str) -> list[ScoringModel]:
    """The models that score a gene on chrom: a lone model always; among several, those that held
    chrom out (none: the gene is skipped)."""
    return models if len(models) == 1 else [m for m in models if m.fold == chrom]
