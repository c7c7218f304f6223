"""The windows dataset of a species (rule windows): its protein-coding genes that have a window and
an expression label, one fold per chromosome, and every other protein-coding gene with its reason.

Reasons in skipped.tsv: off the configured chromosomes, absent from the FASTA, window off the
chromosome end (mtmixg.data.genome), or REASON_NO_EXPRESSION (no row in labels.tsv).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from ..core.log import log_stderr
from ..core.atomic import atomic_write
from .datachecks import check_chromosome_names, check_fold_classes
from .dataset import GeneWindows, WindowsFiles, save_windows
from .fasta import FastaIndex
from .folds import assign_folds
from .genome import SKIPPED_COLUMNS, extract_windows
from .gff import protein_coding_genes
from ..core.window_spec import WindowSpec

REASON_NO_EXPRESSION = "no expression value"


def build_windows(
    genome: str | Path,
    gff: str | Path,
    labels: str | Path,
    spec: WindowSpec | dict | str,
    chromosomes: Sequence[str],
    task: str,
    species: str,
    windows: str | Path,
    genes_out: str | Path,
    spec_out: str | Path,
    skipped: str | Path,
    log: Callable[[str], None] = log_stderr,
) -> GeneWindows:
    """Write the windows dataset of a species and its skipped.tsv; returns the dataset.

    genome: uncompressed FASTA with its .fai; gff: the GFF3; labels: labels.tsv (gene_id, label, ...);
    spec: the window (a WindowSpec, its dict or that dict as JSON); chromosomes: the configured ones,
    in fold order; species: named in errors as config key species.<species>.chromosomes; windows,
    genes_out, spec_out: the windows.npy, genes.tsv and window.json to write; skipped: the TSV of every
    protein-coding gene left out (SKIPPED_COLUMNS). ValueError when a chromosome is spelt otherwise
    in the FASTA or GFF3, when no gene has both a window and a label, or when a chromosome's genes
    hold fewer than two classes of the task.
    """
    if isinstance(spec, str):
        spec = json.loads(spec)
    if isinstance(spec, dict):
        spec = WindowSpec.from_dict(spec)
    chromosomes = [str(c) for c in chromosomes]
    config_key = f"species.{species}.chromosomes"
    genes = protein_coding_genes(gff).drop(columns="biotype")
    table = pd.read_csv(labels, sep="\t", dtype={"gene_id": str})
    check_chromosome_names(chromosomes, FastaIndex(genome).names, genes["chrom"], config_key,
                           fasta=f"the FASTA {genome}", gff=f"the GFF3 {gff}")

    codes, kept, left_out = extract_windows(genome, genes, spec, chromosomes)
    kept = kept.merge(table, on="gene_id", how="left", validate="one_to_one")
    labelled = kept["label"].notna().to_numpy()
    no_expression = kept.loc[~labelled, list(SKIPPED_COLUMNS[:-1])].assign(reason=REASON_NO_EXPRESSION)
    kept = kept[labelled].reset_index(drop=True)
    if kept.empty:
        raise ValueError(
            f"no protein-coding gene of {gff} on chromosomes {chromosomes} has both a "
            f"window and an expression value in {labels}: do the gene IDs match?"
        )
    kept["label"] = kept["label"].astype(int)
    check_fold_classes(kept, chromosomes, task, config_key)
    kept["fold"] = assign_folds(kept, chromosomes)
    left_out = pd.concat([left_out, no_expression], ignore_index=True)

    dataset = GeneWindows(codes[labelled], kept, spec)
    save_windows(WindowsFiles(windows, genes_out, spec_out), dataset)
    atomic_write(Path(skipped), lambda tmp: left_out.to_csv(tmp, sep="\t", index=False))
    log(f"{len(kept)} windows of length {spec.length}; {len(left_out)} genes skipped:")
    log(left_out["reason"].value_counts().to_string())
    return dataset
