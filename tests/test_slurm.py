"""The Slurm profile on a real one-node Slurm cluster (tests/slurm_cluster.py; root + slurm-wlm + munge).

Every run goes through a copy of profiles/slurm/config.yaml with only the settings this test cluster
needs changed; the tiny workflow passes it with `--workflow-profile`, the demo as a site profile with
`--profile` (then Snakemake loads profiles/default beside it, as on a lab's cluster) (see `test_profile`): partition = the harness partition,
squeue status checks (the harness has no slurmdbd), memory capped to the node, and the commented
GPU placeholders filled in (gpu_model = the harness's stand-in GPU type, cpus_per_gpu = 1).
The training job asks for `gpu: 1`: Slurm allocates the harness's stand-in GPU (a gres
backed by /dev/null) and sets CUDA_VISIBLE_DEVICES; the demo config trains on the CPU anyway.
Every snakemake call runs under `timeout -k 10 N` (Snakemake ignores SIGTERM while it waits).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import IO

import pandas as pd
import pytest
import yaml

from slurm_cluster import GPU_TYPE, NODE_FEATURE, SlurmCluster

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
# Slurm job IDs in Snakemake's output: "Job 3 has been submitted with SLURM jobid 17 (log: ...)."
SUBMITTED = re.compile(r"SLURM jobid (\d+)")


def test_profile(cluster: SlurmCluster, dest: Path, node_mem_mb: int = 2000) -> Path:
    """Write the test copy of profiles/slurm into `dest`; returns the folder (for --workflow-profile
    or --profile)."""
    profile = yaml.safe_load(PROFILE.read_text())
    assert profile["executor"] == "slurm"
    profile["default-resources"]["slurm_partition"] = cluster.partition
    profile["default-resources"]["mem_mb"] = min(profile["default-resources"]["mem_mb"], node_mem_mb)
    for res in profile["set-resources"].values():
        if "mem_mb" in res:
            res["mem_mb"] = min(res["mem_mb"], node_mem_mb)
    assert "train" not in profile["set-resources"]  # training resources come from the config
    # a GPU per training job, as config `gpu: {use: true}` asks (the demo config trains on CPU),
    # and the profile's commented placeholders filled in
    profile["set-resources"]["train"] = {"gpu": 1, "gpu_model": GPU_TYPE, "cpus_per_gpu": 1}
    profile["slurm-status-command"] = "squeue"  # no slurmdbd here
    profile["slurm-init-seconds-before-status-checks"] = 2  # MinJobAge=300 >= 3 x 2
    profile["slurm-keep-successful-logs"] = True
    profile["latency-wait"] = 5
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return dest


test_profile.__test__ = False  # a helper, not a test


Started = tuple[subprocess.Popen[str], IO[str], float]


def start_snakemake(args: list[str], workdir: Path, timeout: int) -> Started:
    """Start snakemake under `timeout -k 10`, stdout and stderr merged into a temporary file (a
    pipe could fill while another run is waited for); finish it with finish_snakemake."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_") and k != "SNAKEMAKE_PROFILE"}
    cmd = ["timeout", "-k", "10", str(timeout), sys.executable, "-m", "snakemake", *args]
    output = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT, text=True)
    return proc, output, time.monotonic()


def finish_snakemake(started: Started) -> tuple[subprocess.CompletedProcess[str], float]:
    """Wait for a start_snakemake run; (result, seconds)."""
    proc, output, t0 = started
    proc.wait()
    seconds = time.monotonic() - t0
    with output:
        output.seek(0)
        return subprocess.CompletedProcess(proc.args, proc.returncode, output.read(), ""), seconds


def snakemake(args: list[str], workdir: Path, timeout: int) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run snakemake under `timeout -k 10`; (result, seconds). stdout and stderr are merged."""
    return finish_snakemake(start_snakemake(args, workdir, timeout))


TINY = textwrap.dedent(
    """
    rule all:
        input:
            "b.txt",
            "gpu.txt",


    rule a:
        output:
            "a.txt",
        threads: 4
        shell:
            'echo "$SLURM_JOB_ID ${{SLURM_CPUS_PER_TASK:-unset}} $(hostname)" > {output}'


    rule b:
        input:
            "a.txt",
        output:
            "b.txt",
        resources:
            mem_mb=500,
        shell:
            "cat {input} > {output}; echo $SLURM_JOB_ID >> {output}"


    rule gpu:
        output:
            "gpu.txt",
        resources:
            gpu=1,
        shell:
            "{PYTHON} gpu_probe.py > {output}"


    rule fails:
        output:
            "never.txt",
        shell:
            "echo 'deliberate failure' >&2; exit 3"
    """
)

# Inside a Slurm job with a GPU: claim_gpu must keep Slurm's CUDA_VISIBLE_DEVICES and claim nothing.
GPU_PROBE = """\
import os
from mtmixg.core.gpus import claim_gpu

with claim_gpu(n_devices=4) as gpu:
    print(os.environ["SLURM_JOB_ID"], gpu, os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
"""


@pytest.fixture(scope="module")
def tiny(slurm_cluster: SlurmCluster, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("tiny")
    (work / "Snakefile").write_text(f"PYTHON = {sys.executable!r}\n" + TINY)
    (work / "gpu_probe.py").write_text(GPU_PROBE)
    return work, test_profile(slurm_cluster, tmp_path_factory.mktemp("tiny_profile"))


def test_tiny_workflow_runs_as_slurm_jobs(slurm_cluster: SlurmCluster, tiny: tuple[Path, Path]) -> None:
    work, profile = tiny
    # --max-threads: the test node has 2 CPUs; rule a asks for 4 (capped -> --cpus-per-task=2).
    out, seconds = snakemake(["--workflow-profile", str(profile), "--max-threads", "2"], work, timeout=180)
    assert out.returncode == 0, out.stdout[-4000:]
    submitted = SUBMITTED.findall(out.stdout)
    assert len(submitted) == 3, out.stdout[-4000:]

    a_job, a_cpus, a_host = (work / "a.txt").read_text().split()
    b_lines = (work / "b.txt").read_text().splitlines()
    b_job = b_lines[1].strip()
    assert b_lines[0].split()[0] == a_job
    gpu_job, claimed, cuda_devices = (work / "gpu.txt").read_text().split()
    assert {a_job, b_job, gpu_job} == set(submitted), "each rule ran inside the Slurm job Snakemake submitted"
    assert len({a_job, b_job, gpu_job}) == 3
    assert (claimed, cuda_devices) == ("None", "0"), "Slurm set CUDA_VISIBLE_DEVICES; claim_gpu kept it"
    assert "gres:gpu:1" in slurm_cluster.run("scontrol", "show", "job", "--oneliner", gpu_job)
    assert a_cpus == "2", "threads -> --cpus-per-task (capped by --max-threads)"
    b_info = slurm_cluster.run("scontrol", "show", "job", "--oneliner", b_job)
    assert "MinMemoryNode=500M" in b_info, "mem_mb -> --mem"
    assert f"Partition={slurm_cluster.partition} " in b_info
    for job in submitted:
        assert slurm_cluster.job_state(job) == "COMPLETED"
        assert f"JobId={job} " in slurm_cluster.slurmctld_log.read_text()
    logs = list((work / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert {p.stem for p in logs} >= set(submitted), logs
    print(f"tiny workflow: 3 Slurm jobs in {seconds:.1f} s")


def test_failing_job_is_reported_and_snakemake_exits(slurm_cluster: SlurmCluster, tiny: tuple[Path, Path]) -> None:
    work, profile = tiny
    out, seconds = snakemake(["--workflow-profile", str(profile), "never.txt"], work, timeout=120)
    assert out.returncode not in (0, 124, 137), f"exit {out.returncode} after {seconds:.0f} s:\n{out.stdout[-4000:]}"
    assert out.returncode == 1
    (job,) = SUBMITTED.findall(out.stdout)
    assert f"SLURM-job '{job}' failed" in out.stdout, out.stdout[-4000:]
    assert slurm_cluster.job_state(job) == "FAILED"
    assert not (work / "never.txt").exists()
    log = next((work / ".snakemake" / "slurm_logs").rglob(f"{job}.log"))
    assert "deliberate failure" in log.read_text()
    print(f"failure detected after {seconds:.1f} s")


# ------------------------------------------------------------------ the demo through the profile

DATA_TARGETS = ("results/demo/expression/tpm.tsv", "results/demo/windows/genes.tsv")
DEMO_TARGETS = (*DATA_TARGETS, "results/demo/models/cnn/seed0/1/model.pt", "results/demo/models/cnn/seed0/2/model.pt")
# a smaller demo than the config's: the same data in both runs, less waiting
DEMO_SIZE = {"genes_per_chromosome": 150, "read_pairs": 20_000}
LOCAL_RULES = {"get_genome", "get_annotation", "get_cdna", "prefetch"}  # `localrule: True` downloads
# "Job 3 has been submitted with SLURM jobid 17 (log: /w/.snakemake/slurm_logs/rule_x/.../17.log)."
SUBMITTED_LOG = re.compile(r"SLURM jobid (\d+) \(log: (\S+?)\)")


def _demo_missing() -> str | None:
    needed = ["Snakefile", "config/demo/config.yaml", "rules/train.smk", "workflow_scripts/train.py"]
    missing = [p for p in needed if not (REPO / p).exists()]
    return f"the demo workflow is not complete yet (missing {', '.join(missing)})" if missing else None


@pytest.fixture(scope="module")
def demo_runs(slurm_cluster: SlurmCluster, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo's data half + two training folds through the Slurm profile given as a site
    profile (`--profile`); the data half alone locally, to compare with (test_demo_slurm_outputs_equal_local).
    Both run at once: the Slurm run mostly waits for its jobs' states."""
    reason = _demo_missing()
    if reason:
        pytest.skip(reason)
    config = yaml.safe_load((REPO / "config/demo/config.yaml").read_text())
    config["demo"].update(DEMO_SIZE)
    runs, started = {}, {}
    for name in ("local", "slurm"):
        work = tmp_path_factory.mktemp(f"demo_{name}")
        (work / "demo.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        args = ["-s", str(REPO / "Snakefile"), "-d", str(work), *(DEMO_TARGETS if name == "slurm" else DATA_TARGETS)]
        if name == "slurm":
            profile = test_profile(slurm_cluster, tmp_path_factory.mktemp("demo_profile"))
            args += ["--profile", str(profile), "--max-threads", str(slurm_cluster.cpus)]
        else:
            args += ["--cores", "1"]
        runs[name] = {"dir": work, "args": args}
        started[name] = start_snakemake([*args, "--configfile", str(work / "demo.yaml")], work, timeout=420)
    for name, run in runs.items():
        out, seconds = finish_snakemake(started[name])
        assert out.returncode == 0, f"{name} run exited {out.returncode} after {seconds:.0f} s:\n{out.stdout[-6000:]}"
        run.update(out=out.stdout, seconds=seconds)
        print(f"demo {name} run: {seconds:.1f} s")
    return runs


def test_demo_jobs_ran_as_slurm_jobs(slurm_cluster: SlurmCluster, demo_runs: dict) -> None:
    run = demo_runs["slurm"]
    submitted = SUBMITTED_LOG.findall(run["out"])
    assert submitted, run["out"][-4000:]
    rules = set()
    for job_id, log in submitted:
        log_path = Path(log)
        rule_dir = next(part for part in log_path.relative_to(run["dir"] / ".snakemake" / "slurm_logs").parts)
        rules.add(rule_dir.removeprefix("rule_"))
        assert log_path.is_file(), f"Slurm log of job {job_id} missing: {log_path}"
        assert slurm_cluster.job_state(job_id) == "COMPLETED", (job_id, log_path.read_text()[-2000:])
    assert {"kallisto_quant", "tximport", "windows", "train"} <= rules, rules
    assert not rules & LOCAL_RULES, "downloads are local rules and must not be submitted"
    train_jobs = [j for j, log in submitted if "/rule_train/" in log]
    assert len(train_jobs) == 2, submitted
    train_job = train_jobs[0]
    info = slurm_cluster.run("scontrol", "show", "job", "--oneliner", train_job)
    # profile: gpu 1 + gpu_model -> --gpus=testgpu:1; cpus_per_gpu -> --cpus-per-gpu=1
    assert f"TresPerJob=gres:gpu:{GPU_TYPE}:1" in info, info
    assert "CpusPerTres=gres:gpu:1" in info, info
    assert "MinMemoryNode=2000M" in info, info
    model_dir = run["dir"] / "results/demo/models/cnn/seed0/1"
    for name in ("model.pt", "metrics.json", "predictions.tsv"):
        assert (model_dir / name).stat().st_size > 0
    print(f"{len(submitted)} Slurm jobs: {sorted(rules)}")


def test_training_jobs_are_submitted_side_by_side(demo_runs: dict) -> None:
    """With a site profile (`--profile`), profiles/default is loaded too; nothing in it, nor the
    workflow's local GPU limit, may hold the cluster to one training job at a time: both folds are
    submitted before either finishes."""
    out = demo_runs["slurm"]["out"]
    submitted = [m.start() for m in re.finditer(r"SLURM jobid \d+ \(log: \S+/rule_train/", out)]
    finished = [m.start() for m in re.finditer(r"Finished jobid: \d+ \(Rule: train\)", out)]
    assert len(submitted) == 2 and finished, out[-4000:]
    assert max(submitted) < min(finished), "the second training job waited for the first"


def test_demo_slurm_outputs_equal_local(demo_runs: dict) -> None:
    local, slurm = demo_runs["local"]["dir"], demo_runs["slurm"]["dir"]
    tpm_local = pd.read_csv(local / "results/demo/expression/tpm.tsv", sep="\t", index_col=0)
    tpm_slurm = pd.read_csv(slurm / "results/demo/expression/tpm.tsv", sep="\t", index_col=0)
    assert len(tpm_local) > 100
    pd.testing.assert_frame_equal(tpm_slurm, tpm_local, check_exact=False, rtol=1e-6, atol=1e-9)
    genes_local = pd.read_csv(local / "results/demo/windows/genes.tsv", sep="\t", dtype={"chrom": str, "fold": str})
    genes_slurm = pd.read_csv(slurm / "results/demo/windows/genes.tsv", sep="\t", dtype={"chrom": str, "fold": str})
    assert len(genes_local) > 100
    pd.testing.assert_frame_equal(genes_slurm, genes_local, check_exact=False, rtol=1e-6, atol=1e-9)
    assert (local / "results/demo/windows/windows.npy").read_bytes() == (
        slurm / "results/demo/windows/windows.npy"
    ).read_bytes()


def test_rerun_one_fold_by_target(slurm_cluster: SlurmCluster, demo_runs: dict) -> None:
    """README, "Rerun one fold on the cluster": `-f results/<species>/models/<experiment>/seed<seed>/<fold>/model.pt`
    reruns that job only."""
    run = demo_runs["slurm"]
    target = run["dir"] / DEMO_TARGETS[2]
    before = target.stat().st_mtime_ns
    args = [a for a in run["args"] if a not in DEMO_TARGETS]
    out, seconds = snakemake([*args, "-f", DEMO_TARGETS[2], "--configfile", str(run["dir"] / "demo.yaml")],
                             run["dir"], timeout=180)
    assert out.returncode == 0, out.stdout[-4000:]
    submitted = SUBMITTED_LOG.findall(out.stdout)
    assert len(submitted) == 1 and "/rule_train/" in submitted[0][1], submitted
    assert slurm_cluster.job_state(submitted[0][0]) == "COMPLETED"
    assert target.stat().st_mtime_ns > before
    print(f"one fold rerun on Slurm in {seconds:.1f} s")


# ------------------------------------------------------------------ GPU syntax and sbatch options

# Rules of the README's cluster options, given their resources by the test profile's
# set-resources (as profiles/slurm/config.yaml shows for train). Each records its job ID.
TINY_OPTIONS = textwrap.dedent(
    """
    rule all:
        input:
            "gres.txt",
            "extra.txt",


    rule with_gres:
        output:
            "gres.txt",
        resources:
            gpu=1,
        shell:
            'echo "$SLURM_JOB_ID ${{CUDA_VISIBLE_DEVICES:-unset}}" > {output}'


    rule with_extra:
        output:
            "extra.txt",
        shell:
            "echo $SLURM_JOB_ID > {output}"
    """
)
OPTION_RESOURCES = {
    # as train with config gpu.use: true (resources gpu=1), asking for the GPU as a gres instead:
    # -> sbatch --gres=gpu:testgpu:1 -C testfeature, and no --gpus
    "with_gres": {"gpu": 0, "gres": f"gpu:{GPU_TYPE}:1", "constraint": NODE_FEATURE},
    # -> appended to the sbatch line as it is (options the plugin sets itself, e.g. --comment, --time,
    # --gres, --qos, are refused there)
    "with_extra": {"slurm_extra": "--nice=7 --mail-type=END --mail-user=lab@example.org"},
}


def test_gres_constraint_and_slurm_extra_reach_the_job(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    """README, Profiles: `gres`, `constraint` and `slurm_extra` in set-resources become the job's
    --gres, --constraint and extra sbatch options (one run, two jobs)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "Snakefile").write_text(TINY_OPTIONS)
    profile = test_profile(slurm_cluster, tmp_path / "profile")
    settings = yaml.safe_load((profile / "config.yaml").read_text())
    settings["set-resources"].update(OPTION_RESOURCES)
    (profile / "config.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    out, seconds = snakemake(["--workflow-profile", str(profile)], work, timeout=180)
    assert out.returncode == 0, out.stdout[-4000:]
    gres_job, cuda = (work / "gres.txt").read_text().split()
    extra_job = (work / "extra.txt").read_text().strip()
    assert set(SUBMITTED.findall(out.stdout)) == {gres_job, extra_job}
    gres_info = slurm_cluster.run("scontrol", "show", "job", "--oneliner", gres_job)
    assert f"TresPerNode=gres/gpu:{GPU_TYPE}:1" in gres_info or f"TresPerNode=gres:gpu:{GPU_TYPE}:1" in gres_info, gres_info
    assert f"Features={NODE_FEATURE} " in gres_info, gres_info
    assert "TresPerJob=" not in gres_info, "gpu: 0 in set-resources: no --gpus beside --gres"
    assert cuda == "0", "Slurm allocated the GPU asked for with --gres"
    extra_info = slurm_cluster.run("scontrol", "show", "job", "--oneliner", extra_job)
    assert "Nice=7 " in extra_info and "MailUser=lab@example.org " in extra_info, extra_info
    assert "MailType=END " in extra_info, extra_info
    print(f"gres/constraint/slurm_extra jobs in {seconds:.1f} s")


def test_qos_without_accounting_is_ignored_by_sbatch(slurm_cluster: SlurmCluster) -> None:
    """What `qos` (-> sbatch --qos=...) does on a cluster without accounting, as this one: sbatch
    takes any name and the job runs (QoS is enforced only with slurmdbd); README says so."""
    job = slurm_cluster.run("sbatch", "--parsable", f"--partition={slurm_cluster.partition}", "--qos=no_such_qos",
                            "--mem=100", "--output=/dev/null", "--wrap", "true").strip()
    deadline = time.monotonic() + 60
    while slurm_cluster.job_state(job) not in ("COMPLETED", "FAILED") and time.monotonic() < deadline:
        time.sleep(1)
    assert slurm_cluster.job_state(job) == "COMPLETED"


# ------------------------------------------------------------------ downloads: local rules or jobs


def _reference_config(tmp_path: Path) -> Path:
    """A config whose species 'leafy' has local reference files (get_genome/get_cdna copy them)."""
    (tmp_path / "genome.fa").write_text(">1\n" + "ACGT" * 50 + "\n")
    (tmp_path / "cdna.fa").write_text(">T1.1 gene:T1\n" + "ACGT" * 20 + "\n")
    (tmp_path / "a.gff3").write_text("##gff-version 3\n")
    (tmp_path / "tpm.tsv").write_text("gene_id\trun1\nT1\t1\n")
    (tmp_path / "samples.tsv").write_text("species\tsample\tlayout\n")
    config = {"species": {"leafy": {"genome": str(tmp_path / "genome.fa"), "annotation": str(tmp_path / "a.gff3"),
                                    "cdna": str(tmp_path / "cdna.fa"), "chromosomes": ["1"],
                                    "tpm_table": str(tmp_path / "tpm.tsv")}},
              "samples": str(tmp_path / "samples.tsv")}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_downloads_are_local_unless_downloads_as_jobs(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    """get_genome and get_cdna (as prefetch) run on the submit host by default; with
    `downloads_as_jobs: true` the Slurm executor submits them."""
    configfile = _reference_config(tmp_path)
    profile = test_profile(slurm_cluster, tmp_path / "profile")
    targets = ["resources/leafy/genome.fa", "resources/leafy/cdna.fa"]
    base = ["-s", str(REPO / "Snakefile"), "--workflow-profile", str(profile), *targets]
    local, _ = snakemake([*base, "-d", str(tmp_path / "local"), "--configfile", str(configfile)], tmp_path, timeout=180)
    assert local.returncode == 0, local.stdout[-4000:]
    assert not SUBMITTED.findall(local.stdout), local.stdout[-4000:]
    assert "localrule get_genome:" in local.stdout and "localrule get_cdna:" in local.stdout
    work = tmp_path / "jobs"
    jobs, seconds = snakemake([*base, "-d", str(work), "--config", "downloads_as_jobs=True", "--configfile",
                               str(configfile)], tmp_path, timeout=180)
    assert jobs.returncode == 0, jobs.stdout[-4000:]
    submitted = SUBMITTED_LOG.findall(jobs.stdout)
    rules = sorted(re.search(r"/rule_(\w+)/", log)[1] for _, log in submitted)
    assert rules == ["get_cdna", "get_genome"], jobs.stdout[-4000:]
    for job_id, _ in submitted:
        assert slurm_cluster.job_state(job_id) == "COMPLETED"
    assert (work / "resources/leafy/genome.fa").read_text().startswith(">1\n")
    print(f"downloads as 2 Slurm jobs in {seconds:.1f} s")
