"""Helpers to run the workflow from tests: Snakemake in a temporary working directory.

    from workflow_helpers import REPO, DEMO_CONFIG, run_snakemake
    done = run_snakemake(tmp_path, "data", configfile=DEMO_CONFIG)
    assert done.returncode == 0, done.output

Nothing is copied: Snakemake runs the repository's Snakefile with `-d WORKDIR`, so every
relative path of the config (resources/, results/, logs/) lands in WORKDIR. The command is
wrapped in `timeout -k 10 N` because Snakemake ignores SIGTERM while it waits for jobs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEFILE = REPO / "Snakefile"
DEMO_CONFIG = REPO / "config" / "demo" / "config.yaml"


class SnakemakeRun(subprocess.CompletedProcess):
    """A finished Snakemake run; .output is stdout + stderr (for assertion messages)."""

    @property
    def output(self) -> str:
        return (self.stdout or "") + (self.stderr or "")


def snakemake_command(
    workdir: str | Path,
    *args: str,
    configfile: str | Path | None = None,
    cores: int = 2,
    timeout: int = 900,
) -> list[str]:
    """The command line of run_snakemake (for logging or running it yourself)."""
    cmd = ["timeout", "-k", "10", str(timeout), sys.executable, "-m", "snakemake"]
    cmd += ["-s", str(SNAKEFILE), "-d", str(workdir), "--cores", str(cores), *map(str, args)]
    if configfile is not None:  # last: --configfile takes several values and would eat targets
        cmd += ["--configfile", str(configfile)]
    return cmd


def run_snakemake(
    workdir: str | Path,
    *args: str,
    configfile: str | Path | None = None,
    cores: int = 2,
    timeout: int = 900,
    env: dict[str, str] | None = None,
) -> SnakemakeRun:
    """Run the repository's workflow in workdir; returns the finished process (never raises).

    args: targets and options (e.g. "data", "-n", "--keep-going"). configfile replaces
    config/config.yaml. timeout: seconds before `timeout` kills Snakemake (exit 124 / 137).
    """
    Path(workdir).mkdir(parents=True, exist_ok=True)
    cmd = snakemake_command(workdir, *args, configfile=configfile, cores=cores, timeout=timeout)
    done = subprocess.run(
        cmd, cwd=workdir, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    return SnakemakeRun(done.args, done.returncode, done.stdout, done.stderr)


def job_counts(output: str) -> dict[str, int]:
    """Job stats table of a Snakemake (dry) run -> {rule: count}."""
    table = output.split("Job stats:", 1)[1] if "Job stats:" in output else ""
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M) if m[1] != "total"}


def write_config(path: str | Path, config: dict) -> Path:
    """Write a config dict as YAML; returns the path."""
    path = Path(path)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def demo_config(**changes) -> dict:
    """The demo config (config/demo/config.yaml) with top-level keys replaced by changes."""
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    config.update(changes)
    return config


OFFLINE_RUN = "SRR000001"  # a real accession; prefetch fails without network (unshare -n)


def run_demo_workflow(workdir: Path) -> dict:
    """The whole demo workflow in workdir, as the test session's shared run.

    Run A: the demo samples plus an unreachable SRA run, quantifications only, with --keep-going:
    the offline prefetch fails, the other samples finish. Run B: the demo config (config/demo/config.yaml) and its default target
    (data half + training half) in the same folder, re-using A's quantifications.
    Returns {"dir", "run_a", "quantified_after_a", "run_b", "seconds_b"}.
    """
    import time

    import pandas as pd

    sheet = pd.read_csv(REPO / "config/demo/samples.tsv", sep="\t", dtype=str)
    offline = pd.DataFrame([{"species": "demo", "sample": OFFLINE_RUN, "run": OFFLINE_RUN, "layout": "SE"}])
    pd.concat([sheet, offline]).to_csv(workdir / "samples_offline.tsv", sep="\t", index=False)
    config_a = write_config(workdir / "offline.yaml", demo_config(samples=str(workdir / "samples_offline.tsv")))
    quants = [f"results/demo/kallisto/{s}/abundance.tsv" for s in [*sheet["sample"], OFFLINE_RUN]]
    run_a = run_snakemake(workdir, *quants, "--keep-going", configfile=config_a)
    quantified_after_a = {s: (workdir / f"results/demo/kallisto/{s}/abundance.tsv").is_file() for s in sheet["sample"]}
    start = time.monotonic()
    run_b = run_snakemake(workdir, configfile=DEMO_CONFIG, timeout=1500)
    seconds_b = time.monotonic() - start
    return {"dir": workdir, "run_a": run_a, "quantified_after_a": quantified_after_a, "run_b": run_b, "seconds_b": seconds_b}
