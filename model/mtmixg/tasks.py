"""Prediction tasks: which genes take part, their targets, the loss and the output probabilities.

Labels in genes.tsv: -1 low, 0 medium, 1 high.

binary   low -> 0, high -> 1, medium dropped; 1 output (logit); BCEWithLogits.
ternary  low -> 0, medium -> 1, high -> 2; 3 outputs (one logit per class); one-hot targets with
         BCEWithLogits per class (as the paper). The class is the argmax. Probabilities are the
         per-class sigmoids normalised to sum to one (the same quantity the loss trains, so a class
         the model is unsure about stays unsure; softmax of BCE-trained logits would over-sharpen).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# the task names live in the torch-free core; imported here for the modules that train
from .core.names import CLASS_LABELS, CLASS_NAMES, TASKS, check_task, n_classes, n_outputs  # noqa: F401


def gene_mask(labels: np.ndarray, task: str) -> np.ndarray:
    """Boolean (N,): the genes that take part in the task (binary drops medium = 0)."""
    labels = np.asarray(labels)
    if check_task(task) == "binary":
        return np.isin(labels, (-1, 1))
    return np.isin(labels, (-1, 0, 1))


def targets(labels: np.ndarray, task: str) -> np.ndarray:
    """Labels (-1/0/1) -> class indices int64 (N,); raises on labels the task does not use."""
    labels = np.asarray(labels)
    if not gene_mask(labels, task).all():
        bad = sorted(set(labels[~gene_mask(labels, task)].tolist()))
        raise ValueError(f"task {task}: labels {bad} are not used by this task; filter with gene_mask first")
    if task == "binary":
        return (labels == 1).astype(np.int64)
    return (labels + 1).astype(np.int64)


def all_targets(labels: np.ndarray, task: str) -> np.ndarray:
    """Class index per gene (N,), -1 for genes the task drops."""
    y = np.full(len(labels), -1, dtype=np.int64)
    mask = gene_mask(labels, task)
    y[mask] = targets(np.asarray(labels)[mask], task)
    return y


def loss(logits: torch.Tensor, target: torch.Tensor, task: str) -> torch.Tensor:
    """Mean BCE-with-logits. logits (N, n_outputs); target int64 class indices (N,)."""
    logits = logits.float()
    if task == "binary":
        return F.binary_cross_entropy_with_logits(logits.reshape(-1), target.float())
    onehot = F.one_hot(target, num_classes=logits.shape[1]).float()
    return F.binary_cross_entropy_with_logits(logits, onehot)


def probabilities(logits: torch.Tensor, task: str) -> torch.Tensor:
    """Logits (N, n_outputs) -> probabilities: binary (N,) P(high); ternary (N, 3), rows sum to 1."""
    p = torch.sigmoid(logits.float())
    if task == "binary":
        return p.reshape(-1)
    return p / p.sum(dim=1, keepdim=True).clamp_min(1e-12)


def predicted_class(prob: np.ndarray, task: str) -> np.ndarray:
    """Probabilities (N,) or (N, 3) -> class indices int64 (N,)."""
    prob = np.asarray(prob)
    if task == "binary":
        return (prob >= 0.5).astype(np.int64)
    return prob.argmax(axis=1).astype(np.int64)


def prob_columns(task: str) -> list[str]:
    """Column names of the probabilities in prediction tables."""
    return ["prob"] if check_task(task) == "binary" else [f"prob_{c}" for c in CLASS_NAMES[task]]
