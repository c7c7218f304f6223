"""Pick a free GPU for a local training process, so concurrent jobs use different devices.

Snakemake never sets CUDA_VISIBLE_DEVICES for local jobs: two training jobs started at once on a
2-GPU workstation would both land on GPU 0. `claim_gpu()` gives each process its own device:

    from mtmixg.core.gpus import claim_gpu
    with claim_gpu() as gpu:          # BEFORE anything initialises CUDA
        ...                           # gpu: the claimed index, or None (nothing claimed)

Rules, in order:
1. CUDA_VISIBLE_DEVICES already set (by Slurm's --gpus/--gres, or by the user): kept, yields None.
2. Inside a Slurm job (SLURM_JOB_ID set): the scheduler owns the devices, yields None.
3. No GPU (`nvidia-smi -L` lists none, or is missing): yields None.
4. Otherwise take an exclusive, non-blocking flock on `<lock_dir>/gpu<i>.lock` for the first free i,
   set CUDA_VISIBLE_DEVICES=i (and CUDA_DEVICE_ORDER=PCI_BUS_ID, so i is nvidia-smi's GPU i) and
   hold the lock for the life of the `with` block. The kernel drops the lock when the process dies,
   even on kill -9, so a crashed job never leaves a GPU claimed.
   All devices taken: wait, polling every `poll_s`, up to `timeout_s` seconds (default
   $MTMIXG_GPU_WAIT_S or 3600), then raise GpuBusyError naming the holders.

Lock dir: `lock_dir`, else $MTMIXG_GPU_LOCK_DIR, else /tmp/mtmixg-gpu-locks-<user>. The default is
per user; point MTMIXG_GPU_LOCK_DIR at one shared, group-writable folder to coordinate several users.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import getpass
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

DEFAULT_WAIT_S = 3600.0
_ENV_KEYS = ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER")


class GpuBusyError(TimeoutError):
    """Every GPU stayed claimed by other processes for the whole wait."""


def parse_nvidia_smi_list(text: str) -> int:
    """Number of physical GPUs in `nvidia-smi -L` output (lines 'GPU <i>: ...'; MIG lines ignored)."""
    return sum(1 for line in text.splitlines() if line.startswith("GPU "))


def count_gpus() -> int:
    """GPUs on this machine per `nvidia-smi -L`; 0 without nvidia-smi or when it fails.

    Deliberately not torch.cuda: querying torch here could initialise CUDA before
    CUDA_VISIBLE_DEVICES is set, and torch caches the device count.
    """
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return 0
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return parse_nvidia_smi_list(out.stdout) if out.returncode == 0 else 0


def local_gpu_limit(gpus_per_job: int, given: bool, visible_gpus: int) -> int | None:
    """How many GPUs a local run may hand out at once to its training jobs (resource `gpu`): the
    GPUs on this machine (each job claims its own, see claim_gpu), at least one job's worth.

    None when nothing is to be set: the jobs ask for no GPU, or the user gave `--resources gpu=N`.
    The workflow scopes `gpu` as local, so a cluster executor ignores this limit.
    """
    if given or gpus_per_job == 0:
        return None
    return max(visible_gpus, gpus_per_job)


def default_lock_dir() -> Path:
    """$MTMIXG_GPU_LOCK_DIR, else /tmp/mtmixg-gpu-locks-<user>."""
    env = os.environ.get("MTMIXG_GPU_LOCK_DIR")
    if env:
        return Path(env)
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return Path("/tmp") / f"mtmixg-gpu-locks-{user}"


def _cuda_initialised() -> bool:
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    try:
        return bool(torch.cuda.is_initialized())
    except Exception:  # a half-imported or CPU-only torch: nothing initialised
        return False


def _try_lock(path: Path) -> int | None:
    """Open and exclusively flock `path` without blocking; the fd on success, None if held."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        os.close(fd)
        if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return None
        raise
    # Record the holder for error messages (informational only; the flock is the claim).
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


def _holders(lock_dir: Path, n: int) -> str:
    parts = []
    for i in range(n):
        try:
            pid = (lock_dir / f"gpu{i}.lock").read_text().strip() or "?"
        except OSError:
            pid = "?"
        parts.append(f"gpu{i}: pid {pid}")
    return ", ".join(parts)


@contextlib.contextmanager
def claim_gpu(
    n_devices: int | None = None,
    lock_dir: Path | None = None,
    timeout_s: float | None = None,
    poll_s: float = 1.0,
) -> Iterator[int | None]:
    """Claim one free GPU for this process; yields its index, or None when nothing was claimed.

    n_devices: GPUs to choose from (default: `nvidia-smi -L`). lock_dir: see module doc.
    timeout_s: how long to wait when all are taken (default $MTMIXG_GPU_WAIT_S or 3600 s).
    Sets CUDA_VISIBLE_DEVICES for the block and restores the previous environment afterwards.
    """
    if "CUDA_VISIBLE_DEVICES" in os.environ or "SLURM_JOB_ID" in os.environ:
        yield None
        return
    if _cuda_initialised():
        raise RuntimeError(
            "claim_gpu() must run before CUDA is initialised (call it before any torch.cuda use)"
        )
    n = count_gpus() if n_devices is None else n_devices
    if n <= 0:
        yield None
        return
    folder = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    folder.mkdir(parents=True, exist_ok=True)
    wait = float(os.environ.get("MTMIXG_GPU_WAIT_S", DEFAULT_WAIT_S)) if timeout_s is None else timeout_s
    deadline = time.monotonic() + wait
    announced = False
    while True:
        for index in range(n):
            fd = _try_lock(folder / f"gpu{index}.lock")
            if fd is not None:
                break
        else:
            if time.monotonic() >= deadline:
                raise GpuBusyError(
                    f"all {n} GPUs stayed claimed for {wait:g} s ({_holders(folder, n)}; locks in "
                    f"{folder}). Run fewer training jobs at once (snakemake --resources gpu={n}) "
                    "or raise MTMIXG_GPU_WAIT_S."
                )
            if not announced:
                print(
                    f"mtmixg: all {n} GPUs are claimed ({_holders(folder, n)}); "
                    f"waiting up to {wait:g} s for one to free up",
                    file=sys.stderr,
                    flush=True,
                )
                announced = True
            time.sleep(poll_s)
            continue
        break
    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    os.environ["CUDA_VISIBLE_DEVICES"] = str(index)
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    try:
        yield index
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
