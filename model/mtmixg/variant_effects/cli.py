"""`mtmixg score-variants MODELS --genome G --gff3 A --vcf V --out T [--vcf-out V2]`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..argtypes import positive_int
from ..tasks import CLASS_NAMES
from .models import load_scoring_models
from .score import report, score_variants
from .vcf import INFO_KEY, write_annotated


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", nargs="+", metavar="MODELS",
                   help="model.pt file(s), folder(s) holding one, or a species' model folder "
                        "(e.g. results/<species>/models/mtmixg): each gene is then scored by the models that "
                        "held out its chromosome, averaged over seeds")
    p.add_argument("--genome", required=True, help="genome FASTA, uncompressed (a .fai is built beside it if missing)")
    p.add_argument("--gff3", required=True, help="GFF3 annotation of the genome (plain or gzip)")
    p.add_argument("--vcf", required=True, help="variants: VCF, bgzipped VCF or BCF (indexed or not)")
    p.add_argument("--out", required=True, help="output TSV, one row per (variant ALT, gene)")
    p.add_argument("--vcf-out", help=f"the input VCF with INFO field {INFO_KEY} added (default: in --out's folder, "
                                     "named after --vcf with .mtmixg.vcf.gz: --vcf calls.vcf.gz --out res/calls.tsv "
                                     "writes res/calls.mtmixg.vcf.gz; never the input itself)")
    p.add_argument("--skip-mismatch", action="store_true",
                   help="skip (and count) records whose REF differs from the genome instead of stopping")
    p.add_argument("--max-indel", type=positive_int, default=50, help="longest REF/ALT change scored, in bases (default 50)")
    p.add_argument("--batch-size", type=positive_int, default=256)
    p.add_argument("--threads", type=positive_int, help="CPU threads for torch")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")


VCF_SUFFIXES = (".vcf.gz", ".vcf.bgz", ".vcf", ".bcf")


def vcf_out_path(out: str | Path, vcf: str | Path) -> Path:
    """Default --vcf-out: in out's folder, vcf's name with its VCF suffix replaced by .mtmixg.vcf.gz
    (a name one part longer than vcf's, so never vcf itself)."""
    name = Path(vcf).name
    for suffix in VCF_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return Path(out).with_name(name + ".mtmixg.vcf.gz")


def main(args: argparse.Namespace) -> int:
    import torch

    from ..cli import device_arg, model_files, write_table
    from ..core.clobber import refuse_overwrite

    for path, what in ((args.genome, "--genome"), (args.gff3, "--gff3"), (args.vcf, "--vcf")):
        if not Path(path).is_file():
            raise ValueError(f"{path}: no such file ({what})")
    vcf_out = args.vcf_out or vcf_out_path(args.out, args.vcf)
    models = [("MODELS", path) for m in args.models for path in ([m] if Path(m).is_dir() else model_files(m).values())]
    refuse_overwrite([*models, ("--genome", args.genome), ("--gff3", args.gff3), ("--vcf", args.vcf)],
                     outputs={"--out": args.out, "--vcf-out": vcf_out, "--vcf-out's index": f"{vcf_out}.tbi"})
    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    models, meta = load_scoring_models(args.models, device=device_arg(args.device))
    task = meta["task"]
    scores = score_variants(models, task, meta["window_spec"], args.genome, args.gff3, args.vcf,
                            skip_mismatch=args.skip_mismatch, max_indel=args.max_indel, batch_size=args.batch_size)
    classes = "|".join(f"delta_P({c})" for c in CLASS_NAMES[task][-1 if task == "binary" else 0 :])
    description = (f"mtmixg predicted effect on the gene's expression class, per scored (ALT, gene): "
                   f"ALT|gene_id|{classes} (alt - ref)")
    write_annotated(args.vcf, vcf_out, scores.info, description)
    write_table(args.out, scores.table)
    seconds = time.perf_counter() - started
    report(scores.counts)
    n = scores.counts["variant alleles scored"]
    print(f"mtmixg score-variants: {len(scores.table)} rows -> {args.out} in {seconds:.1f} s "
          f"({n / seconds if seconds else 0:.0f} variant alleles/s)", file=sys.stderr)
    return 0
