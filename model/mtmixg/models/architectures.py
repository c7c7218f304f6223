"""build_model: one constructor per architecture name, sharing the building blocks."""

from __future__ import annotations

from torch import nn

from .attention import SelfAttention
from .cnn import ResidualCNN, flat_size
from ..core.model_config import ModelConfig
from ..core.names import ARCHITECTURES
from .deepcre import DeepCRE
from .deepplantcre import DeepPlantCRE
from .gate import DualPathGate
from .head import MLPHead
from .mamba import Mamba
from .mask import codon_mask
from .mixer import MambaBranch, MixEncoder, PassThrough
from .net import MTMixGNet


def _mamba_branch(cfg: ModelConfig, dim: int, backend: str) -> MambaBranch:
    return MambaBranch(dim, Mamba(dim, cfg.d_state, cfg.d_conv, cfg.expand, backend=backend))


def _mixer(cfg: ModelConfig, backend: str) -> tuple[nn.Module, int]:
    """The architecture's mixer and the channels it hands to the CNN chain."""
    c, half = cfg.channels, cfg.channels // 2
    if cfg.arch == "cnn":
        return nn.Identity(), c
    # one-branch ablations: the other half passes through unchanged (see MixEncoder)
    attention = PassThrough() if cfg.arch == "cnn_mamba" else SelfAttention(half, cfg.heads)
    mamba = PassThrough() if cfg.arch == "cnn_attention" else _mamba_branch(cfg, half, backend)
    if cfg.arch == "mtmixg":
        return MixEncoder(attention, mamba, DualPathGate(half)), half
    return MixEncoder(attention, mamba, None), c


def build_model(cfg: ModelConfig, *, mamba_backend: str = "auto") -> nn.Module:
    """The model of architecture cfg.arch: float32 one-hot (N, 4, cfg.seq_len) -> logits (N, cfg.n_outputs).

    mamba_backend ("auto" | "pure" | "fused") picks the Mamba kernels; it does not change parameters.
    """
    cfg.check_shapes()  # the same check the workflow makes when it plans the run
    if cfg.arch == "deepcre":
        return DeepCRE(cfg.seq_len, cfg.n_outputs, cfg.kernel_size, cfg.dropout, codon_mask(cfg))
    if cfg.arch == "deepplantcre":
        return DeepPlantCRE(cfg.seq_len, cfg.n_outputs, cfg.kernel_size, cfg.dropout, codon_mask(cfg))
    if cfg.arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{cfg.arch}'")
    mixer, width = _mixer(cfg, mamba_backend)
    cnn = ResidualCNN(width, cfg.cnn_channels, cfg.kernel_size, cfg.pools, cfg.dropout)
    head = MLPHead(flat_size(cnn, width, cfg.seq_len), cfg.fc_hidden, cfg.n_outputs, cfg.dropout)
    return MTMixGNet(cfg.seq_len, nn.Conv1d(4, cfg.channels, 1), mixer, cnn, head, codon_mask(cfg))
