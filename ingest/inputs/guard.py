"""Only regular files are read: the one check before any input is opened.

A FIFO named like an export would block `open()` forever, a link to /dev/zero would be
read until the process is killed, and a link to itself raises deep inside a reader. So
every input is stat'ed first (following links) and refused unless it is a regular file,
and opened with O_NONBLOCK, so a FIFO swapped in after the check still cannot block. What
DuckDB reads by name it reads through the checked descriptor (`pinned`), not the path again.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.errors import FileUnreadable

NOT_A_ZIP = "is not a zip archive (named .zip, but its first bytes are not a zip's)"
_KINDS = (
    (stat.S_ISDIR, "is a directory, not a regular file"),
    (stat.S_ISFIFO, "is a FIFO, not a regular file"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)


def regular_file(path: Path) -> os.stat_result:
    """The file's stat (through links), or FileUnreadable saying what else it is."""
    try:
        found = path.stat()  # through links: a link to /dev/zero is a character device
    except OSError as exc:
        raise FileUnreadable(_why(exc), path=path) from None
    _check(found, path)
    return found


def open_regular(path: Path) -> io.BufferedReader:
    """The file opened for reading in binary, refused unless it is a regular file.

    O_NONBLOCK makes opening a FIFO return at once (and O_NOCTTY keeps a terminal from
    becoming ours); the descriptor's own fstat then decides, and blocking reads come back.
    """
    regular_file(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileUnreadable(_why(exc), path=path) from None
    try:
        _check(os.fstat(fd), path)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


@contextmanager
def pinned(path: Path) -> Iterator[str]:
    """A name for DuckDB to open that is surely the regular file just checked: on Linux
    /proc/self/fd/N of the descriptor open_regular holds (the same inode, whatever is
    renamed, or swapped in as a FIFO, at `path` meanwhile); elsewhere the path itself."""
    with open_regular(path) as stream:
        held = Path(f"/proc/self/fd/{stream.fileno()}")
        yield str(held) if held.exists() else str(path)


def _check(found: os.stat_result, path: Path) -> None:
    if stat.S_ISREG(found.st_mode):
        return
    why = next((text for test, text in _KINDS if test(found.st_mode)), "is not a regular file")
    raise FileUnreadable(why, path=path)


def _why(exc: OSError) -> str:
    """A missing file keeps the words every reader has always used ("No such file or directory")."""
    if exc.errno == errno.ELOOP:
        return "is a symlink loop"
    return f"cannot read the file: {exc.strerror or exc}"
