"""Throughput of `mtmixg score-variants` (variant alleles per second); prints a markdown table.

    python bench/bench_variant_effects.py [--threads 2] [--genes 20] [--per-gene 20] [--quick]

A random genome with --genes protein-coding genes and --per-gene variants in each gene's window
(80 % SNPs, 20 % 1-5 bp indels), scored end to end by score_variants (window cutting, the batched
forward passes, the table) with untrained models of two sizes:
- demo: config/demo/config.yaml's small model on the demo window (620 bp), as the demo trains it;
- full: the paper's model (ModelConfig defaults) on DeepCRE's 3,020-bp window.
One model per run (a species folder averages its seeds: divide by the number of seeds).
Process start-up and model loading (~seconds, once per run) are not included.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from mtmixg.demo import DEMO_WINDOW
from mtmixg.core.model_config import ModelConfig
from mtmixg.models.architectures import build_model
from mtmixg.core.window_spec import WindowSpec
from mtmixg.variant_effects.models import ScoringModel
from mtmixg.variant_effects.score import score_variants

REPO = Path(__file__).resolve().parents[1]


def make_inputs(folder: Path, spec: WindowSpec, genes: int, per_gene: int, seed: int = 0) -> tuple[Path, Path, Path]:
    """genome.fa, annotation.gff3 and variants.vcf (sorted) in folder."""
    rng = np.random.default_rng(seed)
    span = spec.length + 2000
    seq = rng.choice(list("ACGT"), genes * span + 2000)
    gff, records = ["##gff-version 3"], []
    for g in range(genes):
        start, end = 1000 + g * span + spec.upstream_tss, 1000 + g * span + spec.upstream_tss + 1500
        strand = "+-"[g % 2]
        gff.append(f"1\tb\tgene\t{start + 1}\t{end}\t.\t{strand}\t.\tID=gene:g{g};biotype=protein_coding")
        for lo, hi in spec.genomic_pieces(start, end, strand):
            for pos in sorted(rng.choice(np.arange(lo + 6, hi - 6), per_gene // 2, replace=False)):
                ref = "".join(seq[pos : pos + 1])
                kind = rng.random()
                if kind < 0.8:
                    ref, alt = seq[pos], rng.choice([b for b in "ACGT" if b != seq[pos]])
                elif kind < 0.9:
                    alt = ref + "".join(rng.choice(list("ACGT"), int(rng.integers(1, 6))))
                else:
                    ref = "".join(seq[pos : pos + int(rng.integers(2, 7))])
                    alt = ref[0]
                records.append((pos + 1, ref, alt))
    (folder / "genome.fa").write_text(">1\n" + "".join(seq) + "\n")
    (folder / "annotation.gff3").write_text("\n".join(gff) + "\n")
    header = ["##fileformat=VCFv4.2", f"##contig=<ID=1,length={len(seq)}>", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    body = [f"1\t{p}\t.\t{r}\t{a}\t.\t.\t." for p, r, a in sorted(records)]
    (folder / "variants.vcf").write_text("\n".join(header + body) + "\n")
    return folder / "genome.fa", folder / "annotation.gff3", folder / "variants.vcf"


def models() -> dict[str, tuple[dict, WindowSpec]]:
    demo_cfg = yaml.safe_load((REPO / "config/demo/config.yaml").read_text())["model"]
    return {"demo": (demo_cfg, DEMO_WINDOW), "full": ({}, WindowSpec())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--genes", type=int, default=20)
    parser.add_argument("--per-gene", type=int, default=20)
    parser.add_argument("--archs", nargs="+", default=["cnn", "mtmixg"])
    parser.add_argument("--quick", action="store_true", help="10 genes x 20 variants (about 1 min at 3,020 bp for cnn, minutes for mtmixg)")
    args = parser.parse_args()
    if args.quick:
        args.genes, args.per_gene = 10, 20
    torch.set_num_threads(args.threads)
    print(f"threads {args.threads}, {args.genes} genes x {args.per_gene} variants\n")
    print("| size | window | arch | variant alleles | rows | seconds | variants/s |")
    print("|---|---|---|---|---|---|---|")
    for size, (values, spec) in models().items():
        with tempfile.TemporaryDirectory() as tmp:
            genome, gff, vcf = make_inputs(Path(tmp), spec, args.genes, args.per_gene)
            for arch in args.archs:
                cfg = ModelConfig.from_dict({**values, "arch": arch, "seq_len": spec.length})
                scoring = [ScoringModel(arch, build_model(cfg).eval(), None)]
                start = time.perf_counter()
                scores = score_variants(scoring, "binary", spec, str(genome), str(gff), str(vcf))
                seconds = time.perf_counter() - start
                n = scores.counts["variant alleles scored"]
                print(f"| {size} | {spec.length} | {arch} | {n} | {len(scores.table)} | {seconds:.1f} | {n / seconds:.0f} |")


if __name__ == "__main__":
    main()
