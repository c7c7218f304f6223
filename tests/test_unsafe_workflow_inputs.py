"""Hostile inputs to the workflow (issue 19, the workflow side): shell characters in every sample
sheet and config value that reaches a rule's shell, names that are paths ('..', '/', 'all'),
floats where the schema says integer, config keys given twice, one run under two samples, and
damaged or unequal FASTQ files. Refusals happen at plan time, before any job; real jobs run the
real tools (sickle; fasterq-dump under `unshare -n`). Uses the tiny species of test_workflow_data.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from mtmixg.cli import main
from mtmixg.core.configio import check_unique_keys
from mtmixg.core.experiments import experiment_names
from mtmixg.core.names import chromosome_problem, name_problem
from mtmixg.core.samples import SampleSheetError, read_sample_sheet
from mtmixg.core.species import check_names
from workflow_helpers import REPO, run_snakemake
from workflow_helpers import no_leftovers as _no_leftovers
from workflow_helpers import run_tiny as _run

PAYLOAD = "x$(touch PWNED)`touch PWNED`;touch PWNED;'\"y"
"""Runs `touch PWNED` wherever a shell meets it unquoted (also inside double quotes)."""
SRA_NAME = "x$(touch PWNED)`touch PWNED`.sra"
"""The issue's .sra file name (no quotes in it, so the old error message ran both commands)."""
HEADER = ["species", "sample", "layout", "run", "fq1", "fq2", "sra_file", "fragment_length_mean",
          "fragment_length_sd"]


def _pwned(*folders: Path) -> list[str]:
    """Files a `touch PWNED` made in folders (recursively), the repository or the current folder."""
    found = [p for f in folders for p in f.rglob("PWNED*")]
    return [str(p) for p in found + list(REPO.glob("PWNED*")) + list(Path.cwd().glob("PWNED*"))]


def _fastq(path: Path, reads: int, mate: int = 1) -> Path:
    """A gzip FASTQ of good-quality 50-base reads."""
    with gzip.open(path, "wt") as handle:
        for i in range(reads):
            seq = ("ACGTTGCAAG" * 6)[i % 10 : i % 10 + 50]
            handle.write(f"@r{i}/{mate}\n{seq}\n+\n{'I' * 50}\n")
    return path


def _sheet(tiny: dict, *rows: dict[str, str]) -> None:
    """Write tiny's sample sheet (columns HEADER, empty where a row gives none)."""
    lines = ["\t".join(HEADER)] + ["\t".join(row.get(c, "") for c in HEADER) for row in rows]
    (tiny["dir"] / "samples.tsv").write_text("\n".join(lines) + "\n")


def _reads_species(tiny: dict) -> None:
    """Make tiny a species whose expression comes from the reads of the sheet."""
    tiny["config"]["species"]["tiny"].pop("tpm_table")


# ------------------------------------------------------------------ 1. shell characters


@pytest.mark.workflow
def test_shell_characters_in_sheet_and_config_values_run_nothing(tiny: dict, sra_pe: Path) -> None:
    """Every sheet column and config value that reaches a rule's shell: refused before any job, or
    quoted (real sickle and fasterq-dump jobs on files in a folder named PAYLOAD)."""
    _reads_species(tiny)
    folder = tiny["dir"] / PAYLOAD
    folder.mkdir()
    r1, r2, se = _fastq(folder / "r1.fq.gz", 8, 1), _fastq(folder / "r2.fq.gz", 8, 2), _fastq(folder / "se.fq.gz", 8)
    shutil.copy(sra_pe, folder / "run.sra")
    shutil.copy(sra_pe, tiny["dir"] / SRA_NAME)  # the attack: a .sra file's name
    good = [
        {"species": "tiny", "sample": "pe", "layout": "PE", "fq1": str(r1), "fq2": str(r2)},
        {"species": "tiny", "sample": "se", "layout": "SE", "fq1": str(se), "fragment_length_mean": "200"},
        # a paired-end run declared single-end: fasterq-dump's error message names it
        {"species": "tiny", "sample": "dumped", "layout": "SE", "sra_file": str(folder / "run.sra")},
    ]
    targets = ["results/tiny/trimmed/pe/R1.fastq.gz", "results/tiny/trimmed/se/single.fastq.gz",
               "results/tiny/reads/dumped/single.fastq.gz"]
    # the sheet: sample names and .sra file names reach shells as words: refused before any job
    # (real runs, not -n: the .sra one created PWNED files before)
    for column, message in [("sra_file", "sra_file {value!r}: the file name is not allowed: use only letters"),
                            ("sample", "sample name {value!r} is not allowed: use only letters")]:
        value = str(tiny["dir"] / SRA_NAME) if column == "sra_file" else PAYLOAD
        _sheet(tiny, *good[:2], {**good[2], column: value})
        done = _run(tiny, *targets)
        assert _pwned(tiny["dir"]) == [] and not (tiny["dir"] / "work/results").exists(), column
        assert done.returncode != 0 and "samples.tsv, line 4" in done.output, (column, done.output[-2000:])
        assert message.format(value=value) in done.output, (column, done.output[-2000:])
    # the other columns, through the checks the workflow runs on the sheet (core, then the schema)
    sheet_schema = str(REPO / "config/schemas/samples.schema.yaml")
    for column in ("run", "species", "layout", "fragment_length_mean", "fragment_length_sd"):
        _sheet(tiny, *good[:2], {**good[2], column: PAYLOAD})
        with pytest.raises((SampleSheetError, WorkflowError), match=rf"line 4|\['{column}'\]"):
            sheet = read_sample_sheet(tiny["dir"] / "samples.tsv", configured_species=["tiny"], reads_species=["tiny"])
            validate(sheet.drop(columns="line"), sheet_schema)
    # the config: each value a shell meets fails the schema the workflow validates against
    schema = REPO / "config/schemas/config.schema.yaml"
    for section, key in [("sra", "max_size"), ("sra", "threads"), ("trimming", "quality_type"),
                         ("trimming", "quality"), ("trimming", "min_length"), ("kallisto", "threads"),
                         ("kallisto", "single_fragment_length"), ("kallisto", "single_fragment_sd"),
                         ("tximport", "ignore_tx_version")]:
        with pytest.raises(WorkflowError, match=rf"\['{section}'\]\['{key}'\]"):
            validate({**tiny["config"], section: {key: PAYLOAD}}, str(schema))
    with pytest.raises(WorkflowError, match="propertyNames"):
        validate({**tiny["config"], "species": {PAYLOAD: tiny["config"]["species"]["tiny"]}}, str(schema))
    _sheet(tiny, *good)
    tiny["config"]["trimming"] = {"quality_type": PAYLOAD}
    done = _run(tiny, "-n", *targets)
    assert done.returncode != 0 and "['trimming']['quality_type']" in done.output, done.output[-2000:]
    tiny["config"].pop("trimming")
    tiny["config"]["sra_command_prefix"] = PAYLOAD  # an unclosed quote
    done = _run(tiny, "-n", *targets)
    assert f"config key sra_command_prefix: {PAYLOAD!r} cannot be split into words" in done.output, done.output[-2000:]
    tiny["config"]["sra_command_prefix"] = "unshare -n $(touch PWNED) `touch PWNED`"  # words, each quoted
    done = _run(tiny, "-n", "-p", targets[2])
    assert "unshare -n '$(touch' 'PWNED)' '`touch' 'PWNED`' fasterq-dump" in done.output, done.output[-2000:]
    # real jobs on paths holding PAYLOAD: sickle trims, fasterq-dump's error message names the file
    tiny["config"]["sra_command_prefix"] = "unshare -n"
    done = _run(tiny, "--keep-going", "--notemp", *targets)
    work = tiny["dir"] / "work"
    assert done.returncode != 0 and (work / targets[0]).is_file() and (work / targets[1]).is_file(), done.output[-3000:]
    log = (work / "logs/tiny/fasterq_dump/dumped.log").read_text()
    assert f"sample dumped (run run.sra): fasterq-dump gave no single reads from {folder / 'run.sra'}; is the run" in log
    assert _pwned(tiny["dir"]) == []


# ------------------------------------------------------------------ 2, 3. names that are paths


@pytest.mark.parametrize("name", ["..", ".", "...", "a/b", "a b", PAYLOAD, ""])
def test_names_that_are_not_one_plain_folder_name_are_refused(name: str) -> None:
    assert name_problem(name)
    assert chromosome_problem(name)


@pytest.mark.parametrize("name", ["1", "Chr01", "NC_003070.9", "scaffold_1:2+", "all.1"])
def test_real_chromosome_names_are_accepted(name: str) -> None:
    assert chromosome_problem(name) == ""


@pytest.mark.workflow
def test_names_that_are_paths_are_refused_at_plan_time(tiny: dict) -> None:
    """Species '..', sample '..', chromosomes with '/' or named 'all': one line naming the key or
    line, before any job (the issue's runs wrote genome.fa, models and logs outside the folders)."""
    entry = tiny["config"]["species"]["tiny"]
    cases = {
        "species": ({"species": {"..": entry}}, "config key species: species name '..' is not allowed: a name made only of dots"),
        "escape": ({"species": {"tiny": {**entry, "chromosomes": ["1", "x/../../../../tmp/ESCAPE"]}}},
                   "config key species.tiny.chromosomes: chromosome 'x/../../../../tmp/ESCAPE' is not allowed: it holds '/'"),
    }
    config = dict(tiny["config"])
    for case, (change, message) in cases.items():
        tiny["config"] = {**config, **change}
        done = _run(tiny, "-n", "data")
        assert done.returncode != 0 and message in done.output, (case, done.output[-2000:])
    tiny["config"] = config
    _reads_species(tiny)
    _sheet(tiny, {"species": "tiny", "sample": "..", "layout": "SE", "fq1": "r.fq.gz"})
    done = _run(tiny, "-n", "data")
    assert "samples.tsv, line 2: sample name '..' is not allowed: a name made only of dots" in done.output, done.output[-2000:]
    assert not (tiny["dir"] / "work/resources").exists() and not (tiny["dir"] / "resources").exists()


def test_a_chromosome_named_all_is_refused_naming_the_key() -> None:
    config = {"species": {"ath": {"chromosomes": ["1", "all"]}}}
    with pytest.raises(ValueError, match="^config key species.ath.chromosomes: chromosome 'all' is not allowed: "
                                         "fold 'all' is the model trained on every chromosome; rename the sequence$"):
        check_names(config)


def test_sweep_entries_named_by_dots_are_refused() -> None:
    with pytest.raises(ValueError, match=r"config key 'sweep': entry name '\.\.' is not allowed"):
        experiment_names({"architectures": [], "sweep": [{"name": ".."}]})


# ------------------------------------------------------------------ 7. damaged FASTQ files


@pytest.mark.workflow
def test_cut_short_gzip_and_unequal_mates_stop_the_sample(tiny: dict) -> None:
    _reads_species(tiny)
    whole = _fastq(tiny["dir"] / "whole.fq.gz", 400)
    cut = tiny["dir"] / "cut.fq.gz"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 2])  # a half-finished download
    r1, r2 = _fastq(tiny["dir"] / "r1.fq.gz", 10, 1), _fastq(tiny["dir"] / "r2.fq.gz", 6, 2)
    _sheet(tiny, {"species": "tiny", "sample": "cut", "layout": "SE", "fq1": str(cut)},
           {"species": "tiny", "sample": "pairs", "layout": "PE", "fq1": str(r1), "fq2": str(r2)})
    done = _run(tiny, "--keep-going", "results/tiny/trimmed/cut/single.fastq.gz", "results/tiny/trimmed/pairs/R1.fastq.gz")
    assert done.returncode != 0
    logs = tiny["dir"] / "work/logs/tiny/trim"
    assert f"sample cut: {cut} is damaged or cut short (gzip cannot read it to its end" in (logs / "cut.log").read_text()
    assert (f"sample pairs: {r2} holds 6 reads but its mate {r1} holds 10 reads: the files of a PE run must hold "
            "the same reads (is one cut short?)") in (logs / "pairs.log").read_text()
    assert _no_leftovers(tiny["dir"] / "work/results") == []


# ------------------------------------------------------------------ weak ones


@pytest.mark.workflow
def test_float_for_an_integer_key_is_refused_at_plan_time(tiny: dict) -> None:
    for section, key in [("window", "upstream_tss"), ("training", "epochs")]:
        config = {**tiny["config"], section: {**tiny["config"].get(section, {}), key: 2.0}}
        done = _run({**tiny, "config": config}, "-n")
        assert done.returncode != 0, done.output[-2000:]
        assert f"config key {section}.{key}: 2.0 is not an integer; write it without a decimal point" in done.output


@pytest.mark.workflow
def test_config_keys_given_twice_are_refused(tiny: dict) -> None:
    """A second species: block dropped the first species without a word; a second task: too."""
    text = yaml.safe_dump(tiny["config"], sort_keys=False)
    lines = text.count("\n")
    config = tiny["dir"] / "twice.yaml"
    other = yaml.safe_dump(tiny["config"]["species"]["tiny"], default_flow_style=True)
    config.write_text(f"{text}species:\n  other: {other}")
    done = run_snakemake(tiny["dir"] / "work", "-n", configfile=config, timeout=300)
    assert done.returncode != 0
    assert f"{config}, line {lines + 1}: key 'species' is given twice (also on line 1)" in done.output, done.output[-2000:]
    task = text.splitlines().index("task: ternary") + 1
    with pytest.raises(ValueError, match=rf"line {lines + 1}: key 'task' is given twice \(also on line {task}\)"):
        check_unique_keys(text + "task: binary\n", config)


@pytest.mark.parametrize("name, text", [("model.yaml", "channels: 32\nheads: 2\nchannels: 64\n"),
                                        ("model.json", '{"channels": 32,\n "channels": 64}')])
def test_train_model_config_with_a_key_twice_is_refused(tmp_path: Path, capsys, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    code = main(["train", str(tmp_path / "windows"), "--fold", "1", "--out", str(tmp_path / "out"),
                 "--model-config", str(tmp_path / name)])
    err = capsys.readouterr().err
    line = 3 if name.endswith("yaml") else 2
    assert code == 2 and f"mtmixg: error: {tmp_path / name}, line {line}: key 'channels' is given twice (also on line 1)" in err
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ one run under two samples


@pytest.mark.parametrize(("rows", "message"), [
    (["a\tSE\t\tr.fq.gz", "b\tSE\t\t./r.fq.gz"], "lines 3 and 4: fq1 of sample 'a' and fq1 of sample 'b' are the same file './r.fq.gz'"),
    (["a\tPE\t\tr1.fq.gz\tr2.fq.gz", "b\tPE\t\tr3.fq.gz\tr1.fq.gz"], "fq1 of sample 'a' and fq2 of sample 'b' are the same file"),
    (["a\tPE\t\tr1.fq.gz\tr1.fq.gz"], "line 3: fq1 of sample 'a' and fq2 of sample 'a' are the same file"),
    (["a\tPE\tSRR1", "b\tSE\tSRR1"], "lines 3 and 4: run of sample 'a' and run of sample 'b' are the same run 'SRR1'"),
    (["a\tPE\t\t\t\tx/r.sra", "b\tPE\t\t\t\tx//r.sra"], "sra_file of sample 'a' and sra_file of sample 'b' are the same file"),
])
def test_one_run_under_two_samples_is_refused(tmp_path: Path, rows: list[str], message: str) -> None:
    path = tmp_path / "samples.tsv"
    header = "species\tsample\tlayout\trun\tfq1\tfq2\tsra_file\n"
    path.write_text("# sheet\n" + header + "".join(f"ath\t{r}\n" for r in rows))
    with pytest.raises(SampleSheetError) as err:
        read_sample_sheet(path, configured_species=["ath"], reads_species=["ath"])
    assert str(err.value).startswith(f"sample sheet {path}, line") and message in str(err.value)
    assert str(err.value).endswith("; give each run once")


@pytest.mark.workflow
def test_one_fastq_under_two_samples_is_refused_at_plan_time(tiny: dict) -> None:
    _reads_species(tiny)
    reads = _fastq(tiny["dir"] / "r.fq.gz", 8)
    _sheet(tiny, {"species": "tiny", "sample": "a", "layout": "SE", "fq1": str(reads)},
           {"species": "tiny", "sample": "b", "layout": "SE", "fq1": str(reads)})
    done = _run(tiny, "-n", "data")
    assert done.returncode != 0
    assert (f"samples.tsv, lines 2 and 3: fq1 of sample 'a' and fq1 of sample 'b' are the same file '{reads}'; "
            "give each run once") in done.output, done.output[-2000:]
