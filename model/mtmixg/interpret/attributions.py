"""Attribution maps of one trained fold, for that fold's held-out (test) genes only.

method "auto": DeepLIFT/SHAP where the architecture's non-linearities are covered
(deeplift.supports_deeplift), else ISM; a DeepLIFT/SHAP map whose convergence deltas fail is
never written: "auto" recomputes the fold with ISM, "deeplift" stops with an error.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import __version__
from ..checkpoint import check_meta_path, load_model, meta_path, resolve_model_path
from ..core.clobber import refuse_overwrite
from ..data.dataset import WindowsFiles, load_windows, same_windows
from ..data.sequence import codes_to_one_hot_batch
from ..progress import Progress
from .deeplift import TOLERANCE, deeplift_shap, supports_deeplift, with_module_activations
from .ism import ism
from .maps import Maps, MapsFiles, save_maps
from .score import HighScore

METHODS = ("auto", "deeplift", "ism")


def predictions_path(model_path: Path) -> Path:
    """predictions.tsv beside a model.pt: its set=test rows are the fold's held-out genes."""
    return model_path.parent / "predictions.tsv"


def check_trained_on(meta: dict, model_path: Path, gw, windows_dir: str | Path) -> None:
    """ValueError unless the windows are those the model was trained on (dataset.same_windows);
    a model.json without digests (not written by `mtmixg train`) has nothing to compare."""
    if meta.get("genes_digest") is None and meta.get("dataset_digest") is None:
        return
    if not same_windows(meta, gw):
        raise ValueError(f"{windows_dir}: not the windows {model_path} was trained on (other sequences, gene IDs or "
                         f"folds); give the windows folder it was trained on ({meta.get('windows_dir', 'see its model.json')})")


def held_out_rows(pred_path: Path, gene_ids: pd.Series, folds: pd.Series | None = None,
                  fold: str | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Window rows (int64) and predictions rows of the fold's test genes (pred_path, the fold's
    predictions.tsv: its set=test rows).

    folds, fold: the windows' fold column and the model's held-out fold: a test gene of another
    fold (a predictions.tsv of another run) is refused."""
    pred_path = Path(pred_path)
    if not pred_path.is_file():
        raise ValueError(f"{pred_path}: missing; the fold's held-out genes are its set=test rows (written by `mtmixg train`)")
    pred = pd.read_csv(pred_path, sep="\t", dtype={"gene_id": str})
    if "set" not in pred.columns or "gene_id" not in pred.columns:
        raise ValueError(f"{pred_path}: lacks column 'set' or 'gene_id'")
    test = pred[pred["set"] == "test"].reset_index(drop=True)
    row_of = pd.Series(np.arange(len(gene_ids)), index=gene_ids.astype(str).to_numpy())
    missing = sorted(set(test["gene_id"]) - set(row_of.index))
    if missing:
        raise ValueError(f"{pred_path}: gene {missing[0]} (and {len(missing) - 1} more) not in the windows; explain with the windows the model was trained on")
    rows = row_of.loc[test["gene_id"]].to_numpy(np.int64)
    if folds is not None and len(rows):
        other = folds.astype(str).to_numpy()[rows] != str(fold)
        if other.any():
            raise ValueError(f"{pred_path}: test gene {test['gene_id'][np.argmax(other)]} is not of the model's held-out "
                             f"fold {fold}; this predictions.tsv belongs to another run - retrain this fold")
    return rows, test


def explain_fold(
    model_path: str | Path,
    windows_dir: str | Path | WindowsFiles,
    out_dir: str | Path | MapsFiles,
    method: str = "auto",
    n_shuffles: int = 20,
    ism_window: tuple[int, int] | None = None,
    batch_size: int = 32,
    seed: int = 0,
    max_genes: int | None = None,
    predictions: str | Path | None = None,
) -> dict:
    """Write the maps of a fold's held-out genes into out_dir (see maps.py); returns explain.json's dict.

    windows_dir: the windows folder or its files; out_dir: the maps folder or its files;
    predictions: the fold's predictions.tsv (default: the one beside model.pt). ism_window: [start, end) of the window to mutate (ISM only; default the whole window).
    batch_size: genes per DeepLIFT/SHAP step. max_genes: the first N held-out genes only.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    model_path = resolve_model_path(model_path)
    pred_path = Path(predictions) if predictions is not None else predictions_path(model_path)
    windows = WindowsFiles.of(windows_dir)
    inputs = {"--model": model_path, "model.json": meta_path(model_path), "predictions.tsv": pred_path}
    if isinstance(windows_dir, WindowsFiles):
        inputs.update({"windows.npy": windows.windows, "genes.tsv": windows.genes, "window.json": windows.spec})
    else:
        inputs["--windows"] = windows_dir
    if isinstance(out_dir, MapsFiles):
        refuse_overwrite(inputs, outputs=vars(out_dir))
    else:
        refuse_overwrite(inputs, folders={"--out": out_dir})
    model, meta = load_model(model_path)
    arch, spec, task = meta["model_config"].arch, meta["window_spec"], meta["task"]
    gw = load_windows(windows)
    if gw.spec.length != spec.length:
        raise ValueError(f"{windows_dir}: windows of length {gw.spec.length}, the model takes {spec.length}")
    check_trained_on(meta, model_path, gw, windows_dir)
    rows, table = held_out_rows(pred_path, gw.genes["gene_id"], gw.genes["fold"], meta.get("fold"))
    if max_genes is not None:
        rows, table = rows[:max_genes], table.iloc[:max_genes].reset_index(drop=True)
    if len(rows) == 0:
        raise ValueError(f"{model_path}: the fold has no held-out genes to explain")
    # the model masks DeepCRE's codons itself (ModelConfig.mask_codons): the maps show zeros there
    x = torch.from_numpy(codes_to_one_hot_batch(np.asarray(gw.codes[np.sort(rows)])[np.argsort(np.argsort(rows))]))
    score = HighScore(model, task).eval()
    label = f"explain {arch} seed {meta.get('seed')} fold {meta.get('fold')}"
    info = {"arch": arch, "task": task, "fold": meta.get("fold"), "seed": meta.get("seed"), "model": str(model_path),
            "n_genes": len(rows), "window": spec.to_dict(), "mtmixg_version": __version__}
    started = time.perf_counter()
    hyp = None
    if method == "deeplift" and not supports_deeplift(arch):
        raise ValueError(f"architecture {arch!r}: DeepLIFT/SHAP does not handle its non-linearities "
                         "(softplus/exponentials in the scan, gating or attention products); use method ism or auto")
    if method in ("deeplift", "auto") and supports_deeplift(arch):
        hyp, deltas, seconds = _deeplift(score, x, spec, n_shuffles, seed, batch_size, label)
        worst = deltas.abs().amax(1)
        info.update(deeplift_seconds=seconds, n_shuffles=n_shuffles, delta_tolerance=TOLERANCE,
                    max_abs_delta=float(worst.max()), mean_abs_delta=float(deltas.abs().mean()))
        table["max_abs_delta"] = worst.numpy()
        if bool((worst > TOLERANCE).any()):
            bad = int((worst > TOLERANCE).sum())
            why = f"DeepLIFT/SHAP convergence deltas of {bad}/{len(rows)} genes exceed {TOLERANCE} (max {float(worst.max()):.3g})"
            if method == "deeplift":
                raise ValueError(f"{model_path}: {why}; the maps are not written")
            info["deeplift_refused"] = why
            hyp = None
            table = table.drop(columns="max_abs_delta")
        else:
            info.update(method="deeplift_shap", why="the architecture is built from convolutions, ReLU, max-pool and linear layers")
    if hyp is None:
        start, end = (0, spec.length) if ism_window is None else (int(ism_window[0]), int(ism_window[1]))
        progress = Progress(f"{label} (ISM)", len(rows), unit="gene", rate_unit="genes")
        hyp = ism(score, x, start, end, progress=progress)
        info.update(method="ism", ism_window=[start, end], ism_seconds=progress.seconds,
                    why=info.get("deeplift_refused") or f"DeepLIFT/SHAP's rules do not cover architecture {arch!r}"
                    if method == "auto" else "ISM requested")
    info["seconds"] = time.perf_counter() - started
    info["seconds_per_gene"] = info["seconds"] / len(rows)
    with torch.no_grad():
        table["score"] = torch.cat([score(x[i : i + 256])[:, 0] for i in range(0, len(x), 256)]).numpy()
    keep = [c for c in ("gene_id", "chrom", "label", "score", "max_abs_delta") if c in table.columns]
    maps = Maps(x.numpy().astype(np.int8), hyp.numpy(), table[keep], info)
    save_maps(out_dir, maps)
    return info


def _deeplift(score, x, spec, n_shuffles, seed, batch_size, label):
    """DeepLIFT/SHAP in steps of batch_size genes -> (hyp (N, 4, L), deltas (N, S), seconds)."""
    with_module_activations(score)
    progress = Progress(f"{label} (DeepLIFT/SHAP)", len(x), unit="gene", rate_unit="genes")
    hyps, deltas = [], []
    for lo in range(0, len(x), batch_size):
        h, d = deeplift_shap(score, x[lo : lo + batch_size], spec, n_shuffles, seed + lo, batch_size * n_shuffles)
        hyps.append(h)
        deltas.append(d)
        progress(len(h))
    return torch.cat(hyps), torch.cat(deltas), progress.seconds


def attributions_job(model: str | Path, meta: str | Path, predictions: str | Path, windows: WindowsFiles,
                     maps: MapsFiles, method: str = "auto", n_shuffles: int = 20,
                     ism_window: Sequence[int] | None = None, threads: int = 1) -> dict:
    """Maps of one fold's held-out genes (rule attributions): explain_fold on `threads` threads.

    model, meta, predictions: the fold's model.pt, its model.json (the one beside it, see
    checkpoint.meta_path) and predictions.tsv; windows: the dataset's files; maps: the files to
    write. Logs one line on stderr; returns explain.json's dict.
    """
    check_meta_path(model, meta)
    torch.set_num_threads(int(threads))
    result = explain_fold(model, windows, maps, method=method, n_shuffles=n_shuffles,
                          ism_window=tuple(ism_window) if ism_window else None, predictions=predictions)
    print(f"{result['n_genes']} genes by {result['method']} in {result['seconds']:.1f} s ({result['why']})",
          file=sys.stderr)
    return result
