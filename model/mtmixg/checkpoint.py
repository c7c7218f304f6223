"""Model checkpoints and resume states, saved without pickled objects.

model.pt    torch.save of {"format": "mtmixg-weights", "meta_sha256": sha256 of model.json's content,
            "state_dict": tensors}; loaded with weights_only=True. The digest binds the weights to
            their description: an edited or swapped model.json is refused (load_model).
model.json  beside it: {"format": "mtmixg-model", "format_version", "mtmixg_version", "model"
            (ModelConfig dict), "task", "window" (WindowSpec dict), "train" (TrainConfig dict),
            "fold" (held-out chromosome, null: none), "seed", "dataset_digest" (of the windows
            trained on, mtmixg.data.dataset.dataset_digest)}.
Resume state: one torch.save'd dict of tensors and plain containers (see mtmixg.fit).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from torch import nn

from . import __version__
from .core.atomic import atomic_write
from .core.model_config import ModelConfig, rename_former_keys
from .core.window_spec import WindowSpec
from .tasks import check_task, n_outputs

FORMAT = "mtmixg-model"
FORMAT_VERSION = 2
WEIGHTS_FORMAT = "mtmixg-weights"
MODEL_FILE = "model.pt"
META_FILE = "model.json"


def meta_path(model_path: str | Path) -> Path:
    """model.json that belongs to a model.pt (same folder, same stem)."""
    model_path = Path(model_path)
    return model_path.with_suffix(".json")


def check_meta_path(model_path: str | Path, meta: str | Path) -> None:
    """ValueError unless meta (a rule's declared model.json) is the one load_model reads for
    model_path (meta_path: a model's description lies beside it)."""
    if Path(meta).resolve() != meta_path(model_path).resolve():
        raise ValueError(f"{meta}: not the model.json of {model_path} ({meta_path(model_path)}); "
                         "a model's description lies beside its model.pt")


def resolve_model_path(path: str | Path) -> Path:
    """Accept a model.pt file or the folder holding it."""
    path = Path(path)
    return path / MODEL_FILE if path.is_dir() else path


def meta_digest(meta: dict) -> str:
    """sha256 of a model description's canonical JSON (key order and layout do not matter)."""
    return hashlib.sha256(json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def save_model(path: str | Path, model: nn.Module, meta: dict) -> None:
    """Write model.pt (state_dict) and model.json beside it, each atomically.

    meta must hold "model" (ModelConfig dict), "task" and "window" (WindowSpec dict)."""
    path = Path(path)
    for key in ("model", "task", "window"):
        if key not in meta:
            raise ValueError(f"model metadata lacks '{key}'")
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, "mtmixg_version": __version__, **meta}
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    # model.json first: a model.pt on disk always has its description beside it
    full = json.loads(json.dumps(full))  # the digest is of what model.json will read back
    payload = {"format": WEIGHTS_FORMAT, "meta_sha256": meta_digest(full), "state_dict": state}
    atomic_write(meta_path(path), lambda tmp: Path(tmp).write_text(json.dumps(full, indent=2) + "\n"))
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def _migrate_model(model: dict, window: dict) -> dict:
    """Model keys of a model.json written by an older mtmixg: keys renamed since under their new
    names (FORMER_KEYS: variant -> arch); before mask_codons was a model setting, the window's
    mask_codons (default false) and the window's TSS/TTS positions."""
    model = rename_former_keys(model)
    if "mask_codons" in model:
        return model
    spec = WindowSpec.from_dict(window)
    return {**model, "mask_codons": bool(window.get("mask_codons", False)),
            "tss_index": spec.tss_index, "tts_index": spec.tts_index}  # fmt: skip


def read_meta(path: str | Path) -> dict:
    """Read and check model.json of a model.pt; ValueError naming the file when missing or invalid."""
    mpath = meta_path(resolve_model_path(path))
    if not mpath.is_file():
        raise ValueError(f"{mpath}: missing; a model.pt needs its model.json beside it (written by `mtmixg train`)")
    try:
        meta = json.loads(mpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{mpath}: not valid JSON ({err}); re-train or restore the file") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{mpath}: not an mtmixg model description (no \"format\": \"{FORMAT}\")")
    meta["meta_sha256"] = meta_digest(meta)
    try:
        check_task(meta["task"])
        meta["model_config"] = ModelConfig.from_dict(_migrate_model(meta["model"], meta["window"]))
        meta["window_spec"] = WindowSpec.from_dict(meta["window"])
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{mpath}: invalid model description: {err}") from None
    if meta["model_config"].n_outputs != n_outputs(meta["task"]):
        raise ValueError(f"{mpath}: model has {meta['model_config'].n_outputs} outputs, task {meta['task']} needs {n_outputs(meta['task'])}")
    if meta["model_config"].seq_len != meta["window_spec"].length:
        raise ValueError(f"{mpath}: model seq_len {meta['model_config'].seq_len} != window length {meta['window_spec'].length}")
    return meta


def _pickled(err: Exception, path: Path) -> bool:
    """True when torch.load(weights_only=True) refused path for holding pickled Python objects: a
    global the weights-only unpickler refuses, or a file that opens as a pickle (protocol 2+), not
    bytes that merely fail to parse."""
    text = str(err)
    if "weights only load failed" not in text.lower():
        return False
    with open(path, "rb") as handle:
        return "Unsupported global" in text or handle.read(1) == b"\x80"


NOT_WEIGHTS_ONLY = ("is not a weights-only checkpoint: it holds pickled Python objects, which can run code when "
                    "loaded, and must never be loaded that way")


def load_state_dict(path: str | Path, meta_sha256: str | None = None) -> dict:
    """The state_dict of a model.pt (torch.load weights_only=True); ValueError naming the file when
    unreadable, or when meta_sha256 is given and differs from the digest stored in the file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such model file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, wrong format, pickled objects...
        if _pickled(err, path):
            raise ValueError(f"{path}: {NOT_WEIGHTS_ONLY}; restore the model.pt written by `mtmixg train`") from None
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{path}: corrupt or not an mtmixg model.pt ({msg[:200]}); re-train or restore the file") from None
    if not isinstance(state, dict) or state.get("format") != WEIGHTS_FORMAT:
        raise ValueError(f"{path}: not an mtmixg model.pt of format {WEIGHTS_FORMAT} (written by an older mtmixg, "
                         "without the digest binding it to model.json); re-train it")
    if meta_sha256 is not None and state.get("meta_sha256") != meta_sha256:
        raise ValueError(f"{meta_path(path)}: does not match {path.name} (its content was edited or the file belongs to "
                         "another model); restore the model.json written with it or re-train")
    weights = state.get("state_dict")
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise ValueError(f"{path}: not a state_dict of tensors")
    return weights


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild a model from model.pt + model.json -> (model in eval mode, meta).

    meta holds the JSON keys plus "model_config" (ModelConfig), "window_spec" (WindowSpec) and
    "meta_sha256". The one public loader of trained models: ValueError naming the file when either
    file is missing, corrupt, or the two do not belong together.
    """
    from .models.architectures import build_model

    path = resolve_model_path(path)
    meta = read_meta(path)
    state = load_state_dict(path, meta["meta_sha256"])
    model = build_model(meta["model_config"])
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise ValueError(f"{path}: weights do not fit the model described in {meta_path(path).name} ({first})") from None
    return model.to(device).eval(), meta


def save_state(path: str | Path, state: dict) -> None:
    """Atomically torch.save a resume state (tensors and plain containers only)."""
    atomic_write(Path(path), lambda tmp: torch.save(state, tmp))


def load_state(path: str | Path) -> dict:
    """Load a resume state with weights_only=True; ValueError naming the file when unreadable."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        if _pickled(err, path):
            raise ValueError(f"{path}: {NOT_WEIGHTS_ONLY}; delete it to start the run afresh") from None
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ValueError(f"{path}: unreadable resume state ({msg[:200]}); delete it to start the run afresh") from None
