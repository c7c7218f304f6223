"""Gene windows of a whole genome, one chromosome at a time.

``extract_windows`` reads each needed chromosome once as a uint8 array of its letters (through the
FASTA's .fai, see mtmixg.data.fasta; every byte checked to be IUPAC), gathers all its genes' TSS and TTS
pieces with vectorised numpy indexing and encodes them with one table look-up (for minus-strand
genes a reverse-complementing table on the reversed piece). The result equals
``encode(mtmixg.data.sequence.gene_window(...))`` gene by gene, byte for byte.
Peak memory: one chromosome (~2 bytes/base while reading) plus the (N, L) output array.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.log import log_stderr
from .datachecks import check_sequence_names
from .fasta import FastaIndex
from .sequence import _CODES, CODE_N
from ..core.window_spec import WindowSpec

REASON_NOT_CONFIGURED = "chromosome not in the configured list"
REASON_NOT_IN_FASTA = "chromosome absent from FASTA"
REASON_OFF_END = "window runs off the chromosome start/end"
SKIPPED_COLUMNS: tuple[str, ...] = ("gene_id", "chrom", "start", "end", "strand", "reason")
# ASCII letter -> code of its complement (A<->T, C<->G, anything else N)
_RC_CODES = np.array([3, 2, 1, 0, CODE_N], dtype=np.uint8)[_CODES]
_GENE_REQUIRED = ("gene_id", "chrom", "start", "end", "strand")


def check_chromosomes(fasta: str | Path | FastaIndex, chromosomes: Sequence[str]) -> None:
    """Raise ValueError when a configured chromosome is not a record of the FASTA.

    The message names the chromosome(s), the FASTA and lists the FASTA's records.
    """
    index = fasta if isinstance(fasta, FastaIndex) else FastaIndex(fasta)
    missing = [str(c) for c in chromosomes if str(c) not in index]
    if missing:
        names = index.names
        shown = ", ".join(names[:20]) + (f", ... ({len(names)} records)" if len(names) > 20 else "")
        raise ValueError(
            f"configured chromosome(s) {', '.join(map(repr, missing))} not in {index.path}; "
            f"the FASTA has: {shown}. Fix the species' chromosome list in the config."
        )


def check_gene_sequences(
    fasta: str | Path | FastaIndex, genes: pd.DataFrame, gff: str | Path, log: Callable[[str], None] = log_stderr
) -> None:
    """For windows of every gene of a GFF3 (no chromosome list): ValueError naming both spellings when
    the genes' sequences are spelt otherwise in the FASTA, or none is a FASTA record
    (datachecks.check_sequence_names); a warning naming the genes' sequences the FASTA lacks."""
    index = fasta if isinstance(fasta, FastaIndex) else FastaIndex(fasta)
    absent = check_sequence_names(index.names, genes["chrom"], fasta=f"the FASTA {index.path}", gff=f"the GFF3 {gff}")
    if absent:
        per = genes["chrom"].astype(str).value_counts()
        shown = ", ".join(f"{s!r} ({per[s]} genes)" for s in absent[:5])
        more = f", ... ({len(absent)} sequences in all)" if len(absent) > 5 else ""
        log(f"warning: {sum(per[s] for s in absent)} gene(s) of {gff} skipped: their sequence is not a record of "
            f"{index.path}: {shown}{more}")


def _gather(letters: np.ndarray, lo: np.ndarray, width: int) -> np.ndarray:
    """Rows letters[lo[i] : lo[i] + width] -> (len(lo), width) uint8, without an index array."""
    view = np.lib.stride_tricks.sliding_window_view(letters, width)
    return view[lo]


def extract_windows(
    fasta_path: str | Path,
    genes: pd.DataFrame,
    spec: WindowSpec,
    chromosomes: Sequence[str] | None = None,
) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Windows of genes from an uncompressed genome FASTA.

    genes: DataFrame with gene_id, chrom, start, end (0-based half-open), strand ('+'/'-');
    other columns are carried along. chromosomes: the configured list (None = every FASTA record);
    a configured chromosome missing from the FASTA raises ValueError (check_chromosomes).

    Returns (codes uint8 of shape (N, spec.length), kept genes (N rows, input order, index reset),
    skipped DataFrame(gene_id, chrom, start, end, strand, reason)) where reason is one of
    REASON_NOT_CONFIGURED, REASON_NOT_IN_FASTA, REASON_OFF_END. Codes are in transcription
    orientation (minus-strand pieces reverse-complemented, N stays 4); the spacer is 4 (N).
    Masking (spec.mask_codons) is not applied here: it is applied at model input.
    """
    missing_cols = [c for c in _GENE_REQUIRED if c not in genes.columns]
    if missing_cols:
        raise ValueError(f"gene table lacks column(s): {', '.join(missing_cols)}")
    bad_strand = ~genes["strand"].isin(["+", "-"])
    if bad_strand.any():
        row = genes[bad_strand].iloc[0]
        raise ValueError(f"gene {row['gene_id']!r}: strand must be '+' or '-', got {row['strand']!r}")
    index = FastaIndex(fasta_path)
    if chromosomes is not None:
        chromosomes = [str(c) for c in chromosomes]  # YAML may give 1, 2, ... as integers
        check_chromosomes(index, chromosomes)
    lengths = index.lengths()

    genes = genes.reset_index(drop=True)
    chrom_cat = pd.Categorical(genes["chrom"].astype(str))
    chrom_code = chrom_cat.codes  # per gene: index into chrom_cat.categories
    categories = [str(c) for c in chrom_cat.categories]
    start = genes["start"].to_numpy(dtype=np.int64)
    end = genes["end"].to_numpy(dtype=np.int64)
    minus = (genes["strand"] == "-").to_numpy()
    n = len(genes)

    # genomic pieces, vectorised version of WindowSpec.genomic_pieces
    tss_lo = np.where(minus, end - spec.downstream_tss, start - spec.upstream_tss)
    tts_lo = np.where(minus, start - spec.downstream_tts, end - spec.upstream_tts)
    tss_len, tts_len = spec.tss_length, spec.tts_length

    cat_configured = np.array([chromosomes is None or c in chromosomes for c in categories], dtype=bool)
    cat_in_fasta = np.array([c in lengths for c in categories], dtype=bool)
    cat_length = np.array([lengths.get(c, 0) for c in categories], dtype=np.int64)
    configured = cat_configured[chrom_code]
    in_fasta = cat_in_fasta[chrom_code]
    chrom_len = cat_length[chrom_code]
    fits = (np.minimum(tss_lo, tts_lo) >= 0) & (tss_lo + tss_len <= chrom_len) & (tts_lo + tts_len <= chrom_len)
    keep = configured & in_fasta & fits

    kept_rows = np.flatnonzero(keep)
    out = np.empty((kept_rows.size, spec.length), dtype=np.uint8)
    tts_col = tss_len + spec.spacer
    out[:, tss_len:tts_col] = CODE_N
    out_row = np.full(n, -1, dtype=np.int64)
    out_row[kept_rows] = np.arange(kept_rows.size)

    for name in index.names:  # file order: each chromosome read once
        if name not in categories:
            continue
        sel = np.flatnonzero(keep & (chrom_code == categories.index(name)))
        if sel.size == 0:
            continue
        letters = index.read_letters(name)  # ASCII bytes (length,), validated
        for strand_sel, table, flip in ((sel[~minus[sel]], _CODES, False), (sel[minus[sel]], _RC_CODES, True)):
            if strand_sel.size == 0:
                continue
            rows = out_row[strand_sel]
            for lo, cols in ((tss_lo, slice(0, tss_len)), (tts_lo, slice(tts_col, spec.length))):
                width = cols.stop - cols.start
                piece = _gather(letters, lo[strand_sel], width)  # (g, width) ASCII
                out[rows, cols] = table[piece[:, ::-1] if flip else piece]
        del letters

    reason = np.where(~configured, REASON_NOT_CONFIGURED, np.where(~in_fasta, REASON_NOT_IN_FASTA, REASON_OFF_END))
    kept = genes.iloc[kept_rows].reset_index(drop=True)
    skipped = genes.loc[~keep, list(_GENE_REQUIRED)].copy()
    skipped["reason"] = reason[~keep].astype(object)
    return out, kept, skipped.reset_index(drop=True)

