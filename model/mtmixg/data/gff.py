"""GFF3 annotation: protein-coding genes and the transcript -> gene table (tx2gene).

Accepts Ensembl Plants GFF3 (``ID=gene:AT1G01010;biotype=protein_coding``, mRNA lines with
``ID=transcript:AT1G01010.1;Parent=gene:AT1G01010``), ``gene_biotype=`` / ``gene_type=`` instead of
``biotype=``, and plain IDs without the ``gene:`` / ``transcript:`` prefixes (the prefixes are
removed). Comments and ``##`` directives are skipped; a ``##FASTA`` section ends the annotation.
Plain or gzip-compressed input.

Coordinates: GFF3 is 1-based closed; genes come out 0-based half-open (start = GFF3 start - 1,
end = GFF3 end), the convention of the whole package.

Also reads tx2gene from Ensembl cDNA FASTA headers
(``>AT1G01010.1 cdna chromosome:TAIR10:1:3631:5899:1 gene:AT1G01010 gene_biotype:protein_coding``).
"""

from __future__ import annotations

import gzip
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import unquote

import pandas as pd

from ..core.log import log_stderr

GENE_TABLE_COLUMNS: tuple[str, ...] = ("gene_id", "chrom", "start", "end", "strand", "biotype")
TX2GENE_COLUMNS: tuple[str, ...] = ("transcript_id", "gene_id")
GENE_TYPES = frozenset({"gene", "protein_coding_gene", "ncrna_gene", "pseudogene"})
BIOTYPE_KEYS: tuple[str, ...] = ("biotype", "gene_biotype", "gene_type")
PROTEIN_CODING = "protein_coding"
MIN_GFF3_COVERAGE = 0.9
"""build_tx2gene takes the GFF3's transcript -> gene table when it names at least this share of the
cDNA's transcript IDs (the IDs kallisto reports); below it, the cDNA headers' gene: fields."""
_VALID_STRANDS = frozenset("+-.?")


class AnnotationError(ValueError):
    """A malformed or unusable annotation file; the message names the file (and line)."""


def open_text(path: str | Path) -> IO[str]:
    """Open a plain or gzip-compressed text file for reading (detected by its magic bytes)."""
    path = Path(path)
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline=None)
    return open(path, encoding="utf-8", errors="replace", newline=None)


def strip_prefix(value: str) -> str:
    """'gene:AT1G01010' -> 'AT1G01010'; 'transcript:X.1' -> 'X.1'; other IDs unchanged."""
    for prefix in ("gene:", "transcript:"):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def parse_attributes(text: str) -> dict[str, str]:
    """Column 9 of a GFF3 line -> {key: value} (values URL-decoded; multi-values stay comma-joined)."""
    out: dict[str, str] = {}
    for field in text.strip().split(";"):
        field = field.strip()
        if not field or "=" not in field:
            continue
        key, _, value = field.partition("=")
        out[key.strip()] = unquote(value.strip())
    return out


@dataclass
class _Feature:
    line: int
    seqid: str
    ftype: str
    start: int
    end: int
    strand: str
    attrs: dict[str, str]


def iter_features(path: str | Path) -> Iterator[_Feature]:
    """Yield the features of a GFF3 file, validating each line (errors name file and line)."""
    with open_text(path) as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n\r")
            if not line.strip():
                continue
            if line.startswith("#"):
                if line.startswith("##FASTA"):
                    return
                continue
            if line.startswith(">"):  # FASTA section without its directive
                return
            cols = line.split("\t")
            if len(cols) != 9:
                raise AnnotationError(
                    f"{path}:{lineno}: malformed GFF3 line: expected 9 tab-separated columns, found {len(cols)}"
                    f" (is the file space-separated or truncated?): {line[:120]!r}"
                )
            try:
                start, end = int(cols[3]), int(cols[4])
            except ValueError:
                raise AnnotationError(
                    f"{path}:{lineno}: malformed GFF3 line: start/end must be integers, got {cols[3]!r} and {cols[4]!r}"
                ) from None
            if start < 1 or start > end:
                raise AnnotationError(
                    f"{path}:{lineno}: malformed GFF3 line: need 1 <= start <= end, got start={start} end={end}"
                )
            if cols[6] not in _VALID_STRANDS:
                raise AnnotationError(
                    f"{path}:{lineno}: malformed GFF3 line: strand must be '+', '-' or '.', got {cols[6]!r}"
                )
            yield _Feature(lineno, cols[0], cols[2], start, end, cols[6], parse_attributes(cols[8]))


def _biotype(feature: _Feature) -> str:
    for key in BIOTYPE_KEYS:
        if key in feature.attrs:
            return feature.attrs[key]
    return PROTEIN_CODING if feature.ftype == "protein_coding_gene" else ""


def _is_gene(feature: _Feature) -> bool:
    return feature.ftype in GENE_TYPES or feature.ftype.endswith("_gene")


def read_genes(path: str | Path) -> pd.DataFrame:
    """All gene features (every biotype, any strand) of a GFF3 -> DataFrame with GENE_TABLE_COLUMNS.

    0-based half-open coordinates; gene IDs lose their 'gene:' prefix. A gene line without ID is an
    error; a repeated gene ID is a discontinuous gene (see _read_genes). For windows use
    protein_coding_genes.
    """
    return _read_genes(path).drop(columns="line")


def _read_genes(path: str | Path) -> pd.DataFrame:
    """read_genes plus the GFF3 line number of each gene's first line (column 'line').

    A gene ID on several lines is one discontinuous feature (legal GFF3): its parts on one
    sequence and strand become one gene spanning them all. A gene whose parts lie on different
    sequences or strands has no single TSS: it is left out with a warning (never an error).
    """
    rows: dict[str, list] = {}
    split: dict[str, int] = {}
    for f in iter_features(path):
        if not _is_gene(f):
            continue
        if "ID" not in f.attrs or not f.attrs["ID"]:
            raise AnnotationError(f"{path}:{f.line}: {f.ftype} line without an ID= attribute")
        gene_id = strip_prefix(f.attrs["ID"])
        row = rows.get(gene_id)
        if row is None:
            rows[gene_id] = [gene_id, f.seqid, f.start - 1, f.end, f.strand, _biotype(f), f.line]
        elif (row[1], row[4]) == (f.seqid, f.strand):
            row[2], row[3] = min(row[2], f.start - 1), max(row[3], f.end)
        else:
            split.setdefault(gene_id, row[6])
    if split:
        first = next(iter(split.items()))
        warnings.warn(
            f"{path}: {len(split)} gene(s) with parts on different sequences or strands left out "
            f"(first: {first[0]!r}, line {first[1]})",
            stacklevel=2,
        )
    kept = [row for gene_id, row in rows.items() if gene_id not in split]
    table = pd.DataFrame(kept, columns=[*GENE_TABLE_COLUMNS, "line"])
    return table.astype({"start": "int64", "end": "int64"})


def protein_coding_genes(path: str | Path) -> pd.DataFrame:
    """Protein-coding genes of a GFF3 -> DataFrame(gene_id, chrom, start, end, strand, biotype).

    A gene is protein-coding when its biotype=/gene_biotype=/gene_type= is 'protein_coding'
    (or its feature type is 'protein_coding_gene'). Rows keep file order. Raises AnnotationError
    when there is none, or when a protein-coding gene has no strand ('.'/'?').
    """
    genes = _read_genes(path)
    coding = genes[genes["biotype"] == PROTEIN_CODING]
    if coding.empty:
        seen = ", ".join(sorted(set(genes["biotype"]) - {""})[:8]) or "none"
        raise AnnotationError(
            f"{path}: no protein-coding genes (looked for biotype=protein_coding or gene_biotype=protein_coding "
            f"in gene lines); "
            f"found {len(genes)} gene line(s), biotypes seen: {seen}"
        )
    unstranded = coding[~coding["strand"].isin(["+", "-"])]
    if not unstranded.empty:
        row = unstranded.iloc[0]
        raise AnnotationError(
            f"{path}:{row['line']}: protein-coding gene {row['gene_id']!r} has no strand ({row['strand']!r}); "
            "its TSS cannot be placed"
        )
    return coding.drop(columns="line").reset_index(drop=True)


def tx2gene_from_gff3(path: str | Path) -> pd.DataFrame:
    """transcript_id -> gene_id from every feature whose Parent is a gene (mRNA, ncRNA, ...).

    IDs lose their 'transcript:'/'gene:' prefixes. Returns DataFrame(transcript_id, gene_id),
    file order; raises AnnotationError when no transcript points at a gene.
    """
    gene_ids: set[str] = set()
    candidates: list[tuple[str, str]] = []
    for f in iter_features(path):
        if _is_gene(f):
            if "ID" in f.attrs:
                gene_ids.add(strip_prefix(f.attrs["ID"]))
            continue
        if "ID" not in f.attrs or "Parent" not in f.attrs:
            continue
        tx = strip_prefix(f.attrs["ID"])
        for parent in f.attrs["Parent"].split(","):
            candidates.append((tx, strip_prefix(parent)))
    rows = [(tx, gene) for tx, gene in candidates if gene in gene_ids]
    if not rows:
        raise AnnotationError(
            f"{path}: no transcript features with a gene as Parent (expected e.g. "
            "'mRNA ... ID=transcript:AT1G01010.1;Parent=gene:AT1G01010')"
        )
    return pd.DataFrame(rows, columns=list(TX2GENE_COLUMNS)).drop_duplicates().reset_index(drop=True)


def tx2gene_from_cdna(path: str | Path, kind: str = "cDNA") -> pd.DataFrame:
    """transcript_id -> gene_id from Ensembl cDNA FASTA headers ('>TX gene:GENE ...').

    transcript_id is the header up to the first space (what kallisto reports). Raises
    AnnotationError naming the line for a header without a 'gene:' field. kind: what the file
    holds, for messages (Ensembl `pep` files carry the same field: kind="protein").
    """
    rows: list[tuple[str, str]] = []
    with open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.startswith(">"):
                continue
            fields = line[1:].split()
            if not fields:
                raise AnnotationError(f"{path}:{lineno}: FASTA header without a name")
            gene = next((f[5:] for f in fields[1:] if f.startswith("gene:")), None)
            if not gene:
                raise AnnotationError(
                    f"{path}:{lineno}: {kind} header has no 'gene:' field (Ensembl style "
                    f"'>AT1G01010.1 {kind.lower()} ... gene:AT1G01010 ...'), got {line.strip()[:120]!r}"
                    + ("; use tx2gene from the GFF3 instead" if kind == "cDNA" else "")
                )
            rows.append((fields[0], gene))
    if not rows:
        raise AnnotationError(f"{path}: no FASTA headers; is this a {kind} FASTA?")
    return pd.DataFrame(rows, columns=list(TX2GENE_COLUMNS))


def build_tx2gene(
    gff: str | Path,
    cdna: str | Path,
    out: str | Path,
    min_gff3_coverage: float = MIN_GFF3_COVERAGE,
    log: Callable[[str], None] = log_stderr,
) -> pd.DataFrame:
    """Write the transcript -> gene table (TX2GENE_COLUMNS) of the cDNA's transcripts to out; returns it.

    The GFF3's table (tx2gene_from_gff3) is used when it covers at least min_gff3_coverage of the
    cDNA's transcript IDs, else (or when the GFF3 has no usable transcripts) the cDNA headers'
    gene: fields (tx2gene_from_cdna). Rows of transcripts absent from the cDNA are dropped;
    AnnotationError when no transcript of the cDNA maps to a gene.
    """
    from ..core.atomic import atomic_write
    from .fasta import iter_records

    transcripts = {name for name, _ in iter_records(cdna)}
    try:
        table = tx2gene_from_gff3(gff)
        covered = len(transcripts & set(table["transcript_id"])) / len(transcripts)
    except AnnotationError as err:
        log(f"tx2gene from the GFF3 failed: {err}")
        table, covered = None, 0.0
    log(f"GFF3 tx2gene covers {covered:.1%} of {len(transcripts)} cDNA transcripts")
    if covered < min_gff3_coverage:
        log("using the cDNA headers' gene: fields instead")
        table = tx2gene_from_cdna(cdna)
    table = table[table["transcript_id"].isin(transcripts)]
    if table.empty:
        raise AnnotationError(
            f"no transcript of {cdna} maps to a gene of {gff}: are the cDNA and the annotation from the same release?"
        )
    log(f"tx2gene: {len(table)} transcripts of {table['gene_id'].nunique()} genes")
    atomic_write(Path(out), lambda tmp: table.to_csv(tmp, sep="\t", index=False))
    return table
