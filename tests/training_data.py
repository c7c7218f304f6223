"""Synthetic windows datasets for the training tests (written with mtmixg.data.dataset.save_windows).

High genes carry a planted motif at random positions, low genes do not, medium genes carry one
copy half of the time; everything else is uniform random DNA.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mtmixg.data.dataset import GeneWindows, save_windows
from mtmixg.core.model_config import ModelConfig
from mtmixg.data.sequence import encode
from mtmixg.core.window_spec import WindowSpec

SPEC = WindowSpec(60, 30, 0, 30, 60)
MOTIF = "TTGACATATAAT"


def tiny_model(**overrides) -> ModelConfig:
    """A CNN small enough for CPU tests (~8k parameters)."""
    values = dict(arch="cnn", seq_len=SPEC.length, channels=8, cnn_channels=8, cnn_blocks=2,
                  pools=[4, 4], fc_hidden=[16], dropout=0.1, tss_index=SPEC.tss_index, tts_index=SPEC.tts_index)
    values.update(overrides)
    return ModelConfig(**values)


def make_windows(folder: str | Path, n_per_chrom: int = 120, chroms: tuple[str, ...] = ("chr1", "chr2", "chr3"),
                 seed: int = 0, copies: int = 2, spec: WindowSpec = SPEC) -> GeneWindows:
    """Write a windows folder: labels cycle low/medium/high on each chromosome; fold = chrom."""
    rng = np.random.default_rng(seed)
    motif = encode(MOTIF)
    n = n_per_chrom * len(chroms)
    codes = rng.integers(0, 4, size=(n, spec.length), dtype=np.uint8)
    labels = np.tile(np.array([-1, 0, 1]), n // 3 + 1)[:n]
    rng.shuffle(labels)
    for i, lab in enumerate(labels):
        k = copies if lab == 1 else (int(rng.random() < 0.5) if lab == 0 else 0)
        for _ in range(k):
            pos = rng.integers(0, spec.length - len(motif))
            codes[i, pos : pos + len(motif)] = motif
    chrom = np.repeat(np.array(chroms), n_per_chrom)
    genes = pd.DataFrame({
        "gene_id": [f"g{i:05d}" for i in range(n)], "chrom": chrom,
        "start": np.arange(n) * 1000 + 5000, "end": np.arange(n) * 1000 + 5600,
        "strand": np.where(np.arange(n) % 2, "+", "-"),
        "logMaxTPM": labels.astype(float) + rng.random(n), "label": labels, "fold": chrom,
    })
    gw = GeneWindows(codes, genes, spec)
    save_windows(folder, gw)
    return gw


def trained_fold(root: Path) -> Path:
    """root/windows (make_windows, 60 genes per chromosome) and root/model: a cnn trained 2 epochs
    with chr1 held out (mtmixg.train.train_fold). Returns root."""
    from mtmixg.train import train_fold  # torch: only where a model is trained

    make_windows(root / "windows", n_per_chrom=60)
    train = {"epochs": 2, "batch_size": 32, "lr": 1e-3, "warmup_epochs": 0, "threads": 1}
    train_fold(root / "windows", "chr1", "binary", tiny_model(), train, 0, root / "model", log=None)
    return root
