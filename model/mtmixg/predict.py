"""Run a model over windows: logits and probabilities, batched, without touching the model's mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .data.fasta import read_records
from .loader import batches
from .core.window_spec import WindowSpec
from .tasks import n_outputs as task_outputs
from .tasks import probabilities


def model_device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    codes: np.ndarray,
    index: np.ndarray | None = None,
    batch_size: int = 256,
    amp: bool = False,
    n_outputs: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Logits float32 (n, n_outputs) on CPU for codes uint8 (N, L) at rows index (default: all).

    Runs on the model's device in eval mode (the previous mode is restored).
    amp: bf16/fp16 autocast when the model is on CUDA.
    n_outputs: the model's number of outputs (tasks.n_outputs of its task), the width of the
    (0, n_outputs) result when there are no rows; a model does not carry it. Needed only then.
    on_batch: called with the number of rows after each batch (progress lines).
    """
    device = model_device(model)
    index = np.arange(codes.shape[0]) if index is None else np.asarray(index, dtype=np.int64)
    if len(index) == 0:
        if n_outputs is None:
            raise ValueError("predict_logits: no rows to predict and n_outputs not given")
        return torch.zeros((0, n_outputs))
    use_amp = amp and device.type == "cuda"
    dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    was_training = model.training
    model.eval()
    out = []
    try:
        for _, x in batches(codes, index, batch_size, device=device):
            with torch.autocast(device_type=device.type, dtype=dtype, enabled=use_amp):
                out.append(model(x).float().cpu())
            if on_batch is not None:
                on_batch(len(x))
    finally:
        model.train(was_training)
    return torch.cat(out)


def predict(
    model: nn.Module,
    codes: np.ndarray,
    task: str,
    index: np.ndarray | None = None,
    batch_size: int = 256,
    amp: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Probabilities for codes uint8 (N, L): binary float64 (N,) = P(high); ternary (N, 3) rows sum to 1.
    on_batch: as in predict_logits."""
    logits = predict_logits(model, codes, index=index, batch_size=batch_size, amp=amp, n_outputs=task_outputs(task),
                            on_batch=on_batch)
    return probabilities(logits, task).double().numpy()


def fasta_windows(path: str | Path, spec: WindowSpec) -> tuple[list[str], np.ndarray]:
    """Gene ids and codes uint8 (N, L) of a FASTA of gene windows, one record per gene, each exactly
    spec.length letters long (read 5'->3' along the gene, as `mtmixg` extracts them)."""
    from .data.sequence import encode

    records = read_records(path)
    codes = np.empty((len(records), spec.length), dtype=np.uint8)
    for i, (name, seq, lineno) in enumerate(records):
        if len(seq) != spec.length:
            raise ValueError(
                f"{path}:{lineno}: record '{name}' is {len(seq)} bases long but the model takes windows of "
                f"{spec.length} ({spec.upstream_tss}+{spec.downstream_tss} around the TSS, spacer {spec.spacer}, "
                f"{spec.upstream_tts}+{spec.downstream_tts} around the TTS); extract windows with this model's window spec"
            )
        codes[i] = encode(seq)
    return [r[0] for r in records], codes
