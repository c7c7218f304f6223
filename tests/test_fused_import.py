"""The fused Mamba kernels (mamba_ssm, causal_conv1d) are imported lazily, after the job's GPU
claim, and a failed import is never silent: stand-in packages written into tmp_path record when
they are imported, or fail like mamba-ssm 2.2.5 under Transformers v5 (state-spaces/mamba#807)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mtmixg.models.architectures import build_model
from mtmixg.ops import check_kernel_path, fused_kernels
from mtmixg.ops.fused import FusedKernelsError
from mtmixg.ops.numba_pool import HAS_NUMBA
from mtmixg.core.experiments import experiment_param
from training_data import SPEC, make_windows, tiny_model

REPO = Path(__file__).resolve().parents[1]
CPU_PATH = "numba" if HAS_NUMBA else "pure"
RECORD = 'import os\nwith open(os.environ["STAND_IN_EVENTS"], "a") as f:\n    f.write(f"{__name__} CUDA_VISIBLE_DEVICES={os.environ.get(\'CUDA_VISIBLE_DEVICES\')}\\n")\n'
BROKEN = "from transformers.generation import GreedySearchDecoderOnlyOutput  # removed in Transformers v5\n"


def _stand_ins(root: Path, mamba_init: str = RECORD) -> Path:
    """mamba_ssm (ops.selective_scan_interface.selective_scan_fn) and causal_conv1d (causal_conv1d_fn)
    under root; mamba_ssm/__init__.py runs mamba_init, causal_conv1d records its import."""
    (root / "mamba_ssm/ops").mkdir(parents=True)
    (root / "mamba_ssm/__init__.py").write_text(mamba_init)
    (root / "mamba_ssm/ops/__init__.py").write_text("")
    (root / "mamba_ssm/ops/selective_scan_interface.py").write_text("def selective_scan_fn(*args, **kwargs):\n    raise AssertionError('stand-in')\n")
    (root / "causal_conv1d").mkdir()
    (root / "causal_conv1d/__init__.py").write_text(RECORD + "def causal_conv1d_fn(*args, **kwargs):\n    raise AssertionError('stand-in')\n")
    return root


def _env(tmp_path: Path, stand_ins: Path) -> dict[str, str]:
    """This environment without a GPU choice, the stand-ins first on PYTHONPATH, a fake nvidia-smi
    listing 2 GPUs first on PATH, GPU locks in tmp_path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: Stand-in GPU (UUID: GPU-0)'\necho 'GPU 1: Stand-in GPU (UUID: GPU-1)'\n")
    smi.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_ID")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(stand_ins), str(REPO / "model"), str(REPO / "tests")]),
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        MTMIXG_GPU_LOCK_DIR=str(tmp_path / "locks"),
        STAND_IN_EVENTS=str(tmp_path / "events.txt"),
    )
    return env


def _events(tmp_path: Path) -> list[str]:
    path = tmp_path / "events.txt"
    return path.read_text().splitlines() if path.exists() else []


# The rule train job: workflow_scripts/train.py run as Snakemake runs it, with a `snakemake` object.
JOB = textwrap.dedent(
    """
    import json, runpy, sys
    from types import SimpleNamespace

    class Named(dict):
        __getattr__ = dict.__getitem__

    a = json.loads(sys.argv[1])
    w, o = a["windows"], a["out"]
    snakemake = SimpleNamespace(
        log=[a["log"]], input=Named(windows=f"{w}/windows.npy", genes=f"{w}/genes.tsv", spec=f"{w}/window.json"),
        output=Named(model=f"{o}/model.pt", meta=f"{o}/model.json", metrics=f"{o}/metrics.json",
                     predictions=f"{o}/predictions.tsv"),
        params=Named(resume=a["resume"], experiment=a["experiment"]),
        wildcards=Named(fold="chr1", experiment="cnn_mamba", seed="0"), config=a["config"], threads=1,
    )
    runpy.run_path(a["script"], init_globals={"snakemake": snakemake}, run_name="__main__")
    """
)


def test_train_job_imports_no_fused_kernels_before_the_gpu_claim(tmp_path: Path) -> None:
    """On a workstation the job claims a GPU (CUDA_VISIBLE_DEVICES=0) before anything can import
    mamba_ssm / causal_conv1d (and through them triton, which fixes the CUDA devices)."""
    make_windows(tmp_path / "w", n_per_chrom=30)
    model = {k: v for k, v in tiny_model().to_dict().items() if k not in ("arch", "seq_len", "n_outputs", "tss_index", "tts_index")}
    config = {"task": "binary", "model": model, "training": {"epochs": 1, "batch_size": 16},
              "gpu": {"use": "auto", "per_job": 1}, "window": SPEC.to_dict()}
    args = {
        "script": str(REPO / "workflow_scripts/train.py"), "log": str(tmp_path / "train.log"),
        "windows": str(tmp_path / "w"), "out": str(tmp_path / "o"), "resume": str(tmp_path / "resume/state.pt"),
        "config": config, "experiment": experiment_param("cnn_mamba", config),
    }  # fmt: skip
    done = subprocess.run([sys.executable, "-c", JOB, json.dumps(args)], env=_env(tmp_path, _stand_ins(tmp_path / "pkgs")),
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    log = (tmp_path / "train.log").read_text()
    assert done.returncode == 0, done.stderr[-3000:] + log[-3000:]
    assert "claimed GPU 0 (CUDA_VISIBLE_DEVICES=0)" in log, log
    before_claim = [e for e in _events(tmp_path) if not e.endswith("CUDA_VISIBLE_DEVICES=0")]
    assert before_claim == [], f"imported before the GPU claim set CUDA_VISIBLE_DEVICES: {before_claim}"
    assert json.loads((tmp_path / "o/metrics.json").read_text())["kernel_path"] == CPU_PATH


def test_fused_kernels_are_imported_on_first_use_only(tmp_path: Path) -> None:
    """Importing the training code imports no stand-in; fused_kernels() does, once."""
    code = textwrap.dedent(
        """
        import os, mtmixg.train, mtmixg.cli
        from mtmixg.ops import fused_kernels
        print(open(os.environ["STAND_IN_EVENTS"]).read() if os.path.exists(os.environ["STAND_IN_EVENTS"]) else "", end="|")
        print(fused_kernels().available, fused_kernels().available)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path, _stand_ins(tmp_path / "pkgs")),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "|True True\n", done.stdout
    assert _events(tmp_path) == ["mamba_ssm CUDA_VISIBLE_DEVICES=None", "causal_conv1d CUDA_VISIBLE_DEVICES=None"]


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Install stand-ins for this process: packages(mamba_init) -> their folder; forgets them after."""

    def install(mamba_init: str = RECORD) -> Path:
        root = _stand_ins(tmp_path / "pkgs", mamba_init)
        monkeypatch.syspath_prepend(str(root))
        monkeypatch.setenv("STAND_IN_EVENTS", str(tmp_path / "events.txt"))
        fused_kernels.cache_clear()
        return root

    yield install
    fused_kernels.cache_clear()
    for name in [m for m in sys.modules if m.split(".")[0] in ("mamba_ssm", "causal_conv1d")]:
        del sys.modules[name]


def test_broken_mamba_ssm_on_cuda_is_an_error_with_the_import_traceback(packages) -> None:
    packages(BROKEN)
    model = build_model(tiny_model(arch="cnn_mamba"))
    with pytest.raises(FusedKernelsError) as err:
        check_kernel_path(model, "cuda", allow_pure=False, log=None)
    message = str(err.value)
    assert message.startswith("the fused Mamba kernels (mamba_ssm, causal_conv1d) do not import on this CUDA device")
    assert "set gpu.allow_pure_kernels: true (mtmixg train --allow-pure-kernels)" in message
    assert "import mamba_ssm.ops.selective_scan_interface failed (installed but broken):\nTraceback" in message
    assert "from transformers.generation import GreedySearchDecoderOnlyOutput" in message, message


def test_broken_mamba_ssm_allowed_logs_the_traceback_and_runs_pure(packages) -> None:
    packages(BROKEN)
    lines: list[str] = []
    assert check_kernel_path(build_model(tiny_model(arch="cnn_mamba")), "cuda", allow_pure=True, log=lines.append) == "pure"
    assert len(lines) == 1 and lines[0].startswith("Mamba kernels: the PyTorch scan on CUDA (allow_pure_kernels): import mamba_ssm")
    assert "Traceback (most recent call last)" in lines[0] and "GreedySearchDecoderOnlyOutput" in lines[0]


def test_mamba_ssm_not_installed_is_one_quiet_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "path", [p for p in sys.path if not Path(p, "mamba_ssm").exists()])
    fused_kernels.cache_clear()
    try:
        kernels = fused_kernels()
        assert kernels.missing[0] == "mamba_ssm" and not kernels.broken
        lines: list[str] = []
        model = build_model(tiny_model(arch="cnn_mamba"))
        assert check_kernel_path(model, "cuda", allow_pure=True, log=lines.append) == "pure"
        assert lines[0].startswith("Mamba kernels: the PyTorch scan on CUDA (allow_pure_kernels): mamba_ssm is not installed (")
        assert "Traceback" not in lines[0]
        with pytest.raises(FusedKernelsError, match="mamba_ssm is not installed"):
            check_kernel_path(model, "cuda", allow_pure=False, log=None)
    finally:
        fused_kernels.cache_clear()


def test_kernel_path_on_cpu_imports_nothing_and_models_without_mamba_never_fail(packages, tmp_path: Path) -> None:
    packages(BROKEN)
    assert check_kernel_path(build_model(tiny_model(arch="cnn_mamba")), "cpu", allow_pure=False, log=None) == CPU_PATH
    assert "mamba_ssm" not in sys.modules and not (tmp_path / "events.txt").exists()
    assert check_kernel_path(build_model(tiny_model(arch="cnn")), "cuda", allow_pure=False, log=None) == "none"


def test_allow_pure_kernels_from_the_gpu_config_and_the_train_option(tmp_path: Path) -> None:
    from mtmixg.cli import main
    from mtmixg.core.experiments import resolve_experiment

    assert resolve_experiment("cnn", {"task": "binary", "gpu": {"use": True, "allow_pure_kernels": True}})[1].allow_pure_kernels
    assert not resolve_experiment("cnn", {"task": "binary", "gpu": {"use": True}})[1].allow_pure_kernels
    with pytest.raises(ValueError, match="'training': allow_pure_kernels cannot be set here"):
        resolve_experiment("cnn", {"task": "binary", "training": {"allow_pure_kernels": True}})
    make_windows(tmp_path / "w", n_per_chrom=30)
    model = [f"--model={k}={v}" for k, v in (("channels", 8), ("cnn_channels", 8), ("cnn_blocks", 2), ("pools", "[4, 4]"),
                                             ("fc_hidden", "[16]"))]  # fmt: skip
    argv = ["train", str(tmp_path / "w"), "--fold", "chr1", "--arch", "cnn", "--device", "cpu", "--epochs", "1",
            "--threads", "1", "--out", str(tmp_path / "o"), "--allow-pure-kernels", *model]  # fmt: skip
    assert main(argv) == 0
    assert json.loads((tmp_path / "o/metrics.json").read_text())["train_config"]["allow_pure_kernels"] is True
