"""ModelConfig: every hyper-parameter of a model, serialisable to JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .configio import from_dict_strict
from .names import VARIANTS


@dataclass
class ModelConfig:
    """Hyper-parameters of a model; defaults are the paper's (input length 3,020)."""

    variant: str = "mtmixg"
    seq_len: int = 3020
    n_outputs: int = 1
    channels: int = 64
    heads: int = 4
    d_state: int = 16
    d_conv: int = 4
    expand: int = 2
    cnn_blocks: int = 5
    cnn_channels: int = 64
    kernel_size: int = 8
    pools: list[int] = field(default_factory=lambda: [2, 2, 4, 4, 4])
    dropout: float = 0.25
    fc_hidden: list[int] = field(default_factory=lambda: [128, 64])
    mask_codons: bool | None = None
    """Zero the start/stop codon positions at model input, as DeepCRE; None: on for deepcre only."""
    tss_index: int = 1000
    """Window index of the TSS (from the windows, like seq_len); used by mask_codons."""
    tts_index: int = 2019
    """Window index of the TTS (from the windows, like seq_len); used by mask_codons."""

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant '{self.variant}'; choose one of: {', '.join(VARIANTS)}")
        if self.mask_codons is None:
            self.mask_codons = self.variant == "deepcre"
        if self.channels % 2:
            raise ValueError(f"channels must be even (split in two branches), got {self.channels}")
        if self.variant != "deepcre" and len(self.pools) != self.cnn_blocks:
            raise ValueError(
                f"pools has {len(self.pools)} entries but cnn_blocks is {self.cnn_blocks}; give one pool size per block"
            )
        for name in ("seq_len", "n_outputs", "channels", "heads", "d_state", "cnn_blocks", "kernel_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"model key '{name}' must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model key 'dropout' must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ModelConfig":
        """Build from a dict (e.g. a config file or checkpoint JSON); unknown keys are an error."""
        return from_dict_strict(cls, values, "model")


def codon_positions(tss_index: int, tts_index: int) -> list[int]:
    """Window positions DeepCRE masks: the 3 bases from the TSS and the 3 bases ending at the TTS."""
    return [*range(tss_index, tss_index + 3), *range(max(tts_index - 2, 0), tts_index + 1)]
