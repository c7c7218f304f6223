"""The fully connected head: flattened features -> logits."""

from __future__ import annotations

from torch import nn


class MLPHead(nn.Sequential):
    """Flatten -> [Linear -> ReLU -> Dropout] per hidden width -> Linear.

    (N, C, L') -> logits (N, n_outputs).
    """

    def __init__(self, in_features: int, hidden: list[int], n_outputs: int, dropout: float) -> None:
        layers: list[nn.Module] = [nn.Flatten()]
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, n_outputs))
        super().__init__(*layers)
