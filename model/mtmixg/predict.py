"""Run a model over windows: logits and probabilities, batched, without touching the model's mode."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .data.fasta import IUPAC
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


_NOT_IUPAC = str.maketrans("", "", IUPAC + IUPAC.lower())


def read_fasta(path: str | Path) -> list[tuple[str, str, int]]:
    """Records of a FASTA file as (id, sequence, header line number). ValueError naming the file
    when it holds no records, a sequence before the first header, an empty record, a repeated id or
    a letter that is no IUPAC nucleotide code (any case)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such FASTA file")
    records: list[tuple[str, list[str], int]] = []
    seen: set[str] = set()
    with open(path, encoding="ascii", errors="replace") as handle:
        for lineno, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(">"):
                name = line[1:].split()[0] if line[1:].split() else ""
                if not name:
                    raise ValueError(f"{path}:{lineno}: FASTA header without a name")
                if name in seen:
                    raise ValueError(f"{path}:{lineno}: record '{name}' appears twice; give every gene one record")
                seen.add(name)
                records.append((name, [], lineno))
            elif not records:
                raise ValueError(f"{path}:{lineno}: sequence before the first '>' header; is this a FASTA file?")
            else:
                bad = line.translate(_NOT_IUPAC)
                if bad:
                    raise ValueError(
                        f"{path}:{lineno}: record '{records[-1][0]}': character {bad[0]!r} (column {line.index(bad[0]) + 1}) "
                        "is not an IUPAC nucleotide letter; give DNA windows (ACGT, IUPAC codes, any case), not protein or text"
                    )
                records[-1][1].append(line)
    if not records:
        raise ValueError(f"{path}: no FASTA records; give one '>gene_id' record per gene window")
    out = []
    for name, parts, lineno in records:
        seq = "".join(parts)
        if not seq:
            raise ValueError(f"{path}:{lineno}: record '{name}' has no sequence")
        out.append((name, seq, lineno))
    return out


def fasta_windows(path: str | Path, spec: WindowSpec) -> tuple[list[str], np.ndarray]:
    """Gene ids and codes uint8 (N, L) of a FASTA of gene windows, one record per gene, each exactly
    spec.length letters long (read 5'->3' along the gene, as `mtmixg` extracts them)."""
    from .data.sequence import encode

    records = read_fasta(path)
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
