"""One fold job: train one leave-one-chromosome-out fold end to end (split, train with the loop of
mtmixg.fit, evaluate, write the outputs).

train_fold trains with given configs; train_job is the workflow's job (rule train): it reads the
experiment resolved at plan time (mtmixg.core.experiments.experiment_param), checks the declared paths
(FOLD_FILES, DATASET_FILES), claims a GPU and picks the device, then calls train_fold.

out_dir is written whole or not at all (mtmixg.core.atomic.atomic_folder: a killed run leaves an
earlier result as it was; other files in it, such as a resume state or a log, are kept). It receives:
    predictions.tsv  test genes (set=test) and validation genes (set=val): gene_id, chrom, label,
                     target, prob | prob_low prob_medium prob_high, predicted, predicted_label, set
    metrics.json     test and validation metrics, failed/chance_level flags, every attempt (a run at
                     chance level restarts, mtmixg.fit), timings, sizes, history
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
from .checkpoint import META_FILE, MODEL_FILE, save_model
from .core.atomic import atomic_folder, atomic_write
from .core.clobber import refuse_overwrite
from .core.experiments import execution_settings, read_experiment
from .core.gpus import claim_gpu
from .core.log import log_stderr
from .core.model_config import ModelConfig
from .core.names import ALL_CHROMOSOMES
from .data.dataset import GENES_FILE, SPEC_FILE, WINDOWS_FILE, genes_digest, load_windows, read_spec
from .metrics import compute_metrics, predictions_frame
from .ops import check_kernel_path, kernel_path
from .ops.fused import FusedKernelsError
from .predict import predict
from .splits import make_split
from .tasks import CLASS_NAMES, all_targets, check_task, n_classes, n_outputs
from .core.train_config import TrainConfig
from .fit import GPUUnavailableError, attempt_seed, fit, resolve_device


FOLD_FILES: dict[str, str] = {
    "predictions": "predictions.tsv", "metrics": "metrics.json", "meta": META_FILE, "model": MODEL_FILE,
}
"""What train_fold writes into its output folder, by the train rule's output names."""
DATASET_FILES: dict[str, str] = {"windows": WINDOWS_FILE, "genes": GENES_FILE, "spec": SPEC_FILE}
"""What train_fold reads from its windows folder, by the train rule's input names."""


def _json_clean(value):
    """NaN/inf -> None so metrics.json stays strict JSON."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_clean(v) for v in value]
    return value


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
    from .models.architectures import build_model

    t_start = time.perf_counter()
    check_task(task)
    attempt_seed(seed, 0)  # seeds are 0 .. ATTEMPT_SEED_STEP - 1
    model_cfg = ModelConfig.from_dict(model_cfg) if isinstance(model_cfg, dict) else model_cfg
    train_cfg = TrainConfig.from_dict(train_cfg) if isinstance(train_cfg, dict) else train_cfg
    resolve_device(train_cfg)  # fail fast when a GPU is required but absent
    out_dir = Path(out_dir)
    refuse_overwrite({"windows": windows_dir, "test genes": test_genes}, outputs={"--resume": resume_path},
                     folders={"--out": out_dir})
    for name in FOLD_FILES.values():
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
        log(f"fold {fold}: {model_cfg.arch} {task} seed {seed}: {sizes['n_train']} train, "
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
        "task": task, "fold": fold, "seed": int(seed), "arch": model_cfg.arch,
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
        atomic_write(new / FOLD_FILES["predictions"],
                     lambda tmp: table.to_csv(tmp, sep="\t", index=False, float_format="%.6g"))
        atomic_write(new / FOLD_FILES["metrics"], lambda tmp: Path(tmp).write_text(json.dumps(metrics, indent=2) + "\n"))
        save_model(new / FOLD_FILES["model"], model, meta)  # and model.json beside it (FOLD_FILES["meta"])
    if resume_path is not None:
        Path(resume_path).unlink(missing_ok=True)
    return metrics



def fold_folder(paths: dict[str, str | Path], names: dict[str, str], what: str) -> Path:
    """The one folder of paths, each named as names says (by key); ValueError naming the path that
    is missing or named otherwise (train_fold reads and writes a fold's files as one folder)."""
    missing = sorted(set(names) - set(paths))
    if missing:
        raise ValueError(f"train: {what} {', '.join(missing)} not given; expected: {', '.join(names)}")
    folder = Path(paths[next(iter(names))]).parent
    for key, name in names.items():
        if Path(paths[key]) != folder / name:
            raise ValueError(f"train: {what} '{key}' is {paths[key]}, but train_fold uses {folder / name} "
                             f"(a fold's files are one folder: {', '.join(names.values())})")
    return folder


def check_window(spec_path: str | Path, model_cfg: ModelConfig) -> None:
    """ValueError naming spec_path when its window is not the one model_cfg was resolved for."""
    spec = read_spec(spec_path)
    found = (spec.length, spec.tss_index, spec.tts_index)
    expected = (model_cfg.seq_len, model_cfg.tss_index, model_cfg.tts_index)
    if found != expected:
        raise ValueError(f"{spec_path}: window length / TSS / TTS index {found} is not the experiment's {expected} "
                         "(config key 'window'); rerun the windows rule")


def train_job(
    experiment: str,
    inputs: dict[str, str | Path],
    outputs: dict[str, str | Path],
    fold: str,
    seed: int | str,
    gpu: dict | None,
    threads: int,
    resume_path: str | Path,
    test_genes: str | Path | None = None,
    log: Callable[[str], None] = log_stderr,
) -> dict:
    """One training job of the workflow: the experiment resolved at plan time, a GPU, then train_fold.

    experiment: mtmixg.core.experiments.experiment_param's JSON (task, model, train), trained as it
    is; gpu: config `gpu` and threads: the job's (where it runs, execution_settings). inputs: the
    windows folder's files (DATASET_FILES keys), outputs: the fold's files (FOLD_FILES keys), each
    path given and checked (one folder each, named as train_fold reads and writes them). fold: a
    chromosome or "all" (every chromosome, no test set); resume_path: the resume state, kept outside
    the outputs; test_genes: the homology filter's TSV.
    Unless the device is cpu, a free local GPU is claimed (mtmixg.core.gpus.claim_gpu) before CUDA
    starts (nothing imported before it touches CUDA: the fused kernels are imported after the claim,
    mtmixg.ops.fused). A GPU required but absent ends the job with SystemExit naming why, before any
    data is read; so do fused kernels that do not import on CUDA (unless gpu.allow_pure_kernels),
    with the import's traceback. Returns train_fold's metrics.
    """
    task, model_cfg, train_cfg = read_experiment(experiment, execution_settings({"gpu": gpu}, threads))
    windows_dir = fold_folder(inputs, DATASET_FILES, "input")
    out_dir = fold_folder(outputs, FOLD_FILES, "output")
    resume_path = Path(resume_path)
    resume_path.parent.mkdir(parents=True, exist_ok=True)
    log(f"{model_cfg.arch} seed {seed} fold {fold}: resume state {resume_path}")
    run = dict(windows_dir=windows_dir, fold=None if fold == ALL_CHROMOSOMES else fold, task=task,
               model_cfg=model_cfg, train_cfg=train_cfg, seed=int(seed), out_dir=out_dir,
               resume_path=resume_path, log=log, test_genes=test_genes)
    if train_cfg.device == "cpu":
        job_device(train_cfg, log)
        check_window(inputs["spec"], model_cfg)
        return train_fold(**run)
    with claim_gpu() as claimed:  # before CUDA starts
        if claimed is not None:
            log(f"claimed GPU {claimed} (CUDA_VISIBLE_DEVICES={claimed})")
        job_device(train_cfg, log)
        check_window(inputs["spec"], model_cfg)
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
