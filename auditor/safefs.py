"""Opening files in the output folder without following symlinks.

The output folder of a nightly run often sits on a shared host. Whoever can write into it can plant
`.auditor.lock` or `auditor.log` as a symlink to a file of the operator's (a shell profile, a key);
opened by name, the run would truncate, append to or chmod that file. Every file the run opens there
goes through `open_private`: O_NOFOLLOW (a symlink is refused, never followed), created 0600 and
fchmod-ed on the descriptor, never by name. A refusal is an UnsafePath naming the path.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

FILE_MODE = 0o600


class UnsafePath(OSError):
    """A path in the output folder the auditor will not open (a symlink); the message names it."""


def open_private(path: Path | str, flags: int) -> int:
    """`os.open(path, flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC)`, the file made 0600; UnsafePath for a symlink."""
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    except OSError as exc:
        if exc.errno == errno.ELOOP or os.path.islink(path):
            raise UnsafePath(errno.ELOOP, f"{path} is a symbolic link; the auditor does not follow links in "
                                          "its output folder (remove it, and find out who planted it)") from None
        raise
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def output_folder_warning(folder: Path) -> str | None:
    """One line when `folder` is writable by its group or by others (anyone there could plant files)."""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return None
    if not mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    who = "everyone" if mode & stat.S_IWOTH else "its group"
    return (f"output folder {folder} is writable by {who} (mode {stat.S_IMODE(mode):o}): others could plant or "
            f"replace files in it; restrict it with `chmod 700 {folder}`")
