#!/usr/bin/env python3
"""The workflow's read path on a real transcriptome: simulated reads at real leaf TPMs.

    python bench/bench_readpath.py DEVSET_DIR [--work DIR] [--fragments N] [--cores 2]

DEVSET_DIR holds the development set (cdna.fa, annotation.gff3, genome.fa, tpm.tsv; each may be
gzipped): A. thaliana chromosome 1 genes and the real leaf TPM of 14 runs. For every run (TPM
column) one sample of reads is simulated (mtmixg.simulate_reads) from the real cDNA: each gene's
TPM is split over its isoforms by mtmixg.simulate_reads.isoform_shares (halving shares, the first
isoform dominant); the samples alternate PE and SE. Then the workflow itself (Snakemake, target
results/<species>/expression/labels.tsv) trims (sickle), quantifies (kallisto), summarises per
gene (tximport lengthScaledTPM) and labels; its logMaxTPM and labels are compared with the
table's. Prints one markdown table (Spearman, label agreement, thresholds, timing) and the genes
that disagree most. --json writes the figures for tests.

The table's TPMs were computed over the whole genome, so on the development set's genes they sum
to about 170,000 per run, while kallisto's sum to 10^6 over the transcripts it is given: the
thresholds are compared with the table's own and with the table renormalised to 10^6 per run
over the genes that have cDNA (the scale the workflow can reach on this transcript set). Ranks
and labels are not affected by that scale.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "model"))

from mtmixg.data.labels import make_labels, read_tpm
from mtmixg.simulate_reads import RunSpec, encode_dna, isoform_shares, simulate_run

SPECIES = "readpath"
CLASS_NAMES = {-1: "low", 0: "medium", 1: "high"}


def find(folder: Path, name: str, required: bool = True) -> Path:
    """folder/name or folder/name.gz, whichever exists (not required: folder/name regardless)."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    if not required:
        return folder / name
    raise SystemExit(f"bench_readpath: error: {folder} has no {name} (or {name}.gz)")


def read_cdna(path: Path) -> pd.DataFrame:
    """cDNA FASTA (Ensembl headers with gene:ID) -> DataFrame(transcript, gene, seq), file order."""
    rows, head, chunks = [], None, []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                if head:
                    rows.append((*head, "".join(chunks)))
                words = line[1:].split()
                gene = next((w[5:] for w in words if w.startswith("gene:")), words[0].rsplit(".", 1)[0])
                head, chunks = (words[0], gene), []
            else:
                chunks.append(line.strip())
    if head:
        rows.append((*head, "".join(chunks)))
    return pd.DataFrame(rows, columns=["transcript", "gene", "seq"])


def transcript_tpm(cdna: pd.DataFrame, tpm: pd.DataFrame) -> pd.DataFrame:
    """Gene TPM (genes x runs) -> transcript TPM (transcripts x runs), split by isoform_shares."""
    share = cdna.groupby("gene", sort=False)["transcript"].transform(lambda t: pd.Series(isoform_shares(len(t)), index=t.index))
    gene_tpm = tpm.reindex(cdna["gene"]).fillna(0.0).to_numpy()
    return pd.DataFrame(gene_tpm * share.to_numpy()[:, None], index=cdna["transcript"], columns=tpm.columns)


def simulate(cdna: pd.DataFrame, tx_tpm: pd.DataFrame, fragments: int, reads: Path, seed: int) -> list[dict]:
    """One sample per TPM column (PE, SE alternating) into reads/; returns sample-sheet rows."""
    codes = [encode_dna(s) for s in cdna["seq"]]
    lengths = np.array([len(c) for c in codes], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    transcriptome = np.concatenate(codes)
    rows = []
    for j, name in enumerate(tx_tpm.columns):
        run = RunSpec(name, "paired" if j % 2 == 0 else "single", read_length=100, fragment_mean=250.0, fragment_sd=30.0)
        rng = np.random.default_rng([seed, j])
        paths = simulate_run(rng, transcriptome, offsets, lengths, tx_tpm[name].to_numpy(), fragments, run, reads, truncated=True)
        row = {"species": SPECIES, "sample": name, "layout": "PE" if run.layout == "paired" else "SE",
               "fq1": str(paths[0]), "fq2": str(paths[1]) if len(paths) > 1 else "",
               "fragment_length_mean": "" if len(paths) > 1 else run.fragment_mean,
               "fragment_length_sd": "" if len(paths) > 1 else run.fragment_sd}
        rows.append(row)
    return rows


def write_config(devset: Path, work: Path, rows: list[dict], cores: int) -> Path:
    """The species config and sample sheet of the run; returns the config path."""
    pd.DataFrame(rows).to_csv(work / "samples.tsv", sep="\t", index=False)
    config = {
        "species": {SPECIES: {
            "genome": str(find(devset, "genome.fa", required=False)),  # not read on the way to the labels
            "annotation": str(find(devset, "annotation.gff3")),
            "cdna": str(find(devset, "cdna.fa")),
            "chromosomes": ["1A", "1B", "1C"],
        }},
        "samples": str(work / "samples.tsv"),
        "kallisto": {"threads": cores},
    }
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_workflow(work: Path, config: Path, cores: int) -> None:
    """Snakemake up to the labels of the species, in work/; exits with its log on failure."""
    target = f"results/{SPECIES}/expression/labels.tsv"
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(work),
           "--cores", str(cores), target, "--configfile", str(config)]
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'model'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    done = subprocess.run(cmd, check=False, cwd=work, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-6000:])
        raise SystemExit(f"bench_readpath: error: the workflow failed (exit {done.returncode}); see above and {work}/logs")


K = 31


def shared_kmer_fraction(cdna: pd.DataFrame) -> pd.Series:
    """Per gene: the fraction of its distinct 31-mers (either strand) also found in another
    gene's cDNA, i.e. the part of it where kallisto cannot tell it from a paralog. Index gene."""
    gene_codes = pd.factorize(cdna["gene"])
    kmers, owners = [], []
    for seq, gene in zip(cdna["seq"], gene_codes[0]):
        codes = encode_dna(seq).astype(np.uint64)
        if len(codes) < K or (codes > 3).any():
            continue
        windows = np.lib.stride_tricks.sliding_window_view(codes, K)
        weights = np.uint64(4) ** np.arange(K - 1, -1, -1, dtype=np.uint64)
        fwd = (windows * weights).sum(axis=1, dtype=np.uint64)
        rev = ((np.uint64(3) - windows[:, ::-1]) * weights).sum(axis=1, dtype=np.uint64)
        kmers.append(np.minimum(fwd, rev))
        owners.append(np.full(len(fwd), gene))
    table = pd.DataFrame({"kmer": np.concatenate(kmers), "gene": np.concatenate(owners)}).drop_duplicates()
    shared = table["kmer"].duplicated(keep=False)
    fraction = shared.groupby(table["gene"]).mean()
    return pd.Series(fraction.to_numpy(), index=gene_codes[1][fraction.index], name="shared_kmers")


def cause(row: pd.Series) -> str:
    """The likeliest cause of a gene's label disagreement: boundary when our logMaxTPM is within
    0.2 of the table's (a small error that crossed a threshold), else the first of: paralog (>= 10 %
    of its 31-mers shared with another gene), short (longest cDNA < 500 b), isoforms (several),
    else noise (few reads)."""
    if abs(row["diff"]) <= 0.2:
        return "boundary"
    if row["shared_kmers"] >= 0.1:
        return "paralog"
    if row["max_length"] < 500:
        return "short"
    if row["n_isoforms"] > 1:
        return "isoforms"
    return "noise"


def compare(truth_tpm: pd.DataFrame, cdna: pd.DataFrame, work: Path) -> dict:
    """The workflow's labels against the table's: figures and the genes that disagree most."""
    ours = pd.read_csv(work / f"results/{SPECIES}/expression/labels.tsv", sep="\t", index_col="gene_id")
    ours_thr = pd.read_csv(work / f"results/{SPECIES}/expression/thresholds.tsv", sep="\t").iloc[0]
    quantified = truth_tpm.loc[truth_tpm.index.isin(cdna["gene"])]
    renormed = quantified * (1e6 / quantified.sum(axis=0))
    truth, thr = make_labels(truth_tpm)
    _, thr_renormed = make_labels(renormed)
    truth_re, _ = make_labels(renormed)
    truth = truth.set_index("gene_id").join(truth_re.set_index("gene_id")[["logMaxTPM"]].add_suffix("_renormed"))
    both = truth.join(ours.add_suffix("_ours"), how="inner")
    rho = float(both["logMaxTPM"].corr(both["logMaxTPM_ours"], method="spearman"))
    agree = float((both["label"] == both["label_ours"]).mean())
    both["diff"] = both["logMaxTPM_ours"] - both["logMaxTPM_renormed"]
    lengths = cdna.assign(length=cdna["seq"].str.len()).groupby("gene").agg(
        n_isoforms=("transcript", "size"), max_length=("length", "max"))
    both = both.join(lengths).join(shared_kmer_fraction(cdna)).fillna({"shared_kmers": 0.0})
    wrong = both[both["label"] != both["label_ours"]].copy()
    wrong["cause"] = [cause(r) for _, r in wrong.iterrows()]
    worst = wrong.reindex(wrong["diff"].abs().sort_values(ascending=False).index).head(15)
    return {
        "genes_table": len(truth_tpm), "genes_ours": len(ours), "genes_compared": len(both),
        "spearman": rho, "label_agreement": agree,
        "p25_table": thr["p25"], "p75_table": thr["p75"],
        "p25_table_renormed": thr_renormed["p25"], "p75_table_renormed": thr_renormed["p75"],
        "p25_ours": float(ours_thr["p25"]), "p75_ours": float(ours_thr["p75"]),
        "disagree_n": len(wrong),
        "disagree_by_cause": {k: int(v) for k, v in wrong["cause"].value_counts().items()},
        "genes_by_cause": {"paralog": int((both["shared_kmers"] >= 0.1).sum()),
                           "short": int((both["max_length"] < 500).sum()),
                           "isoforms": int((both["n_isoforms"] > 1).sum())},
        "worst": worst.reset_index()[["gene_id", "logMaxTPM_renormed", "logMaxTPM_ours", "diff", "label", "label_ours", "n_isoforms", "max_length", "shared_kmers", "cause"]].to_dict("records"),
    }


def goal(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(fig: dict, seconds: dict, fragments: int, samples: int) -> str:
    """The markdown table of the figures and the timing."""
    d25 = fig["p25_ours"] - fig["p25_table_renormed"]
    d75 = fig["p75_ours"] - fig["p75_table_renormed"]
    lines = [
        f"Read path on {fig['genes_compared']} real genes, {samples} samples (PE/SE alternating), {fragments:,} fragments each",
        "",
        "| figure | value | goal |",
        "|---|---|---|",
        f"| Spearman of logMaxTPM | {fig['spearman']:.4f} | >= 0.95: {goal(fig['spearman'] >= 0.95)} |",
        f"| label agreement (low/medium/high) | {100 * fig['label_agreement']:.2f} % ({fig['disagree_n']} differ) | >= 95 %: {goal(fig['label_agreement'] >= 0.95)} |",
        f"| p25 ours / table renormalised / table | {fig['p25_ours']:.3f} / {fig['p25_table_renormed']:.3f} / {fig['p25_table']:.3f} | within 0.05 of renormalised: {goal(abs(d25) <= 0.05)} ({d25:+.3f}) |",
        f"| p75 ours / table renormalised / table | {fig['p75_ours']:.3f} / {fig['p75_table_renormed']:.3f} / {fig['p75_table']:.3f} | within 0.05 of renormalised: {goal(abs(d75) <= 0.05)} ({d75:+.3f}) |",
        f"| time: simulate / workflow / total | {seconds['simulate']:.0f} s / {seconds['workflow']:.0f} s / {seconds['total']:.0f} s | total <= 900 s: {goal(seconds['total'] <= 900)} |",
        "",
        (f"Disagreeing labels by likeliest cause (bench_readpath.cause): {fig['disagree_by_cause']}; "
         f"genes with >= 10 % shared 31-mers, longest cDNA < 500 b, several isoforms: {fig['genes_by_cause']}"),
        "",
        "| gene | logMaxTPM table (renormalised) | ours | diff | label table | ours | isoforms | longest cDNA | shared 31-mers | cause |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in fig["worst"]:
        lines.append(
            f"| {w['gene_id']} | {w['logMaxTPM_renormed']:.3f} | {w['logMaxTPM_ours']:.3f} | {w['diff']:+.3f} | "
            f"{CLASS_NAMES[w['label']]} | {CLASS_NAMES[w['label_ours']]} | {w['n_isoforms']} | {w['max_length']} | {100 * w['shared_kmers']:.0f} % | {w['cause']} |"
        )
    return "\n".join(lines)


def write_subset(devset: Path, out: Path, genes: int, seed: int) -> None:
    """A small development set in out/ (cdna.fa.gz, annotation.gff3.gz, tpm.tsv.gz; no genome):
    `genes` genes drawn at random (seeded) from those with cDNA, with all their isoforms."""
    out.mkdir(parents=True, exist_ok=True)
    cdna = read_cdna(find(devset, "cdna.fa"))
    names = cdna["gene"].drop_duplicates()
    keep = set(names.sample(n=genes, random_state=seed))
    opener = gzip.open if find(devset, "cdna.fa").suffix == ".gz" else open
    records, take = [], False
    with opener(find(devset, "cdna.fa"), "rt") as fh:
        for line in fh:
            if line.startswith(">"):
                take = next((w[5:] for w in line.split() if w.startswith("gene:")), "") in keep
            if take:
                records.append(line)
    gff_path = find(devset, "annotation.gff3")
    opener = gzip.open if gff_path.suffix == ".gz" else open
    with opener(gff_path, "rt") as fh:
        gff = [line for line in fh if line.startswith("#") or _gene_of_gff(line) in keep]
    tpm = read_tpm(find(devset, "tpm.tsv"))
    for name, text in (("cdna.fa.gz", "".join(records)), ("annotation.gff3.gz", "".join(gff)),
                       ("tpm.tsv.gz", tpm.loc[tpm.index.isin(keep)].to_csv(sep="\t"))):
        with gzip.GzipFile(out / name, "wb", compresslevel=9, mtime=0) as gz:
            gz.write(text.encode())


def _gene_of_gff(line: str) -> str:
    """The gene ID of a GFF line of the development set (ID=gene:X, Parent=gene:X or
    Parent=transcript:X.n), else ''."""
    for key in ("ID=gene:", "Parent=gene:", "Parent=transcript:"):
        if key in line:
            value = line.split(key, 1)[1].split(";", 1)[0].strip()
            return value.rsplit(".", 1)[0] if key == "Parent=transcript:" else value
    return ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("devset", type=Path, help="development-set folder (cdna.fa, annotation.gff3, genome.fa, tpm.tsv)")
    parser.add_argument("--work", type=Path, help="working folder (default: a new one in the system temp folder)")
    parser.add_argument("--fragments", type=int, default=1_000_000, help="fragments (read pairs) per sample")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, help="use only the table's first RUNS runs (default: all)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--write-subset", type=Path, metavar="OUT",
                        help="instead: write a small development set of --genes random genes to OUT")
    parser.add_argument("--genes", type=int, default=200)
    args = parser.parse_args(argv)
    if args.write_subset:
        write_subset(args.devset, args.write_subset, args.genes, args.seed)
        return
    start = time.monotonic()
    args.work = args.work or Path(tempfile.mkdtemp(prefix="bench_readpath."))
    args.work.mkdir(parents=True, exist_ok=True)
    print(f"working folder: {args.work}", file=sys.stderr)
    tpm = read_tpm(find(args.devset, "tpm.tsv"))
    tpm = tpm.iloc[:, : args.runs] if args.runs else tpm
    cdna = read_cdna(find(args.devset, "cdna.fa"))
    rows = simulate(cdna, transcript_tpm(cdna, tpm), args.fragments, args.work.resolve() / "reads", args.seed)
    simulated = time.monotonic()
    run_workflow(args.work.resolve(), write_config(args.devset.resolve(), args.work.resolve(), rows, args.cores), args.cores)
    done = time.monotonic()
    fig = compare(tpm, cdna, args.work)
    seconds = {"simulate": simulated - start, "workflow": done - simulated, "total": done - start}
    print(report(fig, seconds, args.fragments, len(rows)))
    if args.json:
        args.json.write_text(json.dumps({**fig, "seconds": seconds}, indent=1, default=float))


if __name__ == "__main__":
    main()
