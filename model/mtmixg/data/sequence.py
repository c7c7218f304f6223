"""DNA encoding and the gene window.

A window is built from two pieces of genome, always read 5'->3' along the gene:

    [upstream_tss | downstream_tss] + spacer zero rows + [upstream_tts | downstream_tts]

Sequences are stored compactly as uint8 codes (A=0, C=1, G=2, T=3, anything else=4) and
turned into one-hot arrays of shape (L, 4) or tensors of shape (N, 4, L) at model input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from ..core.configio import from_dict_strict

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


@dataclass(frozen=True)
class WindowSpec:
    """Sizes of the gene window, in bases. Defaults are DeepCRE's (total length 3,020)."""

    upstream_tss: int = 1000
    downstream_tss: int = 500
    spacer: int = 20
    upstream_tts: int = 500
    downstream_tts: int = 1000

    def __post_init__(self) -> None:
        for name in ("upstream_tss", "downstream_tss", "spacer", "upstream_tts", "downstream_tts"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"window size '{name}' must be a non-negative integer, got {value!r}")
        if self.upstream_tss + self.downstream_tss == 0 or self.upstream_tts + self.downstream_tts == 0:
            raise ValueError("window: the TSS and TTS pieces must each be at least one base long")

    @property
    def tss_length(self) -> int:
        return self.upstream_tss + self.downstream_tss

    @property
    def tts_length(self) -> int:
        return self.upstream_tts + self.downstream_tts

    @property
    def length(self) -> int:
        """Total window length L."""
        return self.tss_length + self.spacer + self.tts_length

    @property
    def tss_index(self) -> int:
        """Index of the first transcribed base (the TSS) in the window."""
        return self.upstream_tss

    @property
    def tts_index(self) -> int:
        """Index of the last transcribed base (the TTS) in the window."""
        return self.tss_length + self.spacer + self.upstream_tts - 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "WindowSpec":
        """Build from a dict (window.json, a config); an unknown key is a ValueError naming it.

        The key mask_codons of older files is dropped: codon masking is a model setting now
        (ModelConfig.mask_codons), and windows were never stored masked.
        """
        values = {k: v for k, v in values.items() if k != "mask_codons"}
        return from_dict_strict(cls, values, "window")

    def genomic_pieces(self, start: int, end: int, strand: str) -> tuple[tuple[int, int], tuple[int, int]]:
        """Genomic half-open intervals (0-based) of the TSS and TTS pieces of a gene.

        start, end: the gene's 0-based half-open span (GFF3 start - 1, GFF3 end).
        Returns ((tss_lo, tss_hi), (tts_lo, tts_hi)); for '-' genes each piece is later
        reverse-complemented. Intervals may run off the chromosome (negative or past its end);
        the caller checks that.
        """
        if strand == "+":
            return (
                (start - self.upstream_tss, start + self.downstream_tss),
                (end - self.upstream_tts, end + self.downstream_tts),
            )
        if strand == "-":
            return (
                (end - self.downstream_tss, end + self.upstream_tss),
                (start - self.downstream_tts, start + self.upstream_tts),
            )
        raise ValueError(f"strand must be '+' or '-', got {strand!r}")


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
