"""Atomic file output: an interrupted run leaves the previous file intact, and nothing behind.

A file is written to a temporary file beside it and renamed over it. The temporary file
gets the mode of the file it replaces (or what the umask gives a new file, never mkstemp's
0600), and is locked (flock) while it is written: a later run removes temporary files and
`.partial` folders whose writer is gone (killed), and leaves a live writer's alone.
Outputs that belong together (catalog.trig and catalog.ttl) are renamed in one step each
after both are complete, and a manifest naming their checksums is written last: a reader
that checks it (`sha256sum -c`) never takes one file of a pair with the other of another.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO, cast

from resource_kg.errors import RkgError

#: Leftovers of a killed run: `.NAME.XXXXXXXX.tmp` and `.old` files, `.NAME.XXXXXXXX.partial` folders
#: (the names `tempfile.mkstemp`/`mkdtemp` give them here).
_LEFTOVER = re.compile(r"^\..+\.[a-z0-9_]{8}\.(?:tmp|partial|old)$")
#: A leftover younger than this may belong to a writer that has not locked it yet.
GRACE_SECONDS = 5.0
_SWEPT: set[str] = set()
_UMASK: list[int] = []


def umask() -> int:
    """The process umask (read once; /proc avoids setting it, which threads would race)."""
    if not _UMASK:
        try:
            with open("/proc/self/status", encoding="ascii") as fh:
                found = [int(line.split()[1], 8) for line in fh if line.startswith("Umask:")]
        except (OSError, ValueError, IndexError):
            found = []
        if found:
            _UMASK.append(found[0])
        else:
            old = os.umask(0o022)
            os.umask(old)
            _UMASK.append(old)
    return _UMASK[0]


def mode_for(path: Path) -> int:
    """The mode a rewritten `path` keeps: its current one, or a new file's under the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~umask()


def hold(fd: int) -> None:
    """Mark a temporary file or folder as in use by this process (released when fd closes)."""
    fcntl.flock(fd, fcntl.LOCK_EX)


def _abandoned(path: Path) -> bool:
    """Whether a leftover's writer is gone: old enough, and nobody holds its lock."""
    try:
        if time.time() - os.lstat(path).st_mtime < GRACE_SECONDS:
            return False
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def sweep(folder: Path) -> list[Path]:
    """Remove what killed runs left in `folder` (see `_LEFTOVER`); once per folder and process."""
    key = os.path.abspath(folder)
    if key in _SWEPT:
        return []
    _SWEPT.add(key)
    removed: list[Path] = []
    try:
        names = [n for n in os.listdir(folder) if _LEFTOVER.match(n)]
    except OSError:
        return []
    for name in names:
        path = folder / name
        if not _abandoned(path):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        removed.append(path)
    return removed


def partial_folder(parent: Path, prefix: str) -> tuple[Path, int]:
    """A locked temporary folder `.PREFIX.XXXXXXXX.partial` in `parent`, and the lock's fd
    (close it when the folder is renamed into place or removed)."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        sweep(parent)
        folder = Path(tempfile.mkdtemp(prefix=f".{prefix}.", suffix=".partial", dir=parent))
    except OSError as exc:
        raise cannot_write(parent, exc) from None
    fd = os.open(folder, os.O_RDONLY)
    hold(fd)
    return folder, fd


def cannot_write(path: Path, exc: OSError) -> RkgError:
    """The one-line error of an output that cannot be written (`--out /proc/x`, a full disk)."""
    return RkgError(f"cannot write {path}: {exc.strerror or exc}")


def _temporary(path: Path) -> tuple[int, Path]:
    """A locked temporary file beside `path`, with the mode `path` keeps."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        sweep(path.parent)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise cannot_write(path, exc) from None
    try:
        hold(fd)
        os.fchmod(fd, mode_for(path))
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, Path(tmp)


@contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A file beside `path` that replaces it only when the block finishes without error."""
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            try:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
                os.replace(tmp, path)
            except OSError as exc:
                raise cannot_write(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class _Hashing:
    """A binary file that also computes the SHA-256 of what is written to it."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()


@contextmanager
def atomic_outputs(paths: Sequence[Path], manifest: Path) -> Iterator[list[IO[bytes]]]:
    """Files that replace `paths` together, and a `sha256sum -c` manifest of them written last.

    The old manifest goes first and the new one comes only after every file is in place, so a
    manifest on disk always matches the files it names. Should a rename fail, the files
    already renamed get their previous content back."""
    opened: list[tuple[int, Path]] = []
    try:
        for path in paths:
            opened.append(_temporary(path))
        handles = [os.fdopen(fd, "wb") for fd, _ in opened]
        with contextlib.ExitStack() as stack:
            for fh in handles:
                stack.enter_context(fh)
            writers = [_Hashing(fh) for fh in handles]
            try:
                yield cast(list[IO[bytes]], writers)  # file-like: write() and flush()
                for fh in handles:
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise cannot_write(paths[0].parent, exc) from None
            _replace_all(
                [(tmp, path) for (_, tmp), path in zip(opened, paths, strict=True)], manifest
            )
            lines = [
                f"{w.sha.hexdigest()}  {p.name}\n" for w, p in zip(writers, paths, strict=True)
            ]
            write_atomic(manifest, "".join(lines))
    finally:
        for _, tmp in opened:
            tmp.unlink(missing_ok=True)


def _replace_all(moves: list[tuple[Path, Path]], manifest: Path) -> None:
    """Rename each temporary file over its target; on failure put the old targets back."""
    token = os.urandom(4).hex()
    backups: list[tuple[Path, Path | None]] = []
    kept = manifest.with_name(f".{manifest.name}.{token}.old")
    had_manifest = manifest.is_file()
    if had_manifest:
        os.replace(manifest, kept)
    try:
        for tmp, target in moves:
            backup: Path | None = None
            if target.is_file():
                backup = target.with_name(f".{target.name}.{token}.old")
                os.link(target, backup)
            try:
                os.replace(tmp, target)
            except BaseException:
                if backup is not None:
                    backup.unlink(missing_ok=True)
                raise
            backups.append((target, backup))
    except BaseException:
        for target, backup in reversed(backups):  # put back what was already replaced
            with contextlib.suppress(OSError):
                if backup is not None:
                    os.replace(backup, target)
                else:
                    target.unlink()
        if had_manifest:
            with contextlib.suppress(OSError):
                os.replace(kept, manifest)
        raise
    finally:
        for _, backup in backups:
            if backup is not None:
                backup.unlink(missing_ok=True)
        kept.unlink(missing_ok=True)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` atomically (temp file + rename)."""
    with atomic_output(path) as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)


class NotUtf8(ValueError):
    """Bytes that are not UTF-8: where the first bad byte is, for a message naming the line."""

    def __init__(self, data: bytes, exc: UnicodeDecodeError) -> None:
        super().__init__(str(exc))
        self.byte = data[exc.start]
        self.offset = exc.start
        self.line = data[: exc.start].count(b"\n") + 1


def decode_utf8(data: bytes) -> str:
    """UTF-8 text without a leading byte-order mark; NotUtf8 says where it is not UTF-8."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise NotUtf8(data, exc) from exc
