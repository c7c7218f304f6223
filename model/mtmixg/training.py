"""The training loop: Adam, early stopping and LR decay on validation loss after a warm-up, resume.

Early stopping (patience) and LR decay (lr_patience, lr_factor) count epochs without a validation-
loss gain only after warmup_epochs: models first sit on the 0.693 BCE plateau and would otherwise be
stopped there. The weights of the best validation-loss epoch (any epoch, warm-up included) are
restored at the end.

Reproducible: model init, dropout and batch order derive from the seed; the batch order of an epoch
depends only on (seed, epoch). On CPU a run is bit-repeatable for a fixed thread count.

Resume: after every epoch the whole state (model, optimizer, counters, best weights, epoch, RNG
states, history) is written atomically to resume_path as tensors and plain containers
(torch.load(weights_only=True)). A run started again continues from it and ends with exactly the
weights an uninterrupted run gets. A resume file from a different run (other task, fold, seed, model,
hyper-parameters or data) is refused with a ValueError: delete it to start afresh.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .checkpoint import load_state, save_state
from .configio import from_dict_strict
from .loader import batches, epoch_order
from .metrics import compute_metrics
from .predict import predict_logits
from .tasks import check_task, loss, probabilities

STATE_FORMAT = "mtmixg-resume"
STATE_VERSION = 1
# settings that change where and how fast a run goes, not its result: allowed to differ on resume
_EXECUTION_KEYS = ("device", "require_gpu", "threads")


class GPUUnavailableError(RuntimeError):
    """A GPU was required (require_gpu / device "cuda") but none is visible."""


class TrainingInterrupted(Exception):
    """Raised by the stop_after_epochs hook after the resume state of that epoch is saved."""

    def __init__(self, epoch: int) -> None:
        super().__init__(f"training stopped after epoch {epoch} (stop_after_epochs)")
        self.epoch = epoch


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
    amp: bool = True
    threads: int | None = None
    min_delta: float = 0.0
    chance_auc: float = 0.55

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "patience", "lr_patience"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"train key '{name}' must be an integer >= 1, got {getattr(self, name)!r}")
        if not isinstance(self.warmup_epochs, int) or self.warmup_epochs < 0:
            raise ValueError(f"train key 'warmup_epochs' must be an integer >= 0, got {self.warmup_epochs!r}")
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
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise ValueError(f"train key 'threads' must be an integer >= 1 or null, got {self.threads!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """Build from a dict; an unknown key is a ValueError naming it."""
        return from_dict_strict(cls, values, "train")


def resolve_device(cfg: TrainConfig) -> torch.device:
    """cuda when asked for or (device "auto") available; GPUUnavailableError when required but absent."""
    has_cuda = torch.cuda.is_available()
    if (cfg.require_gpu or cfg.device == "cuda") and not has_cuda:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        why = f"CUDA_VISIBLE_DEVICES={visible!r}" if visible is not None else "CUDA_VISIBLE_DEVICES is unset"
        raise GPUUnavailableError(
            f"a GPU is required (require_gpu/device cuda) but torch sees none (torch {torch.__version__}, {why}); "
            "run on a GPU node (the workflow's gpu setting / Slurm GPU resources) or set require_gpu: false "
            "and device: auto to train on CPU"
        )
    if cfg.device == "cuda" or (cfg.device == "auto" and has_cuda):
        return torch.device("cuda")
    return torch.device("cpu")


@dataclass
class FitResult:
    history: list[dict]
    best_epoch: int
    best_val_loss: float
    epochs_run: int
    stopped_early: bool
    device: str
    train_seconds: float
    seq_per_s: float
    resumed_from_epoch: int = 0
    extra: dict = field(default_factory=dict)


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _fingerprint(run_info: dict, cfg: TrainConfig, train_idx, val_idx, y) -> dict:
    hyper = {k: v for k, v in cfg.to_dict().items() if k not in _EXECUTION_KEYS}
    data = _digest(np.asarray(train_idx, np.int64), np.asarray(val_idx, np.int64), y[train_idx], y[val_idx])
    return json.loads(json.dumps({**run_info, "train": hyper, "data": data}, sort_keys=True, default=str))


def _diff_keys(a: dict, b: dict, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        if isinstance(a.get(k), dict) and isinstance(b.get(k), dict):
            out += _diff_keys(a[k], b[k], f"{prefix}{k}.")
        elif a.get(k) != b.get(k):
            out.append(f"{prefix}{k}")
    return out


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _log_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def fit(
    model: nn.Module,
    codes: np.ndarray,
    y: np.ndarray,
    train_idx: np.ndarray,
    val_idx: np.ndarray,
    task: str,
    cfg: TrainConfig,
    seed: int,
    resume_path: str | Path | None = None,
    run_info: dict | None = None,
    log: Callable[[str], None] | None = _log_stderr,
    on_epoch_end: Callable[[dict], None] | None = None,
    stop_after_epochs: int | None = None,
) -> FitResult:
    """Train model in place on codes uint8 (N, L) with class targets y int64 (N,) at train_idx,
    selecting on val_idx; the best-validation-loss weights are loaded into model at the end.

    run_info: what identifies the run besides cfg and data (task, fold, seed, model config...),
    stored in the resume state and compared on resume. on_epoch_end(record) runs after the resume
    state of each epoch is saved. stop_after_epochs: raise TrainingInterrupted after that epoch.
    """
    check_task(task)
    log = log or (lambda line: None)
    device = resolve_device(cfg)
    old_threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        return _fit(model, codes, np.asarray(y, np.int64), np.asarray(train_idx, np.int64),
                    np.asarray(val_idx, np.int64), task, cfg, seed, device, resume_path,
                    run_info or {}, log, on_epoch_end, stop_after_epochs)
    finally:
        torch.set_num_threads(old_threads)


def _fit(model, codes, y, train_idx, val_idx, task, cfg, seed, device, resume_path, run_info,
         log, on_epoch_end, stop_after_epochs) -> FitResult:
    model.to(device)
    use_amp = cfg.amp and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    fingerprint = _fingerprint({**run_info, "seed": int(seed), "task": task}, cfg, train_idx, val_idx, y)
    torch.manual_seed(seed + 1)  # dropout stream; independent of how the model was initialised

    st = {"epoch": 0, "best_loss": math.inf, "best_epoch": 0, "bad": 0, "lr_bad": 0, "lr": float(cfg.lr),
          "stopped": False, "history": [], "train_seconds": 0.0}
    best_state = _cpu_state(model)
    resumed_from = 0
    resume_path = Path(resume_path) if resume_path else None
    if resume_path is not None and resume_path.is_file():
        saved = load_state(resume_path)
        if not isinstance(saved, dict) or saved.get("format") != STATE_FORMAT:
            raise ValueError(f"{resume_path}: not an mtmixg resume state; delete it to start the run afresh")
        if saved["fingerprint"] != fingerprint:
            keys = _diff_keys(saved["fingerprint"], fingerprint)
            raise ValueError(
                f"{resume_path}: resume state belongs to a different run (differs in: {', '.join(keys)}); "
                "delete it to start this run afresh"
            )
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scaler.load_state_dict(saved["scaler"]) if saved["scaler"] else None
        best_state = saved["best_model"]
        st = saved["counters"]
        torch.set_rng_state(saved["rng_cpu"])
        if device.type == "cuda" and saved["rng_cuda"]:
            torch.cuda.set_rng_state_all(saved["rng_cuda"])
        resumed_from = st["epoch"]
        log(f"resuming from {resume_path} after epoch {resumed_from}")

    y_t = torch.from_numpy(y)
    y_val = y[val_idx]
    n_train = len(train_idx)
    while not st["stopped"] and st["epoch"] < cfg.epochs:
        epoch = st["epoch"] + 1
        t0 = time.perf_counter()
        model.train()
        total, seen = 0.0, 0
        for rows, x in batches(codes, epoch_order(train_idx, seed, epoch), cfg.batch_size, device=device):
            target = y_t[rows].to(device)
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
                logits = model(x)
            batch_loss = loss(logits, target, task)
            scaler.scale(batch_loss).backward()
            scaler.step(optimizer)
            scaler.update()
            total += float(batch_loss.detach()) * len(rows)
            seen += len(rows)
        train_seconds = time.perf_counter() - t0
        val_logits = predict_logits(model, codes, val_idx, batch_size=max(cfg.batch_size, 256), amp=use_amp)
        val_loss = float(loss(val_logits, torch.from_numpy(y_val), task))
        if not math.isfinite(val_loss):
            where = f"fold {run_info['fold']}, " if run_info and "fold" in run_info else ""
            raise ValueError(
                f"{where}epoch {epoch}: validation loss is {val_loss}: training diverged at learning rate "
                f"{st['lr']:g}; lower the learning rate" + (" or turn mixed precision off (amp: false)" if use_amp else "")
            )
        val_m = compute_metrics(y_val, probabilities(val_logits, task).double().numpy(), task)
        seconds = time.perf_counter() - t0

        improved = val_loss < st["best_loss"] - cfg.min_delta
        if improved:
            st["best_loss"], st["best_epoch"] = val_loss, epoch
            best_state = _cpu_state(model)
        lr_used = st["lr"]
        if epoch > cfg.warmup_epochs:
            if improved:
                st["bad"] = st["lr_bad"] = 0
            else:
                st["bad"] += 1
                st["lr_bad"] += 1
                if st["lr_bad"] >= cfg.lr_patience:
                    st["lr"] *= cfg.lr_factor
                    st["lr_bad"] = 0
                    for group in optimizer.param_groups:
                        group["lr"] = st["lr"]
                if st["bad"] >= cfg.patience:
                    st["stopped"] = True
        record = {"epoch": epoch, "loss": total / max(seen, 1), "val_loss": val_loss, "val_auc": val_m["auc"],
                  "val_accuracy": val_m["accuracy"], "lr": lr_used, "seconds": seconds,
                  "seq_per_s": n_train / train_seconds if train_seconds > 0 else 0.0}
        st["history"].append(record)
        st["epoch"] = epoch
        st["train_seconds"] += train_seconds
        auc = "nan" if val_m["auc"] is None else f"{val_m['auc']:.3f}"
        mark = " (warm-up)" if epoch <= cfg.warmup_epochs else ""
        mark += " *" if improved else ""
        log(f"epoch {epoch}/{cfg.epochs} loss {record['loss']:.4f} val_loss {val_loss:.4f} val_auc {auc} "
            f"lr {lr_used:.1e} {seconds:.1f}s {record['seq_per_s']:.0f} seq/s{mark}")
        if st["stopped"]:
            log(f"early stop: no validation-loss gain for {cfg.patience} epochs after warm-up; best epoch {st['best_epoch']}")
        if resume_path is not None:
            save_state(resume_path, {
                "format": STATE_FORMAT, "version": STATE_VERSION, "fingerprint": fingerprint,
                "model": _cpu_state(model), "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict() if scaler.is_enabled() else {},
                "best_model": best_state, "counters": copy.deepcopy(st),
                "rng_cpu": torch.get_rng_state(),
                "rng_cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else [],
            })
        if on_epoch_end is not None:
            on_epoch_end(record)
        if stop_after_epochs is not None and epoch >= stop_after_epochs and not st["stopped"] and epoch < cfg.epochs:
            raise TrainingInterrupted(epoch)

    model.load_state_dict(best_state)
    total_train = st["train_seconds"]
    n_seen = n_train * len(st["history"])
    return FitResult(
        history=st["history"], best_epoch=st["best_epoch"], best_val_loss=st["best_loss"],
        epochs_run=st["epoch"], stopped_early=st["stopped"], device=str(device), train_seconds=total_train,
        seq_per_s=n_seen / total_train if total_train > 0 else 0.0, resumed_from_epoch=resumed_from,
    )
