"""DeepCRE's codon mask, applied at model input: the start and stop codon positions set to N."""

from __future__ import annotations

import torch
from torch import nn

from ..core.model_config import ModelConfig, codon_positions


class CodonMask(nn.Module):
    """Zero (N, an all-zero one-hot column) the given positions: (N, 4, L) -> (N, 4, L).

    Holds no parameters and no state_dict entry (the positions come from the ModelConfig), so
    checkpoints load with or without it.
    """

    def __init__(self, seq_len: int, positions: list[int]) -> None:
        super().__init__()
        keep = torch.ones(seq_len)
        keep[positions] = 0.0
        self.register_buffer("keep", keep, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, L) -> (N, 4, L), the masked columns zero."""
        return x * self.keep.to(x.dtype)


def codon_mask(cfg: ModelConfig) -> nn.Module:
    """CodonMask at cfg's TSS and TTS codons when cfg.mask_codons, else nn.Identity (that the codons
    fit the window is checked by ModelConfig.check_shapes, called by build_model)."""
    if not cfg.mask_codons:
        return nn.Identity()
    return CodonMask(cfg.seq_len, codon_positions(cfg.tss_index, cfg.tts_index))
