"""The window of a gene with one alternative allele in it, cut by mtmixg.data.sequence.gene_window.

A variant is trimmed to its changed bases first (the common prefix, then the common suffix of REF
and ALT, as VCF padding bases are): REF span [pos, pos + len(ref)) of the genome becomes alt.
Each window piece (TSS piece, TTS piece) is then read from the alternative haplotype with its
anchor (the TSS base, the TTS base) kept at its fixed index:

- a variant wholly on one side of the anchor leaves the bases between it and the anchor in place;
  the length change (d = len(alt) - len(ref)) is absorbed at the piece's far end, on the side of the
  variant: an insertion pushes d bases out of the piece there, a deletion pulls |d| more genome bases
  in there (bases past a chromosome end come in as N);
- a variant whose REF span covers the anchor base itself keeps the piece's upstream half (5' on the
  gene's strand) fixed and shifts the downstream half;
- an insertion between two bases counts as lying on the side of the anchor it does not touch: on a
  '+' gene an insertion just before the TSS base is upstream of it.

SNPs and same-length substitutions change only their own bases. Every window keeps spec.length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.sequence import gene_window
from ..core.window_spec import WindowSpec


@dataclass(frozen=True)
class Allele:
    """One REF -> ALT change, trimmed: genome bases [pos, pos + len(ref)) (0-based) become alt."""

    pos: int
    ref: str
    alt: str

    @classmethod
    def trimmed(cls, pos: int, ref: str, alt: str) -> "Allele":
        """From a VCF record's 0-based position, REF and one ALT: strip the shared prefix, then suffix."""
        ref, alt = ref.upper(), alt.upper()
        while ref and alt and ref[0] == alt[0]:
            ref, alt, pos = ref[1:], alt[1:], pos + 1
        while ref and alt and ref[-1] == alt[-1]:
            ref, alt = ref[:-1], alt[:-1]
        return cls(pos, ref, alt)

    @property
    def end(self) -> int:
        return self.pos + len(self.ref)

    @property
    def shift(self) -> int:
        return len(self.alt) - len(self.ref)

    def touches(self, lo: int, hi: int) -> bool:
        """Does the change alter genome interval [lo, hi)? (an insertion: strictly inside it)"""
        if not self.ref:
            return lo < self.pos < hi
        return self.pos < hi and self.end > lo


def piece_anchors(start: int, end: int, strand: str, spec: WindowSpec) -> dict[tuple[int, int], int]:
    """Genomic piece (lo, hi) -> genomic position of its anchor base: the TSS piece first, then the TTS's."""
    tss_piece, tts_piece = spec.genomic_pieces(start, end, strand)
    tss, tts = (start, end - 1) if strand == "+" else (end - 1, start)
    return {tss_piece: tss, tts_piece: tts}


def _read(letters: np.ndarray, lo: int, hi: int) -> bytes:
    """Genome letters [lo, hi) as bytes; positions off the chromosome read as N."""
    n = len(letters)
    inside = letters[max(lo, 0) : max(min(hi, n), 0)].tobytes()
    return b"N" * max(0, min(-lo, hi - lo)) + inside + b"N" * max(0, min(hi - n, hi - lo))


def alt_piece(letters: np.ndarray, lo: int, hi: int, anchor: int, allele: Allele, strand: str) -> str:
    """Letters of genome piece [lo, hi) (genome orientation) on the haplotype carrying allele, with
    the anchor base's position kept (see the module docstring). letters: uint8 ASCII (chrom_len,)."""
    if allele.ref:
        left_fixed = anchor < allele.pos or (anchor < allele.end and strand == "+")
    else:
        left_fixed = anchor < allele.pos
    # haplotype coordinates: genome x < pos stays x; genome x >= end becomes x + shift
    start = lo if left_fixed else lo + allele.shift
    n = hi - lo
    left = _read(letters, start, min(allele.pos, start + n)) if start < allele.pos else b""
    alt = allele.alt.encode()[max(0, start - allele.pos) :]
    right_from = max(allele.end, start - allele.shift)  # first genome base after the allele needed
    out = left + alt
    out += _read(letters, right_from, right_from + max(0, n - len(out)))
    return out[:n].decode("ascii")


def window_with_allele(
    letters: np.ndarray, chrom: str, start: int, end: int, strand: str, spec: WindowSpec, allele: Allele | None
) -> str:
    """Window of a gene (gene_window: transcription orientation, length spec.length) on the reference
    (allele None) or on the haplotype carrying allele. letters: uint8 ASCII of the chromosome."""
    if allele is None:
        return gene_window(lambda _c, lo, hi: _read(letters, lo, hi).decode("ascii"), chrom, start, end, strand, spec)
    anchors = piece_anchors(start, end, strand, spec)

    def fetch(_chrom: str, lo: int, hi: int) -> str:
        if not allele.touches(lo, hi):
            return _read(letters, lo, hi).decode("ascii")
        return alt_piece(letters, lo, hi, anchors[(lo, hi)], allele, strand)

    return gene_window(fetch, chrom, start, end, strand, spec)
