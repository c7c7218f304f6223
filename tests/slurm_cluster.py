"""A real one-node Slurm cluster for tests: munged + slurmctld + slurmd on loopback, as root.

Use the session fixture `slurm_cluster` (import it into a test module). It needs the Debian packages
`slurm-wlm munge` (CI: .ci/run installs them) and root (it writes /etc/slurm/slurm.conf: the
Snakemake slurm plugin's job step strips SLURM_CONF, so the default path is the only one that works).

Layout: everything (state, spool, logs, pid files, munge key and socket) lives in one temp folder;
the daemons listen on 127.0.0.1 only, on free ports picked at start. No accounting (no slurmdbd):
sacct does not work, so Snakemake must use `slurm-status-command: squeue`. One stand-in GPU
(gres gpu:testgpu:1 backed by /dev/null, in /etc/slurm/gres.conf): Slurm schedules --gpus
requests against it and sets CUDA_VISIBLE_DEVICES in the job; nothing can compute on it. The node
has the feature NODE_FEATURE (for --constraint).
Teardown cancels the cluster's jobs, stops every daemon it started by PID (SIGTERM, wait,
SIGKILL) and removes /etc/slurm/slurm.conf and gres.conf (restoring any that existed before):
with the plugin installed, a slurm.conf without a controller slows every later `snakemake`
call by ~10 s. A session killed before teardown is cleaned up by the next start.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SLURM_CONF = Path("/etc/slurm/slurm.conf")
GRES_CONF = SLURM_CONF.with_name("gres.conf")
MARK = "# Written by mtmixg tests/slurm_cluster.py"
PARTITION = "debug"
NODE = "mtmixgnode"
CPUS = 2
# One stand-in GPU: a gres backed by /dev/null (see gres_conf_text); Slurm allocates it for
# --gpus/--gres like a real one and sets CUDA_VISIBLE_DEVICES in the job. Nothing runs on it.
GPUS = 1
GPU_TYPE = "testgpu"
# A node feature, for jobs that ask for one with --constraint (resource `constraint`).
NODE_FEATURE = "testfeature"
REQUIRED = ("munged", "munge", "unmunge", "slurmctld", "slurmd", "sinfo", "squeue", "scontrol", "sbatch", "scancel")
INSTALL_HINT = "apt-get install -y --no-install-recommends slurm-wlm munge"


@dataclass
class SlurmCluster:
    """A running test cluster. `partition`/`node`: names to submit to; `root`: its temp folder."""

    root: Path
    partition: str = PARTITION
    node: str = NODE
    cpus: int = CPUS
    mem_mb: int = 0
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    saved: dict[Path, bytes | None] = field(default_factory=dict)  # config files replaced -> old bytes

    @property
    def slurmctld_log(self) -> Path:
        return self.root / "log" / "slurmctld.log"

    @property
    def slurmd_log(self) -> Path:
        return self.root / "log" / "slurmd.log"

    def run(self, *cmd: str, check: bool = True, timeout: float = 30) -> str:
        """Run a Slurm client command against this cluster; its stdout."""
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if check and out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {out.returncode}: {out.stderr.strip()}")
        return out.stdout

    def job_ids(self) -> set[str]:
        """IDs of all jobs slurmctld still knows (squeue keeps finished ones for MinJobAge=300 s)."""
        out = self.run("squeue", "--states=all", "--noheader", "--format=%i")
        return {line.strip() for line in out.splitlines() if line.strip()}

    def job_state(self, job_id: str) -> str:
        out = self.run("squeue", "--states=all", "--noheader", "--format=%T", "--jobs", job_id, check=False)
        return out.strip()


def _missing_tools() -> list[str]:
    return [tool for tool in REQUIRED if shutil.which(tool) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mem_mb() -> int:
    """MemTotal in MB, as slurmd -C reports it (slurmd drains a node that claims more)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def slurm_conf_text(root: Path, mem_mb: int, ctld_port: int, slurmd_port: int, cpus: int = CPUS) -> str:
    """slurm.conf of the one-node test cluster (everything under `root`, loopback only)."""
    munge_socket = root / "munge" / "munge.socket.2"
    return f"""\
{MARK}; removed when the test cluster stops.
ClusterName=mtmixgtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/run/slurmctld.pid
SlurmdPidFile={root}/run/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
ReturnToService=2
MpiDefault=none
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
GresTypes=gpu
MinJobAge=300
InactiveLimit=0
KillWait=5
SchedulerType=sched/backfill
NodeName={NODE} NodeHostname={socket.gethostname()} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} Gres=gpu:{GPU_TYPE}:{GPUS} Features={NODE_FEATURE} State=UNKNOWN
PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
"""


def gres_conf_text() -> str:
    """gres.conf (next to slurm.conf): the stand-in GPU(s), without hardware autodetection."""
    return f"{MARK}\nAutoDetect=off\n" + "".join(
        f"NodeName={NODE} Name=gpu Type={GPU_TYPE} File=/dev/null\n" for _ in range(GPUS)
    )


def _wait_for(what: str, check, timeout: float, cluster: SlurmCluster) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in cluster.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited {proc.returncode} while waiting for {what}; {_logs(cluster)}")
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}; {_logs(cluster)}")


def _logs(cluster: SlurmCluster) -> str:
    parts = []
    for path in sorted((cluster.root / "log").glob("*")):
        text = path.read_text(errors="replace")[-1500:]
        parts.append(f"--- {path.name}:\n{text}")
    return "daemon logs:\n" + "\n".join(parts)


def _spawn(cluster: SlurmCluster, name: str, cmd: list[str], **kwargs) -> None:
    out = open(cluster.root / "log" / f"{name}.out", "wb")
    cluster.procs[name] = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs)
    out.close()


def start_cluster(root: Path) -> SlurmCluster:
    """Start munged, slurmctld and slurmd under `root`; returns once the node is idle."""
    missing = _missing_tools()
    if missing:
        pytest.fail(f"Slurm test cluster: missing {', '.join(missing)}; install with: {INSTALL_HINT}", pytrace=False)
    if os.geteuid() != 0:
        pytest.skip("the Slurm test cluster needs root (it writes /etc/slurm/slurm.conf and runs munged as munge)")
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # munged runs as user munge and must reach root/munge
    for sub in ("state", "spool", "run", "log", "munge"):
        (root / sub).mkdir(exist_ok=True)
    _stop_stale_cluster()
    cluster = SlurmCluster(root=root, mem_mb=_mem_mb(), cpus=min(CPUS, os.cpu_count() or 1))
    try:
        _start(cluster)
    except BaseException:
        stop_cluster(cluster)
        raise
    return cluster


def _start(cluster: SlurmCluster) -> None:
    root = cluster.root
    munge_user = pwd.getpwnam("munge")
    munge_dir = root / "munge"
    key = munge_dir / "munge.key"
    key.write_bytes(os.urandom(1024))
    for path in (munge_dir, key):
        os.chown(path, munge_user.pw_uid, munge_user.pw_gid)
    munge_dir.chmod(0o755)
    key.chmod(0o400)
    sock = munge_dir / "munge.socket.2"
    _spawn(
        cluster,
        "munged",
        ["munged", "--foreground", f"--key-file={key}", f"--socket={sock}", f"--pid-file={munge_dir}/munged.pid",
         f"--log-file={munge_dir}/munged.log", f"--seed-file={munge_dir}/munged.seed", "--num-threads=2"],
        user=munge_user.pw_uid, group=munge_user.pw_gid, extra_groups=[],
    )

    def munge_ok() -> bool:
        cred = subprocess.run(["munge", "-n", "-S", str(sock)], capture_output=True, check=False)
        if cred.returncode != 0:
            return False
        back = subprocess.run(["unmunge", "-S", str(sock)], input=cred.stdout, capture_output=True, check=False)
        return back.returncode == 0

    _wait_for("munged", munge_ok, 20, cluster)

    ctld_port, slurmd_port = _free_port(), _free_port()
    while slurmd_port == ctld_port:
        slurmd_port = _free_port()
    _install(cluster, GRES_CONF, gres_conf_text())
    _install(cluster, SLURM_CONF, slurm_conf_text(root, cluster.mem_mb, ctld_port, slurmd_port, cluster.cpus))

    # -D: stay in the foreground, so the PID we hold is the daemon's; -i: ignore stale state.
    _spawn(cluster, "slurmctld", ["slurmctld", "-D", "-i", "-f", str(SLURM_CONF)])
    _wait_for("slurmctld", lambda: "UP" in cluster.run("scontrol", "ping", check=False, timeout=10), 30, cluster)
    _spawn(cluster, "slurmd", ["slurmd", "-D", "-N", NODE, "-f", str(SLURM_CONF)])

    def node_idle() -> bool:
        state = cluster.run("sinfo", "--noheader", "--nodes", NODE, "--format=%T", check=False).strip()
        return state == "idle"

    _wait_for(f"node {NODE} idle", node_idle, 60, cluster)


def _stop_stale_cluster() -> None:
    """A test session killed before its teardown leaves its daemons and our slurm.conf behind:
    stop those daemons (by the PIDs in the pid files of that cluster's folder) and drop its files."""
    if not SLURM_CONF.exists() or not SLURM_CONF.read_text(errors="replace").startswith(MARK):
        return
    match = re.search(r"^StateSaveLocation=(.+)/state$", SLURM_CONF.read_text(), re.MULTILINE)
    if match:
        old = Path(match.group(1))
        for pid_file, name in ((old / "run/slurmd.pid", "slurmd"), (old / "run/slurmctld.pid", "slurmctld"),
                               (old / "munge/munged.pid", "munged")):
            try:
                pid = int(pid_file.read_text().split()[0])
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
            except (OSError, ValueError, IndexError):
                continue
            if comm == name:
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    if not Path(f"/proc/{pid}").exists():
                        break
                    time.sleep(0.2)
                else:
                    os.kill(pid, signal.SIGKILL)
        if old.name.startswith("mtmixg-slurm-"):
            shutil.rmtree(old, ignore_errors=True)
    for path in (SLURM_CONF, GRES_CONF):
        if path.exists() and path.read_text(errors="replace").startswith(MARK):
            path.unlink()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.mtmixg-tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _install(cluster: SlurmCluster, path: Path, text: str) -> None:
    """Write a config file, remembering what was there (restored by stop_cluster)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path not in cluster.saved:
        cluster.saved[path] = path.read_bytes() if path.exists() else None
    _write_atomic(path, text.encode())


def _stop_pid(proc: subprocess.Popen, grace: float = 10) -> None:
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def stop_cluster(cluster: SlurmCluster) -> None:
    """Cancel the cluster's jobs, stop its daemons by PID (slurmd, slurmctld, munged) and restore slurm.conf."""
    try:
        ctld = cluster.procs.get("slurmctld")
        if ctld is not None and ctld.poll() is None:
            subprocess.run(["scancel", f"--partition={cluster.partition}"], capture_output=True, timeout=30, check=False)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                out = subprocess.run(["squeue", "--noheader", "--format=%i"], capture_output=True, text=True,
                                     timeout=30, check=False)
                if out.returncode != 0 or not out.stdout.strip():
                    break
                time.sleep(0.5)
    finally:
        for name in ("slurmd", "slurmctld", "munged"):
            proc = cluster.procs.get(name)
            if proc is not None:
                _stop_pid(proc)
        for path, old in cluster.saved.items():
            if old is not None:
                _write_atomic(path, old)
            elif path.exists() and path.read_text(errors="replace").startswith(MARK):
                path.unlink()


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    """A running one-node Slurm cluster for the whole test session (stopped and cleaned up after).

    Its folder is a fresh /tmp/mtmixg-slurm-* (pytest's own tmp is 0700: munged, running as
    user munge, could not reach its socket there); kept when MTMIXG_KEEP_SLURM=1, for debugging.
    """
    root = Path(tempfile.mkdtemp(prefix="mtmixg-slurm-"))
    try:
        cluster = start_cluster(root)
        try:
            yield cluster
        finally:
            stop_cluster(cluster)
    finally:
        if os.environ.get("MTMIXG_KEEP_SLURM") != "1":
            shutil.rmtree(root, ignore_errors=True)
