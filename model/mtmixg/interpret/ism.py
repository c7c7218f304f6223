"""In-silico saturation mutagenesis (ISM): exact, model-agnostic, batched forward passes.

Every base of a sub-window is replaced by each of the other three (3 forward passes per base); the map at (b, i) is the
score with base b at position i minus the mean over the four bases at i (a hypothetical
contribution, as modisco reads it). Inputs stay one-hot. Positions without a base (the spacer,
N) and positions outside the sub-window get 0.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


@torch.no_grad()
def ism(
    score: nn.Module,
    x: torch.Tensor,
    start: int = 0,
    end: int | None = None,
    batch_size: int = 1024,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Hypothetical ISM contributions float32 (N, 4, L) of one-hot x float32 (N, 4, L).

    score: (B, 4, L) -> (B, 1), in eval mode. [start, end): the sub-window mutated (default all).
    progress: called with 1 after each sequence.
    """
    n, _, length = x.shape
    end = length if end is None else end
    if not 0 <= start < end <= length:
        raise ValueError(f"ISM sub-window [{start}, {end}) is not inside a window of length {length}")
    device = next(score.parameters()).device
    out = torch.zeros_like(x, device="cpu")
    positions = torch.arange(start, end)
    for g in range(n):
        seq = x[g].to(device)
        window = x[g, :, start:end]
        present = window.sum(0) > 0
        # one mutant per (position with a base, other base); the reference base scores as seq itself
        grid = score(seq[None]).float().cpu().expand(4, end - start).clone()  # (4, W)
        base, col = torch.nonzero((window == 0) & present, as_tuple=True)
        for lo in range(0, len(col), batch_size):
            b, c = base[lo : lo + batch_size], col[lo : lo + batch_size]
            batch = seq.expand(len(c), -1, -1).clone()
            rows = torch.arange(len(c))
            batch[rows, :, positions[c]] = 0.0
            batch[rows, b, positions[c]] = 1.0
            grid[b, c] = score(batch)[:, 0].float().cpu()
        out[g, :, start:end] = (grid - grid.mean(0, keepdim=True)) * present
        if progress is not None:
            progress(1)
    return out

