"""A small synthetic plant species whose expression is written in its DNA (the offline demo).

`make_demo(out, seed=1, genes_per_chromosome=500, read_pairs=200_000)` writes, into folder `out`:

    genome.fa.gz          chromosomes "1", "2", "3" and the unplaced "scaffold_1" (plain gzip)
    annotation.gff3.gz    Ensembl-style GFF3 (gene/mRNA/exon/CDS/UTRs; ncRNA genes too)
    cdna.fa.gz            Ensembl-style cDNA of the protein-coding transcripts
    pep.fa.gz             Ensembl-style proteins of the protein-coding transcripts (synthetic,
                          see below), with PARALOG_PAIRS planted diverged paralog pairs
    reads/                demo_pe_{1,2}.fastq.gz (2 x 75), demo_se.fastq.gz (75),
                          DEMO0001_{1,2}.fastq.gz (2 x 75; the workflow turns it into a .sra)
    truth/tpm.tsv         gene_id + the true gene TPM of each run (protein-coding genes)
    truth/genes.tsv       every gene: place, biotype, planted motifs, isoforms, true logMaxTPM
    truth/paralogs.tsv    the planted paralog pairs (gene_a, gene_b, their chromosomes)
    demo.json             seed, sizes, window, motifs, runs, chromosomes

Expression is driven by planted motifs (on the gene's strand): the activator ACT and the
repressor REP within 150 bp upstream of the TSS, the terminator TERM within 150 bp downstream of
the TTS. Each gene gets one of the MOTIF_GROUPS combinations: none, ACT, TERM, ACT+REP, TERM+REP
(ACT in 1-3 copies, TERM in 2-3, REP in 1-2). Its log10 expression is BASE_LOG10 plus MOTIF_EFFECT of
each motif present (+1 ACT, +1 TERM, -1 REP, however many copies), plus small gene and run noise.
So expression is bimodal and the binary low/high classes follow one rule: high iff (ACT or TERM)
and not REP. Each motif decides the class for a set of genes where the others are absent (ACT:
ACT vs none; TERM: TERM vs none; REP: ACT+REP vs ACT), and no single motif separates the classes.
The background genome is scrubbed of every motif (both strands), so a motif occurs in a gene's
window exactly where it was planted. Sizes fit DEMO_WINDOW. Deterministic for a given seed.

The proteins are drawn from their own random stream (genome, reads and expression do not depend
on them) and are not translations of the random cDNA. PARALOG_PAIRS pairs of genes on different
chromosomes get proteins of PARALOG_IDENTITY identity, while their cDNAs share nothing: paralogs
whose DNA diverged beyond megablast's reach but whose proteins blastp still finds (DeepCRE's
homology filter runs blastp). truth/paralogs.tsv lists them.

CLI: python -m mtmixg.demo --out DIR [--seed 1] [--genes-per-chromosome N] [--read-pairs N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .argtypes import nonnegative_int, positive_int
from .core.window_spec import WindowSpec
from .simulate_reads import RunSpec, simulate_run

DEMO_WINDOW = WindowSpec(upstream_tss=200, downstream_tss=100, spacer=20, upstream_tts=100, downstream_tts=200)
CHROMOSOMES: tuple[str, ...] = ("1", "2", "3")
SCAFFOLD = "scaffold_1"
MOTIFS: dict[str, str] = {"ACT": "CGCACGTGAC", "TERM": "TTAGCCGCTA", "REP": "GGATCCGTAG"}
MOTIF_ANCHOR: dict[str, str] = {"ACT": "TSS", "TERM": "TTS", "REP": "TSS"}  # planted upstream of the TSS / downstream of the TTS
MOTIF_EFFECT: dict[str, float] = {"ACT": 1.0, "TERM": 1.0, "REP": -1.0}  # log10, once per motif present (not per copy)
MOTIF_COPIES: dict[str, tuple[int, ...]] = {"ACT": (1, 2, 3), "TERM": (2, 3), "REP": (1, 2)}  # drawn uniformly
# the motif combinations planted and their shares of the genes: high iff (ACT or TERM) and not REP
MOTIF_GROUPS: dict[tuple[str, ...], float] = {
    (): 0.30, ("ACT",): 0.20, ("TERM",): 0.20, ("ACT", "REP"): 0.15, ("TERM", "REP"): 0.15,
}
RUNS: tuple[RunSpec, ...] = (
    RunSpec("demo_pe", "paired"),
    RunSpec("demo_se", "single"),
    RunSpec("DEMO0001", "paired"),
)
BASE_LOG10 = 0.5
GENE_NOISE_SD = 0.15
RUN_NOISE_SD = 0.1
GC = 0.36
MIN_TX_LENGTH = 400
FASTA_WIDTH = 60
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
PARALOG_PAIRS = 8
PARALOG_IDENTITY = 0.6

_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)
_CODE = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i
_COMP = np.array([3, 2, 1, 0, 4], dtype=np.uint8)


def _revcomp_str(seq: str) -> str:
    return seq.translate(str.maketrans("ACGTN", "TGCAN"))[::-1]


@dataclass
class Transcript:
    """One transcript: id, indices into its gene's exons, CDS span in transcript coordinates."""

    tx_id: str
    exon_index: list[int]
    cds: tuple[int, int] | None = None  # [lo, hi) in transcript coordinates (5'->3'), coding only
    fraction: float = 1.0  # share of the gene's expression


@dataclass
class Gene:
    """A gene; start/end 0-based half-open; exons sorted ascending on the genome."""

    gene_id: str
    chrom: str
    start: int
    end: int
    strand: str
    biotype: str
    exons: list[tuple[int, int]]
    transcripts: list[Transcript] = field(default_factory=list)
    motifs: list[tuple[str, int]] = field(default_factory=list)  # (name, offset from TSS/TTS)
    window_off_end: bool = False
    window_has_n: bool = False
    latent_log10: float = 0.0


@dataclass
class Species:
    """The generated genome (uint8 codes per sequence) and its genes."""

    sequences: dict[str, np.ndarray]
    genes: list[Gene]


# ---------------------------------------------------------------- genome layout


def _gene_structure(rng: np.random.Generator, coding: bool) -> tuple[list[int], list[int]]:
    """Exon and intron lengths of a new gene (transcript length >= MIN_TX_LENGTH)."""
    n_exons = int(rng.choice([1, 2, 3, 4, 5], p=[0.15, 0.25, 0.25, 0.2, 0.15])) if coding else int(rng.choice([1, 2]))
    exons = [int(x) for x in rng.integers(100, 451, size=n_exons)]
    introns = [int(x) for x in rng.integers(70, 401, size=n_exons - 1)]
    short = MIN_TX_LENGTH - sum(exons)
    if short > 0:
        exons[-1] += short
    return exons, introns


def _layout(rng: np.random.Generator, genes_per_chromosome: int) -> tuple[list[Gene], dict[str, int], list[tuple[str, int, int]]]:
    """Place genes along each sequence. Returns genes, sequence lengths, intergenic N runs."""
    genes: list[Gene] = []
    lengths: dict[str, int] = {}
    n_runs: list[tuple[str, int, int]] = []
    n_nc = max(2, genes_per_chromosome // 50)
    plan = {c: (genes_per_chromosome, n_nc) for c in CHROMOSOMES}
    plan[SCAFFOLD] = (2, 1)
    for chrom, (n_coding, n_noncoding) in plan.items():
        kinds = np.array([True] * n_coding + [False] * n_noncoding)
        rng.shuffle(kinds)
        if chrom != SCAFFOLD:
            kinds[0] = kinds[-1] = True  # the near-end genes are protein-coding
        pos = 0
        prev_end = None
        tag = "S" if chrom == SCAFFOLD else chrom
        for k, coding in enumerate(kinds):
            gap = int(rng.integers(450, 1501))
            if k == 0 and chrom == "1":
                gap = 50  # TSS window runs off the chromosome start
            if k == 0 and chrom == "3":
                gap = 30
            if k == 1 and chrom == "1":
                gap = 1000  # always at least one intergenic N run
            if prev_end is not None and gap >= 900 and (rng.random() < 0.15 or (k == 1 and chrom == "1")):
                n_len = int(rng.integers(50, min(300, gap - 440) + 1))
                lo = prev_end + 220 + int(rng.integers(0, gap - 440 - n_len + 1))
                n_runs.append((chrom, lo, lo + n_len))
            pos += gap
            exon_lens, intron_lens = _gene_structure(rng, bool(coding))
            exons = []
            cursor = pos
            for i, el in enumerate(exon_lens):
                exons.append((cursor, cursor + el))
                cursor += el + (intron_lens[i] if i < len(intron_lens) else 0)
            strand = "+" if rng.random() < 0.5 else "-"
            if k == 0 and chrom == "3":
                strand = "-"  # its TTS window runs off the start
            gid = f"DEMO{tag}G{(k + 1) * 10:05d}"
            genes.append(Gene(gid, chrom, exons[0][0], exons[-1][1], strand, "protein_coding" if coding else "ncRNA", exons))
            pos = exons[-1][1]
            prev_end = pos
        tail = int(rng.integers(450, 1501))
        if chrom == "2":
            tail = 80  # the last gene's window runs off the chromosome end
        lengths[chrom] = pos + tail
    return genes, lengths, n_runs


def _transcripts(rng: np.random.Generator, gene: Gene) -> None:
    """Give a gene 1-3 transcripts (alternative ones skip an internal exon) and CDS spans."""
    n = len(gene.exons)
    sets = [list(range(n))]
    if gene.biotype == "protein_coding" and n >= 3 and rng.random() < 0.4:
        for skip in range(1, min(n - 1, 3)):
            alt = [i for i in range(n) if i != skip]
            if sum(gene.exons[i][1] - gene.exons[i][0] for i in alt) >= MIN_TX_LENGTH:
                sets.append(alt)
    fractions = rng.dirichlet(np.full(len(sets), 2.0)) if len(sets) > 1 else np.ones(1)
    for j, idx in enumerate(sets):
        tx = Transcript(f"{gene.gene_id}.{j + 1}", idx, fraction=float(fractions[j]))
        if gene.biotype == "protein_coding":
            length = sum(gene.exons[i][1] - gene.exons[i][0] for i in idx)
            lo = int(rng.integers(20, 81))
            hi = length - int(rng.integers(30, 121))
            hi -= (hi - lo) % 3
            tx.cds = (lo, hi)
        gene.transcripts.append(tx)


# ---------------------------------------------------------------- motifs and sequence


def gene_to_genome(gene: Gene, anchor: str, offset: int, length: int) -> tuple[int, int]:
    """Genomic [lo, hi) of a feature at gene-oriented offset from the TSS or TTS, of given length."""
    if gene.strand == "+":
        ref = gene.start if anchor == "TSS" else gene.end - 1
        return ref + offset, ref + offset + length
    ref = gene.end - 1 if anchor == "TSS" else gene.start
    return ref - offset - length + 1, ref - offset + 1


def _write(seq: np.ndarray, lo: int, motif: str, strand: str) -> None:
    codes = _CODE[np.frombuffer(motif.encode(), dtype=np.uint8)]
    seq[lo : lo + len(motif)] = codes if strand == "+" else _COMP[codes][::-1]


def _window_inside(gene: Gene, length: int) -> bool:
    (a, b), (c, d) = DEMO_WINDOW.genomic_pieces(gene.start, gene.end, gene.strand)
    return min(a, c) >= 0 and max(b, d) <= length


def _patterns() -> list[re.Pattern[bytes]]:
    seqs = set(MOTIFS.values()) | {_revcomp_str(m) for m in MOTIFS.values()}
    return [re.compile(b"(?=" + s.encode() + b")") for s in sorted(seqs)]


def _scrub(rng: np.random.Generator, seq: np.ndarray, protected: np.ndarray) -> int:
    """Mutate every motif occurrence that does not cover only protected bases. Returns hits fixed."""
    fixed = 0
    pats = _patterns()
    mlen = len(next(iter(MOTIFS.values())))
    while True:
        text = _LETTERS[seq].tobytes()
        hits = [m.start() for p in pats for m in p.finditer(text)]
        hits = [h for h in hits if not protected[h : h + mlen].all()]
        if not hits:
            return fixed
        for h in hits:
            free = np.flatnonzero(~protected[h : h + mlen])
            i = h + int(rng.choice(free))
            seq[i] = (seq[i] + int(rng.integers(1, 4))) % 4
            fixed += 1


# motif starts (10 bp motifs, +0-2 jitter, 13 bp apart: they never overlap), per anchor:
# upstream of the TSS -150 .. -20, downstream of the TTS 10 .. 140
_SLOTS: dict[str, np.ndarray] = {"TSS": np.arange(-150, -19, 13), "TTS": np.arange(10, 141, 13)}


def _motif_offsets(rng: np.random.Generator) -> list[tuple[str, int]]:
    """(motif, offset from its anchor) for one gene: a MOTIF_GROUPS combination, MOTIF_COPIES each."""
    groups = list(MOTIF_GROUPS)
    group = groups[int(rng.choice(len(groups), p=list(MOTIF_GROUPS.values())))]
    names = [name for name in group for _ in range(int(rng.choice(MOTIF_COPIES[name])))]
    wanted = []
    for anchor, slots in _SLOTS.items():
        here = [name for name in names if MOTIF_ANCHOR[name] == anchor]
        chosen = rng.choice(slots, size=len(here), replace=False) + rng.integers(0, 3, size=len(here))
        wanted += [(name, int(o)) for name, o in zip(here, chosen, strict=True)]
    return wanted


def build_species(seed: int = 1, genes_per_chromosome: int = 500) -> Species:
    """Generate the genome, genes, transcripts and planted motifs (no expression yet)."""
    if genes_per_chromosome < 4:
        raise ValueError(f"genes_per_chromosome must be at least 4, got {genes_per_chromosome}")
    rng = np.random.default_rng(seed)
    genes, lengths, n_runs = _layout(rng, genes_per_chromosome)
    p = [(1 - GC) / 2, GC / 2, GC / 2, (1 - GC) / 2]
    seqs = {c: rng.choice(4, size=n, p=p).astype(np.uint8) for c, n in lengths.items()}
    protected = {c: np.zeros(n, dtype=bool) for c, n in lengths.items()}
    for chrom, lo, hi in n_runs:
        seqs[chrom][lo:hi] = 4
    for gene in genes:
        _transcripts(rng, gene)
        gene.window_off_end = not _window_inside(gene, lengths[gene.chrom])
    # an N run inside the promoter window of two ordinary genes (away from the motif slots)
    ordinary = [g for g in genes if g.biotype == "protein_coding" and not g.window_off_end and g.chrom != SCAFFOLD]
    for gene in {id(g): g for g in (ordinary[1], ordinary[len(ordinary) // 2])}.values():
        lo, hi = gene_to_genome(gene, "TSS", -195, 25)
        seqs[gene.chrom][lo:hi] = 4
        gene.window_has_n = True
    for chrom in seqs:
        _scrub(rng, seqs[chrom], protected[chrom])
    mlen = len(MOTIFS["ACT"])
    for gene in genes:
        seq = seqs[gene.chrom]
        for name, offset in _motif_offsets(rng):
            lo, hi = gene_to_genome(gene, MOTIF_ANCHOR[name], offset, mlen)
            if lo < 0 or hi > len(seq) or (seq[lo:hi] == 4).any():
                continue  # off the sequence end: not planted
            _write(seq, lo, MOTIFS[name], gene.strand)
            protected[gene.chrom][lo:hi] = True
            gene.motifs.append((name, offset))
        present = {m for m, _ in gene.motifs}
        gene.latent_log10 = BASE_LOG10 + sum(MOTIF_EFFECT[m] for m in present) + rng.normal(0.0, GENE_NOISE_SD)
    for chrom in seqs:  # planting may have made a motif across a junction: remove it
        _scrub(rng, seqs[chrom], protected[chrom])
    return Species(seqs, genes)


# ---------------------------------------------------------------- transcripts and expression


def transcript_codes(species: Species, gene: Gene, tx: Transcript) -> np.ndarray:
    """uint8 codes of a transcript's spliced exons in transcript orientation, shape (len,)."""
    seq = species.sequences[gene.chrom]
    codes = np.concatenate([seq[gene.exons[i][0] : gene.exons[i][1]] for i in tx.exon_index])
    return codes if gene.strand == "+" else _COMP[codes][::-1]


def run_abundance(rng: np.random.Generator, species: Species) -> np.ndarray:
    """Relative abundance (TPM-proportional) of every transcript in one run, shape (T,).

    Gene level = 10 ** (latent_log10 + N(0, RUN_NOISE_SD)), split among isoforms by their fractions.
    """
    values = []
    for gene in species.genes:
        level = 10.0 ** (gene.latent_log10 + rng.normal(0.0, RUN_NOISE_SD))
        values.extend(level * tx.fraction for tx in gene.transcripts)
    return np.asarray(values)


# ---------------------------------------------------------------- writers


def _fasta_lines(name: str, codes: np.ndarray) -> bytes:
    text = _LETTERS[codes].tobytes()
    body = b"\n".join(text[i : i + FASTA_WIDTH] for i in range(0, len(text), FASTA_WIDTH))
    return b">" + name.encode() + b"\n" + body + b"\n"


def _write_gz(path: Path, data: bytes) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz:
        gz.write(data)


def _tx_segments(gene: Gene, tx: Transcript, lo: int, hi: int) -> list[tuple[int, int]]:
    """Genomic [s, e) pieces of transcript coordinates [lo, hi) (5'->3'), ascending on the genome."""
    exons = [gene.exons[i] for i in tx.exon_index]
    if gene.strand == "-":
        exons = exons[::-1]
    out, pos = [], 0
    for s, e in exons:
        n = e - s
        a, b = max(lo, pos), min(hi, pos + n)
        if a < b:
            out.append((s + a - pos, s + b - pos) if gene.strand == "+" else (e - (b - pos), e - (a - pos)))
        pos += n
    return sorted(out)


def _gff3(species: Species) -> bytes:
    lines = ["##gff-version 3"]
    for chrom, seq in species.sequences.items():
        lines.append(f"##sequence-region   {chrom} 1 {len(seq)}")
    for chrom, seq in species.sequences.items():
        kind = "supercontig" if chrom == SCAFFOLD else "chromosome"
        lines.append(f"{chrom}\tdemo\t{kind}\t1\t{len(seq)}\t.\t.\t.\tID={kind}:{chrom}")
        first_nc = True
        for gene in (g for g in species.genes if g.chrom == chrom):
            coding = gene.biotype == "protein_coding"
            # Ensembl types ncRNA genes 'ncRNA_gene'; chromosome 1's first one is typed 'gene' so
            # that only its biotype excludes it
            gtype = "gene" if coding or (chrom == "1" and first_nc) else "ncRNA_gene"
            first_nc = first_nc and coding
            s = gene.strand
            lines.append(
                f"{chrom}\tdemo\t{gtype}\t{gene.start + 1}\t{gene.end}\t.\t{s}\t.\tID=gene:{gene.gene_id};"
                f"Name={gene.gene_id.replace('DEMO', 'dm')};biotype={gene.biotype};gene_id={gene.gene_id};logic_name=demo"
            )
            for tx in gene.transcripts:
                exons = [gene.exons[i] for i in tx.exon_index]
                ttype = "mRNA" if coding else "ncRNA"
                lines.append(
                    f"{chrom}\tdemo\t{ttype}\t{exons[0][0] + 1}\t{exons[-1][1]}\t.\t{s}\t.\tID=transcript:{tx.tx_id};"
                    f"Parent=gene:{gene.gene_id};biotype={gene.biotype};transcript_id={tx.tx_id}"
                )
                feats: list[tuple[int, int, str, str, str]] = []  # lo, hi, type, attributes, phase
                ordered = exons if s == "+" else exons[::-1]
                for rank, (a, b) in enumerate(ordered, 1):
                    feats.append((a, b, "exon", f"Parent=transcript:{tx.tx_id};Name={tx.tx_id}.exon{rank};exon_id={tx.tx_id}.exon{rank};rank={rank}", "."))
                if tx.cds is not None:
                    length = sum(b - a for a, b in exons)
                    for a, b in _tx_segments(gene, tx, 0, tx.cds[0]):
                        feats.append((a, b, "five_prime_UTR", f"Parent=transcript:{tx.tx_id}", "."))
                    for a, b in _tx_segments(gene, tx, tx.cds[1], length):
                        feats.append((a, b, "three_prime_UTR", f"Parent=transcript:{tx.tx_id}", "."))
                    done = 0
                    cds = _tx_segments(gene, tx, *tx.cds)
                    for a, b in cds if s == "+" else cds[::-1]:
                        phase = str((3 - done % 3) % 3)
                        feats.append((a, b, "CDS", f"ID=CDS:{tx.tx_id};Parent=transcript:{tx.tx_id};protein_id={tx.tx_id}", phase))
                        done += b - a
                for a, b, ftype, attrs, phase in sorted(feats, key=lambda f: (f[0], f[2] != "exon")):
                    lines.append(f"{chrom}\tdemo\t{ftype}\t{a + 1}\t{b}\t.\t{s}\t{phase}\t{attrs}")
            lines.append("###")
    return ("\n".join(lines) + "\n").encode()


def _cdna(species: Species) -> bytes:
    parts = []
    for gene in species.genes:
        if gene.biotype != "protein_coding":
            continue
        for tx in gene.transcripts:
            exons = [gene.exons[i] for i in tx.exon_index]
            level = "scaffold" if gene.chrom == SCAFFOLD else "chromosome"
            strand = 1 if gene.strand == "+" else -1
            header = (
                f"{tx.tx_id} cdna {level}:DEMO:{gene.chrom}:{exons[0][0] + 1}:{exons[-1][1]}:{strand} "
                f"gene:{gene.gene_id} gene_biotype:protein_coding transcript_biotype:protein_coding"
            )
            parts.append(_fasta_lines(header, transcript_codes(species, gene, tx)))
    return b"".join(parts)


def _proteins(species: Species, seed: int) -> tuple[bytes, list[tuple[Gene, Gene]]]:
    """Ensembl-style pep FASTA of the protein-coding transcripts and the planted paralog pairs.

    Each gene gets a random protein as long as its first CDS; an isoform's protein is its prefix
    of the isoform's CDS length. The second gene of a pair takes the first's protein with a
    (1 - PARALOG_IDENTITY) share of residues replaced. Protein IDs are '<transcript>.p' (IDs differ
    from transcript IDs, as in maize; the gene comes from the 'gene:' field).
    """
    rng = np.random.default_rng([seed, 2])
    letters = np.frombuffer(AMINO_ACIDS.encode(), dtype=np.uint8)
    coding = [g for g in species.genes if g.biotype == "protein_coding"]
    base: dict[str, np.ndarray] = {}  # gene -> protein as indices into AMINO_ACIDS
    for gene in coding:
        cds = gene.transcripts[0].cds
        protein = rng.integers(0, len(letters), size=(cds[1] - cds[0]) // 3)
        protein[0] = AMINO_ACIDS.index("M")
        base[gene.gene_id] = protein
    unused = {c: [g for g in coding if g.chrom == c] for c in CHROMOSOMES}  # taken from the end
    pairs: list[tuple[Gene, Gene]] = []
    for k in range(PARALOG_PAIRS):
        chrom_a, chrom_b = CHROMOSOMES[k % 3], CHROMOSOMES[(k + 1) % 3]
        if not unused[chrom_a] or not unused[chrom_b]:
            break  # a tiny demo: fewer pairs
        a, b = unused[chrom_a].pop(), unused[chrom_b].pop()
        copy = base[a.gene_id].copy()
        changed = rng.random(len(copy)) > PARALOG_IDENTITY
        changed[0] = False
        copy[changed] = (copy[changed] + rng.integers(1, len(letters), changed.sum())) % len(letters)  # another residue
        base[b.gene_id] = copy
        pairs.append((a, b))
    parts = []
    for gene in coding:
        for tx in gene.transcripts:
            protein = base[gene.gene_id][: (tx.cds[1] - tx.cds[0]) // 3]
            exons = [gene.exons[i] for i in tx.exon_index]
            level = "scaffold" if gene.chrom == SCAFFOLD else "chromosome"
            strand = 1 if gene.strand == "+" else -1
            header = (
                f"{tx.tx_id}.p pep {level}:DEMO:{gene.chrom}:{exons[0][0] + 1}:{exons[-1][1]}:{strand} "
                f"gene:{gene.gene_id} transcript:{tx.tx_id} gene_biotype:protein_coding "
                "transcript_biotype:protein_coding"
            )
            text = letters[protein].tobytes()
            body = b"\n".join(text[i : i + FASTA_WIDTH] for i in range(0, len(text), FASTA_WIDTH))
            parts.append(b">" + header.encode() + b"\n" + body + b"\n")
    return b"".join(parts), pairs


def _motif_string(gene: Gene) -> str:
    return ",".join(f"{name}@{offset}" for name, offset in gene.motifs) or "-"


# ---------------------------------------------------------------- the whole demo


def _prepare_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "demo.json").exists())):
        raise FileExistsError(f"--out {out}: exists and is not an empty folder or an earlier demo; refusing to overwrite it")


def make_demo(
    out: str | Path,
    seed: int = 1,
    genes_per_chromosome: int = 500,
    read_pairs: int = 200_000,
    runs: tuple[RunSpec, ...] = RUNS,
) -> dict:
    """Write the whole demo species into folder out (built in a temporary sibling, then renamed).

    Returns the content of demo.json plus "generation_seconds". An earlier demo in out is replaced;
    any other non-empty out is refused (FileExistsError).
    """
    if read_pairs < 1:
        raise ValueError(f"read_pairs must be positive, got {read_pairs}")
    out = Path(out)
    _prepare_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp"))
    try:
        meta = _generate(tmp, seed, genes_per_chromosome, read_pairs, runs)
        for path in [tmp, *tmp.rglob("*")]:  # mkdtemp/mkstemp make private files: use the usual modes
            path.chmod(0o755 if path.is_dir() else 0o644)
        (tmp / "demo.json").write_text(json.dumps(meta, indent=2) + "\n")
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".old"))
            os.replace(out, old / "demo")
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    meta["generation_seconds"] = round(time.perf_counter() - started, 2)  # not in demo.json: files stay reproducible
    return meta



def demo_job(outputs: Sequence[str | Path], meta: str | Path, seed: int = 1, genes_per_chromosome: int = 500,
             read_pairs: int = 200_000) -> dict:
    """Generate the demo into a temporary sibling of meta's folder and move each of outputs there
    (rule demo_species): file by file, as the folder (resources/demo/) also holds other rules'
    files. outputs are paths under meta's folder, meta (demo.json) among them. Returns make_demo's dict."""
    out = Path(meta).parent
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=".demo."))
    try:
        info = make_demo(tmp / "demo", seed=seed, genes_per_chromosome=genes_per_chromosome, read_pairs=read_pairs)
        for target in outputs:
            source = tmp / "demo" / Path(target).relative_to(out)
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
        print(f"demo: {info['n_genes']} genes, {len(info['runs'])} runs", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return info

def _generate(folder: Path, seed: int, genes_per_chromosome: int, read_pairs: int, runs: tuple[RunSpec, ...]) -> dict:
    species = build_species(seed, genes_per_chromosome)
    rng = np.random.default_rng([seed, 1])
    genome = b"".join(_fasta_lines(c, s) for c, s in species.sequences.items())
    _write_gz(folder / "genome.fa.gz", genome)
    _write_gz(folder / "annotation.gff3.gz", _gff3(species))
    _write_gz(folder / "cdna.fa.gz", _cdna(species))
    pep, paralogs = _proteins(species, seed)
    _write_gz(folder / "pep.fa.gz", pep)

    pairs = [(g, tx) for g in species.genes for tx in g.transcripts]
    tx_codes = [transcript_codes(species, g, tx) for g, tx in pairs]
    lengths = np.array([len(c) for c in tx_codes], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    transcriptome = np.concatenate(tx_codes)
    coding = np.array([g.biotype == "protein_coding" for g, _ in pairs])
    gene_of = np.array([i for i, g in enumerate(species.genes) for _ in g.transcripts])

    n_genes = len(species.genes)
    tpm = np.zeros((n_genes, len(runs)))
    for j, run in enumerate(runs):
        abundance = run_abundance(rng, species)
        tx_tpm = 1e6 * abundance / abundance[coding].sum()  # TPM over the quantifiable (cDNA) set
        np.add.at(tpm[:, j], gene_of, tx_tpm)
        simulate_run(rng, transcriptome, offsets, lengths, abundance, read_pairs, run, folder / "reads")

    truth = folder / "truth"
    truth.mkdir()
    names = [r.name for r in runs]
    rows = ["gene_id\t" + "\t".join(names)]
    for i, g in enumerate(species.genes):
        if g.biotype == "protein_coding":
            rows.append(g.gene_id + "\t" + "\t".join(f"{v:.4f}" for v in tpm[i]))
    (truth / "tpm.tsv").write_text("\n".join(rows) + "\n")
    cols = "gene_id chrom start0 end strand biotype motifs n_isoforms log_max_tpm_true n_act has_term has_rep window_off_end window_has_n"
    rows = ["\t".join(cols.split())]
    for i, g in enumerate(species.genes):
        kinds = [m for m, _ in g.motifs]
        rows.append(
            "\t".join(
                str(v)
                for v in (
                    g.gene_id, g.chrom, g.start, g.end, g.strand, g.biotype, _motif_string(g), len(g.transcripts),
                    f"{np.log10(tpm[i].max() + 1):.5f}", kinds.count("ACT"), int("TERM" in kinds), int("REP" in kinds),
                    int(g.window_off_end), int(g.window_has_n),
                )
            )
        )
    (truth / "genes.tsv").write_text("\n".join(rows) + "\n")
    rows = ["gene_a\tchrom_a\tgene_b\tchrom_b"] + [f"{a.gene_id}\t{a.chrom}\t{b.gene_id}\t{b.chrom}" for a, b in paralogs]
    (truth / "paralogs.tsv").write_text("\n".join(rows) + "\n")
    return {
        "mtmixg_version": __version__,
        "seed": seed,
        "genes_per_chromosome": genes_per_chromosome,
        "read_pairs": read_pairs,
        "n_genes": n_genes,
        "n_protein_coding": int(sum(g.biotype == "protein_coding" for g in species.genes)),
        "n_transcripts": len(pairs),
        "chromosomes": list(CHROMOSOMES),
        "scaffolds": [SCAFFOLD],
        "sequence_lengths": {c: int(len(s)) for c, s in species.sequences.items()},
        "window": DEMO_WINDOW.to_dict(),
        "motifs": dict(MOTIFS),
        "motif_effects_log10": dict(MOTIF_EFFECT),
        "motif_groups": [{"motifs": list(g), "share": share} for g, share in MOTIF_GROUPS.items()],
        "runs": [
            {**r.to_dict(), "n_reads": read_pairs, "files": [f"reads/{n}" for n in r.fastq_names()]} for r in runs
        ],
        "files": {
            "genome": "genome.fa.gz",
            "annotation": "annotation.gff3.gz",
            "cdna": "cdna.fa.gz",
            "pep": "pep.fa.gz",
            "truth_tpm": "truth/tpm.tsv",
            "truth_genes": "truth/genes.tsv",
            "truth_paralogs": "truth/paralogs.tsv",
        },
    }


def main(argv: list[str] | None = None) -> int:
    """`mtmixg demo` / `python -m mtmixg.demo`: write the demo species into --out."""
    parser = argparse.ArgumentParser(prog="mtmixg demo", description="Write a small synthetic plant species (genome, GFF3, cDNA, reads, truth).")
    parser.add_argument("--out", required=True, help="output folder (must be absent, empty, or an earlier demo)")
    parser.add_argument("--seed", type=nonnegative_int, default=1, help="random seed (default 1)")
    parser.add_argument("--genes-per-chromosome", type=positive_int, default=500, help="protein-coding genes per chromosome (default 500)")
    parser.add_argument("--read-pairs", type=positive_int, default=200_000, help="read pairs (or single reads) per run (default 200000)")
    args = parser.parse_args(argv)
    try:
        meta = make_demo(args.out, args.seed, args.genes_per_chromosome, args.read_pairs)
    except (ValueError, FileExistsError) as err:
        print(f"mtmixg demo: error: {err}", file=sys.stderr)
        return 2
    print(f"mtmixg demo: wrote {meta['n_genes']} genes, {len(meta['runs'])} runs into {args.out} in {meta['generation_seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
