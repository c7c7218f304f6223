"""The training loop: Adam, early stopping and LR decay on validation loss after a warm-up, resume,
and restarts of runs that stayed at chance level.

Early stopping (patience) and LR decay (lr_patience, lr_factor; EarlyStopping) count epochs without a validation-
loss gain only after the warm-up: models first sit on the chance plateau (the loss of a constant
prediction, chance_loss) and would otherwise be stopped there. The warm-up ends when learning
starts: at the first epoch from warmup_epochs on whose validation loss is below chance_loss -
warmup_margin, and at the latest after max(warmup_epochs, ceil(warmup_steps / steps per epoch))
epochs (warmup_length); the counters start with the next epoch. Each history record says whether
its epoch was warm-up; FitResult.warmup_epochs is the epoch the warm-up ended.

After each epoch the batch-norm statistics are recomputed on the training genes (bn_recompute,
recompute_batchnorm) before validation. The best epoch and early stopping use one criterion: the median validation loss of the last
select_window epochs (selection_loss). The validation set is small (~120-280 genes) and its loss
swings from one epoch to the next; a single lucky or unlucky epoch no longer picks the checkpoint or
stops the run. The weights of the best epoch
(warm-up included) are restored at the end.

Chance verdict (chance_verdict): a run has failed when its best validation loss is within
chance_margin of the loss of a constant prediction (chance_loss: ln 2 binary with balanced classes;
0.637 ternary with balanced classes, the mean of the three per-class BCEs), when its validation
predictions are all one class, or when its validation AUC is at most chance_auc. fit_with_restarts
then re-initialises the model and trains again with seed + attempt * ATTEMPT_SEED_STEP, up to
max_restarts times; configured seeds are below ATTEMPT_SEED_STEP, so a restart never reuses another
configured run's seed.

Reproducible: model init, dropout and batch order derive from the seed; the batch order of an epoch
depends only on (seed, epoch). On CPU a run is bit-repeatable for a fixed thread count.

Resume: after every epoch the whole state (model, optimizer, counters, best weights, epoch, RNG
states, history) is written atomically to resume_path as tensors and plain containers
(torch.load(weights_only=True)). A run started again continues from it and ends with exactly the
weights an uninterrupted run gets, across restarts too (the state holds the attempt and the records
of the failed ones). A resume file from a different run (other task, fold, seed, model, hyper-
parameters, split or window contents) is refused with a ValueError: delete it to start afresh.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from .checkpoint import load_state, save_state
from .core.log import log_stderr
from .core.train_config import EXECUTION_KEYS, TrainConfig
from .loader import batches, epoch_order
from .metrics import compute_metrics, is_chance
from .predict import predict_logits
from .progress import Progress
from .tasks import CLASS_NAMES, check_task, loss, n_classes, n_outputs, predicted_class, probabilities

STATE_FORMAT = "mtmixg-resume"
STATE_VERSION = 3  # 3: the warm-up end and the recent validation losses (select_window) are saved
STATE_CHANGES = {2: "written before the warm-up ended by learning and the smoothed best-epoch choice (version 3)"}
ATTEMPT_SEED_STEP = 10**9  # restart k of seed s trains with seed s + k * ATTEMPT_SEED_STEP; seeds < this


class GPUUnavailableError(RuntimeError):
    """A GPU was required (require_gpu / device "cuda") but none is visible."""


class TrainingInterrupted(Exception):
    """Raised by the stop_after_epochs hook after the resume state of that epoch is saved."""

    def __init__(self, epoch: int) -> None:
        super().__init__(f"training stopped after epoch {epoch} (stop_after_epochs)")
        self.epoch = epoch


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


def warmup_length(cfg: TrainConfig, n_train: int) -> int:
    """The most warm-up epochs: max(warmup_epochs, ceil(warmup_steps / optimizer steps per epoch))."""
    steps_per_epoch = max(1, math.ceil(n_train / cfg.batch_size))
    return max(cfg.warmup_epochs, math.ceil(cfg.warmup_steps / steps_per_epoch))


def attempt_seed(seed: int, attempt: int) -> int:
    """Seed of restart `attempt` (0: the run itself) of a run with a configured seed < ATTEMPT_SEED_STEP."""
    if not 0 <= seed < ATTEMPT_SEED_STEP:
        raise ValueError(f"seed {seed}: seeds must be in 0..{ATTEMPT_SEED_STEP - 1} (restarts use seed + k * {ATTEMPT_SEED_STEP})")
    return int(seed) + int(attempt) * ATTEMPT_SEED_STEP


def chance_loss(y_val: np.ndarray, task: str) -> float:
    """Loss (tasks.loss, nats) of the best constant prediction on y_val: the mean over the task's
    outputs of the binary entropy of the frequency each output is 1. Binary: the entropy of the two
    classes (ln 2 balanced). Ternary (one BCE per class): mean of H(f_k), 0.637 balanced, not ln 3."""
    freq = np.bincount(np.asarray(y_val, np.int64), minlength=n_classes(task)) / max(len(y_val), 1)
    per_output = freq[1:] if task == "binary" else freq
    p = per_output[(per_output > 0) & (per_output < 1)]
    return float(-(p * np.log(p) + (1 - p) * np.log(1 - p)).sum() / len(per_output))


def chance_verdict(best_val_loss: float, y_val: np.ndarray, val_prob: np.ndarray, task: str, cfg: TrainConfig) -> str | None:
    """Why a run is at chance level (None: it trained). val_prob (N,) or (N, 3) at the best weights."""
    reasons = []
    plateau = chance_loss(y_val, task)
    if best_val_loss >= plateau - cfg.chance_margin:
        reasons.append(f"best validation loss {best_val_loss:.4f} is within {cfg.chance_margin:g} of the chance loss {plateau:.4f}")
    pred = predicted_class(np.asarray(val_prob), task)
    if len(np.unique(y_val)) > 1 and len(np.unique(pred)) == 1:
        reasons.append(f"every validation gene is predicted {CLASS_NAMES[task][int(pred[0])]}")
    auc = compute_metrics(y_val, val_prob, task)["auc"]
    if is_chance(auc, cfg.chance_auc):
        reasons.append(f"validation AUC {auc if auc is None else round(auc, 4)} <= {cfg.chance_auc}")
    return "; ".join(reasons) or None


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
    warmup_epochs: int = 0  # the epoch the warm-up ended (epochs_run when training ended inside it)
    seed: int = 0
    attempt: int = 0
    failure_reason: str | None = None
    attempts: list[dict] = field(default_factory=list)  # every attempt, this one last
    extra: dict = field(default_factory=dict)


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _fingerprint(run_info: dict, cfg: TrainConfig, train_idx, val_idx, y, codes: np.ndarray) -> dict:
    """What identifies a run. run_info's "dataset" (windows + genes digest) covers the window contents;
    without it, the codes of the train and validation rows are hashed here."""
    hyper = {k: v for k, v in cfg.to_dict().items() if k not in EXECUTION_KEYS}
    data = _digest(np.asarray(train_idx, np.int64), np.asarray(val_idx, np.int64), y[train_idx], y[val_idx])
    info = dict(run_info)
    if not info.get("dataset"):
        rows = np.sort(np.concatenate([train_idx, val_idx]))
        info["dataset"] = _digest(*(np.asarray(codes[rows[i : i + 4096]]) for i in range(0, len(rows), 4096)))
    return json.loads(json.dumps({**info, "train": hyper, "data": data}, sort_keys=True, default=str))


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


# ------------------------------------------------------------------ resume state
def _read_resume(path: Path | None, fingerprint: dict) -> dict | None:
    """The saved state of this run at path, None when there is none; ValueError when it is another run's."""
    if path is None or not path.is_file():
        return None
    saved = load_state(path)
    version = saved.get("version") if isinstance(saved, dict) and saved.get("format") == STATE_FORMAT else None
    if version in STATE_CHANGES:
        raise ValueError(f"{path}: resume state of version {version}, {STATE_CHANGES[version]}; it cannot "
                         "be continued under the new rules: delete it to start the run afresh")
    if version != STATE_VERSION:
        raise ValueError(f"{path}: not an mtmixg resume state of version {STATE_VERSION}; delete it to start the run afresh")
    if saved["fingerprint"] != fingerprint:
        keys = _diff_keys(saved["fingerprint"], fingerprint)
        raise ValueError(f"{path}: resume state belongs to a different run (differs in: {', '.join(keys)}); "
                         "delete it to start this run afresh")
    return saved


_PROGRESS_KEYS = ("epoch", "history", "train_seconds")  # the counters of an attempt besides EarlyStopping.state()


def _new_progress() -> dict:
    """Progress of an attempt before its first epoch."""
    return {"epoch": 0, "history": [], "train_seconds": 0.0}


def _counters(progress: dict, stopping: EarlyStopping) -> dict:
    """The "counters" of the resume state: progress and the early-stopping state, in one dict."""
    return {"epoch": progress["epoch"], **stopping.state(), "history": progress["history"],
            "train_seconds": progress["train_seconds"]}


def _write_resume(path: Path, fingerprint: dict, attempt: dict, model, optimizer, scaler, best_state, counters: dict,
                  device: torch.device) -> None:
    """Save the state after an epoch (atomically, by save_state); counters: _counters(progress, stopping)."""
    save_state(path, {
        "format": STATE_FORMAT, "version": STATE_VERSION, "fingerprint": fingerprint, "attempt": copy.deepcopy(attempt),
        "model": _cpu_state(model), "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict() if scaler.is_enabled() else {},
        "best_model": best_state, "counters": copy.deepcopy(counters),
        "rng_cpu": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else [],
    })


def _restore_resume(saved: dict, model: nn.Module, optimizer, scaler, stopping: EarlyStopping,
                    device: torch.device) -> tuple[dict, dict]:
    """Load a saved attempt into model, optimizer, scaler, stopping and the RNGs.

    Returns (best weights, progress): progress holds the counters epoch, history and train_seconds."""
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    if saved["scaler"]:
        scaler.load_state_dict(saved["scaler"])
    counters = saved["counters"]
    stopping.load_state(counters)
    torch.set_rng_state(saved["rng_cpu"])
    if device.type == "cuda" and saved["rng_cuda"]:
        torch.cuda.set_rng_state_all(saved["rng_cuda"])
    return saved["best_model"], {k: counters[k] for k in _PROGRESS_KEYS}


# ------------------------------------------------------------------ early stopping
def selection_loss(val_losses: list[float], window: int) -> float:
    """The criterion of the best epoch and of early stopping: the median of the last `window`
    validation losses (fewer in the first epochs). With window 3 one outlier epoch, lucky or not,
    neither becomes the best epoch nor resets or spends the patience."""
    return float(statistics.median(val_losses[-window:]))


@dataclass
class EarlyStopping:
    """Early stopping and LR decay on the selection loss, counted only after the warm-up.

    Each epoch's score is selection_loss (median) over its last `window` validation losses. An
    epoch improves when its score is below best_loss - min_delta; the best score and epoch are
    tracked from epoch 1, warm-up included. The warm-up ends (warmup_end is set to the epoch) at
    the first epoch >= min_warmup whose own validation loss is below leave_below, or at epoch
    `warmup` (the most; 0: no warm-up). After it, each epoch without improvement counts towards
    lr_patience (then lr is multiplied by lr_factor and that count restarts) and towards patience
    (then stopped is set); an improvement resets both counts. leave_below -inf and window 1: a fixed
    warm-up of `warmup` epochs on the raw validation loss.
    """

    patience: int
    lr_patience: int
    lr_factor: float
    warmup: int
    lr: float
    min_delta: float = 0.0
    min_warmup: int = 0
    leave_below: float = -math.inf
    window: int = 1
    best_loss: float = math.inf
    best_epoch: int = 0
    bad: int = 0
    lr_bad: int = 0
    stopped: bool = False
    warmup_end: int | None = None  # the last warm-up epoch; None: the warm-up has not ended
    recent: list[float] = field(default_factory=list)  # the last `window` validation losses

    STATE_KEYS: ClassVar[tuple[str, ...]] = ("best_loss", "best_epoch", "bad", "lr_bad", "lr", "stopped",
                                             "warmup_end", "recent")

    @classmethod
    def from_config(cls, cfg: TrainConfig, warmup: int, min_warmup: int = 0,
                    leave_below: float = -math.inf) -> "EarlyStopping":
        return cls(patience=cfg.patience, lr_patience=cfg.lr_patience, lr_factor=cfg.lr_factor, warmup=warmup,
                   lr=float(cfg.lr), min_delta=cfg.min_delta, min_warmup=min_warmup, leave_below=leave_below,
                   window=cfg.select_window)

    def in_warmup(self, epoch: int) -> bool:
        """Whether epoch (already counted by update) belongs to the warm-up."""
        return self.warmup_end is None or epoch <= self.warmup_end

    def update(self, epoch: int, val_loss: float) -> bool:
        """Count epoch's validation loss; True when its selection loss is a new best (by more than min_delta)."""
        self.recent = [*self.recent, float(val_loss)][-self.window:]
        score = selection_loss(self.recent, self.window)
        improved = score < self.best_loss - self.min_delta
        if improved:
            self.best_loss, self.best_epoch = score, epoch
        if self.warmup_end is None:
            if epoch > self.warmup:  # no warm-up at all (warmup 0)
                self.warmup_end = self.warmup
            else:
                if epoch == self.warmup or (epoch >= self.min_warmup and val_loss < self.leave_below):
                    self.warmup_end = epoch
                return improved
        if improved:
            self.bad = self.lr_bad = 0
            return improved
        self.bad += 1
        self.lr_bad += 1
        if self.lr_bad >= self.lr_patience:
            self.lr *= self.lr_factor
            self.lr_bad = 0
        if self.bad >= self.patience:
            self.stopped = True
        return improved

    def state(self) -> dict:
        """The counters saved in a resume state."""
        return {k: copy.copy(getattr(self, k)) for k in self.STATE_KEYS}

    def load_state(self, state: dict) -> None:
        for k in self.STATE_KEYS:
            setattr(self, k, copy.copy(state[k]))


def _set_lr(optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


# ------------------------------------------------------------------ fit
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
    log: Callable[[str], None] | None = log_stderr,
    on_epoch_end: Callable[[dict], None] | None = None,
    stop_after_epochs: int | None = None,
    build: Callable[[], nn.Module] | None = None,
) -> FitResult:
    """Train model in place on codes uint8 (N, L) with class targets y int64 (N,) at train_idx,
    selecting on val_idx; the weights of the best epoch (EarlyStopping, selection_loss) are loaded into
    model at the end.

    A run at chance level (chance_verdict) is restarted up to cfg.max_restarts times: build() makes
    the fresh model (under torch.manual_seed(attempt seed)); its weights are then copied into model.
    Without build there are no restarts. The result's attempts list records every attempt.

    run_info: what identifies the run besides cfg and data (task, fold, model config, "dataset"
    digest...), stored in the resume state and compared on resume. on_epoch_end(record) runs after
    the resume state of each epoch is saved. stop_after_epochs: raise TrainingInterrupted after that
    (cumulative, over attempts) epoch.
    """
    check_task(task)
    attempt_seed(seed, 0)  # a seed out of range fails here, before any work
    log = log or (lambda line: None)
    device = resolve_device(cfg)
    y, train_idx, val_idx = np.asarray(y, np.int64), np.asarray(train_idx, np.int64), np.asarray(val_idx, np.int64)
    fingerprint = _fingerprint({**(run_info or {}), "seed": int(seed), "task": task}, cfg, train_idx, val_idx, y, codes)
    resume_path = Path(resume_path) if resume_path else None
    saved = _read_resume(resume_path, fingerprint)
    done: list[dict] = saved["attempt"]["failed"] if saved else []
    old_threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    try:
        while True:
            k = len(done)  # a saved state is always of attempt len(its failed attempts)
            if k > 0 and saved is None:  # a restart: fresh weights from the attempt's seed
                torch.manual_seed(attempt_seed(seed, k))
                model.load_state_dict(build().state_dict())
            attempt = {"index": k, "seed": attempt_seed(seed, k) if k else int(seed), "failed": done}
            result = _fit_attempt(model, codes, y, train_idx, val_idx, task, cfg, device, resume_path,
                                  fingerprint, attempt, saved, run_info or {}, log, on_epoch_end, stop_after_epochs)
            saved = None
            record = {"attempt": k, "seed": attempt["seed"], "epochs_run": result.epochs_run,
                      "best_epoch": result.best_epoch, "best_val_loss": result.best_val_loss,
                      "failure_reason": result.failure_reason, "history": result.history}
            if result.failure_reason is None or build is None or k >= cfg.max_restarts:
                result.attempts = [*done, record]
                if result.failure_reason is not None and build is not None:
                    log(f"run stayed at chance level after {k + 1} attempt(s): {result.failure_reason}")
                return result
            done = [*done, record]
            log(f"attempt {k + 1} at chance level ({result.failure_reason}); re-initialising with seed "
                f"{attempt_seed(seed, k + 1)} (restart {k + 1} of at most {cfg.max_restarts})")
    finally:
        torch.set_num_threads(old_threads)


def _train_epoch(model, codes, y_t, train_idx, seed, epoch, cfg, device, optimizer, scaler, task, use_amp, amp_dtype,
                 log) -> float:
    """One pass over train_idx in the (seed, epoch) order, with progress lines on log; returns the mean training loss."""
    model.train()
    total, seen = 0.0, 0
    progress = Progress(f"epoch {epoch}", math.ceil(len(train_idx) / cfg.batch_size), log=log)
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
        progress(1, len(rows))
    return total / max(seen, 1)


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, codes: np.ndarray, train_idx: np.ndarray, cfg: TrainConfig,
                        device: torch.device, use_amp: bool, amp_dtype) -> None:
    """Set every batch-norm layer's running statistics to those of the training genes at the current
    weights: one pass in eval mode (no dropout, no RNG used) with the batch-norm layers averaging
    every batch equally (momentum None). The momentum-0.1 statistics left by an epoch lag the weights
    (they mix batches seen before the last updates); on a 15-step epoch they shift the validation
    logits (all genes predicted one class) and so the validation loss by up to 2x."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    model.eval()
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
        m.train()
    try:
        for _, x in batches(codes, np.sort(train_idx), _val_batch_size(cfg), device=device):
            with torch.autocast(device_type=device.type, dtype=amp_dtype, enabled=use_amp):
                model(x)
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        model.eval()


def _mixed_precision(cfg: TrainConfig, device: torch.device):
    """(use_amp, autocast dtype, grad scaler): bf16 where supported, fp16 with loss scaling otherwise."""
    use_amp = cfg.amp and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    return use_amp, amp_dtype, scaler


def _val_logits(model, codes, val_idx, task, cfg, use_amp, progress: Progress | None = None) -> torch.Tensor:
    return predict_logits(model, codes, val_idx, batch_size=_val_batch_size(cfg), amp=use_amp,
                          n_outputs=n_outputs(task), on_batch=None if progress is None else progress.batch)


def _val_batch_size(cfg: TrainConfig) -> int:
    return max(cfg.batch_size, 256)


def _validate(model, codes, val_idx, y_val, task, cfg, use_amp, epoch: int, lr: float, run_info: dict,
              log: Callable[[str], None]) -> tuple[float, dict]:
    """Validation loss and metrics after an epoch, with progress lines on log; ValueError naming fold,
    epoch and learning rate when the loss is not finite (training diverged)."""
    progress = Progress(f"epoch {epoch}", math.ceil(len(val_idx) / _val_batch_size(cfg)), "validation batch", log=log)
    val_logits = _val_logits(model, codes, val_idx, task, cfg, use_amp, progress)
    val_loss = float(loss(val_logits, torch.from_numpy(y_val), task))
    if not math.isfinite(val_loss):
        where = f"fold {run_info['fold']}, " if "fold" in run_info else ""
        raise ValueError(
            f"{where}epoch {epoch}: validation loss is {val_loss}: training diverged at learning rate "
            f"{lr:g}; lower the learning rate" + (" or turn mixed precision off (amp: false)" if use_amp else "")
        )
    return val_loss, compute_metrics(y_val, probabilities(val_logits, task).double().numpy(), task)


def _epoch_line(record: dict, epochs: int, improved: bool) -> str:
    auc = "nan" if record["val_auc"] is None else f"{record['val_auc']:.3f}"
    mark = (" (warm-up)" if record["warmup"] else "") + (" *" if improved else "")
    return (f"epoch {record['epoch']}/{epochs} loss {record['loss']:.4f} val_loss {record['val_loss']:.4f} "
            f"val_auc {auc} lr {record['lr']:.1e} {record['seconds']:.1f}s {record['seq_per_s']:.0f} seq/s{mark}")


def _fit_attempt(model, codes, y, train_idx, val_idx, task, cfg, device, resume_path, fingerprint, attempt,
                 saved, run_info, log, on_epoch_end, stop_after_epochs) -> FitResult:
    """One attempt: train until early stop or cfg.epochs, load the best weights, give the chance verdict."""
    seed = attempt["seed"]
    model.to(device)
    use_amp, amp_dtype, scaler = _mixed_precision(cfg, device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    torch.manual_seed(seed + 1)  # dropout stream; independent of how the model was initialised
    y_t, y_val, n_train = torch.from_numpy(y), y[val_idx], len(train_idx)
    fewest, most = cfg.warmup_epochs, warmup_length(cfg, n_train)
    chance = chance_loss(y_val, task)
    stopping = EarlyStopping.from_config(cfg, most, fewest, chance - cfg.warmup_margin)
    progress, best_state, resumed_from = _new_progress(), _cpu_state(model), 0
    if saved is not None:
        best_state, progress = _restore_resume(saved, model, optimizer, scaler, stopping, device)
        resumed_from = progress["epoch"]
        log(f"resuming from {resume_path} after epoch {resumed_from} (attempt {attempt['index'] + 1})")
    if resumed_from == 0:
        log(f"warm-up: until the validation loss is below {chance - cfg.warmup_margin:.4f} (chance {chance:.4f} - "
            f"warmup_margin {cfg.warmup_margin:g}), {fewest} to {most} epochs (warmup_epochs {cfg.warmup_epochs}, "
            f"warmup_steps {cfg.warmup_steps}, {max(1, math.ceil(n_train / cfg.batch_size))} steps per epoch)")
    earlier = sum(a["epochs_run"] for a in attempt["failed"])
    while not stopping.stopped and progress["epoch"] < cfg.epochs:
        epoch, lr_used = progress["epoch"] + 1, stopping.lr
        t0 = time.perf_counter()
        train_loss = _train_epoch(model, codes, y_t, train_idx, seed, epoch, cfg, device, optimizer, scaler,
                                  task, use_amp, amp_dtype, log)
        if cfg.bn_recompute:
            recompute_batchnorm(model, codes, train_idx, cfg, device, use_amp, amp_dtype)
        train_seconds = time.perf_counter() - t0
        val_loss, val_m = _validate(model, codes, val_idx, y_val, task, cfg, use_amp, epoch, lr_used, run_info, log)
        seconds = time.perf_counter() - t0
        was_warmup = stopping.warmup_end is None
        improved = stopping.update(epoch, val_loss)
        if improved:
            best_state = _cpu_state(model)
        if stopping.lr != lr_used:
            _set_lr(optimizer, stopping.lr)
        record = {"epoch": epoch, "attempt": attempt["index"], "loss": train_loss, "val_loss": val_loss,
                  "val_auc": val_m["auc"], "val_accuracy": val_m["accuracy"],
                  "selection_loss": selection_loss(stopping.recent, stopping.window), "lr": lr_used,
                  "warmup": stopping.in_warmup(epoch), "seconds": seconds,
                  "seq_per_s": n_train / train_seconds if train_seconds > 0 else 0.0}
        progress["history"].append(record)
        progress["epoch"] = epoch
        progress["train_seconds"] += train_seconds
        log(_epoch_line(record, cfg.epochs, improved))
        if was_warmup and stopping.warmup_end == epoch:
            below = val_loss < chance - cfg.warmup_margin
            why = "validation loss below chance - warmup_margin" if below else "its most epochs"
            log(f"warm-up ended after epoch {epoch} ({why}); early stopping and LR decay count from epoch {epoch + 1}")
        if stopping.stopped:
            log(f"early stop: no gain of the median validation loss over {cfg.select_window} epoch(s) for {cfg.patience} "
                f"epochs after warm-up; best epoch {stopping.best_epoch}")
        if resume_path is not None:
            _write_resume(resume_path, fingerprint, attempt, model, optimizer, scaler, best_state,
                          _counters(progress, stopping), device)
        if on_epoch_end is not None:
            on_epoch_end(record)
        if (stop_after_epochs is not None and earlier + epoch >= stop_after_epochs and not stopping.stopped
                and epoch < cfg.epochs):
            raise TrainingInterrupted(earlier + epoch)

    model.load_state_dict(best_state)
    val_prob = probabilities(_val_logits(model, codes, val_idx, task, cfg, use_amp), task).double().numpy()
    total_train = progress["train_seconds"]
    best_val_loss = progress["history"][stopping.best_epoch - 1]["val_loss"] if stopping.best_epoch else math.inf
    return FitResult(
        history=progress["history"], best_epoch=stopping.best_epoch, best_val_loss=best_val_loss,
        epochs_run=progress["epoch"], stopped_early=stopping.stopped, device=str(device), train_seconds=total_train,
        seq_per_s=n_train * len(progress["history"]) / total_train if total_train > 0 else 0.0,
        resumed_from_epoch=resumed_from, seed=seed, attempt=attempt["index"],
        warmup_epochs=progress["epoch"] if stopping.warmup_end is None else stopping.warmup_end,
        failure_reason=chance_verdict(best_val_loss, y_val, val_prob, task, cfg),
    )
