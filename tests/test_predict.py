"""mtmixg.predict: shapes of predictions, the empty selection included."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mtmixg.models.architectures import build_model
from mtmixg.predict import predict, predict_logits
from mtmixg.tasks import n_outputs
from training_data import SPEC, tiny_model


@pytest.mark.parametrize("task", ["binary", "ternary"])
def test_prediction_shapes_with_and_without_rows(task: str) -> None:
    """No rows gives (0,) / (0, 3) like any other selection: the width comes from the task, not
    from an attribute of the model (models carry no config)."""
    torch.manual_seed(0)
    model = build_model(tiny_model(n_outputs=n_outputs(task)))
    codes = np.random.default_rng(0).integers(0, 4, size=(5, SPEC.length), dtype=np.uint8)
    width = () if task == "binary" else (3,)
    assert predict(model, codes, task).shape == (5, *width)
    assert predict(model, codes, task, index=np.array([1, 3])).shape == (2, *width)
    assert predict(model, codes, task, index=np.array([], np.int64)).shape == (0, *width)
    assert predict_logits(model, codes, np.array([], np.int64), n_outputs=n_outputs(task)).shape == (0, n_outputs(task))
    with pytest.raises(ValueError, match="n_outputs"):
        predict_logits(model, codes, np.array([], np.int64))
