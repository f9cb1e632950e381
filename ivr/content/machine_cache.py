"""Files worked out once per machine by a child process, kept in this user's private folder.

Some data a web process needs is small, but the library that makes it is large (py3langid's
full model, the holidays package's every country). A child process loads the library,
writes the small result to a file, and exits: no process that serves requests ever holds
the library, and every process (each gunicorn worker, each restart) reads the same file.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD_TIMEOUT_SECONDS = 120


def private_folder() -> Path:
    """This user's own folder in the temporary folder: nobody else can plant a file there."""
    folder = Path(tempfile.gettempdir()) / f"ivr-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    found = folder.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() \
            or found.st_mode & 0o077:
        raise PermissionError(f"{folder} is not this user's private folder")
    return folder


def run_in_child(module: str, function: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`module.function(*args)` in a fresh interpreter that sees this one's import path.

    Raises subprocess.CalledProcessError when it fails (its exit code and stderr tell why)."""
    code = f"import sys; from {module} import {function}; {function}(*sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], check=True, text=True,
                          capture_output=True, timeout=CHILD_TIMEOUT_SECONDS,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def replace_atomically(path: Path, data: bytes | bytearray) -> None:
    """Write `path` so that a reader sees the old file or the whole new one, never a part.

    Two processes may write the same file at once: each writes its own part, then renames."""
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_bytes(data)
    os.replace(partial, path)
