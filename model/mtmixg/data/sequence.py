"""DNA encoding and the gene window.

A window is built from two pieces of genome, always read 5'->3' along the gene:

    [upstream_tss | downstream_tss] + spacer zero rows + [upstream_tts | downstream_tts]

Sequences are stored compactly as uint8 codes (A=0, C=1, G=2, T=3, anything else=4) and
turned into one-hot arrays of shape (L, 4) or tensors of shape (N, 4, L) at model input.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..core.window_spec import WindowSpec

CODE_N = 4
_CODES = np.full(256, CODE_N, dtype=np.uint8)
for _i, _base in enumerate("ACGT"):
    _CODES[ord(_base)] = _i
    _CODES[ord(_base.lower())] = _i
_COMPLEMENT = str.maketrans("ACGTacgtNn", "TGCAtgcaNn")
# one-hot lookup: row i is the encoding of code i; code 4 (N or other) is all zeros
_ONE_HOT = np.vstack([np.eye(4, dtype=np.float32), np.zeros((1, 4), dtype=np.float32)])


def encode(seq: str) -> np.ndarray:
    """Letters -> uint8 codes of shape (L,). A/C/G/T (any case) -> 0..3, anything else -> 4."""
    return _CODES[np.frombuffer(seq.encode("ascii", errors="replace"), dtype=np.uint8)]


def one_hot(seq: str | np.ndarray) -> np.ndarray:
    """A sequence (letters or uint8 codes, length L) -> float32 one-hot of shape (L, 4).

    Any letter other than A/C/G/T becomes an all-zero row.
    """
    codes = encode(seq) if isinstance(seq, str) else np.asarray(seq, dtype=np.uint8)
    return _ONE_HOT[codes]


def codes_to_one_hot_batch(codes: np.ndarray) -> np.ndarray:
    """uint8 codes of shape (N, L) -> float32 one-hot of shape (N, 4, L), the model's input."""
    return np.ascontiguousarray(_ONE_HOT[codes].transpose(0, 2, 1))


def reverse_complement(seq: str) -> str:
    """Reverse complement of a DNA string; letters other than ACGTN are kept (and reversed)."""
    return seq.translate(_COMPLEMENT)[::-1]


def gene_window(
    fetch: Callable[[str, int, int], str],
    chrom: str,
    start: int,
    end: int,
    strand: str,
    spec: WindowSpec,
) -> str:
    """The window of one gene as letters, in transcription orientation; length spec.length.

    fetch(chrom, lo, hi) returns the genome's letters in the 0-based half-open [lo, hi).
    The spacer is written as 'N' (an all-zero row once one-hot encoded).
    """
    (tss_lo, tss_hi), (tts_lo, tts_hi) = spec.genomic_pieces(start, end, strand)
    tss_piece = fetch(chrom, tss_lo, tss_hi)
    tts_piece = fetch(chrom, tts_lo, tts_hi)
    if strand == "-":
        tss_piece = reverse_complement(tss_piece)
        tts_piece = reverse_complement(tts_piece)
    window = tss_piece + "N" * spec.spacer + tts_piece
    if len(window) != spec.length:
        raise ValueError(
            f"window of {chrom}:{start}-{end}({strand}) has length {len(window)}, expected {spec.length}"
        )
    return window
