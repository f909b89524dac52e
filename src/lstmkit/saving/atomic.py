"""Atomic file writes: write beside the target, flush to disk, then rename over it.

A process killed mid-write leaves the previous file untouched (``os.replace`` is atomic on POSIX and
Windows when both paths are on one file system, which writing into the target's own folder ensures).
The temporary file is named ``.<target>.<pid>.<random>.tmp``; a killed writer's leftover is removed by
the next save of the same target, once its process is gone (a live writer's is never touched).
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on error it is removed.

    Example::

        with atomic_path("model.lstmkit") as tmp:
            write_archive(tmp)          # a crash here leaves model.lstmkit as it was
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, _mode_for(target))  # mkstemp makes 0600; give the file the mode a plain open() would
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_orphans(target: Path) -> list[Path]:
    """Delete temporary files a killed save of ``target`` left behind (their writer no longer runs)."""
    removed = []
    prefix = f".{target.name}."
    for candidate in target.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid_text = candidate.name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit() or _running(int(pid_text)):
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
        except OSError:  # gone already, or not ours to delete: leave it
            pass
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True  # this process may be writing it (nested atomic writes of one target are not made)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's live process
    return True


def _mode_for(target: Path) -> int:
    """The existing file's mode, else 0666 minus the process umask."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
