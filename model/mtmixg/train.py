"""Train one leave-one-chromosome-out fold end to end: split, train, evaluate, write the outputs.

train_fold trains with given configs; train_job is the workflow's job (rule train): it resolves the
experiment from the workflow config, claims a GPU and picks the device, then calls train_fold.

out_dir is written whole or not at all (mtmixg.core.atomic.atomic_folder: a killed run leaves an
earlier result as it was; other files in it, such as a resume state or a log, are kept). It receives:
    predictions.tsv  test genes (set=test) and validation genes (set=val): gene_id, chrom, label,
                     target, prob | prob_low prob_medium prob_high, predicted, predicted_label, set
    metrics.json     test and validation metrics, failed/chance_level flags, every attempt (a run at
                     chance level restarts, mtmixg.training), timings, sizes, history
    model.json       model config, task, window spec, train config, fold, seed, dataset digest, genes
                     and windows digests (mtmixg.data.dataset.same_windows), versions
    model.pt         the state_dict (best validation-loss weights)
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import __version__
from .checkpoint import MODEL_FILE, save_model
from .core.atomic import atomic_folder, atomic_write
from .core.clobber import refuse_overwrite
from .core.experiments import resolve_experiment
from .core.gpus import claim_gpu
from .core.log import log_stderr
from .core.model_config import ModelConfig
from .core.names import ALL_CHROMOSOMES
from .data.dataset import genes_digest, load_windows
from .metrics import compute_metrics, predictions_frame
from .ops import FusedKernelsError, check_kernel_path, kernel_path
from .predict import predict
from .splits import make_split
from .tasks import CLASS_NAMES, check_task, gene_mask, n_classes, n_outputs, targets
from .training import GPUUnavailableError, TrainConfig, attempt_seed, fit, resolve_device


RESULT_FILES = ("predictions.tsv", "metrics.json", "model.json", MODEL_FILE)
"""What train_fold writes into its output folder."""


def _json_clean(value):
    """NaN/inf -> None so metrics.json stays strict JSON."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_clean(v) for v in value]
    return value


def all_targets(labels: np.ndarray, task: str) -> np.ndarray:
    """Class index per gene (N,), -1 for genes the task drops."""
    y = np.full(len(labels), -1, dtype=np.int64)
    mask = gene_mask(labels, task)
    y[mask] = targets(np.asarray(labels)[mask], task)
    return y


def read_test_eligible(path: str | Path, gene_ids: pd.Series) -> np.ndarray:
    """bool per gene of gene_ids: its test_eligible value in the homology filter's TSV (missing: False)."""
    table = pd.read_csv(path, sep="\t", dtype={"gene_id": str})
    missing = {"gene_id", "test_eligible"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: lacks column(s) {', '.join(sorted(missing))}; expected gene_id, test_eligible")
    eligible = dict(zip(table["gene_id"], table["test_eligible"].astype(str).str.lower().isin(["true", "1"])))
    return np.array([eligible.get(g, False) for g in gene_ids.astype(str)], dtype=bool)


def _class_counts(y: np.ndarray, task: str) -> str:
    counts = np.bincount(y, minlength=n_classes(task))
    return ", ".join(f"{name} {n}" for name, n in zip(CLASS_NAMES[task], counts))


def _check_classes(genes: pd.DataFrame, y: np.ndarray, split, fold: str | None, task: str, windows_dir) -> None:
    """ValueError before training when the training or validation genes miss a class, naming the
    class counts of each chromosome they come from."""
    for name, index in (("training", split.train), ("validation", split.val)):
        if len(np.unique(y[index])) == n_classes(task):
            continue
        chrom = genes["chrom"].astype(str).to_numpy()[index]
        per_chrom = "; ".join(f"{c}: {_class_counts(y[index][chrom == c], task)}" for c in sorted(set(chrom)))
        where = f"fold {fold}" if fold is not None else "all chromosomes"
        raise ValueError(
            f"{Path(windows_dir) / 'genes.tsv'}: {where}: the {name} genes hold only part of the {task} classes "
            f"({_class_counts(y[index], task)}; {per_chrom}); a model cannot learn from one class - check the "
            "labels of these chromosomes (expression thresholds, TPM table)"
        )


def train_fold(
    windows_dir: str | Path,
    fold: str | None,
    task: str,
    model_cfg: ModelConfig | dict,
    train_cfg: TrainConfig | dict,
    seed: int,
    out_dir: str | Path,
    resume_path: str | Path | None = None,
    log: Callable[[str], None] | None = log_stderr,
    on_epoch_end: Callable[[dict], None] | None = None,
    stop_after_epochs: int | None = None,
    test_genes: str | Path | None = None,
) -> dict:
    """Train a model with fold's chromosome as test set (fold=None: all chromosomes, no test set).

    test_genes: the homology filter's TSV (gene_id, test_eligible); only eligible genes of the fold
    are tested, a gene missing from it counts as not eligible. None: every gene of the fold.

    model_cfg's seq_len and n_outputs are set from the windows and the task. Returns the metrics
    dict also written to out_dir/metrics.json. The resume file is deleted after success.
    """
    from .models import build_model

    t_start = time.perf_counter()
    check_task(task)
    attempt_seed(seed, 0)  # seeds are 0 .. ATTEMPT_SEED_STEP - 1
    model_cfg = ModelConfig.from_dict(model_cfg) if isinstance(model_cfg, dict) else model_cfg
    train_cfg = TrainConfig.from_dict(train_cfg) if isinstance(train_cfg, dict) else train_cfg
    resolve_device(train_cfg)  # fail fast when a GPU is required but absent
    out_dir = Path(out_dir)
    refuse_overwrite({"windows": windows_dir, "test genes": test_genes}, outputs={"--resume": resume_path},
                     folders={"--out": out_dir})
    for name in RESULT_FILES:
        refuse_overwrite({"result": out_dir / name}, outputs={"--resume": resume_path})
    gw = load_windows(windows_dir)
    spec = gw.spec
    labels = gw.genes["label"].to_numpy()
    eligible = None if test_genes is None else read_test_eligible(test_genes, gw.genes["gene_id"])
    split = make_split(gw.genes, fold, task, train_cfg.val_fraction, seed, train_cfg.balance, eligible)
    y = all_targets(labels, task)
    model_cfg = replace(
        model_cfg, seq_len=spec.length, tss_index=spec.tss_index, tts_index=spec.tts_index, n_outputs=n_outputs(task)
    )
    _check_classes(gw.genes, y, split, fold, task, windows_dir)
    torch.manual_seed(seed)
    model = build_model(model_cfg)
    check_kernel_path(model, resolve_device(train_cfg), train_cfg.allow_pure_kernels, log)  # before training
    run_info = {"fold": fold, "model": model_cfg.to_dict(), "window": spec.to_dict(),
                "homology_filter": test_genes is not None, "dataset": gw.digest}
    if log:
        sizes = split.sizes()
        log(f"fold {fold}: {model_cfg.variant} {task} seed {seed}: {sizes['n_train']} train, "
            f"{sizes['n_val']} validation, {sizes['n_test']} test genes, window {spec.length}")
    result = fit(model, gw.codes, y, split.train, split.val, task, train_cfg, seed,
                 resume_path=resume_path, run_info=run_info, log=log, on_epoch_end=on_epoch_end,
                 stop_after_epochs=stop_after_epochs, build=lambda: build_model(model_cfg))

    pred_bs = max(train_cfg.batch_size, 256)
    frames = []
    val_prob = predict(model, gw.codes, task, index=split.val, batch_size=pred_bs, amp=train_cfg.amp)
    val_m = compute_metrics(y[split.val], val_prob, task)
    test_m = {"accuracy": None, "auc": None, "f1": None, "n": 0}
    if len(split.test):
        test_prob = predict(model, gw.codes, task, index=split.test, batch_size=pred_bs, amp=train_cfg.amp)
        test_m = compute_metrics(y[split.test], test_prob, task)
        frames.append(predictions_frame(gw.genes.iloc[split.test], y[split.test], test_prob, task).assign(set="test"))
    frames.append(predictions_frame(gw.genes.iloc[split.val], y[split.val], val_prob, task).assign(set="val"))
    failed = result.failure_reason is not None
    metrics = {
        "task": task, "fold": fold, "seed": int(seed), "variant": model_cfg.variant,
        "accuracy": test_m["accuracy"], "auc": test_m["auc"], "f1": test_m["f1"],
        "test": test_m, "val": val_m,
        "failed": failed, "chance_level": failed,
        "failure_reason": (f"the model stayed at chance level after {len(result.attempts)} attempt(s): "
                           f"{result.failure_reason}") if failed else None,
        "n_attempts": len(result.attempts), "restarted": len(result.attempts) > 1, "trained_seed": result.seed,
        **split.sizes(), "homology_filter": test_genes is not None, "dataset_digest": gw.digest,
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "best_val_loss": result.best_val_loss,
        "warmup_epochs": result.warmup_epochs,
        "stopped_early": result.stopped_early, "resumed_from_epoch": result.resumed_from_epoch,
        "device": result.device, "kernel_path": kernel_path(model, result.device), "wall_seconds": time.perf_counter() - t_start,
        "train_seconds": result.train_seconds, "seq_per_s": result.seq_per_s,
        "mtmixg_version": __version__, "torch_version": torch.__version__, "python": platform.python_version(),
        "train_config": train_cfg.to_dict(), "model_config": model_cfg.to_dict(), "window": spec.to_dict(),
        "history": result.history, "attempts": result.attempts,
    }
    metrics = _json_clean(metrics)
    if log:
        log(f"fold {fold}: Mamba kernel path {metrics['kernel_path']} on {metrics['device']}")
    if failed and log:
        log(f"WARNING fold {fold}: {metrics['failure_reason']}")

    table = pd.concat(frames, ignore_index=True)
    meta = {"model": model_cfg.to_dict(), "task": task, "window": spec.to_dict(), "train": train_cfg.to_dict(),
            "fold": fold, "seed": int(seed), "windows_dir": str(windows_dir), "dataset_digest": gw.digest,
            "genes_digest": genes_digest(gw.genes), "codes_digest": gw.codes_digest}
    with atomic_folder(out_dir) as new:  # all four outputs or none (e.g. a full disk at model.pt, a kill)
        atomic_write(new / RESULT_FILES[0], lambda tmp: table.to_csv(tmp, sep="\t", index=False, float_format="%.6g"))
        atomic_write(new / RESULT_FILES[1], lambda tmp: Path(tmp).write_text(json.dumps(metrics, indent=2) + "\n"))
        save_model(new / MODEL_FILE, model, meta)
    if resume_path is not None:
        Path(resume_path).unlink(missing_ok=True)
    return metrics



def train_job(
    windows: str | Path,
    fold: str,
    task: str,
    experiment: str,
    config: dict,
    seed: int | str,
    threads: int,
    model_out: str | Path,
    resume_path: str | Path,
    test_genes: str | Path | None = None,
    log: Callable[[str], None] = log_stderr,
) -> dict:
    """One training job of the workflow: experiment's settings from config, a GPU, then train_fold.

    windows: the dataset's windows.npy (its folder is read); fold: a chromosome or "all" (every
    chromosome, no test set); model_out: the model.pt to write (its folder gets all four outputs);
    resume_path: the resume state, kept outside the outputs; test_genes: the homology filter's TSV.
    Unless the experiment's device is cpu, a free local GPU is claimed (mtmixg.core.gpus.claim_gpu)
    before CUDA starts (nothing imported before it touches CUDA: the fused kernels are imported after
    the claim, mtmixg.ops.fused). A GPU required but absent ends the job with SystemExit naming why,
    before any data is read; so do fused kernels that do not import on CUDA (unless
    gpu.allow_pure_kernels), with the import's traceback. Returns train_fold's metrics.
    """
    model_cfg, train_cfg = resolve_experiment(experiment, config)
    train_cfg = replace(train_cfg, threads=int(threads))
    resume_path = Path(resume_path)
    resume_path.parent.mkdir(parents=True, exist_ok=True)
    log(f"{experiment} seed {seed} fold {fold}: resume state {resume_path}")
    run = dict(windows_dir=Path(windows).parent, fold=None if fold == ALL_CHROMOSOMES else fold, task=task,
               model_cfg=model_cfg, train_cfg=train_cfg, seed=int(seed), out_dir=Path(model_out).parent,
               resume_path=resume_path, log=log, test_genes=test_genes)
    if train_cfg.device == "cpu":
        job_device(train_cfg, log)
        return train_fold(**run)
    with claim_gpu() as gpu:  # before CUDA starts
        if gpu is not None:
            log(f"claimed GPU {gpu} (CUDA_VISIBLE_DEVICES={gpu})")
        job_device(train_cfg, log)
        try:
            return train_fold(**run)
        except FusedKernelsError as err:  # the import's traceback in the job's log, without ours
            raise SystemExit(f"ERROR: {err}") from None


def job_device(train_cfg: TrainConfig, log: Callable[[str], None] = log_stderr) -> torch.device:
    """The device a job trains on (resolve_device); SystemExit with one clear line when a GPU is
    required but absent."""
    try:
        device = resolve_device(train_cfg)
    except GPUUnavailableError as err:
        raise SystemExit(f"ERROR: {err}") from None
    log(f"device {device}, {train_cfg.threads} thread(s)")
    return device
