"""Score variants: per (variant, gene) the predicted class probabilities on the reference and on the
alternative window, and their difference (alt - ref).

Every REF is checked against the genome first (one chromosome read at a time, mtmixg.data.fasta), so a
mismatch stops the run before any scoring. Then one chromosome at a time: each gene whose window
a variant touches contributes its reference window plus one window per variant; all of them go
through each of the gene's models in batches (mtmixg.predict), so a gene with many variants costs
one batched pass, not one per variant. Memory: one chromosome plus ROW_CHUNK windows. Progress lines
(mtmixg.progress) count the batches of all chromosomes and models on stderr.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.fasta import FastaIndex
from ..data.genome import check_gene_sequences
from ..data.gff import protein_coding_genes
from ..predict import predict
from ..progress import Progress
from ..data.sequence import encode
from ..core.window_spec import WindowSpec
from ..tasks import prob_columns
from .alleles import piece_anchors, window_with_allele
from .models import ScoringModel, models_for
from .vcf import Variant, read_variants

SKIP_MISMATCH = "REF differs from the genome"
SKIP_NO_MODEL = "gene's chromosome held out by none of the models"
SKIP_OUTSIDE = "outside every gene window"
ROW_CHUNK = 4096  # windows encoded and scored at a time (ROW_CHUNK x L bytes of codes)


@dataclass
class Scores:
    """The result: table (one row per variant x gene, table_columns), info (VCF record number ->
    INFO strings) and counts of what was scored or skipped."""

    table: pd.DataFrame
    info: dict[int, list[str]]
    counts: Counter = field(default_factory=Counter)


def table_columns(task: str) -> list[str]:
    cols = ["chrom", "pos", "id", "ref", "alt", "gene_id", "strand", "part", "offset"]
    for c in prob_columns(task):
        cols += [f"{c}_ref", f"{c}_alt", f"delta_{c}"]
    return cols + ["n_models", "models", "held_out"]


def score_variants(
    models: list[ScoringModel],
    task: str,
    spec: WindowSpec,
    genome: str,
    gff3: str,
    vcf: str,
    skip_mismatch: bool = False,
    max_indel: int = 50,
    batch_size: int = 256,
) -> Scores:
    """Score every sequence variant of vcf that falls in a protein-coding gene's window (see module doc).

    ValueError (one line naming the record) for a contig the genome lacks, or a REF that differs
    from the genome unless skip_mismatch (then counted under SKIP_MISMATCH); ValueError naming both
    spellings when the GFF3's gene sequences are spelt otherwise in the genome (check_gene_sequences).
    """
    index = FastaIndex(genome)
    genes = protein_coding_genes(gff3)
    check_gene_sequences(index, genes, gff3)
    variants, counts = read_variants(vcf, index.lengths(), max_indel)
    rows: list[dict] = []
    info: dict[int, list[str]] = {}
    touched: set[int] = set()
    by_chrom: dict[str, list[int]] = {}
    for i, v in enumerate(variants):
        by_chrom.setdefault(v.chrom, []).append(i)
    chroms = [c for c in index.names if c in by_chrom]
    kept = {c: _check_ref(index.read_letters(c), [variants[i] for i in by_chrom[c]], vcf, skip_mismatch, counts)
            for c in chroms}  # every REF first: a mismatch stops the run before any scoring
    plan = []  # (chrom, its (gene, variants) pairs, the models that score it)
    for chrom in chroms:
        chrom_genes = genes[genes["chrom"].astype(str) == chrom]
        pairs = _pairs(kept[chrom], chrom_genes, spec, index.lengths()[chrom])
        if not pairs:
            continue
        use = models_for(models, chrom)
        if not use:
            counts[SKIP_NO_MODEL] += len({id(v) for _, vs in pairs for v in vs})
            continue
        plan.append((chrom, pairs, use))
    progress = Progress("mtmixg score-variants", sum(_n_batches(pairs, batch_size) * len(use) for _, pairs, use in plan),
                        rate_unit="windows")
    for chrom, pairs, use in plan:
        for gene, vs in pairs:
            touched.update(id(v) for v in vs)
        letters = index.read_letters(chrom)
        for chunk in _chunks(pairs, ROW_CHUNK):
            rows += _score_chunk(chunk, letters, chrom, spec, use, task, batch_size, info, progress)
        del letters
    counts[SKIP_OUTSIDE] = len(variants) - len(touched) - counts[SKIP_MISMATCH] - counts[SKIP_NO_MODEL]
    counts["variant alleles scored"] = len(touched)
    counts["variant x gene rows"] = len(rows)
    table = pd.DataFrame(rows, columns=["_order", *table_columns(task)])
    table = table.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    return Scores(table, info, counts)


def _check_ref(letters: np.ndarray, variants: list[Variant], vcf: str, skip: bool, counts: Counter) -> list[Variant]:
    """Variants whose REF equals the genome (case-insensitive); a mismatch raises or is counted."""
    kept = []
    for v in variants:
        genome_ref = letters[v.pos - 1 : v.pos - 1 + len(v.ref)].tobytes().decode("ascii").upper()
        if genome_ref != v.ref.upper():
            if not skip:
                raise ValueError(f"{v.label(vcf)}: REF {v.ref} differs from the genome's {genome_ref} at this "
                                 "position; is the VCF from another assembly? (--skip-mismatch skips such records)")
            counts[SKIP_MISMATCH] += 1
            continue
        kept.append(v)
    return kept


def _pairs(variants: list[Variant], genes: pd.DataFrame, spec: WindowSpec, chrom_len: int) -> list[tuple[tuple, list[Variant]]]:
    """(gene row, variants touching its window) for every gene with a whole window and >= 1 variant."""
    if not variants or genes.empty:
        return []
    order = sorted(variants, key=lambda v: v.allele.pos)
    starts = np.array([v.allele.pos for v in order])
    reach = max(len(v.allele.ref) for v in order) + 1
    out = []
    for gene in genes.itertuples(index=False):
        pieces = spec.genomic_pieces(gene.start, gene.end, gene.strand)
        if min(p[0] for p in pieces) < 0 or max(p[1] for p in pieces) > chrom_len:
            continue  # no whole window: the gene is not scored (as mtmixg.data.genome skips it)
        hits: dict[int, Variant] = {}
        for lo, hi in pieces:
            for k in range(np.searchsorted(starts, lo - reach), np.searchsorted(starts, hi)):
                if order[k].allele.touches(lo, hi):
                    hits[id(order[k])] = order[k]
        if hits:
            out.append((gene, list(hits.values())))
    return out


def _chunks(pairs: list, max_rows: int):
    """Groups of (gene, variants) holding about max_rows windows (a gene is never split)."""
    chunk, n = [], 0
    for gene, vs in pairs:
        if chunk and n + 1 + len(vs) > max_rows:
            yield chunk
            chunk, n = [], 0
        chunk.append((gene, vs))
        n += 1 + len(vs)
    if chunk:
        yield chunk


def _n_batches(pairs: list, batch_size: int) -> int:
    """Batches of one model's pass over the chunks of pairs (as _score_chunk predicts them)."""
    return sum(math.ceil(sum(1 + len(vs) for _, vs in chunk) / batch_size) for chunk in _chunks(pairs, ROW_CHUNK))


def _score_chunk(chunk, letters, chrom, spec, models, task, batch_size, info, progress: Progress) -> list[dict]:
    """Encode the windows of a chunk (per gene: ref, then one per variant), predict with each model
    (a progress step per batch), average over models; rows of the table, INFO strings appended to info."""
    n_rows = sum(1 + len(vs) for _, vs in chunk)
    codes = np.empty((n_rows, spec.length), dtype=np.uint8)
    r = 0
    for gene, vs in chunk:
        for allele in [None, *(v.allele for v in vs)]:
            codes[r] = encode(window_with_allele(letters, chrom, gene.start, gene.end, gene.strand, spec, allele))
            r += 1
    prob = np.mean([predict(m.model, codes, task, batch_size=batch_size, on_batch=progress.batch) for m in models],
                   axis=0)
    prob = prob.reshape(n_rows, -1)
    names = ",".join(m.name for m in models)
    held_out = all(m.fold == chrom for m in models)
    cols = prob_columns(task)
    rows = []
    r = 0
    for gene, vs in chunk:
        ref_p = prob[r]
        anchors = piece_anchors(gene.start, gene.end, gene.strand, spec)
        for j, v in enumerate(vs, start=1):
            alt_p = prob[r + j]
            part, offset = _where(v, anchors, gene.strand)
            row = {"_order": (v.index, v.alt_index, gene.start), "chrom": chrom, "pos": v.pos, "id": v.vid, "ref": v.ref,
                   "alt": v.alt, "gene_id": gene.gene_id, "strand": gene.strand, "part": part, "offset": offset}
            for k, c in enumerate(cols):
                row[f"{c}_ref"], row[f"{c}_alt"], row[f"delta_{c}"] = ref_p[k], alt_p[k], alt_p[k] - ref_p[k]
            row.update(n_models=len(models), models=names, held_out=held_out)
            rows.append(row)
            deltas = "|".join(f"{alt_p[k] - ref_p[k]:.4g}" for k in range(len(cols)))
            info.setdefault(v.index, []).append(f"{v.alt}|{gene.gene_id}|{deltas}")
        r += 1 + len(vs)
    return rows


def _where(v: Variant, anchors: dict, strand: str) -> tuple[str, int]:
    """Window part the variant touches (TSS, TTS or TSS+TTS) and the offset of its first changed base
    (5'-most on the gene's strand) from that part's anchor; negative = upstream."""
    touched = [(name, anchor) for name, ((lo, hi), anchor) in zip(("TSS", "TTS"), anchors.items())
               if v.allele.touches(lo, hi)]
    anchor = touched[0][1]
    offset = v.allele.pos - anchor if strand == "+" else anchor - (v.allele.end - 1)
    return "+".join(name for name, _ in touched), int(offset)


def report(counts: Counter) -> None:
    """One stderr line: what was scored and what was skipped, and why."""
    print("mtmixg score-variants: " + "; ".join(f"{k}: {n}" for k, n in counts.items() if n), file=sys.stderr)
