"""Train / validation / test splits of a windows dataset for one leave-one-chromosome-out fold.

test        genes whose `fold` equals the fold (the held-out chromosome).
validation  a seeded random val_fraction of the genes of the OTHER chromosomes, drawn per class
            (stratified), never from the test chromosome.
train       the remaining genes of the other chromosomes, optionally class-balanced by seeded
            random down-sampling to the smallest class.
Genes on the test chromosome that are not test genes (e.g. with homologs elsewhere) are in no set.
fold=None: no test set; train and validation come from all chromosomes (cross-species models).
Only genes the task uses take part (binary drops medium).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .tasks import gene_mask, targets


@dataclass
class Split:
    """Row indices (int64, sorted) into the windows dataset."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {"n_train": int(len(self.train)), "n_val": int(len(self.val)), "n_test": int(len(self.test))}


def _rng(seed: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), purpose])


def str_column(values: pd.Series) -> np.ndarray:
    """Strings of a column; missing values (NaN, None) become ""."""
    return np.array(["" if pd.isna(v) else str(v) for v in values], dtype=object)


def balance_classes(index: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Down-sample index (with class y per entry) so every class present has the same count."""
    rng = _rng(seed, 2)
    classes = np.unique(y)
    if len(classes) < 2:
        return np.sort(index)
    n = min(int((y == c).sum()) for c in classes)
    keep = [rng.choice(index[y == c], size=n, replace=False) for c in classes]
    return np.sort(np.concatenate(keep))


def make_split(
    genes: pd.DataFrame,
    fold: str | None,
    task: str,
    val_fraction: float = 0.1,
    seed: int = 0,
    balance: bool = True,
    test_eligible: np.ndarray | None = None,
) -> Split:
    """Split the gene table for a fold (see module docstring). Raises ValueError on an unknown fold
    or a split that leaves no training or validation genes.

    test_eligible: bool per gene (N,), e.g. from the homology filter; test genes are the fold's
    genes where it is True (the others are in no set). None: every gene of the fold.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    labels = genes["label"].to_numpy()
    usable = gene_mask(labels, task)
    gene_fold = str_column(genes["fold"])
    chrom = str_column(genes["chrom"])
    if fold is None:
        test = np.zeros(0, dtype=np.int64)
        pool = np.flatnonzero(usable)
    else:
        fold = str(fold)
        known = sorted(set(gene_fold[usable]) - {""})
        if fold not in known:
            raise ValueError(f"fold '{fold}': no {task} genes have this fold; folds in the gene table: {', '.join(known)}")
        eligible = np.ones(len(genes), dtype=bool) if test_eligible is None else np.asarray(test_eligible, bool)
        test = np.flatnonzero(usable & (gene_fold == fold) & eligible)
        pool = np.flatnonzero(usable & (chrom != fold) & (gene_fold != fold))
    y_pool = targets(labels[pool], task)
    rng = _rng(seed, 1)
    val_parts = []
    for c in np.unique(y_pool):
        members = pool[y_pool == c]
        # at least one validation gene of each class that has two or more (else AUC is undefined)
        n_val = max(int(round(val_fraction * len(members))), 1 if len(members) >= 2 else 0)
        val_parts.append(rng.choice(members, size=n_val, replace=False))
    val = np.sort(np.concatenate(val_parts)) if val_parts else np.zeros(0, dtype=np.int64)
    train = np.setdiff1d(pool, val)
    if balance:
        train = balance_classes(train, targets(labels[train], task), seed)
    if len(train) == 0 or len(val) == 0:
        raise ValueError(
            f"fold {fold}: {len(train)} training and {len(val)} validation genes; the gene table is too small "
            f"for this split (val_fraction {val_fraction})"
        )
    return Split(train.astype(np.int64), val.astype(np.int64), np.sort(test).astype(np.int64))
