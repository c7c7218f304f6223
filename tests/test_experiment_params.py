"""Each experiment is resolved once, when Snakemake plans (rule train's param experiment): a bad
model setting stops `snakemake -n`, naming the key, and a changed setting reruns exactly the folds
whose experiment it changes - with the real Snakemake and a real (tiny) training run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from mtmixg.core.experiments import experiment_param
from workflow_helpers import TINY_WINDOW, demo_config, gene_lines, job_counts, random_dna, run_snakemake, write_config


@pytest.mark.parametrize(
    ("model", "message"),
    [  # cnn comes first in the demo's architectures; heads concerns mtmixg only
        ({"cnn_blocks": 3, "pools": [4, 4, 4, 4]}, "experiment 'cnn': model keys 'pools' and 'cnn_blocks': pools has 4 entries but cnn_blocks is 3"),
        ({"heads": 3}, "experiment 'mtmixg': model key 'heads': 3 does not divide the attention branch's 4 channels (channels 8 / 2)"),
        ({"pools": [16, 16, 16]}, "experiment 'cnn': model key 'pools': pools [16, 16, 16] reduce a sequence of length 620 to nothing at block 3"),
    ],
)  # fmt: skip
@pytest.mark.workflow
def test_dry_run_stops_on_a_bad_model_setting_naming_the_key(tmp_path: Path, model: dict, message: str) -> None:
    config = demo_config()
    config["model"] = {**config["model"], **model}
    done = run_snakemake(tmp_path / "work", "-n", configfile=write_config(tmp_path / "config.yaml", config), timeout=300)
    assert done.returncode != 0, done.output[-3000:]
    assert f"config key 'model': {message}" in done.output, done.output[-3000:]
    assert "Job stats:" not in done.output  # stopped while planning


def _species(folder: Path, n_per_chrom: int = 12) -> dict:
    """A species 'tiny' of two chromosomes with n_per_chrom genes each, expression a TPM table."""
    rng = np.random.default_rng(1)
    genes = [(f"G{c}_{k}", c, 1001 + 1000 * k, 1500 + 1000 * k, "+-"[k % 2], "protein_coding")
             for c in ("1", "2") for k in range(n_per_chrom)]  # fmt: skip
    length = 1001 + 1000 * n_per_chrom + 1000
    (folder / "genome.fa").write_text("".join(f">{c}\n{random_dna(rng, length)}\n" for c in ("1", "2")))
    (folder / "annotation.gff3").write_text(gene_lines(genes))
    (folder / "cdna.fa").write_text("".join(f">{g[0]}.1 gene:{g[0]}\n{random_dna(rng, 300)}\n" for g in genes))
    tpm = rng.permutation(np.logspace(-1, 3, len(genes)))
    (folder / "tpm.tsv").write_text("gene_id\trun1\n" + "".join(f"{g[0]}\t{t:.4g}\n" for g, t in zip(genes, tpm)))
    (folder / "samples.tsv").write_text("species\tsample\tlayout\n")
    return {
        "species": {"tiny": {"genome": str(folder / "genome.fa"), "annotation": str(folder / "annotation.gff3"),
                             "cdna": str(folder / "cdna.fa"), "chromosomes": ["1", "2"],
                             "tpm_table": str(folder / "tpm.tsv")}},
        "samples": str(folder / "samples.tsv"),
        "sra_command_prefix": "unshare -n",
        "window": dict(TINY_WINDOW),
        "task": "binary",
        "architectures": ["cnn", "deepcre"],
        "seeds": [0],
        "model": {"channels": 8, "cnn_channels": 8, "cnn_blocks": 2, "pools": [4, 4], "fc_hidden": [16]},
        "training": {"epochs": 1, "batch_size": 8, "warmup_epochs": 0, "warmup_steps": 0, "patience": 1,
                     "lr_patience": 1, "max_restarts": 0, "resources": {"threads": 1, "mem_mb": 1000, "runtime": 5}},
        "gpu": {"use": False},
    }  # fmt: skip


MODELS = [f"results/tiny/models/{arch}/seed0/1/model.pt" for arch in ("cnn", "deepcre")]


def _planned_models(output: str) -> list[str]:
    """The model.pt of every train job a dry run lists (its first output)."""
    return sorted(re.findall(r"^rule train:\n\s+input: .*\n\s+output: ([^,\s]+model\.pt),", output, flags=re.M))


@pytest.mark.workflow
def test_window_mask_codons_reruns_exactly_the_folds_whose_experiment_it_changes(tmp_path: Path) -> None:
    config = _species(tmp_path)
    configfile = write_config(tmp_path / "config.yaml", config)
    done = run_snakemake(tmp_path / "work", *MODELS, configfile=configfile, timeout=300)
    assert done.returncode == 0, done.output[-4000:]
    assert run_snakemake(tmp_path / "work", "-n", *MODELS, configfile=configfile).output.count("Nothing to be done") == 1
    trained = json.loads((tmp_path / "work" / MODELS[0]).with_name("metrics.json").read_text())
    planned = json.loads(experiment_param("cnn", config))  # what the plan resolved is what the job trained
    assert (trained["model_config"], trained["task"]) == (planned["model"], planned["task"])
    assert {k: trained["train_config"][k] for k in planned["train"]} == planned["train"]

    config["window"]["mask_codons"] = True  # the former window key: model.mask_codons of every architecture
    dry = run_snakemake(tmp_path / "work", "-n", *MODELS, configfile=write_config(tmp_path / "config.yaml", config))
    assert dry.returncode == 0, dry.output[-4000:]
    assert job_counts(dry.output) == {"train": 1}, dry.output[-4000:]  # the windows stay: masking is the model's
    assert _planned_models(dry.output) == [MODELS[0]]  # cnn; deepcre masks codons already
    assert "Params have changed" in dry.output, dry.output[-4000:]


def test_the_job_writes_the_declared_outputs_and_refuses_others(tmp_path: Path) -> None:
    """train_job gets every path of rule train; one it would not write (or a stale window) is refused
    before training, naming it."""
    from mtmixg.train import train_job
    from training_data import SPEC, make_windows

    make_windows(tmp_path / "w", n_per_chrom=30)
    config = {"task": "binary", "model": {"cnn_blocks": 2, "pools": [4, 4]}, "window": SPEC.to_dict(), "gpu": {"use": False}}
    inputs = {name: tmp_path / "w" / file for name, file in
              (("windows", "windows.npy"), ("genes", "genes.tsv"), ("spec", "window.json"))}  # fmt: skip
    outputs = {name: tmp_path / "o" / file for name, file in (("model", "model.pt"), ("meta", "model.json"),
               ("metrics", "metrics.json"), ("predictions", "predictions.tsv"))}  # fmt: skip
    job = dict(fold="chr1", seed=0, gpu=config["gpu"], threads=1, resume_path=tmp_path / "r" / "state.pt", log=lambda line: None)
    elsewhere = {**outputs, "metrics": tmp_path / "other" / "metrics.json"}
    with pytest.raises(ValueError, match=r"^train: output 'metrics' is .*other/metrics.json, but train_fold uses .*o/metrics.json"):
        train_job(experiment_param("cnn", config), inputs, elsewhere, **job)
    stale = {**config, "window": {**SPEC.to_dict(), "spacer": SPEC.spacer + 10}}
    with pytest.raises(ValueError, match=r"window.json: window length / TSS / TTS index .* is not the experiment's"):
        train_job(experiment_param("cnn", stale), inputs, outputs, **job)
    assert not (tmp_path / "o").exists() and not (tmp_path / "other").exists()
