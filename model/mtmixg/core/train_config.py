"""TrainConfig: every setting of a training run (the loop itself is mtmixg.fit)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .configio import from_dict_strict

EXECUTION_KEYS: tuple[str, ...] = ("device", "require_gpu", "threads")
"""TrainConfig keys that say where a run executes, not what it trains: left out of the resume
state's fingerprint (mtmixg.fit) and of the workflow's experiment param (a change reruns nothing)."""


@dataclass
class TrainConfig:
    """Hyper-parameters and execution settings of a training run."""

    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-4
    patience: int = 10
    lr_patience: int = 5
    lr_factor: float = 0.1
    warmup_epochs: int = 6
    val_fraction: float = 0.1
    balance: bool = True
    device: str = "auto"
    require_gpu: bool = False
    allow_pure_kernels: bool = False
    """On CUDA, train a Mamba model with the slow PyTorch scan when the fused kernels (mamba_ssm,
    causal_conv1d) do not import; False: that is an error (mtmixg.ops.check_kernel_path)."""
    amp: bool = True
    threads: int | None = None
    min_delta: float = 0.0
    chance_auc: float = 0.55
    warmup_steps: int = 1200
    chance_margin: float = 0.01
    max_restarts: int = 2
    warmup_margin: float = 0.02
    """The warm-up ends at the first epoch (from warmup_epochs on) whose validation loss is below the
    chance loss minus this; at the latest after max(warmup_epochs, ceil(warmup_steps / steps per epoch))."""
    select_window: int = 3
    """Best epoch and early stopping use the median validation loss of the last this-many epochs (1:
    that epoch's own loss)."""
    bn_recompute: bool = True
    """After each epoch, set the batch-norm running statistics to the training genes' (one extra
    forward pass; mtmixg.fit.recompute_batchnorm); False: the momentum statistics of the epoch."""

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience", "lr_patience", "select_window"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"train key '{name}' must be an integer >= 1, got {getattr(self, name)!r}")
        for name in ("warmup_epochs", "warmup_steps", "max_restarts"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"train key '{name}' must be an integer >= 0, got {value!r}")
        for name in ("chance_margin", "warmup_margin"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1):
                raise ValueError(f"train key '{name}' must be in [0, 1), got {value!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"train key 'lr' must be > 0, got {self.lr!r}")
        if not 0 < self.lr_factor <= 1:
            raise ValueError(f"train key 'lr_factor' must be in (0, 1], got {self.lr_factor!r}")
        if not 0 < self.val_fraction < 1:
            raise ValueError(f"train key 'val_fraction' must be in (0, 1), got {self.val_fraction!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"train key 'device' must be auto, cpu or cuda, got {self.device!r}")
        if self.require_gpu and self.device == "cpu":
            raise ValueError("train keys 'require_gpu' and 'device': a GPU is required but device is 'cpu'")
        if not isinstance(self.bn_recompute, bool):
            raise ValueError(f"train key 'bn_recompute' must be true or false, got {self.bn_recompute!r}")
        if not isinstance(self.allow_pure_kernels, bool):
            raise ValueError(f"train key 'allow_pure_kernels' must be true or false, got {self.allow_pure_kernels!r}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise ValueError(f"train key 'threads' must be an integer >= 1 or null, got {self.threads!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Build from a dict; an unknown key is a ValueError naming it."""
        return from_dict_strict(cls, values, "train")
