"""Files that are never half-written.

Every file the lab writes for someone else to read (results, manifests, submissions,
figures, WAV exports) goes through :func:`atomic_path`: it is written under a temporary
name in the same folder and renamed into place, so a reader sees the old file or the new
one, never a part.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> atomic_write_text(folder / "a.txt", "done")
>>> (folder / "a.txt").read_text()
'done'
>>> sorted(p.name for p in folder.iterdir())  # no temporary file left behind
['a.txt']
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block succeeds,
    removed when it fails.

    ``suffix`` keeps the extension a writer may need (``.png``, ``.wav``). The writer
    should flush and fsync what it writes when the file must survive a crash.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from other users
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str, newline: str | None = None) -> None:
    """Write ``text`` to ``path`` atomically and durably (fsynced before the rename)."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline=newline) as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def sha256_of(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read in blocks (caches and manifests are large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()
