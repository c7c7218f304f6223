"""Variant effects (mtmixg.variant_effects, `mtmixg score-variants`, rule variant_effects).

Windows with an allele (SNP; indels keep TSS/TTS anchored), VCF reading with pysam, the CLI on a
small genome with untrained models (held-out model choice, agreement with `predict` on the edited
genome, one-line errors), and the proof on the demo workflow: SNPs breaking a planted activator
lower the predicted probability of "high", background SNPs barely move it.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest
from training_data import tiny_model

from mtmixg.checkpoint import load_model, save_model
from mtmixg.cli import main
from mtmixg.data.genome import extract_windows
from mtmixg.data.gff import protein_coding_genes
from mtmixg.models.architectures import build_model
from mtmixg.predict import predict
from mtmixg.data.sequence import reverse_complement
from mtmixg.core.window_spec import WindowSpec
from mtmixg.variant_effects.alleles import Allele, window_with_allele
from mtmixg.variant_effects.vcf import INFO_KEY, SKIP_LARGE, SKIP_SYMBOLIC, read_variants

SPEC = WindowSpec(12, 6, 2, 6, 12)
SMALL = WindowSpec(60, 30, 0, 30, 60)  # training_data.SPEC: the tiny model's window


def _letters(seq: str) -> np.ndarray:
    return np.frombuffer(seq.encode(), dtype=np.uint8)


def _expected(genome: str, start: int, end: int, strand: str, spec: WindowSpec, pos: int, ref: str, alt: str) -> str:
    """The window cut from the edited haplotype, each piece placed so that its anchor base keeps its index."""
    hap = genome[:pos] + alt + genome[pos + len(ref):]
    shift = len(alt) - len(ref)
    tss, tts = (start, end - 1) if strand == "+" else (end - 1, start)
    pieces = []
    for (lo, hi), anchor in zip(spec.genomic_pieces(start, end, strand), (tss, tts)):
        moved = shift if anchor >= pos + len(ref) else 0  # where the anchor base sits on the haplotype
        piece = hap[lo + moved : hi + moved]
        pieces.append(piece if strand == "+" else reverse_complement(piece))
    return pieces[0] + "N" * spec.spacer + pieces[1]


@pytest.mark.parametrize("strand", ["+", "-"])
def test_snp_changes_exactly_its_base(strand):
    rng = np.random.default_rng(1)
    genome = "".join(rng.choice(list("ACGT"), 200))
    start, end = 60, 140
    ref_window = window_with_allele(_letters(genome), "c", start, end, strand, SPEC, None)
    (lo, hi), _ = SPEC.genomic_pieces(start, end, strand)
    for pos in range(lo, hi):
        alt = "A" if genome[pos] != "A" else "C"
        window = window_with_allele(_letters(genome), "c", start, end, strand, SPEC, Allele.trimmed(pos, genome[pos], alt))
        diff = [i for i in range(SPEC.length) if window[i] != ref_window[i]]
        assert len(diff) == 1
        assert window[diff[0]] == (alt if strand == "+" else reverse_complement(alt))
        assert window == _expected(genome, start, end, strand, SPEC, pos, genome[pos], alt)


@pytest.mark.parametrize("strand", ["+", "-"])
def test_indels_keep_tss_and_tts_at_their_index(strand):
    rng = np.random.default_rng(2)
    genome = "".join(rng.choice(list("ACGT"), 300))
    start, end = 100, 200
    ref_window = window_with_allele(_letters(genome), "c", start, end, strand, SPEC, None)
    pieces = SPEC.genomic_pieces(start, end, strand)
    anchors = (start, end - 1) if strand == "+" else (end - 1, start)
    n = 0
    for (lo, hi), anchor in zip(pieces, anchors):
        for pos in range(lo - 3, hi + 3):
            for ref_len, alt in ((1, "GTTAC"), (4, ""), (2, "T"), (0, "CCA")):
                if pos <= anchor < pos + ref_len:
                    continue  # the anchor itself deleted: its own test
                ref = genome[pos : pos + ref_len]
                allele = Allele(pos, ref, alt)
                window = window_with_allele(_letters(genome), "c", start, end, strand, SPEC, allele)
                assert len(window) == SPEC.length
                assert window == _expected(genome, start, end, strand, SPEC, pos, ref, alt), (pos, ref, alt)
                assert window[SPEC.tss_index] == ref_window[SPEC.tss_index]
                assert window[SPEC.tts_index] == ref_window[SPEC.tts_index]
                n += 1
    assert n > 100


def test_worked_example_of_an_insertion_and_a_deletion():
    """'+' gene, TSS at genome 20: the bases between variant and TSS stay, the far end moves."""
    genome = "ACGTACGTAC" "GGGGGCCCCC" "TTTTTAAAAA" "CACACACACA" * 3
    spec = WindowSpec(10, 5, 0, 1, 1)
    letters = _letters(genome)
    ref = window_with_allele(letters, "c", 20, 60, "+", spec, None)
    assert ref[:15] == "GGGGGCCCCC" "TTTTT"
    ins = window_with_allele(letters, "c", 20, 60, "+", spec, Allele.trimmed(15, "C", "CAA"))  # VCF 16 C>CAA
    assert ins[:15] == "GGGCAACCCC" "TTTTT"  # upstream end pushed out by 2
    dele = window_with_allele(letters, "c", 20, 60, "+", spec, Allele.trimmed(15, "CCC", "C"))  # VCF 16 CCC>C
    assert dele[:15] == "ACGGGGGCCC" "TTTTT"  # 2 more genome bases come in upstream
    down = window_with_allele(letters, "c", 20, 60, "+", spec, Allele.trimmed(21, "TT", "T"))  # VCF 22 TT>T
    assert down[:15] == "GGGGGCCCCC" "TTTTA"  # downstream of the TSS: the 3' end moves


@pytest.mark.parametrize("strand", ["+", "-"])
def test_deletion_of_the_anchor_keeps_the_upstream_half(strand):
    rng = np.random.default_rng(3)
    genome = "".join(rng.choice(list("ACGT"), 300))
    start, end = 100, 200
    tss = start if strand == "+" else end - 1
    ref_window = window_with_allele(_letters(genome), "c", start, end, strand, SPEC, None)
    window = window_with_allele(_letters(genome), "c", start, end, strand, SPEC, Allele(tss - 1, genome[tss - 1 : tss + 2], ""))
    up = SPEC.upstream_tss - 1  # the deletion starts one base 5' of the TSS, on either strand
    assert window[:up] == ref_window[:up]  # 5' of the deletion: in place
    assert window != ref_window
    assert window[SPEC.tss_length :] == ref_window[SPEC.tss_length :]  # the TTS piece is untouched


def test_trimmed_alleles():
    assert Allele.trimmed(9, "A", "ATT") == Allele(10, "", "TT")
    assert Allele.trimmed(9, "ACG", "A") == Allele(10, "CG", "")
    assert Allele.trimmed(9, "ACGT", "AGGT") == Allele(10, "C", "G")
    assert Allele.trimmed(9, "c", "t") == Allele(9, "C", "T")


# ---------------------------------------------------------------- VCF


def _vcf_text(records: list[str], contigs=(("1", 3000), ("2", 3000))) -> str:
    head = ["##fileformat=VCFv4.2", *(f"##contig=<ID={c},length={n}>" for c, n in contigs),
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    return "\n".join(head + records) + "\n"


def _write_vcf(path: Path, records: list[str], compress: bool = False, **kw) -> Path:
    path.write_text(_vcf_text(records, **kw))
    if compress:
        gz = pysam.tabix_index(str(path), preset="vcf", force=True)  # bgzips and indexes
        return Path(gz)
    return path


@pytest.mark.parametrize("compress", [False, True])
def test_read_variants_one_per_alt_and_skips_non_sequence(tmp_path, compress):
    records = ["1\t10\tm\tA\tC,G,<DEL>\t.\t.\t.", "1\t20\t.\tAC\tA\t.\t.\t.", "2\t5\tbig\tA\tA" + "T" * 60 + "\t.\t.\t.",
               "2\t30\tstar\tA\t*\t.\t.\t."]
    path = _write_vcf(tmp_path / "v.vcf", records, compress)
    assert path.name.endswith(".gz") == compress and (not compress or Path(str(path) + ".tbi").is_file())
    variants, skipped = read_variants(path, {"1": 3000, "2": 3000})
    assert [(v.index, v.alt_index, v.chrom, v.pos, v.vid, v.ref, v.alt) for v in variants] == [
        (0, 0, "1", 10, "m", "A", "C"), (0, 1, "1", 10, "m", "A", "G"), (1, 0, "1", 20, ".", "AC", "A")]
    assert variants[2].allele == Allele(20, "C", "")
    assert skipped == {SKIP_SYMBOLIC: 2, SKIP_LARGE: 1}


def test_unknown_contig_names_the_record(tmp_path):
    path = _write_vcf(tmp_path / "v.vcf", ["1\t10\t.\tA\tC\t.\t.\t.", "chr7\t15\trs9\tG\tT\t.\t.\t."],
                      contigs=(("1", 3000), ("chr7", 100)))
    with pytest.raises(ValueError, match=r"v.vcf: record 2, chr7:15: contig 'chr7' is not a sequence of the genome \(it has: 1, 2\)"):
        read_variants(path, {"1": 3000, "2": 3000})


# ---------------------------------------------------------------- the command on a small genome


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> dict:
    """Genome (chromosomes 1, 2, 3), GFF3 and untrained tiny models: a ternary one, and a species
    folder with seeds 0/1 x held-out chromosomes 1/2 (none holds out 3) plus an all-chromosome one."""
    root = tmp_path_factory.mktemp("small")
    rng = np.random.default_rng(4)
    chroms = {c: "".join(rng.choice(list("ACGT"), 3000)) for c in ("1", "2", "3")}
    (root / "g.fa").write_text("".join(f">{c}\n{s}\n" for c, s in chroms.items()))
    genes = [("gA", "1", 500, 1400, "+"), ("gB", "1", 1450, 2700, "-"), ("gC", "2", 700, 1200, "+"),
             ("gD", "3", 700, 1200, "-")]
    (root / "a.gff3").write_text("##gff-version 3\n" + "".join(
        f"{c}\tt\tgene\t{s + 1}\t{e}\t.\t{st}\t.\tID=gene:{g};biotype=protein_coding\n" for g, c, s, e, st in genes))
    meta = {"task": "binary", "window": SMALL.to_dict()}
    for seed in (0, 1):
        for fold in ("1", "2"):
            cfg = tiny_model()
            save_model(root / "models" / f"seed{seed}" / fold / "model.pt", build_model(cfg),
                       {**meta, "model": cfg.to_dict(), "fold": fold, "seed": seed})
    cfg = tiny_model()  # trained on every chromosome: never used among fold models
    save_model(root / "models" / "seed0" / "all" / "model.pt", build_model(cfg), {**meta, "model": cfg.to_dict(), "fold": "all"})
    cfg = tiny_model(n_outputs=3)
    save_model(root / "ternary" / "model.pt", build_model(cfg), {"task": "ternary", "window": SMALL.to_dict(),
                                                                   "model": cfg.to_dict(), "fold": "all"})
    return {"root": root, "chroms": chroms, "genes": genes}


def _small_vcf(small: dict, tmp_path: Path, extra: list[str] = ()) -> Path:
    c1 = small["chroms"]["1"]
    records = [
        f"1\t{1420}\tboth\t{c1[1419]}\t{'A' if c1[1419] != 'A' else 'C'}\t.\t.\t.",  # in gA's TTS and gB's window
        f"1\t{480}\tmulti\t{c1[479]}\t{','.join(b for b in 'ACGT' if b != c1[479])}\t.\t.\t.",
        f"1\t{460}\tins\t{c1[459]}\t{c1[459]}TTGACA\t.\t.\t.",
        f"1\t{2720}\tdel\t{c1[2719:2724]}\t{c1[2719]}\t.\t.\t.",
        f"1\t{100}\tfar\t{c1[99]}\t{'A' if c1[99] != 'A' else 'C'}\t.\t.\t.",  # in no window
        f"2\t{690}\tc\t{small['chroms']['2'][689]}\tN\t.\t.\t.",
        f"3\t{1210}\tnomodel\t{small['chroms']['3'][1209]}\tN\t.\t.\t.",
        *extra,
    ]
    records.sort(key=lambda r: (r.split("\t")[0], int(r.split("\t")[1])))  # tabix wants sorted records
    return _write_vcf(tmp_path / "in.vcf", records, compress=True, contigs=[(c, 3000) for c in "123"])


def _run(small: dict, models: str, vcf: Path, out: Path, *more: str) -> int:
    return main(["score-variants", models, "--genome", str(small["root"] / "g.fa"), "--gff3",
                 str(small["root"] / "a.gff3"), "--vcf", str(vcf), "--out", str(out), *more])


def test_species_folder_scores_each_gene_with_its_held_out_models(small, tmp_path, capsys):
    vcf = _small_vcf(small, tmp_path)
    assert _run(small, str(small["root"] / "models"), vcf, tmp_path / "s.tsv", "--threads", "1") == 0
    table = pd.read_csv(tmp_path / "s.tsv", sep="\t", dtype={"chrom": str})
    pairs = list(zip(table["id"], table["gene_id"], table["alt"]))
    assert sorted(table.loc[table["id"] == "both", "gene_id"]) == ["gA", "gB"]  # one row per (variant, gene)
    assert sorted(a for i, g, a in pairs if i == "multi") == sorted(b for b in "ACGT" if b != small["chroms"]["1"][479])
    assert {i for i, _, _ in pairs} == {"both", "multi", "ins", "del", "c"}  # 'far': no window; 'nomodel': chr 3
    assert set(table.loc[table.chrom == "1", "models"]) == {"seed0/1,seed1/1"}
    assert set(table.loc[table.chrom == "2", "models"]) == {"seed0/2,seed1/2"}
    assert table["held_out"].all() and (table["n_models"] == 2).all()
    np.testing.assert_allclose(table["delta_prob"], table["prob_alt"] - table["prob_ref"], atol=2e-6)
    err = capsys.readouterr().err
    assert "gene's chromosome held out by none of the models: 1" in err and "outside every gene window: 1" in err
    # the annotated VCF: every input record, INFO on the scored ones
    with pysam.VariantFile(str(tmp_path / "in.mtmixg.vcf.gz")) as annotated:  # default --vcf-out
        info = {rec.id: rec.info.get(INFO_KEY) for rec in annotated}
    assert len(info) == 7 and info["far"] is None and info["nomodel"] is None
    assert sorted(e.split("|")[1] for e in info["both"]) == ["gA", "gB"]
    assert len(info["multi"]) == 3


def test_lone_model_equals_predict_on_the_edited_genome(small, tmp_path):
    """A SNP's prob_alt is what `predict` gives on a genome carrying it; prob_ref on the genome as is."""
    vcf = _small_vcf(small, tmp_path)
    lone = str(small["root"] / "models" / "seed0" / "1" / "model.pt")
    assert _run(small, lone, vcf, tmp_path / "l.tsv") == 0
    table = pd.read_csv(tmp_path / "l.tsv", sep="\t", dtype={"chrom": str})
    assert set(table["id"]) == {"both", "multi", "ins", "del", "c", "nomodel"}  # a lone model scores every gene
    assert table.set_index("id")["held_out"].to_dict()["c"] == False  # noqa: E712 (chr 2 was in its training)
    model, meta = load_model(lone)
    genes = protein_coding_genes(small["root"] / "a.gff3")
    for row in table[table.ref.str.len() == table.alt.str.len()].itertuples():
        for edit, column in ((None, "prob_ref"), (row.alt, "prob_alt")):
            chroms = dict(small["chroms"])
            if edit:
                seq = chroms[row.chrom]
                chroms[row.chrom] = seq[: row.pos - 1] + edit + seq[row.pos :]
            (tmp_path / "e.fa").write_text("".join(f">{c}\n{s}\n" for c, s in chroms.items()))
            codes, kept, _ = extract_windows(tmp_path / "e.fa", genes, SMALL)
            i = kept.index[kept.gene_id == row.gene_id][0]
            expected = predict(model, codes[i : i + 1], "binary")[0]
            assert getattr(row, column) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert (table["delta_prob"].abs() > 0).any()


def test_ternary_gives_every_class(small, tmp_path):
    vcf = _small_vcf(small, tmp_path)
    assert _run(small, str(small["root"] / "ternary"), vcf, tmp_path / "t.tsv") == 0
    table = pd.read_csv(tmp_path / "t.tsv", sep="\t")
    deltas = table[[f"delta_prob_{c}" for c in ("low", "medium", "high")]].sum(axis=1)
    np.testing.assert_allclose(deltas, 0, atol=1e-5)
    assert {"prob_low_ref", "prob_medium_alt", "prob_high_ref"} <= set(table.columns)


def test_ref_mismatch_is_one_line_or_a_counted_skip(small, tmp_path, capsys):
    c2 = small["chroms"]["2"]
    wrong = next(b for b in "ACGT" if b != c2[1000])
    vcf = _small_vcf(small, tmp_path, extra=[f"2\t1001\tbad\t{wrong}\tN\t.\t.\t."])
    out = tmp_path / "m.tsv"
    assert _run(small, str(small["root"] / "models"), vcf, out) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"in.vcf.gz: record 7, 2:1001 {wrong}>N (bad): REF {wrong} differs from the genome's {c2[1000]}" in err
    assert not out.exists() and not (tmp_path / "m.vcf.gz").exists()
    assert _run(small, str(small["root"] / "models"), vcf, out, "--skip-mismatch") == 0
    assert "REF differs from the genome: 1" in capsys.readouterr().err
    assert "bad" not in set(pd.read_csv(out, sep="\t")["id"])


def test_unknown_contig_is_one_line(small, tmp_path):
    vcf = _write_vcf(tmp_path / "u.vcf", ["1\t10\t.\tA\tC\t.\t.\t.", "Chr1\t15\t.\tG\tT\t.\t.\t."],
                     contigs=(("1", 3000), ("Chr1", 3000)))
    done = subprocess.run([sys.executable, "-m", "mtmixg.cli", "score-variants", str(small["root"] / "models"), "--genome",
                           str(small["root"] / "g.fa"), "--gff3", str(small["root"] / "a.gff3"), "--vcf", str(vcf),
                           "--out", str(tmp_path / "u.tsv")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"mtmixg: error: {vcf}: record 2, Chr1:15: contig 'Chr1' is not a sequence of the "
                                   "genome (it has: 1, 2, 3); the VCF must be called against this genome assembly")


# ---------------------------------------------------------------- the proof on the demo workflow


def demo_proof(workdir: Path, variant: str) -> dict:
    """Figures of the demo's proof VCF as scored by rule variant_effects (one variant's models)."""
    table = pd.read_csv(workdir / f"results/demo/variant_effects/{variant}/variants.tsv", sep="\t", dtype={"chrom": str})
    own = table[table["id"].str.split(":").str[1] == table["gene_id"]]  # the row of the gene the SNP was made for
    act = own[own["id"].str.startswith("ACT_break:")]
    background = own[own["id"].str.startswith("background:")]
    return {"act": act, "background": background, "act_mean": act["delta_prob"].mean(),
            "background_mean_abs": background["delta_prob"].abs().mean()}


@pytest.mark.parametrize("variant", ["cnn", "mtmixg"])
def test_demo_broken_activators_lower_high_and_background_snps_do_not(demo_workflow, variant):
    root = demo_workflow["dir"]
    proof = demo_proof(root, variant)
    act, background = proof["act"], proof["background"]
    print(f"\n{variant}: broken ACT mean delta {proof['act_mean']:.4f} ({(act['delta_prob'] < 0).sum()}/{len(act)} "
          f"negative); background mean |delta| {proof['background_mean_abs']:.4f}")
    assert len(act) == 20 and len(background) == 20
    labels = pd.read_csv(root / "results/demo/expression/labels.tsv", sep="\t").set_index("gene_id")["label"]
    assert (labels[act["gene_id"]] == 1).all()  # genes labelled high
    assert act["held_out"].all() and (act["models"] == "seed0/" + act["chrom"] + ",seed1/" + act["chrom"]).all()
    assert proof["act_mean"] <= -0.05
    assert proof["background_mean_abs"] < abs(proof["act_mean"]) / 10
    with pysam.VariantFile(str(root / f"results/demo/variant_effects/{variant}/variants.vcf.gz")) as vcf:
        assert sum(1 for rec in vcf if rec.info.get(INFO_KEY)) == 40


def test_demo_ref_mismatch_and_unknown_contig_are_one_line(demo_workflow, tmp_path, capsys):
    root = demo_workflow["dir"]
    with gzip.open(root / "resources/demo/variants.vcf.gz", "rt") as handle:
        lines = handle.read().splitlines()
    first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    fields = lines[first].split("\t")
    wrong = next(b for b in "ACGT" if b not in (fields[3], fields[4]))
    args = ["score-variants", str(root / "results/demo/models/cnn"), "--genome", str(root / "resources/demo/genome.fa"),
            "--gff3", str(root / "resources/demo/annotation.gff3"), "--out", str(tmp_path / "o.tsv")]
    cases = [
        ([*lines[:first], "\t".join([*fields[:3], wrong, *fields[4:]])],
         f"record 1, {fields[0]}:{fields[1]} {wrong}>{fields[4]} ({fields[2]}): REF {wrong} differs from the genome's {fields[3]}"),
        ([*lines[:first], "\t".join(["chrUn", *fields[1:]])], "record 1, chrUn:"),
    ]
    for records, message in cases:
        (tmp_path / "bad.vcf").write_text("\n".join(records) + "\n")
        assert main([*args, "--vcf", str(tmp_path / "bad.vcf")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o.tsv").exists()
