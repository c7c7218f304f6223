"""ModelConfig: every hyper-parameter of a model, serialisable to JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .configio import from_dict_strict
from .names import ARCHITECTURES, BASELINES

ATTENTION_ARCHITECTURES: tuple[str, ...] = ("cnn_attention", "cnn_mixenc", "mtmixg")
"""Architectures with an attention branch (channels / 2 wide, split in `heads`)."""


@dataclass
class ModelConfig:
    """Hyper-parameters of a model (input length 3,020). The paper gives cnn_blocks 5 and kernel_size 8;
    the other defaults are our choices (README "How this differs from the paper")."""

    arch: str = "mtmixg"
    """The architecture (ARCHITECTURES): what build_model builds."""
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
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"model key 'arch': unknown architecture '{self.arch}'; choose one of: {', '.join(ARCHITECTURES)}")
        if self.mask_codons is None:
            self.mask_codons = self.arch == "deepcre"
        if self.channels % 2:
            raise ValueError(f"channels must be even (split in two branches), got {self.channels}")
        if self.arch not in BASELINES and len(self.pools) != self.cnn_blocks:
            raise ValueError(
                f"model keys 'pools' and 'cnn_blocks': pools has {len(self.pools)} entries but cnn_blocks is "
                f"{self.cnn_blocks}; give one pool size per block"
            )
        for name in ("seq_len", "n_outputs", "channels", "heads", "d_state", "cnn_blocks", "cnn_channels", "kernel_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"model key '{name}' must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model key 'dropout' must be in [0, 1), got {self.dropout}")

    def check_shapes(self) -> None:
        """ValueError naming the model key when the model cannot be built for its window (seq_len,
        tss_index, tts_index): pools that shrink the window to nothing, heads that do not divide the
        attention branch, codons to mask outside the window. Torch-free: the workflow checks every
        experiment at plan time; build_model calls it again."""
        if self.arch not in BASELINES:
            check_pools(self.seq_len, self.pools)
        half = self.channels // 2
        if self.arch in ATTENTION_ARCHITECTURES and half % self.heads:
            raise ValueError(
                f"model key 'heads': {self.heads} does not divide the attention branch's {half} channels "
                f"(channels {self.channels} / 2)"
            )
        if self.mask_codons and not (0 <= self.tss_index <= self.seq_len - 3 and 2 <= self.tts_index < self.seq_len):
            raise ValueError(
                f"model key 'mask_codons': TSS index {self.tss_index} / TTS index {self.tts_index} do not fit a "
                f"window of {self.seq_len}"
            )

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ModelConfig":
        """Build from a dict (e.g. a config file or checkpoint JSON); unknown keys are an error."""
        return from_dict_strict(cls, values, "model")


FORMER_KEYS: dict[str, str] = {"variant": "arch"}
"""Keys renamed since: old -> new, in the model dict of a model.json and in a metrics.json
written before the rename (read by mtmixg.checkpoint and mtmixg.summary)."""


def rename_former_keys(values: dict) -> dict:
    """values with each key of FORMER_KEYS under its new name (a copy; values itself unchanged)."""
    return {FORMER_KEYS.get(key, key): value for key, value in values.items()}


def codon_positions(tss_index: int, tts_index: int) -> list[int]:
    """Window positions DeepCRE masks: the 3 bases from the TSS and the 3 bases ending at the TTS."""
    return [*range(tss_index, tss_index + 3), *range(max(tts_index - 2, 0), tts_index + 1)]


def check_pools(seq_len: int, pools: list[int]) -> None:
    """ValueError naming model key 'pools' when a pool size is < 1 or the pools shrink a sequence of
    seq_len to nothing."""
    length = seq_len
    for i, pool in enumerate(pools):
        if not isinstance(pool, int) or pool < 1:
            raise ValueError(f"model key 'pools': pool sizes must be integers >= 1, got {pool!r} at position {i}")
        length //= pool
        if length < 1:
            raise ValueError(
                f"model key 'pools': pools {pools} reduce a sequence of length {seq_len} to nothing at block {i + 1}; "
                "use smaller pool sizes or fewer blocks for this window"
            )
