"""Writing output files safely: never through a symbolic link unless asked, always atomically.

Reports, JSON results and JUnit files are written where a user (or a CI job, or an attacker who
can plant a link in a shared folder) points. A link at the output path would redirect the write
to its target (overwriting any file the process can write) and a dangling link would create a
file elsewhere; a crash halfway through a write would leave a truncated report that a later
step reads as complete. So an output path that is a symbolic link is refused unless the caller
asks to follow it, and the text goes to a temporary file in the same directory, renamed over
the destination once complete (``os.replace`` is atomic on POSIX and Windows).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["check_not_symlink", "write_text_atomic"]


def check_not_symlink(path: str | Path, *, argument: str = "path") -> None:
    """Refuse an output path that is a symbolic link (dangling or not).

    Parameters
    ----------
    path : str or pathlib.Path
        The output path.
    argument : str, default "path"
        How to name the path in the message (an argument or a command-line flag).

    Raises
    ------
    ValueError
        ``path`` is a symbolic link; the message names ``argument`` and the link's target.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> link = os.path.join(folder, "report.html")
    >>> os.symlink("/etc/passwd", link)
    >>> check_not_symlink(link, argument="--report")
    Traceback (most recent call last):
    ...
    ValueError: --report: .../report.html is a symbolic link (to /etc/passwd); fairaudit does not write through links. Remove the link or choose another path (or ask to follow links).
    """
    path = Path(path)
    if path.is_symlink():
        raise ValueError(
            f"{argument}: {path} is a symbolic link (to {os.readlink(path)}); fairaudit does "
            "not write through links. Remove the link or choose another path (or ask to follow "
            "links)."
        )


def write_text_atomic(
    path: str | Path, text: str, *, follow_symlinks: bool = False, argument: str = "path"
) -> Path:
    """Write ``text`` (UTF-8, line ends as given) to ``path`` atomically.

    The text goes to a new temporary file in the destination's directory (created if missing),
    which is then renamed over ``path``: readers see the old file or the new one, never half of
    it, and an error leaves the old file in place. The new file gets the permissions of a
    newly created file (``0o666`` less the umask), or those of the file it replaces.

    Parameters
    ----------
    path : str or pathlib.Path
        The destination.
    text : str
        What to write.
    follow_symlinks : bool, default False
        When ``path`` is a symbolic link: False refuses (``ValueError``); True writes to the
        link's target (created if the link dangles), leaving the link in place.
    argument : str, default "path"
        How to name the path in error messages.

    Returns
    -------
    pathlib.Path
        The path written (``path`` itself, even when a link was followed).

    Examples
    --------
    >>> import tempfile
    >>> out = write_text_atomic(Path(tempfile.mkdtemp()) / "a" / "out.txt", "hello")
    >>> out.read_text()
    'hello'
    """
    path = Path(path)
    target = path
    if path.is_symlink():
        if not follow_symlinks:
            check_not_symlink(path, argument=argument)
        target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    try:
        mode = target.stat().st_mode & 0o7777 if target.is_file() else None
    except OSError:
        mode = None
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            # O_EXCL|O_NOFOLLOW: never reuse or follow anything at the temporary name
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW, 0o666)
        except FileExistsError:
            continue
        break
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
