"""No command writes over one of its inputs: outputs are compared with inputs by resolved path.

refuse_overwrite is called by every `mtmixg` command (and the library functions the workflow's jobs
call) before any work: an output file that is an input file (same path, a symlink to it or a hard
link of it), or an output folder (replaced whole, mtmixg.core.atomic.atomic_folder) that holds an
input, is a ValueError of one line naming both.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

PathLike = str | os.PathLike
Paths = Mapping[str, PathLike | None] | Iterable[tuple[str, PathLike | None]]


def _pairs(paths: Paths) -> list[tuple[str, Path]]:
    items = paths.items() if isinstance(paths, Mapping) else paths
    return [(label, Path(path)) for label, path in items if path is not None]


def _input_files(path: Path) -> Iterator[Path]:
    """path itself, and every file under it when it is a folder."""
    yield path
    if path.is_dir():
        for root, _, files in os.walk(path):
            for name in files:
                yield Path(root) / name


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when a and b are one file: the same resolved path, or (both existing) the same inode."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return os.path.realpath(a) == os.path.realpath(b)


def _inside(path: PathLike, folder: PathLike) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(folder)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def refuse_overwrite(inputs: Paths, outputs: Paths = (), folders: Paths = ()) -> None:
    """ValueError when an output would write over an input.

    inputs: option -> input file or folder (a folder stands for every file under it);
    outputs: option -> output file; folders: option -> output folder replaced whole. Each a
    mapping or (option, path) pairs; None paths are skipped."""
    given, written = _pairs(inputs), _pairs(outputs)
    for i, (out_opt, out) in enumerate(written):
        for other_opt, other in written[:i]:
            if same_file(out, other):
                raise ValueError(f"{out_opt} {out}: is the same file as {other_opt} {other}; give each output its own file")
        for in_opt, top in given:
            for path in _input_files(top):
                if same_file(out, path):
                    what = f"{in_opt} {top}" if path == top else f"{path} of {in_opt} {top}"
                    raise ValueError(f"{out_opt} {out}: is the same file as {what}; a command never writes over "
                                     "its input - give another output path")
    for out_opt, folder in _pairs(folders):
        for in_opt, top in given:
            if _inside(top, folder):
                raise ValueError(f"{out_opt} {folder}: holds {in_opt} {top}; the output folder is replaced whole, "
                                 "so it must hold none of the inputs - give another output folder")
