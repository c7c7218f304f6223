"""Checks of the data half that name the config key to fix: chromosome spellings that differ
between the config / FASTA and the GFF3 ('1' vs 'Chr1'), and configured chromosomes that cannot
be a test fold (no genes, or genes of one class only for the task). check_sequence_names is the
same spelling check for commands without a chromosome list (`mtmixg predict --genome`,
`mtmixg score-variants`): the GFF3's gene sequences against the FASTA's records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pandas as pd

from ..core.names import CLASS_LABELS, CLASS_NAMES, check_task

_PREFIX = re.compile(r"^(chromosome|chrom|chr)[\s_.-]*", re.IGNORECASE)


def canonical_chromosome(name: str) -> str:
    """'Chr01', 'chromosome_1', '1' -> '1': the name without a chr prefix, case or leading zeros."""
    core = _PREFIX.sub("", str(name).strip()).lower()
    return core.lstrip("0") or core


def _spelled_otherwise(name: str, names: Iterable[str]) -> list[str]:
    key = canonical_chromosome(name)
    return sorted({str(n) for n in names if str(n) != name and canonical_chromosome(n) == key})


def check_chromosome_names(
    chromosomes: Sequence[str],
    fasta_names: Iterable[str],
    gff_seqids: Iterable[str],
    config_key: str,
    fasta: str = "the FASTA",
    gff: str = "the GFF3",
) -> None:
    """Raise ValueError when a configured chromosome is spelt differently in the FASTA or the GFF3.

    The message names both spellings, the files and config_key (e.g. 'species.x.chromosomes').
    A chromosome absent from the FASTA under any spelling is left to genome.check_chromosomes.
    """
    fasta_names, gff_seqids = [str(n) for n in fasta_names], {str(s) for s in gff_seqids}
    for name in map(str, chromosomes):
        if name not in fasta_names:
            other = _spelled_otherwise(name, fasta_names)
            if other:
                in_gff = f" (as {gff} does)" if name in gff_seqids else ""
                raise ValueError(
                    f"chromosome names differ: config key {config_key} says {name!r}{in_gff} but {fasta} "
                    f"calls it {', '.join(map(repr, other))}; use the FASTA's record names in {config_key} "
                    "and rename the other file's sequences to match"
                )
        elif name not in gff_seqids:
            other = _spelled_otherwise(name, gff_seqids)
            if other:
                raise ValueError(
                    f"chromosome names differ: {fasta} and config key {config_key} say {name!r} but {gff} "
                    f"calls it {', '.join(map(repr, other))}; rename the GFF3's sequences (column 1) to the "
                    f"FASTA's record names, or use the FASTA's names in both files and in {config_key}"
                )


def _few(names: Sequence[str], n: int = 3) -> str:
    """The first n names quoted, and how many there are in all when more."""
    shown = ", ".join(map(repr, names[:n]))
    return shown + (f", ... ({len(names)} in all)" if len(names) > n else "")


def check_sequence_names(
    fasta_names: Iterable[str], gff_seqids: Iterable[str], fasta: str = "the FASTA", gff: str = "the GFF3"
) -> list[str]:
    """The GFF3 gene sequences (column 1) that are no record of the FASTA, in GFF3 order.

    ValueError naming both spellings when such a sequence is a FASTA record under another spelling
    ('chr1' vs '1'), or when no gene sequence is a FASTA record at all.
    """
    fasta_names = [str(n) for n in fasta_names]
    seqids = list(dict.fromkeys(map(str, gff_seqids)))
    records = set(fasta_names)
    absent = [s for s in seqids if s not in records]
    renamed = [(s, other[0]) for s in absent if (other := _spelled_otherwise(s, fasta_names))]
    if renamed:
        pairs = ", ".join(f"{s!r} vs {f!r}" for s, f in renamed[:3])
        raise ValueError(
            f"chromosome names differ: {gff} puts genes on {_few(seqids)} but {fasta} names its records "
            f"{_few(fasta_names)} ({pairs}); rename the GFF3's sequences (column 1) to the FASTA's record names"
        )
    if seqids and len(absent) == len(seqids):
        raise ValueError(
            f"no gene sequence of {gff} is a record of {fasta}: the GFF3 puts genes on {_few(seqids)}, the "
            f"FASTA has {_few(fasta_names)}; give the annotation of this genome"
        )
    return absent


def check_fold_classes(genes: pd.DataFrame, chromosomes: Sequence[str], task: str, config_key: str) -> None:
    """Raise ValueError naming every configured chromosome whose genes (columns chrom, label) have
    fewer than two classes of the task: such a chromosome cannot be a test fold."""
    labels = CLASS_LABELS[check_task(task)]
    names = dict(zip(labels, CLASS_NAMES[task]))
    bad = []
    for name in map(str, chromosomes):
        present = sorted(set(genes.loc[genes["chrom"].astype(str) == name, "label"].astype(int)) & set(labels))
        if len(present) < 2:
            what = "no genes" if not present else f"only {names[present[0]]} genes"
            bad.append(f"{name!r} ({what})")
    if bad:
        raise ValueError(
            f"configured chromosome(s) {', '.join(bad)} of {task} classes {'/'.join(CLASS_NAMES[task])}: each "
            f"chromosome is a test fold and needs genes of two classes or more; remove it from config key "
            f"{config_key} (or check its annotation and expression)"
        )
