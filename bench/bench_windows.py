"""Benchmark: gene-window extraction of an A. thaliana-sized genome, mtmixg vs samtools faidx.

Generates (in a temp dir) a random 5-chromosome genome of ~120 Mb with N runs and ~27k genes
(GFF3), then runs each step in its own subprocess and reports wall time, genes/s and peak RSS
(resource.getrusage(RUSAGE_CHILDREN) in a fresh wrapper process per step):

    mtmixg: read GFF3 -> protein_coding_genes ; extract_windows + np.save of the (N, L) array
    samtools faidx -r regions (plus pieces) and -i -r regions (minus pieces, reverse-complemented),
    then parsing its FASTA output into the same (N, L) array (what a samtools-based rule must do)

Both extraction runs use an existing .fai; index builds are timed on their own rows.
Usage: nice python bench/bench_windows.py [--scale 1.0] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHROM_MB = {"1": 30.4, "2": 19.7, "3": 23.5, "4": 18.6, "5": 27.0}
N_GENES = 27_000

MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
wall = time.perf_counter() - t
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"rc": done.returncode, "wall": wall, "peak_mb": peak_kb / 1024}))
"""

EXTRACT = r"""
import sys, time
import numpy as np, pandas as pd
from mtmixg.data.genome import extract_windows
from mtmixg.core.window_spec import WindowSpec
genes = pd.read_csv(sys.argv[2], sep="\t", dtype={"chrom": str})
t = time.perf_counter()
codes, kept, skipped = extract_windows(sys.argv[1], genes, WindowSpec(), chromosomes=["1", "2", "3", "4", "5"])
seconds = time.perf_counter() - t
with open(sys.argv[3], "wb") as handle:
    np.save(handle, codes)
assert len(skipped) == 0, skipped
with open(sys.argv[4], "w") as handle:
    handle.write(str(seconds))
"""

PARSE_GFF = r"""
import sys
from mtmixg.data.gff import protein_coding_genes
genes = protein_coding_genes(sys.argv[1])
genes.to_csv(sys.argv[2], sep="\t", index=False)
"""

PARSE_SAMTOOLS = r"""
import sys
import numpy as np, pandas as pd
from mtmixg.data.sequence import encode
def pieces(path):
    with open(path) as handle:
        return iter([encode("".join(rec.split("\n")[1:])) for rec in handle.read().split(">")[1:]])
genes = pd.read_csv(sys.argv[1], sep="\t", dtype={"chrom": str})
out = np.full((len(genes), 3020), 4, dtype=np.uint8)
it = {"+": pieces(sys.argv[2]), "-": pieces(sys.argv[3])}
for row, strand in enumerate(genes["strand"]):
    out[row, :1500] = next(it[strand])
    out[row, 1520:] = next(it[strand])
with open(sys.argv[4], "wb") as handle:
    np.save(handle, out)
"""

BUILD_FAI = r"""
import sys
from mtmixg.data.fasta import build_fai
build_fai(sys.argv[1])
"""


def write_genome(folder: Path, scale: float, rng: np.random.Generator) -> tuple[Path, dict[str, int]]:
    """Random ACGT genome with N runs, 60 bases per line; returns (path, lengths)."""
    path = folder / "genome.fa"
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    lengths = {}
    with open(path, "wb") as handle:
        for name, mb in CHROM_MB.items():
            n = int(mb * 1e6 * scale)
            seq = letters[rng.integers(0, 4, size=n, dtype=np.uint8)]
            for lo in rng.integers(0, n - 20_000, size=max(1, n // 1_000_000)):  # ~1 N run per Mb
                seq[lo : lo + int(rng.integers(100, 20_000))] = ord("N")
            handle.write(f">{name} dna:chromosome chromosome:BENCH:{name}:1:{n}:1 REF\n".encode())
            full = n // 60 * 60
            block = np.empty((full // 60, 61), dtype=np.uint8)
            block[:, :60] = seq[:full].reshape(-1, 60)
            block[:, 60] = ord("\n")
            block.tofile(handle)
            if n > full:
                handle.write(seq[full:].tobytes() + b"\n")
            lengths[name] = n
    return path, lengths


def write_genes(folder: Path, lengths: dict[str, int], n_genes: int, rng: np.random.Generator) -> tuple[Path, Path, Path, int]:
    """GFF3 (gene + mRNA lines) and samtools region files; every window fits its chromosome."""
    total = sum(lengths.values())
    gff, plus_regions, minus_regions = folder / "genes.gff3", folder / "plus.txt", folder / "minus.txt"
    count = 0
    with open(gff, "w") as g, open(plus_regions, "w") as p, open(minus_regions, "w") as m:
        g.write("##gff-version 3\n")
        for name, n in lengths.items():
            k = round(n_genes * n / total)
            starts = np.sort(rng.integers(2_000, n - 8_000, size=k))
            sizes = rng.integers(300, 5_000, size=k)
            strands = rng.choice(["+", "-"], size=k)
            for i, (s, size, strand) in enumerate(zip(starts, sizes, strands)):
                e = s + size  # 0-based half-open
                gid = f"BENCH{name}G{i:05d}"
                g.write(f"{name}\tbench\tgene\t{s + 1}\t{e}\t.\t{strand}\t.\tID=gene:{gid};biotype=protein_coding\n")
                g.write(f"{name}\tbench\tmRNA\t{s + 1}\t{e}\t.\t{strand}\t.\tID=transcript:{gid}.1;Parent=gene:{gid}\n")
                if strand == "+":  # 1-based closed regions of the TSS and TTS pieces (DeepCRE sizes)
                    p.write(f"{name}:{s - 1000 + 1}-{s + 500}\n{name}:{e - 500 + 1}-{e + 1000}\n")
                else:
                    m.write(f"{name}:{e - 500 + 1}-{e + 1000}\n{name}:{s - 1000 + 1}-{s + 500}\n")
            count += k
    return gff, plus_regions, minus_regions, count


def read_pieces(path: Path) -> list[str]:
    records: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            records.append("")
        else:
            records[-1] += line.strip()
    return records


def compare_with_samtools(folder: Path) -> int:
    """Windows (in the genes.tsv order) that differ between mtmixg and samtools' output."""
    import pandas as pd

    from mtmixg.data.sequence import encode

    genes = pd.read_csv(folder / "genes.tsv", sep="\t", dtype={"chrom": str})
    codes = np.load(folder / "windows.npy", mmap_mode="r")
    pieces = {"+": iter(read_pieces(folder / "plus.fa")), "-": iter(read_pieces(folder / "minus.fa"))}
    differ = 0
    for row, strand in enumerate(genes["strand"]):
        window = next(pieces[strand]) + "N" * 20 + next(pieces[strand])
        differ += not np.array_equal(encode(window), codes[row])
    return differ


def measure(cmd: list[str]) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, *cmd], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"{cmd} exited {result['rc']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="genome size factor (1.0 = ~120 Mb)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    if shutil.which("samtools") is None:
        sys.exit("samtools not found")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="mtmixg_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        rng = np.random.default_rng(1)
        genome, lengths = write_genome(folder, args.scale, rng)
        gff, plus_r, minus_r, n_genes = write_genes(folder, lengths, int(N_GENES * args.scale) or 100, rng)
        py = sys.executable
        rows = []
        rows.append(("index: samtools faidx", None, measure(["samtools", "faidx", str(genome)])))
        Path(str(genome) + ".fai").unlink()
        rows.append(("index: mtmixg build_fai (pyfaidx)", None, measure([py, "-c", BUILD_FAI, str(genome)])))
        subprocess.run(["samtools", "faidx", str(genome)], check=True)  # both below use this index
        genes_tsv = folder / "genes.tsv"
        rows.append(("GFF3 -> protein_coding_genes", n_genes, measure([py, "-c", PARSE_GFF, str(gff), str(genes_tsv)])))
        rows.append((
            "windows: mtmixg extract_windows (+ np.save)",
            n_genes,
            measure([py, "-c", EXTRACT, str(genome), str(genes_tsv), str(folder / "windows.npy"), str(folder / "t.txt")]),
        ))
        inner = float((folder / "t.txt").read_text())
        rows.append(("  of which extract_windows() call itself", n_genes, {"wall": inner, "peak_mb": float("nan")}))
        sam_plus = measure(["samtools", "faidx", str(genome), "-r", str(plus_r), "-o", str(folder / "plus.fa")])
        sam_minus = measure(["samtools", "faidx", "-i", str(genome), "-r", str(minus_r), "-o", str(folder / "minus.fa")])
        combined = {"wall": sam_plus["wall"] + sam_minus["wall"], "peak_mb": max(sam_plus["peak_mb"], sam_minus["peak_mb"])}
        rows.append(("windows: samtools faidx -r (+) and -i -r (-)", n_genes, combined))
        parse = measure([
            py, "-c", PARSE_SAMTOOLS, str(genes_tsv), str(folder / "plus.fa"), str(folder / "minus.fa"),
            str(folder / "samtools_windows.npy"),
        ])
        rows.append(("  + parsing its FASTA into the (N, L) array (Python)", n_genes, parse))
        total = {"wall": combined["wall"] + parse["wall"], "peak_mb": max(combined["peak_mb"], parse["peak_mb"])}
        rows.append(("windows: samtools route, total", n_genes, total))
        out_mb = (folder / "windows.npy").stat().st_size / 2**20
        mismatches = compare_with_samtools(folder)
        print(
            f"\nGenome {sum(lengths.values()) / 1e6:.1f} Mb in {len(lengths)} chromosomes (largest "
            f"{max(lengths.values()) / 1e6:.1f} Mb); {n_genes:,} genes, window 3,020; output array {out_mb:.0f} MiB; "
            f"windows differing from samtools': {mismatches}\n"
        )
        print("| step | wall s | genes/s | peak RSS MiB |")
        print("|---|---:|---:|---:|")
        for name, n, r in rows:
            rate = f"{n / r['wall']:,.0f}" if n else "-"
            peak = "-" if r["peak_mb"] != r["peak_mb"] else f"{r['peak_mb']:.0f}"
            print(f"| {name} | {r['wall']:.2f} | {rate} | {peak} |")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
