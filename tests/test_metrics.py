"""mtmixg.metrics and mtmixg.tasks against scikit-learn and hand-computed values."""

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from mtmixg.metrics import compute_metrics, is_chance, predictions_frame
from mtmixg.tasks import gene_mask, loss, n_outputs, probabilities, targets


def test_binary_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    prob = np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1)
    m = compute_metrics(y, prob, "binary")
    pred = (prob >= 0.5).astype(int)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["auc"] == pytest.approx(roc_auc_score(y, prob))
    assert m["f1"] == pytest.approx(f1_score(y, pred))
    assert m["n"] == 200


def test_binary_known_values():
    m = compute_metrics([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9], "binary")
    assert m["accuracy"] == 0.5
    assert m["auc"] == 0.75
    assert m["f1"] == 0.5


def test_ternary_macro_metrics_match_sklearn():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3)) + 1.5 * np.eye(3)[y]
    prob = probabilities(torch.tensor(logits), "ternary").numpy()
    m = compute_metrics(y, prob, "ternary")
    pred = prob.argmax(1)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert m["f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert m["auc"] == pytest.approx(roc_auc_score(y, prob, multi_class="ovr", average="macro"))


def test_one_class_auc_is_none_and_chance():
    m = compute_metrics([1, 1, 1], [0.2, 0.7, 0.9], "binary")
    assert m["auc"] is None
    assert is_chance(m["auc"]) and is_chance(0.55) and is_chance(float("nan"))
    assert not is_chance(0.56)
    assert compute_metrics([], [], "binary")["n"] == 0


def test_shape_errors():
    with pytest.raises(ValueError, match="shape"):
        compute_metrics([0, 1], [0.1, 0.2], "ternary")
    with pytest.raises(ValueError, match="unknown task"):
        compute_metrics([0, 1], [0.1, 0.2], "quaternary")


def test_task_targets_and_masks():
    labels = np.array([-1, 0, 1, 1, -1])
    assert gene_mask(labels, "binary").tolist() == [True, False, True, True, True]
    assert targets(labels[gene_mask(labels, "binary")], "binary").tolist() == [0, 1, 1, 0]
    assert targets(labels, "ternary").tolist() == [0, 1, 2, 2, 0]
    with pytest.raises(ValueError):
        targets(labels, "binary")
    assert (n_outputs("binary"), n_outputs("ternary")) == (1, 3)


def test_losses_are_bce():
    logits = torch.tensor([[0.3, -1.0, 2.0], [1.0, 0.5, -0.2]])
    y = torch.tensor([2, 0])
    expected = F.binary_cross_entropy(torch.sigmoid(logits), torch.tensor([[0.0, 0, 1], [1, 0, 0]]))
    assert loss(logits, y, "ternary").item() == pytest.approx(expected.item(), rel=1e-6)
    b = loss(logits[:, :1], torch.tensor([1, 0]), "binary")
    p = torch.sigmoid(logits[:, 0])
    assert b.item() == pytest.approx(-(torch.log(p[0]) + torch.log(1 - p[1])).item() / 2, rel=1e-6)
    prob = probabilities(logits, "ternary")
    assert torch.allclose(prob.sum(1), torch.ones(2))
    assert prob.argmax(1).tolist() == logits.argmax(1).tolist()


def test_predictions_frame_columns():
    genes = pd.DataFrame({"gene_id": ["a", "b"], "chrom": ["1", "2"], "label": [-1, 1]})
    t = predictions_frame(genes, np.array([0, 2]), np.array([[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]]), "ternary")
    assert list(t.columns) == ["gene_id", "chrom", "label", "target", "prob_low", "prob_medium", "prob_high",
                               "predicted", "predicted_label"]
    assert t["predicted"].tolist() == [0, 2] and t["predicted_label"].tolist() == [-1, 1]
    b = predictions_frame(genes, np.array([0, 1]), np.array([0.3, 0.8]), "binary")
    assert b["prob"].tolist() == [0.3, 0.8] and b["predicted"].tolist() == [0, 1]
