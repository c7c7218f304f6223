"""The gene window's sizes (WindowSpec): a config dataclass, torch- and numpy-free, read by the
workflow at plan time and by the data half (mtmixg.data.sequence cuts windows with it)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .configio import from_dict_strict


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
