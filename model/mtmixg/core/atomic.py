"""atomic_write: a file is either whole or absent, with the mode a plain open() gives.
atomic_folder: a folder of results is either the old whole one or the new whole one."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    if isinstance(err, OSError) and err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return False  # a folder the user may not write, whatever space is left
    try:
        stat = os.statvfs(folder)
    except OSError:
        return False
    return stat.f_bavail * stat.f_frsize < (1 << 20)


def _named(err: BaseException, tmp: str, path: Path) -> BaseException:
    """err with every mention of the temporary tmp replaced by the user's path (OSError filename
    and message; other exceptions' message when they can be rebuilt from it)."""
    if isinstance(err, OSError):
        filename = err.filename if err.filename is None else str(err.filename).replace(tmp, str(path))
        text = (err.strerror or str(err)).replace(tmp, str(path))
        return OSError(err.errno, text, filename)
    if isinstance(err, Exception) and tmp in str(err):
        try:
            return type(err)(str(err).replace(tmp, str(path)))
        except Exception:  # an exception type that is not built from a message
            return ValueError(str(err).replace(tmp, str(path)))
    return err


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
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as err:
        full = isinstance(err, Exception) and _disk_full(path.parent, err)
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        if full:
            raise OSError(errno.ENOSPC, "the disk is full (no space left on device); nothing was written, "
                          "free space and rerun", str(path)) from None
        if isinstance(err, OSError) and not tmp:  # mkstemp failed: its error names the file it tried
            raise OSError(err.errno, err.strerror, str(path)) from None
        named = _named(err, tmp, path) if tmp else err
        if named is err:
            raise
        raise named from None


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(new: Path, folder: Path) -> None:
    """Put the complete folder new at folder in one rename. Entries of an old folder that new does
    not hold (a resume state, a log) move into it; the old results are then deleted."""
    if not folder.exists():
        os.rename(new, folder)
        return
    if _exchange(new, folder):
        old = new
    else:  # two renames: between them folder is briefly absent, never mixed
        old = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".old"))
        os.rename(folder, old)
        os.rename(new, folder)
    for entry in os.listdir(old):
        if not os.path.lexists(folder / entry):
            os.rename(old / entry, folder / entry)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_folder(folder: str | Path) -> Iterator[Path]:
    """Yield an empty temporary sibling of folder to write results into; when the block ends
    without error it replaces folder whole (an existing folder, empty or holding an older result,
    included), else it is deleted and folder is left as it was. A killed run leaves folder as it
    was (and a hidden .<name>.*.tmp sibling). Errors name folder, never the temporary one."""
    shown, folder = Path(folder), Path(os.path.abspath(folder))  # abspath: "." has a name too
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is a file; give the output folder", str(shown))
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(shown)) from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        _swap_in(tmp, folder)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        named = _named(err, str(tmp), shown)
        if named is err:
            raise
        raise named from None
