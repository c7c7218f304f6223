"""Mini-batches of one-hot windows, made on the fly from uint8 codes (memory-mapped or in memory).

Codes (N, L) stay uint8 (1 byte per base); each batch becomes float32 (B, 4, L) only when used.
Shuffling is deterministic: the order of an epoch derives from (seed, epoch) alone, so a resumed
run sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from .data.sequence import codes_to_one_hot_batch


def epoch_order(index: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """A permutation of index that depends only on (seed, epoch)."""
    return np.random.default_rng([int(seed), 1000 + int(epoch)]).permutation(np.asarray(index))


def batches(
    codes: np.ndarray,
    index: np.ndarray,
    batch_size: int,
    device: torch.device | str = "cpu",
) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """Yield (rows, x) in the given order: rows int64 (B,), x float32 (B, 4, L) on device.

    Windows are given as stored; the model applies its own codon mask (ModelConfig.mask_codons).
    """
    index = np.asarray(index, dtype=np.int64)
    for start in range(0, len(index), batch_size):
        rows = index[start : start + batch_size]
        # sorted reads are faster on a memory map; restore the requested order afterwards
        order = np.argsort(rows, kind="stable")
        chunk = np.empty((len(rows), codes.shape[1]), dtype=np.uint8)
        chunk[order] = np.asarray(codes[rows[order]])
        x = torch.from_numpy(codes_to_one_hot_batch(chunk))
        yield rows, x.to(device, non_blocking=True)
