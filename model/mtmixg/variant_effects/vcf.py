"""VCF in and out through pysam (plain, bgzipped and indexed VCF/BCF alike; a plain-gzip VCF, which
htslib cannot open, is read through an uncompressed copy in a temporary folder).

read_variants: one Variant per (record, ALT) - a multi-allelic record gives one per alternative
allele - with the record's contig checked against the genome's sequences. Alleles that are not
sequence (symbolic <DEL>, breakends, '*', missing '.') or longer than max_indel bases of change are
counted as skipped, never scored.
write_annotated: the input VCF with one INFO field added (INFO_KEY), written atomically.
"""

from __future__ import annotations

import gzip
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pysam

from ..core.atomic import atomic_write
from .alleles import Allele

INFO_KEY = "MTMIXG"
SKIP_SYMBOLIC = "not a sequence allele (symbolic, breakend, '*' or missing)"
SKIP_LARGE = "indel longer than --max-indel"
_SEQUENCE = re.compile(r"^[ACGTNacgtn]+$")


@dataclass(frozen=True)
class Variant:
    """One ALT of one VCF record: index = record number (0-based, file order), alt_index = the ALT's
    number in the record (0-based), pos 1-based."""

    index: int
    alt_index: int
    chrom: str
    pos: int
    vid: str
    ref: str
    alt: str
    allele: Allele

    def label(self, path: str | Path) -> str:
        """How an error names the record: file, record number, chrom:pos REF>ALT and ID."""
        vid = f" ({self.vid})" if self.vid != "." else ""
        return f"{path}: record {self.index + 1}, {self.chrom}:{self.pos} {self.ref}>{self.alt}{vid}"


def is_plain_gzip(path: str | Path) -> bool:
    """gzip but not bgzip (BGZF: gzip with an extra field 'BC' in every block header)."""
    with open(path, "rb") as handle:
        head = handle.read(18)
    return head[:2] == b"\x1f\x8b" and not (len(head) >= 14 and head[3] & 4 and head[12:14] == b"BC")


def _gunzip(path: Path, folder: str) -> Path:
    """An uncompressed copy of a gzip file in folder; ValueError for a corrupt or truncated file."""
    copy = Path(folder) / path.name.removesuffix(".gz")
    try:
        with gzip.open(path, "rb") as src, open(copy, "wb") as dst:
            shutil.copyfileobj(src, dst, length=1 << 22)
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: not a readable gzip file ({err}); check the download") from None
    return copy


@contextmanager
def _open(path: str | Path) -> Iterator[pysam.VariantFile]:
    """The VCF/BCF open for reading; a plain-gzip one through a temporary uncompressed copy."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such VCF file (--vcf)")
    pysam.set_verbosity(0)  # htslib's warnings (e.g. a contig without ##contig line) are not errors here
    with tempfile.TemporaryDirectory(prefix="mtmixg-vcf.") as tmp:
        source = _gunzip(path, tmp) if is_plain_gzip(path) else path
        try:
            vcf = pysam.VariantFile(str(source))
        except (OSError, ValueError, NotImplementedError) as err:
            raise ValueError(f"{path}: not a readable VCF/BCF ({err})") from None
        with vcf:
            yield vcf


def read_variants(path: str | Path, contigs: dict[str, int], max_indel: int = 50) -> tuple[list[Variant], Counter]:
    """Variants of a VCF -> (one Variant per record and ALT, Counter of skipped alleles by reason).

    contigs: the genome's sequence names -> lengths. A record on another contig, or past a contig's
    end, is a ValueError naming the record (one line).
    """
    out: list[Variant] = []
    skipped: Counter = Counter()
    with _open(path) as vcf:
        try:
            for index, rec in enumerate(vcf):
                _check_contig(path, index, rec, contigs)
                for alt_index, alt in enumerate(rec.alts or ()):
                    if not alt or not _SEQUENCE.match(alt) or not _SEQUENCE.match(rec.ref):
                        skipped[SKIP_SYMBOLIC] += 1
                        continue
                    allele = Allele.trimmed(rec.pos - 1, rec.ref, alt)
                    if max(len(allele.ref), len(allele.alt)) > max_indel:
                        skipped[SKIP_LARGE] += 1
                        continue
                    out.append(Variant(index, alt_index, rec.chrom, rec.pos, rec.id or ".", rec.ref, alt, allele))
        except (OSError, ValueError) as err:
            if str(err).startswith(str(path)):
                raise
            raise ValueError(f"{path}: malformed VCF after record {len(out)} ({err})") from None
    return out, skipped


def _check_contig(path, index: int, rec, contigs: dict[str, int]) -> None:
    where = f"{path}: record {index + 1}, {rec.chrom}:{rec.pos}"
    if rec.chrom not in contigs:
        names = list(contigs)
        shown = ", ".join(names[:10]) + (f", ... ({len(names)} sequences)" if len(names) > 10 else "")
        raise ValueError(f"{where}: contig {rec.chrom!r} is not a sequence of the genome (it has: {shown}); "
                         "the VCF must be called against this genome assembly")
    if rec.pos + len(rec.ref) - 1 > contigs[rec.chrom]:
        raise ValueError(f"{where}: REF ends past the end of contig {rec.chrom!r} (length {contigs[rec.chrom]})")


def write_annotated(src: str | Path, dst: str | Path, info: dict[int, list[str]], description: str) -> None:
    """Copy VCF src to dst (bgzipped when dst ends in .gz) with INFO field INFO_KEY set on the records
    whose number is a key of info (values: one string per scored (ALT, gene)); atomic. A bgzipped
    copy of a position-sorted VCF also gets its tabix index (dst.tbi)."""
    dst = Path(dst)
    mode = "wz" if dst.name.endswith(".gz") else "w"

    def write(tmp: str) -> None:
        with _open(src) as vcf:
            header = vcf.header.copy()
            if INFO_KEY in header.info:
                raise ValueError(f"{src}: already has INFO field {INFO_KEY}; give the unannotated VCF")
            header.info.add(INFO_KEY, ".", "String", description)
            with pysam.VariantFile(tmp, mode, header=header) as out:
                for index, rec in enumerate(vcf):
                    rec.translate(header)
                    if index in info:
                        rec.info[INFO_KEY] = info[index]
                    out.write(rec)

    atomic_write(dst, write)
    if mode == "wz":
        try:
            pysam.tabix_index(str(dst), preset="vcf", force=True)
        except OSError:  # records not sorted by position: the VCF is fine, it just cannot be indexed
            Path(str(dst) + ".tbi").unlink(missing_ok=True)
