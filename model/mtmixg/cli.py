"""The `mtmixg` command: train, evaluate, predict (and subcommands other modules register).

Bad input ends with ONE line on stderr, `mtmixg: error: <file or key>: <what is wrong>`, and exit
code 2. Subcommands come from SUBCOMMANDS: (name, help, module). A module other than this one either
provides `add_arguments(parser)` and `main(args: argparse.Namespace) -> int | None`, or only
`main(argv: list[str]) -> int | None` parsing its own arguments (as mtmixg.demo).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

import yaml

from . import __version__
from .argtypes import nonnegative_int, positive_int
from .core.configio import load_unique

SUBCOMMANDS: list[tuple[str, str, str]] = [  # (name, help, module); add yours here
    ("train", "train a model on one fold of a windows folder", "mtmixg.cli"),
    ("evaluate", "score a trained model on a windows folder (metrics JSON + predictions TSV)", "mtmixg.cli"),
    ("predict", "predict expression-class probabilities for gene windows (FASTA, or genome + GFF3)", "mtmixg.cli"),
    ("demo", "write a small synthetic demo species (genome, GFF3, reads)", "mtmixg.demo"),
    ("devset", "build the real A. thaliana development set (chromosome 1 as 1A-1C, leaf TPM)", "mtmixg.data.devset"),
    ("score-variants", "predicted effect of each SNP / small indel of a VCF on its genes' expression class",
     "mtmixg.variant_effects.cli"),
    ("explain", "attribution maps (DeepLIFT/SHAP or ISM) of a fold's held-out genes", "mtmixg.interpret.cli"),
]


class CLIError(Exception):
    """Bad input: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise CLIError(f"{message}; see `{self.prog} --help`")


# ------------------------------------------------------------------ helpers
def _read_config(path: str, kind: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{p}: no such {kind} config file")
    try:
        text = p.read_text()
        data = load_unique(text, p)  # a key given twice is a ValueError naming it and its lines
    except (json.JSONDecodeError, yaml.YAMLError, UnicodeDecodeError) as err:
        raise CLIError(f"{p}: not valid {'YAML' if p.suffix in ('.yaml', '.yml') else 'JSON'}: {str(err).splitlines()[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CLIError(f"{p}: must hold a mapping of {kind} keys to values")
    return data


def _key_values(items: list[str] | None, option: str) -> dict:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CLIError(f"{option} {item}: expected KEY=VALUE")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        out[key.replace("-", "_")] = _number(parsed)
    return out


def _number(value):
    """YAML 1.1 reads 1e-4 as a string: turn such numeric strings into floats."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _windows_dir(path: str):
    from .data.dataset import load_windows

    p = Path(path)
    if not p.is_dir():
        raise CLIError(f"{p}: no such windows folder; give the folder holding windows.npy, genes.tsv and window.json")
    return load_windows(p)


def device_arg(name: str):
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        raise CLIError("--device cuda: no CUDA GPU is visible; use --device cpu or auto")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


def write_table(path: str, table) -> None:
    from .core.atomic import atomic_write

    atomic_write(Path(path), lambda tmp: table.to_csv(tmp, sep="\t", index=False, float_format="%.6g"))


# ------------------------------------------------------------------ train
def _add_train(p: argparse.ArgumentParser) -> None:
    from .core.names import ARCHITECTURES
    from .tasks import TASKS

    p.add_argument("windows", help="windows folder (windows.npy, genes.tsv, window.json)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--fold", help="test chromosome (the `fold` column of genes.tsv)")
    where.add_argument("--all-chromosomes", action="store_true", help="no test set: train on every chromosome")
    p.add_argument("--arch", choices=ARCHITECTURES, help="model architecture (default: the model config's, else mtmixg)")
    p.add_argument("--task", choices=TASKS, default="binary", help="binary (low/high) or ternary (default binary)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    p.add_argument("--out", required=True, help="output folder: model.pt, model.json, metrics.json, predictions.tsv")
    p.add_argument("--resume", help="resume state file, saved every epoch and continued from when present")
    p.add_argument("--model-config", help="JSON/YAML file of model keys (ModelConfig)")
    p.add_argument("--train-config", help="JSON/YAML file of training keys (TrainConfig)")
    p.add_argument("--model", action="append", metavar="KEY=VALUE", help="set a model key, e.g. channels=32 (repeatable)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="set a training key, e.g. warmup_epochs=4 (repeatable)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=positive_int)
    p.add_argument("--lr", type=float)
    p.add_argument("--patience", type=int)
    p.add_argument("--lr-patience", type=int)
    p.add_argument("--warmup-epochs", type=int)
    p.add_argument("--val-fraction", type=float)
    p.add_argument("--no-balance", dest="balance", action="store_false", default=None, help="keep the class imbalance")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"))
    p.add_argument("--require-gpu", action="store_true", default=None, help="fail unless a CUDA GPU is visible")
    p.add_argument("--allow-pure-kernels", action="store_true", default=None,
                   help="on a GPU, train with the slow PyTorch scan when the fused Mamba kernels do not import "
                        "(default: that is an error showing the import's traceback)")
    p.add_argument("--no-amp", dest="amp", action="store_false", default=None, help="no mixed precision on CUDA")
    p.add_argument("--threads", type=positive_int, help="CPU threads for torch")


def _run_train(args: argparse.Namespace) -> int:
    from .core.model_config import ModelConfig
    from .core.clobber import refuse_overwrite
    from .core.train_config import TrainConfig
    from .train import train_fold

    refuse_overwrite({"--model-config": args.model_config, "--train-config": args.train_config},
                     folders={"--out": args.out})
    model_values = _read_config(args.model_config, "model") if args.model_config else {}
    model_values.update(_key_values(args.model, "--model"))
    if args.arch:
        model_values["arch"] = args.arch
    train_values = _read_config(args.train_config, "training") if args.train_config else {}
    train_values.update(_key_values(args.set, "--set"))
    for key in ("epochs", "batch_size", "lr", "patience", "lr_patience", "warmup_epochs", "val_fraction",
                "balance", "device", "require_gpu", "allow_pure_kernels", "amp", "threads"):
        if getattr(args, key) is not None:
            train_values[key] = getattr(args, key)
    src_m = args.model_config or "--model"
    src_t = args.train_config or "training options"
    try:
        model_cfg = ModelConfig.from_dict(model_values)
    except (TypeError, ValueError) as err:
        raise CLIError(f"{src_m}: {err}") from None
    try:
        train_cfg = TrainConfig.from_dict(train_values)
    except (TypeError, ValueError) as err:
        raise CLIError(f"{src_t}: {err}") from None
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise CLIError(f"--out {args.out}: is a file; give the output folder")
    if args.resume is not None and Path(args.resume).is_dir():
        raise CLIError(f"--resume {args.resume}: is a folder; give the resume state file")
    gw = _windows_dir(args.windows)  # checks the folder early, with a clear message
    del gw
    metrics = train_fold(args.windows, None if args.all_chromosomes else args.fold, args.task, model_cfg,
                         train_cfg, args.seed, args.out, resume_path=args.resume)
    summary = {k: metrics[k] for k in ("fold", "accuracy", "auc", "f1", "failed", "n_attempts", "epochs_run", "best_epoch")}
    print(json.dumps(summary))
    return 0


# ------------------------------------------------------------------ evaluate
def _add_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model.pt (with model.json beside it) or the folder holding it")
    p.add_argument("windows", help="windows folder to score")
    p.add_argument("--fold", help="score only the genes of this fold (default: every gene)")
    p.add_argument("--metrics", required=True, help="output metrics JSON")
    p.add_argument("--predictions", help="output per-gene predictions TSV")
    p.add_argument("--batch-size", type=positive_int, default=256)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")


def _check_spec(gw, meta, windows: str) -> None:
    if gw.spec != meta["window_spec"]:
        raise CLIError(
            f"{Path(windows) / 'window.json'}: window {gw.spec.to_dict()} (length {gw.spec.length}) differs from the "
            f"model's {meta['window_spec'].to_dict()} (length {meta['window_spec'].length}); extract windows with the model's spec"
        )


def model_files(model: str) -> dict[str, Path]:
    """The files a command reads for a model argument (model.pt or its folder): model.pt and
    model.json beside it."""
    from .checkpoint import meta_path, resolve_model_path

    path = resolve_model_path(model)
    return {"model": path, "model.json": meta_path(path)}


def _check_held_out(meta: dict, gw, args: argparse.Namespace) -> None:
    """Refuse to score genes the model trained on: on its own dataset (same gene IDs and folds) only
    its held-out fold may be scored."""
    from .data.dataset import same_genes

    if not same_genes(meta, gw):
        return
    genes = Path(args.windows) / "genes.tsv"
    if meta.get("fold") is None:
        raise CLIError(f"{args.windows}: the model was trained on every chromosome of these windows (no held-out fold); "
                       "scoring them would score its own training genes - evaluate it on another species")
    if args.fold != meta["fold"]:
        which = "every gene" if args.fold is None else f"fold {args.fold}"
        raise CLIError(f"--fold {args.fold}: {which} of {genes} includes genes the model trained on; this model "
                       f"held out fold {meta['fold']} only: use --fold {meta['fold']}")


def _run_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from .checkpoint import load_model
    from .tasks import all_targets
    from .metrics import compute_metrics, is_chance, predictions_frame
    from .core.clobber import refuse_overwrite
    from .data.dataset import same_genes
    from .predict import predict
    from .splits import str_column

    refuse_overwrite({**model_files(args.model), "windows": args.windows},
                     outputs={"--metrics": args.metrics, "--predictions": args.predictions})
    model, meta = load_model(args.model, device=device_arg(args.device))
    gw = _windows_dir(args.windows)
    _check_spec(gw, meta, args.windows)
    _check_held_out(meta, gw, args)
    task = meta["task"]
    y = all_targets(gw.genes["label"].to_numpy(), task)
    keep = y >= 0
    if args.fold is not None:
        folds = str_column(gw.genes["fold"])
        if not (folds == args.fold).any():
            raise CLIError(f"--fold {args.fold}: no gene of {Path(args.windows) / 'genes.tsv'} has this fold; "
                           f"folds: {', '.join(sorted(set(folds) - {''}))}")
        keep &= folds == args.fold
    index = np.flatnonzero(keep)
    if len(index) == 0:
        raise CLIError(f"{Path(args.windows) / 'genes.tsv'}: no genes with {task} labels to score")
    prob = predict(model, gw.codes, task, index=index, batch_size=args.batch_size)
    m = compute_metrics(y[index], prob, task)
    out = {**m, "chance_level": is_chance(m["auc"]), "task": task, "fold": args.fold, "model": str(args.model),
           "windows": str(args.windows), "model_fold": meta.get("fold"), "arch": meta["model_config"].arch,
           "same_dataset": same_genes(meta, gw),
           "mtmixg_version": __version__}
    from .core.atomic import atomic_write

    atomic_write(Path(args.metrics), lambda tmp: Path(tmp).write_text(json.dumps(out, indent=2) + "\n"))
    if args.predictions:
        write_table(args.predictions, predictions_frame(gw.genes.iloc[index], y[index], prob, task))
    print(json.dumps({k: out[k] for k in ("accuracy", "auc", "f1", "n")}))
    return 0


# ------------------------------------------------------------------ predict
def _add_predict(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model.pt (with model.json beside it) or the folder holding it")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--fasta", help="FASTA of gene windows, one record per gene, each of the model's window length")
    src.add_argument("--genome", help="genome FASTA (needs --gff3): windows are extracted around every gene")
    p.add_argument("--gff3", help="GFF3 annotation of --genome")
    p.add_argument("--out", required=True, help="output TSV: gene_id, probabilities, predicted class")
    p.add_argument("--batch-size", type=positive_int, default=256)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")


def _genome_windows(genome: str, gff3: str, spec):
    """Windows of every protein-coding gene of a genome + GFF3 (mtmixg.data.gff / mtmixg.data.genome)."""
    from .data.genome import check_gene_sequences, extract_windows
    from .data.gff import protein_coding_genes

    for path, what in ((genome, "--genome"), (gff3, "--gff3")):
        if not Path(path).is_file():
            raise CLIError(f"{path}: no such file ({what})")
    genes = protein_coding_genes(gff3)
    check_gene_sequences(genome, genes, gff3)
    codes, table, skipped = extract_windows(genome, genes, spec, None)
    if len(skipped):
        print(f"mtmixg predict: {len(skipped)} gene(s) skipped (window off a chromosome end or chromosome "
              "not in the FASTA)", file=sys.stderr)
    if len(table) == 0:
        raise CLIError(f"{gff3}: no protein-coding gene of this annotation has a complete window in {genome}")
    return table["gene_id"].astype(str).tolist(), codes, table


def _run_predict(args: argparse.Namespace) -> int:
    import pandas as pd

    from .checkpoint import load_model
    from .core.clobber import refuse_overwrite
    from .predict import fasta_windows, predict
    from .tasks import CLASS_LABELS, CLASS_NAMES, predicted_class, prob_columns

    if args.genome and not args.gff3:
        raise CLIError("--genome: needs --gff3 (the genome's annotation)")
    if args.gff3 and not args.genome:
        raise CLIError("--gff3: only used with --genome")
    refuse_overwrite({**model_files(args.model), "--fasta": args.fasta, "--genome": args.genome, "--gff3": args.gff3},
                     outputs={"--out": args.out})
    model, meta = load_model(args.model, device=device_arg(args.device))
    spec, task = meta["window_spec"], meta["task"]
    extra = None
    if args.fasta:
        ids, codes = fasta_windows(args.fasta, spec)
    else:
        ids, codes, extra = _genome_windows(args.genome, args.gff3, spec)
    prob = predict(model, codes, task, batch_size=args.batch_size)
    pred = predicted_class(prob, task)
    out = pd.DataFrame({"gene_id": ids})
    if extra is not None and "chrom" in extra.columns:
        out["chrom"] = extra["chrom"].to_numpy()
    probs = prob.reshape(len(ids), -1)
    for i, col in enumerate(prob_columns(task)):
        out[col] = probs[:, i]
    out["predicted_class"] = [CLASS_NAMES[task][c] for c in pred]
    out["predicted_label"] = [CLASS_LABELS[task][c] for c in pred]
    write_table(args.out, out)
    print(f"{len(out)} genes -> {args.out}", file=sys.stderr)
    return 0


_BUILTIN = {"train": (_add_train, _run_train), "evaluate": (_add_evaluate, _run_evaluate),
            "predict": (_add_predict, _run_predict)}


# ------------------------------------------------------------------ parser and main
_PASSTHROUGH: dict = {}  # subcommand -> main(argv) of modules without add_arguments


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mtmixg", description="MTMixG-Net: predict plant gene expression classes from DNA.")
    parser.add_argument("--version", action="version", version=f"mtmixg {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for name, help_text, module in SUBCOMMANDS:
        if module == "mtmixg.cli" and name in _BUILTIN:
            p = sub.add_parser(name, help=help_text, description=help_text)
            add, run = _BUILTIN[name]
            add(p)
            p.set_defaults(_run=run)
            continue
        mod = importlib.import_module(module)
        if hasattr(mod, "add_arguments"):
            p = sub.add_parser(name, help=help_text, description=help_text)
            mod.add_arguments(p)
            p.set_defaults(_run=mod.main)
            continue
        # the module parses its own arguments (main(argv)), --help included
        p = sub.add_parser(name, help=help_text, add_help=False)
        p.add_argument("argv", nargs=argparse.REMAINDER)
        _PASSTHROUGH[name] = mod.main
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `mtmixg`; returns the exit code (0 ok, 1 fused GPU kernels broken, 2 bad input)."""
    from .ops.fused import FusedKernelsError
    from .fit import GPUUnavailableError

    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = build_parser()
        if argv and argv[0] in _PASSTHROUGH:  # a module that parses its own arguments, --help included
            return int(_PASSTHROUGH[argv[0]](argv[1:]) or 0)
        args = parser.parse_args(argv)
        code = args._run(args)
    except CLIError as err:
        print(f"mtmixg: error: {err}", file=sys.stderr)
        return 2
    except FusedKernelsError as err:  # a broken GPU environment: the whole message, the import's traceback included
        print(f"mtmixg: error: {err}", file=sys.stderr)
        return 1
    except (ValueError, GPUUnavailableError) as err:
        print(f"mtmixg: error: {str(err).splitlines()[0] if str(err) else type(err).__name__}", file=sys.stderr)
        return 2
    except OSError as err:  # missing file, permission, a folder where a file was expected, ...
        print(f"mtmixg: error: {err.filename or ''}: {err.strerror or err}", file=sys.stderr)
        return 2
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
