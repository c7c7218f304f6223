"""The scalar a map explains: the model's evidence for "high" expression."""

from __future__ import annotations

import torch
from torch import nn

from ..tasks import CLASS_NAMES, check_task


class HighScore(nn.Module):
    """Wrap a model: (N, 4, L) -> (N, 1), the logit of "high" (binary) or the logit difference
    high - low (ternary). Linear in the model's logits, so DeepLIFT's rules pass through it."""

    def __init__(self, model: nn.Module, task: str) -> None:
        super().__init__()
        self.model = model
        self.task = check_task(task)
        names = CLASS_NAMES[task]
        self.high, self.low = names.index("high"), names.index("low")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)
        if self.task == "binary":
            return logits[:, :1]
        return logits[:, self.high : self.high + 1] - logits[:, self.low : self.low + 1]
