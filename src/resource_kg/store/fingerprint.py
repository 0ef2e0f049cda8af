"""What the catalog store's freshness is decided on: hashes of bytes, never sizes or times.

(`HashMemo` spares re-reading a record file whose stat identity, ctime included, is provably
what it was when it was hashed; the hash still decides.)

A cached answer is reused only when every byte it was computed from is the same: each input
file is hashed, and the whole store is keyed by the fingerprint of the code that computes it
(every source file of the installed package, found by walking the package, plus the versions
of the libraries whose behaviour shapes the answers). Nothing here is listed by hand, so a new
module or an edited constant invalidates the store without anyone remembering to say so.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sqlite3
import time
from functools import cache
from pathlib import Path

#: Libraries whose versions are part of the code fingerprint: they parse, build and check.
LIBRARIES = ("resource-kg", "pyoxigraph", "rdflib", "pyshacl", "PyYAML")
#: Bumped when the layout of the store's own files changes.
STORE_FORMAT = "rkg-store 1"


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_file(path: Path) -> str:
    return hash_bytes(path.read_bytes())


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@cache
def code_fingerprint() -> str:
    """A hash of the package's own source files and the versions of the libraries it uses.

    Computed once per process (≈ 5 ms): the package's `*.py` files are walked, so any edit to
    any module (a constant in the tagger, a message in the builder) gives another store."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(STORE_FORMAT.encode() + b"\0")
    for name in LIBRARIES:
        digest.update(f"{name}={_version(name)}\0".encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(hash_file(path).encode() + b"\0")
    return digest.hexdigest()


def files_digest(named: list[tuple[str, str]]) -> str:
    """One hash of (name, content hash) pairs: the key of everything a step read."""
    # one update of the joined text: the digest of an update per pair, 3x quicker at 100k
    text = "".join([f"{name}\0{sha}\n" for name, sha in sorted(named)])
    return hashlib.sha256(text.encode()).hexdigest()


#: A file's stat identity: size, mtime, ctime (ns), inode, device.
StatKey = tuple[int, int, int, int, int]
#: A recorded hash is reused only for a file last changed at least this long before it was
#: hashed, so an edit in the same timestamp tick as the hashing (a coarse clock) is never missed.
RACY_NS = 2_000_000_000


def stat_key(path: str) -> StatKey:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


class HashMemo:
    """The content hash of each record file, re-read only when the file may have changed.

    Hashing reads every byte: at 100k record files that is 3.5 s before any query can run.
    A file whose stat identity (size, mtime, ctime, inode, device) is what it was when it was
    hashed keeps its hash. ctime is what makes this safe where size and mtime alone are not:
    the kernel sets it on every write, rename or `touch -r`, and no user call sets it back, so a
    same-size edit with its time restored still changes it. A file changed within `RACY_NS` of
    its hashing is hashed again next time. Freshness is still decided by the hash; the stat
    only says when the recorded hash is known to be the file's."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        #: path -> (path, size, mtime, ctime, ino, dev, sha) of each file hashed long enough
        #: after its last change (the racy margin); every recorded path, for `save`. Read on
        #: first use: a memo whose scan ran in a child (`reading.Scan`) never needs them.
        self._known: dict[str, tuple[str, int, int, int, int, int, str, int]] | None = None
        self.recorded_paths: list[str] = []
        self.fresh: dict[str, tuple[StatKey, str, int]] = {}
        self.present: set[str] = set()

    @property
    def known(self) -> dict[str, tuple[str, int, int, int, int, int, str, int]]:
        if self._known is None:
            rows = self.db.execute(
                "SELECT path, size, mtime, ctime, ino, dev, sha, max(mtime, ctime) <= hashed - ?"
                " FROM file_stats",
                (RACY_NS,),
            ).fetchall()
            self._known = {row[0]: row for row in rows if row[7]}
            self.recorded_paths = [row[0] for row in rows]
        return self._known

    def recorded(self, path: str, shown: str) -> str | None:
        """The hash recorded for `shown` when the file at `path` is provably unchanged since."""
        self.present.add(shown)
        return self._vouched([(shown, path)])[0]

    def vouched(self, listed: list[tuple[str, str]]) -> list[str | None]:
        """`recorded` for each (shown, path) of a listing, in its order, in one loop (a call
        per file costs more than the stat at 100k files)."""
        self.present.update(shown for shown, _path in listed)
        return self._vouched(listed)

    def _vouched(self, listed: list[tuple[str, str]]) -> list[str | None]:
        known = self.known
        out: list[str | None] = []
        for shown, path in listed:
            hit = known.get(shown)
            if hit is None:
                out.append(None)
                continue
            try:
                now = stat_key(path)
            except OSError:
                out.append(None)
                continue
            out.append(hit[6] if now == hit[1:6] else None)
        return out

    def read(self, path: str, shown: str) -> tuple[str, bytes]:
        """Read and hash the file, remembering its identity as statted *before* the read: a
        change during the read gives it another ctime, so it is hashed again next time."""
        key = stat_key(path)
        at = time.time_ns()
        with open(path, "rb") as handle:
            data = handle.read()
        sha = hash_bytes(data)
        self.fresh[shown] = (key, sha, at)
        self.present.add(shown)
        return sha, data

    def save(self) -> None:
        """Write the newly hashed files' identities; forget files not seen by this scan."""
        if self._known is None:  # never vouched (its scan done in a child): the paths alone
            recorded = [p for (p,) in self.db.execute("SELECT path FROM file_stats")]
        else:
            recorded = self.recorded_paths
        gone = [(p,) for p in recorded if p not in self.present]
        if not self.fresh and not gone:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("DELETE FROM file_stats WHERE path = ?", gone)
            self.db.executemany(
                "INSERT OR REPLACE INTO file_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(p, *key, sha, at) for p, (key, sha, at) in sorted(self.fresh.items())],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
