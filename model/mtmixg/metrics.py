"""Accuracy, AUC-ROC and F1 of a task, and the per-gene predictions table.

binary:  prob (N,) = P(high); class = prob >= 0.5; AUC-ROC; F1 of class high.
ternary: prob (N, 3); class = argmax; macro F1; macro one-vs-rest AUC (mean over the classes
         present with both positives and negatives).
An AUC that cannot be computed (one class only) is None.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from .tasks import CLASS_LABELS, check_task, n_classes, predicted_class, prob_columns

CHANCE_AUC = 0.55


def _auc(y: np.ndarray, score: np.ndarray) -> float | None:
    if y.min() == y.max():
        return None
    return float(roc_auc_score(y, score))


def compute_metrics(y_true: np.ndarray, prob: np.ndarray, task: str) -> dict:
    """Metrics of class indices y_true (N,) against probabilities (N,) or (N, 3).

    Returns {"accuracy", "auc", "f1", "n"}; values None when there are no genes.
    """
    check_task(task)
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    prob = np.asarray(prob, dtype=np.float64)
    if len(y) == 0:
        return {"accuracy": None, "auc": None, "f1": None, "n": 0}
    if task == "binary":
        prob = prob.reshape(-1)
    elif prob.ndim != 2 or prob.shape[1] != 3:
        raise ValueError(f"ternary task needs probabilities of shape (N, 3), got {prob.shape}")
    if prob.shape[0] != len(y):
        raise ValueError(f"{len(y)} targets but {prob.shape[0]} predictions")
    pred = predicted_class(prob, task)
    if task == "binary":
        auc = _auc(y, prob)
        f1 = f1_score(y, pred, zero_division=0)
    else:
        aucs = [a for c in range(n_classes(task)) if (a := _auc((y == c).astype(int), prob[:, c])) is not None]
        auc = float(np.mean(aucs)) if aucs else None
        f1 = f1_score(y, pred, average="macro", labels=list(range(n_classes(task))), zero_division=0)
    return {"accuracy": float(accuracy_score(y, pred)), "auc": auc, "f1": float(f1), "n": int(len(y))}


def is_chance(auc: float | None, threshold: float = CHANCE_AUC) -> bool:
    """True when an AUC is missing, NaN or no better than chance (<= threshold)."""
    return auc is None or (isinstance(auc, float) and math.isnan(auc)) or auc <= threshold


def predictions_frame(genes: pd.DataFrame, target: np.ndarray, prob: np.ndarray, task: str) -> pd.DataFrame:
    """Per-gene table: gene_id, chrom, label, target, prob (binary) or prob_low/prob_medium/prob_high,
    predicted (class index, same scheme as target) and predicted_label (-1/0/1)."""
    prob = np.asarray(prob, dtype=np.float64)
    pred = predicted_class(prob, task)
    out = pd.DataFrame({"gene_id": genes["gene_id"].to_numpy(), "chrom": genes["chrom"].to_numpy()})
    out["label"] = genes["label"].to_numpy()
    out["target"] = np.asarray(target, dtype=np.int64)
    probs = prob.reshape(len(out), -1)
    for i, col in enumerate(prob_columns(task)):
        out[col] = probs[:, i]
    out["predicted"] = pred
    out["predicted_label"] = np.asarray(CLASS_LABELS[task])[pred] if len(pred) else np.zeros(0, dtype=int)
    return out
