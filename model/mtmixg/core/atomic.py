"""atomic_write: a file is either whole or absent, with the mode a plain open() gives."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _umask() -> int:
    """The process umask, read without changing it (Linux /proc), else set and restored."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _disk_full(folder: Path, err: BaseException) -> bool:
    """True when err is (or, for writers that lose the errno, looks like) a full disk or quota."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < (1 << 20)


def atomic_write(path: str | Path, write: Callable[[str], object]) -> None:
    """Write through a temporary file in the same folder, then rename: never a half-written file.

    The file gets the mode a plain open() would give (0666 less the umask), not mkstemp's 0600,
    so a lab group can read results on a shared cluster. Errors name path, never the temporary file: a folder at path, or a full
    disk, is an OSError saying so.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as err:
        full = isinstance(err, Exception) and _disk_full(path.parent, err)
        Path(tmp).unlink(missing_ok=True)
        if full:
            raise OSError(errno.ENOSPC, "the disk is full (no space left on device); nothing was written, "
                          "free space and rerun", str(path)) from None
        if isinstance(err, OSError) and err.filename == tmp:
            raise OSError(err.errno, err.strerror, str(path)) from None
        raise
