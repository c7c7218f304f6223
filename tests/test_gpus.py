"""mtmixg.core.gpus: concurrent local training processes claim different GPUs (real processes, real locks)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mtmixg.core import gpus

# A holder: claims with n_devices=2, prints "<index> <CUDA_VISIBLE_DEVICES>", holds until stdin closes.
HOLDER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from mtmixg.core.gpus import claim_gpu, GpuBusyError
    try:
        with claim_gpu(n_devices=2, lock_dir=Path(sys.argv[1]), timeout_s=float(sys.argv[2]), poll_s=0.1) as gpu:
            print(gpu, os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"), flush=True)
            sys.stdin.read()
        print("after", os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"), flush=True)
    except GpuBusyError as err:
        print("busy", err, flush=True)
        sys.exit(3)
    """
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID")}
    env.update(extra)
    return env


def _start(lock_dir: Path, timeout_s: float = 0.5, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_dir), str(timeout_s)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(**env),
    )


def _first_line(proc: subprocess.Popen[str]) -> list[str]:
    line = proc.stdout.readline()
    assert line, f"holder printed nothing; stderr: {proc.stderr.read()}"
    return line.split()


@pytest.fixture
def procs():
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            stream.close()


def test_two_processes_get_different_gpus_and_a_third_times_out(tmp_path, procs):
    a, b = _start(tmp_path), _start(tmp_path)
    procs += [a, b]
    got = [_first_line(a), _first_line(b)]
    assert sorted(int(g[0]) for g in got) == [0, 1]
    assert all(g[0] == g[1] for g in got), "CUDA_VISIBLE_DEVICES must equal the claimed index"

    t0 = time.monotonic()
    third = _start(tmp_path, timeout_s=1.0)
    procs.append(third)
    out, err = third.communicate(timeout=30)
    waited = time.monotonic() - t0
    assert third.returncode == 3, (out, err)
    assert out.startswith("busy all 2 GPUs stayed claimed"), out
    assert "waiting up to 1 s" in err
    assert waited >= 1.0
    # The error names the holders' PIDs.
    assert str(a.pid) in out and str(b.pid) in out


def test_waiter_gets_the_gpu_released_by_a_clean_exit(tmp_path, procs):
    a, b = _start(tmp_path), _start(tmp_path)
    procs += [a, b]
    idx_a, idx_b = _first_line(a)[0], _first_line(b)[0]
    waiter = _start(tmp_path, timeout_s=30)
    procs.append(waiter)
    time.sleep(0.5)
    assert waiter.poll() is None, "the waiter must wait while both GPUs are claimed"
    a.stdin.close()  # a leaves its `with` block normally
    assert a.wait(timeout=10) == 0
    assert a.stdout.readline().split() == ["after", "<unset>"], "the environment must be restored"
    assert _first_line(waiter)[0] == idx_a
    assert idx_b != idx_a


def test_lock_released_when_holder_is_killed(tmp_path, procs):
    a, b = _start(tmp_path), _start(tmp_path)
    procs += [a, b]
    idx_a = _first_line(a)[0]
    _first_line(b)
    os.kill(a.pid, signal.SIGKILL)
    a.wait(timeout=10)
    c = _start(tmp_path, timeout_s=5)
    procs.append(c)
    assert _first_line(c)[0] == idx_a


@pytest.mark.parametrize(
    ("env", "expected_cvd"),
    [({"CUDA_VISIBLE_DEVICES": "7"}, "7"), ({"CUDA_VISIBLE_DEVICES": ""}, ""), ({"SLURM_JOB_ID": "42"}, "<unset>")],
)
def test_scheduler_or_user_choice_is_kept(tmp_path, procs, env, expected_cvd):
    # Even with both GPUs locked by others, an env-provided choice is used at once, untouched.
    a, b = _start(tmp_path), _start(tmp_path)
    procs += [a, b]
    _first_line(a), _first_line(b)
    c = _start(tmp_path, timeout_s=0.1, **env)
    procs.append(c)
    line = c.stdout.readline().rstrip("\n").split(" ", 1)
    assert line == ["None", expected_cvd]


def test_no_gpus_claims_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with gpus.claim_gpu(n_devices=0, lock_dir=tmp_path) as gpu:
        assert gpu is None
        assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert list(tmp_path.iterdir()) == []


def test_in_process_claim_sets_and_restores_env(tmp_path, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("CUDA_DEVICE_ORDER", raising=False)
    with gpus.claim_gpu(n_devices=3, lock_dir=tmp_path / "locks") as first:
        assert first == 0
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
        assert os.environ["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"
        # A nested claim sees the variable it set and keeps it (rule 1: an env-provided choice wins).
        with gpus.claim_gpu(n_devices=3, lock_dir=tmp_path / "locks") as nested:
            assert nested is None
            assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    # Released: the next claim gets GPU 0 again.
    with gpus.claim_gpu(n_devices=3, lock_dir=tmp_path / "locks") as again:
        assert again == 0
    assert "CUDA_VISIBLE_DEVICES" not in os.environ and "CUDA_DEVICE_ORDER" not in os.environ
    assert (tmp_path / "locks" / "gpu0.lock").read_text().strip() == str(os.getpid())


def test_parse_nvidia_smi_list():
    text = (
        "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-1111)\n"
        "  MIG 3g.20gb     Device  0: (UUID: MIG-2222)\n"
        "GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-3333)\n"
    )
    assert gpus.parse_nvidia_smi_list(text) == 2
    assert gpus.parse_nvidia_smi_list("") == 0


def test_count_gpus_without_nvidia_smi(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty PATH: no nvidia-smi
    assert gpus.count_gpus() == 0


def test_default_lock_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("MTMIXG_GPU_LOCK_DIR", str(tmp_path))
    assert gpus.default_lock_dir() == tmp_path
    monkeypatch.delenv("MTMIXG_GPU_LOCK_DIR")
    assert gpus.default_lock_dir().name.startswith("mtmixg-gpu-locks-")


# ------------------------------------------------------------------ with Snakemake and profiles/default

REPO = Path(__file__).resolve().parents[1]

GPU_WORKFLOW = """\
import sys

GPUS_PER_JOB = 1


include: "{GPU_LIMIT}"


rule all:
    input:
        expand("out/{i}.txt", i=range(4)),


rule fold:
    output:
        "out/{i}.txt",
    resources:
        gpu=1,
    shell:
        "{PYTHON} {PROBE} {output} {LOCKS}"
"""

# A stand-in training job: claims a GPU like workflow_scripts/train.py (mtmixg.train.train_job), holds it 1.5 s.
GPU_PROBE = """\
import sys, time
from pathlib import Path
from mtmixg.core.gpus import claim_gpu

with claim_gpu(n_devices=2, lock_dir=Path(sys.argv[2]), timeout_s=30) as gpu:
    start = time.time()
    time.sleep(1.5)
    Path(sys.argv[1]).write_text(f"{gpu} {start} {time.time()}\\n")
"""


def _gpu_workflow(tmp_path: Path) -> Path:
    """A copy of the repository's profiles/default next to a 4-job Snakefile (each job gpu=1) that
    includes the workflow's GPU limit (rules/gpu_limit.smk)."""
    flow = tmp_path / "flow"
    (flow / "profiles" / "default").mkdir(parents=True)
    shutil.copy(REPO / "profiles" / "default" / "config.yaml", flow / "profiles" / "default" / "config.yaml")
    (flow / "probe.py").write_text(GPU_PROBE)
    (flow / "Snakefile").write_text(
        GPU_WORKFLOW.replace("{PYTHON}", sys.executable)
        .replace("{PROBE}", str(flow / "probe.py"))
        .replace("{LOCKS}", str(tmp_path / "locks"))
        .replace("{GPU_LIMIT}", str(REPO / "rules" / "gpu_limit.smk"))
    )
    return flow


def _run(flow: Path, workdir: Path, *args: str) -> list[tuple[int, float, float]]:
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID")}
    cmd = ["timeout", "-k", "10", "120", sys.executable, "-m", "snakemake", "-s", str(flow / "Snakefile"),
           "-d", str(workdir), "--cores", "4", *args]
    # cwd: a folder without profiles/: the profile must be found next to the Snakefile
    done = subprocess.run(cmd, cwd=workdir.parent, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Using workflow specific profile {flow / 'profiles' / 'default'}" in done.stderr
    rows = []
    for path in sorted((workdir / "out").glob("*.txt")):
        gpu, start, end = path.read_text().split()
        rows.append((int(gpu), float(start), float(end)))
    assert len(rows) == 4
    return rows


def _overlapping(rows: list[tuple[int, float, float]]) -> list[tuple[tuple, tuple]]:
    return [(a, b) for i, a in enumerate(rows) for b in rows[i + 1 :] if a[1] < b[2] and b[1] < a[2]]


@pytest.mark.workflow  # runs Snakemake
def test_one_gpu_job_at_a_time_on_a_machine_without_two_gpus(tmp_path):
    rows = _run(_gpu_workflow(tmp_path), tmp_path / "work")
    assert _overlapping(rows) == [], "rules/gpu_limit.smk (gpu = the GPUs here, at least 1) must serialise GPU jobs"
    assert {gpu for gpu, _, _ in rows} == {0}, "one job at a time: each gets GPU 0"


@pytest.mark.workflow  # runs Snakemake
def test_two_gpus_two_concurrent_jobs_on_different_devices(tmp_path):
    rows = _run(_gpu_workflow(tmp_path), tmp_path / "work", "--resources", "gpu=2")
    pairs = _overlapping(rows)
    assert pairs, "with --resources gpu=2 two GPU jobs must run at once"
    for a, b in pairs:
        assert a[0] != b[0], f"concurrent jobs on the same GPU: {a} {b}"
    # never three at once
    for t in {start for _, start, _ in rows}:
        assert sum(1 for _, s, e in rows if s <= t < e) <= 2


@pytest.mark.parametrize("per_job, given, visible, limit", [
    (1, False, 0, 1), (1, False, 4, 4), (2, False, 1, 2), (1, True, 4, None), (0, False, 4, None)])
def test_local_gpu_limit(per_job, given, visible, limit):
    assert gpus.local_gpu_limit(per_job, given=given, visible_gpus=visible) == limit


@pytest.mark.workflow  # runs Snakemake
def test_repo_default_profile_is_picked_up_with_s_and_d(tmp_path):
    """The real Snakefile from another folder (`-s .../Snakefile -d DIR`) loads profiles/default."""
    cmd = ["timeout", "-k", "10", "120", sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"),
           "-d", str(tmp_path / "work"), "-n", "--configfile", str(REPO / "config/demo/config.yaml")]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Using workflow specific profile {REPO / 'profiles' / 'default'}" in done.stderr
